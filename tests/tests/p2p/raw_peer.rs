//! One node and raw `TestPeer`s: the handshake as the node runs it, ping,
//! and what the node does with a peer that misbehaves: frames it ignores
//! (bad checksum, malformed payloads), frames it disconnects for (too
//! large, another network's magic, garbage), an invalid block, a valid
//! unrequested one, a peer that says nothing, and one connection too many.
//! After every fault the node still answers RPC and a well-behaved peer.

use std::time::{Duration, Instant};

use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::Inventory;
use bitcoin::p2p::ServiceFlags;

use crate::harness::net::*;
use crate::harness::peer::*;
use crate::harness::TestNode;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// The node answers RPC, and a new peer completes the handshake and gets
/// its pong.
fn assert_healthy(node: &TestNode) {
    assert!(node.rpc("getblockcount", json!([])).is_ok());
    let mut peer = TestPeer::connect(node.p2p_port).expect("the node still accepts peers");
    if let Err(e) = peer.handshake() {
        panic!("a well-behaved peer was refused after the fault: {e}");
    }
    assert_eq!(peer.ping_pong(42, WAIT), Ok(42));
}

fn position(peer: &TestPeer, command: &str) -> usize {
    peer.received
        .iter()
        .position(|c| c == command)
        .unwrap_or_else(|| panic!("no `{command}` in {:?}", peer.received))
}

#[test]
fn the_node_completes_a_handshake_with_a_raw_peer_and_answers_its_ping() {
    let node = TestNode::start(&[]);
    node.generate(7);
    let mut peer = TestPeer::connect(node.p2p_port).expect("a TCP connection");
    let version = peer.handshake().expect("the handshake");
    assert!(version.version >= 70016, "{version:?}");
    assert_eq!(version.start_height, 7);
    assert!(
        version.user_agent.starts_with("/c1pzo:"),
        "{}",
        version.user_agent
    );
    assert!(
        version
            .services
            .has(ServiceFlags::NETWORK | ServiceFlags::WITNESS),
        "{:?}",
        version.services
    );
    // BIP 339 and BIP 155 negotiation comes between version and verack.
    let verack = position(&peer, "verack");
    assert!(position(&peer, "version") < position(&peer, "wtxidrelay"));
    assert!(
        position(&peer, "wtxidrelay") < verack,
        "{:?}",
        peer.received
    );
    assert!(
        position(&peer, "sendaddrv2") < verack,
        "{:?}",
        peer.received
    );

    // Core asks for header announcements (BIP 130) once it knows a block
    // the peer has; announce the node's own tip so that it does.
    let tip = tip(&node).hash;
    peer.send(NetworkMessage::Inv(vec![Inventory::Block(tip)]))
        .unwrap();
    let sendheaders = peer.recv_until(|m| matches!(m, NetworkMessage::SendHeaders), WAIT);
    assert!(sendheaders.is_ok(), "no sendheaders: {:?}", peer.received);
    assert!(position(&peer, "sendheaders") > verack);

    assert_eq!(
        peer.ping_pong(0x0123_4567_89ab_cdef, WAIT),
        Ok(0x0123_4567_89ab_cdef)
    );

    let entry = peer_entry(&node, peer.local_addr()).expect("the peer is listed");
    assert_eq!(entry["inbound"], json!(true));
    assert_eq!(entry["connection_type"], json!("inbound"));
    assert_eq!(entry["subver"], json!(USER_AGENT));
    assert_eq!(entry["version"].as_i64(), Some(70016));
    assert_eq!(entry["startingheight"].as_i64(), Some(0));
    assert_eq!(entry["relaytxes"], json!(true));
    assert_eq!(entry["services"], json!("0000000000000009"));
    assert_eq!(entry["servicesnames"], json!(["NETWORK", "WITNESS"]));
}

#[test]
fn a_frame_with_a_wrong_checksum_is_ignored_and_the_peer_stays() {
    let node = TestNode::start(&[]);
    let mut peer = TestPeer::connected(node.p2p_port);
    let payload = 1111u64.to_le_bytes();
    let wrong = checksum(&payload).map(|b| b ^ 0xff);
    peer.send_raw(&TestPeer::frame("ping", &payload, Some(wrong), None))
        .unwrap();
    // Had the bad ping been read, its pong would come first.
    assert_eq!(peer.ping_pong(2222, WAIT), Ok(2222));
    assert!(peer_entry(&node, peer.local_addr()).is_some());
    assert_healthy(&node);
}

#[test]
fn malformed_payloads_are_ignored_and_the_peer_stays() {
    let node = TestNode::start(&[]);
    let mut peer = TestPeer::connected(node.p2p_port);
    // A ping's nonce is eight bytes.
    peer.send_raw(&TestPeer::frame("ping", &[1, 2, 3], None, None))
        .unwrap();
    assert_eq!(peer.ping_pong(3333, WAIT), Ok(3333));
    // Five headers announced, ten bytes given.
    let mut headers = vec![5u8];
    headers.extend(garbage(5, 10));
    peer.send_raw(&TestPeer::frame("headers", &headers, None, None))
        .unwrap();
    assert_eq!(peer.ping_pong(4444, WAIT), Ok(4444));
    assert!(peer_entry(&node, peer.local_addr()).is_some());
    assert_healthy(&node);
}

#[test]
fn a_frame_announcing_more_than_the_largest_payload_gets_the_peer_disconnected() {
    let node = TestNode::start(&[]);
    let mut peer = TestPeer::connected(node.p2p_port);
    let mut header = TestPeer::frame("block", &[], None, None);
    header[16..20].copy_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
    peer.send_raw(&header).unwrap();
    // Some of the promised payload; the node need not wait for the rest.
    let _ = peer.send_raw(&garbage(1, 1000));
    assert!(
        peer.expect_disconnect(WAIT),
        "still connected after announcing a {} byte payload",
        MAX_PAYLOAD + 1
    );
    assert_healthy(&node);
}

#[test]
fn frames_with_another_networks_magic_get_the_peer_disconnected() {
    let node = TestNode::start(&[]);
    // Before the handshake: a mainnet version.
    let mut early = TestPeer::connect(node.p2p_port).unwrap();
    let version = early.version_message();
    let payload = bitcoin::consensus::encode::serialize(&version);
    early
        .send_raw(&TestPeer::frame(
            "version",
            &payload,
            None,
            Some(MAINNET_MAGIC),
        ))
        .unwrap();
    assert!(early.expect_disconnect(WAIT), "a mainnet version was kept");
    // After it: a mainnet ping.
    let mut late = TestPeer::connected(node.p2p_port);
    let ping = 5555u64.to_le_bytes();
    late.send_raw(&TestPeer::frame("ping", &ping, None, Some(MAINNET_MAGIC)))
        .unwrap();
    assert!(late.expect_disconnect(WAIT), "a mainnet ping was kept");
    assert_healthy(&node);
}

#[test]
fn garbage_bytes_get_the_peer_disconnected() {
    let node = TestNode::start(&[]);
    let mut peer = TestPeer::connect(node.p2p_port).unwrap();
    peer.send_raw(&garbage(0x5eed, 300)).unwrap();
    assert!(
        peer.expect_disconnect(WAIT),
        "still connected after garbage"
    );
    assert_healthy(&node);
}

#[test]
fn an_invalid_block_gets_the_peer_disconnected_and_leaves_the_tip() {
    let node = TestNode::start(&["-debug=net"]);
    node.generate(3);
    let before = tip(&node).hash;
    let mut peer = TestPeer::connected(node.p2p_port);
    let id = peer_id(&node, peer.local_addr());

    let block = block_with_bad_merkle_root(&node);
    peer.send(NetworkMessage::Block(block)).unwrap();
    assert!(
        peer.expect_disconnect(Duration::from_secs(30)),
        "still connected after sending a block with a wrong merkle root"
    );
    assert_eq!(tip(&node).hash, before);
    assert_eq!(node.call("getblockcount", json!([])).as_i64(), Some(3));
    let logged = wait_until(WAIT, || {
        log_mentions_peer(&node.debug_log(), "Misbehaving", id)
    });
    assert!(logged, "debug.log does not say peer={id} misbehaved");
    assert_healthy(&node);
}

#[test]
fn an_unrequested_valid_block_extending_the_tip_is_accepted() {
    let node = TestNode::start(&[]);
    node.generate(3);
    let mut peer = TestPeer::connected(node.p2p_port);
    let block = block_on_tip(&node);
    let hash = block.block_hash();
    assert!(block.check_merkle_root());
    peer.send(NetworkMessage::Block(block)).unwrap();
    let accepted = wait_until(Duration::from_secs(30), || tip(&node).hash == hash);
    assert!(accepted, "the tip did not become {hash}");
    assert_eq!(node.call("getblockcount", json!([])).as_i64(), Some(4));
    // A good block is no fault.
    assert_eq!(peer.ping_pong(6666, WAIT), Ok(6666));
    assert_healthy(&node);
}

#[test]
fn a_peer_that_sends_nothing_is_dropped_after_peertimeout() {
    let node = TestNode::start(&["-peertimeout=2", "-debug=net"]);
    let started = Instant::now();
    let mut silent = TestPeer::connect(node.p2p_port).unwrap();
    let id = peer_id(&node, silent.local_addr());
    assert!(
        silent.expect_disconnect(Duration::from_secs(15)),
        "a silent peer was kept for 15 s with -peertimeout=2"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited <= crate::harness::scaled(12),
        "dropped after {waited:?}, not about 2 s"
    );
    let logged = wait_until(WAIT, || {
        log_mentions_peer(&node.debug_log(), "no message in first", id)
    });
    assert!(logged, "debug.log does not say why peer={id} was dropped");
    // A peer that talks at once is kept past the timeout.
    let mut talker = TestPeer::connected(node.p2p_port);
    assert!(talker.is_connected_after(Duration::from_secs(3)));
    assert_healthy(&node);
}

#[test]
fn inbound_connections_beyond_maxconnections_are_refused() {
    let node = TestNode::start(&["-maxconnections=2"]);
    let mut first = TestPeer::connected(node.p2p_port);
    let mut second = TestPeer::connected(node.p2p_port);
    assert!(wait_until(WAIT, || connection_count(&node) == 2));

    if let Ok(mut third) = TestPeer::connect(node.p2p_port) {
        let handshake = third.handshake();
        assert!(handshake.is_err(), "a third peer was let in: {handshake:?}");
        assert!(third.expect_disconnect(WAIT));
    }
    assert_eq!(connection_count(&node), 2);
    assert_eq!(first.ping_pong(1, WAIT), Ok(1));
    assert_eq!(second.ping_pong(2, WAIT), Ok(2));

    // A slot freed is a slot offered.
    drop(first);
    assert!(wait_until(WAIT, || connection_count(&node) == 1));
    let mut fourth = TestPeer::connected(node.p2p_port);
    assert_eq!(fourth.ping_pong(4, WAIT), Ok(4));
}
