//! Transactions and the mempool: sendrawtransaction, testmempoolaccept,
//! getrawtransaction, decoderawtransaction, decodescript,
//! createrawtransaction, getmempoolinfo, getrawmempool, getmempoolentry.

use std::str::FromStr;

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::{
    Amount, BlockHash, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use serde_json::{json, Map, Value};

use super::blockchain::{db, parse_hash};
use super::encode;
use super::error::{code, RpcError};
use super::params::{optional, required, Kind, Params};
use super::table::Method;
use crate::context::Node;
use crate::mempool::{Entry, RejectKind, DEFAULT_MAX_FEERATE};

pub static METHODS: &[&Method] = &[
    &CREATERAWTRANSACTION,
    &DECODERAWTRANSACTION,
    &DECODESCRIPT,
    &GETMEMPOOLENTRY,
    &GETMEMPOOLINFO,
    &GETRAWMEMPOOL,
    &GETRAWTRANSACTION,
    &SENDRAWTRANSACTION,
    &TESTMEMPOOLACCEPT,
];

fn decode_tx(hex_text: &str) -> Result<Transaction, RpcError> {
    let bytes = hex::decode(hex_text)
        .map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, "TX decode failed"))?;
    deserialize(&bytes).map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, "TX decode failed"))
}

/// A fee rate given in BTC/kvB, as sat/kvB.
/// An amount in BTC (number or string), as satoshis.
fn amount_param(params: &Params, position: usize, default: u64) -> Result<u64, RpcError> {
    match params.get(position) {
        None => Ok(default),
        Some(value) => btc_amount(value),
    }
}

pub use interfaces::rpc::amount::parse as btc_amount;

/// A fee rate in BTC/kvB, as sat/kvB, with Core's upper bound.
fn feerate(params: &Params, position: usize, default: u64) -> Result<u64, RpcError> {
    let rate = amount_param(params, position, default)?;
    if rate >= 100_000_000 {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            "Fee rates larger than or equal to 1BTC/kvB are not accepted",
        ));
    }
    Ok(rate)
}

static SENDRAWTRANSACTION: Method = Method {
    name: "sendrawtransaction",
    category: "rawtransactions",
    args: &[
        required("hexstring", Kind::Str, "The hex string of the raw transaction"),
        optional("maxfeerate", Kind::NumOrStr, "Reject transactions whose fee rate is higher than the specified value, expressed in BTC/kvB. Set to 0 to accept any fee rate."),
        optional("maxburnamount", Kind::NumOrStr, "Reject transactions with provably unspendable outputs worth more than this, in BTC."),
    ],
    summary: "Submit a raw transaction (serialized, hex-encoded) to local node and network.",
    handler: |node, params| {
        let tx = decode_tx(params.str(0).unwrap_or_default())?;
        let max_feerate = feerate(params, 1, DEFAULT_MAX_FEERATE)?;
        let max_burn = amount_param(params, 2, 0)?;
        let burned = tx
            .output
            .iter()
            .filter(|o| o.script_pubkey.is_op_return())
            .fold(0u64, |sum, o| sum.saturating_add(o.value.to_sat()));
        if burned > max_burn {
            return Err(RpcError::new(code::VERIFY_ERROR, "Unspendable output exceeds maximum configured by user (maxburnamount)"));
        }
        let txid = tx.compute_txid();
        let result = node.submit_transaction(tx, max_feerate);
        match result {
            Ok(accepted) => {
                // As Core does for transactions from outside the wallet:
                // wallets have seen it before the call returns.
                node.notifier.sync();
                Ok(json!(accepted.txid.to_string()))
            }
            Err(rejection) => match rejection.kind {
                RejectKind::AlreadyInMempool => Ok(json!(txid.to_string())),
                RejectKind::AlreadyInChain => Err(RpcError::new(code::VERIFY_ALREADY_IN_CHAIN, "Transaction outputs already in utxo set")),
                RejectKind::MissingInputs => Err(RpcError::new(code::VERIFY_ERROR, "bad-txns-inputs-missingorspent")),
                RejectKind::MaxFeeExceeded => Err(RpcError::new(code::VERIFY_ERROR, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")),
                RejectKind::Invalid => Err(RpcError::new(code::VERIFY_REJECTED, rejection.reason)),
            },
        }
    },
};

static TESTMEMPOOLACCEPT: Method = Method {
    name: "testmempoolaccept",
    category: "rawtransactions",
    args: &[
        required("rawtxs", Kind::Arr, "An array of hex strings of raw transactions."),
        optional("maxfeerate", Kind::NumOrStr, "Reject transactions whose fee rate is higher than the specified value, expressed in BTC/kvB."),
    ],
    summary: "Returns result of mempool acceptance tests indicating if raw transaction(s) would be accepted by mempool.",
    handler: |node, params| {
        let raw = params.get(0).and_then(Value::as_array).cloned().unwrap_or_default();
        if raw.is_empty() || raw.len() > 25 {
            return Err(RpcError::new(code::INVALID_PARAMETER, "Array must contain between 1 and 25 transactions."));
        }
        let max_feerate = feerate(params, 1, DEFAULT_MAX_FEERATE)?;
        let mut results = Vec::new();
        let chain = node.chain();
        for item in raw {
            let tx = decode_tx(item.as_str().unwrap_or_default())?;
            let (txid, wtxid) = (tx.compute_txid(), tx.compute_wtxid());
            let outcome = node.mempool().accept(&chain, tx, node.now(), max_feerate, true);
            let mut result = json!({ "txid": txid.to_string(), "wtxid": wtxid.to_string() });
            match outcome {
                Ok(accepted) => {
                    result["allowed"] = json!(true);
                    result["vsize"] = json!(accepted.vsize);
                    result["fees"] = json!({
                        "base": encode::amount(accepted.fee),
                        "effective-feerate": encode::amount(Amount::from_sat(accepted.fee.to_sat() * 1000 / accepted.vsize.max(1))),
                        "effective-includes": [wtxid.to_string()],
                    });
                }
                Err(rejection) => {
                    result["allowed"] = json!(false);
                    let reason = match rejection.kind {
                        RejectKind::MaxFeeExceeded => "max-fee-exceeded".to_string(),
                        _ => rejection.reason,
                    };
                    result["reject-reason"] = json!(reason);
                }
            }
            results.push(result);
        }
        Ok(Value::Array(results))
    },
};

/// Where a confirmed transaction sits: block hash, height, block time.
type BlockPlace = (BlockHash, u32, u32);

fn tx_json(node: &Node, tx: &Transaction, block: Option<BlockPlace>) -> Value {
    let mut object = encode::transaction(tx, node.network);
    object["hex"] = json!(hex::encode(serialize(tx)));
    if let Some((hash, height, time)) = block {
        let chain = node.chain();
        object["blockhash"] = json!(hash.to_string());
        object["confirmations"] = json!(if chain.is_active(&hash) {
            chain.height() - height + 1
        } else {
            0
        });
        object["time"] = json!(time);
        object["blocktime"] = json!(time);
    }
    object
}

static GETRAWTRANSACTION: Method = Method {
    name: "getrawtransaction",
    category: "rawtransactions",
    args: &[
        required("txid", Kind::Str, "The transaction id"),
        optional("verbosity", Kind::Any, "0 for hex-encoded data, 1 for a JSON object"),
        optional("blockhash", Kind::Str, "The block in which to look for the transaction"),
    ],
    summary: "Return the raw transaction data, from the mempool, a given block, or (with -txindex) any block.",
    handler: |node, params| {
        let txid: Txid = parse_hash(params.str(0).unwrap_or_default(), "parameter 1")?;
        let verbose = match params.get(1) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => params.i64_or(1, 0)? != 0,
        };
        let block_hash: Option<BlockHash> = match params.str(2) {
            Some(text) => Some(parse_hash(text, "parameter 3")?),
            None => None,
        };
        let found: Option<(Transaction, Option<BlockPlace>)> = match block_hash {
            Some(hash) => {
                let chain = node.chain();
                let entry = chain.entry(&hash).ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block hash not found"))?.clone();
                let block = chain.block(&hash).map_err(db)?;
                block.and_then(|b| b.txdata.into_iter().find(|tx| tx.compute_txid() == txid)).map(|tx| (tx, Some((hash, entry.height, entry.header.time))))
            }
            None => {
                let in_pool = node.mempool().get(&txid).map(|e| e.tx.clone());
                match in_pool {
                    Some(tx) => Some((tx, None)),
                    None if node.txindex => {
                        let chain = node.chain();
                        let hash = chain.tx_block(&txid).map_err(db)?;
                        match hash {
                            Some(hash) => {
                                let entry = chain.entry(&hash).cloned();
                                let block = chain.block(&hash).map_err(db)?;
                                block.and_then(|b| b.txdata.into_iter().find(|tx| tx.compute_txid() == txid)).zip(entry).map(|(tx, entry)| (tx, Some((hash, entry.height, entry.header.time))))
                            }
                            None => None,
                        }
                    }
                    None => None,
                }
            }
        };
        let Some((tx, block)) = found else {
            let message = if block_hash.is_some() {
                "No such transaction found in the provided block. Use gettransaction for wallet transactions."
            } else if node.txindex {
                "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."
            } else {
                "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions."
            };
            return Err(RpcError::new(code::INVALID_ADDRESS_OR_KEY, message));
        };
        if !verbose {
            return Ok(json!(hex::encode(serialize(&tx))));
        }
        let mut object = tx_json(node, &tx, block);
        if let Some(hash) = block_hash {
            object["in_active_chain"] = json!(node.chain().is_active(&hash));
        }
        Ok(object)
    },
};

static DECODERAWTRANSACTION: Method = Method {
    name: "decoderawtransaction",
    category: "rawtransactions",
    args: &[
        required("hexstring", Kind::Str, "The transaction hex string"),
        optional(
            "iswitness",
            Kind::Bool,
            "Whether the transaction hex is a serialized witness transaction.",
        ),
    ],
    summary: "Return a JSON object representing the serialized, hex-encoded transaction.",
    handler: |node, params| {
        let tx = decode_tx(params.str(0).unwrap_or_default())?;
        Ok(encode::transaction(&tx, node.network))
    },
};

static DECODESCRIPT: Method = Method {
    name: "decodescript",
    category: "rawtransactions",
    args: &[required("hexstring", Kind::Str, "the hex-encoded script")],
    summary: "Decode a hex-encoded script.",
    handler: |node, params| {
        let bytes = hex::decode(params.str(0).unwrap_or_default())
            .map_err(|_| RpcError::new(code::TYPE_ERROR, "argument must be hexadecimal string"))?;
        let script = ScriptBuf::from_bytes(bytes);
        let mut object = Map::new();
        object.insert("asm".into(), json!(encode::asm(&script)));
        object.insert(
            "desc".into(),
            json!(encode::descriptor(&script, node.network)),
        );
        object.insert("type".into(), json!(encode::script_type(&script)));
        if let Ok(address) = bitcoin::Address::from_script(&script, node.network) {
            object.insert("address".into(), json!(address.to_string()));
        }
        if !script.is_p2sh() && !script.is_op_return() {
            let p2sh = ScriptBuf::new_p2sh(&script.script_hash());
            if let Ok(address) = bitcoin::Address::from_script(&p2sh, node.network) {
                object.insert("p2sh".into(), json!(address.to_string()));
            }
        }
        Ok(Value::Object(object))
    },
};

static CREATERAWTRANSACTION: Method = Method {
    name: "createrawtransaction",
    category: "rawtransactions",
    args: &[
        required("inputs", Kind::Arr, "The inputs: [{\"txid\": hex, \"vout\": n, \"sequence\": n}, ...]"),
        required("outputs", Kind::Any, "The outputs: [{\"address\": amount}, {\"data\": \"hex\"}, ...]"),
        optional("locktime", Kind::Num, "Raw locktime. Non-0 value also locktime-activates inputs"),
        optional("replaceable", Kind::Bool, "Marks this transaction as BIP125-replaceable."),
        optional("version", Kind::Num, "Transaction version"),
    ],
    summary: "Create a transaction spending the given inputs and creating new outputs. Returns hex-encoded raw transaction.",
    handler: |node, params| {
        let locktime = params.i64_or(2, 0)?;
        if !(0..=i64::from(u32::MAX)).contains(&locktime) {
            return Err(RpcError::new(code::INVALID_PARAMETER, "Invalid parameter, locktime out of range"));
        }
        let replaceable = params.bool_or(3, true);
        let version = params.i64_or(4, 2)?;
        let default_sequence = if replaceable {
            Sequence::ENABLE_RBF_NO_LOCKTIME
        } else if locktime != 0 {
            Sequence::ENABLE_LOCKTIME_NO_RBF
        } else {
            Sequence::MAX
        };
        let mut input = Vec::new();
        for item in params.get(0).and_then(Value::as_array).cloned().unwrap_or_default() {
            let txid: Txid = parse_hash(item["txid"].as_str().unwrap_or_default(), "txid")?;
            let vout = item["vout"].as_i64().ok_or_else(|| RpcError::new(code::INVALID_PARAMETER, "Invalid parameter, missing vout key"))?;
            if vout < 0 || vout > i64::from(u32::MAX) {
                return Err(RpcError::new(code::INVALID_PARAMETER, "Invalid parameter, vout cannot be negative"));
            }
            let sequence = match item.get("sequence") {
                None => default_sequence,
                Some(value) => value
                    .as_u64()
                    .and_then(|s| u32::try_from(s).ok())
                    .map(Sequence)
                    .ok_or_else(|| RpcError::new(code::INVALID_PARAMETER, "Invalid parameter, sequence number is out of range"))?,
            };
            input.push(TxIn { previous_output: OutPoint { txid, vout: vout as u32 }, script_sig: ScriptBuf::new(), sequence, witness: Witness::new() });
        }
        let outputs: Vec<(String, Value)> = match params.get(1) {
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect(),
            _ => return Err(RpcError::new(code::INVALID_PARAMETER, "Invalid parameter, output argument must be non-null")),
        };
        let mut output = Vec::new();
        for (key, value) in outputs {
            if key == "data" {
                let data = hex::decode(value.as_str().unwrap_or_default()).map_err(|_| RpcError::new(code::INVALID_PARAMETER, "Data must be hexadecimal string"))?;
                let push = bitcoin::script::PushBytesBuf::try_from(data).map_err(|_| RpcError::new(code::INVALID_PARAMETER, "Data too long"))?;
                output.push(TxOut { value: Amount::ZERO, script_pubkey: ScriptBuf::new_op_return(push) });
                continue;
            }
            let address = bitcoin::Address::from_str(&key)
                .ok()
                .and_then(|a| a.require_network(node.network).ok())
                .ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, format!("Invalid Bitcoin address: {key}")))?;
            let amount = Amount::from_sat(btc_amount(&value)?);
            output.push(TxOut { value: amount, script_pubkey: address.script_pubkey() });
        }
        let tx = Transaction {
            version: bitcoin::transaction::Version(version as i32),
            lock_time: LockTime::from_consensus(locktime as u32),
            input,
            output,
        };
        Ok(json!(hex::encode(serialize(&tx))))
    },
};

fn entry_json(node: &Node, entry: &Entry) -> Value {
    let mempool = node.mempool();
    let depends: Vec<String> = mempool
        .parents(&entry.txid)
        .iter()
        .map(Txid::to_string)
        .collect();
    let spent_by: Vec<String> = mempool
        .children(&entry.txid)
        .iter()
        .map(Txid::to_string)
        .collect();
    json!({
        "vsize": entry.vsize,
        "weight": entry.weight.to_wu(),
        "time": entry.time,
        "height": entry.height,
        "descendantcount": 1 + spent_by.len(),
        "descendantsize": entry.vsize,
        "ancestorcount": 1 + depends.len(),
        "ancestorsize": entry.vsize,
        "wtxid": entry.wtxid.to_string(),
        "fees": {
            "base": encode::amount(entry.fee),
            "modified": encode::amount(entry.fee),
            "ancestor": encode::amount(entry.fee),
            "descendant": encode::amount(entry.fee),
        },
        "depends": depends,
        "spentby": spent_by,
        "bip125-replaceable": entry.tx.input.iter().any(|i| i.sequence.is_rbf()),
        "unbroadcast": false,
    })
}

static GETMEMPOOLINFO: Method = Method {
    name: "getmempoolinfo",
    category: "blockchain",
    args: &[],
    summary: "Returns details on the active state of the TX memory pool.",
    handler: |node, _| {
        let mempool = node.mempool();
        let bytes: u64 = mempool.entries().map(|e| e.vsize).sum();
        let fees = mempool.entries().map(|e| e.fee).sum::<Amount>();
        Ok(json!({
            "loaded": true,
            "size": mempool.len(),
            "bytes": bytes,
            "usage": bytes * 4,
            "total_fee": encode::amount(fees),
            "maxmempool": 300_000_000u64,
            "mempoolminfee": encode::amount(Amount::from_sat(crate::mempool::MIN_RELAY_FEERATE)),
            "minrelaytxfee": encode::amount(Amount::from_sat(crate::mempool::MIN_RELAY_FEERATE)),
            "incrementalrelayfee": encode::amount(Amount::from_sat(1000)),
            "unbroadcastcount": 0,
            "fullrbf": true,
        }))
    },
};

static GETRAWMEMPOOL: Method = Method {
    name: "getrawmempool",
    category: "blockchain",
    args: &[
        optional("verbose", Kind::Bool, "True for a json object, false for array of transaction ids"),
        optional("mempool_sequence", Kind::Bool, "If verbose=false, returns a json object with transaction list and mempool sequence number attached."),
    ],
    summary: "Returns all transaction ids in memory pool as a json array of string transaction ids.",
    handler: |node, params| {
        let entries: Vec<Entry> = node.mempool().entries().cloned().collect();
        if params.bool_or(0, false) {
            let mut object = Map::new();
            for entry in &entries {
                object.insert(entry.txid.to_string(), entry_json(node, entry));
            }
            return Ok(Value::Object(object));
        }
        Ok(json!(entries.iter().map(|e| e.txid.to_string()).collect::<Vec<_>>()))
    },
};

static GETMEMPOOLENTRY: Method = Method {
    name: "getmempoolentry",
    category: "blockchain",
    args: &[required(
        "txid",
        Kind::Str,
        "The transaction id (must be in mempool)",
    )],
    summary: "Returns mempool data for given transaction.",
    handler: |node, params| {
        let txid: Txid = parse_hash(params.str(0).unwrap_or_default(), "txid")?;
        let entry = node.mempool().get(&txid).cloned();
        let entry = entry.ok_or_else(|| {
            RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
        })?;
        Ok(entry_json(node, &entry))
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_core_reads_them() {
        let sats = |text: &str| btc_amount(&serde_json::from_str(text).unwrap());
        assert_eq!(sats("1"), Ok(100_000_000));
        assert_eq!(sats("0.00000001"), Ok(1));
        assert_eq!(sats("1E-8"), Ok(1));
        assert_eq!(sats("1.5e2"), Ok(15_000_000_000));
        assert_eq!(sats("\"0.1\""), Ok(10_000_000));
        assert_eq!(sats("21000000"), Ok(2_100_000_000_000_000));
        assert_eq!(sats("0.000000001").unwrap_err().message, "Invalid amount");
        assert_eq!(sats("-1").unwrap_err().message, "Amount out of range");
        assert_eq!(
            sats("21000000.00000001").unwrap_err().message,
            "Amount out of range"
        );
        assert_eq!(
            sats("true").unwrap_err().message,
            "Amount is not a number or string"
        );
    }
}
