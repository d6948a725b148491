//! What a front end (the GUI, or any other process) asks of a running
//! node: the parts of Core's `interfaces::Node` c1pzo has. Unlike `Chain`,
//! which is the wallet's narrow view, this is the user's: the tip, the
//! RPC console, shutdown, the peers and bans, network activity, and the
//! wallets (loaded, on disk, created, opened, closed).

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

/// One connected peer, as a peers table shows it (the parts of Core's
/// `CNodeStats` a front end needs).
#[derive(Clone, Debug, PartialEq)]
pub struct PeerInfo {
    pub id: i64,
    /// `ip:port`.
    pub address: String,
    pub inbound: bool,
    /// Core's name: `outbound-full-relay`, `manual`, `inbound`, ...
    pub connection_type: String,
    pub user_agent: String,
    pub version: i64,
    pub services: u64,
    /// The best block the peer has shown us, -1 before it did.
    pub synced_blocks: i64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The last ping's round trip in microseconds, once one came back.
    pub ping_micros: Option<u64>,
    /// When the connection was made (seconds since 1970).
    pub connected_since: i64,
}

/// A banned address or subnet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BannedSubnet {
    /// `1.2.3.4/32`, `::1/128`, ...
    pub subnet: String,
    pub created: i64,
    pub until: i64,
}

/// What `createwallet` takes from a front end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateWalletOptions {
    pub name: String,
    /// Encrypts the new wallet when not empty.
    pub passphrase: String,
    pub disable_private_keys: bool,
    pub blank: bool,
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

    /// The chain's name as Core spells it (`main`, `test`, `signet`,
    /// `regtest`): the window's title, and which addresses are valid.
    fn get_chain_name(&self) -> String;

    /// Connected peers, inbound and outbound.
    fn get_connection_count(&self) -> u64;

    fn get_peers(&self) -> Vec<PeerInfo>;

    /// Whether a peer with that id was connected (and is now being
    /// disconnected).
    fn disconnect_peer(&self, id: i64) -> bool;

    /// Bans an address or subnet for `seconds` (and disconnects it), as
    /// `setban add` does; fails with Core's message.
    fn ban(&self, subnet: &str, seconds: i64) -> Result<(), String>;

    fn unban(&self, subnet: &str) -> Result<(), String>;

    fn get_banned(&self) -> Vec<BannedSubnet>;

    /// Whether P2P networking is on (`setnetworkactive`).
    fn get_network_active(&self) -> bool;

    fn set_network_active(&self, active: bool);

    /// The wallets in the wallet directory, loaded or not.
    fn list_wallet_dir(&self) -> Result<Vec<String>, String>;

    /// Creates and loads a wallet; its name, or Core's error.
    fn create_wallet(&self, options: &CreateWalletOptions) -> Result<String, String>;

    /// Loads a wallet from the wallet directory; its name, or Core's error.
    fn load_wallet(&self, name: &str) -> Result<String, String>;

    fn unload_wallet(&self, name: &str) -> Result<(), String>;
}
