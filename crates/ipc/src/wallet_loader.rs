//! `interfaces::WalletLoader` over IPC: the node holds a
//! [`WalletLoaderClient`]; the wallet process serves its wallet context
//! through [`WalletLoaderServer`].

use std::rc::Rc;
use std::sync::Arc;

use interfaces::{Wallet, WalletLoader};

use crate::connection::{run_on_worker, Connection, ServerRequest};
use crate::error::IpcError;
use crate::proxy::{OnDisconnect, Proxy};
use crate::wallet_loader_capnp::wallet_loader;
use crate::{ipc_client_method, ipc_server_method};

pub struct WalletLoaderClient {
    pub proxy: Proxy<wallet_loader::Client>,
    pub on_disconnect: OnDisconnect,
}

impl WalletLoader for WalletLoaderClient {
    ipc_client_method!("WalletLoader", register_rpcs, register_rpcs_request, () -> ());
    ipc_client_method!("WalletLoader", load_wallets, load_wallets_request, (names: slice String) -> Result<(), String>);
    ipc_client_method!("WalletLoader", stop, stop_request, () -> ());

    fn get_wallets(&self) -> Vec<Arc<dyn Wallet>> {
        let (connection, client) = (self.proxy.connection.local().key(), self.proxy.client.key());
        let outcome = self
            .proxy
            .connection
            .handle()
            .sync(move |caller| async move {
                let connection = connection.get().ok_or(IpcError::Disconnected)?;
                let client = client.get().ok_or(IpcError::Disconnected)?;
                let mut request = client.get_wallets_request();
                connection.set_context(&caller, request.get().init_context())?;
                let response = connection
                    .call(&caller, "WalletLoader.getWallets", request)
                    .await?;
                let results = response
                    .get()
                    .map_err(|e| IpcError::Protocol(e.to_string()))?;
                crate::wallet::take_list(results.get_result())
            });
        crate::wallet::proxies(&self.proxy.connection, &self.on_disconnect, outcome)
    }
}

pub struct WalletLoaderServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn WalletLoader>,
}

impl wallet_loader::Server for WalletLoaderServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: wallet_loader::DestroyParams,
        _: wallet_loader::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    ipc_server_method!("WalletLoader", register_rpcs, wallet_loader::RegisterRpcsParams, wallet_loader::RegisterRpcsResults, () -> ());
    ipc_server_method!("WalletLoader", load_wallets, wallet_loader::LoadWalletsParams, wallet_loader::LoadWalletsResults, (names: slice String) -> Result<(), String>);
    ipc_server_method!("WalletLoader", stop, wallet_loader::StopParams, wallet_loader::StopResults, () -> ());

    async fn get_wallets(
        self: capnp::capability::Rc<Self>,
        params: wallet_loader::GetWalletsParams,
        mut results: wallet_loader::GetWalletsResults,
    ) -> Result<(), capnp::Error> {
        let label = "WalletLoader.getWallets";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let inner = self.inner.clone();
        let wallets = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.get_wallets(),
        )
        .await?;
        let list = results.get().init_result(wallets.len() as u32);
        crate::wallet::serve_list(&self.connection, wallets, list);
        request.responded(label, &"(result = <capabilities>)");
        Ok(())
    }
}
