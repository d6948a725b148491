//! [`interfaces::Node`] in the node's own process: what a front end (the
//! GUI, or a process connected over `-ipcbind`) sees. The wallets come
//! from whoever hosts them, in this process or a wallet process, through
//! the [`WalletSource`] the executable supplies.

use std::sync::Arc;
use std::time::Duration;

use bitcoin::BlockHash;
use interfaces::rpc::RpcError;
use interfaces::{BlockTip, Wallet};
use serde_json::Value;

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
}
