//! getnewaddress, getrawchangeaddress, getaddressinfo.

use interfaces::rpc::params::{optional, required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Value};

use super::{parse_address, rpc_error, Call, WalletMethod};
use crate::descriptors::AddressType;
use crate::store::Batch;

pub static METHODS: &[&WalletMethod] = &[&GETNEWADDRESS, &GETRAWCHANGEADDRESS, &GETADDRESSINFO];

/// Core's `-addresstype` default.
const DEFAULT_ADDRESS_TYPE: AddressType = AddressType::Bech32;

fn address_type(call: &Call, position: usize) -> Result<AddressType, RpcError> {
    match call.params.str(position) {
        None => Ok(DEFAULT_ADDRESS_TYPE),
        Some(name) => AddressType::parse(name).ok_or_else(|| {
            RpcError::new(
                code::INVALID_ADDRESS_OR_KEY,
                format!("Unknown address type '{name}'"),
            )
        }),
    }
}

fn new_address(
    call: &Call,
    kind: AddressType,
    internal: bool,
    label: Option<&str>,
) -> Result<Value, RpcError> {
    let wallet = call.wallet()?;
    let mut state = wallet.synced();
    if state.flags.disable_private_keys && state.descriptors.is_empty() {
        return Err(RpcError::new(
            code::WALLET_ERROR,
            "Error: This wallet has no available keys",
        ));
    }
    if state.active_descriptor(kind, internal).is_none() {
        return Err(RpcError::new(
            code::WALLET_KEYPOOL_RAN_OUT,
            format!("Error: No {} addresses available.", kind.name()),
        ));
    }
    let address = wallet
        .commit_with(&mut state, |state, batch: &mut Batch| {
            let script = state.next_script(kind, internal, batch)?;
            let address = wallet
                .address(&script)
                .ok_or(crate::WalletError::NoKeys)?
                .to_string();
            if let Some(label) = label {
                state.set_label(&address, label, "receive", batch);
            }
            Ok(address)
        })
        .map_err(rpc_error)?;
    Ok(json!(address))
}

static GETNEWADDRESS: WalletMethod = WalletMethod {
    name: "getnewaddress",
    args: &[
        optional("label", Kind::Str, "The label name for the address to be linked to. It can also be set to the empty string \"\" to represent the default label."),
        optional("address_type", Kind::Str, "The address type to use. Options are \"legacy\", \"p2sh-segwit\", \"bech32\", and \"bech32m\"."),
    ],
    summary: "Returns a new Bitcoin address for receiving payments.",
    run: |call| {
        let label = call.params.str(0).unwrap_or("");
        if label == "*" {
            return Err(RpcError::new(code::WALLET_INVALID_LABEL_NAME, "Invalid label name"));
        }
        let kind = address_type(call, 1)?;
        new_address(call, kind, false, Some(label))
    },
};

static GETRAWCHANGEADDRESS: WalletMethod = WalletMethod {
    name: "getrawchangeaddress",
    args: &[optional("address_type", Kind::Str, "The address type to use. Options are \"legacy\", \"p2sh-segwit\", \"bech32\", and \"bech32m\".")],
    summary: "Returns a new Bitcoin address, for receiving change.",
    run: |call| {
        let kind = address_type(call, 0)?;
        new_address(call, kind, true, None)
    },
};

static GETADDRESSINFO: WalletMethod = WalletMethod {
    name: "getaddressinfo",
    args: &[required(
        "address",
        Kind::Str,
        "The bitcoin address for which to get information.",
    )],
    summary: "Return information about the given bitcoin address.",
    run: |call| {
        let wallet = call.wallet()?;
        let text = call.params.str(0).unwrap_or_default();
        let address = parse_address(&wallet, text, "Invalid address")?;
        let state = wallet.synced();
        let script = address.script_pubkey();
        let origin = state.script_origin(&script);
        let mut info = json!({
            "address": address.to_string(),
            "scriptPubKey": hex::encode(script.as_bytes()),
            "ismine": origin.is_some(),
            "solvable": origin.is_some(),
        });
        if let Some((index, child)) = origin {
            let descriptor = &state.descriptors[index];
            if let Ok(definite) = descriptor.descriptor.at_derivation_index(child) {
                let text = definite.to_string();
                info["desc"] = json!(text);
            }
            info["parent_desc"] = json!(descriptor.record.descriptor);
        }
        info["iswatchonly"] = json!(false);
        info["isscript"] = json!(script.is_p2sh());
        info["iswitness"] = json!(script.is_witness_program());
        if let Some(version) = script.witness_version() {
            info["witness_version"] = json!(version.to_num());
            info["witness_program"] = json!(hex::encode(&script.as_bytes()[2..]));
        }
        if let Some((index, child)) = origin {
            let descriptor = &state.descriptors[index];
            info["ischange"] = json!(descriptor
                .record
                .active
                .is_some_and(|(_, internal)| internal));
            info["timestamp"] = json!(descriptor.record.timestamp);
            if let Some(path) = key_path(&descriptor.record.descriptor, child) {
                info["hdkeypath"] = json!(path.0);
                info["hdmasterfingerprint"] = json!(path.1);
            }
        } else {
            info["ischange"] = json!(false);
        }
        let labels: Vec<Value> = state
            .label(&address.to_string())
            .map(|l| vec![json!(l)])
            .unwrap_or_default();
        info["labels"] = Value::Array(labels);
        Ok(info)
    },
};

/// `m/84h/1h/0h/0/5` and the master fingerprint, from a descriptor's key
/// origin and its `/0/*` tail.
fn key_path(descriptor: &str, child: u32) -> Option<(String, String)> {
    let start = descriptor.find('[')? + 1;
    let end = descriptor[start..].find(']')? + start;
    let (fingerprint, origin) = descriptor[start..end].split_once('/')?;
    let after = &descriptor[end + 1..];
    let tail_start = after.find('/')?;
    let tail_end = after.find('*')?;
    let tail = &after[tail_start..tail_end];
    Some((
        format!("m/{}{}{child}", origin.replace('\'', "h"), tail),
        fingerprint.to_string(),
    ))
}
