//! [`interfaces::Wallet`] for a wallet this context has loaded, as a front
//! end holds it. A handle names its wallet and looks it up on every call,
//! so once the wallet is unloaded the handle fails rather than acting on a
//! copy the node no longer feeds. Actions run through the wallet's own RPC
//! methods, so the GUI and `c1pzo-cli` get the same checks and the same
//! messages.

use std::str::FromStr;
use std::sync::{Arc, Weak};

use bitcoin::{Amount, Txid};
use interfaces::rpc::amount;
use interfaces::rpc::{code, RpcError, RpcRequest};
use interfaces::WalletBalances;
use serde_json::{json, Value};

use crate::manager::WalletContext;
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
