//! [`interfaces::Wallet`] for a wallet this context has loaded, as a front
//! end holds it. A handle names its wallet and looks it up on every call,
//! so once the wallet is unloaded the handle fails rather than acting on a
//! copy the node no longer feeds. Actions run through the wallet's own RPC
//! methods, so the GUI and `c1pzo-cli` get the same checks and the same
//! messages.

use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bitcoin::address::NetworkUnchecked;
use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::{Address, Amount, BlockHash, FeeRate, SignedAmount, Transaction, TxOut, Txid};
use interfaces::rpc::amount;
use interfaces::rpc::{code, RpcError, RpcRequest};
use interfaces::{
    CreatedTransaction, Recipient, TxCategory, TxRecord, WalletBalances, WalletTxDetails,
};
use serde_json::{json, Value};

use crate::error::WalletError;
use crate::manager::WalletContext;
use crate::spend::SpendOptions;
use crate::store::Batch;
use crate::wallet::Wallet;

pub struct WalletHandle {
    context: Weak<WalletContext>,
    name: String,
}

impl WalletHandle {
    pub fn new(context: &Arc<WalletContext>, name: String) -> WalletHandle {
        WalletHandle {
            context: Arc::downgrade(context),
            name,
        }
    }

    fn wallet(&self) -> Result<Arc<Wallet>, String> {
        self.context
            .upgrade()
            .and_then(|context| context.get(&self.name))
            .ok_or_else(|| format!("Wallet \"{}\" is not loaded", self.name))
    }

    /// Runs the wallet RPC `method` on this wallet.
    fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        let context = self
            .context
            .upgrade()
            .ok_or_else(|| format!("Wallet \"{}\" is not loaded", self.name))?;
        let request = RpcRequest {
            method: method.to_string(),
            params: Some(params),
            uri: format!("/wallet/{}", url_encode(&self.name)),
            synced: false,
        };
        crate::rpc::call(&context, &request).map_err(|error: RpcError| {
            if error.code == code::WALLET_NOT_FOUND {
                format!("Wallet \"{}\" is not loaded", self.name)
            } else {
                error.message
            }
        })
    }
}

impl interfaces::Wallet for WalletHandle {
    fn get_wallet_name(&self) -> String {
        self.name.clone()
    }

    fn get_balances(&self) -> Result<WalletBalances, String> {
        let wallet = self.wallet()?;
        let balances = wallet.synced().balances(0);
        Ok(WalletBalances {
            trusted: balances.trusted,
            untrusted_pending: balances.untrusted_pending,
            immature: balances.immature,
        })
    }

    fn get_new_address(&self, label: &str, address_type: &str) -> Result<String, String> {
        let params = if address_type.is_empty() {
            json!([label])
        } else {
            json!([label, address_type])
        };
        match self.call("getnewaddress", params)? {
            Value::String(address) => Ok(address),
            other => Err(format!("getnewaddress answered {other}")),
        }
    }

    fn send_to_address(&self, address: &str, amount: Amount) -> Result<Txid, String> {
        let value = amount::to_json(amount);
        let answer = self.call("sendtoaddress", json!([address, value]))?;
        answer
            .as_str()
            .and_then(|txid| Txid::from_str(txid).ok())
            .ok_or_else(|| format!("sendtoaddress answered {answer}"))
    }

    fn is_crypted(&self) -> bool {
        self.wallet()
            .is_ok_and(|wallet| wallet.state().is_encrypted())
    }

    fn is_locked(&self) -> bool {
        self.wallet().is_ok_and(|wallet| {
            let now = wallet.chain.now();
            wallet.state().is_locked(now)
        })
    }

    fn lock(&self) -> Result<(), String> {
        self.call("walletlock", json!([])).map(drop)
    }

    fn unlock(&self, passphrase: &str, timeout_secs: i64) -> Result<(), String> {
        self.call("walletpassphrase", json!([passphrase, timeout_secs]))
            .map(drop)
    }

    fn wait_changed(&self, seen: u64, timeout_ms: i64) -> u64 {
        let timeout = Duration::from_millis(timeout_ms.max(0) as u64);
        match self.wallet() {
            Ok(wallet) => wallet.revision.wait_past(seen, timeout),
            // Unloaded: nothing will change; the caller still waits, so a
            // loop around this does not spin.
            Err(_) => {
                std::thread::sleep(timeout);
                seen
            }
        }
    }

    fn get_transactions(&self) -> Result<Vec<TxRecord>, String> {
        // Every entry, oldest first, watch-only included (Core's GUI
        // shows them too).
        let listed = self.call("listtransactions", json!(["*", i32::MAX, 0, true]))?;
        let entries = listed
            .as_array()
            .ok_or_else(|| format!("listtransactions answered {listed}"))?;
        entries.iter().map(record).collect()
    }

    fn get_transaction(&self, txid: &Txid) -> Result<WalletTxDetails, String> {
        let found = self.call("gettransaction", json!([txid.to_string(), true]))?;
        let tx: Transaction = found["hex"]
            .as_str()
            .and_then(|hex| deserialize_hex(hex).ok())
            .ok_or_else(|| format!("gettransaction answered no transaction for {txid}"))?;
        let fee = found.get("fee").map(sats).transpose()?;
        Ok(WalletTxDetails {
            tx,
            confirmations: found["confirmations"].as_i64().unwrap_or(0),
            block_hash: found["blockhash"]
                .as_str()
                .and_then(|hash| BlockHash::from_str(hash).ok()),
            time: found["time"].as_i64().unwrap_or(0),
            amount: sats(&found["amount"])?,
            fee: fee.map(|fee: SignedAmount| fee.unsigned_abs()),
            abandoned: found["details"]
                .as_array()
                .is_some_and(|details| details.iter().any(|d| d["abandoned"] == json!(true))),
        })
    }

    fn abandon_transaction(&self, txid: &Txid) -> Result<(), String> {
        self.call("abandontransaction", json!([txid.to_string()]))
            .map(drop)
    }

    fn create_transaction(
        &self,
        recipients: &[Recipient],
        fee_rate: Option<FeeRate>,
    ) -> Result<CreatedTransaction, String> {
        let wallet = self.wallet()?;
        let mut outputs = Vec::with_capacity(recipients.len());
        let mut subtract_fee = Vec::new();
        for (index, recipient) in recipients.iter().enumerate() {
            let address = recipient
                .address
                .parse::<Address<NetworkUnchecked>>()
                .ok()
                .and_then(|address| address.require_network(wallet.network).ok())
                .ok_or_else(|| format!("Invalid Bitcoin address: {}", recipient.address))?;
            outputs.push(TxOut {
                value: recipient.amount,
                script_pubkey: address.script_pubkey(),
            });
            if recipient.subtract_fee {
                subtract_fee.push(index);
            }
        }
        let options = SpendOptions {
            // sat/kwu to sat/kvB.
            fee_rate: fee_rate.map(|rate| rate.to_sat_per_kwu() * 4),
            ..SpendOptions::default()
        };
        let now = wallet.chain.now();
        let mut state = wallet.synced();
        if state.flags.disable_private_keys {
            return Err(WalletError::PrivateKeysDisabled.to_string());
        }
        if state.is_locked(now) {
            return Err(WalletError::Locked.to_string());
        }
        let mut batch = Batch::default();
        let funded = wallet
            .fund(&mut state, outputs, subtract_fee, &options, &mut batch)
            .map_err(|e| e.to_string())?;
        let tx = wallet
            .sign_funded(&state, &funded, now)
            .map_err(|e| e.to_string())?;
        // The change address it uses stays handed out.
        wallet.commit_batch(batch).map_err(|e| e.to_string())?;
        Ok(CreatedTransaction {
            tx,
            fee: funded.fee,
        })
    }

    fn commit_transaction(&self, tx: &Transaction) -> Result<Txid, String> {
        let wallet = self.wallet()?;
        let mut state = wallet.synced();
        wallet
            .commit_transaction(&mut state, tx, None, None, Batch::default())
            .map_err(|e| e.to_string())?;
        drop(state);
        // Other wallets of this node have seen it before the call returns.
        wallet.chain.wait_for_notifications();
        Ok(tx.compute_txid())
    }

    fn encrypt_wallet(&self, passphrase: &str) -> Result<(), String> {
        self.call("encryptwallet", json!([passphrase])).map(drop)
    }

    fn change_passphrase(&self, old_passphrase: &str, new_passphrase: &str) -> Result<(), String> {
        self.call(
            "walletpassphrasechange",
            json!([old_passphrase, new_passphrase]),
        )
        .map(drop)
    }

    fn backup_wallet(&self, destination: &str) -> Result<(), String> {
        self.call("backupwallet", json!([destination])).map(drop)
    }
}

/// A JSON amount in BTC (as the RPCs write them, exact decimals) in
/// satoshis.
fn sats(value: &Value) -> Result<SignedAmount, String> {
    if !value.is_number() {
        return Err(format!("expected an amount, found {value}"));
    }
    SignedAmount::from_str_in(&value.to_string(), bitcoin::Denomination::Bitcoin)
        .map_err(|e| format!("amount {value}: {e}"))
}

/// A `listtransactions` entry as a history record.
fn record(entry: &Value) -> Result<TxRecord, String> {
    let text = |key: &str| entry[key].as_str().map(str::to_string);
    let category = match entry["category"].as_str() {
        Some("send") => TxCategory::Send,
        Some("receive") => TxCategory::Receive,
        Some("generate") => TxCategory::Generate,
        Some("immature") => TxCategory::Immature,
        Some("orphan") => TxCategory::Orphan,
        other => return Err(format!("listtransactions gave category {other:?}")),
    };
    Ok(TxRecord {
        txid: text("txid")
            .and_then(|txid| Txid::from_str(&txid).ok())
            .ok_or_else(|| format!("listtransactions gave no txid in {entry}"))?,
        vout: entry["vout"].as_u64().unwrap_or(0) as u32,
        category,
        address: text("address"),
        label: text("label"),
        amount: sats(&entry["amount"])?,
        fee: entry.get("fee").map(sats).transpose()?,
        confirmations: entry["confirmations"].as_i64().unwrap_or(0),
        time: entry["time"].as_i64().unwrap_or(0),
        abandoned: entry["abandoned"].as_bool().unwrap_or(false),
        trusted: entry["confirmations"].as_i64().unwrap_or(0) > 0
            || entry["trusted"].as_bool().unwrap_or(false),
    })
}

/// A wallet name as the path segment `/wallet/<name>` carries it.
fn url_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::wallet_name_from_uri;

    #[test]
    fn names_survive_the_uri_round_trip() {
        for name in ["", "w1", "my wallet/sub", "ünï%code", "a?b#c"] {
            let uri = format!("/wallet/{}", url_encode(name));
            assert_eq!(wallet_name_from_uri(&uri).as_deref(), Some(name));
        }
    }
}
