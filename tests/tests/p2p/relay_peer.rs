//! One node and raw `TestPeer`s on the relay side of the protocol:
//! transactions announced by wtxid or txid as each peer negotiated and
//! served on `getdata`, an orphan whose parent the node asks for, the
//! `mempool` message (no bloom filters: disconnect), `getdata` for blocks
//! the node has and has not (silence, as in Core) and for a missing
//! transaction (`notfound`), `getheaders` from genesis, new blocks
//! announced by `headers` or `inv`, and block download from a raw peer:
//! one that serves the blocks, and one that never does and is dropped
//! for stalling once another peer can serve them.

use std::str::FromStr;
use std::time::{Duration, Instant};

use bitcoin::block::Header;
use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::{GetHeadersMessage, Inventory};
use bitcoin::{Amount, Block, BlockHash, Transaction, Txid};
use serde_json::json;

use crate::harness::net::*;
use crate::harness::peer::*;
use crate::harness::wallet::{to_hex, Key};
use crate::harness::TestNode;

const WAIT: Duration = Duration::from_secs(10);
/// About 9 sat/vB for a one-in, one-out P2WPKH spend.
const FEE: Amount = Amount::from_sat(1_000);

/// Mines a block paying `key`, then 100 more so that its coinbase
/// matures; returns that coinbase's txid and value.
fn matured_coinbase(node: &TestNode, key: &Key) -> (Txid, Amount) {
    let hashes = node.call("generatetoaddress", json!([1, key.address()]));
    let block = node.call("getblock", json!([hashes[0], 1]));
    let txid = Txid::from_str(block["tx"][0].as_str().expect("a txid")).expect("a txid");
    let height = block["height"].as_u64().expect("a height") as u32;
    node.generate(100);
    (txid, subsidy(height))
}

fn height(node: &TestNode) -> i64 {
    node.call("getblockcount", json!([]))
        .as_i64()
        .expect("a height")
}

fn block_hash(node: &TestNode, height: u32) -> BlockHash {
    let hash = node.call("getblockhash", json!([height]));
    BlockHash::from_str(hash.as_str().expect("a hash")).expect("a block hash")
}

/// The node answers RPC, and a new peer completes the handshake and gets
/// its pong.
fn assert_healthy(node: &TestNode) {
    assert!(node.rpc("getblockcount", json!([])).is_ok());
    let mut peer = TestPeer::connect(node.p2p_port).expect("the node still accepts peers");
    if let Err(e) = peer.handshake() {
        panic!("a well-behaved peer was refused: {e}");
    }
    assert_eq!(peer.ping_pong(77, WAIT), Ok(77));
}

fn is_tx_item(item: &Inventory) -> bool {
    matches!(
        item,
        Inventory::Transaction(_) | Inventory::WitnessTransaction(_) | Inventory::WTx(_)
    )
}

fn is_block_item(item: &Inventory, hash: BlockHash) -> bool {
    matches!(item, Inventory::Block(h) | Inventory::WitnessBlock(h) if *h == hash)
}

/// The items of the first `inv` announcing a transaction, within `WAIT`.
fn tx_inv(peer: &mut TestPeer) -> Vec<Inventory> {
    let inv = peer.recv_until(
        |m| matches!(m, NetworkMessage::Inv(items) if items.iter().any(is_tx_item)),
        WAIT,
    );
    match inv {
        Ok(NetworkMessage::Inv(items)) => items,
        other => panic!(
            "no transaction inv: {other:?} (received {:?})",
            peer.received
        ),
    }
}

/// Sends `getdata` for `item`; the `tx` that answers it, within `WAIT`.
fn fetch_tx(peer: &mut TestPeer, item: Inventory) -> Transaction {
    peer.send(NetworkMessage::GetData(vec![item])).unwrap();
    match peer.recv_until(
        |m| matches!(m, NetworkMessage::Tx(_) | NetworkMessage::NotFound(_)),
        WAIT,
    ) {
        Ok(NetworkMessage::Tx(tx)) => tx,
        other => panic!(
            "getdata {item:?} got {other:?} (received {:?})",
            peer.received
        ),
    }
}

#[test]
fn a_mempool_transaction_is_announced_by_wtxid_or_txid_as_each_peer_negotiated() {
    let node = TestNode::start(&[]);
    let key = Key::new(0x31);
    let (coinbase, value) = matured_coinbase(&node, &key);
    let mut by_wtxid = TestPeer::connected_with(node.p2p_port, &negotiation());
    let mut by_txid = TestPeer::connected(node.p2p_port);

    let tx = key.spend(coinbase, 0, value, Key::new(0x32).script(), FEE);
    let (txid, wtxid) = (tx.compute_txid(), tx.compute_wtxid());
    assert_ne!(
        txid.to_byte_array(),
        wtxid.to_byte_array(),
        "a segwit spend"
    );
    let sent = node.call("sendrawtransaction", json!([to_hex(&tx)]));
    assert_eq!(sent, json!(txid.to_string()));
    let raw = node.call("getrawtransaction", json!([txid.to_string()]));

    assert_eq!(tx_inv(&mut by_wtxid), vec![Inventory::WTx(wtxid)]);
    assert_eq!(tx_inv(&mut by_txid), vec![Inventory::Transaction(txid)]);

    let got = fetch_tx(&mut by_wtxid, Inventory::WTx(wtxid));
    assert_eq!(json!(to_hex(&got)), raw);
    let got = fetch_tx(&mut by_txid, Inventory::WitnessTransaction(txid));
    assert_eq!(json!(to_hex(&got)), raw);
    assert_eq!(got, tx);
    // A non-witness request (MSG_TX) gets it without its witness.
    let stripped = fetch_tx(&mut by_txid, Inventory::Transaction(txid));
    assert_eq!(stripped.compute_txid(), txid);
    assert!(stripped.input.iter().all(|i| i.witness.is_empty()));
    assert!(
        tx.input.iter().any(|i| !i.witness.is_empty()),
        "a segwit spend"
    );
}

#[test]
fn an_orphan_makes_the_node_ask_for_its_parent_and_both_enter_the_mempool() {
    let node = TestNode::start(&["-debug=net"]);
    let key = Key::new(0x41);
    let (coinbase, value) = matured_coinbase(&node, &key);
    let parent = key.spend(coinbase, 0, value, key.script(), FEE);
    let parent_txid = parent.compute_txid();
    let child = key.spend(parent_txid, 0, value - FEE, key.script(), FEE);
    let child_txid = child.compute_txid();

    let mut peer = TestPeer::connected_with(node.p2p_port, &negotiation());
    let id = peer_id(&node, peer.local_addr());
    peer.send(NetworkMessage::Tx(child)).unwrap();
    let request = peer.recv_until(
        |m| matches!(m, NetworkMessage::GetData(items) if items.iter().any(is_tx_item)),
        WAIT,
    );
    match request {
        Ok(NetworkMessage::GetData(items)) => {
            assert_eq!(items, vec![Inventory::WitnessTransaction(parent_txid)]);
        }
        other => panic!(
            "the node did not ask for the orphan's parent: {other:?} (received {:?})",
            peer.received
        ),
    }
    assert!(mempool(&node).is_empty(), "{:?}", mempool(&node));

    peer.send(NetworkMessage::Tx(parent)).unwrap();
    let mut both = vec![parent_txid.to_string(), child_txid.to_string()];
    both.sort();
    assert!(
        wait_until(WAIT, || mempool(&node) == both),
        "mempool {:?}, expected {both:?}",
        mempool(&node)
    );
    let stored = format!("stored orphan tx {child_txid}");
    let logged = wait_until(WAIT, || log_mentions_peer(&node.debug_log(), &stored, id));
    assert!(
        logged,
        "debug.log does not mention the orphan from peer={id}"
    );
}

#[test]
fn a_mempool_message_gets_the_peer_disconnected_without_bloom_filters() {
    let node = TestNode::start(&["-debug=net"]);
    let mut peer = TestPeer::connected(node.p2p_port);
    let addr = peer.local_addr();
    peer_id(&node, addr);
    peer.send(NetworkMessage::MemPool).unwrap();
    assert!(
        peer.expect_disconnect(WAIT),
        "still connected after `mempool` with no bloom filters offered"
    );
    assert!(wait_until(WAIT, || peer_entry(&node, addr).is_none()));
    assert_healthy(&node);
}

#[test]
fn getdata_serves_blocks_the_node_has_and_notfound_answers_only_transactions() {
    let node = TestNode::start(&[]);
    node.generate(5);
    let mut peer = TestPeer::connected(node.p2p_port);

    // A block the node lacks gets no answer (as in Core); the tip asked
    // for in the same message comes, and no `notfound` before it.
    let unknown = Inventory::WitnessBlock(BlockHash::from_byte_array([0x5a; 32]));
    let tip = tip(&node).hash;
    peer.send(NetworkMessage::GetData(vec![
        unknown,
        Inventory::WitnessBlock(tip),
    ]))
    .unwrap();
    let block = match peer.recv_until(
        |m| matches!(m, NetworkMessage::NotFound(_) | NetworkMessage::Block(_)),
        WAIT,
    ) {
        Ok(NetworkMessage::Block(block)) => block,
        other => panic!("getdata for an unknown block and the tip got {other:?}"),
    };
    assert_eq!(block.block_hash(), tip);
    let raw = node.call("getblock", json!([tip.to_string(), 0]));
    assert_eq!(json!(hex::encode(serialize(&block))), raw);

    // A transaction it lacks is answered with `notfound`.
    let missing = Inventory::WTx(bitcoin::Wtxid::from_byte_array([0x6b; 32]));
    peer.send(NetworkMessage::GetData(vec![missing])).unwrap();
    match peer.recv_until(|m| matches!(m, NetworkMessage::NotFound(_)), WAIT) {
        Ok(NetworkMessage::NotFound(items)) => assert_eq!(items, vec![missing]),
        other => panic!("getdata for an unknown transaction got {other:?}"),
    }
}

#[test]
fn getheaders_from_genesis_gets_the_whole_chain() {
    let node = TestNode::start(&[]);
    let mined = node.generate(30);
    let genesis = block_hash(&node, 0);
    let mut peer = TestPeer::connected(node.p2p_port);
    peer.send(NetworkMessage::GetHeaders(GetHeadersMessage::new(
        vec![genesis],
        BlockHash::all_zeros(),
    )))
    .unwrap();
    let headers = match peer.recv_until(|m| matches!(m, NetworkMessage::Headers(_)), WAIT) {
        Ok(NetworkMessage::Headers(headers)) => headers,
        other => panic!("no headers: {other:?} (received {:?})", peer.received),
    };
    assert_eq!(headers.len(), 30);
    assert_eq!(headers[0].prev_blockhash, genesis);
    for pair in headers.windows(2) {
        assert_eq!(pair[1].prev_blockhash, pair[0].block_hash());
    }
    let hashes: Vec<String> = headers.iter().map(|h| h.block_hash().to_string()).collect();
    assert_eq!(hashes, mined);
    let best = node.call("getbestblockhash", json!([]));
    assert_eq!(json!(hashes[29]), best);
}

#[test]
fn a_new_block_is_announced_by_headers_after_sendheaders_and_by_inv_otherwise() {
    let node = TestNode::start(&[]);
    node.generate(2);
    let mut by_headers = TestPeer::connected(node.p2p_port);
    by_headers.send(NetworkMessage::SendHeaders).unwrap();
    let mut by_inv = TestPeer::connected(node.p2p_port);
    // Messages are handled in order: once the pongs are back, the node has
    // the veracks and the `sendheaders`.
    assert_eq!(by_headers.ping_pong(1, WAIT), Ok(1));
    assert_eq!(by_inv.ping_pong(2, WAIT), Ok(2));

    let hash = BlockHash::from_str(&node.generate(1)[0]).expect("a block hash");
    let announces = |m: &NetworkMessage| match m {
        NetworkMessage::Headers(headers) => headers.iter().any(|h| h.block_hash() == hash),
        NetworkMessage::Inv(items) => items.iter().any(|i| is_block_item(i, hash)),
        _ => false,
    };
    let limit = Duration::from_secs(5);
    let announced = by_headers.recv_until(announces, limit);
    assert!(
        announced.is_ok(),
        "the sendheaders peer heard nothing of {hash} in 5 s: {announced:?} (received {:?})",
        by_headers.received
    );
    match by_inv.recv_until(announces, limit) {
        Ok(NetworkMessage::Inv(items)) => assert_eq!(items, vec![Inventory::Block(hash)]),
        other => panic!(
            "the other peer did not get an inv of {hash} in 5 s: {other:?} (received {:?})",
            by_inv.received
        ),
    }
}

/// `count` blocks on the node's genesis, one second apart after it.
fn blocks_on_genesis(node: &TestNode, count: u32) -> Vec<Block> {
    let genesis = block_hash(node, 0);
    let header = node.call("getblockheader", json!([genesis.to_string()]));
    let time = header["time"].as_u64().expect("a time") as u32;
    let mut blocks: Vec<Block> = Vec::new();
    for height in 1..=count {
        let prev = blocks.last().map_or(genesis, Block::block_hash);
        let block = block_on(prev, height, time + height);
        assert!(block.header.validate_pow(block.header.target()).is_ok());
        blocks.push(block);
    }
    blocks
}

fn headers_of(blocks: &[Block]) -> Vec<Header> {
    blocks.iter().map(|b| b.header).collect()
}

/// Answers the node's `getdata` for any of `blocks` until the node's
/// height is `target`; whether it got there within 20 s.
fn serve_until(node: &TestNode, peer: &mut TestPeer, blocks: &[Block], target: i64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if height(node) == target {
            return true;
        }
        match peer.recv(Duration::from_millis(200)) {
            Ok(NetworkMessage::GetData(items)) => {
                for item in items {
                    let wanted = blocks.iter().find(|b| is_block_item(&item, b.block_hash()));
                    if let Some(block) = wanted {
                        peer.send(NetworkMessage::Block(block.clone())).unwrap();
                    }
                }
            }
            Ok(_) | Err(RecvError::Timeout) => {}
            Err(e) => panic!("the serving peer lost the node: {e}"),
        }
    }
    height(node) == target
}

#[test]
fn a_raw_peer_serving_its_blocks_gets_the_node_synced() {
    let node = TestNode::start(&[]);
    let blocks = blocks_on_genesis(&node, 3);
    let mut peer = TestPeer::connected(node.p2p_port);
    peer.send(NetworkMessage::Headers(headers_of(&blocks)))
        .unwrap();
    assert!(
        serve_until(&node, &mut peer, &blocks, 3),
        "height {} after 20 s of serving (received {:?})",
        height(&node),
        peer.received
    );
    assert_eq!(tip(&node).hash, blocks[2].block_hash());
}

#[test]
fn a_peer_that_never_delivers_requested_blocks_is_dropped_for_stalling() {
    let node = TestNode::start(&["-debug=net"]);
    let blocks = blocks_on_genesis(&node, 3);
    let hashes: Vec<BlockHash> = blocks.iter().map(Block::block_hash).collect();
    let mut staller = TestPeer::connected(node.p2p_port);
    let id = peer_id(&node, staller.local_addr());
    staller
        .send(NetworkMessage::Headers(headers_of(&blocks)))
        .unwrap();

    // The node asks for all three (in one `getdata` or several).
    let mut asked: Vec<BlockHash> = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !hashes.iter().all(|h| asked.contains(h)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match staller.recv(left) {
            Ok(NetworkMessage::GetData(items)) => asked.extend(
                hashes
                    .iter()
                    .filter(|h| items.iter().any(|i| is_block_item(i, **h))),
            ),
            Ok(_) => {}
            Err(e) => panic!(
                "the node asked only for {asked:?} of {hashes:?}: {e} (received {:?})",
                staller.received
            ),
        }
    }

    // Alone, it is given time (Core waits minutes for the only peer)...
    assert!(
        staller.is_connected_after(Duration::from_secs(12)),
        "the only peer was dropped while nobody else could serve the blocks"
    );
    assert_eq!(height(&node), 0);

    // ...but once another peer offers the same blocks, the one sitting on
    // them is dropped as stalling and the other serves them.
    let mut server = TestPeer::connected(node.p2p_port);
    server
        .send(NetworkMessage::Headers(headers_of(&blocks)))
        .unwrap();
    assert!(
        staller.expect_disconnect(Duration::from_secs(10)),
        "a peer sitting on requested blocks was kept although another could serve them"
    );
    let logged = wait_until(WAIT, || {
        let log = node.debug_log().to_lowercase();
        log_mentions_peer(&log, "is stalling block download", id)
    });
    assert!(logged, "debug.log does not say peer={id} stalled");
    assert!(
        serve_until(&node, &mut server, &blocks, 3),
        "height {} after 20 s of serving (received {:?})",
        height(&node),
        server.received
    );
    assert_eq!(tip(&node).hash, hashes[2]);
}

/// The block hashes `peer` asks for in `getdata`s within `wait`, until it
/// has asked for `count` of `blocks`.
fn asked_of(peer: &mut TestPeer, blocks: &[Block], count: usize, wait: Duration) -> Vec<BlockHash> {
    let deadline = Instant::now() + wait;
    let mut asked = Vec::new();
    while asked.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        match peer.recv(left) {
            Ok(NetworkMessage::GetData(items)) => asked.extend(
                blocks
                    .iter()
                    .map(Block::block_hash)
                    .filter(|h| items.iter().any(|i| is_block_item(i, *h))),
            ),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    asked
}

#[test]
fn blocks_download_from_two_peers_at_once_without_asking_twice() {
    let node = TestNode::start(&[]);
    let blocks = blocks_on_genesis(&node, 40);
    let mut first = TestPeer::connected(node.p2p_port);
    first
        .send(NetworkMessage::Headers(headers_of(&blocks)))
        .unwrap();
    // At most 16 in flight per peer: the first is asked for the oldest 16.
    let from_first = asked_of(&mut first, &blocks, 16, WAIT);
    assert_eq!(
        from_first,
        blocks[..16]
            .iter()
            .map(Block::block_hash)
            .collect::<Vec<_>>()
    );
    assert!(
        asked_of(&mut first, &blocks, 1, Duration::from_millis(500)).is_empty(),
        "more than 16 blocks asked of one peer"
    );
    // A second peer with the same headers is asked for the next 16.
    let mut second = TestPeer::connected(node.p2p_port);
    second
        .send(NetworkMessage::Headers(headers_of(&blocks)))
        .unwrap();
    let from_second = asked_of(&mut second, &blocks, 16, WAIT);
    assert_eq!(
        from_second,
        blocks[16..32]
            .iter()
            .map(Block::block_hash)
            .collect::<Vec<_>>()
    );
    // Both serve what they are asked; the node ends on the 40th block.
    for (peer, asked) in [(&mut first, &from_first), (&mut second, &from_second)] {
        for hash in asked {
            let block = blocks.iter().find(|b| b.block_hash() == *hash).unwrap();
            peer.send(NetworkMessage::Block(block.clone())).unwrap();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while height(&node) < 40 && Instant::now() < deadline {
        for peer in [&mut first, &mut second] {
            if let Ok(NetworkMessage::GetData(items)) = peer.recv(Duration::from_millis(100)) {
                for item in items {
                    if let Some(block) =
                        blocks.iter().find(|b| is_block_item(&item, b.block_hash()))
                    {
                        peer.send(NetworkMessage::Block(block.clone())).unwrap();
                    }
                }
            }
        }
    }
    assert_eq!(height(&node), 40);
    assert_eq!(tip(&node).hash, blocks[39].block_hash());
}
