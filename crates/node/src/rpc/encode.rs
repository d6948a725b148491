//! Blocks, headers, transactions and scripts as Bitcoin Core's RPCs print
//! them: field names, order, asm, descriptors and script types.

use bitcoin::hashes::Hash;
use bitcoin::script::Instruction;
use bitcoin::{Address, Block, Network, Script, Transaction};
use serde_json::{json, Map, Value};

pub use interfaces::rpc::amount::to_json as amount;

/// A double as Bitcoin Core's JSON writer prints it: `%.16g` (16
/// significant digits, scientific below 1e-5, trailing zeros dropped).
pub fn double(value: f64) -> Value {
    if value == 0.0 || !value.is_finite() {
        return json!(0);
    }
    let scientific = format!("{value:.15e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("scientific notation");
    let exponent: i32 = exponent.parse().expect("an exponent");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    let text = if !(-5..16).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.abs())
    } else {
        let decimals = (15 - exponent).max(0) as usize;
        trim(&format!("{value:.decimals$}"))
    };
    serde_json::from_str(&text).expect("a JSON number")
}

/// Core's `GetDifficulty` for compact bits.
pub fn difficulty(bits: bitcoin::CompactTarget) -> f64 {
    let bits = bits.to_consensus();
    let mut shift = (bits >> 24) & 0xff;
    let mut diff = f64::from(0x0000ffff) / f64::from(bits & 0x00ff_ffff);
    while shift < 29 {
        diff *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        diff /= 256.0;
        shift -= 1;
    }
    diff
}

/// Core's asm: small pushes as numbers, other pushes as hex, opcodes by
/// their Core names.
pub fn asm(script: &Script) -> String {
    let mut parts = Vec::new();
    for instruction in script.instructions() {
        match instruction {
            Ok(Instruction::PushBytes(bytes)) => {
                let bytes = bytes.as_bytes();
                if bytes.is_empty() {
                    parts.push("0".to_string());
                } else if bytes.len() <= 4 {
                    parts.push(script_num(bytes).to_string());
                } else {
                    parts.push(hex::encode(bytes));
                }
            }
            Ok(Instruction::Op(op)) => parts.push(op_name(op)),
            Err(_) => {
                parts.push("[error]".to_string());
                break;
            }
        }
    }
    parts.join(" ")
}

fn script_num(bytes: &[u8]) -> i64 {
    let mut value: i64 = 0;
    for (i, byte) in bytes.iter().enumerate() {
        value |= i64::from(*byte) << (8 * i);
    }
    let last = bytes[bytes.len() - 1];
    if last & 0x80 != 0 {
        -(value & !(0x80i64 << (8 * (bytes.len() - 1))))
    } else {
        value
    }
}

fn op_name(op: bitcoin::opcodes::Opcode) -> String {
    let name = op.to_string();
    if let Some(n) = name.strip_prefix("OP_PUSHNUM_") {
        return if n == "NEG1" { "-1".into() } else { n.into() };
    }
    match name.as_str() {
        "OP_CLTV" => "OP_CHECKLOCKTIMEVERIFY".into(),
        "OP_CSV" => "OP_CHECKSEQUENCEVERIFY".into(),
        "OP_PUSHBYTES_0" => "0".into(),
        _ if name.starts_with("OP_RETURN_") => "OP_UNKNOWN".into(),
        _ => name,
    }
}

/// Core's script type names.
pub fn script_type(script: &Script) -> &'static str {
    if script.is_p2pkh() {
        "pubkeyhash"
    } else if script.is_p2sh() {
        "scripthash"
    } else if script.is_p2wpkh() {
        "witness_v0_keyhash"
    } else if script.is_p2wsh() {
        "witness_v0_scripthash"
    } else if script.is_p2tr() {
        "witness_v1_taproot"
    } else if script.is_op_return() {
        "nulldata"
    } else if script.is_p2pk() {
        "pubkey"
    } else if script.is_multisig() {
        "multisig"
    } else if script.is_witness_program() {
        "witness_unknown"
    } else {
        "nonstandard"
    }
}

/// The descriptor Core infers for an output script, with its checksum.
pub fn descriptor(script: &Script, network: Network) -> String {
    let body = match Address::from_script(script, network) {
        Ok(address) => format!("addr({address})"),
        Err(_) => match script.p2pk_public_key() {
            Some(key) => format!("pk({key})"),
            None => format!("raw({})", hex::encode(script.as_bytes())),
        },
    };
    format!(
        "{body}#{}",
        descriptor_checksum(&body).expect("ASCII descriptor")
    )
}

/// BIP380's descriptor checksum.
pub fn descriptor_checksum(descriptor: &str) -> Option<String> {
    const INPUT: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    fn polymod(c: u64, value: u64) -> u64 {
        let c0 = c >> 35;
        let mut c = ((c & 0x7_ffff_ffff) << 5) ^ value;
        for (bit, generator) in [
            0xf5dee51989u64,
            0xa9fdca3312,
            0x1bab10e32d,
            0x3706b1677a,
            0x644d626ffd,
        ]
        .into_iter()
        .enumerate()
        {
            if c0 & (1 << bit) != 0 {
                c ^= generator;
            }
        }
        c
    }
    let mut c = 1u64;
    let mut class = 0u64;
    let mut count = 0;
    for ch in descriptor.chars() {
        let position = INPUT.find(ch)? as u64;
        c = polymod(c, position & 31);
        class = class * 3 + (position >> 5);
        count += 1;
        if count == 3 {
            c = polymod(c, class);
            class = 0;
            count = 0;
        }
    }
    if count > 0 {
        c = polymod(c, class);
    }
    for _ in 0..8 {
        c = polymod(c, 0);
    }
    c ^= 1;
    Some(
        (0..8)
            .map(|j| CHARSET[((c >> (5 * (7 - j))) & 31) as usize] as char)
            .collect(),
    )
}

/// `scriptPubKey` as Core prints it.
pub fn script_pubkey(script: &Script, network: Network) -> Value {
    let mut object = Map::new();
    object.insert("asm".into(), json!(asm(script)));
    object.insert("desc".into(), json!(descriptor(script, network)));
    object.insert("hex".into(), json!(hex::encode(script.as_bytes())));
    if let Ok(address) = Address::from_script(script, network) {
        object.insert("address".into(), json!(address.to_string()));
    }
    object.insert("type".into(), json!(script_type(script)));
    Value::Object(object)
}

/// A transaction as `decoderawtransaction` prints it (`hex` added by the
/// callers that include it).
pub fn transaction(tx: &Transaction, network: Network) -> Value {
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|input| {
            let mut object = Map::new();
            if tx.is_coinbase() {
                object.insert(
                    "coinbase".into(),
                    json!(hex::encode(input.script_sig.as_bytes())),
                );
            } else {
                object.insert("txid".into(), json!(input.previous_output.txid.to_string()));
                object.insert("vout".into(), json!(input.previous_output.vout));
                object.insert(
                    "scriptSig".into(),
                    json!({
                        "asm": asm(&input.script_sig),
                        "hex": hex::encode(input.script_sig.as_bytes()),
                    }),
                );
            }
            if !input.witness.is_empty() {
                let items: Vec<String> = input.witness.iter().map(hex::encode).collect();
                object.insert("txinwitness".into(), json!(items));
            }
            object.insert("sequence".into(), json!(input.sequence.to_consensus_u32()));
            Value::Object(object)
        })
        .collect();
    let vout: Vec<Value> = tx
        .output
        .iter()
        .enumerate()
        .map(|(n, output)| {
            json!({
                "value": amount(output.value),
                "n": n,
                "scriptPubKey": script_pubkey(&output.script_pubkey, network),
            })
        })
        .collect();
    json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
    })
}

/// Header fields shared by `getblock` and `getblockheader`.
pub fn header_fields(
    header: &bitcoin::block::Header,
    height: u32,
    confirmations: i64,
    median_time: u32,
    chain_work: &bitcoin::Work,
    next: Option<bitcoin::BlockHash>,
) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("hash".into(), json!(header.block_hash().to_string()));
    object.insert("confirmations".into(), json!(confirmations));
    object.insert("height".into(), json!(height));
    object.insert("version".into(), json!(header.version.to_consensus()));
    object.insert(
        "versionHex".into(),
        json!(format!("{:08x}", header.version.to_consensus())),
    );
    object.insert("merkleroot".into(), json!(header.merkle_root.to_string()));
    object.insert("time".into(), json!(header.time));
    object.insert("mediantime".into(), json!(median_time));
    object.insert("nonce".into(), json!(header.nonce));
    object.insert(
        "bits".into(),
        json!(format!("{:08x}", header.bits.to_consensus())),
    );
    object.insert(
        "target".into(),
        json!(hex::encode(header.target().to_be_bytes())),
    );
    object.insert("difficulty".into(), double(difficulty(header.bits)));
    object.insert(
        "chainwork".into(),
        json!(hex::encode(chain_work.to_be_bytes())),
    );
    object.insert("nTx".into(), Value::Null);
    if header.prev_blockhash != bitcoin::BlockHash::all_zeros() {
        object.insert(
            "previousblockhash".into(),
            json!(header.prev_blockhash.to_string()),
        );
    }
    if let Some(next) = next {
        object.insert("nextblockhash".into(), json!(next.to_string()));
    }
    object
}

/// The size fields of `getblock`.
pub fn block_sizes(block: &Block) -> (usize, usize, u64) {
    let mut stripped = block.clone();
    for tx in &mut stripped.txdata {
        for input in &mut tx.input {
            input.witness.clear();
        }
    }
    let stripped_size = bitcoin::consensus::encode::serialize(&stripped).len();
    (stripped_size, block.total_size(), block.weight().to_wu())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_checksums_match_bip380() {
        // BIP380's example.
        assert_eq!(
            descriptor_checksum("raw(deadbeef)").as_deref(),
            Some("89f8spxm")
        );
    }

    #[test]
    fn amounts_print_with_eight_decimals() {
        assert_eq!(
            amount(bitcoin::Amount::from_sat(5_000_000_000)).to_string(),
            "50.00000000"
        );
        assert_eq!(
            amount(bitcoin::Amount::from_sat(1)).to_string(),
            "0.00000001"
        );
    }

    #[test]
    fn regtest_difficulty_is_cores() {
        let d = difficulty(bitcoin::CompactTarget::from_consensus(0x207fffff));
        assert_eq!(double(d).to_string(), "4.656542373906925e-10");
        assert_eq!(double(1.0).to_string(), "1");
        assert_eq!(double(0.5).to_string(), "0.5");
    }
}
