//! Helpers for the P2P tests: connecting, disconnecting and syncing
//! `TestNode`s over loopback, finding a connection in `getpeerinfo`, and
//! blocks built here (with rust-bitcoin) for a raw peer to send.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::block::Header;
use bitcoin::hashes::Hash;
use bitcoin::{Amount, Block, BlockHash, CompactTarget, Network, ScriptBuf, TxMerkleNode};
use serde_json::{json, Value};

use super::{TestNode, ADDRESS};

/// Polls `done` every 50 ms until it holds or `limit` (scaled by the
/// timeout factor) passes; whether it held.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit.mul_f64(crate::timeouts::timeout_factor());
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The node's `getpeerinfo` entries.
pub fn peers(node: &TestNode) -> Vec<Value> {
    node.call("getpeerinfo", json!([]))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The `getpeerinfo` entry whose `addr` is `addr`.
pub fn peer_entry(node: &TestNode, addr: SocketAddr) -> Option<Value> {
    let addr = addr.to_string();
    peers(node).into_iter().find(|p| p["addr"] == json!(addr))
}

/// The `getpeerinfo` id of the peer at `addr`, waiting up to 10 s for the
/// node to list it.
pub fn peer_id(node: &TestNode, addr: SocketAddr) -> i64 {
    let mut id = None;
    wait_until(Duration::from_secs(10), || {
        id = peer_entry(node, addr).and_then(|p| p["id"].as_i64());
        id.is_some()
    });
    id.unwrap_or_else(|| panic!("{addr} is not in getpeerinfo: {:?}", peers(node)))
}

pub fn connection_count(node: &TestNode) -> i64 {
    node.call("getconnectioncount", json!([]))
        .as_i64()
        .expect("a count")
}

/// `127.0.0.1:<p2p port>`, the address a node listens for peers on.
pub fn p2p_addr(node: &TestNode) -> String {
    format!("127.0.0.1:{}", node.p2p_port)
}

fn handshaken(entry: &Value) -> bool {
    entry["version"].as_i64().is_some_and(|v| v > 0)
}

/// The ids (on `a`, on `b`) of a connection `a` opened to `b` whose
/// handshake both ends have seen: `a`'s entry for `b`'s listening address,
/// and `b`'s inbound entry whose `addr` is that entry's `addrbind`.
pub fn connection(a: &TestNode, b: &TestNode) -> Option<(i64, i64)> {
    let target = json!(p2p_addr(b));
    let b_peers = peers(b);
    peers(a)
        .iter()
        .filter(|pa| pa["addr"] == target && handshaken(pa))
        .find_map(|pa| {
            let pb = b_peers
                .iter()
                .find(|pb| pb["addr"] == pa["addrbind"] && handshaken(pb))?;
            Some((pa["id"].as_i64()?, pb["id"].as_i64()?))
        })
}

/// `a` connects to `b` (`addnode <b> onetry`); waits (30 s) until both
/// list the connection with the handshake done. Returns the ids as
/// [`connection`] does.
pub fn connect_nodes(a: &TestNode, b: &TestNode) -> (i64, i64) {
    a.call("addnode", json!([p2p_addr(b), "onetry"]));
    let mut ids = None;
    let connected = wait_until(Duration::from_secs(30), || {
        ids = connection(a, b);
        ids.is_some()
    });
    assert!(
        connected,
        "node {} did not connect to node {} in 30 s\na: {:?}\nb: {:?}",
        a.p2p_port,
        b.p2p_port,
        peers(a),
        peers(b)
    );
    ids.expect("connected")
}

fn has_peer(node: &TestNode, id: i64) -> bool {
    peers(node).iter().any(|p| p["id"].as_i64() == Some(id))
}

/// Drops every connection between `a` and `b` (either direction) with
/// `disconnectnode` by id on `a`; waits (30 s) until neither lists it.
pub fn disconnect_nodes(a: &TestNode, b: &TestNode) {
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    pairs.extend(connection(a, b));
    pairs.extend(connection(b, a).map(|(on_b, on_a)| (on_a, on_b)));
    assert!(
        !pairs.is_empty(),
        "nodes {} and {} are not connected",
        a.p2p_port,
        b.p2p_port
    );
    for (on_a, _) in &pairs {
        a.call("disconnectnode", json!(["", on_a]));
    }
    let gone = wait_until(Duration::from_secs(30), || {
        pairs
            .iter()
            .all(|(on_a, on_b)| !has_peer(a, *on_a) && !has_peer(b, *on_b))
    });
    assert!(
        gone,
        "the connection did not go in 30 s\na: {:?}\nb: {:?}",
        peers(a),
        peers(b)
    );
}

/// Waits until every node has the same best block; panics with each
/// node's tip and height after `timeout`.
pub fn sync_blocks(nodes: &[&TestNode], timeout: Duration) {
    let tips = || -> Vec<String> {
        nodes
            .iter()
            .map(|n| {
                n.call("getbestblockhash", json!([]))
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let synced = wait_until(timeout, || {
        let tips = tips();
        tips.windows(2).all(|w| w[0] == w[1])
    });
    if !synced {
        let heights: Vec<Value> = nodes
            .iter()
            .map(|n| n.call("getblockcount", json!([])))
            .collect();
        panic!(
            "blocks did not sync in {timeout:?}: tips {:?}, heights {heights:?}",
            tips()
        );
    }
}

/// The node's mempool, sorted txids.
pub fn mempool(node: &TestNode) -> Vec<String> {
    let mut txids: Vec<String> = node
        .call("getrawmempool", json!([]))
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    txids.sort();
    txids
}

/// Waits until every node's mempool holds the same transactions.
pub fn sync_mempools(nodes: &[&TestNode], timeout: Duration) {
    let pools = || -> Vec<Vec<String>> { nodes.iter().map(|n| mempool(n)).collect() };
    let synced = wait_until(timeout, || pools().windows(2).all(|w| w[0] == w[1]));
    assert!(
        synced,
        "mempools did not sync in {timeout:?}: {:?}",
        pools()
    );
}

/// Whether some line of `log` mentions both `needle` and `peer=<id>`.
pub fn log_mentions_peer(log: &str, needle: &str, id: i64) -> bool {
    let tag = format!("peer={id}");
    log.lines().any(|line| {
        line.contains(needle)
            && line.match_indices(&tag).any(|(at, _)| {
                !line[at + tag.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
            })
    })
}

/// What a raw peer needs to build on the node's tip.
pub struct Tip {
    pub hash: BlockHash,
    pub height: u32,
    pub median_time: u32,
}

pub fn tip(node: &TestNode) -> Tip {
    let hash = node.call("getbestblockhash", json!([]));
    let header = node.call("getblockheader", json!([hash]));
    Tip {
        hash: BlockHash::from_str(hash.as_str().expect("a hash")).expect("a block hash"),
        height: header["height"].as_u64().expect("a height") as u32,
        median_time: header["mediantime"].as_u64().expect("a median time") as u32,
    }
}

/// Regtest's block subsidy at `height` (halving every 150 blocks).
pub fn subsidy(height: u32) -> Amount {
    let halvings = height / 150;
    if halvings >= 64 {
        Amount::ZERO
    } else {
        Amount::from_sat(5_000_000_000 >> halvings)
    }
}

/// A block extending the node's tip: only a coinbase (paying the subsidy
/// to the harness's address, with the BIP34 height and a witness
/// commitment), regtest's easiest target, its proof of work solved
/// (`chain::block_builder`, the node's own block assembly).
pub fn block_on_tip(node: &TestNode) -> Block {
    let tip = tip(node);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as u32;
    block_on(tip.hash, tip.height + 1, now.max(tip.median_time + 1))
}

/// As [`block_on_tip`], on any parent: the block at `height` whose parent
/// is `prev`, with timestamp `time`.
pub fn block_on(prev: BlockHash, height: u32, time: u32) -> Block {
    chain::block_builder::assemble(
        prev,
        height,
        CompactTarget::from_consensus(0x207f_ffff),
        time,
        harness_script(),
        subsidy(height),
        vec![],
    )
}

/// As [`block_on_tip`], with a merkle root that does not match the
/// transactions (the proof of work solved for the wrong root).
pub fn block_with_bad_merkle_root(node: &TestNode) -> Block {
    let mut block = block_on_tip(node);
    let mut root = block.header.merkle_root.to_byte_array();
    root[0] ^= 0x01;
    block.header.merkle_root = TxMerkleNode::from_byte_array(root);
    solve(&mut block.header);
    assert!(!block.check_merkle_root(), "the root is wrong");
    block
}

/// Tries nonces until the header meets its own target.
pub fn solve(header: &mut Header) {
    chain::block_builder::grind(header);
}

/// A regtest address nobody else mines to, so that two nodes mining at
/// the same height never make the same block.
pub fn other_address(seed: u8) -> String {
    super::wallet::Key::new(seed).address()
}

/// The script of `ADDRESS` (`OP_TRUE` in P2WSH).
pub fn harness_script() -> ScriptBuf {
    bitcoin::Address::from_str(ADDRESS)
        .expect("an address")
        .require_network(Network::Regtest)
        .expect("a regtest address")
        .script_pubkey()
}
