//! Spending RPCs: sendtoaddress, sendmany, send, fundrawtransaction,
//! signrawtransactionwithwallet, walletcreatefundedpsbt,
//! walletprocesspsbt, settxfee.

use std::collections::HashSet;

use base64::Engine;
use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::psbt::Psbt;
use bitcoin::{Amount, ScriptBuf, Transaction, TxOut};
use interfaces::rpc::params::{optional, required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Value};

use super::{
    amount, amount_param, invalid_parameter, parse_address, rpc_error, Call, WalletMethod,
};
use crate::descriptors::AddressType;
use crate::error::WalletError;
use crate::spend::{Funded, SpendOptions, MAX_TX_FEE, MIN_TX_FEE};
use crate::store::Batch;
use crate::wallet::Wallet;

pub static METHODS: &[&WalletMethod] = &[
    &SENDTOADDRESS,
    &SENDMANY,
    &SEND,
    &FUNDRAWTRANSACTION,
    &SIGNRAWTRANSACTIONWITHWALLET,
    &WALLETCREATEFUNDEDPSBT,
    &WALLETPROCESSPSBT,
    &SETTXFEE,
];

/// Core's base64 for PSBTs.
fn psbt_base64(psbt: &Psbt) -> String {
    base64::engine::general_purpose::STANDARD.encode(psbt.serialize())
}

fn decode_psbt(text: &str) -> Result<Psbt, RpcError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| {
            RpcError::new(
                code::DESERIALIZATION_ERROR,
                "TX decode failed invalid base64",
            )
        })?;
    Psbt::deserialize(&bytes)
        .map_err(|e| RpcError::new(code::DESERIALIZATION_ERROR, format!("TX decode failed {e}")))
}

fn decode_tx(text: &str) -> Result<Transaction, RpcError> {
    deserialize_hex(text)
        .map_err(|_| RpcError::new(code::DESERIALIZATION_ERROR, "TX decode failed"))
}

/// A `fee_rate` in sat/vB as sat/kvB.
fn sat_per_vb(value: &Value) -> Result<u64, RpcError> {
    // Read as an amount with eight decimals (1 sat/vB = 1e-8 "BTC"),
    // then scaled: sat/kvB = value × 1000.
    let scaled = interfaces::rpc::amount::parse(value)?;
    Ok(scaled / 100_000)
}

/// `conf_target`, `estimate_mode` and `fee_rate` as Core combines them.
fn fee_choice(
    options: &mut SpendOptions,
    conf_target: Option<&Value>,
    estimate_mode: Option<&Value>,
    fee_rate: Option<&Value>,
) -> Result<(), RpcError> {
    if let Some(rate) = fee_rate {
        if conf_target.is_some() {
            return Err(invalid_parameter("Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate."));
        }
        if estimate_mode
            .and_then(Value::as_str)
            .is_some_and(|m| !m.eq_ignore_ascii_case("unset"))
        {
            return Err(invalid_parameter(
                "Cannot specify both estimate_mode and fee_rate",
            ));
        }
        options.fee_rate = Some(sat_per_vb(rate)?);
    }
    if let Some(target) = conf_target {
        let target = target
            .as_i64()
            .filter(|t| (1..=1008).contains(t))
            .ok_or_else(|| invalid_parameter("Invalid conf_target, must be between 1 and 1008"))?;
        options.conf_target = Some(target as u32);
    }
    if let Some(mode) = estimate_mode.and_then(Value::as_str) {
        if !["unset", "economical", "conservative"].contains(&mode.to_ascii_lowercase().as_str()) {
            return Err(invalid_parameter("Invalid estimate_mode parameter, must be one of: \"unset\", \"economical\", \"conservative\""));
        }
    }
    Ok(())
}

/// Outputs as `send`, `walletcreatefundedpsbt` and createrawtransaction
/// take them: `{"address": amount, "data": "hex"}` or an array of such
/// single-key objects.
fn parse_outputs(wallet: &Wallet, value: &Value) -> Result<Vec<TxOut>, RpcError> {
    let pairs: Vec<(String, Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Array(list) => {
            let mut pairs = Vec::new();
            for entry in list {
                let Value::Object(map) = entry else {
                    return Err(invalid_parameter(
                        "Invalid parameter, key-value pair not an object as expected",
                    ));
                };
                if map.len() != 1 {
                    return Err(invalid_parameter(
                        "Invalid parameter, key-value pair must contain exactly one key",
                    ));
                }
                pairs.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            pairs
        }
        _ => {
            return Err(invalid_parameter(
                "Invalid parameter, outputs must be an object or an array",
            ))
        }
    };
    if pairs.is_empty() {
        return Err(invalid_parameter(
            "Invalid parameter, output argument must be non-null",
        ));
    }
    let mut seen = HashSet::new();
    let mut outputs = Vec::new();
    for (key, value) in pairs {
        if key == "data" {
            let data = value
                .as_str()
                .and_then(|h| hex::decode(h).ok())
                .ok_or_else(|| invalid_parameter("Data must be hexadecimal string"))?;
            let push = bitcoin::script::PushBytesBuf::try_from(data)
                .map_err(|_| invalid_parameter("Data too long"))?;
            outputs.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf::new_op_return(push),
            });
            continue;
        }
        let address = parse_address(wallet, &key, &format!("Invalid Bitcoin address: {key}"))?;
        if !seen.insert(key.clone()) {
            return Err(invalid_parameter(format!(
                "Invalid parameter, duplicated address: {key}"
            )));
        }
        outputs.push(TxOut {
            value: Amount::from_sat(interfaces::rpc::amount::parse(&value)?),
            script_pubkey: address.script_pubkey(),
        });
    }
    Ok(outputs)
}

/// Funds, signs and commits a payment; returns the transaction.
fn pay(
    call: &Call,
    outputs: Vec<TxOut>,
    subtract_fee: Vec<usize>,
    options: &SpendOptions,
    comment: Option<String>,
    comment_to: Option<String>,
) -> Result<(Transaction, Funded), RpcError> {
    let wallet = call.wallet()?;
    let now = wallet.chain.now();
    let mut state = wallet.synced();
    if state.flags.disable_private_keys {
        return Err(rpc_error(WalletError::PrivateKeysDisabled));
    }
    if state.is_locked(now) {
        return Err(rpc_error(WalletError::Locked));
    }
    let mut batch = Batch::default();
    let funded = wallet
        .fund(&mut state, outputs, subtract_fee, options, &mut batch)
        .map_err(rpc_error)?;
    let tx = wallet
        .sign_funded(&state, &funded, now)
        .map_err(rpc_error)?;
    wallet
        .commit_transaction(&mut state, &tx, comment, comment_to, batch)
        .map_err(rpc_error)?;
    drop(state);
    // Other wallets in this node have seen it before the call returns.
    wallet.chain.wait_for_notifications();
    Ok((tx, funded))
}

fn txid_result(tx: &Transaction, funded: &Funded, verbose: bool) -> Value {
    if verbose {
        json!({ "txid": tx.compute_txid().to_string(), "fee_reason": funded.fee_reason })
    } else {
        json!(tx.compute_txid().to_string())
    }
}

static SENDTOADDRESS: WalletMethod = WalletMethod {
    name: "sendtoaddress",
    args: &[
        required("address", Kind::Str, "The bitcoin address to send to."),
        required("amount", Kind::NumOrStr, "The amount in BTC to send. eg 0.1"),
        optional("comment", Kind::Str, "A comment used to store what the transaction is for."),
        optional("comment_to", Kind::Str, "A comment to store the name of the person or organization to which you're sending the transaction."),
        optional("subtractfeefromamount", Kind::Bool, "The fee will be deducted from the amount being sent."),
        optional("replaceable", Kind::Bool, "Signal that this transaction can be replaced by a transaction (BIP 125)"),
        optional("conf_target", Kind::Num, "Confirmation target in blocks"),
        optional("estimate_mode", Kind::Str, "The fee estimate mode"),
        optional("avoid_reuse", Kind::Bool, "Avoid spending from dirty addresses"),
        optional("fee_rate", Kind::NumOrStr, "Specify a fee rate in sat/vB."),
        optional("verbose", Kind::Bool, "If true, return extra information about the transaction."),
    ],
    summary: "Send an amount to a given address.",
    run: |call| {
        let wallet = call.wallet()?;
        let text = call.params.str(0).unwrap_or_default();
        let address = parse_address(&wallet, text, &format!("Invalid Bitcoin address: {text}"))?;
        let value = amount_param(&call.params, 1)?.unwrap_or(Amount::ZERO);
        if value == Amount::ZERO {
            return Err(RpcError::new(code::TYPE_ERROR, "Invalid amount for send"));
        }
        let mut options = SpendOptions {
            replaceable: call.params.bool_or(5, true),
            ..SpendOptions::default()
        };
        fee_choice(&mut options, call.params.get(6), call.params.get(7), call.params.get(9))?;
        let subtract = if call.params.bool_or(4, false) { vec![0] } else { vec![] };
        let outputs = vec![TxOut { value, script_pubkey: address.script_pubkey() }];
        let comment = call.params.str(2).filter(|c| !c.is_empty()).map(str::to_string);
        let comment_to = call.params.str(3).filter(|c| !c.is_empty()).map(str::to_string);
        let (tx, funded) = pay(call, outputs, subtract, &options, comment, comment_to)?;
        Ok(txid_result(&tx, &funded, call.params.bool_or(10, false)))
    },
};

static SENDMANY: WalletMethod = WalletMethod {
    name: "sendmany",
    args: &[
        optional(
            "dummy",
            Kind::Str,
            "Must be set to \"\" for backwards compatibility.",
        ),
        required("amounts", Kind::Obj, "The addresses and amounts"),
        optional("minconf", Kind::Num, "Ignored dummy value"),
        optional("comment", Kind::Str, "A comment"),
        optional(
            "subtractfeefrom",
            Kind::Arr,
            "The addresses that the fee will be equally deducted from.",
        ),
        optional(
            "replaceable",
            Kind::Bool,
            "Signal that this transaction can be replaced by a transaction (BIP 125)",
        ),
        optional("conf_target", Kind::Num, "Confirmation target in blocks"),
        optional("estimate_mode", Kind::Str, "The fee estimate mode"),
        optional("fee_rate", Kind::NumOrStr, "Specify a fee rate in sat/vB."),
        optional(
            "verbose",
            Kind::Bool,
            "If true, return extra infomration about the transaction.",
        ),
    ],
    summary: "Send multiple times. Amounts are double-precision floating point numbers.",
    run: |call| {
        let wallet = call.wallet()?;
        if call.params.str(0).is_some_and(|d| !d.is_empty()) {
            return Err(invalid_parameter("Dummy value must be set to \"\""));
        }
        let Some(Value::Object(amounts)) = call.params.get(1) else {
            return Err(invalid_parameter(
                "Invalid parameter, amounts must be an object",
            ));
        };
        let subtract_from: Vec<String> = match call.params.get(4) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let mut outputs = Vec::new();
        let mut subtract = Vec::new();
        let mut seen = HashSet::new();
        for (text, value) in amounts {
            let address =
                parse_address(&wallet, text, &format!("Invalid Bitcoin address: {text}"))?;
            if !seen.insert(text.clone()) {
                return Err(invalid_parameter(format!(
                    "Invalid parameter, duplicated address: {text}"
                )));
            }
            let value = Amount::from_sat(interfaces::rpc::amount::parse(value)?);
            if value == Amount::ZERO {
                return Err(RpcError::new(code::TYPE_ERROR, "Invalid amount for send"));
            }
            if subtract_from.contains(text) {
                subtract.push(outputs.len());
            }
            outputs.push(TxOut {
                value,
                script_pubkey: address.script_pubkey(),
            });
        }
        let mut options = SpendOptions {
            replaceable: call.params.bool_or(5, true),
            ..SpendOptions::default()
        };
        fee_choice(
            &mut options,
            call.params.get(6),
            call.params.get(7),
            call.params.get(8),
        )?;
        let comment = call
            .params
            .str(3)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let (tx, funded) = pay(call, outputs, subtract, &options, comment, None)?;
        Ok(txid_result(&tx, &funded, call.params.bool_or(9, false)))
    },
};

/// The `options` object of send, fundrawtransaction and
/// walletcreatefundedpsbt.
fn spend_options(
    wallet: &Wallet,
    options: Option<&Value>,
    outputs: usize,
) -> Result<(SpendOptions, Vec<usize>, bool), RpcError> {
    let mut spend = SpendOptions::default();
    let mut subtract = Vec::new();
    let mut lock_unspents = false;
    let Some(options) = options else {
        return Ok((spend, subtract, lock_unspents));
    };
    let Value::Object(map) = options else {
        return Err(RpcError::new(
            code::TYPE_ERROR,
            "JSON value of type bool is not of expected type object",
        ));
    };
    if let Some(add) = map.get("add_inputs").and_then(Value::as_bool) {
        spend.add_inputs = add;
    }
    if let Some(unsafe_ok) = map.get("include_unsafe").and_then(Value::as_bool) {
        spend.include_unsafe = unsafe_ok;
    }
    if let Some(text) = map
        .get("change_address")
        .or_else(|| map.get("changeAddress"))
        .and_then(Value::as_str)
    {
        let address = parse_address(
            wallet,
            text,
            "Change address must be a valid bitcoin address",
        )?;
        spend.change_script = Some(address.script_pubkey());
    }
    if let Some(position) = map
        .get("change_position")
        .or_else(|| map.get("changePosition"))
        .and_then(Value::as_i64)
    {
        if position < 0 || position as usize > outputs {
            return Err(invalid_parameter("changePosition out of bounds"));
        }
        spend.change_position = Some(position as usize);
    }
    if let Some(kind) = map.get("change_type").and_then(Value::as_str) {
        if spend.change_script.is_some() {
            return Err(invalid_parameter(
                "Cannot specify both change address and address type options",
            ));
        }
        spend.change_type = Some(AddressType::parse(kind).ok_or_else(|| {
            RpcError::new(
                code::INVALID_ADDRESS_OR_KEY,
                format!("Unknown change type '{kind}'"),
            )
        })?);
    }
    if let Some(replaceable) = map.get("replaceable").and_then(Value::as_bool) {
        spend.replaceable = replaceable;
    }
    lock_unspents = map
        .get("lock_unspents")
        .or_else(|| map.get("lockUnspents"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(rate) = map.get("feeRate") {
        // BTC/kvB, the old option.
        spend.fee_rate = Some(interfaces::rpc::amount::parse(rate)?);
    }
    fee_choice(
        &mut spend,
        map.get("conf_target"),
        map.get("estimate_mode"),
        map.get("fee_rate"),
    )?;
    if let Some(Value::Array(list)) = map
        .get("subtract_fee_from_outputs")
        .or_else(|| map.get("subtractFeeFromOutputs"))
    {
        for entry in list {
            let index = entry.as_i64().ok_or_else(|| {
                invalid_parameter(
                    "Invalid parameter, subtract fee from output index must be a number",
                )
            })?;
            if index < 0 || index as usize >= outputs {
                return Err(invalid_parameter(format!(
                    "Invalid parameter, value {index} is out of range"
                )));
            }
            if subtract.contains(&(index as usize)) {
                return Err(invalid_parameter(format!(
                    "Invalid parameter, duplicated position: {index}"
                )));
            }
            subtract.push(index as usize);
        }
    }
    if let Some(Value::Array(inputs)) = map.get("inputs") {
        spend.inputs = super::parse_outpoints(inputs)?;
    }
    Ok((spend, subtract, lock_unspents))
}

/// Funds `outputs` without signing or committing (fundrawtransaction,
/// walletcreatefundedpsbt); the change script is handed out for good.
fn fund_only(
    call: &Call,
    outputs: Vec<TxOut>,
    subtract: Vec<usize>,
    options: &SpendOptions,
    lock: bool,
) -> Result<(Funded, std::sync::Arc<Wallet>), RpcError> {
    let wallet = call.wallet()?;
    let mut state = wallet.synced();
    let funded = wallet
        .commit_with(&mut state, |state, batch| {
            wallet.fund(state, outputs, subtract, options, batch)
        })
        .map_err(|e| match e {
            // Core reports funding failures here as wallet errors.
            WalletError::InsufficientFunds | WalletError::AmountTooSmall => {
                RpcError::new(code::WALLET_ERROR, e.to_string())
            }
            other => rpc_error(other),
        })?;
    if lock {
        for input in &funded.tx.input {
            state.locked_coins.insert(input.previous_output);
        }
    }
    drop(state);
    Ok((funded, wallet))
}

static SEND: WalletMethod = WalletMethod {
    name: "send",
    args: &[
        required(
            "outputs",
            Kind::Any,
            "The outputs specified as key-value pairs.",
        ),
        optional("conf_target", Kind::Num, "Confirmation target in blocks"),
        optional("estimate_mode", Kind::Str, "The fee estimate mode"),
        optional("fee_rate", Kind::NumOrStr, "Specify a fee rate in sat/vB."),
        optional("options", Kind::Obj, "Options"),
    ],
    summary: "Send a transaction.",
    run: |call| {
        let wallet = call.wallet()?;
        let outputs = parse_outputs(&wallet, call.params.get(0).unwrap_or(&Value::Null))?;
        let options_value = call.params.get(4);
        let (mut options, subtract, _) = spend_options(&wallet, options_value, outputs.len())?;
        fee_choice(
            &mut options,
            call.params.get(1),
            call.params.get(2),
            call.params.get(3),
        )?;
        let add_to_wallet = options_value
            .and_then(|o| o.get("add_to_wallet"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let want_psbt = options_value
            .and_then(|o| o.get("psbt"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if add_to_wallet {
            let (tx, _) = pay(call, outputs, subtract, &options, None, None)?;
            let mut result = json!({ "txid": tx.compute_txid().to_string(), "complete": true });
            if want_psbt {
                let psbt = Psbt::from_unsigned_tx(strip(&tx))
                    .map_err(|e| RpcError::new(code::WALLET_ERROR, e.to_string()))?;
                result["psbt"] = json!(psbt_base64(&psbt));
            }
            return Ok(result);
        }
        let (funded, wallet) = fund_only(call, outputs, subtract, &options, false)?;
        let now = wallet.chain.now();
        let state = wallet.synced();
        let mut psbt = Psbt::from_unsigned_tx(funded.tx.clone())
            .map_err(|e| RpcError::new(code::WALLET_ERROR, e.to_string()))?;
        let complete = wallet
            .process_psbt(&state, &mut psbt, true, true, now)
            .map_err(rpc_error)?;
        let mut result = json!({});
        if complete {
            result["hex"] = json!(serialize_hex(&psbt.clone().extract_tx_unchecked_fee_rate()));
        }
        if !complete || want_psbt {
            result["psbt"] = json!(psbt_base64(&psbt));
        }
        result["complete"] = json!(complete);
        Ok(result)
    },
};

/// `tx` without signatures, as a PSBT's unsigned transaction.
fn strip(tx: &Transaction) -> Transaction {
    let mut bare = tx.clone();
    for input in &mut bare.input {
        input.script_sig = ScriptBuf::new();
        input.witness = bitcoin::Witness::new();
    }
    bare
}

static FUNDRAWTRANSACTION: WalletMethod = WalletMethod {
    name: "fundrawtransaction",
    args: &[
        required("hexstring", Kind::Str, "The hex string of the raw transaction"),
        optional("options", Kind::Any, "Options object"),
        optional("iswitness", Kind::Bool, "Whether the transaction hex is a serialized witness transaction."),
    ],
    summary: "If the transaction has no inputs, they will be automatically selected to meet its out value.",
    run: |call| {
        let tx = decode_tx(call.params.str(0).unwrap_or_default())?;
        let wallet = call.wallet()?;
        let (mut options, subtract, lock) = spend_options(&wallet, call.params.get(1).filter(|v| v.is_object()), tx.output.len())?;
        options.inputs.extend(tx.input.iter().map(|i| i.previous_output));
        if tx.lock_time.to_consensus_u32() != 0 {
            options.lock_time = Some(tx.lock_time.to_consensus_u32());
        }
        let (funded, _) = fund_only(call, tx.output.clone(), subtract, &options, lock)?;
        Ok(json!({
            "hex": serialize_hex(&funded.tx),
            "fee": amount(funded.fee),
            "changepos": funded.change_position.map_or(-1, |p| p as i64),
        }))
    },
};

static WALLETCREATEFUNDEDPSBT: WalletMethod = WalletMethod {
    name: "walletcreatefundedpsbt",
    args: &[
        optional(
            "inputs",
            Kind::Arr,
            "Leave empty to add inputs automatically.",
        ),
        required(
            "outputs",
            Kind::Any,
            "The outputs specified as key-value pairs.",
        ),
        optional(
            "locktime",
            Kind::Num,
            "Raw locktime. Non-0 value also locktime-activates inputs",
        ),
        optional("options", Kind::Obj, "Options"),
        optional(
            "bip32derivs",
            Kind::Bool,
            "Include BIP 32 derivation paths for public keys if we know them",
        ),
    ],
    summary: "Creates and funds a transaction in the Partially Signed Transaction format.",
    run: |call| {
        let wallet = call.wallet()?;
        let outputs = parse_outputs(&wallet, call.params.get(1).unwrap_or(&Value::Null))?;
        let (mut options, subtract, lock) =
            spend_options(&wallet, call.params.get(3), outputs.len())?;
        if let Some(Value::Array(inputs)) = call.params.get(0) {
            options.inputs.extend(super::parse_outpoints(inputs)?);
        }
        if let Some(lock_time) = call.params.get(2).and_then(Value::as_i64) {
            options.lock_time = Some(
                u32::try_from(lock_time)
                    .map_err(|_| invalid_parameter("Invalid parameter, locktime out of range"))?,
            );
        }
        let (funded, wallet) = fund_only(call, outputs, subtract, &options, lock)?;
        let now = wallet.chain.now();
        let state = wallet.synced();
        let mut psbt = Psbt::from_unsigned_tx(funded.tx.clone())
            .map_err(|e| RpcError::new(code::WALLET_ERROR, e.to_string()))?;
        wallet
            .process_psbt(&state, &mut psbt, false, false, now)
            .map_err(rpc_error)?;
        Ok(json!({
            "psbt": psbt_base64(&psbt),
            "fee": amount(funded.fee),
            "changepos": funded.change_position.map_or(-1, |p| p as i64),
        }))
    },
};

static WALLETPROCESSPSBT: WalletMethod = WalletMethod {
    name: "walletprocesspsbt",
    args: &[
        required("psbt", Kind::Str, "The transaction base64 string"),
        optional("sign", Kind::Bool, "Also sign the transaction when updating (requires wallet to be unlocked)"),
        optional("sighashtype", Kind::Str, "The signature hash type to sign with if not specified by the PSBT."),
        optional("bip32derivs", Kind::Bool, "Include BIP 32 derivation paths for public keys if we know them"),
        optional("finalize", Kind::Bool, "Also finalize inputs if possible"),
    ],
    summary: "Update a PSBT with input information from our wallet and then sign inputs that we can sign for.",
    run: |call| {
        let wallet = call.wallet()?;
        let mut psbt = decode_psbt(call.params.str(0).unwrap_or_default())?;
        let sign = call.params.bool_or(1, true);
        if let Some(kind) = call.params.str(2) {
            if !["DEFAULT", "ALL", "NONE", "SINGLE", "ALL|ANYONECANPAY", "NONE|ANYONECANPAY", "SINGLE|ANYONECANPAY"].contains(&kind) {
                return Err(RpcError::new(code::INVALID_PARAMETER, format!("'{kind}' is not a valid sighash parameter.")));
            }
        }
        let finalize = call.params.bool_or(4, true);
        let now = wallet.chain.now();
        let state = wallet.synced();
        if sign && state.is_locked(now) {
            return Err(rpc_error(WalletError::Locked));
        }
        let complete = wallet
            .process_psbt(&state, &mut psbt, sign && !state.flags.disable_private_keys, finalize, now)
            .map_err(rpc_error)?;
        let mut result = json!({ "psbt": psbt_base64(&psbt), "complete": complete });
        if complete && finalize {
            result["hex"] = json!(serialize_hex(&psbt.extract_tx_unchecked_fee_rate()));
        }
        Ok(result)
    },
};

static SIGNRAWTRANSACTIONWITHWALLET: WalletMethod = WalletMethod {
    name: "signrawtransactionwithwallet",
    args: &[
        required("hexstring", Kind::Str, "The transaction hex string"),
        optional(
            "prevtxs",
            Kind::Arr,
            "The previous dependent transaction outputs",
        ),
        optional("sighashtype", Kind::Str, "The signature hash type."),
    ],
    summary: "Sign inputs for raw transaction (serialized, hex-encoded).",
    run: |call| {
        let wallet = call.wallet()?;
        let tx = decode_tx(call.params.str(0).unwrap_or_default())?;
        let now = wallet.chain.now();
        let state = wallet.synced();
        if state.is_locked(now) {
            return Err(rpc_error(WalletError::Locked));
        }
        let mut psbt = Psbt::from_unsigned_tx(strip(&tx))
            .map_err(|e| RpcError::new(code::DESERIALIZATION_ERROR, e.to_string()))?;
        wallet
            .process_psbt(&state, &mut psbt, true, true, now)
            .map_err(rpc_error)?;
        let mut signed = psbt.clone().extract_tx_unchecked_fee_rate();
        // Inputs we could not sign keep whatever signatures they came with.
        let mut errors = Vec::new();
        for (index, input) in signed.input.iter_mut().enumerate() {
            if input.script_sig.is_empty() && input.witness.is_empty() {
                input.script_sig = tx.input[index].script_sig.clone();
                input.witness = tx.input[index].witness.clone();
            }
            if input.script_sig.is_empty() && input.witness.is_empty() {
                errors.push(json!({
                    "txid": input.previous_output.txid.to_string(),
                    "vout": input.previous_output.vout,
                    "witness": [],
                    "scriptSig": "",
                    "sequence": input.sequence.0,
                    "error": if state.our_output(&input.previous_output).is_some() { "Unable to sign input" } else { "Input not found or already spent" },
                }));
            }
        }
        let mut result = json!({ "hex": serialize_hex(&signed), "complete": errors.is_empty() });
        if !errors.is_empty() {
            result["errors"] = Value::Array(errors);
        }
        Ok(result)
    },
};

static SETTXFEE: WalletMethod = WalletMethod {
    name: "settxfee",
    args: &[required("amount", Kind::NumOrStr, "The transaction fee rate in BTC/kvB")],
    summary: "Set the transaction fee rate in BTC/kvB for this wallet. Overrides the global -paytxfee command line parameter.",
    run: |call| {
        let wallet = call.wallet()?;
        let rate = interfaces::rpc::amount::parse(call.params.get(0).unwrap_or(&Value::Null))?;
        let relay = wallet.chain.relay_min_fee().to_sat_per_kwu() * 4;
        // Core prints fee rates here as BTC/kvB with eight decimals.
        let btc_kvb = |rate: u64| format!("{}.{:08} BTC/kvB", rate / 100_000_000, rate % 100_000_000);
        if rate != 0 && rate < relay {
            return Err(invalid_parameter(format!("txfee cannot be less than min relay tx fee ({})", btc_kvb(relay))));
        }
        if rate != 0 && rate < MIN_TX_FEE {
            return Err(invalid_parameter(format!("txfee cannot be less than wallet min fee ({})", btc_kvb(MIN_TX_FEE))));
        }
        if rate > MAX_TX_FEE.to_sat() {
            return Err(invalid_parameter(format!("txfee cannot be more than wallet max tx fee ({})", btc_kvb(MAX_TX_FEE.to_sat()))));
        }
        // In memory only, as Core keeps it: a reload forgets it.
        wallet.synced().pay_tx_fee = rate;
        Ok(json!(true))
    },
};
