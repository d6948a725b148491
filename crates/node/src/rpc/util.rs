//! validateaddress, getnetworkinfo.

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
    handler: |node, _| {
        let connman = node.connman();
        let peers = connman.as_ref().map_or(vec![], |c| c.peers());
        let inbound = peers.iter().filter(|p| p.inbound()).count();
        let services = crate::net::local_services();
        Ok(json!({
            "version": crate::VERSION_NUMBER,
            "subversion": format!("/c1pzo:{}/", env!("CARGO_PKG_VERSION")),
            "protocolversion": crate::net::PROTOCOL_VERSION,
            "localservices": format!("{:016x}", services.to_u64()),
            "localservicesnames": super::net::service_names(services),
            "localrelay": true,
            "timeoffset": 0,
            "networkactive": connman.as_ref().is_some_and(|c| c.is_active()),
            "connections": peers.len(),
            "connections_in": inbound,
            "connections_out": peers.len() - inbound,
            "networks": Value::Array(vec![]),
            "relayfee": encode::amount(bitcoin::Amount::from_sat(1000)),
            "incrementalfee": encode::amount(bitcoin::Amount::from_sat(1000)),
            "localaddresses": [],
            "warnings": [],
        }))
    },
};
