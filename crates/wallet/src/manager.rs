//! The loaded wallets, by name (Core's `WalletContext`): create, load and
//! unload, which wallet a request at `/wallet/<name>` means, and the
//! `wallet` list in the node's settings that `load_on_startup` edits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bitcoin::Network;
use interfaces::rpc::{code, RpcError};
use interfaces::{Chain, Handler};
use serde_json::Value;

use crate::store;
use crate::wallet::{CreateOptions, Wallet};

pub struct WalletContext {
    pub chain: Arc<dyn Chain>,
    pub wallet_dir: PathBuf,
    pub network: Network,
    pub fallback_fee: Option<u64>,
    wallets: Mutex<BTreeMap<String, Arc<Wallet>>>,
    rpc_handlers: Mutex<Vec<Box<dyn Handler>>>,
    /// This context, for the RPC actors it hands out (they hold it weakly).
    me: std::sync::Weak<WalletContext>,
}

impl WalletContext {
    pub fn new(
        chain: Arc<dyn Chain>,
        wallet_dir: PathBuf,
        network: Network,
        fallback_fee: Option<u64>,
    ) -> Arc<WalletContext> {
        Arc::new_cyclic(|me| WalletContext {
            chain,
            wallet_dir,
            network,
            fallback_fee,
            wallets: Mutex::default(),
            rpc_handlers: Mutex::default(),
            me: me.clone(),
        })
    }

    /// Adds the wallet RPCs to the node's server.
    pub fn register_rpcs(&self) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        let handlers = crate::rpc::register(&me);
        self.rpc_handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(handlers);
    }

    /// Where the wallet called `name` lives: `<walletdir>/<name>/`, the
    /// wallet directory itself for the default wallet `""`.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.wallet_dir.join(name)
    }

    fn loaded(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Wallet>>> {
        self.wallets.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, name: &str) -> Option<Arc<Wallet>> {
        self.loaded().get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.loaded().keys().cloned().collect()
    }

    /// The wallet a request means: the one named in `/wallet/<name>`, or
    /// the only one loaded.
    pub fn for_request(&self, uri: &str) -> Result<Arc<Wallet>, RpcError> {
        if let Some(name) = wallet_name_from_uri(uri) {
            return self.get(&name).ok_or_else(|| {
                RpcError::new(
                    code::WALLET_NOT_FOUND,
                    "Requested wallet does not exist or is not loaded",
                )
            });
        }
        let wallets = self.loaded();
        match wallets.len() {
            1 => Ok(wallets.values().next().cloned().expect("one wallet")),
            0 => Err(RpcError::new(
                code::WALLET_NOT_FOUND,
                "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. (Note: A default wallet is no longer automatically created)",
            )),
            _ => Err(RpcError::new(
                code::WALLET_NOT_SPECIFIED,
                "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
            )),
        }
    }

    pub fn create(
        &self,
        name: &str,
        options: &CreateOptions,
        load_on_startup: Option<bool>,
    ) -> Result<Arc<Wallet>, RpcError> {
        let dir = self.path_of(name);
        let file = dir.join(store::FILE_NAME);
        if file.exists() || self.get(name).is_some() {
            return Err(RpcError::new(
                code::WALLET_ERROR,
                format!(
                    "Wallet file verification failed. Failed to create database path '{}'. Database already exists.",
                    dir.display()
                ),
            ));
        }
        let wallet = Wallet::create(
            self.chain.clone(),
            &dir,
            name,
            self.network,
            options,
            self.fallback_fee,
        )
        .map_err(|e| RpcError::new(code::WALLET_ERROR, e.to_string()))?;
        self.add(wallet.clone())?;
        self.update_startup_list(name, load_on_startup);
        Ok(wallet)
    }

    pub fn load(&self, name: &str, load_on_startup: Option<bool>) -> Result<Arc<Wallet>, RpcError> {
        if self.get(name).is_some() {
            return Err(RpcError::new(
                code::WALLET_ALREADY_LOADED,
                format!("Wallet \"{name}\" is already loaded."),
            ));
        }
        let dir = self.path_of(name);
        if !dir.join(store::FILE_NAME).exists() {
            return Err(RpcError::new(
                code::WALLET_NOT_FOUND,
                format!(
                    "Wallet file verification failed. Failed to load database path '{}'. Path does not exist.",
                    dir.display()
                ),
            ));
        }
        let wallet = Wallet::open(
            self.chain.clone(),
            &dir,
            name,
            self.network,
            self.fallback_fee,
        )
        .map_err(|e| RpcError::new(code::WALLET_ERROR, format!("Wallet loading failed. {e}")))?;
        self.add(wallet.clone())?;
        self.update_startup_list(name, load_on_startup);
        Ok(wallet)
    }

    fn add(&self, wallet: Arc<Wallet>) -> Result<(), RpcError> {
        wallet
            .attach()
            .map_err(|e| RpcError::new(code::WALLET_ERROR, e.to_string()))?;
        wallet.log(format_args!("Wallet completed loading"));
        self.loaded().insert(wallet.name.clone(), wallet);
        Ok(())
    }

    pub fn unload(&self, name: &str, load_on_startup: Option<bool>) -> Result<(), RpcError> {
        let wallet = self.loaded().remove(name).ok_or_else(|| {
            RpcError::new(
                code::WALLET_NOT_FOUND,
                "Requested wallet does not exist or is not loaded",
            )
        })?;
        wallet.detach();
        self.update_startup_list(name, load_on_startup);
        Ok(())
    }

    /// Loads the wallets `-wallet` names and those settings.json lists.
    pub fn load_at_startup(&self, from_args: &[String]) -> Result<(), String> {
        let mut names: Vec<String> = from_args.to_vec();
        if let Some(Value::Array(listed)) = self.chain.setting("wallet") {
            names.extend(listed.iter().filter_map(|v| v.as_str().map(str::to_string)));
        }
        let mut seen = std::collections::HashSet::new();
        for name in names {
            if !seen.insert(name.clone()) {
                continue;
            }
            self.chain.init_message(&format!("Loading wallet {name}…"));
            self.load(&name, None).map_err(|e| e.message)?;
        }
        Ok(())
    }

    /// Unloads every wallet (shutdown).
    pub fn stop(&self) {
        let wallets: Vec<Arc<Wallet>> = std::mem::take(&mut *self.loaded()).into_values().collect();
        for wallet in wallets {
            wallet.detach();
        }
        self.rpc_handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn update_startup_list(&self, name: &str, load_on_startup: Option<bool>) {
        let Some(load) = load_on_startup else {
            return;
        };
        let mut list: Vec<Value> = match self.chain.setting("wallet") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        list.retain(|v| v.as_str() != Some(name));
        if load {
            list.push(Value::String(name.to_string()));
        }
        if let Err(error) = self
            .chain
            .update_setting("wallet", Some(Value::Array(list)))
        {
            self.chain.init_warning(&error);
        }
    }

    /// Wallet directories under the wallet dir (listwalletdir).
    pub fn list_dir(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.wallet_dir.join(store::FILE_NAME).exists() {
            out.push(String::new());
        }
        collect_wallets(&self.wallet_dir, &self.wallet_dir, &mut out);
        out.sort();
        out
    }
}

fn collect_wallets(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.join(store::FILE_NAME).exists() {
                if let Ok(relative) = path.strip_prefix(root) {
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
            collect_wallets(root, &path, out);
        }
    }
}

/// The wallet name in `/wallet/<url-encoded name>`.
pub fn wallet_name_from_uri(uri: &str) -> Option<String> {
    let encoded = uri.strip_prefix("/wallet/")?;
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&encoded[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

impl WalletContext {
    /// A context configured by the node's options, as a wallet process
    /// makes it from the `Chain` it was handed: `-walletdir` (already
    /// resolved by the node), `-fallbackfee` (sat/kvB) and the chain.
    pub fn from_node_args(chain: Arc<dyn Chain>) -> Result<Arc<WalletContext>, String> {
        let first = |name: &str| chain.get_args(name).into_iter().next();
        let wallet_dir = first("walletdir").ok_or("the node named no wallet directory")?;
        let network = match first("chain").as_deref() {
            Some("regtest") => Network::Regtest,
            Some("signet") => Network::Signet,
            Some("test") | Some("testnet") => Network::Testnet,
            Some("main") => Network::Bitcoin,
            other => return Err(format!("unknown chain {other:?}")),
        };
        let fallback_fee = first("fallbackfee").and_then(|fee| fee.parse().ok());
        Ok(WalletContext::new(
            chain,
            PathBuf::from(wallet_dir),
            network,
            fallback_fee,
        ))
    }
}

impl interfaces::WalletLoader for WalletContext {
    fn register_rpcs(&self) {
        WalletContext::register_rpcs(self);
    }

    fn load_wallets(&self, names: &[String]) -> Result<(), String> {
        self.load_at_startup(names)
    }

    fn stop(&self) {
        WalletContext::stop(self);
    }

    fn get_wallets(&self) -> Vec<Arc<dyn interfaces::Wallet>> {
        let Some(me) = self.me.upgrade() else {
            return Vec::new();
        };
        self.names()
            .into_iter()
            .map(|name| {
                Arc::new(crate::handle::WalletHandle::new(&me, name)) as Arc<dyn interfaces::Wallet>
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_names_are_url_decoded_from_the_path() {
        assert_eq!(wallet_name_from_uri("/"), None);
        assert_eq!(wallet_name_from_uri("/wallet/").as_deref(), Some(""));
        assert_eq!(wallet_name_from_uri("/wallet/w1").as_deref(), Some("w1"));
        assert_eq!(
            wallet_name_from_uri("/wallet/my%20wallet%2Fsub").as_deref(),
            Some("my wallet/sub")
        );
        assert_eq!(
            wallet_name_from_uri("/wallet/100%").as_deref(),
            Some("100%")
        );
    }
}
