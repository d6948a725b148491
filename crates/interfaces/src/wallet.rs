//! One loaded wallet as a front end uses it: the parts of Core's
//! `interfaces::Wallet` c1pzo has. Every method that acts on the wallet
//! can fail (the wallet was unloaded, a bad address, too little money)
//! and says why in Core's words.

use bitcoin::{Amount, BlockHash, FeeRate, SignedAmount, Transaction, Txid};

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

/// What a history entry records (Core's `listtransactions` categories).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxCategory {
    Send,
    Receive,
    /// A mature coinbase output.
    Generate,
    Immature,
    /// A coinbase whose block left the chain.
    Orphan,
}

/// One entry of the wallet's history: one output of one transaction, as
/// `listtransactions` lists them (a payment's `Send` entries carry the
/// whole fee).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    pub txid: Txid,
    pub vout: u32,
    pub category: TxCategory,
    pub address: Option<String>,
    pub label: Option<String>,
    /// Negative for sends.
    pub amount: SignedAmount,
    /// Negative; on sends only.
    pub fee: Option<SignedAmount>,
    /// Negative when conflicted.
    pub confirmations: i64,
    pub time: i64,
    pub abandoned: bool,
    /// Confirmed, or unconfirmed but spending only our own coins.
    pub trusted: bool,
}

/// One transaction of the wallet, whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletTxDetails {
    pub tx: Transaction,
    pub confirmations: i64,
    pub block_hash: Option<BlockHash>,
    pub time: i64,
    /// What the wallet gained (negative: paid).
    pub amount: SignedAmount,
    /// When the wallet paid the fee.
    pub fee: Option<Amount>,
    pub abandoned: bool,
}

/// One output of a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub address: String,
    pub amount: Amount,
    /// The fee comes out of this output's amount.
    pub subtract_fee: bool,
}

/// A signed payment not yet handed to the node: what the confirmation
/// dialog shows, then exactly what [`Wallet::commit_transaction`] sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedTransaction {
    pub tx: Transaction,
    pub fee: Amount,
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

    /// Blocks until the wallet changed after revision `seen` (a
    /// transaction added or updated, a block connected, its lock state)
    /// or `timeout_ms` pass, and returns the revision now: a front end's
    /// notification of wallet changes that works the same across a
    /// process boundary.
    fn wait_changed(&self, seen: u64, timeout_ms: i64) -> u64;

    /// The whole history, oldest first.
    fn get_transactions(&self) -> Result<Vec<TxRecord>, String>;

    fn get_transaction(&self, txid: &Txid) -> Result<WalletTxDetails, String>;

    /// Marks an unconfirmed transaction not in the mempool as abandoned,
    /// freeing its inputs.
    fn abandon_transaction(&self, txid: &Txid) -> Result<(), String>;

    /// Funds and signs a payment to `recipients` (at `fee_rate`, or the
    /// wallet's own choice) without sending it.
    fn create_transaction(
        &self,
        recipients: &[Recipient],
        fee_rate: Option<FeeRate>,
    ) -> Result<CreatedTransaction, String>;

    /// Records `tx` in the wallet and hands it to the node.
    fn commit_transaction(&self, tx: &Transaction) -> Result<Txid, String>;

    fn encrypt_wallet(&self, passphrase: &str) -> Result<(), String>;

    fn change_passphrase(&self, old_passphrase: &str, new_passphrase: &str) -> Result<(), String>;

    /// Copies the wallet file to `destination` (a path on the wallet's
    /// machine).
    fn backup_wallet(&self, destination: &str) -> Result<(), String>;
}
