//! generatetoaddress, getmininginfo, submitblock.

use std::str::FromStr;

use bitcoin::Address;
use serde_json::{json, Value};

use super::encode;
use super::error::{code, RpcError};
use super::params::{optional, required, Kind};
use super::table::Method;
use crate::context::Node;

pub static METHODS: &[&Method] = &[&GENERATETOADDRESS, &GETMININGINFO, &SUBMITBLOCK];

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
        let count = params.i64_or(0, 0)?;
        let address = parse_address(node, params.str(1).unwrap_or_default())?;
        if count < 0 {
            return Err(RpcError::new(code::INVALID_PARAMETER, "Invalid nblocks"));
        }
        let hashes = crate::mining::generate(node, &address.script_pubkey(), count as u32)
            .map_err(|e| {
                RpcError::new(
                    code::INTERNAL_ERROR,
                    format!("ProcessNewBlock, block not accepted: {e}"),
                )
            })?;
        Ok(json!(hashes
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>()))
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
            Ok(_) => Ok(Value::Null),
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
