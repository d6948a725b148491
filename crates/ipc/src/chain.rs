//! `interfaces::Chain`, `ChainNotifications`, `Handler` and `RpcActor`
//! over IPC. In a wallet process, [`ChainClient`] is the node; in the node,
//! [`ChainServer`] serves its real `Chain`. Callbacks travel the other
//! way: the wallet's notifications and RPC actors are served by the wallet
//! process and called by the node through [`NotificationsClient`] and
//! [`RpcActorClient`].

use std::rc::Rc;
use std::sync::{Arc, Mutex};

use bitcoin::{Amount, BlockHash, FeeRate, OutPoint, Transaction, Txid};
use interfaces::rpc::{RpcActor, RpcCommand, RpcError, RpcRequest};
use interfaces::{
    BlockInfo, BlockRef, Chain, ChainNotifications, CleanupHandler, Coin, FoundBlock, Handler,
    RemovalReason,
};
use serde_json::Value;

use crate::chain_capnp::{chain, chain_notifications, rpc_actor};
use crate::connection::ConnectionHandle;
use crate::connection::{run_on_worker, Connection, ServerRequest};
use crate::error::IpcError;
use crate::event_loop::Local;
use crate::handler_capnp::handler;
use crate::proxy::{OnDisconnect, Proxy};
use crate::{ipc_client_method, ipc_server_method};

/// Reports a failed call to the node's log; the caller gets a fallback.
pub fn log_disconnect() -> OnDisconnect {
    Arc::new(|error: &IpcError| {
        if let Some(logger) = common::logging::global() {
            logger.info(format_args!("IPC call failed: {error}"));
        }
    })
}

/// The node's `Chain`, seen from another process.
pub struct ChainClient {
    pub proxy: Proxy<chain::Client>,
    pub on_disconnect: OnDisconnect,
}

impl Chain for ChainClient {
    ipc_client_method!("Chain", tip, tip_request, () -> BlockRef);
    ipc_client_method!("Chain", block_hash, block_hash_request, (height: val u32) -> Option<BlockHash>);
    ipc_client_method!("Chain", find_block, find_block_request, (hash: ref BlockHash, with_data: val bool) -> Option<FoundBlock>);
    ipc_client_method!("Chain", find_ancestor_by_height, find_ancestor_by_height_request, (hash: ref BlockHash, height: val u32) -> Option<BlockHash>);
    ipc_client_method!("Chain", find_common_ancestor, find_common_ancestor_request, (a: ref BlockHash, b: ref BlockHash) -> Option<BlockRef>);
    ipc_client_method!("Chain", find_coins, find_coins_request, (outpoints: slice OutPoint) -> Vec<Option<Coin>>);
    ipc_client_method!("Chain", broadcast_transaction, broadcast_transaction_request, (tx: ref Transaction, max_tx_fee: val Amount, relay: val bool) -> Result<(), String>);
    ipc_client_method!("Chain", estimate_smart_fee, estimate_smart_fee_request, (target: val u32) -> Option<FeeRate>);
    ipc_client_method!("Chain", relay_min_fee, relay_min_fee_request, () -> FeeRate);
    ipc_client_method!("Chain", relay_dust_fee, relay_dust_fee_request, () -> FeeRate);
    ipc_client_method!("Chain", is_in_mempool, is_in_mempool_request, (txid: ref Txid) -> bool);
    ipc_client_method!("Chain", has_descendants_in_mempool, has_descendants_in_mempool_request, (txid: ref Txid) -> bool);
    ipc_client_method!("Chain", mempool_transactions, mempool_transactions_request, () -> Vec<Transaction>);
    ipc_client_method!("Chain", wait_for_notifications, wait_for_notifications_request, () -> ());
    ipc_client_method!("Chain", wait_for_notifications_if_tip_changed, wait_for_notifications_if_tip_changed_request, (old_tip: ref BlockHash) -> ());
    ipc_client_method!("Chain", is_ready_to_broadcast, is_ready_to_broadcast_request, () -> bool);
    ipc_client_method!("Chain", is_initial_block_download, is_initial_block_download_request, () -> bool);
    ipc_client_method!("Chain", shutdown_requested, shutdown_requested_request, () -> bool);
    ipc_client_method!("Chain", now, now_request, () -> i64);
    ipc_client_method!("Chain", setting, setting_request, (name: str) -> Option<Value>);
    ipc_client_method!("Chain", update_setting, update_setting_request, (name: str, value: val Option<Value>) -> Result<(), String>);
    ipc_client_method!("Chain", init_message, init_message_request, (message: str) -> ());
    ipc_client_method!("Chain", init_warning, init_warning_request, (message: str) -> ());
    ipc_client_method!("Chain", get_args, get_args_request, (name: str) -> Vec<String>);

    fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Box<dyn Handler> {
        let (connection, client) = (self.proxy.connection.local().key(), self.proxy.client.key());
        let outcome = self
            .proxy
            .connection
            .handle()
            .sync(move |caller| async move {
                let connection = connection.get().ok_or(IpcError::Disconnected)?;
                let client = client.get().ok_or(IpcError::Disconnected)?;
                let served: chain_notifications::Client =
                    capnp_rpc::new_client(NotificationsServer {
                        connection: connection.clone(),
                        inner: notifications,
                    });
                let mut request = client.handle_notifications_request();
                let mut params = request.get();
                connection.set_context(&caller, params.reborrow().init_context())?;
                params.set_notifications(served);
                let response = connection
                    .call(&caller, "Chain.handleNotifications", request)
                    .await?;
                let handler = response
                    .get()
                    .and_then(|r| r.get_result())
                    .map_err(protocol)?;
                Ok(Local::new(handler))
            });
        self.remote_handler(outcome)
    }

    fn handle_rpc(&self, command: RpcCommand) -> Box<dyn Handler> {
        let (connection, client) = (self.proxy.connection.local().key(), self.proxy.client.key());
        let outcome = self
            .proxy
            .connection
            .handle()
            .sync(move |caller| async move {
                let connection = connection.get().ok_or(IpcError::Disconnected)?;
                let client = client.get().ok_or(IpcError::Disconnected)?;
                let actor: rpc_actor::Client = capnp_rpc::new_client(RpcActorServer {
                    connection: connection.clone(),
                    inner: command.actor.clone(),
                });
                let mut request = client.handle_rpc_request();
                let mut params = request.get();
                connection.set_context(&caller, params.reborrow().init_context())?;
                let mut wire = params.init_command();
                wire.set_category(command.category.as_str());
                wire.set_name(command.name.as_str());
                wire.set_usage(command.usage.as_str());
                wire.set_help(command.help.as_str());
                wire.set_actor(actor);
                let response = connection.call(&caller, "Chain.handleRpc", request).await?;
                let handler = response
                    .get()
                    .and_then(|r| r.get_result())
                    .map_err(protocol)?;
                Ok(Local::new(handler))
            });
        self.remote_handler(outcome)
    }
}

impl ChainClient {
    fn remote_handler(
        &self,
        outcome: Result<Local<handler::Client>, IpcError>,
    ) -> Box<dyn Handler> {
        match outcome {
            Ok(client) => Box::new(HandlerClient {
                proxy: Some(Proxy {
                    connection: self.proxy.connection.clone(),
                    client,
                }),
            }),
            Err(error) => {
                (self.on_disconnect)(&error);
                Box::new(CleanupHandler::new(|| {}))
            }
        }
    }
}

fn protocol(error: capnp::Error) -> IpcError {
    IpcError::Protocol(error.to_string())
}

/// Serves a `Chain` to the peer.
pub struct ChainServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn Chain>,
}

impl chain::Server for ChainServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: chain::DestroyParams,
        _: chain::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    ipc_server_method!("Chain", tip, chain::TipParams, chain::TipResults, () -> BlockRef);
    ipc_server_method!("Chain", block_hash, chain::BlockHashParams, chain::BlockHashResults, (height: val u32) -> Option<BlockHash>);
    ipc_server_method!("Chain", find_block, chain::FindBlockParams, chain::FindBlockResults, (hash: ref BlockHash, with_data: val bool) -> Option<FoundBlock>);
    ipc_server_method!("Chain", find_ancestor_by_height, chain::FindAncestorByHeightParams, chain::FindAncestorByHeightResults, (hash: ref BlockHash, height: val u32) -> Option<BlockHash>);
    ipc_server_method!("Chain", find_common_ancestor, chain::FindCommonAncestorParams, chain::FindCommonAncestorResults, (a: ref BlockHash, b: ref BlockHash) -> Option<BlockRef>);
    ipc_server_method!("Chain", find_coins, chain::FindCoinsParams, chain::FindCoinsResults, (outpoints: slice OutPoint) -> Vec<Option<Coin>>);
    ipc_server_method!("Chain", broadcast_transaction, chain::BroadcastTransactionParams, chain::BroadcastTransactionResults, (tx: ref Transaction, max_tx_fee: val Amount, relay: val bool) -> Result<(), String>);
    ipc_server_method!("Chain", estimate_smart_fee, chain::EstimateSmartFeeParams, chain::EstimateSmartFeeResults, (target: val u32) -> Option<FeeRate>);
    ipc_server_method!("Chain", relay_min_fee, chain::RelayMinFeeParams, chain::RelayMinFeeResults, () -> FeeRate);
    ipc_server_method!("Chain", relay_dust_fee, chain::RelayDustFeeParams, chain::RelayDustFeeResults, () -> FeeRate);
    ipc_server_method!("Chain", is_in_mempool, chain::IsInMempoolParams, chain::IsInMempoolResults, (txid: ref Txid) -> bool);
    ipc_server_method!("Chain", has_descendants_in_mempool, chain::HasDescendantsInMempoolParams, chain::HasDescendantsInMempoolResults, (txid: ref Txid) -> bool);
    ipc_server_method!("Chain", mempool_transactions, chain::MempoolTransactionsParams, chain::MempoolTransactionsResults, () -> Vec<Transaction>);
    ipc_server_method!("Chain", wait_for_notifications, chain::WaitForNotificationsParams, chain::WaitForNotificationsResults, () -> ());
    ipc_server_method!("Chain", wait_for_notifications_if_tip_changed, chain::WaitForNotificationsIfTipChangedParams, chain::WaitForNotificationsIfTipChangedResults, (old_tip: ref BlockHash) -> ());
    ipc_server_method!("Chain", is_ready_to_broadcast, chain::IsReadyToBroadcastParams, chain::IsReadyToBroadcastResults, () -> bool);
    ipc_server_method!("Chain", is_initial_block_download, chain::IsInitialBlockDownloadParams, chain::IsInitialBlockDownloadResults, () -> bool);
    ipc_server_method!("Chain", shutdown_requested, chain::ShutdownRequestedParams, chain::ShutdownRequestedResults, () -> bool);
    ipc_server_method!("Chain", now, chain::NowParams, chain::NowResults, () -> i64);
    ipc_server_method!("Chain", setting, chain::SettingParams, chain::SettingResults, (name: str) -> Option<Value>);
    ipc_server_method!("Chain", update_setting, chain::UpdateSettingParams, chain::UpdateSettingResults, (name: str, value: val Option<Value>) -> Result<(), String>);
    ipc_server_method!("Chain", init_message, chain::InitMessageParams, chain::InitMessageResults, (message: str) -> ());
    ipc_server_method!("Chain", init_warning, chain::InitWarningParams, chain::InitWarningResults, (message: str) -> ());
    ipc_server_method!("Chain", get_args, chain::GetArgsParams, chain::GetArgsResults, (name: str) -> Vec<String>);

    async fn handle_notifications(
        self: capnp::capability::Rc<Self>,
        params: chain::HandleNotificationsParams,
        mut results: chain::HandleNotificationsResults,
    ) -> Result<(), capnp::Error> {
        let label = "Chain.handleNotifications";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let remote = NotificationsClient {
            proxy: Proxy {
                connection: Arc::new(ConnectionHandle::borrowed(Local::new(
                    self.connection.clone(),
                ))),
                client: Local::new(params.get_notifications()?),
            },
            on_disconnect: log_disconnect(),
        };
        let inner = self.inner.clone();
        let handler = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.handle_notifications(Arc::new(remote)),
        )
        .await?;
        results
            .get()
            .set_result(capnp_rpc::new_client(HandlerServer::new(handler)));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }

    async fn handle_rpc(
        self: capnp::capability::Rc<Self>,
        params: chain::HandleRpcParams,
        mut results: chain::HandleRpcResults,
    ) -> Result<(), capnp::Error> {
        let label = "Chain.handleRpc";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let wire = params.get_command()?;
        let text = |t: capnp::Result<capnp::text::Reader>| -> capnp::Result<String> {
            t?.to_string()
                .map_err(|_| capnp::Error::failed("malformed text".into()))
        };
        let actor = RpcActorClient {
            proxy: Proxy {
                connection: Arc::new(ConnectionHandle::borrowed(Local::new(
                    self.connection.clone(),
                ))),
                client: Local::new(wire.get_actor()?),
            },
            on_disconnect: log_disconnect(),
        };
        let command = RpcCommand {
            category: text(wire.get_category())?,
            name: text(wire.get_name())?,
            usage: text(wire.get_usage())?,
            help: text(wire.get_help())?,
            actor: Arc::new(actor),
        };
        let inner = self.inner.clone();
        let handler = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.handle_rpc(command),
        )
        .await?;
        results
            .get()
            .set_result(capnp_rpc::new_client(HandlerServer::new(handler)));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }
}

/// A wallet's notifications, called by the node.
pub struct NotificationsClient {
    pub proxy: Proxy<chain_notifications::Client>,
    pub on_disconnect: OnDisconnect,
}

impl ChainNotifications for NotificationsClient {
    ipc_client_method!("ChainNotifications", transaction_added_to_mempool, transaction_added_to_mempool_request, (tx: ref Transaction) -> ());
    ipc_client_method!("ChainNotifications", transaction_removed_from_mempool, transaction_removed_from_mempool_request, (tx: ref Transaction, reason: val RemovalReason) -> ());
    ipc_client_method!("ChainNotifications", block_connected, block_connected_request, (block: ref BlockInfo) -> ());
    ipc_client_method!("ChainNotifications", block_disconnected, block_disconnected_request, (block: ref BlockInfo) -> ());
    ipc_client_method!("ChainNotifications", updated_block_tip, updated_block_tip_request, () -> ());
    ipc_client_method!("ChainNotifications", chain_state_flushed, chain_state_flushed_request, (tip: ref BlockHash) -> ());
}

/// Serves a wallet's notifications to the node.
pub struct NotificationsServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn ChainNotifications>,
}

impl chain_notifications::Server for NotificationsServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: chain_notifications::DestroyParams,
        _: chain_notifications::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    ipc_server_method!("ChainNotifications", transaction_added_to_mempool, chain_notifications::TransactionAddedToMempoolParams, chain_notifications::TransactionAddedToMempoolResults, (tx: ref Transaction) -> ());
    ipc_server_method!("ChainNotifications", transaction_removed_from_mempool, chain_notifications::TransactionRemovedFromMempoolParams, chain_notifications::TransactionRemovedFromMempoolResults, (tx: ref Transaction, reason: val RemovalReason) -> ());
    ipc_server_method!("ChainNotifications", block_connected, chain_notifications::BlockConnectedParams, chain_notifications::BlockConnectedResults, (block: ref BlockInfo) -> ());
    ipc_server_method!("ChainNotifications", block_disconnected, chain_notifications::BlockDisconnectedParams, chain_notifications::BlockDisconnectedResults, (block: ref BlockInfo) -> ());
    ipc_server_method!("ChainNotifications", updated_block_tip, chain_notifications::UpdatedBlockTipParams, chain_notifications::UpdatedBlockTipResults, () -> ());
    ipc_server_method!("ChainNotifications", chain_state_flushed, chain_notifications::ChainStateFlushedParams, chain_notifications::ChainStateFlushedResults, (tip: ref BlockHash) -> ());
}

/// An RPC method a wallet process serves, called by the node's server.
pub struct RpcActorClient {
    pub proxy: Proxy<rpc_actor::Client>,
    pub on_disconnect: OnDisconnect,
}

impl RpcActor for RpcActorClient {
    ipc_client_method!("RpcActor", call, call_request, (request: ref RpcRequest) -> Result<Value, RpcError>);
}

pub struct RpcActorServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn RpcActor>,
}

impl rpc_actor::Server for RpcActorServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: rpc_actor::DestroyParams,
        _: rpc_actor::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    ipc_server_method!("RpcActor", call, rpc_actor::CallParams, rpc_actor::CallResults, (request: ref RpcRequest) -> Result<Value, RpcError>);
}

/// A registration held in another process: `disconnect` (or dropping
/// it) ends it there.
pub struct HandlerClient {
    proxy: Option<Proxy<handler::Client>>,
}

impl Handler for HandlerClient {
    fn disconnect(&mut self) {
        let Some(proxy) = self.proxy.take() else {
            return;
        };
        if crate::event_loop::LoopHandle::current().is_some() {
            // On the loop thread (a connection being torn down) no call
            // can be waited for: releasing the capability ends the
            // registration on the other side.
            return;
        }
        let (connection, client) = (proxy.connection.local().key(), proxy.client.key());
        // Best effort: if the peer is gone, so is the registration.
        let _ = proxy.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let client = client.get().ok_or(IpcError::Disconnected)?;
            let mut request = client.disconnect_request();
            connection.set_context(&caller, request.get().init_context())?;
            connection
                .call(&caller, "Handler.disconnect", request)
                .await?;
            Ok(())
        });
    }
}

impl Drop for HandlerClient {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// Serves a registration: released or disconnected, it unregisters.
pub struct HandlerServer {
    inner: Mutex<Option<Box<dyn Handler>>>,
}

impl HandlerServer {
    pub fn new(inner: Box<dyn Handler>) -> HandlerServer {
        HandlerServer {
            inner: Mutex::new(Some(inner)),
        }
    }

    fn end(&self) {
        let handler = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut handler) = handler {
            handler.disconnect();
        }
    }
}

impl Drop for HandlerServer {
    fn drop(&mut self) {
        self.end();
    }
}

impl handler::Server for HandlerServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: handler::DestroyParams,
        _: handler::DestroyResults,
    ) -> Result<(), capnp::Error> {
        self.end();
        Ok(())
    }

    async fn disconnect(
        self: capnp::capability::Rc<Self>,
        _: handler::DisconnectParams,
        _: handler::DisconnectResults,
    ) -> Result<(), capnp::Error> {
        self.end();
        Ok(())
    }
}
