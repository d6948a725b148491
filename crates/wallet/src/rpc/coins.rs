//! getbalance, getbalances, getreceivedbyaddress, listunspent,
//! lockunspent, listlockunspent.

use std::collections::HashSet;

use bitcoin::{Amount, OutPoint};
use interfaces::rpc::params::{optional, required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Value};

use super::{amount, invalid_parameter, parse_address, WalletMethod};

pub static METHODS: &[&WalletMethod] = &[
    &GETBALANCE,
    &GETBALANCES,
    &GETRECEIVEDBYADDRESS,
    &LISTUNSPENT,
    &LOCKUNSPENT,
    &LISTLOCKUNSPENT,
];

static GETBALANCE: WalletMethod = WalletMethod {
    name: "getbalance",
    args: &[
        optional("dummy", Kind::Str, "Remains for backward compatibility. Must be excluded or set to \"*\"."),
        optional("minconf", Kind::Num, "Only include transactions confirmed at least this many times."),
        optional("include_watchonly", Kind::Bool, "Also include balance in watch-only addresses"),
        optional("avoid_reuse", Kind::Bool, "Do not include balance in dirty outputs; addresses are considered dirty if they have previously been used in a transaction."),
    ],
    summary: "Returns the total available balance.",
    run: |call| {
        let wallet = call.wallet()?;
        if call.params.str(0).is_some_and(|d| d != "*") {
            return Err(RpcError::new(-32, "dummy first argument must be excluded or set to \"*\"."));
        }
        let min_depth = call.params.i64_or(1, 0)?;
        let state = wallet.synced();
        Ok(amount(state.balances(min_depth).trusted))
    },
};

static GETBALANCES: WalletMethod = WalletMethod {
    name: "getbalances",
    args: &[],
    summary: "Returns an object with all balances in BTC.",
    run: |call| {
        let wallet = call.wallet()?;
        let state = wallet.synced();
        let balances = state.balances(0);
        let mut result = json!({
            "mine": {
                "trusted": amount(balances.trusted),
                "untrusted_pending": amount(balances.untrusted_pending),
                "immature": amount(balances.immature),
            }
        });
        if let Some(best) = state.best_block {
            result["lastprocessedblock"] =
                json!({ "hash": best.hash.to_string(), "height": best.height });
        }
        Ok(result)
    },
};

static GETRECEIVEDBYADDRESS: WalletMethod = WalletMethod {
    name: "getreceivedbyaddress",
    args: &[
        required("address", Kind::Str, "The bitcoin address for transactions."),
        optional("minconf", Kind::Num, "Only include transactions confirmed at least this many times."),
        optional("include_immature_coinbase", Kind::Bool, "Include immature coinbase transactions."),
    ],
    summary: "Returns the total amount received by the given address in transactions with at least minconf confirmations.",
    run: |call| {
        let wallet = call.wallet()?;
        let address = parse_address(&wallet, call.params.str(0).unwrap_or_default(), "Invalid Bitcoin address")?;
        let min_depth = call.params.i64_or(1, 1)?;
        let include_immature = call.params.bool_or(2, false);
        let state = wallet.synced();
        let script = address.script_pubkey();
        if !state.is_mine(&script) {
            return Err(RpcError::new(code::WALLET_ERROR, "Address not found in wallet"));
        }
        let mut total = Amount::ZERO;
        for wtx in state.txs.values() {
            if wtx.is_coinbase() && !include_immature && state.is_immature_coinbase(wtx) {
                continue;
            }
            if state.depth(wtx) < min_depth {
                continue;
            }
            total += wtx
                .tx
                .output
                .iter()
                .filter(|o| o.script_pubkey == script)
                .map(|o| o.value)
                .sum::<Amount>();
        }
        Ok(amount(total))
    },
};

static LISTUNSPENT: WalletMethod = WalletMethod {
    name: "listunspent",
    args: &[
        optional("minconf", Kind::Num, "The minimum confirmations to filter"),
        optional("maxconf", Kind::Num, "The maximum confirmations to filter"),
        optional("addresses", Kind::Arr, "The bitcoin addresses to filter"),
        optional("include_unsafe", Kind::Bool, "Include outputs that are not safe to spend"),
        optional("query_options", Kind::Obj, "JSON with query options"),
    ],
    summary: "Returns array of unspent transaction outputs with between minconf and maxconf (inclusive) confirmations.",
    run: |call| {
        let wallet = call.wallet()?;
        let min_depth = call.params.i64_or(0, 1)?;
        let max_depth = call.params.i64_or(1, 9_999_999)?;
        let include_unsafe = call.params.bool_or(3, true);
        let mut only = HashSet::new();
        if let Some(Value::Array(list)) = call.params.get(2) {
            for entry in list {
                let text = entry.as_str().unwrap_or_default();
                let address = parse_address(&wallet, text, &format!("Invalid Bitcoin address: {text}"))?;
                if !only.insert(address.script_pubkey()) {
                    return Err(invalid_parameter(format!("Invalid parameter, duplicated address: {text}")));
                }
            }
        }
        let options = call.params.get(4).cloned().unwrap_or(json!({}));
        let minimum = options.get("minimumAmount").map(interfaces::rpc::amount::parse).transpose()?.unwrap_or(0);
        let maximum = options.get("maximumAmount").map(interfaces::rpc::amount::parse).transpose()?;
        let state = wallet.synced();
        let mut coins = state.spendable();
        coins.sort_by_key(|c| c.outpoint);
        let mut out = Vec::new();
        for coin in coins {
            if coin.depth < min_depth || coin.depth > max_depth {
                continue;
            }
            if !coin.safe && !include_unsafe {
                continue;
            }
            if !only.is_empty() && !only.contains(&coin.output.script_pubkey) {
                continue;
            }
            let value = coin.output.value.to_sat();
            if value < minimum || maximum.is_some_and(|m| value > m) {
                continue;
            }
            let descriptor = &state.descriptors[coin.origin.0];
            let mut entry = json!({
                "txid": coin.outpoint.txid.to_string(),
                "vout": coin.outpoint.vout,
            });
            if let Some(address) = wallet.address(&coin.output.script_pubkey) {
                let text = address.to_string();
                entry["address"] = json!(text);
                if let Some(label) = state.label(&text) {
                    entry["label"] = json!(label);
                }
            }
            entry["scriptPubKey"] = json!(hex::encode(coin.output.script_pubkey.as_bytes()));
            entry["amount"] = amount(coin.output.value);
            entry["confirmations"] = json!(coin.depth);
            if let Ok(definite) = descriptor.descriptor.at_derivation_index(coin.origin.1) {
                entry["spendable"] = json!(state.has_private_keys());
                entry["solvable"] = json!(true);
                entry["desc"] = json!(definite.to_string());
            }
            entry["parent_descs"] = json!([descriptor.record.descriptor]);
            entry["safe"] = json!(coin.safe);
            out.push(entry);
        }
        Ok(Value::Array(out))
    },
};

fn parse_outpoints(value: &Value) -> Result<Vec<OutPoint>, RpcError> {
    let Value::Array(list) = value else {
        return Err(RpcError::new(code::TYPE_ERROR, "Expected type array"));
    };
    super::parse_outpoints(list)
}

static LOCKUNSPENT: WalletMethod = WalletMethod {
    name: "lockunspent",
    args: &[
        required("unlock", Kind::Bool, "Whether to unlock (true) or lock (false) the specified transactions"),
        optional("transactions", Kind::Arr, "The transaction outputs and within each, the txid (string) vout (numeric)."),
        optional("persistent", Kind::Bool, "Whether to write/erase this lock in the wallet database, or keep the change in memory only."),
    ],
    summary: "Updates list of temporarily unspendable outputs.",
    run: |call| {
        let wallet = call.wallet()?;
        let unlock = call.params.bool_or(0, false);
        let persistent = call.params.bool_or(2, false);
        let mut state = wallet.synced();
        let Some(list) = call.params.get(1) else {
            if unlock {
                state.locked_coins.clear();
                state.persistent_locks.clear();
                save_locks(&wallet, &mut state)?;
            }
            return Ok(json!(true));
        };
        let outpoints = parse_outpoints(list)?;
        // Every entry is checked before any lock changes.
        for outpoint in &outpoints {
            let wtx = state
                .txs
                .get(&outpoint.txid)
                .ok_or_else(|| invalid_parameter("Invalid parameter, unknown transaction"))?;
            if outpoint.vout as usize >= wtx.tx.output.len() {
                return Err(invalid_parameter("Invalid parameter, vout index out of bounds"));
            }
            if state.is_spent(outpoint) {
                return Err(invalid_parameter("Invalid parameter, expected unspent output"));
            }
            let locked = state.locked_coins.contains(outpoint);
            if unlock && !locked {
                return Err(invalid_parameter("Invalid parameter, expected locked output"));
            }
            if !unlock && locked && !persistent {
                return Err(invalid_parameter("Invalid parameter, output already locked"));
            }
        }
        for outpoint in outpoints {
            if unlock {
                state.locked_coins.remove(&outpoint);
                state.persistent_locks.remove(&outpoint);
            } else {
                state.locked_coins.insert(outpoint);
                if persistent {
                    state.persistent_locks.insert(outpoint);
                }
            }
        }
        save_locks(&wallet, &mut state)?;
        Ok(json!(true))
    },
};

/// Writes the persistent locks (`lockunspent ... persistent=true`).
fn save_locks(wallet: &crate::Wallet, state: &mut crate::wallet::State) -> Result<(), RpcError> {
    let mut locks: Vec<OutPoint> = state.persistent_locks.iter().copied().collect();
    locks.sort();
    wallet
        .commit_with(state, |_, batch| {
            batch.meta("locked_coins", &locks);
            Ok(())
        })
        .map_err(super::rpc_error)
}

static LISTLOCKUNSPENT: WalletMethod = WalletMethod {
    name: "listlockunspent",
    args: &[],
    summary: "Returns list of temporarily unspendable outputs.",
    run: |call| {
        let wallet = call.wallet()?;
        let state = wallet.synced();
        let mut locked: Vec<&OutPoint> = state.locked_coins.iter().collect();
        locked.sort();
        Ok(Value::Array(
            locked
                .into_iter()
                .map(|o| json!({ "txid": o.txid.to_string(), "vout": o.vout }))
                .collect(),
        ))
    },
};
