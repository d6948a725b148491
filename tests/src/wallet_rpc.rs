//! Helpers for the wallet's functional tests: a node with Core's test
//! fallback fee, amounts read exactly, balances, addresses, mining, and
//! error checks.

use bitcoin::{Amount, Denomination, SignedAmount};
use serde_json::{json, Value};

use super::{RpcError, TestNode};

/// Core's functional tests run wallets with this fallback fee rate.
pub const FALLBACK_FEE: &str = "-fallbackfee=0.0002";

pub fn node() -> TestNode {
    TestNode::start(&[FALLBACK_FEE])
}

pub fn btc(value: &Value) -> Amount {
    signed_btc(value)
        .to_unsigned()
        .unwrap_or_else(|_| panic!("{value} is negative"))
}

/// An amount as the node printed it (exact decimal; sends are negative).
pub fn signed_btc(value: &Value) -> SignedAmount {
    let text = value.to_string();
    let number: f64 = text
        .parse()
        .unwrap_or_else(|_| panic!("{text} is not a number"));
    // Printed with eight decimals; scientific notation only in tests' own
    // values, where f64 is exact enough at satoshi scale.
    if text.contains(['e', 'E']) {
        return SignedAmount::from_sat((number * 1e8).round() as i64);
    }
    SignedAmount::from_str_in(&text, Denomination::Bitcoin)
        .unwrap_or_else(|e| panic!("{text} is not an amount: {e}"))
}

/// (trusted, untrusted_pending, immature) of wallet `name`.
pub fn balances(node: &TestNode, name: &str) -> (Amount, Amount, Amount) {
    let mine = &node.wallet_call(name, "getbalances", json!([]))["mine"];
    (
        btc(&mine["trusted"]),
        btc(&mine["untrusted_pending"]),
        btc(&mine["immature"]),
    )
}

pub fn new_address(node: &TestNode, name: &str) -> String {
    node.wallet_call(name, "getnewaddress", json!([]))
        .as_str()
        .unwrap()
        .to_string()
}

pub fn mine_to(node: &TestNode, count: u32, address: &str) -> Vec<String> {
    node.call("generatetoaddress", json!([count, address]))
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

/// A wallet `name` holding one mature 50 BTC coinbase (101 blocks).
pub fn funded(node: &TestNode, name: &str) -> String {
    node.call("createwallet", json!([name]));
    let address = new_address(node, name);
    mine_to(node, 101, &address);
    address
}

pub fn expect_error(result: Result<Value, RpcError>, code: i64, message: &str) {
    match result {
        Ok(value) => panic!("expected error {code} \"{message}\", got {value}"),
        Err(error) => {
            assert_eq!(error.code, code, "{}", error.message);
            assert!(
                error.message.contains(message),
                "\"{}\" does not contain \"{message}\"",
                error.message
            );
        }
    }
}

pub const FIFTY: Amount = Amount::from_sat(5_000_000_000);
