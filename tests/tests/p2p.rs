//! Peer-to-peer networking between nodes over loopback, as Bitcoin Core
//! does it: connecting with `addnode`, blocks and transactions relayed
//! along a line of nodes, a restarted node catching up, a partition
//! healing onto the chain with more work, and the network RPCs (addnode,
//! getaddednodeinfo, disconnectnode, setnetworkactive, getnettotals,
//! ping, getnetworkinfo, setban / listbanned / clearbanned) with Core's
//! errors. `p2p/raw_peer.rs` talks to one node with a raw `TestPeer`,
//! `p2p/relay_peer.rs` relays transactions and blocks with raw peers.
//! Written against `C1PZOD`, so the same tests run against `c1pzo-node`.

use c1pzo_functional as harness;
#[path = "p2p/raw_peer.rs"]
mod raw_peer;
#[path = "p2p/relay_peer.rs"]
mod relay_peer;

use std::time::Duration;

use harness::net::*;
use harness::peer::TestPeer;
use harness::wallet_rpc::{expect_error, funded, mine_to, FALLBACK_FEE};
use harness::{TestNode, ADDRESS};
use serde_json::{json, Value};

const SYNC: Duration = Duration::from_secs(60);

/// What every `getpeerinfo` entry carries once the handshake is done
/// (`pingtime` and `minping` only after a pong, so not here).
const PEER_FIELDS: &[&str] = &[
    "id",
    "addr",
    "addrbind",
    "network",
    "services",
    "servicesnames",
    "relaytxes",
    "lastsend",
    "lastrecv",
    "last_transaction",
    "last_block",
    "bytessent",
    "bytesrecv",
    "conntime",
    "timeoffset",
    "version",
    "subver",
    "inbound",
    "startingheight",
    "presynced_headers",
    "synced_headers",
    "synced_blocks",
    "inflight",
    "permissions",
    "minfeefilter",
    "bytessent_per_msg",
    "bytesrecv_per_msg",
    "connection_type",
    "transport_protocol_type",
];

fn assert_peer_fields(entry: &Value) {
    for field in PEER_FIELDS {
        assert!(
            entry.get(field).is_some(),
            "getpeerinfo entry without `{field}`: {entry}"
        );
    }
    let services = entry["services"].as_str().expect("services as hex");
    assert_eq!(services.len(), 16, "{services}");
    assert!(
        services.chars().all(|c| c.is_ascii_hexdigit()),
        "{services}"
    );
    assert_eq!(entry["transport_protocol_type"], json!("v1"));
    assert_eq!(entry["network"], json!("not_publicly_routable"));
}

fn best_hash(node: &TestNode) -> String {
    node.call("getbestblockhash", json!([]))
        .as_str()
        .expect("a hash")
        .to_string()
}

fn height(node: &TestNode) -> i64 {
    node.call("getblockcount", json!([]))
        .as_i64()
        .expect("a height")
}

fn network_info(node: &TestNode) -> Value {
    node.call("getnetworkinfo", json!([]))
}

fn wait_for_connections(node: &TestNode, count: i64) {
    assert!(
        wait_until(Duration::from_secs(30), || connection_count(node) == count),
        "getconnectioncount stayed {} (wanted {count}): {:?}",
        connection_count(node),
        peers(node)
    );
}

#[test]
fn two_connected_nodes_list_each_other_and_share_blocks() {
    let a = TestNode::start(&[]);
    let b = TestNode::start(&[]);
    let (on_a, on_b) = connect_nodes(&a, &b);

    let a_peers = peers(&a);
    assert_eq!(a_peers.len(), 1, "{a_peers:?}");
    let outbound = &a_peers[0];
    assert_peer_fields(outbound);
    assert_eq!(outbound["id"].as_i64(), Some(on_a));
    assert_eq!(outbound["addr"], json!(p2p_addr(&b)));
    assert_eq!(outbound["inbound"], json!(false));
    assert_eq!(outbound["connection_type"], json!("manual"));
    assert!(outbound["version"].as_i64().unwrap() >= 70016, "{outbound}");
    assert!(
        outbound["subver"].as_str().unwrap().starts_with("/c1pzo:"),
        "{outbound}"
    );

    let b_peers = peers(&b);
    assert_eq!(b_peers.len(), 1, "{b_peers:?}");
    let inbound = &b_peers[0];
    assert_peer_fields(inbound);
    assert_eq!(inbound["id"].as_i64(), Some(on_b));
    assert_eq!(inbound["addr"], outbound["addrbind"]);
    assert_eq!(inbound["addrbind"], json!(p2p_addr(&b)));
    assert_eq!(inbound["inbound"], json!(true));
    assert_eq!(inbound["connection_type"], json!("inbound"));

    assert_eq!(connection_count(&a), 1);
    assert_eq!(connection_count(&b), 1);

    // Both ways: a's blocks reach b, then b's reach a.
    let mined = a.generate(5);
    sync_blocks(&[&a, &b], SYNC);
    assert_eq!(best_hash(&b), mined[4]);
    assert_eq!(height(&b), 5);
    let mined = mine_to(&b, 3, &other_address(3));
    sync_blocks(&[&a, &b], SYNC);
    assert_eq!(best_hash(&a), mined[2]);
    assert_eq!(height(&a), 8);
}

#[test]
fn a_transaction_and_a_block_travel_along_a_line_of_three_nodes() {
    let nodes: Vec<TestNode> = (0..3).map(|_| TestNode::start(&[FALLBACK_FEE])).collect();
    let all: Vec<&TestNode> = nodes.iter().collect();
    connect_nodes(&nodes[0], &nodes[1]);
    connect_nodes(&nodes[1], &nodes[2]);
    // A line: the ends only reach each other through the middle.
    assert_eq!(connection_count(&nodes[0]), 1);
    assert_eq!(connection_count(&nodes[1]), 2);
    assert_eq!(connection_count(&nodes[2]), 1);

    nodes[0].generate(20);
    sync_blocks(&all, SYNC);
    assert_eq!(height(&nodes[2]), 20);

    funded(&nodes[0], "w");
    sync_blocks(&all, SYNC);
    assert_eq!(height(&nodes[2]), 121);

    let txid = nodes[0].wallet_call("w", "sendtoaddress", json!([ADDRESS, 1.5]));
    let txid = txid.as_str().unwrap().to_string();
    sync_mempools(&all, SYNC);
    for node in &nodes {
        assert_eq!(mempool(node), vec![txid.clone()]);
    }

    let mined = mine_to(&nodes[2], 1, &other_address(2));
    sync_blocks(&all, SYNC);
    let block = nodes[0].call("getblock", json!([mined[0]]));
    assert!(
        block["tx"].as_array().unwrap().contains(&json!(txid)),
        "{block}"
    );
    sync_mempools(&all, SYNC);
    assert!(mempool(&nodes[0]).is_empty());
    let tx = nodes[0].wallet_call("w", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"].as_i64(), Some(1), "{tx}");
    assert_eq!(tx["blockhash"], json!(mined[0]));
}

#[test]
fn a_restarted_node_catches_up_with_blocks_mined_while_it_was_down() {
    let a = TestNode::start(&[]);
    let mut b = TestNode::start(&[]);
    connect_nodes(&a, &b);
    a.generate(5);
    sync_blocks(&[&a, &b], SYNC);

    assert!(b.stop().success());
    wait_for_connections(&a, 0);
    let mined = a.generate(10);
    b.launch();
    // It kept its own chain and heard of nothing while down.
    assert_eq!(height(&b), 5);
    connect_nodes(&b, &a);
    sync_blocks(&[&a, &b], SYNC);
    assert_eq!(best_hash(&b), mined[9]);
    assert_eq!(height(&b), 15);
}

#[test]
fn a_partition_heals_onto_the_chain_with_more_work() {
    let a = TestNode::start(&[]);
    let b = TestNode::start(&[]);
    connect_nodes(&a, &b);
    a.generate(10);
    sync_blocks(&[&a, &b], SYNC);

    // a opened the connection: it names b by b's listening address.
    assert_eq!(a.call("disconnectnode", json!([p2p_addr(&b)])), Value::Null);
    wait_for_connections(&a, 0);
    wait_for_connections(&b, 0);

    // Different payees: the two sides never mine the same block.
    let a_only = mine_to(&a, 3, ADDRESS);
    let b_only = mine_to(&b, 6, &other_address(6));
    assert_eq!(height(&a), 13);
    assert_eq!(height(&b), 16);

    connect_nodes(&a, &b);
    sync_blocks(&[&a, &b], SYNC);
    assert_eq!(best_hash(&a), b_only[5]);
    assert_eq!(height(&a), 16);
    for hash in &a_only {
        let block = a.call("getblock", json!([hash]));
        assert_eq!(block["confirmations"].as_i64(), Some(-1), "{block}");
    }
    let fork_base = a.call("getblockhash", json!([10]));
    assert_eq!(
        a.call("getblock", json!([b_only[0]]))["previousblockhash"],
        fork_base
    );
}

#[test]
fn addnode_getaddednodeinfo_and_disconnectnode_answer_as_core_does() {
    let a = TestNode::start(&[]);
    let b = TestNode::start(&[]);
    let target = p2p_addr(&b);

    assert_eq!(a.call("addnode", json!([target, "add"])), Value::Null);
    let connected = wait_until(Duration::from_secs(30), || {
        a.call("getaddednodeinfo", json!([target]))[0]["connected"] == json!(true)
    });
    assert!(
        connected,
        "the added node was not connected: {}",
        a.call("getaddednodeinfo", json!([target]))
    );
    let info = a.call("getaddednodeinfo", json!([target]));
    assert_eq!(info.as_array().unwrap().len(), 1, "{info}");
    assert_eq!(info[0]["addednode"], json!(target));
    assert_eq!(info[0]["addresses"][0]["address"], json!(target), "{info}");
    assert_eq!(info[0]["addresses"][0]["connected"], json!("outbound"));
    // Without an argument: every added node.
    assert_eq!(a.call("getaddednodeinfo", json!([])), info);
    let entry = peers(&a)
        .into_iter()
        .find(|p| p["addr"] == json!(target))
        .expect("the added node's connection");
    assert_eq!(entry["connection_type"], json!("manual"));

    expect_error(
        a.rpc("addnode", json!([target, "add"])),
        -23,
        "Error: Node already added",
    );
    expect_error(
        a.rpc("getaddednodeinfo", json!(["127.0.0.1:1"])),
        -24,
        "Error: Node has not been added.",
    );
    expect_error(
        a.rpc("addnode", json!(["127.0.0.1:1", "remove"])),
        -24,
        "Error: Node could not be removed. It has not been added previously.",
    );
    expect_error(
        a.rpc("disconnectnode", json!(["127.0.0.1:1"])),
        -29,
        "Node not found in connected nodes",
    );
    expect_error(
        a.rpc("disconnectnode", json!(["", 999_999])),
        -29,
        "Node not found in connected nodes",
    );

    assert_eq!(a.call("addnode", json!([target, "remove"])), Value::Null);
    assert_eq!(a.call("getaddednodeinfo", json!([])), json!([]));
    expect_error(
        a.rpc("getaddednodeinfo", json!([target])),
        -24,
        "Error: Node has not been added.",
    );
}

#[test]
fn setnetworkactive_false_drops_every_peer_and_true_resumes() {
    let a = TestNode::start(&["-debug=net"]);
    let b = TestNode::start(&["-debug=net"]);
    connect_nodes(&a, &b);
    assert_eq!(network_info(&a)["networkactive"], json!(true));

    assert_eq!(a.call("setnetworkactive", json!([false])), json!(false));
    wait_for_connections(&a, 0);
    wait_for_connections(&b, 0);
    assert_eq!(network_info(&a)["networkactive"], json!(false));
    assert_eq!(network_info(&a)["connections"].as_i64(), Some(0));

    assert_eq!(a.call("setnetworkactive", json!([true])), json!(true));
    assert_eq!(network_info(&a)["networkactive"], json!(true));
    connect_nodes(&a, &b);
    assert_eq!(connection_count(&a), 1);
}

#[test]
fn getnettotals_counts_the_bytes_of_a_sync() {
    let a = TestNode::start(&[]);
    let b = TestNode::start(&[]);
    let number = |v: &Value, key: &str| -> i64 {
        v[key]
            .as_i64()
            .unwrap_or_else(|| panic!("getnettotals without a numeric `{key}`: {v}"))
    };
    let before = a.call("getnettotals", json!([]));
    connect_nodes(&a, &b);
    a.generate(10);
    sync_blocks(&[&a, &b], SYNC);
    let after = a.call("getnettotals", json!([]));
    for key in ["totalbytesrecv", "totalbytessent"] {
        assert!(
            number(&after, key) > number(&before, key),
            "{key}: {before} -> {after}"
        );
    }
    assert!(number(&after, "timemillis") >= number(&before, "timemillis"));
    // Ten blocks (80-byte headers and more) went out.
    assert!(number(&after, "totalbytessent") > 10 * 80, "{after}");

    let entry = &peers(&a)[0];
    assert!(entry["bytessent"].as_i64().unwrap() > 0, "{entry}");
    assert!(entry["bytesrecv"].as_i64().unwrap() > 0, "{entry}");
    assert!(
        entry["bytessent_per_msg"].get("version").is_some(),
        "{entry}"
    );
    assert!(
        entry["bytesrecv_per_msg"].get("verack").is_some(),
        "{entry}"
    );
}

#[test]
fn ping_rpc_pings_every_peer_and_pingtime_appears() {
    let a = TestNode::start(&[]);
    let mut peer = TestPeer::connected(a.p2p_port);
    // Answer whatever ping the node sends on its own first.
    assert!(peer.is_connected_after(Duration::from_millis(500)));

    assert_eq!(a.call("ping", json!([])), Value::Null);
    let ping = peer.recv_until(
        |m| matches!(m, bitcoin::p2p::message::NetworkMessage::Ping(_)),
        Duration::from_secs(10),
    );
    assert!(ping.is_ok(), "no ping after the ping RPC: {ping:?}");

    let addr = peer.local_addr();
    let mut entry = Value::Null;
    let timed = wait_until(Duration::from_secs(10), || {
        // Keep answering: the pong may still be on its way.
        let _ = peer.is_connected_after(Duration::from_millis(20));
        entry = peer_entry(&a, addr).unwrap_or_default();
        entry["pingtime"].as_f64().is_some()
    });
    assert!(timed, "no pingtime after a pong: {entry}");
    assert!(entry["pingtime"].as_f64().unwrap() >= 0.0, "{entry}");
    assert!(entry["minping"].as_f64().is_some(), "{entry}");
}

#[test]
fn getnetworkinfo_counts_inbound_and_outbound_connections() {
    let a = TestNode::start(&[]);
    let b = TestNode::start(&[]);
    let c = TestNode::start(&[]);
    connect_nodes(&a, &b);
    connect_nodes(&c, &a);
    let _peer = TestPeer::connected(a.p2p_port);
    wait_for_connections(&a, 3);

    let info = network_info(&a);
    assert_eq!(info["connections"].as_i64(), Some(3), "{info}");
    assert_eq!(info["connections_in"].as_i64(), Some(2), "{info}");
    assert_eq!(info["connections_out"].as_i64(), Some(1), "{info}");
    assert_eq!(info["protocolversion"].as_i64(), Some(70016), "{info}");
    assert_eq!(connection_count(&a), 3);
    let inbound = peers(&a)
        .iter()
        .filter(|p| p["inbound"] == json!(true))
        .count();
    assert_eq!(inbound, 2);

    let info = network_info(&b);
    assert_eq!(
        (
            info["connections"].as_i64(),
            info["connections_in"].as_i64(),
            info["connections_out"].as_i64()
        ),
        (Some(1), Some(1), Some(0)),
        "{info}"
    );
}

#[test]
fn setban_listbanned_and_clearbanned_follow_core() {
    let a = TestNode::start(&[]);
    let mut before_ban = TestPeer::connected(a.p2p_port);

    assert_eq!(a.call("setban", json!(["127.0.0.1", "add"])), Value::Null);
    let banned = a.call("listbanned", json!([]));
    assert_eq!(banned.as_array().map(Vec::len), Some(1), "{banned}");
    let entry = &banned[0];
    assert_eq!(entry["address"], json!("127.0.0.1/32"));
    let created = entry["ban_created"].as_i64().expect("ban_created");
    assert_eq!(entry["ban_duration"].as_i64(), Some(86_400), "{entry}");
    assert_eq!(entry["banned_until"].as_i64(), Some(created + 86_400));
    let remaining = entry["time_remaining"].as_i64().expect("time_remaining");
    assert!((86_300..=86_400).contains(&remaining), "{entry}");

    // A ban also drops the connections from that address, and refuses
    // new ones before any handshake.
    assert!(
        before_ban.expect_disconnect(Duration::from_secs(10)),
        "a connected peer survived its address's ban"
    );
    if let Ok(mut refused) = TestPeer::connect(a.p2p_port) {
        let handshake = refused.handshake();
        assert!(handshake.is_err(), "a banned peer completed the handshake");
        assert!(refused.expect_disconnect(Duration::from_secs(10)));
    }
    assert_eq!(connection_count(&a), 0);

    expect_error(
        a.rpc("setban", json!(["127.0.0.1", "add"])),
        -23,
        "Error: IP/Subnet already banned",
    );
    assert_eq!(
        a.call("setban", json!(["127.0.0.1", "remove"])),
        Value::Null
    );
    assert_eq!(a.call("listbanned", json!([])), json!([]));
    let mut welcome = TestPeer::connected(a.p2p_port);
    assert_eq!(welcome.ping_pong(7, Duration::from_secs(10)), Ok(7));
    expect_error(
        a.rpc("setban", json!(["127.0.0.1", "remove"])),
        -30,
        "Error: Unban failed. Requested address/subnet was not previously manually banned.",
    );
    expect_error(
        a.rpc("setban", json!(["garbage", "add"])),
        -30,
        "Error: Invalid IP/Subnet",
    );

    // A subnet for a chosen time, and a second entry; clearbanned empties.
    assert_eq!(
        a.call("setban", json!(["10.0.0.0/8", "add", 1000])),
        Value::Null
    );
    a.call("setban", json!(["192.168.1.1", "add"]));
    let banned = a.call("listbanned", json!([]));
    let subnet = banned
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["address"] == json!("10.0.0.0/8"))
        .unwrap_or_else(|| panic!("no 10.0.0.0/8 in {banned}"));
    assert_eq!(subnet["ban_duration"].as_i64(), Some(1000), "{subnet}");
    assert_eq!(banned.as_array().unwrap().len(), 2, "{banned}");
    assert_eq!(a.call("clearbanned", json!([])), Value::Null);
    assert_eq!(a.call("listbanned", json!([])), json!([]));
}
