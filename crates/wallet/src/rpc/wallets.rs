//! createwallet, loadwallet, unloadwallet, listwallets, listwalletdir,
//! getwalletinfo.

use interfaces::rpc::params::{optional, required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Value};

use super::{amount, invalid_parameter, Call, WalletMethod};
use crate::manager::wallet_name_from_uri;
use crate::wallet::CreateOptions;

pub static METHODS: &[&WalletMethod] = &[
    &CREATEWALLET,
    &LOADWALLET,
    &UNLOADWALLET,
    &LISTWALLETS,
    &LISTWALLETDIR,
    &GETWALLETINFO,
];

/// `load_on_startup`: true, false, or absent (leave the list alone).
fn load_on_startup(call: &Call, position: usize) -> Option<bool> {
    call.params.get(position).and_then(Value::as_bool)
}

static CREATEWALLET: WalletMethod = WalletMethod {
    name: "createwallet",
    args: &[
        required("wallet_name", Kind::Str, "The name for the new wallet. If this is a path, the wallet will be created at the path location."),
        optional("disable_private_keys", Kind::Bool, "Disable the possibility of private keys (only watchonlys are possible in this mode)."),
        optional("blank", Kind::Bool, "Create a blank wallet. A blank wallet has no keys."),
        optional("passphrase", Kind::Str, "Encrypt the wallet with this passphrase."),
        optional("avoid_reuse", Kind::Bool, "Keep track of coin reuse, and treat dirty and clean coins differently with privacy considerations in mind."),
        optional("descriptors", Kind::Bool, "Create a native descriptor wallet."),
        optional("load_on_startup", Kind::Bool, "Save wallet name to persistent settings and load on startup."),
        optional("external_signer", Kind::Bool, "Use an external signer such as a hardware wallet."),
    ],
    summary: "Creates and loads a new wallet.",
    run: |call| {
        let name = call.params.str(0).unwrap_or_default().to_string();
        let disable_private_keys = call.params.bool_or(1, false);
        let mut warnings = Vec::new();
        let passphrase = match call.params.str(3) {
            Some("") => {
                warnings.push(json!("Empty string given as passphrase, wallet will not be encrypted."));
                None
            }
            other => other.map(str::to_string),
        };
        if passphrase.is_some() && disable_private_keys {
            return Err(RpcError::new(code::WALLET_ERROR, "Passphrase provided but private keys are disabled. A passphrase is only used to encrypt private keys, so cannot be used for wallets with private keys disabled."));
        }
        if !call.params.bool_or(5, true) {
            return Err(RpcError::new(code::WALLET_ERROR, "descriptors argument must be set to \"true\"; it is no longer possible to create a legacy wallet."));
        }
        if call.params.bool_or(7, false) {
            return Err(RpcError::new(code::WALLET_ERROR, "Compiled without external signing support (required for external signing)"));
        }
        let options = CreateOptions {
            disable_private_keys,
            blank: call.params.bool_or(2, false),
            passphrase,
        };
        call.context.create(&name, &options, load_on_startup(call, 6))?;
        let mut result = json!({ "name": name });
        if !warnings.is_empty() {
            result["warnings"] = Value::Array(warnings);
        }
        Ok(result)
    },
};

static LOADWALLET: WalletMethod = WalletMethod {
    name: "loadwallet",
    args: &[
        required("filename", Kind::Str, "The wallet directory or .dat file."),
        optional(
            "load_on_startup",
            Kind::Bool,
            "Save wallet name to persistent settings and load on startup.",
        ),
    ],
    summary: "Loads a wallet from a wallet file or directory.",
    run: |call| {
        let name = call.params.str(0).unwrap_or_default().to_string();
        call.context.load(&name, load_on_startup(call, 1))?;
        Ok(json!({ "name": name }))
    },
};

static UNLOADWALLET: WalletMethod = WalletMethod {
    name: "unloadwallet",
    args: &[
        optional("wallet_name", Kind::Str, "The name of the wallet to unload. If provided both here and in the RPC endpoint, the two must be identical."),
        optional("load_on_startup", Kind::Bool, "Save wallet name to persistent settings and load on startup."),
    ],
    summary: "Unloads the wallet referenced by the request endpoint, otherwise unloads the wallet specified in the argument.",
    run: |call| {
        let from_uri = wallet_name_from_uri(call.uri);
        let name = match (from_uri, call.params.str(0)) {
            (Some(uri), Some(param)) if uri != param => {
                return Err(invalid_parameter("RPC endpoint wallet and wallet_name parameter specify different wallets"))
            }
            (Some(uri), _) => uri,
            (None, Some(param)) => param.to_string(),
            (None, None) => {
                return Err(RpcError::new(code::WALLET_NOT_SPECIFIED, "Either the RPC endpoint wallet or the wallet name parameter must be provided"))
            }
        };
        call.context.unload(&name, load_on_startup(call, 1))?;
        Ok(json!({}))
    },
};

static LISTWALLETS: WalletMethod = WalletMethod {
    name: "listwallets",
    args: &[],
    summary: "Returns a list of currently loaded wallets.",
    run: |call| Ok(json!(call.context.names())),
};

static LISTWALLETDIR: WalletMethod = WalletMethod {
    name: "listwalletdir",
    args: &[],
    summary: "Returns a list of wallets in the wallet directory.",
    run: |call| {
        let wallets: Vec<Value> = call
            .context
            .list_dir()
            .into_iter()
            .map(|name| json!({ "name": name }))
            .collect();
        Ok(json!({ "wallets": wallets }))
    },
};

static GETWALLETINFO: WalletMethod = WalletMethod {
    name: "getwalletinfo",
    args: &[],
    summary: "Returns an object containing various wallet state info.",
    run: |call| {
        let wallet = call.wallet()?;
        let state = wallet.synced();
        let balances = state.balances(0);
        let (mut external, mut internal) = (0u64, 0u64);
        for descriptor in &state.descriptors {
            if let (Some((_, is_internal)), Some((_, end))) =
                (descriptor.record.active, descriptor.record.range)
            {
                let left = u64::from(end.saturating_sub(descriptor.record.next_index));
                if is_internal {
                    internal += left;
                } else {
                    external += left;
                }
            }
        }
        let mut info = json!({
            "walletname": wallet.name,
            "walletversion": crate::wallet::WALLET_VERSION,
            "format": "redb",
            "balance": amount(balances.trusted),
            "unconfirmed_balance": amount(balances.untrusted_pending),
            "immature_balance": amount(balances.immature),
            "txcount": state.txs.len(),
            "keypoolsize": external,
            "keypoolsize_hd_internal": internal,
        });
        if let Some(until) = state.unlocked_until() {
            info["unlocked_until"] = json!(until);
        }
        info["paytxfee"] = amount(bitcoin::Amount::from_sat(state.pay_tx_fee));
        info["private_keys_enabled"] = json!(!state.flags.disable_private_keys);
        info["avoid_reuse"] = json!(state.flags.avoid_reuse);
        info["scanning"] = json!(false);
        info["descriptors"] = json!(true);
        info["external_signer"] = json!(false);
        info["blank"] = json!(state.flags.blank);
        info["birthtime"] = json!(state.birth_time);
        if let Some(best) = state.best_block {
            info["lastprocessedblock"] =
                json!({ "hash": best.hash.to_string(), "height": best.height });
        }
        Ok(info)
    },
};
