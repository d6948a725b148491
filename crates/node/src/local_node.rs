//! [`interfaces::Node`] in the node's own process: what a front end (the
//! GUI, or a process connected over `-ipcbind`) sees. The wallets come
//! from whoever hosts them, in this process or a wallet process, through
//! the [`WalletSource`] the executable supplies. Peers, bans, network
//! activity and wallet management run through the node's own RPC methods
//! (the wallet's are in the same table, wherever the wallet runs), so a
//! front end gets exactly the checks and messages `c1pzo-cli` gets.

use std::sync::Arc;
use std::time::Duration;

use bitcoin::BlockHash;
use interfaces::rpc::RpcError;
use interfaces::{BannedSubnet, BlockTip, CreateWalletOptions, PeerInfo, Wallet};
use serde_json::{json, Value};

use crate::context::Node;

/// The wallets loaded now.
pub type WalletSource = Arc<dyn Fn() -> Vec<Arc<dyn Wallet>> + Send + Sync>;

pub struct LocalNode {
    node: Arc<Node>,
    wallets: WalletSource,
}

impl LocalNode {
    pub fn new(node: Arc<Node>, wallets: WalletSource) -> Arc<LocalNode> {
        Arc::new(LocalNode { node, wallets })
    }

    /// One of the node's RPC methods, its error as Core words it.
    fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
        crate::rpc::table::dispatch(&self.node, method, Some(&params), "/").map_err(|e| e.message)
    }

    fn tip(&self) -> BlockTip {
        let chain = self.node.chain();
        let entry = chain.tip_entry();
        BlockTip {
            hash: chain.tip(),
            height: entry.height,
            time: i64::from(entry.header.time),
        }
    }
}

impl interfaces::Node for LocalNode {
    fn get_tip(&self) -> BlockTip {
        self.tip()
    }

    fn wait_tip_changed(&self, current: &BlockHash, timeout_ms: i64) -> BlockTip {
        let timeout = Duration::from_millis(timeout_ms.max(0) as u64);
        self.node
            .wait_for_tip(Some(timeout), |node| node.chain().tip() != *current);
        self.tip()
    }

    fn is_initial_block_download(&self) -> bool {
        // As LocalChain: regtest leaves IBD with its first block, and this
        // node has no headers sync that would hold it there.
        false
    }

    fn get_mempool_size(&self) -> u64 {
        self.node.mempool().len() as u64
    }

    fn execute_rpc(
        &self,
        method: &str,
        params: Option<Value>,
        uri: &str,
    ) -> Result<Value, RpcError> {
        crate::rpc::table::dispatch(&self.node, method, params.as_ref(), uri)
    }

    fn list_rpc_commands(&self) -> Vec<String> {
        let mut names: Vec<String> = crate::rpc::table::methods()
            .into_iter()
            .map(|method| method.name.to_string())
            .chain(self.node.rpc_commands().into_iter().map(|c| c.name))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn start_shutdown(&self) {
        self.node.request_shutdown();
    }

    fn shutdown_requested(&self) -> bool {
        self.node.shutdown_requested()
    }

    fn get_wallets(&self) -> Vec<Arc<dyn Wallet>> {
        (self.wallets)()
    }

    fn get_chain_name(&self) -> String {
        self.node.chain_name.clone()
    }

    fn get_connection_count(&self) -> u64 {
        self.rpc("getconnectioncount", json!([]))
            .ok()
            .and_then(|count| count.as_u64())
            .unwrap_or(0)
    }

    fn get_peers(&self) -> Vec<PeerInfo> {
        let Ok(Value::Array(peers)) = self.rpc("getpeerinfo", json!([])) else {
            return Vec::new();
        };
        peers.iter().map(peer_info).collect()
    }

    fn disconnect_peer(&self, id: i64) -> bool {
        self.rpc("disconnectnode", json!(["", id])).is_ok()
    }

    fn ban(&self, subnet: &str, seconds: i64) -> Result<(), String> {
        self.rpc("setban", json!([subnet, "add", seconds]))
            .map(drop)
    }

    fn unban(&self, subnet: &str) -> Result<(), String> {
        self.rpc("setban", json!([subnet, "remove"])).map(drop)
    }

    fn get_banned(&self) -> Vec<BannedSubnet> {
        let Ok(Value::Array(bans)) = self.rpc("listbanned", json!([])) else {
            return Vec::new();
        };
        bans.iter()
            .map(|ban| BannedSubnet {
                subnet: text(&ban["address"]),
                created: ban["ban_created"].as_i64().unwrap_or(0),
                until: ban["banned_until"].as_i64().unwrap_or(0),
            })
            .collect()
    }

    fn get_network_active(&self) -> bool {
        self.node
            .connman()
            .is_some_and(|connman| connman.is_active())
    }

    fn set_network_active(&self, active: bool) {
        let _ = self.rpc("setnetworkactive", json!([active]));
    }

    fn list_wallet_dir(&self) -> Result<Vec<String>, String> {
        let listed = self.rpc("listwalletdir", json!([]))?;
        Ok(listed["wallets"]
            .as_array()
            .map(|wallets| wallets.iter().map(|w| text(&w["name"])).collect())
            .unwrap_or_default())
    }

    fn create_wallet(&self, options: &CreateWalletOptions) -> Result<String, String> {
        let created = self.rpc(
            "createwallet",
            json!([
                options.name,
                options.disable_private_keys,
                options.blank,
                options.passphrase,
            ]),
        )?;
        Ok(text(&created["name"]))
    }

    fn load_wallet(&self, name: &str) -> Result<String, String> {
        let loaded = self.rpc("loadwallet", json!([name]))?;
        Ok(text(&loaded["name"]))
    }

    fn unload_wallet(&self, name: &str) -> Result<(), String> {
        self.rpc("unloadwallet", json!([name])).map(drop)
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// A `getpeerinfo` entry as the peers table wants it.
fn peer_info(peer: &Value) -> PeerInfo {
    PeerInfo {
        id: peer["id"].as_i64().unwrap_or(-1),
        address: text(&peer["addr"]),
        inbound: peer["inbound"].as_bool().unwrap_or(false),
        connection_type: text(&peer["connection_type"]),
        user_agent: text(&peer["subver"]),
        version: peer["version"].as_i64().unwrap_or(0),
        services: peer["services"]
            .as_str()
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .unwrap_or(0),
        synced_blocks: peer["synced_blocks"].as_i64().unwrap_or(-1),
        bytes_sent: peer["bytessent"].as_u64().unwrap_or(0),
        bytes_received: peer["bytesrecv"].as_u64().unwrap_or(0),
        ping_micros: peer["pingtime"]
            .as_f64()
            .map(|seconds| (seconds * 1e6).round() as u64),
        connected_since: peer["conntime"].as_i64().unwrap_or(0),
    }
}
