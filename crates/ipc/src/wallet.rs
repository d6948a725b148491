//! `interfaces::Wallet` over IPC, and lists of wallets as capabilities.
//! A wallet handed to a front end through the node is served twice: the
//! wallet process serves it to the node, and the node serves its proxy to
//! the front end, so every call goes front end -> node -> wallet process.

use std::rc::Rc;
use std::sync::Arc;

use bitcoin::{Amount, FeeRate, Transaction, Txid};
use interfaces::{
    CreatedTransaction, Recipient, TxRecord, Wallet, WalletBalances, WalletTxDetails,
};

use crate::connection::Connection;
use crate::connection::ConnectionHandle;
use crate::error::IpcError;
use crate::event_loop::Local;
use crate::proxy::{OnDisconnect, Proxy};
use crate::wallet_capnp::wallet;
use crate::{ipc_client_method, ipc_server_method};

/// A wallet in another process.
pub struct WalletClient {
    pub proxy: Proxy<wallet::Client>,
    pub on_disconnect: OnDisconnect,
}

impl Wallet for WalletClient {
    ipc_client_method!("Wallet", get_wallet_name, get_wallet_name_request, () -> String);
    ipc_client_method!("Wallet", get_balances, get_balances_request, () -> Result<WalletBalances, String>);
    ipc_client_method!("Wallet", get_new_address, get_new_address_request, (label: str, address_type: str) -> Result<String, String>);
    ipc_client_method!("Wallet", send_to_address, send_to_address_request, (address: str, amount: val Amount) -> Result<Txid, String>);
    ipc_client_method!("Wallet", is_crypted, is_crypted_request, () -> bool);
    ipc_client_method!("Wallet", is_locked, is_locked_request, () -> bool);
    ipc_client_method!("Wallet", lock, lock_request, () -> Result<(), String>);
    ipc_client_method!("Wallet", unlock, unlock_request, (passphrase: str, timeout_secs: val i64) -> Result<(), String>);
    ipc_client_method!("Wallet", wait_changed, wait_changed_request, (seen: val u64, timeout_ms: val i64) -> u64);
    ipc_client_method!("Wallet", get_transactions, get_transactions_request, () -> Result<Vec<TxRecord>, String>);
    ipc_client_method!("Wallet", get_transaction, get_transaction_request, (txid: ref Txid) -> Result<WalletTxDetails, String>);
    ipc_client_method!("Wallet", abandon_transaction, abandon_transaction_request, (txid: ref Txid) -> Result<(), String>);
    ipc_client_method!("Wallet", create_transaction, create_transaction_request, (recipients: slice Recipient, fee_rate: val Option<FeeRate>) -> Result<CreatedTransaction, String>);
    ipc_client_method!("Wallet", commit_transaction, commit_transaction_request, (tx: ref Transaction) -> Result<Txid, String>);
    ipc_client_method!("Wallet", encrypt_wallet, encrypt_wallet_request, (passphrase: str) -> Result<(), String>);
    ipc_client_method!("Wallet", change_passphrase, change_passphrase_request, (old_passphrase: str, new_passphrase: str) -> Result<(), String>);
    ipc_client_method!("Wallet", backup_wallet, backup_wallet_request, (destination: str) -> Result<(), String>);
}

/// Serves one wallet to the peer.
pub struct WalletServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn Wallet>,
}

impl wallet::Server for WalletServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: wallet::DestroyParams,
        _: wallet::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    ipc_server_method!("Wallet", get_wallet_name, wallet::GetWalletNameParams, wallet::GetWalletNameResults, () -> String);
    ipc_server_method!("Wallet", get_balances, wallet::GetBalancesParams, wallet::GetBalancesResults, () -> Result<WalletBalances, String>);
    ipc_server_method!("Wallet", get_new_address, wallet::GetNewAddressParams, wallet::GetNewAddressResults, (label: str, address_type: str) -> Result<String, String>);
    ipc_server_method!("Wallet", send_to_address, wallet::SendToAddressParams, wallet::SendToAddressResults, (address: str, amount: val Amount) -> Result<Txid, String>);
    ipc_server_method!("Wallet", is_crypted, wallet::IsCryptedParams, wallet::IsCryptedResults, () -> bool);
    ipc_server_method!("Wallet", is_locked, wallet::IsLockedParams, wallet::IsLockedResults, () -> bool);
    ipc_server_method!("Wallet", lock, wallet::LockParams, wallet::LockResults, () -> Result<(), String>);
    ipc_server_method!("Wallet", unlock, wallet::UnlockParams, wallet::UnlockResults, (passphrase: str, timeout_secs: val i64) -> Result<(), String>);
    ipc_server_method!("Wallet", wait_changed, wallet::WaitChangedParams, wallet::WaitChangedResults, (seen: val u64, timeout_ms: val i64) -> u64);
    ipc_server_method!("Wallet", get_transactions, wallet::GetTransactionsParams, wallet::GetTransactionsResults, () -> Result<Vec<TxRecord>, String>);
    ipc_server_method!("Wallet", get_transaction, wallet::GetTransactionParams, wallet::GetTransactionResults, (txid: ref Txid) -> Result<WalletTxDetails, String>);
    ipc_server_method!("Wallet", abandon_transaction, wallet::AbandonTransactionParams, wallet::AbandonTransactionResults, (txid: ref Txid) -> Result<(), String>);
    ipc_server_method!("Wallet", create_transaction, wallet::CreateTransactionParams, wallet::CreateTransactionResults, (recipients: slice Recipient, fee_rate: val Option<FeeRate>) -> Result<CreatedTransaction, String>);
    ipc_server_method!("Wallet", commit_transaction, wallet::CommitTransactionParams, wallet::CommitTransactionResults, (tx: ref Transaction) -> Result<Txid, String>);
    ipc_server_method!("Wallet", encrypt_wallet, wallet::EncryptWalletParams, wallet::EncryptWalletResults, (passphrase: str) -> Result<(), String>);
    ipc_server_method!("Wallet", change_passphrase, wallet::ChangePassphraseParams, wallet::ChangePassphraseResults, (old_passphrase: str, new_passphrase: str) -> Result<(), String>);
    ipc_server_method!("Wallet", backup_wallet, wallet::BackupWalletParams, wallet::BackupWalletResults, (destination: str) -> Result<(), String>);
}

/// Fills a `List(Wallet)` result with a server for each wallet.
pub fn serve_list(
    connection: &Rc<Connection>,
    wallets: Vec<Arc<dyn Wallet>>,
    mut list: capnp::capability_list::Builder<'_, wallet::Client>,
) {
    for (index, inner) in wallets.into_iter().enumerate() {
        let server = WalletServer {
            connection: connection.clone(),
            inner,
        };
        list.set(
            index as u32,
            capnp_rpc::new_client::<wallet::Client, _>(server)
                .client
                .hook,
        );
    }
}

/// The capabilities of a received `List(Wallet)`, held for other threads.
/// Call on the loop thread.
pub fn take_list(
    list: capnp::Result<capnp::capability_list::Reader<'_, wallet::Client>>,
) -> Result<Vec<Local<wallet::Client>>, IpcError> {
    let list = list.map_err(|e| IpcError::Protocol(e.to_string()))?;
    list.iter()
        .map(|client| {
            client
                .map(Local::new)
                .map_err(|e| IpcError::Protocol(e.to_string()))
        })
        .collect()
}

/// Wraps received wallet capabilities as [`Wallet`]s; after a failed call
/// reports it and returns none.
pub fn proxies(
    connection: &Arc<ConnectionHandle>,
    on_disconnect: &OnDisconnect,
    outcome: Result<Vec<Local<wallet::Client>>, IpcError>,
) -> Vec<Arc<dyn Wallet>> {
    match outcome {
        Ok(clients) => clients
            .into_iter()
            .map(|client| {
                Arc::new(WalletClient {
                    proxy: Proxy {
                        connection: connection.clone(),
                        client,
                    },
                    on_disconnect: on_disconnect.clone(),
                }) as Arc<dyn Wallet>
            })
            .collect(),
        Err(error) => {
            on_disconnect(&error);
            Vec::new()
        }
    }
}

/// A client method returning `List(Wallet)` (`WalletLoader.getWallets`,
/// `Node.getWallets`): the wallets as proxies, none after a failed call.
#[macro_export]
#[doc(hidden)]
macro_rules! ipc_client_wallets_method {
    ($label:literal, $method:ident, $request:ident) => {
        fn $method(&self) -> Vec<std::sync::Arc<dyn interfaces::Wallet>> {
            let (connection, client) =
                (self.proxy.connection.local().key(), self.proxy.client.key());
            let outcome = self
                .proxy
                .connection
                .handle()
                .sync(move |caller| async move {
                    let connection = connection.get().ok_or($crate::IpcError::Disconnected)?;
                    let client = client.get().ok_or($crate::IpcError::Disconnected)?;
                    let mut request = client.$request();
                    connection.set_context(&caller, request.get().init_context())?;
                    let response = connection.call(&caller, $label, request).await?;
                    let results = response
                        .get()
                        .map_err(|e| $crate::IpcError::Protocol(e.to_string()))?;
                    $crate::wallet::take_list(results.get_result())
                });
            $crate::wallet::proxies(&self.proxy.connection, &self.on_disconnect, outcome)
        }
    };
}

/// The server side of [`ipc_client_wallets_method!`]: runs the trait
/// method on the context's worker and serves each wallet it returns.
#[macro_export]
#[doc(hidden)]
macro_rules! ipc_server_wallets_method {
    ($label:literal, $method:ident, $params:ty, $results:ty) => {
        async fn $method(
            self: capnp::capability::Rc<Self>,
            params: $params,
            mut results: $results,
        ) -> Result<(), capnp::Error> {
            let params = params.get()?;
            let request = $crate::connection::ServerRequest::received($label, &params);
            let inner = self.inner.clone();
            let wallets = $crate::connection::run_on_worker(
                &self.connection,
                $label,
                &request,
                params.get_context(),
                move || inner.$method(),
            )
            .await?;
            let list = results.get().init_result(wallets.len() as u32);
            $crate::wallet::serve_list(&self.connection, wallets, list);
            request.responded($label, &"(result = <capabilities>)");
            Ok(())
        }
    };
}
