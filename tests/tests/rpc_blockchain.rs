//! The node over real HTTP: mining, chain queries and their result fields
//! as Bitcoin Core names them, reorganisation through invalidateblock and
//! reconsiderblock.

use c1pzo_functional as harness;

use harness::TestNode;
use serde_json::json;

const GENESIS: &str = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

#[test]
fn a_fresh_node_mines_and_answers_chain_queries() {
    let node = TestNode::start(&[]);
    assert_eq!(node.call("getblockcount", json!([])), json!(0));
    assert_eq!(node.call("getblockhash", json!([0])), json!(GENESIS));
    let hashes = node.generate(101);
    assert_eq!(hashes.len(), 101);
    assert_eq!(node.call("getblockcount", json!([])), json!(101));
    assert_eq!(node.call("getbestblockhash", json!([])), json!(hashes[100]));
    assert_eq!(node.call("getblockhash", json!([1])), json!(hashes[0]));

    let info = node.call("getblockchaininfo", json!([]));
    assert_eq!(info["chain"], "regtest");
    assert_eq!(info["blocks"], 101);
    assert_eq!(info["bestblockhash"], json!(hashes[100]));
    assert_eq!(info["difficulty"].to_string(), "4.656542373906925e-10");
    assert_eq!(info["bits"], "207fffff");

    let block = node.call("getblock", json!([hashes[0]]));
    for field in [
        "hash",
        "confirmations",
        "height",
        "version",
        "versionHex",
        "merkleroot",
        "time",
        "mediantime",
        "nonce",
        "bits",
        "target",
        "difficulty",
        "chainwork",
        "nTx",
        "previousblockhash",
        "nextblockhash",
        "strippedsize",
        "size",
        "weight",
        "tx",
    ] {
        assert!(
            block.get(field).is_some(),
            "getblock lacks {field}: {block}"
        );
    }
    assert_eq!(block["height"], 1);
    assert_eq!(block["confirmations"], 101);
    assert_eq!(block["previousblockhash"], GENESIS);
    assert_eq!(block["nextblockhash"], json!(hashes[1]));
    assert_eq!(block["nTx"], 1);

    let raw = node.call("getblock", json!([hashes[0], 0]));
    let bytes = hex::decode(raw.as_str().unwrap()).unwrap();
    let decoded: bitcoin::Block = bitcoin::consensus::encode::deserialize(&bytes).unwrap();
    assert_eq!(decoded.block_hash().to_string(), hashes[0]);

    let full = node.call("getblock", json!([hashes[0], 2]));
    let coinbase = &full["tx"][0];
    assert!(coinbase["vin"][0]["coinbase"].is_string());
    assert_eq!(coinbase["vout"][0]["value"].to_string(), "50.00000000");
    assert_eq!(
        coinbase["vout"][0]["scriptPubKey"]["address"],
        harness::ADDRESS
    );
    assert_eq!(
        coinbase["vout"][0]["scriptPubKey"]["type"],
        "witness_v0_scripthash"
    );
    assert_eq!(coinbase["vout"][1]["scriptPubKey"]["type"], "nulldata");

    let header = node.call("getblockheader", json!([hashes[0]]));
    assert_eq!(header["hash"], json!(hashes[0]));
    let header_hex = node.call("getblockheader", json!([hashes[0], false]));
    assert_eq!(header_hex.as_str().unwrap().len(), 160);

    // The coinbase of block 1 is in the UTXO set, mature at 101 confirmations.
    let txid = block["tx"][0].as_str().unwrap();
    let out = node.call("gettxout", json!([txid, 0]));
    assert_eq!(out["confirmations"], 101);
    assert_eq!(out["coinbase"], true);
    let utxos = node.call("gettxoutsetinfo", json!([]));
    assert_eq!(utxos["height"], 101);
    assert_eq!(utxos["txouts"], 101, "one spendable output per coinbase");
    assert_eq!(utxos["total_amount"].to_string(), "5050.00000000");
    assert_eq!(utxos["hash_serialized_3"].as_str().unwrap().len(), 64);
}

#[test]
fn invalidate_and_reconsider_move_the_tip_and_the_utxo_set() {
    let node = TestNode::start(&[]);
    let hashes = node.generate(10);
    let before = node.call("gettxoutsetinfo", json!([]));
    node.call("invalidateblock", json!([hashes[5]]));
    assert_eq!(node.call("getblockcount", json!([])), json!(5));
    assert_eq!(node.call("getbestblockhash", json!([])), json!(hashes[4]));
    let tips = node.call("getchaintips", json!([]));
    assert!(
        tips.as_array()
            .unwrap()
            .iter()
            .any(|t| t["status"] == "invalid"),
        "{tips}"
    );
    // A new, different chain grows past the invalid one...
    let other = node.generate(7);
    assert_eq!(node.call("getblockcount", json!([])), json!(12));
    // ...and reconsidering the old one keeps the one with more work.
    node.call("reconsiderblock", json!([hashes[5]]));
    assert_eq!(node.call("getbestblockhash", json!([])), json!(other[6]));
    // Invalidate the new branch: the old chain comes back whole.
    node.call("invalidateblock", json!([other[0]]));
    assert_eq!(node.call("getbestblockhash", json!([])), json!(hashes[9]));
    let after = node.call("gettxoutsetinfo", json!([]));
    assert_eq!(after["hash_serialized_3"], before["hash_serialized_3"]);
}

#[test]
fn submitblock_refuses_bad_blocks_with_core_reasons() {
    let node = TestNode::start(&[]);
    node.generate(1);
    let tip = node.call("getbestblockhash", json!([]));
    let raw = node.call("getblock", json!([tip, 0]));
    let bytes = hex::decode(raw.as_str().unwrap()).unwrap();
    let block: bitcoin::Block = bitcoin::consensus::encode::deserialize(&bytes).unwrap();
    assert_eq!(node.call("submitblock", json!([raw])), json!("duplicate"));

    let mut bad = block.clone();
    bad.header.prev_blockhash = block.block_hash();
    bad.header.merkle_root = bitcoin::hashes::Hash::all_zeros();
    bad.header.time += 1;
    chain_grind(&mut bad.header);
    let hex_block = hex::encode(bitcoin::consensus::encode::serialize(&bad));
    assert_eq!(
        node.call("submitblock", json!([hex_block])),
        json!("bad-txnmrklroot")
    );

    let mut high = block.clone();
    high.header.prev_blockhash = block.block_hash();
    high.header.time += 1;
    while bitcoin::Target::from_compact(high.header.bits).is_met_by(high.block_hash()) {
        high.header.nonce += 1;
    }
    let hex_block = hex::encode(bitcoin::consensus::encode::serialize(&high));
    assert_eq!(
        node.call("submitblock", json!([hex_block])),
        json!("high-hash")
    );
    let err = node.rpc("submitblock", json!(["00"])).unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-22, "Block decode failed")
    );
    assert_eq!(
        node.call("getbestblockhash", json!([])),
        tip,
        "nothing changed"
    );
}

fn chain_grind(header: &mut bitcoin::block::Header) {
    let target = bitcoin::Target::from_compact(header.bits);
    while !target.is_met_by(header.block_hash()) {
        header.nonce += 1;
    }
}
