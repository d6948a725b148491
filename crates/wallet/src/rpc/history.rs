//! listtransactions, listsinceblock, gettransaction, abandontransaction,
//! rescanblockchain: the wallet's history as Core reports it.

use std::collections::HashSet;

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Amount, OutPoint, SignedAmount, Txid};
use interfaces::rpc::params::{optional, required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Map, Value};

use super::{amount, invalid_parameter, parse_txid, signed, WalletMethod};
use crate::tx::{TxState, WalletTx};
use crate::wallet::{State, Wallet};

pub static METHODS: &[&WalletMethod] = &[
    &LISTTRANSACTIONS,
    &LISTSINCEBLOCK,
    &GETTRANSACTION,
    &ABANDONTRANSACTION,
    &RESCANBLOCKCHAIN,
];

/// Core's `OutputIsChange`: ours, and never handed out as an address
/// (no address-book entry).
fn is_change(wallet: &Wallet, state: &State, script: &bitcoin::Script) -> bool {
    state.is_mine(script)
        && wallet
            .address(script)
            .is_none_or(|a| state.label(&a.to_string()).is_none())
}

/// Core's `WalletTxToJSON`: where the transaction stands.
fn status_fields(state: &State, wtx: &WalletTx, entry: &mut Map<String, Value>) {
    let depth = state.depth(wtx);
    entry.insert("confirmations".into(), json!(depth));
    if wtx.is_coinbase() {
        entry.insert("generated".into(), json!(true));
    }
    if let TxState::Confirmed {
        block_hash,
        height,
        index,
        block_time,
    } = &wtx.state
    {
        entry.insert("blockhash".into(), json!(block_hash.to_string()));
        entry.insert("blockheight".into(), json!(height));
        entry.insert("blockindex".into(), json!(index));
        entry.insert("blocktime".into(), json!(block_time));
    } else {
        entry.insert(
            "trusted".into(),
            json!(state.is_trusted(wtx, &mut HashSet::new())),
        );
    }
    entry.insert("txid".into(), json!(wtx.txid.to_string()));
    entry.insert("wtxid".into(), json!(wtx.tx.compute_wtxid().to_string()));
    let conflicts: Vec<Value> = state
        .conflicts(wtx)
        .iter()
        .map(|t| json!(t.to_string()))
        .collect();
    entry.insert("walletconflicts".into(), Value::Array(conflicts));
    entry.insert("time".into(), json!(wtx.time()));
    entry.insert("timereceived".into(), json!(wtx.time_received));
    if let Some(comment) = &wtx.comment {
        entry.insert("comment".into(), json!(comment));
    }
    if let Some(to) = &wtx.comment_to {
        entry.insert("to".into(), json!(to));
    }
    let replaceable = if depth > 0 {
        "no"
    } else if wtx.tx.input.iter().any(|i| i.sequence.is_rbf()) {
        "yes"
    } else if wtx.state == TxState::InMempool {
        "no"
    } else {
        "unknown"
    };
    entry.insert("bip125-replaceable".into(), json!(replaceable));
}

/// The fee a transaction of ours paid (what our inputs brought in, less
/// all outputs), if it spent our coins.
fn fee_paid(state: &State, wtx: &WalletTx) -> Option<Amount> {
    let debit = state.debit(&wtx.tx);
    if debit == Amount::ZERO {
        return None;
    }
    let out: Amount = wtx.tx.output.iter().map(|o| o.value).sum();
    Some(debit.checked_sub(out).unwrap_or(Amount::ZERO))
}

/// Core's `ListTransactions` for one transaction: a `send` entry per
/// output paid to others (when we paid), a receive-side entry per output
/// paid to us.
fn entries(
    wallet: &Wallet,
    state: &State,
    wtx: &WalletTx,
    with_status: bool,
    include_change: bool,
) -> Vec<Value> {
    let fee = fee_paid(state, wtx);
    let from_me = fee.is_some();
    let mut out = Vec::new();
    let depth = state.depth(wtx);
    // Core lists a transaction's sends first, then what it received; a
    // conflicted transaction received nothing.
    let mut receives = Vec::new();
    for (vout, output) in wtx.tx.output.iter().enumerate() {
        let mine = state.is_mine(&output.script_pubkey);
        if from_me {
            if !include_change && is_change(wallet, state, &output.script_pubkey) {
                continue;
            }
        } else if !mine {
            continue;
        }
        let address = wallet.address(&output.script_pubkey).map(|a| a.to_string());
        let label = address
            .as_deref()
            .and_then(|a| state.label(a))
            .map(str::to_string);
        let mut base = Map::new();
        if let Some(address) = &address {
            base.insert("address".into(), json!(address));
        }
        if from_me {
            let mut entry = base.clone();
            entry.insert("category".into(), json!("send"));
            entry.insert(
                "amount".into(),
                signed(-output.value.to_signed().unwrap_or(SignedAmount::ZERO)),
            );
            if let Some(label) = &label {
                entry.insert("label".into(), json!(label));
            }
            entry.insert("vout".into(), json!(vout));
            entry.insert(
                "fee".into(),
                signed(
                    -fee.unwrap_or(Amount::ZERO)
                        .to_signed()
                        .unwrap_or(SignedAmount::ZERO),
                ),
            );
            if with_status {
                status_fields(state, wtx, &mut entry);
            }
            entry.insert("abandoned".into(), json!(wtx.state.is_abandoned()));
            out.push(Value::Object(entry));
        }
        if mine && depth >= 0 {
            let mut entry = base;
            let category = if wtx.is_coinbase() {
                if depth < 1 {
                    "orphan"
                } else if state.is_immature_coinbase(wtx) {
                    "immature"
                } else {
                    "generate"
                }
            } else {
                "receive"
            };
            entry.insert("category".into(), json!(category));
            entry.insert("amount".into(), amount(output.value));
            if let Some(label) = &label {
                entry.insert("label".into(), json!(label));
            }
            entry.insert("vout".into(), json!(vout));
            if with_status {
                status_fields(state, wtx, &mut entry);
            }
            receives.push(Value::Object(entry));
        }
    }
    out.extend(receives);
    out
}

static LISTTRANSACTIONS: WalletMethod = WalletMethod {
    name: "listtransactions",
    args: &[
        optional("label", Kind::Str, "If set, should be a valid label name to return only incoming transactions with the specified label, or \"*\" to disable filtering and return all transactions."),
        optional("count", Kind::Num, "The number of transactions to return"),
        optional("skip", Kind::Num, "The number of transactions to skip"),
        optional("include_watchonly", Kind::Bool, "Include transactions to watch-only addresses"),
    ],
    summary: "Returns up to 'count' most recent transactions skipping the first 'from' transactions.",
    run: |call| {
        let wallet = call.wallet()?;
        let label = call.params.str(0).unwrap_or("*").to_string();
        let count = call.params.i64_or(1, 10)?;
        let skip = call.params.i64_or(2, 0)?;
        if count < 0 {
            return Err(invalid_parameter("Negative count"));
        }
        if skip < 0 {
            return Err(invalid_parameter("Negative from"));
        }
        let state = wallet.synced();
        // As Core: newest transaction first, each one's entries in order;
        // skip `skip`, take `count`, and hand the window back reversed.
        let mut txs: Vec<&WalletTx> = state.txs.values().collect();
        txs.sort_by_key(|wtx| std::cmp::Reverse(wtx.order));
        let mut newest_first: Vec<Value> = Vec::new();
        for wtx in txs {
            for entry in entries(&wallet, &state, wtx, true, false) {
                let matches = label == "*"
                    || (entry["category"] != "send"
                        && entry.get("label").and_then(Value::as_str) == Some(label.as_str()));
                if matches {
                    newest_first.push(entry);
                }
            }
            if newest_first.len() >= (skip + count) as usize {
                break;
            }
        }
        let mut window: Vec<Value> = newest_first
            .into_iter()
            .skip(skip as usize)
            .take(count as usize)
            .collect();
        window.reverse();
        Ok(Value::Array(window))
    },
};

static LISTSINCEBLOCK: WalletMethod = WalletMethod {
    name: "listsinceblock",
    args: &[
        optional(
            "blockhash",
            Kind::Str,
            "If set, the block hash to list transactions since, otherwise list all transactions.",
        ),
        optional(
            "target_confirmations",
            Kind::Num,
            "Return the nth block hash from the main chain.",
        ),
        optional(
            "include_watchonly",
            Kind::Bool,
            "Include transactions to watch-only addresses",
        ),
        optional(
            "include_removed",
            Kind::Bool,
            "Show transactions that were removed due to a reorg in the \"removed\" array",
        ),
        optional(
            "include_change",
            Kind::Bool,
            "Also add entries for change outputs.",
        ),
        optional(
            "label",
            Kind::Str,
            "Return only incoming transactions paying to addresses with the specified label.",
        ),
    ],
    summary:
        "Get all transactions in blocks since block [blockhash], or all transactions if omitted.",
    run: |call| {
        let wallet = call.wallet()?;
        let target = call.params.i64_or(1, 1)?;
        if target < 1 {
            return Err(invalid_parameter("Invalid parameter"));
        }
        let include_removed = call.params.bool_or(3, true);
        let include_change = call.params.bool_or(4, false);
        let label = call.params.str(5).map(str::to_string);
        let state = wallet.synced();
        let tip_height = state.tip_height();
        // The height above which transactions count, and blocks that left
        // the chain since the one given.
        let mut since_height: Option<u32> = None;
        let mut removed_blocks = Vec::new();
        if let Some(text) = call.params.str(0) {
            let hash: bitcoin::BlockHash = text
                .parse()
                .map_err(|_| RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block not found"))?;
            let mut found = wallet
                .chain
                .find_block(&hash, include_removed)
                .ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block not found"))?;
            while !found.in_active_chain {
                if let Some(data) = found.data.take() {
                    removed_blocks.push(data);
                }
                found = wallet
                    .chain
                    .find_block(&found.prev_hash, include_removed)
                    .ok_or_else(|| {
                        RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block not found")
                    })?;
            }
            since_height = Some(found.height);
        }
        let label_ok = |entry: &Value| match &label {
            None => true,
            Some(label) => entry.get("label").and_then(Value::as_str) == Some(label.as_str()),
        };
        let mut txs: Vec<&WalletTx> = state.txs.values().collect();
        txs.sort_by_key(|wtx| wtx.order);
        let mut transactions = Vec::new();
        for wtx in txs {
            let include = match (&wtx.state, since_height) {
                (_, None) => true,
                (TxState::Confirmed { height, .. }, Some(since))
                | (TxState::Conflicted { height, .. }, Some(since)) => *height > since,
                _ => true,
            };
            if include {
                transactions.extend(
                    entries(&wallet, &state, wtx, true, include_change)
                        .into_iter()
                        .filter(|e| label_ok(e)),
                );
            }
        }
        let mut removed = Vec::new();
        for block in removed_blocks {
            for tx in &block.txdata {
                // Every wallet transaction of a block that left the chain,
                // whatever became of it since (as Core).
                if let Some(wtx) = state.txs.get(&tx.compute_txid()) {
                    removed.extend(
                        entries(&wallet, &state, wtx, true, include_change)
                            .into_iter()
                            .filter(|e| label_ok(e)),
                    );
                }
            }
        }
        let last_height = (i64::from(tip_height) + 1 - target).max(0) as u32;
        let last = wallet
            .chain
            .block_hash(last_height)
            .map(|h| h.to_string())
            .unwrap_or_default();
        let mut result = json!({ "transactions": transactions });
        if include_removed {
            result["removed"] = Value::Array(removed);
        }
        result["lastblock"] = json!(last);
        Ok(result)
    },
};

static GETTRANSACTION: WalletMethod = WalletMethod {
    name: "gettransaction",
    args: &[
        required("txid", Kind::Str, "The transaction id"),
        optional("include_watchonly", Kind::Bool, "Whether to include watch-only addresses in balance calculation and details[]"),
        optional("verbose", Kind::Bool, "Whether to include a `decoded` field containing the decoded transaction (equivalent to RPC decoderawtransaction)"),
    ],
    summary: "Get detailed information about in-wallet transaction <txid>",
    run: |call| {
        let wallet = call.wallet()?;
        let txid = parse_txid(call.params.str(0).unwrap_or_default(), "txid")?;
        let state = wallet.synced();
        let wtx = state.txs.get(&txid).ok_or_else(|| {
            RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id")
        })?;
        // Core values an immature coinbase at nothing until it matures.
        let credit = if state.is_immature_coinbase(wtx) {
            SignedAmount::ZERO
        } else {
            state.credit(&wtx.tx).to_signed().unwrap_or(SignedAmount::ZERO)
        };
        let debit = state.debit(&wtx.tx).to_signed().unwrap_or(SignedAmount::ZERO);
        let fee = fee_paid(&state, wtx);
        let fee_signed = -fee.unwrap_or(Amount::ZERO).to_signed().unwrap_or(SignedAmount::ZERO);
        let mut entry = Map::new();
        entry.insert("amount".into(), signed(credit - debit - fee_signed));
        if fee.is_some() {
            entry.insert("fee".into(), signed(fee_signed));
        }
        status_fields(&state, wtx, &mut entry);
        let details: Vec<Value> = entries(&wallet, &state, wtx, false, false);
        entry.insert("details".into(), Value::Array(details));
        entry.insert("hex".into(), json!(serialize_hex(&wtx.tx)));
        if call.params.bool_or(2, false) {
            entry.insert("decoded".into(), decode(&wtx.tx));
        }
        Ok(Value::Object(entry))
    },
};

/// A short decoding (txid, sizes, inputs, outputs) for `verbose`.
fn decode(tx: &bitcoin::Transaction) -> Value {
    json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": tx.input.iter().map(|i| json!({
            "txid": i.previous_output.txid.to_string(),
            "vout": i.previous_output.vout,
            "sequence": i.sequence.0,
        })).collect::<Vec<_>>(),
        "vout": tx.output.iter().enumerate().map(|(n, o)| json!({
            "value": amount(o.value),
            "n": n,
            "scriptPubKey": { "hex": hex::encode(o.script_pubkey.as_bytes()) },
        })).collect::<Vec<_>>(),
    })
}

static ABANDONTRANSACTION: WalletMethod = WalletMethod {
    name: "abandontransaction",
    args: &[required("txid", Kind::Str, "The transaction id")],
    summary: "Mark in-wallet transaction <txid> as abandoned",
    run: |call| {
        let wallet = call.wallet()?;
        let txid = parse_txid(call.params.str(0).unwrap_or_default(), "txid")?;
        let mut state = wallet.synced();
        let wtx = state.txs.get(&txid).ok_or_else(|| {
            RpcError::new(
                code::INVALID_ADDRESS_OR_KEY,
                "Invalid or non-wallet transaction id",
            )
        })?;
        if state.depth(wtx) != 0 || wallet.chain.is_in_mempool(&txid) {
            return Err(RpcError::new(
                code::INVALID_ADDRESS_OR_KEY,
                "Transaction not eligible for abandonment",
            ));
        }
        wallet
            .commit_with(&mut state, |state, batch| {
                // The transaction and every wallet descendant.
                let mut stack = vec![txid];
                let mut done: HashSet<Txid> = HashSet::new();
                while let Some(txid) = stack.pop() {
                    if !done.insert(txid) {
                        continue;
                    }
                    let Some(wtx) = state.txs.get(&txid) else {
                        continue;
                    };
                    if state.depth(wtx) != 0 {
                        continue;
                    }
                    let outputs = wtx.tx.output.len() as u32;
                    let children: Vec<Txid> = (0..outputs)
                        .flat_map(|vout| state.spenders(&OutPoint { txid, vout }))
                        .collect();
                    stack.extend(children);
                    let wtx = state.txs.get_mut(&txid).expect("present");
                    wtx.state = TxState::Inactive { abandoned: true };
                    batch.tx(&txid.to_string(), &wtx.to_stored());
                }
                Ok(())
            })
            .map_err(super::rpc_error)?;
        Ok(Value::Null)
    },
};

static RESCANBLOCKCHAIN: WalletMethod = WalletMethod {
    name: "rescanblockchain",
    args: &[
        optional("start_height", Kind::Num, "block height where the rescan should start"),
        optional("stop_height", Kind::Num, "the last block height that should be scanned. If none is provided it will rescan up to the tip at return time of this call."),
    ],
    summary: "Rescan the local blockchain for wallet related transactions.",
    run: |call| {
        let wallet = call.wallet()?;
        let tip = wallet.chain.tip().height;
        let start = call.params.i64_or(0, 0)?;
        if start < 0 || start > i64::from(tip) {
            return Err(invalid_parameter("Invalid start_height"));
        }
        let stop = match call.params.get(1) {
            None => None,
            Some(_) => {
                let stop = call.params.i64_or(1, 0)?;
                if stop < start || stop > i64::from(tip) {
                    return Err(invalid_parameter("Invalid stop_height"));
                }
                Some(stop as u32)
            }
        };
        drop(wallet.synced());
        let last = wallet
            .rescan(start as u32, stop)
            .map_err(super::rpc_error)?;
        Ok(json!({
            "start_height": start,
            "stop_height": last.map_or(start, |b| i64::from(b.height)),
        }))
    },
};
