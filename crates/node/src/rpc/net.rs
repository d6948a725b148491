//! The network RPCs: getpeerinfo, getconnectioncount, addnode,
//! disconnectnode, getaddednodeinfo, getnettotals, setnetworkactive,
//! ping, and bans (setban, listbanned, clearbanned), with Bitcoin Core's
//! results and errors.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bitcoin::p2p::ServiceFlags;
use serde_json::{json, Value};

use super::error::{code, RpcError};
use super::params::{optional, required, Kind};
use super::table::Method;
use crate::context::Node;
use crate::net::ban::{Ban, Subnet};
use crate::net::peer::Peer;
use crate::net::Connman;

/// How long a `setban` without a time lasts (Core's `-bantime` default).
const DEFAULT_BANTIME: i64 = 24 * 60 * 60;

pub static METHODS: &[&Method] = &[
    &GETPEERINFO,
    &GETCONNECTIONCOUNT,
    &ADDNODE,
    &DISCONNECTNODE,
    &GETADDEDNODEINFO,
    &GETNETTOTALS,
    &SETNETWORKACTIVE,
    &PING,
    &SETBAN,
    &LISTBANNED,
    &CLEARBANNED,
];

/// The connection manager, or Core's error when P2P is off.
pub fn connman(node: &Node) -> Result<Arc<Connman>, RpcError> {
    node.connman().ok_or_else(|| {
        RpcError::new(
            code::CLIENT_P2P_DISABLED,
            "Error: Peer-to-peer functionality missing or disabled",
        )
    })
}

/// Core's names for service bits.
pub fn service_names(services: ServiceFlags) -> Vec<&'static str> {
    const NAMES: &[(u64, &str)] = &[
        (1, "NETWORK"),
        (2, "GETUTXO"),
        (4, "BLOOM"),
        (8, "WITNESS"),
        (64, "COMPACT_FILTERS"),
        (1024, "NETWORK_LIMITED"),
        (2048, "P2P_V2"),
    ];
    let bits = services.to_u64();
    NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Core's network name for an address.
fn network_name(ip: std::net::IpAddr) -> &'static str {
    let routable = match ip {
        std::net::IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified())
        }
        std::net::IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unspecified()),
    };
    match (routable, ip.is_ipv4()) {
        (false, _) => "not_publicly_routable",
        (true, true) => "ipv4",
        (true, false) => "ipv6",
    }
}

fn peer_info(peer: &Peer) -> Value {
    let state = peer.state();
    let version = state.version.clone();
    let services = version.as_ref().map_or(ServiceFlags::NONE, |v| v.services);
    let mut info = json!({
        "id": peer.id,
        "addr": peer.addr.to_string(),
        "addrbind": peer.local.to_string(),
        "network": network_name(peer.addr.ip()),
        "services": format!("{:016x}", services.to_u64()),
        "servicesnames": service_names(services),
        "relaytxes": version.as_ref().is_some_and(|v| v.relay),
        "lastsend": state.last_send,
        "lastrecv": state.last_recv,
        "last_transaction": state.last_tx,
        "last_block": state.last_block,
        "bytessent": peer.bytes_sent.load(Ordering::Relaxed),
        "bytesrecv": peer.bytes_received.load(Ordering::Relaxed),
        "conntime": peer.connected_at,
        "timeoffset": 0,
        "version": version.as_ref().map_or(0, |v| v.version),
        "subver": version.as_ref().map_or(String::new(), |v| v.user_agent.clone()),
        "inbound": peer.inbound(),
        "bip152_hb_to": false,
        "bip152_hb_from": false,
        "startingheight": version.as_ref().map_or(-1, |v| v.start_height),
        "presynced_headers": -1,
        "synced_headers": state.best_known.map_or(-1, |(_, h)| h as i64),
        "synced_blocks": state.best_known.map_or(-1, |(_, h)| h as i64),
        "inflight": [],
        "addr_relay_enabled": false,
        "addr_processed": 0,
        "addr_rate_limited": 0,
        "permissions": [],
        "minfeefilter": super::encode::amount(bitcoin::Amount::from_sat(state.fee_filter)),
        "bytessent_per_msg": state.sent_per_msg,
        "bytesrecv_per_msg": state.received_per_msg,
        "connection_type": peer.kind.name(),
        "transport_protocol_type": "v1",
        "session_id": "",
    });
    if let Some(ping) = state.ping_time {
        info["pingtime"] = super::encode::double(ping);
    }
    if let Some(ping) = state.min_ping {
        info["minping"] = super::encode::double(ping);
    }
    if let Some((_, sent)) = state.ping {
        info["pingwait"] = super::encode::double(sent.elapsed().as_secs_f64());
    }
    info
}

static GETPEERINFO: Method = Method {
    name: "getpeerinfo",
    category: "network",
    args: &[],
    summary: "Returns data about each connected network peer as a json array of objects.",
    handler: |node, _| {
        let connman = connman(node)?;
        Ok(Value::Array(
            connman.peers().iter().map(|p| peer_info(p)).collect(),
        ))
    },
};

static GETCONNECTIONCOUNT: Method = Method {
    name: "getconnectioncount",
    category: "network",
    args: &[],
    summary: "Returns the number of connections to other nodes.",
    handler: |node, _| Ok(json!(connman(node)?.peers().len())),
};

static ADDNODE: Method = Method {
    name: "addnode",
    category: "network",
    args: &[
        required("node", Kind::Str, "The address of the peer to connect to"),
        required(
            "command",
            Kind::Str,
            "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once",
        ),
        optional("v2transport", Kind::Bool, "Attempt to connect using BIP324 v2 transport protocol (ignored for 'remove' command)"),
    ],
    summary: "Attempts to add or remove a node from the addnode list.\nOr try a connection to a node once.",
    handler: |node, params| {
        let target = params.str(0).unwrap_or_default();
        let command = params.str(1).unwrap_or_default();
        let connman = connman(node)?;
        match command {
            "onetry" => connman.connect_once(target),
            "add" => {
                if !connman.add_node(target) {
                    return Err(RpcError::new(
                        code::CLIENT_NODE_ALREADY_ADDED,
                        "Error: Node already added",
                    ));
                }
            }
            "remove" => {
                if !connman.remove_node(target) {
                    return Err(RpcError::new(
                        code::CLIENT_NODE_NOT_ADDED,
                        "Error: Node could not be removed. It has not been added previously.",
                    ));
                }
            }
            _ => return Err(RpcError::new(code::MISC_ERROR, ADDNODE.help())),
        }
        Ok(Value::Null)
    },
};

static DISCONNECTNODE: Method = Method {
    name: "disconnectnode",
    category: "network",
    args: &[
        optional("address", Kind::Str, "The IP address/port of the node"),
        optional(
            "nodeid",
            Kind::Num,
            "The node ID (see getpeerinfo for node IDs)",
        ),
    ],
    summary: "Immediately disconnects from the specified peer node.",
    handler: |node, params| {
        let connman = connman(node)?;
        let address = params.str(0).filter(|a| !a.is_empty());
        let id = params.get(1).and_then(Value::as_u64);
        let peer = match (address, id) {
            (Some(address), None) => connman.find_by_target(address),
            (None, Some(id)) => connman.peer(id),
            _ => {
                return Err(RpcError::new(
                    code::INVALID_PARAMS,
                    "Only one of address and nodeid should be provided.",
                ))
            }
        };
        let peer = peer.ok_or_else(|| {
            RpcError::new(
                code::CLIENT_NODE_NOT_CONNECTED,
                "Node not found in connected nodes",
            )
        })?;
        peer.disconnect();
        Ok(Value::Null)
    },
};

static GETADDEDNODEINFO: Method = Method {
    name: "getaddednodeinfo",
    category: "network",
    args: &[optional(
        "node",
        Kind::Str,
        "If provided, return information about this specific node, otherwise all nodes are returned.",
    )],
    summary: "Returns information about the given added node, or all added nodes\n(note that onetry addnodes are not listed here)",
    handler: |node, params| {
        let connman = connman(node)?;
        let mut added = connman.added_nodes();
        if let Some(wanted) = params.str(0) {
            if !added.iter().any(|a| a == wanted) {
                return Err(RpcError::new(
                    code::CLIENT_NODE_NOT_ADDED,
                    "Error: Node has not been added.",
                ));
            }
            added.retain(|a| a == wanted);
        }
        Ok(Value::Array(
            added
                .into_iter()
                .map(|target| {
                    let peer = connman.find_by_target(&target);
                    let addresses = peer.as_ref().map_or(vec![], |p| {
                        vec![json!({
                            "address": p.addr.to_string(),
                            "connected": if p.inbound() { "inbound" } else { "outbound" },
                        })]
                    });
                    json!({
                        "addednode": target,
                        "connected": peer.is_some(),
                        "addresses": addresses,
                    })
                })
                .collect(),
        ))
    },
};

static GETNETTOTALS: Method = Method {
    name: "getnettotals",
    category: "network",
    args: &[],
    summary: "Returns information about network traffic, including bytes in, bytes out,\nand current system time.",
    handler: |node, _| {
        let connman = connman(node)?;
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Ok(json!({
            "totalbytesrecv": connman.bytes_received.load(Ordering::Relaxed),
            "totalbytessent": connman.bytes_sent.load(Ordering::Relaxed),
            "timemillis": millis,
            "uploadtarget": {
                "timeframe": 86400,
                "target": 0,
                "target_reached": false,
                "serve_historical_blocks": true,
                "bytes_left_in_cycle": 0,
                "time_left_in_cycle": 0,
            },
        }))
    },
};

static SETNETWORKACTIVE: Method = Method {
    name: "setnetworkactive",
    category: "network",
    args: &[required(
        "state",
        Kind::Bool,
        "true to enable networking, false to disable",
    )],
    summary: "Disable/enable all p2p network activity.",
    handler: |node, params| {
        let active = params.bool_or(0, true);
        let connman = connman(node)?;
        connman.set_active(active);
        Ok(json!(connman.is_active()))
    },
};

static PING: Method = Method {
    name: "ping",
    category: "network",
    args: &[],
    summary: "Requests that a ping be sent to all other nodes, to measure ping time.\nResults are provided in getpeerinfo, pingtime and pingwait fields are decimal seconds.\nPing command is handled in queue with all other commands, so it measures processing backlog, not just network ping.",
    handler: |node, _| {
        for peer in connman(node)?.peers() {
            crate::net::peer::request_ping(&peer);
        }
        Ok(Value::Null)
    },
};

static SETBAN: Method = Method {
    name: "setban",
    category: "network",
    args: &[
        required("subnet", Kind::Str, "The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = single IP)"),
        required("command", Kind::Str, "'add' to add an IP/Subnet to the list, 'remove' to remove an IP/Subnet from the list"),
        optional("bantime", Kind::Num, "time in seconds how long (or until when if [absolute] is set) the IP is banned (0 or empty means using the default time of 24h which can also be overwritten by the -bantime startup argument)"),
        optional("absolute", Kind::Bool, "If set, the bantime must be an absolute timestamp expressed in UNIX epoch time"),
    ],
    summary: "Attempts to add or remove an IP/Subnet from the banned list.",
    handler: |node, params| {
        let command = params.str(1).unwrap_or_default();
        if command != "add" && command != "remove" {
            return Err(RpcError::new(code::MISC_ERROR, SETBAN.help()));
        }
        let connman = connman(node)?;
        let subnet = params.str(0).and_then(Subnet::parse).ok_or_else(|| {
            RpcError::new(code::CLIENT_INVALID_IP_OR_SUBNET, "Error: Invalid IP/Subnet")
        })?;
        if command == "remove" {
            if !connman.bans().unban(&subnet) {
                return Err(RpcError::new(
                    code::CLIENT_INVALID_IP_OR_SUBNET,
                    "Error: Unban failed. Requested address/subnet was not previously manually banned.",
                ));
            }
            return Ok(Value::Null);
        }
        let now = node.now() as i64;
        let bantime = params.i64_or(2, 0)?;
        let absolute = params.bool_or(3, false);
        let until = if absolute {
            if bantime <= now {
                return Err(RpcError::new(
                    code::INVALID_PARAMETER,
                    "Error: Absolute timestamp is in the past",
                ));
            }
            bantime
        } else if bantime <= 0 {
            now + DEFAULT_BANTIME
        } else {
            now.checked_add(bantime).ok_or_else(|| {
                RpcError::new(code::INVALID_PARAMETER, "Error: bantime is too large")
            })?
        };
        if !connman.bans().ban(subnet, Ban { created: now, until }) {
            return Err(RpcError::new(
                code::CLIENT_NODE_ALREADY_ADDED,
                "Error: IP/Subnet already banned",
            ));
        }
        connman.enforce_bans();
        Ok(Value::Null)
    },
};

static LISTBANNED: Method = Method {
    name: "listbanned",
    category: "network",
    args: &[],
    summary: "List all manually banned IPs/Subnets.",
    handler: |node, _| {
        let now = node.now() as i64;
        Ok(Value::Array(connman(node)?.bans().list(now)))
    },
};

static CLEARBANNED: Method = Method {
    name: "clearbanned",
    category: "network",
    args: &[],
    summary: "Clear all banned IPs.",
    handler: |node, _| {
        connman(node)?.bans().clear();
        Ok(Value::Null)
    },
};
