//! validateaddress, getnetworkinfo (the parts that need no P2P yet).

use serde_json::{json, Value};

use super::encode;
use super::params::{required, Kind};
use super::table::Method;

pub static METHODS: &[&Method] = &[&VALIDATEADDRESS, &GETNETWORKINFO];

static VALIDATEADDRESS: Method = Method {
    name: "validateaddress",
    category: "util",
    args: &[required(
        "address",
        Kind::Str,
        "The bitcoin address to validate",
    )],
    summary: "Return information about the given bitcoin address.",
    handler: |node, params| {
        let text = params.str(0).unwrap_or_default();
        match super::mining::parse_address(node, text) {
            Ok(address) => {
                let script = address.script_pubkey();
                let mut object = json!({
                    "isvalid": true,
                    "address": address.to_string(),
                    "scriptPubKey": hex::encode(script.as_bytes()),
                    "isscript": script.is_p2sh() || script.is_p2wsh() || script.is_p2tr(),
                    "iswitness": script.is_witness_program(),
                });
                if let Some(program) = script.witness_version() {
                    object["witness_version"] = json!(program.to_num());
                    object["witness_program"] = json!(hex::encode(&script.as_bytes()[2..]));
                }
                Ok(object)
            }
            Err(_) => Ok(json!({
                "isvalid": false,
                "error_locations": [],
                "error": "Invalid or unsupported Segwit (Bech32) or Base58 encoding.",
            })),
        }
    },
};

static GETNETWORKINFO: Method = Method {
    name: "getnetworkinfo",
    category: "network",
    args: &[],
    summary: "Returns an object containing various state info regarding P2P networking.",
    handler: |_, _| {
        Ok(json!({
            "version": crate::VERSION_NUMBER,
            "subversion": format!("/c1pzo:{}/", env!("CARGO_PKG_VERSION")),
            "protocolversion": 70016,
            "localservices": "0000000000000c09",
            "localservicesnames": ["NETWORK", "WITNESS", "NETWORK_LIMITED", "P2P_V2"],
            "localrelay": true,
            "timeoffset": 0,
            "networkactive": true,
            "connections": 0,
            "connections_in": 0,
            "connections_out": 0,
            "networks": Value::Array(vec![]),
            "relayfee": encode::amount(bitcoin::Amount::from_sat(1000)),
            "incrementalfee": encode::amount(bitcoin::Amount::from_sat(1000)),
            "localaddresses": [],
            "warnings": [],
        }))
    },
};
