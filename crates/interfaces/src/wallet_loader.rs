//! What the node asks of a wallet component (Core's `ChainClient` as the
//! wallet loader implements it): add its RPC methods, load wallets, stop,
//! and hand out the loaded wallets to a front end.

use std::sync::Arc;

use crate::wallet::Wallet;

pub trait WalletLoader: Send + Sync {
    /// Adds the wallet RPCs to the node's server (through the `Chain`
    /// the loader was made with).
    fn register_rpcs(&self);

    /// Loads the wallets `-wallet` names and those the settings list.
    fn load_wallets(&self, names: &[String]) -> Result<(), String>;

    /// Unloads every wallet and removes the RPCs.
    fn stop(&self);

    /// The wallets loaded now.
    fn get_wallets(&self) -> Vec<Arc<dyn Wallet>>;
}
