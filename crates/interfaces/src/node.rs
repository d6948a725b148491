//! What a front end (the GUI, or any other process) asks of a running
//! node: the parts of Core's `interfaces::Node` c1pzo has. Unlike `Chain`,
//! which is the wallet's narrow view, this is the user's: the tip, the
//! RPC console, shutdown, and the loaded wallets.

use std::sync::Arc;

use bitcoin::BlockHash;
use serde_json::Value;

use crate::rpc::RpcError;
use crate::wallet::Wallet;

/// The active chain's tip, as a status bar shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockTip {
    pub hash: BlockHash,
    pub height: u32,
    /// The tip header's timestamp.
    pub time: i64,
}

pub trait Node: Send + Sync {
    /// The tip now.
    fn get_tip(&self) -> BlockTip;

    /// Blocks until the tip is no longer `current` or `timeout_ms` pass,
    /// then returns the tip (a front end's way to follow the chain
    /// without polling, as Core's `Mining.waitTipChanged`).
    fn wait_tip_changed(&self, current: &BlockHash, timeout_ms: i64) -> BlockTip;

    fn is_initial_block_download(&self) -> bool;

    /// Transactions in the mempool.
    fn get_mempool_size(&self) -> u64;

    /// Runs one RPC method as the node's server would for a request on
    /// `uri` (`/wallet/<name>` picks a wallet): the GUI's console.
    fn execute_rpc(
        &self,
        method: &str,
        params: Option<Value>,
        uri: &str,
    ) -> Result<Value, RpcError>;

    /// Every method the server knows, the wallet's included, sorted.
    fn list_rpc_commands(&self) -> Vec<String>;

    /// Asks the node to stop, as the `stop` RPC does.
    fn start_shutdown(&self);

    fn shutdown_requested(&self) -> bool;

    /// The wallets loaded now, wherever they run (in this process or a
    /// wallet process). Each handle names its wallet; after the wallet is
    /// unloaded its methods fail instead of acting on a stale copy.
    fn get_wallets(&self) -> Vec<Arc<dyn Wallet>>;
}
