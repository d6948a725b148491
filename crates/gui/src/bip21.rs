//! `bitcoin:` URIs (BIP21) as Core's GUI reads and writes them: the
//! address, then `amount` (BTC, at most 8 decimals), `label` and
//! `message`; an unknown `req-` parameter makes the whole URI unusable,
//! other unknown parameters are ignored. Unlike Core, a bad URI says what
//! is wrong with it, and the address is checked against the network.

use std::fmt;

use bitcoin::address::NetworkUnchecked;
use bitcoin::{Address, Amount, Network};

/// What a `bitcoin:` URI asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRequest {
    pub address: Address,
    pub amount: Option<Amount>,
    pub label: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bip21Error {
    /// Not `bitcoin:` (`bitcoin://` included, which BIP21 never allowed).
    Scheme(String),
    MissingAddress,
    Address {
        address: String,
        reason: String,
    },
    WrongNetwork {
        address: String,
        expected: Network,
    },
    Amount {
        value: String,
        reason: &'static str,
    },
    /// A `req-` parameter this wallet does not understand.
    RequiredParameter(String),
    Duplicate(String),
    Encoding(String),
}

impl fmt::Display for Bip21Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bip21Error::Scheme(uri) if uri.to_ascii_lowercase().starts_with("bitcoin://") => {
                write!(f, "'bitcoin://' is not a valid URI. Use 'bitcoin:' instead.")
            }
            Bip21Error::Scheme(uri) => write!(f, "'{uri}' is not a bitcoin: URI"),
            Bip21Error::MissingAddress => write!(f, "the URI names no address"),
            Bip21Error::Address { address, reason } => {
                write!(f, "'{address}' is not a valid address: {reason}")
            }
            Bip21Error::WrongNetwork { address, expected } => write!(
                f,
                "'{address}' is not an address for {} (this node's network)",
                network_name(*expected)
            ),
            Bip21Error::Amount { value, reason } => write!(f, "amount '{value}': {reason}"),
            Bip21Error::RequiredParameter(key) => write!(
                f,
                "the URI requires '{key}', which this wallet does not understand; nothing was filled in"
            ),
            Bip21Error::Duplicate(key) => write!(f, "the URI gives '{key}' more than once"),
            Bip21Error::Encoding(part) => write!(f, "'{part}' is not valid percent-encoding"),
        }
    }
}

impl std::error::Error for Bip21Error {}

/// Core's chain name for a network (`main`, `test`, `signet`, `regtest`).
pub fn network_name(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "main",
        Network::Testnet | Network::Testnet4 => "test",
        Network::Signet => "signet",
        Network::Regtest => "regtest",
    }
}

/// Parses an address typed or pasted by a user, for `network`.
pub fn parse_address(text: &str, network: Network) -> Result<Address, Bip21Error> {
    let text = text.trim();
    let unchecked: Address<NetworkUnchecked> =
        text.parse()
            .map_err(|e: bitcoin::address::ParseError| Bip21Error::Address {
                address: text.to_string(),
                reason: e.to_string(),
            })?;
    unchecked
        .require_network(network)
        .map_err(|_| Bip21Error::WrongNetwork {
            address: text.to_string(),
            expected: network,
        })
}

/// Parses a BTC amount as Core's GUI does: digits, at most one `.`, at
/// most 8 decimals, no sign, no exponent, no thousands separators.
pub fn parse_btc(text: &str) -> Result<Amount, Bip21Error> {
    let bad = |reason| Bip21Error::Amount {
        value: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    let (whole, fraction) = trimmed.split_once('.').unwrap_or((trimmed, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(bad("expected a number of BTC such as 0.5"));
    }
    if fraction.len() > 8 {
        return Err(bad("more than 8 decimals"));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad("too large"))?
    };
    let fraction: u64 = format!("{fraction:0<8}")
        .parse()
        .map_err(|_| bad("too large"))?;
    whole
        .checked_mul(100_000_000)
        .and_then(|sats| sats.checked_add(fraction))
        .filter(|sats| *sats <= Amount::MAX_MONEY.to_sat())
        .map(Amount::from_sat)
        .ok_or_else(|| bad("more than 21 million BTC"))
}

/// An amount in BTC with as few decimals as it needs (at least one).
pub fn format_btc(amount: Amount) -> String {
    let sats = amount.to_sat();
    let text = format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000);
    let trimmed = text.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

pub fn parse(uri: &str, network: Network) -> Result<PaymentRequest, Bip21Error> {
    let uri = uri.trim();
    let rest = match uri.split_once(':') {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("bitcoin") && !rest.starts_with("//") =>
        {
            rest
        }
        _ => return Err(Bip21Error::Scheme(uri.to_string())),
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let address_text = decode(path.strip_suffix('/').unwrap_or(path))?;
    if address_text.is_empty() {
        return Err(Bip21Error::MissingAddress);
    }
    let address = parse_address(&address_text, network)?;
    let mut request = PaymentRequest {
        address,
        amount: None,
        label: String::new(),
        message: String::new(),
    };
    let mut seen = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key)?;
        let value = decode(raw_value)?;
        let (name, required) = match key.strip_prefix("req-") {
            Some(name) => (name.to_string(), true),
            None => (key.clone(), false),
        };
        if ["amount", "label", "message"].contains(&name.as_str()) {
            if seen.contains(&name) {
                return Err(Bip21Error::Duplicate(name));
            }
            seen.push(name.clone());
        }
        match name.as_str() {
            "amount" if value.is_empty() => {}
            "amount" => request.amount = Some(parse_btc(&value)?),
            "label" => request.label = value,
            "message" => request.message = value,
            _ if required => return Err(Bip21Error::RequiredParameter(key)),
            _ => {}
        }
    }
    Ok(request)
}

/// The URI for a request: bech32 addresses upper-cased (a QR code's
/// alphanumeric mode then holds them), amount only when above zero,
/// label and message percent-encoded.
pub fn format(request: &PaymentRequest) -> String {
    let address = request.address.to_string();
    let bech32 = matches!(
        request.address.address_type(),
        Some(
            bitcoin::AddressType::P2wpkh | bitcoin::AddressType::P2wsh | bitcoin::AddressType::P2tr
        )
    );
    let mut uri = format!(
        "bitcoin:{}",
        if bech32 {
            address.to_ascii_uppercase()
        } else {
            address
        }
    );
    let mut params = Vec::new();
    if let Some(amount) = request.amount.filter(|a| *a > Amount::ZERO) {
        params.push(format!("amount={}", format_btc(amount)));
    }
    if !request.label.is_empty() {
        params.push(format!("label={}", encode(&request.label)));
    }
    if !request.message.is_empty() {
        params.push(format!("message={}", encode(&request.message)));
    }
    if !params.is_empty() {
        uri.push('?');
        uri.push_str(&params.join("&"));
    }
    uri
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn decode(text: &str) -> Result<String, Bip21Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Bip21Error::Encoding(text.to_string()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Bip21Error::Encoding(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGTEST_BECH32: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    const MAINNET_BECH32: &str = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";

    #[test]
    fn reads_address_amount_label_and_message() {
        let uri = format!("bitcoin:{REGTEST_BECH32}?amount=1.5&label=Luke%20Jr&message=Donation%20for%20project%20xyz");
        let request = parse(&uri, Network::Regtest).unwrap();
        assert_eq!(request.address.to_string(), REGTEST_BECH32);
        assert_eq!(request.amount, Some(Amount::from_sat(150_000_000)));
        assert_eq!(request.label, "Luke Jr");
        assert_eq!(request.message, "Donation for project xyz");
        // Scheme case and a trailing slash do not matter; req- known names are fine.
        let request = parse(
            &format!("BITCOIN:{REGTEST_BECH32}/?req-amount=0.00000001"),
            Network::Regtest,
        )
        .unwrap();
        assert_eq!(request.amount, Some(Amount::from_sat(1)));
        // Unknown optional parameters are ignored.
        assert!(parse(
            &format!("bitcoin:{REGTEST_BECH32}?somethingnew=1"),
            Network::Regtest
        )
        .is_ok());
    }

    #[test]
    fn malformed_uris_say_what_is_wrong() {
        let cases = [
            (
                format!("bitcoin://{REGTEST_BECH32}"),
                "'bitcoin://' is not a valid URI",
            ),
            (
                format!("litecoin:{REGTEST_BECH32}"),
                "is not a bitcoin: URI",
            ),
            ("bitcoin:".to_string(), "names no address"),
            (
                "bitcoin:notanaddress".to_string(),
                "'notanaddress' is not a valid address",
            ),
            (
                format!("bitcoin:{MAINNET_BECH32}"),
                "not an address for regtest",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?amount=1.123456789"),
                "more than 8 decimals",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?amount=1e3"),
                "expected a number of BTC",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?amount=-1"),
                "expected a number of BTC",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?amount=21000001"),
                "more than 21 million",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?req-somethingnew=1"),
                "requires 'req-somethingnew'",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?amount=1&amount=2"),
                "'amount' more than once",
            ),
            (
                format!("bitcoin:{REGTEST_BECH32}?label=%ZZ"),
                "not valid percent-encoding",
            ),
        ];
        for (uri, expected) in cases {
            let error = parse(&uri, Network::Regtest).unwrap_err().to_string();
            assert!(error.contains(expected), "{uri}: {error}");
        }
    }

    #[test]
    fn written_uris_read_back() {
        let request = PaymentRequest {
            address: parse_address(REGTEST_BECH32, Network::Regtest).unwrap(),
            amount: Some(Amount::from_sat(2_000_010)),
            label: "rent & bills".into(),
            message: "März=100%".into(),
        };
        let uri = format(&request);
        assert_eq!(
            uri,
            format!(
                "bitcoin:{}?amount=0.0200001&label=rent%20%26%20bills&message=M%C3%A4rz%3D100%25",
                REGTEST_BECH32.to_ascii_uppercase()
            )
        );
        assert_eq!(parse(&uri, Network::Regtest).unwrap(), request);
        let bare = PaymentRequest {
            amount: Some(Amount::ZERO),
            label: String::new(),
            message: String::new(),
            ..request
        };
        assert_eq!(
            format(&bare),
            format!("bitcoin:{}", REGTEST_BECH32.to_ascii_uppercase())
        );
    }

    #[test]
    fn btc_amounts_format_and_parse() {
        for (text, sats) in [
            ("0.0", 0),
            ("1.0", 100_000_000),
            ("0.00000001", 1),
            ("12.3456", 1_234_560_000),
        ] {
            assert_eq!(format_btc(Amount::from_sat(sats)), text);
            assert_eq!(parse_btc(text).unwrap().to_sat(), sats);
        }
        assert_eq!(parse_btc(".5").unwrap().to_sat(), 50_000_000);
        assert_eq!(parse_btc("5.").unwrap().to_sat(), 500_000_000);
        assert!(parse_btc(".").is_err());
        assert!(parse_btc("1,000").is_err());
    }
}
