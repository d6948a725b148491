//! generatetoaddress, getmininginfo, submitblock.

use std::str::FromStr;

use bitcoin::Address;
use serde_json::{json, Value};

use super::encode;
use super::error::{code, RpcError};
use super::params::{optional, required, Kind};
use super::table::Method;
use crate::context::Node;

pub static METHODS: &[&Method] = &[
    &GENERATEBLOCK,
    &GENERATETOADDRESS,
    &GENERATETODESCRIPTOR,
    &GETBLOCKTEMPLATE,
    &GETMININGINFO,
    &SUBMITBLOCK,
];

/// An address for this node's chain, with Core's error otherwise.
pub fn parse_address(node: &Node, text: &str) -> Result<Address, RpcError> {
    Address::from_str(text)
        .ok()
        .and_then(|a| a.require_network(node.network).ok())
        .ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Error: Invalid address"))
}

static GENERATETOADDRESS: Method = Method {
    name: "generatetoaddress",
    category: "generating",
    args: &[
        required("nblocks", Kind::Num, "How many blocks are generated."),
        required(
            "address",
            Kind::Str,
            "The address to send the newly generated bitcoin to.",
        ),
        optional("maxtries", Kind::Num, "How many iterations to try."),
    ],
    summary: "Mine to a specified address and return the block hashes.",
    handler: |node, params| {
        let address = parse_address(node, params.str(1).unwrap_or_default())?;
        mined(node, &address.script_pubkey(), params.i64_or(0, 0)?)
    },
};

static GETMININGINFO: Method = Method {
    name: "getmininginfo",
    category: "mining",
    args: &[],
    summary: "Returns a json object containing mining-related information.",
    handler: |node, _| {
        let chain = node.chain();
        let entry = chain.tip_entry();
        Ok(json!({
            "blocks": entry.height,
            "bits": format!("{:08x}", entry.header.bits.to_consensus()),
            "difficulty": encode::double(encode::difficulty(entry.header.bits)),
            "target": hex::encode(entry.header.target().to_be_bytes()),
            "networkhashps": 0,
            "pooledtx": node.mempool().len(),
            "chain": node.chain_name,
            "warnings": [],
        }))
    },
};

static SUBMITBLOCK: Method = Method {
    name: "submitblock",
    category: "mining",
    args: &[
        required("hexdata", Kind::Str, "the hex-encoded block data to submit"),
        optional(
            "dummy",
            Kind::Any,
            "dummy value, for compatibility with BIP22. This value is ignored.",
        ),
    ],
    summary: "Attempts to submit new block to network.",
    handler: |node, params| {
        let bytes = hex::decode(params.str(0).unwrap_or_default())
            .map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, "Block decode failed"))?;
        let block: bitcoin::Block = bitcoin::consensus::encode::deserialize(&bytes)
            .map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, "Block decode failed"))?;
        if block.txdata.first().is_none_or(|tx| !tx.is_coinbase()) {
            return Err(RpcError::new(
                code::DESERIALIZATION_ERROR,
                "Block does not start with a coinbase",
            ));
        }
        let result = node.change_chain(|chain| chain.process_block(&block, node.now()));
        match result {
            Ok(chain::BlockOutcome::NewTip) => Ok(Value::Null),
            // Valid, but not (yet) on the best chain: BIP22's answer.
            Ok(chain::BlockOutcome::SideBranch) => Ok(json!("inconclusive")),
            // BIP22 answers: "duplicate", "inconclusive", or the reason.
            Err(chain::BlockError::Duplicate) => Ok(json!("duplicate")),
            Err(chain::BlockError::DuplicateInvalid) => Ok(json!("duplicate-invalid")),
            Err(chain::BlockError::PrevNotFound) => Ok(json!("prev-blk-not-found")),
            Err(chain::BlockError::Store(message)) => {
                Err(RpcError::new(code::DATABASE_ERROR, message))
            }
            Err(error) => {
                node.log(format!(
                    "ERROR: ProcessNewBlock: AcceptBlock FAILED ({error})"
                ));
                Ok(json!(error.to_string()))
            }
        }
    },
};

/// The output script of a descriptor (not ranged), with Core's errors.
pub fn descriptor_script(text: &str) -> Result<bitcoin::ScriptBuf, RpcError> {
    use miniscript::descriptor::{Descriptor, DescriptorPublicKey};
    let descriptor = Descriptor::<DescriptorPublicKey>::from_str(text)
        .map_err(|e| RpcError::new(code::INVALID_ADDRESS_OR_KEY, e.to_string()))?;
    if descriptor.has_wildcard() {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            "Ranged descriptor not accepted. Maybe pass through deriveaddresses first?",
        ));
    }
    let definite = descriptor
        .at_derivation_index(0)
        .map_err(|e| RpcError::new(code::INVALID_ADDRESS_OR_KEY, e.to_string()))?;
    Ok(definite.script_pubkey())
}

fn mined(node: &Node, payout: &bitcoin::ScriptBuf, count: i64) -> Result<Value, RpcError> {
    if count < 0 {
        return Err(RpcError::new(code::INVALID_PARAMETER, "Invalid nblocks"));
    }
    let hashes = crate::mining::generate(node, payout, count as u32).map_err(|e| {
        RpcError::new(
            code::INTERNAL_ERROR,
            format!("ProcessNewBlock, block not accepted: {e}"),
        )
    })?;
    Ok(json!(hashes
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()))
}

static GENERATETODESCRIPTOR: Method = Method {
    name: "generatetodescriptor",
    category: "generating",
    args: &[
        required("num_blocks", Kind::Num, "How many blocks are generated."),
        required(
            "descriptor",
            Kind::Str,
            "The descriptor to send the newly generated bitcoin to.",
        ),
        optional("maxtries", Kind::Num, "How many iterations to try."),
    ],
    summary: "Mine to a specified descriptor and return the block hashes.",
    handler: |node, params| {
        let script = descriptor_script(params.str(1).unwrap_or_default())?;
        mined(node, &script, params.i64_or(0, 0)?)
    },
};

static GENERATEBLOCK: Method = Method {
    name: "generateblock",
    category: "generating",
    args: &[
        required("output", Kind::Str, "The address or descriptor to send the newly generated bitcoin to."),
        required("transactions", Kind::Arr, "An array of hex strings which are either txids or raw transactions."),
        optional("submit", Kind::Bool, "Whether to submit the block before the RPC call returns or to return it as hex."),
    ],
    summary: "Mine a set of ordered transactions to a specified address or descriptor and return the block hash.",
    handler: |node, params| {
        let output = params.str(0).unwrap_or_default();
        let payout = match parse_address(node, output) {
            Ok(address) => address.script_pubkey(),
            Err(_) => descriptor_script(output).map_err(|_| {
                RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Error: Invalid address or descriptor")
            })?,
        };
        let mut transactions = Vec::new();
        for item in params.get(1).and_then(Value::as_array).cloned().unwrap_or_default() {
            let text = item.as_str().unwrap_or_default();
            if let Ok(txid) = bitcoin::Txid::from_str(text) {
                let tx = node.mempool().get(&txid).map(|e| e.tx.clone());
                let tx = tx.ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, format!("Transaction {text} not in mempool.")))?;
                transactions.push(tx);
            } else {
                let bytes = hex::decode(text).map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, format!("Transaction decode failed for {text}. Make sure the tx has at least one input.")))?;
                let tx: bitcoin::Transaction = bitcoin::consensus::encode::deserialize(&bytes).map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, format!("Transaction decode failed for {text}. Make sure the tx has at least one input.")))?;
                transactions.push(tx);
            }
        }
        let submit = params.bool_or(2, true);
        let block = {
            let chain = node.chain();
            let mut fees = bitcoin::Amount::ZERO;
            for tx in &transactions {
                let mut value_in = bitcoin::Amount::ZERO;
                for input in &tx.input {
                    let from_pool = node.mempool().get(&input.previous_output.txid).and_then(|e| e.tx.output.get(input.previous_output.vout as usize).map(|o| o.value));
                    let value = match from_pool {
                        Some(value) => Some(value),
                        None => chain.coin(&input.previous_output).ok().flatten().map(|c| c.output.value),
                    };
                    value_in += value.unwrap_or(bitcoin::Amount::ZERO);
                }
                let value_out = tx
                    .output
                    .iter()
                    .try_fold(bitcoin::Amount::ZERO, |sum, o| sum.checked_add(o.value))
                    .unwrap_or(bitcoin::Amount::MAX);
                fees = fees
                    .checked_add(value_in.checked_sub(value_out).unwrap_or(bitcoin::Amount::ZERO))
                    .unwrap_or(bitcoin::Amount::MAX);
            }
            chain::block_builder::build_block(&chain, payout, transactions, fees, node.now() as u32)
        };
        if !submit {
            return Ok(json!({
                "hash": block.block_hash().to_string(),
                "hex": hex::encode(bitcoin::consensus::encode::serialize(&block)),
            }));
        }
        node.change_chain(|chain| chain.process_block(&block, node.now()))
            .map_err(|e| RpcError::new(code::VERIFY_ERROR, format!("TestBlockValidity failed: {e}")))?;
        Ok(json!({ "hash": block.block_hash().to_string() }))
    },
};

static GETBLOCKTEMPLATE: Method = Method {
    name: "getblocktemplate",
    category: "mining",
    args: &[optional(
        "template_request",
        Kind::Obj,
        "Format of the template",
    )],
    summary: "Returns data needed to construct a block to work on (BIP 22, 23, 9, 145).",
    handler: |node, params| {
        let request = params.get(0).cloned().unwrap_or(json!({}));
        let rules: Vec<&str> = request["rules"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !rules.contains(&"segwit") {
            return Err(RpcError::new(code::INVALID_PARAMETER, "getblocktemplate must be called with the segwit rule set (call with {\"rules\": [\"segwit\"]})"));
        }
        let chain = node.chain();
        let tip = chain.tip();
        let height = chain.height() + 1;
        let selected = node
            .mempool()
            .select(chain::consensus::MAX_BLOCK_WEIGHT - 8_000);
        let fees: bitcoin::Amount = selected.iter().map(|e| e.fee).sum();
        let position: std::collections::HashMap<bitcoin::Txid, usize> = selected
            .iter()
            .enumerate()
            .map(|(i, e)| (e.txid, i + 1))
            .collect();
        let transactions: Vec<Value> = selected
            .iter()
            .map(|entry| {
                let depends: Vec<usize> = entry
                    .tx
                    .input
                    .iter()
                    .filter_map(|i| position.get(&i.previous_output.txid).copied())
                    .collect();
                json!({
                    "data": hex::encode(bitcoin::consensus::encode::serialize(&entry.tx)),
                    "txid": entry.txid.to_string(),
                    "hash": entry.wtxid.to_string(),
                    "depends": depends,
                    "fee": entry.fee.to_sat(),
                    "sigops": 0,
                    "weight": entry.weight.to_wu(),
                })
            })
            .collect();
        // The witness commitment for exactly these transactions.
        let transactions_only: Vec<_> = selected.iter().map(|e| e.tx.clone()).collect();
        let commitment =
            hex::encode(chain::block_builder::witness_commitment(&transactions_only).as_bytes());
        let bits = chain.next_bits(&tip);
        let mintime = chain.median_time_past(&tip) + 1;
        Ok(json!({
            "capabilities": ["proposal"],
            "version": 0x2000_0000,
            "rules": ["csv", "!segwit", "taproot"],
            "vbavailable": {},
            "vbrequired": 0,
            "previousblockhash": tip.to_string(),
            "transactions": transactions,
            "coinbaseaux": {},
            "coinbasevalue": (chain.consensus().block_subsidy(height) + fees).to_sat(),
            "longpollid": format!("{tip}{}", node.mempool().len()),
            "target": hex::encode(bitcoin::Target::from_compact(bits).to_be_bytes()),
            "mintime": mintime,
            "mutable": ["time", "transactions", "prevblock"],
            "noncerange": "00000000ffffffff",
            "sigoplimit": 80000,
            "sizelimit": 4000000,
            "weightlimit": 4000000,
            "curtime": (node.now() as u32).max(mintime),
            "bits": format!("{:08x}", bits.to_consensus()),
            "height": height,
            "default_witness_commitment": commitment,
        }))
    },
};
