//! Chain queries and block-index changes: getblockcount, getbestblockhash,
//! getblockhash, getblock, getblockheader, getblockchaininfo, getchaintips,
//! getdifficulty, gettxout, invalidateblock, reconsiderblock,
//! waitfornewblock, waitforblockheight.

use std::str::FromStr;

use bitcoin::{BlockHash, OutPoint, Txid};
use serde_json::{json, Value};

use super::encode;
use super::error::{code, RpcError};
use super::params::{optional, required, Kind, Params};
use super::table::Method;
use crate::context::Node;

pub static METHODS: &[&Method] = &[
    &GETBESTBLOCKHASH,
    &GETBLOCK,
    &GETBLOCKCHAININFO,
    &GETBLOCKCOUNT,
    &GETBLOCKHASH,
    &GETBLOCKHEADER,
    &GETCHAINTIPS,
    &GETDIFFICULTY,
    &GETTXOUT,
    &GETTXOUTSETINFO,
    &INVALIDATEBLOCK,
    &RECONSIDERBLOCK,
    &WAITFORBLOCKHEIGHT,
    &WAITFORNEWBLOCK,
];

/// A 64-hex-digit hash parameter, with Core's errors.
pub fn parse_hash<T: FromStr>(value: &str, name: &str) -> Result<T, RpcError> {
    if value.len() != 64 {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            format!(
                "{name} must be of length 64 (not {}, for '{value}')",
                value.len()
            ),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            format!("{name} must be hexadecimal string (not '{value}')"),
        ));
    }
    value.parse().map_err(|_| {
        RpcError::new(
            code::INVALID_PARAMETER,
            format!("{name} must be hexadecimal string (not '{value}')"),
        )
    })
}

fn not_found() -> RpcError {
    RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block not found")
}

pub(super) fn db(error: impl std::fmt::Display) -> RpcError {
    RpcError::new(code::DATABASE_ERROR, error.to_string())
}

static GETBLOCKCOUNT: Method = Method {
    name: "getblockcount",
    category: "blockchain",
    args: &[],
    summary: "Returns the height of the most-work fully-validated chain.",
    handler: |node, _| Ok(json!(node.chain().height())),
};

static GETBESTBLOCKHASH: Method = Method {
    name: "getbestblockhash",
    category: "blockchain",
    args: &[],
    summary: "Returns the hash of the best (tip) block in the most-work fully-validated chain.",
    handler: |node, _| Ok(json!(node.chain().tip().to_string())),
};

static GETBLOCKHASH: Method = Method {
    name: "getblockhash",
    category: "blockchain",
    args: &[required("height", Kind::Num, "The height index")],
    summary: "Returns hash of block in best-block-chain at height provided.",
    handler: |node, params| {
        let height = params.i64_or(0, 0)?;
        let chain = node.chain();
        if height < 0 || height > i64::from(chain.height()) {
            return Err(RpcError::new(
                code::INVALID_PARAMETER,
                "Block height out of range",
            ));
        }
        Ok(json!(chain
            .block_hash(height as u32)
            .expect("in range")
            .to_string()))
    },
};

/// Header JSON for `hash` (its confirmations count from the active tip).
fn header_json(node: &Node, hash: &BlockHash) -> Result<serde_json::Map<String, Value>, RpcError> {
    let chain = node.chain();
    let entry = chain.entry(hash).ok_or_else(not_found)?;
    let active = chain.is_active(hash);
    let confirmations = if active {
        i64::from(chain.height()) - i64::from(entry.height) + 1
    } else {
        -1
    };
    let next = if active {
        chain.block_hash(entry.height + 1)
    } else {
        None
    };
    Ok(encode::header_fields(
        &entry.header,
        entry.height,
        confirmations,
        chain.median_time_past(hash),
        &entry.chain_work,
        next,
    ))
}

static GETBLOCKHEADER: Method = Method {
    name: "getblockheader",
    category: "blockchain",
    args: &[
        required("blockhash", Kind::Str, "The block hash"),
        optional("verbose", Kind::Bool, "true for a json object, false for the hex-encoded data"),
    ],
    summary: "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'. If verbose is true, returns an Object with information about blockheader <hash>.",
    handler: |node, params| {
        let hash: BlockHash = parse_hash(params.str(0).unwrap_or_default(), "hash")?;
        if !params.bool_or(1, true) {
            let chain = node.chain();
            let entry = chain.entry(&hash).ok_or_else(not_found)?;
            return Ok(json!(hex::encode(bitcoin::consensus::encode::serialize(&entry.header))));
        }
        let mut object = header_json(node, &hash)?;
        // nTx is known only with the block's data, which the index keeps.
        let block = node.chain().block(&hash).map_err(db)?;
        object.insert("nTx".into(), json!(block.map(|b| b.txdata.len()).unwrap_or(0)));
        Ok(Value::Object(object))
    },
};

static GETBLOCK: Method = Method {
    name: "getblock",
    category: "blockchain",
    args: &[
        required("blockhash", Kind::Str, "The block hash"),
        optional("verbosity", Kind::Any, "0 for hex-encoded data, 1 for a JSON object, 2 for JSON object with transaction data, 3 for JSON object with transaction data including prevout information for inputs"),
    ],
    summary: "Returns the block with the given hash: hex, or JSON with increasing detail.",
    handler: |node, params| {
        let hash: BlockHash = parse_hash(params.str(0).unwrap_or_default(), "blockhash")?;
        let verbosity = match params.get(1) {
            None => 1,
            Some(Value::Bool(verbose)) => i64::from(*verbose),
            Some(_) => params.i64_or(1, 1)?,
        };
        let block = node.chain().block(&hash).map_err(db)?.ok_or_else(not_found)?;
        if verbosity <= 0 {
            return Ok(json!(hex::encode(bitcoin::consensus::encode::serialize(&block))));
        }
        let mut object = header_json(node, &hash)?;
        object.insert("nTx".into(), json!(block.txdata.len()));
        let (stripped, size, weight) = encode::block_sizes(&block);
        object.insert("strippedsize".into(), json!(stripped));
        object.insert("size".into(), json!(size));
        object.insert("weight".into(), json!(weight));
        // Verbosity 2 and 3 add fees and (3) each input's prevout, from
        // the block's undo data: the coins it spent, in input order.
        let undo = if verbosity >= 2 {
            node.chain().undo(&hash).map_err(db)?
        } else {
            None
        };
        let mut spent = undo.map(|u| u.spent.into_iter());
        let txs: Vec<Value> = block
            .txdata
            .iter()
            .map(|tx| {
                if verbosity == 1 {
                    return json!(tx.compute_txid().to_string());
                }
                let mut decoded = encode::transaction(tx, node.network);
                if let (Some(spent), false) = (spent.as_mut(), tx.is_coinbase()) {
                    let coins: Vec<_> = spent.by_ref().take(tx.input.len()).collect();
                    let value_in: u64 = coins.iter().map(|(_, c)| c.output.value.to_sat()).sum();
                    let value_out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
                    if verbosity >= 3 {
                        for (i, (_, coin)) in coins.iter().enumerate() {
                            decoded["vin"][i]["prevout"] = json!({
                                "generated": coin.is_coinbase,
                                "height": coin.height,
                                "value": encode::amount(coin.output.value),
                                "scriptPubKey": encode::script_pubkey(&coin.output.script_pubkey, node.network),
                            });
                        }
                    }
                    decoded["fee"] = encode::amount(bitcoin::Amount::from_sat(value_in.saturating_sub(value_out)));
                }
                decoded["hex"] = json!(hex::encode(bitcoin::consensus::encode::serialize(tx)));
                decoded
            })
            .collect();
        // Core lists tx before the header's trailing fields; order kept.
        object.insert("tx".into(), json!(txs));
        Ok(Value::Object(object))
    },
};

static GETBLOCKCHAININFO: Method = Method {
    name: "getblockchaininfo",
    category: "blockchain",
    args: &[],
    summary: "Returns an object containing various state info regarding blockchain processing.",
    handler: |node, _| {
        let chain = node.chain();
        let tip = chain.tip();
        let entry = chain.tip_entry();
        Ok(json!({
            "chain": node.chain_name,
            "blocks": entry.height,
            "headers": entry.height,
            "bestblockhash": tip.to_string(),
            "bits": format!("{:08x}", entry.header.bits.to_consensus()),
            "target": hex::encode(entry.header.target().to_be_bytes()),
            "difficulty": encode::double(encode::difficulty(entry.header.bits)),
            "time": entry.header.time,
            "mediantime": chain.median_time_past(&tip),
            "verificationprogress": 1,
            "initialblockdownload": entry.height == 0,
            "chainwork": hex::encode(entry.chain_work.to_be_bytes()),
            "size_on_disk": 0,
            "pruned": false,
            "warnings": [],
        }))
    },
};

static GETCHAINTIPS: Method = Method {
    name: "getchaintips",
    category: "blockchain",
    args: &[],
    summary: "Return information about all known tips in the block tree, including the main chain as well as orphaned branches.",
    handler: |node, _| {
        let chain = node.chain();
        let mut has_child = std::collections::HashSet::new();
        for (_, entry) in chain.entries() {
            has_child.insert(entry.header.prev_blockhash);
        }
        let mut tips: Vec<(u32, Value)> = Vec::new();
        for (hash, entry) in chain.entries() {
            if has_child.contains(hash) && *hash != chain.tip() {
                continue;
            }
            // Branch length: steps back to the active chain.
            let mut branch = 0;
            let mut cursor = *hash;
            let mut invalid = false;
            while !chain.is_active(&cursor) {
                let e = chain.entry(&cursor).expect("indexed");
                invalid |= e.status == chain::store::BlockStatus::Invalid;
                branch += 1;
                cursor = e.header.prev_blockhash;
            }
            // Connected once (it has undo data): fully validated, Core's
            // "valid-fork"; otherwise only its header chain is known good.
            let connected = chain.undo(hash).ok().flatten().is_some();
            let status = if branch == 0 {
                "active"
            } else if invalid {
                "invalid"
            } else if connected {
                "valid-fork"
            } else {
                "valid-headers"
            };
            tips.push((entry.height, json!({
                "height": entry.height,
                "hash": hash.to_string(),
                "branchlen": branch,
                "status": status,
            })));
        }
        tips.sort_by_key(|tip| std::cmp::Reverse(tip.0));
        Ok(Value::Array(tips.into_iter().map(|(_, v)| v).collect()))
    },
};

static GETDIFFICULTY: Method = Method {
    name: "getdifficulty",
    category: "blockchain",
    args: &[],
    summary: "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.",
    handler: |node, _| {
        Ok(encode::double(encode::difficulty(
            node.chain().tip_entry().header.bits,
        )))
    },
};

static GETTXOUT: Method = Method {
    name: "gettxout",
    category: "blockchain",
    args: &[
        required("txid", Kind::Str, "The transaction id"),
        required("n", Kind::Num, "vout number"),
        optional(
            "include_mempool",
            Kind::Bool,
            "Whether to include the mempool",
        ),
    ],
    summary: "Returns details about an unspent transaction output.",
    handler: |node, params| {
        let txid: Txid = parse_hash(params.str(0).unwrap_or_default(), "txid")?;
        let vout = params.i64_or(1, 0)?;
        if vout < 0 {
            return Err(RpcError::new(
                code::INVALID_PARAMETER,
                "Invalid parameter, vout cannot be negative",
            ));
        }
        if vout > i64::from(u32::MAX) {
            return Err(RpcError::new(code::TYPE_ERROR, "JSON integer out of range"));
        }
        let outpoint = OutPoint {
            txid,
            vout: vout as u32,
        };
        let include_mempool = params.bool_or(2, true);
        let chain = node.chain();
        if include_mempool {
            let mempool = node.mempool();
            // Spent by a waiting transaction: gone, as far as Core says.
            if mempool.spender(&outpoint).is_some() {
                return Ok(Value::Null);
            }
            if let Some(entry) = mempool.get(&txid) {
                let Some(output) = entry.tx.output.get(outpoint.vout as usize) else {
                    return Ok(Value::Null);
                };
                return Ok(json!({
                    "bestblock": chain.tip().to_string(),
                    "confirmations": 0,
                    "value": encode::amount(output.value),
                    "scriptPubKey": encode::script_pubkey(&output.script_pubkey, node.network),
                    "coinbase": false,
                }));
            }
        }
        let coin = chain.coin(&outpoint).map_err(db)?;
        let Some(coin) = coin else {
            return Ok(Value::Null);
        };
        Ok(json!({
            "bestblock": chain.tip().to_string(),
            "confirmations": chain.height() - coin.height + 1,
            "value": encode::amount(coin.output.value),
            "scriptPubKey": encode::script_pubkey(&coin.output.script_pubkey, node.network),
            "coinbase": coin.is_coinbase,
        }))
    },
};

static INVALIDATEBLOCK: Method = Method {
    name: "invalidateblock",
    category: "blockchain",
    args: &[required(
        "blockhash",
        Kind::Str,
        "the hash of the block to mark as invalid",
    )],
    summary: "Permanently marks a block as invalid, as if it violated a consensus rule.",
    handler: |node, params| {
        let hash: BlockHash = parse_hash(params.str(0).unwrap_or_default(), "blockhash")?;
        node.change_chain(|chain| {
            if chain.entry(&hash).is_none() {
                return Err(not_found());
            }
            chain.invalidate_block(&hash).map_err(db)
        })?;
        Ok(Value::Null)
    },
};

static RECONSIDERBLOCK: Method = Method {
    name: "reconsiderblock",
    category: "blockchain",
    args: &[required("blockhash", Kind::Str, "the hash of the block to reconsider")],
    summary: "Removes invalidity status of a block, its ancestors and its descendants, reconsider them for activation.",
    handler: |node, params| {
        let hash: BlockHash = parse_hash(params.str(0).unwrap_or_default(), "blockhash")?;
        node.change_chain(|chain| {
            if chain.entry(&hash).is_none() {
                return Err(not_found());
            }
            chain.reconsider_block(&hash).map_err(db)
        })?;
        Ok(Value::Null)
    },
};

fn tip_json(node: &Node) -> Value {
    let chain = node.chain();
    json!({ "hash": chain.tip().to_string(), "height": chain.height() })
}

fn timeout(params: &Params, position: usize) -> Result<Option<std::time::Duration>, RpcError> {
    let ms = params.i64_or(position, 0)?;
    if ms < 0 {
        return Err(RpcError::new(code::INVALID_PARAMETER, "Negative timeout"));
    }
    Ok((ms > 0).then(|| std::time::Duration::from_millis(ms as u64)))
}

static WAITFORNEWBLOCK: Method = Method {
    name: "waitfornewblock",
    category: "blockchain",
    args: &[optional(
        "timeout",
        Kind::Num,
        "Time in milliseconds to wait for a response. 0 indicates no timeout.",
    )],
    summary: "Waits for any new block and returns useful info about it.",
    handler: |node, params| {
        let start = node.chain().tip();
        node.wait_for_tip(timeout(params, 0)?, |n| n.chain().tip() != start);
        Ok(tip_json(node))
    },
};

static WAITFORBLOCKHEIGHT: Method = Method {
    name: "waitforblockheight",
    category: "blockchain",
    args: &[
        required("height", Kind::Num, "Block height to wait for."),
        optional(
            "timeout",
            Kind::Num,
            "Time in milliseconds to wait for a response. 0 indicates no timeout.",
        ),
    ],
    summary:
        "Waits for (at least) block height and returns the height and hash of the current tip.",
    handler: |node, params| {
        let height = params.i64_or(0, 0)?;
        node.wait_for_tip(timeout(params, 1)?, |n| {
            i64::from(n.chain().height()) >= height
        });
        Ok(tip_json(node))
    },
};

static GETTXOUTSETINFO: Method = Method {
    name: "gettxoutsetinfo",
    category: "blockchain",
    args: &[
        optional("hash_type", Kind::Str, "Which UTXO set hash should be calculated. Options: 'hash_serialized_3' (the legacy algorithm), 'none'."),
    ],
    summary: "Returns statistics about the unspent transaction output set.",
    handler: |node, params| {
        let hash_type = params.str(0).unwrap_or("hash_serialized_3");
        if hash_type != "hash_serialized_3" && hash_type != "none" {
            return Err(RpcError::new(code::INVALID_PARAMETER, format!("'{hash_type}' is not a valid hash_type")));
        }
        let chain = node.chain();
        let mut coins = Vec::new();
        chain.for_each_coin(|outpoint, coin| coins.push((outpoint, coin))).map_err(db)?;
        // Core walks its database in key order: txid bytes, then vout.
        coins.sort_by(|a, b| {
            use bitcoin::hashes::Hash;
            (a.0.txid.as_byte_array(), a.0.vout).cmp(&(b.0.txid.as_byte_array(), b.0.vout))
        });
        let mut engine = <bitcoin::hashes::sha256d::Hash as bitcoin::hashes::Hash>::engine();
        let mut total = 0u64;
        let mut bogosize = 0u64;
        let mut transactions = std::collections::HashSet::new();
        for (outpoint, coin) in &coins {
            use bitcoin::consensus::Encodable;
            // TxOutSer: outpoint, height*2 + coinbase, the output.
            outpoint.consensus_encode(&mut engine).expect("engines do not fail");
            let code = (coin.height << 1) + u32::from(coin.is_coinbase);
            code.consensus_encode(&mut engine).expect("engines do not fail");
            coin.output.consensus_encode(&mut engine).expect("engines do not fail");
            total += coin.output.value.to_sat();
            bogosize += 50 + coin.output.script_pubkey.len() as u64;
            transactions.insert(outpoint.txid);
        }
        let mut result = json!({
            "height": chain.height(),
            "bestblock": chain.tip().to_string(),
            "txouts": coins.len(),
            "bogosize": bogosize,
        });
        if hash_type == "hash_serialized_3" {
            use bitcoin::hashes::Hash;
            let hash = bitcoin::hashes::sha256d::Hash::from_engine(engine);
            // Shown as Core shows uint256s: byte-reversed hex.
            let mut bytes = hash.to_byte_array();
            bytes.reverse();
            result["hash_serialized_3"] = json!(hex::encode(bytes));
        }
        result["total_amount"] = encode::amount(bitcoin::Amount::from_sat(total));
        result["transactions"] = json!(transactions.len());
        result["disk_size"] = json!(0);
        Ok(result)
    },
};
