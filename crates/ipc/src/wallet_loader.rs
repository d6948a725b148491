//! `interfaces::WalletLoader` over IPC: the node holds a
//! [`WalletLoaderClient`]; the wallet process serves its wallet context
//! through [`WalletLoaderServer`].

use std::rc::Rc;
use std::sync::Arc;

use interfaces::WalletLoader;

use crate::connection::Connection;
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

    crate::ipc_client_wallets_method!("WalletLoader.getWallets", get_wallets, get_wallets_request);
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

    crate::ipc_server_wallets_method!(
        "WalletLoader.getWallets",
        get_wallets,
        wallet_loader::GetWalletsParams,
        wallet_loader::GetWalletsResults
    );
}
