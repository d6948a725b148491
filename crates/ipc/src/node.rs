//! `interfaces::Node` over IPC: a front end (the GUI, or any process that
//! connects to `-ipcbind`) holds a [`NodeClient`]; the node serves its
//! [`node::LocalNode`](interfaces::Node) through [`NodeServer`].

use std::rc::Rc;
use std::sync::Arc;

use bitcoin::BlockHash;
use interfaces::rpc::RpcError;
use interfaces::{BlockTip, Node};
use serde_json::Value;

use crate::connection::Connection;
use crate::node_capnp::node;
use crate::proxy::{OnDisconnect, Proxy};
use crate::{ipc_client_method, ipc_server_method};

/// A node in another process.
pub struct NodeClient {
    pub proxy: Proxy<node::Client>,
    pub on_disconnect: OnDisconnect,
}

impl Node for NodeClient {
    ipc_client_method!("Node", get_tip, get_tip_request, () -> BlockTip);
    ipc_client_method!("Node", wait_tip_changed, wait_tip_changed_request, (current: ref BlockHash, timeout_ms: val i64) -> BlockTip);
    ipc_client_method!("Node", is_initial_block_download, is_initial_block_download_request, () -> bool);
    ipc_client_method!("Node", get_mempool_size, get_mempool_size_request, () -> u64);
    ipc_client_method!("Node", execute_rpc, execute_rpc_request, (method: str, params: val Option<Value>, uri: str) -> Result<Value, RpcError>);
    ipc_client_method!("Node", list_rpc_commands, list_rpc_commands_request, () -> Vec<String>);
    ipc_client_method!("Node", start_shutdown, start_shutdown_request, () -> ());
    ipc_client_method!("Node", shutdown_requested, shutdown_requested_request, () -> bool);

    crate::ipc_client_wallets_method!("Node.getWallets", get_wallets, get_wallets_request);
}

/// Serves a `Node` to the peer.
pub struct NodeServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn Node>,
}

impl node::Server for NodeServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: node::DestroyParams,
        _: node::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    ipc_server_method!("Node", get_tip, node::GetTipParams, node::GetTipResults, () -> BlockTip);
    ipc_server_method!("Node", wait_tip_changed, node::WaitTipChangedParams, node::WaitTipChangedResults, (current: ref BlockHash, timeout_ms: val i64) -> BlockTip);
    ipc_server_method!("Node", is_initial_block_download, node::IsInitialBlockDownloadParams, node::IsInitialBlockDownloadResults, () -> bool);
    ipc_server_method!("Node", get_mempool_size, node::GetMempoolSizeParams, node::GetMempoolSizeResults, () -> u64);
    ipc_server_method!("Node", execute_rpc, node::ExecuteRpcParams, node::ExecuteRpcResults, (method: str, params: val Option<Value>, uri: str) -> Result<Value, RpcError>);
    ipc_server_method!("Node", list_rpc_commands, node::ListRpcCommandsParams, node::ListRpcCommandsResults, () -> Vec<String>);
    ipc_server_method!("Node", start_shutdown, node::StartShutdownParams, node::StartShutdownResults, () -> ());
    ipc_server_method!("Node", shutdown_requested, node::ShutdownRequestedParams, node::ShutdownRequestedResults, () -> bool);

    crate::ipc_server_wallets_method!(
        "Node.getWallets",
        get_wallets,
        node::GetWalletsParams,
        node::GetWalletsResults
    );
}
