//! listdescriptors and importdescriptors.

use interfaces::rpc::params::{optional, required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Value};

use super::{rpc_error, WalletMethod};
use crate::descriptors::{self, AddressType, DescriptorRecord};
use crate::error::WalletError;
use crate::wallet::DEFAULT_KEYPOOL;

pub static METHODS: &[&WalletMethod] = &[&LISTDESCRIPTORS, &IMPORTDESCRIPTORS];

static LISTDESCRIPTORS: WalletMethod = WalletMethod {
    name: "listdescriptors",
    args: &[optional("private", Kind::Bool, "Show private descriptors.")],
    summary: "List descriptors imported into a descriptor-enabled wallet.",
    run: |call| {
        let wallet = call.wallet()?;
        let private = call.params.bool_or(0, false);
        let now = wallet.chain.now();
        let state = wallet.synced();
        if private && state.flags.disable_private_keys {
            return Err(RpcError::new(
                code::WALLET_ERROR,
                "Can't get private descriptor string for watch-only wallets",
            ));
        }
        if private && state.is_locked(now) {
            return Err(rpc_error(WalletError::Locked));
        }
        let mut list = Vec::new();
        let mut order: Vec<usize> = (0..state.descriptors.len()).collect();
        order.sort_by(|a, b| {
            state.descriptors[*a]
                .record
                .descriptor
                .cmp(&state.descriptors[*b].record.descriptor)
        });
        for index in order {
            let descriptor = &state.descriptors[index];
            let text = if private {
                state
                    .private_descriptor(index, now)
                    .map_err(rpc_error)?
                    .ok_or_else(|| {
                        RpcError::new(code::WALLET_ERROR, "Can't get descriptor string.")
                    })?
            } else {
                descriptor.record.descriptor.clone()
            };
            let mut entry = json!({
                "desc": text,
                "timestamp": descriptor.record.timestamp,
                "active": descriptor.record.active.is_some(),
            });
            if let Some((_, internal)) = descriptor.record.active {
                entry["internal"] = json!(internal);
            }
            if let (true, Some((start, end))) = (descriptor.is_ranged(), descriptor.record.range) {
                entry["range"] = json!([start, end.saturating_sub(1)]);
                entry["next"] = json!(descriptor.record.next_index);
                entry["next_index"] = json!(descriptor.record.next_index);
            }
            list.push(entry);
        }
        Ok(json!({ "wallet_name": wallet.name, "descriptors": list }))
    },
};

/// The error object of one failed import.
fn failure(code: i32, message: impl Into<String>) -> Value {
    json!({ "success": false, "error": { "code": code, "message": message.into() } })
}

static IMPORTDESCRIPTORS: WalletMethod = WalletMethod {
    name: "importdescriptors",
    args: &[required("requests", Kind::Arr, "Data to be imported")],
    summary: "Import descriptors. This will trigger a rescan of the blockchain based on the earliest timestamp of all descriptors being imported.",
    run: |call| {
        let wallet = call.wallet()?;
        let Some(Value::Array(requests)) = call.params.get(0) else {
            return Err(RpcError::new(code::TYPE_ERROR, "Expected type array"));
        };
        let now = wallet.chain.now();
        let mut results = Vec::new();
        let mut rescan_from: Option<i64> = None;
        {
            let mut state = wallet.synced();
            if state.is_locked(now) {
                return Err(rpc_error(WalletError::Locked));
            }
            for request in requests {
                let Some(text) = request.get("desc").and_then(Value::as_str) else {
                    results.push(failure(code::TYPE_ERROR, "Descriptor not found."));
                    continue;
                };
                let (descriptor, keys) = match descriptors::parse_private(text) {
                    Ok(parsed) => parsed,
                    Err(error) => {
                        results.push(failure(code::INVALID_ADDRESS_OR_KEY, error.to_string()));
                        continue;
                    }
                };
                if keys.is_empty() && !state.flags.disable_private_keys {
                    results.push(failure(code::WALLET_ERROR, "Cannot import descriptor without private keys to a wallet with private keys enabled"));
                    continue;
                }
                if !keys.is_empty() && state.flags.disable_private_keys {
                    results.push(failure(code::WALLET_ERROR, "Cannot import private keys to a wallet with private keys disabled"));
                    continue;
                }
                let timestamp = match request.get("timestamp") {
                    Some(Value::String(s)) if s == "now" => now,
                    Some(Value::Number(n)) => n.as_i64().unwrap_or(0).max(0),
                    _ => {
                        results.push(failure(code::TYPE_ERROR, "Missing required timestamp field for key"));
                        continue;
                    }
                };
                let ranged = descriptor.has_wildcard();
                let range = match request.get("range") {
                    None => ranged.then_some((0, DEFAULT_KEYPOOL)),
                    Some(_) if !ranged => {
                        results.push(failure(code::INVALID_PARAMETER, "Range should not be specified for an un-ranged descriptor"));
                        continue;
                    }
                    Some(Value::Number(_)) | Some(Value::Array(_)) => {
                        match parse_range(request.get("range").expect("matched")) {
                            Ok(range) => Some(range),
                            Err(message) => {
                                results.push(failure(code::INVALID_PARAMETER, message));
                                continue;
                            }
                        }
                    }
                    Some(_) => {
                        results.push(failure(code::INVALID_PARAMETER, "Range must be specified as end or as [begin,end]"));
                        continue;
                    }
                };
                let active = request.get("active").and_then(Value::as_bool).unwrap_or(false);
                let internal = request.get("internal").and_then(Value::as_bool).unwrap_or(false);
                if active && !ranged {
                    results.push(failure(code::INVALID_PARAMETER, "Active descriptors must be ranged"));
                    continue;
                }
                let kind = kind_of(&descriptor);
                if active && kind.is_none() {
                    results.push(failure(code::INVALID_PARAMETER, "Cannot set active for a descriptor of this address type"));
                    continue;
                }
                let label = request.get("label").and_then(Value::as_str).map(str::to_string);
                if label.is_some() && internal {
                    results.push(failure(code::INVALID_PARAMETER, "Internal addresses should not have a label"));
                    continue;
                }
                let public = descriptor.to_string();
                let secret = if keys.is_empty() {
                    None
                } else {
                    match state.seal_secret(descriptor.to_string_with_secret(&keys), now) {
                        Ok(secret) => Some(secret),
                        Err(error) => {
                            results.push(failure(code::WALLET_ERROR, error.to_string()));
                            continue;
                        }
                    }
                };
                let next_index = match request.get("next_index").map(Value::as_u64) {
                    None => range.map_or(0, |r| r.0),
                    Some(Some(n)) if range.is_some_and(|(start, end)| n >= u64::from(start) && n < u64::from(end)) => n as u32,
                    Some(_) => {
                        results.push(failure(code::INVALID_PARAMETER, "next_index is out of range"));
                        continue;
                    }
                };
                let record = DescriptorRecord {
                    descriptor: public,
                    secret,
                    timestamp,
                    range,
                    next_index,
                    active: if active { kind.map(|k| (k, internal)) } else { None },
                    label: label.clone(),
                };
                let added = wallet.commit_with(&mut state, |state, batch| {
                    let index = state.add_descriptor(record, batch)?;
                    if let (Some(label), false) = (&label, state.descriptors[index].is_ranged()) {
                        let script = state.descriptors[index].script_at(0)?;
                        if let Some(address) = wallet.address(&script) {
                            state.set_label(&address.to_string(), label, "receive", batch);
                        }
                    }
                    Ok(())
                });
                match added {
                    Ok(()) => {
                        if timestamp < now {
                            rescan_from = Some(rescan_from.map_or(timestamp, |t| t.min(timestamp)));
                        }
                        results.push(json!({ "success": true }));
                    }
                    Err(error) => results.push(failure(code::WALLET_ERROR, error.to_string())),
                }
            }
        }
        if let Some(from) = rescan_from {
            let start = wallet.first_height_after(from - crate::wallet::TIMESTAMP_WINDOW);
            wallet.rescan(start, None).map_err(rpc_error)?;
        }
        Ok(Value::Array(results))
    },
};

/// Core's rules for `range`: `end` or `[begin, end]`, not negative, begin
/// not after end, end below 2^31, at most a million keys. Returns the
/// half-open `[begin, end + 1)`.
fn parse_range(value: &Value) -> Result<(u32, u32), &'static str> {
    let (start, end) = match value {
        Value::Number(end) => (Some(0), end.as_i64()),
        Value::Array(pair) if pair.len() == 2 => (pair[0].as_i64(), pair[1].as_i64()),
        _ => return Err("Range must be specified as end or as [begin,end]"),
    };
    let (Some(start), Some(end)) = (start, end) else {
        return Err("Range must be specified as end or as [begin,end]");
    };
    if start < 0 || end < 0 {
        return Err("Range should be greater or equal than 0");
    }
    if start > end {
        return Err("Range specified as [begin,end] must not have begin after end");
    }
    if end >= 1 << 31 {
        return Err("End of range is too high");
    }
    if end - start >= 1_000_000 {
        return Err("Range is too large");
    }
    Ok((start as u32, end as u32 + 1))
}

/// The address type a descriptor's outputs have, if one of Core's four.
fn kind_of(
    descriptor: &miniscript::Descriptor<miniscript::DescriptorPublicKey>,
) -> Option<AddressType> {
    use miniscript::Descriptor;
    match descriptor {
        Descriptor::Pkh(_) => Some(AddressType::Legacy),
        Descriptor::Wpkh(_) => Some(AddressType::Bech32),
        Descriptor::Sh(sh) if matches!(sh.as_inner(), miniscript::descriptor::ShInner::Wpkh(_)) => {
            Some(AddressType::P2shSegwit)
        }
        Descriptor::Wsh(_) => Some(AddressType::Bech32),
        Descriptor::Tr(_) => Some(AddressType::Bech32m),
        _ => None,
    }
}
