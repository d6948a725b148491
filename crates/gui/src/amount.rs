//! Amounts as the GUI shows them: BTC with all eight decimals (Core's
//! GUI style), or masked.

use bitcoin::{Amount, SignedAmount};

pub fn btc(amount: Amount) -> String {
    signed_btc(amount.to_signed().unwrap_or(SignedAmount::MAX))
}

pub fn signed_btc(amount: SignedAmount) -> String {
    let sats = amount.to_sat();
    let sign = if sats < 0 { "-" } else { "" };
    let abs = sats.unsigned_abs();
    format!("{sign}{}.{:08} BTC", abs / 100_000_000, abs % 100_000_000)
}

/// Core's "Mask values": every digit becomes `#`.
pub fn masked(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

pub fn shown(amount: Amount, mask: bool) -> String {
    let text = btc(amount);
    if mask {
        masked(&text)
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_decimals_and_masking() {
        assert_eq!(btc(Amount::from_sat(150_000_000)), "1.50000000 BTC");
        assert_eq!(signed_btc(SignedAmount::from_sat(-1)), "-0.00000001 BTC");
        assert_eq!(
            shown(Amount::from_sat(2_500_000_000), true),
            "##.######## BTC"
        );
    }
}
