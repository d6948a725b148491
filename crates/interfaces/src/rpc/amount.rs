//! Amounts in JSON as Bitcoin Core reads and writes them: BTC with at
//! most eight decimals, exactly (no floating point on the way).

use bitcoin::Amount;
use serde_json::Value;

use super::error::{code, RpcError};

/// 21 million bitcoins, in satoshis: no amount may exceed it.
pub const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

/// Satoshis as a JSON number of bitcoins with eight decimals, as Core's
/// `ValueFromAmount` prints them.
pub fn to_json(value: Amount) -> Value {
    let sats = value.to_sat();
    let text = format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000);
    serde_json::from_str(&text).expect("a decimal number")
}

/// A JSON amount in BTC as satoshis, the way Core's `AmountFromValue`
/// reads it: a number or numeric string, exponents allowed ("1E-8"), at
/// most eight decimals, not negative, not above 21 million.
pub fn parse(value: &Value) -> Result<u64, RpcError> {
    let out_of_range = || RpcError::new(code::TYPE_ERROR, "Amount out of range");
    let invalid = || RpcError::new(code::TYPE_ERROR, "Invalid amount");
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => {
            return Err(RpcError::new(
                code::TYPE_ERROR,
                "Amount is not a number or string",
            ))
        }
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (
            &text[..at],
            text[at + 1..].parse::<i32>().map_err(|_| invalid())?,
        ),
        None => (text.as_str(), 0),
    };
    if mantissa.starts_with('-') {
        return Err(out_of_range());
    }
    // Core's ParseFixedPoint takes exponents only within ±18; anything
    // larger can only be out of range or not an amount, and must not cost
    // a long loop to find out.
    if !(-18..=18).contains(&exponent) {
        return Err(if exponent > 0 {
            out_of_range()
        } else {
            invalid()
        });
    }
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    // digits × 10^(exponent + 8 - fraction length) satoshis, exactly.
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let scale = exponent + 8 - fraction.len() as i32;
    let mut sats: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| out_of_range())?
    };
    if scale >= 0 {
        for _ in 0..scale {
            sats = sats.checked_mul(10).ok_or_else(out_of_range)?;
        }
    } else {
        for _ in 0..-scale {
            if !sats.is_multiple_of(10) {
                return Err(invalid());
            }
            sats /= 10;
        }
    }
    u64::try_from(sats)
        .ok()
        .filter(|s| *s <= MAX_MONEY)
        .ok_or_else(out_of_range)
}
