//! `interfaces::Node` over IPC: a front end (the GUI, or any process that
//! connects to `-ipcbind`) holds a [`NodeClient`]; the node serves its
//! [`node::LocalNode`](interfaces::Node) through [`NodeServer`].

use std::rc::Rc;
use std::sync::Arc;

use bitcoin::BlockHash;
use interfaces::rpc::RpcError;
use interfaces::{BannedSubnet, BlockTip, CreateWalletOptions, Node, PeerInfo};
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

    ipc_client_method!("Node", get_chain_name, get_chain_name_request, () -> String);
    ipc_client_method!("Node", get_connection_count, get_connection_count_request, () -> u64);
    ipc_client_method!("Node", get_peers, get_peers_request, () -> Vec<PeerInfo>);
    ipc_client_method!("Node", disconnect_peer, disconnect_peer_request, (id: val i64) -> bool);
    ipc_client_method!("Node", ban, ban_request, (subnet: str, seconds: val i64) -> Result<(), String>);
    ipc_client_method!("Node", unban, unban_request, (subnet: str) -> Result<(), String>);
    ipc_client_method!("Node", get_banned, get_banned_request, () -> Vec<BannedSubnet>);
    ipc_client_method!("Node", get_network_active, get_network_active_request, () -> bool);
    ipc_client_method!("Node", set_network_active, set_network_active_request, (active: val bool) -> ());
    ipc_client_method!("Node", list_wallet_dir, list_wallet_dir_request, () -> Result<Vec<String>, String>);
    ipc_client_method!("Node", create_wallet, create_wallet_request, (options: ref CreateWalletOptions) -> Result<String, String>);
    ipc_client_method!("Node", load_wallet, load_wallet_request, (name: str) -> Result<String, String>);
    ipc_client_method!("Node", unload_wallet, unload_wallet_request, (name: str) -> Result<(), String>);
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
    ipc_server_method!("Node", get_chain_name, node::GetChainNameParams, node::GetChainNameResults, () -> String);
    ipc_server_method!("Node", get_connection_count, node::GetConnectionCountParams, node::GetConnectionCountResults, () -> u64);
    ipc_server_method!("Node", get_peers, node::GetPeersParams, node::GetPeersResults, () -> Vec<PeerInfo>);
    ipc_server_method!("Node", disconnect_peer, node::DisconnectPeerParams, node::DisconnectPeerResults, (id: val i64) -> bool);
    ipc_server_method!("Node", ban, node::BanParams, node::BanResults, (subnet: str, seconds: val i64) -> Result<(), String>);
    ipc_server_method!("Node", unban, node::UnbanParams, node::UnbanResults, (subnet: str) -> Result<(), String>);
    ipc_server_method!("Node", get_banned, node::GetBannedParams, node::GetBannedResults, () -> Vec<BannedSubnet>);
    ipc_server_method!("Node", get_network_active, node::GetNetworkActiveParams, node::GetNetworkActiveResults, () -> bool);
    ipc_server_method!("Node", set_network_active, node::SetNetworkActiveParams, node::SetNetworkActiveResults, (active: val bool) -> ());
    ipc_server_method!("Node", list_wallet_dir, node::ListWalletDirParams, node::ListWalletDirResults, () -> Result<Vec<String>, String>);
    ipc_server_method!("Node", create_wallet, node::CreateWalletParams, node::CreateWalletResults, (options: ref CreateWalletOptions) -> Result<String, String>);
    ipc_server_method!("Node", load_wallet, node::LoadWalletParams, node::LoadWalletResults, (name: str) -> Result<String, String>);
    ipc_server_method!("Node", unload_wallet, node::UnloadWalletParams, node::UnloadWalletResults, (name: str) -> Result<(), String>);
}
