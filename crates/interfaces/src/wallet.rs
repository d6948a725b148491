//! One loaded wallet as a front end uses it: the parts of Core's
//! `interfaces::Wallet` c1pzo has. Every method that acts on the wallet
//! can fail (the wallet was unloaded, a bad address, too little money)
//! and says why in Core's words.

use bitcoin::{Amount, Txid};

/// Core's `WalletBalances`, the mine side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalletBalances {
    /// Confirmed, or unconfirmed from this wallet itself.
    pub trusted: Amount,
    /// Unconfirmed from others.
    pub untrusted_pending: Amount,
    /// Coinbase outputs not yet mature.
    pub immature: Amount,
}

pub trait Wallet: Send + Sync {
    fn get_wallet_name(&self) -> String;

    fn get_balances(&self) -> Result<WalletBalances, String>;

    /// A fresh receiving address; `address_type` is one of Core's names
    /// (`legacy`, `p2sh-segwit`, `bech32`, `bech32m`), empty for the
    /// wallet's default.
    fn get_new_address(&self, label: &str, address_type: &str) -> Result<String, String>;

    /// Pays `amount` to `address` with the wallet's fee settings and
    /// hands the transaction to the node.
    fn send_to_address(&self, address: &str, amount: Amount) -> Result<Txid, String>;

    fn is_crypted(&self) -> bool;

    fn is_locked(&self) -> bool;

    /// Forgets the decryption key.
    fn lock(&self) -> Result<(), String>;

    /// Holds the decryption key for `timeout_secs`.
    fn unlock(&self, passphrase: &str, timeout_secs: i64) -> Result<(), String>;
}
