//! The questions a wallet may ask the node, and what it may hand over.

use std::sync::Arc;

use bitcoin::{Amount, Block, BlockHash, FeeRate, OutPoint, Transaction, TxOut, Txid};
use serde_json::Value;

use crate::handler::Handler;
use crate::notifications::ChainNotifications;
use crate::rpc::RpcCommand;

/// A block on the active chain: its hash and height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRef {
    pub hash: BlockHash,
    pub height: u32,
}

/// What the node knows of a block it has (Core's `FoundBlock`).
#[derive(Clone, Debug)]
pub struct FoundBlock {
    pub hash: BlockHash,
    pub prev_hash: BlockHash,
    pub height: u32,
    /// The header's timestamp.
    pub time: u32,
    /// Median time of the eleven blocks ending here.
    pub median_time_past: u32,
    pub in_active_chain: bool,
    /// The whole block, when asked for.
    pub data: Option<Block>,
}

/// An unspent output as the chainstate holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    pub output: TxOut,
    pub height: u32,
    pub is_coinbase: bool,
}

/// The node as the wallet sees it (Core's `interfaces::Chain`). Every
/// call is synchronous and may cross a process boundary.
pub trait Chain: Send + Sync {
    /// The active chain's tip.
    fn tip(&self) -> BlockRef;

    /// The active chain's block at `height`.
    fn block_hash(&self, height: u32) -> Option<BlockHash>;

    /// A block the node knows, active or not, with its transactions if
    /// `with_data`.
    fn find_block(&self, hash: &BlockHash, with_data: bool) -> Option<FoundBlock>;

    /// The ancestor of `hash` at `height`.
    fn find_ancestor_by_height(&self, hash: &BlockHash, height: u32) -> Option<BlockHash>;

    /// The last block `a` and `b` share.
    fn find_common_ancestor(&self, a: &BlockHash, b: &BlockHash) -> Option<BlockRef>;

    /// Unspent outputs (confirmed or in the mempool), in the order asked.
    fn find_coins(&self, outpoints: &[OutPoint]) -> Vec<Option<Coin>>;

    /// Hands `tx` to the mempool and, when `relay`, to peers. Refused if
    /// it pays more than `max_tx_fee`; the error is Core's reject reason.
    fn broadcast_transaction(
        &self,
        tx: &Transaction,
        max_tx_fee: Amount,
        relay: bool,
    ) -> Result<(), String>;

    /// The fee rate to confirm within `target` blocks, if the node has
    /// an estimate.
    fn estimate_smart_fee(&self, target: u32) -> Option<FeeRate>;

    /// The lowest fee rate the node relays.
    fn relay_min_fee(&self) -> FeeRate;

    /// The fee rate below which an output is dust.
    fn relay_dust_fee(&self) -> FeeRate;

    fn is_in_mempool(&self, txid: &Txid) -> bool;

    fn has_descendants_in_mempool(&self, txid: &Txid) -> bool;

    /// Every transaction in the mempool, parents first.
    fn mempool_transactions(&self) -> Vec<Transaction>;

    /// Registers `notifications` until the handler is dropped.
    fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Box<dyn Handler>;

    /// Returns once every notification queued so far has been delivered.
    fn wait_for_notifications(&self);

    /// As [`Chain::wait_for_notifications`], but only if the tip is no
    /// longer `old_tip` (cheap when nothing happened).
    fn wait_for_notifications_if_tip_changed(&self, old_tip: &BlockHash) {
        if self.tip().hash != *old_tip {
            self.wait_for_notifications();
        }
    }

    /// Adds `command` to the node's RPC server until the handler is
    /// dropped.
    fn handle_rpc(&self, command: RpcCommand) -> Box<dyn Handler>;

    /// Whether transactions handed over now would be relayed.
    fn is_ready_to_broadcast(&self) -> bool;

    fn is_initial_block_download(&self) -> bool;

    fn shutdown_requested(&self) -> bool;

    /// Seconds since the epoch by the node's clock (mock time included).
    fn now(&self) -> i64;

    /// The node's values for a command-line or config option (Core's
    /// `getSettingsList`), for the options a wallet component shares with
    /// the node: `-walletdir`, `-fallbackfee`, the chain.
    fn get_args(&self, name: &str) -> Vec<String>;

    /// A value from the node's `settings.json` (the wallets to load at
    /// startup live under `"wallet"`).
    fn setting(&self, name: &str) -> Option<Value>;

    /// Writes (or with `None` removes) a `settings.json` value.
    fn update_setting(&self, name: &str, value: Option<Value>) -> Result<(), String>;

    /// Reports progress during startup (Core's `initMessage`).
    fn init_message(&self, message: &str);

    fn init_warning(&self, message: &str);
}
