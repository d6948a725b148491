//! Transactions end to end: signed spends through sendrawtransaction into
//! the mempool and into blocks; every rejection with Bitcoin Core's code
//! and reason; invalid blocks refused with Core's reasons and nothing
//! changed; a reorganisation putting transactions back in the mempool.

use c1pzo_functional as harness;

use std::str::FromStr;

use bitcoin::{Amount, BlockHash, Txid};
use harness::wallet::{to_hex, unsigned, Key};
use harness::TestNode;
use serde_json::{json, Value};

/// A node with 101 blocks mined to `key`: block 1's coinbase is mature.
fn funded(extra: &[&str]) -> (TestNode, Key, Vec<String>) {
    let node = TestNode::start(extra);
    let key = Key::new(7);
    let hashes = node.call("generatetoaddress", json!([101, key.address()]));
    let hashes = hashes
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    (node, key, hashes)
}

fn coinbase_txid(node: &TestNode, block_hash: &str) -> Txid {
    let block = node.call("getblock", json!([block_hash]));
    Txid::from_str(block["tx"][0].as_str().unwrap()).unwrap()
}

const REWARD: Amount = Amount::from_sat(5_000_000_000);

#[test]
fn a_signed_spend_goes_through_the_mempool_into_a_block() {
    let (node, key, hashes) = funded(&["-txindex"]);
    let coinbase = coinbase_txid(&node, &hashes[0]);
    let other = Key::new(9);
    let tx = key.spend(
        coinbase,
        0,
        REWARD,
        other.script(),
        Amount::from_sat(10_000),
    );
    let txid = tx.compute_txid().to_string();

    // testmempoolaccept says yes without adding it.
    let test = node.call("testmempoolaccept", json!([[to_hex(&tx)]]));
    assert_eq!(test[0]["allowed"], true, "{test}");
    assert_eq!(test[0]["fees"]["base"].to_string(), "0.00010000");
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));

    assert_eq!(
        node.call("sendrawtransaction", json!([to_hex(&tx)])),
        json!(txid)
    );
    // Sending it again is not an error: the txid comes back.
    assert_eq!(
        node.call("sendrawtransaction", json!([to_hex(&tx)])),
        json!(txid)
    );
    assert_eq!(node.call("getrawmempool", json!([])), json!([txid]));
    let entry = node.call("getmempoolentry", json!([txid]));
    assert_eq!(entry["fees"]["base"].to_string(), "0.00010000");
    assert_eq!(entry["vsize"], tx.vsize());
    let info = node.call("getmempoolinfo", json!([]));
    assert_eq!(info["size"], 1);
    let raw = node.call("getrawtransaction", json!([txid]));
    assert_eq!(raw, json!(to_hex(&tx)));

    // A second spend of the same coin conflicts.
    let double = key.spend(coinbase, 0, REWARD, key.script(), Amount::from_sat(20_000));
    let test = node.call("testmempoolaccept", json!([[to_hex(&double)]]));
    assert_eq!(test[0]["reject-reason"], "txn-mempool-conflict");

    // Mined: the fee goes to the miner, the mempool empties.
    let block = node.call("generatetoaddress", json!([1, key.address()]));
    let block_hash = block[0].as_str().unwrap();
    let mined = node.call("getblock", json!([block_hash]));
    assert_eq!(mined["tx"][1], json!(txid));
    let full = node.call("getblock", json!([block_hash, 2]));
    assert_eq!(full["tx"][0]["vout"][0]["value"].to_string(), "50.00010000");
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));
    assert_eq!(
        node.call("gettxout", json!([txid, 0]))["value"].to_string(),
        "49.99990000"
    );
    // -txindex finds it without a block hash; the block hash works too.
    let found = node.call("getrawtransaction", json!([txid, 1]));
    assert_eq!(found["blockhash"], json!(block_hash));
    assert_eq!(found["confirmations"], 1);
    let found = node.call("getrawtransaction", json!([txid, true, block_hash]));
    assert_eq!(found["in_active_chain"], true);
    // Sending it now: already in the UTXO set.
    let err = node
        .rpc("sendrawtransaction", json!([to_hex(&tx)]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-27, "Transaction outputs already in utxo set")
    );
}

#[test]
fn bad_transactions_are_refused_with_core_codes() {
    let (node, key, hashes) = funded(&[]);
    let coinbase = coinbase_txid(&node, &hashes[0]);
    let send = |tx: &bitcoin::Transaction| {
        node.rpc("sendrawtransaction", json!([to_hex(tx)]))
            .unwrap_err()
    };

    // Signed by the wrong key.
    let mut forged = unsigned(coinbase, 0, key.script(), REWARD - Amount::from_sat(10_000));
    Key::new(8).sign(&mut forged, &[REWARD]);
    let err = send(&forged);
    assert_eq!(
        (err.code, err.message.as_str()),
        (-26, "mandatory-script-verify-flag-failed (Script failed)")
    );

    // Missing inputs.
    let missing = key.spend(
        Txid::from_str(&"11".repeat(32)).unwrap(),
        0,
        REWARD,
        key.script(),
        Amount::from_sat(10_000),
    );
    let err = send(&missing);
    assert_eq!(
        (err.code, err.message.as_str()),
        (-25, "bad-txns-inputs-missingorspent")
    );
    let test = node.call("testmempoolaccept", json!([[to_hex(&missing)]]));
    assert_eq!(test[0]["reject-reason"], "missing-inputs");

    // An immature coinbase (block 101's).
    let young = coinbase_txid(&node, &hashes[100]);
    let err = send(&key.spend(young, 0, REWARD, key.script(), Amount::from_sat(10_000)));
    assert_eq!(err.code, -26);
    assert_eq!(
        err.message,
        "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1"
    );

    // Below the minimum relay fee, and above maxfeerate.
    let err = send(&key.spend(coinbase, 0, REWARD, key.script(), Amount::from_sat(50)));
    assert_eq!(err.code, -26);
    assert!(
        err.message.starts_with("min relay fee not met, 50 < "),
        "{}",
        err.message
    );
    let err = send(&key.spend(
        coinbase,
        0,
        REWARD,
        key.script(),
        Amount::from_sat(100_000_000),
    ));
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            -25,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"
        )
    );

    // Spending more than the input.
    let mut overspend = unsigned(coinbase, 0, key.script(), REWARD + Amount::from_sat(1));
    key.sign(&mut overspend, &[REWARD]);
    let err = send(&overspend);
    assert_eq!(err.code, -26);
    assert!(
        err.message.starts_with("bad-txns-in-belowout"),
        "{}",
        err.message
    );

    // Not a transaction at all.
    let err = node.rpc("sendrawtransaction", json!(["zz"])).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-22, "TX decode failed"));

    // Dust.
    let dust = key.spend(
        coinbase,
        0,
        REWARD,
        key.script(),
        REWARD - Amount::from_sat(100),
    );
    let test = node.call("testmempoolaccept", json!([[to_hex(&dust)]]));
    assert_eq!(test[0]["reject-reason"], "dust");

    assert_eq!(
        node.call("getrawmempool", json!([])),
        json!([]),
        "nothing got in"
    );
}

/// A block on the tip with `txs`, built outside the node.
fn block_with(node: &TestNode, key: &Key, txs: Vec<bitcoin::Transaction>, fees: u64) -> String {
    let tip = node.call("getbestblockhash", json!([]));
    let header = node.call("getblockheader", json!([tip]));
    let height = header["height"].as_u64().unwrap() as u32 + 1;
    let block = chain::block_builder::assemble(
        BlockHash::from_str(tip.as_str().unwrap()).unwrap(),
        height,
        bitcoin::CompactTarget::from_consensus(0x207fffff),
        header["time"].as_u64().unwrap() as u32 + 1,
        key.script(),
        Amount::from_sat(5_000_000_000 >> (height / 150)) + Amount::from_sat(fees),
        txs,
    );
    hex::encode(bitcoin::consensus::encode::serialize(&block))
}

#[test]
fn invalid_blocks_are_refused_and_change_nothing() {
    let (node, key, hashes) = funded(&[]);
    let coinbase = coinbase_txid(&node, &hashes[0]);
    let before = node.call("gettxoutsetinfo", json!([]));
    let tip = node.call("getbestblockhash", json!([]));
    let spend = |fee: u64| key.spend(coinbase, 0, REWARD, key.script(), Amount::from_sat(fee));

    let cases: Vec<(String, &str)> = vec![
        (
            block_with(&node, &key, vec![spend(1_000), spend(2_000)], 3_000),
            "bad-txns-inputs-missingorspent",
        ),
        (block_with(&node, &key, vec![], 1), "bad-cb-amount"),
        (
            block_with(
                &node,
                &key,
                vec![{
                    let young = coinbase_txid(&node, &hashes[100]);
                    key.spend(young, 0, REWARD, key.script(), Amount::from_sat(1_000))
                }],
                1_000,
            ),
            "bad-txns-premature-spend-of-coinbase",
        ),
        (
            block_with(
                &node,
                &key,
                vec![{
                    let mut forged =
                        unsigned(coinbase, 0, key.script(), REWARD - Amount::from_sat(1_000));
                    Key::new(8).sign(&mut forged, &[REWARD]);
                    forged
                }],
                1_000,
            ),
            "mandatory-script-verify-flag-failed (Script failed)",
        ),
        (
            block_with(
                &node,
                &key,
                vec![{
                    let mut over =
                        unsigned(coinbase, 0, key.script(), REWARD + Amount::from_sat(1));
                    key.sign(&mut over, &[REWARD]);
                    over
                }],
                0,
            ),
            "bad-txns-in-belowout",
        ),
    ];
    for (block, reason) in cases {
        assert_eq!(node.call("submitblock", json!([block])), json!(reason));
    }
    assert_eq!(node.call("getbestblockhash", json!([])), tip);
    assert_eq!(node.call("gettxoutsetinfo", json!([])), before);
    // A valid one is still accepted.
    assert_eq!(
        node.call(
            "submitblock",
            json!([block_with(&node, &key, vec![spend(1_000)], 1_000)])
        ),
        Value::Null
    );
}

#[test]
fn a_reorg_returns_transactions_to_the_mempool() {
    let (node, key, hashes) = funded(&[]);
    let coinbase = coinbase_txid(&node, &hashes[0]);
    let tx = key.spend(coinbase, 0, REWARD, key.script(), Amount::from_sat(10_000));
    let txid = tx.compute_txid().to_string();
    node.call("sendrawtransaction", json!([to_hex(&tx)]));
    let mined = node.call("generatetoaddress", json!([1, key.address()]));
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));
    let utxos_with = node.call("gettxoutsetinfo", json!([]));

    node.call("invalidateblock", json!([mined[0]]));
    assert_eq!(
        node.call("getrawmempool", json!([])),
        json!([txid]),
        "back in the mempool"
    );
    assert_eq!(
        node.call("gettxout", json!([txid, 0, false])),
        Value::Null,
        "not in the UTXO set"
    );
    assert_eq!(
        node.call("gettxout", json!([txid, 0]))["confirmations"],
        0,
        "but in the mempool"
    );

    node.call("reconsiderblock", json!([mined[0]]));
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));
    assert_eq!(node.call("gettxoutsetinfo", json!([])), utxos_with);
}

#[test]
fn raw_transaction_tools_decode_and_create() {
    let node = TestNode::start(&[]);
    let key = Key::new(3);
    let created = node.call(
        "createrawtransaction",
        json!([[{"txid": "aa".repeat(32), "vout": 1}], [{key.address(): 1.5}, {"data": "cafe"}]]),
    );
    let decoded = node.call("decoderawtransaction", json!([created]));
    assert_eq!(decoded["vin"][0]["txid"], json!("aa".repeat(32)));
    assert_eq!(decoded["vin"][0]["vout"], 1);
    assert_eq!(decoded["vin"][0]["sequence"], 4294967293u64);
    assert_eq!(decoded["vout"][0]["value"].to_string(), "1.50000000");
    assert_eq!(
        decoded["vout"][0]["scriptPubKey"]["address"],
        json!(key.address())
    );
    assert_eq!(
        decoded["vout"][1]["scriptPubKey"]["asm"],
        "OP_RETURN -32458"
    );
    let script = node.call(
        "decodescript",
        json!([hex::encode(key.script().as_bytes())]),
    );
    assert_eq!(script["type"], "witness_v0_keyhash");
    assert_eq!(script["address"], json!(key.address()));
    assert!(script["desc"].as_str().unwrap().starts_with("addr("));
    let err = node.rpc("decoderawtransaction", json!(["00"])).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-22, "TX decode failed"));
    let err = node
        .rpc("getrawtransaction", json!(["ab".repeat(32)]))
        .unwrap_err();
    assert_eq!(err.code, -5);
    assert!(
        err.message
            .starts_with("No such mempool transaction. Use -txindex"),
        "{}",
        err.message
    );
}

#[test]
fn acceptnonstdtxn_lifts_policy_and_verbosity_3_shows_prevouts() {
    // Forty OP_TRUEs: valid, spendable by anyone, and not a standard script.
    let bare_true = bitcoin::ScriptBuf::from_bytes(vec![0x51; 40]);
    for (args, allowed) in [(&[][..], false), (&["-acceptnonstdtxn=1"][..], true)] {
        let (node, key, hashes) = funded(args);
        let coinbase = coinbase_txid(&node, &hashes[0]);
        let tx = key.spend(
            coinbase,
            0,
            REWARD,
            bare_true.clone(),
            Amount::from_sat(10_000),
        );
        let test = node.call("testmempoolaccept", json!([[to_hex(&tx)]]));
        assert_eq!(test[0]["allowed"], allowed, "{test}");
        if !allowed {
            assert_eq!(test[0]["reject-reason"], "scriptpubkey");
            continue;
        }
        let txid = node.call("sendrawtransaction", json!([to_hex(&tx)]));
        // gettxout sees the mempool by default: the spent coin is gone and
        // the new output is there with 0 confirmations.
        assert_eq!(
            node.call("gettxout", json!([coinbase.to_string(), 0])),
            Value::Null
        );
        assert!(node
            .call("gettxout", json!([coinbase.to_string(), 0, false]))
            .is_object());
        assert_eq!(node.call("gettxout", json!([txid, 0]))["confirmations"], 0);
        let mined = node.call("generatetoaddress", json!([1, key.address()]));
        let block = node.call("getblock", json!([mined[0], 3]));
        let spend = &block["tx"][1];
        assert_eq!(spend["fee"].to_string(), "0.00010000");
        assert_eq!(spend["vin"][0]["prevout"]["generated"], true);
        assert_eq!(spend["vin"][0]["prevout"]["height"], 1);
        assert_eq!(
            spend["vin"][0]["prevout"]["value"].to_string(),
            "50.00000000"
        );
        assert_eq!(
            spend["vin"][0]["prevout"]["scriptPubKey"]["address"],
            json!(key.address())
        );
    }
}

#[test]
fn a_reorg_drops_transactions_it_made_invalid_and_mining_goes_on() {
    let (node, key, hashes) = funded(&[]);
    let coinbase = coinbase_txid(&node, &hashes[0]);
    let tx = key.spend(coinbase, 0, REWARD, key.script(), Amount::from_sat(10_000));
    node.call("sendrawtransaction", json!([to_hex(&tx)]));
    // Back to height 50: block 1's coinbase is immature again.
    node.call("invalidateblock", json!([hashes[50]]));
    assert_eq!(node.call("getblockcount", json!([])), 50);
    assert_eq!(
        node.call("getrawmempool", json!([])),
        json!([]),
        "the spend left the pool"
    );
    // Mining does not trip over it.
    node.call("generatetoaddress", json!([1, key.address()]));
    assert_eq!(node.call("getblockcount", json!([])), 51);
}

#[test]
fn refused_blocks_are_remembered_and_side_branches_are_inconclusive() {
    let (node, key, _) = funded(&[]);
    // An invalid block (it claims too much) is remembered as invalid.
    let bad = block_with(&node, &key, vec![], 1);
    assert_eq!(
        node.call("submitblock", json!([bad])),
        json!("bad-cb-amount")
    );
    assert_eq!(
        node.call("submitblock", json!([bad])),
        json!("duplicate-invalid")
    );
    // A valid block on an older parent does not become the tip.
    let tip = node.call("getbestblockhash", json!([]));
    node.call("invalidateblock", json!([tip]));
    let side = block_with(&node, &Key::new(2), vec![], 0);
    node.call("reconsiderblock", json!([tip]));
    assert_eq!(
        node.call("submitblock", json!([side])),
        json!("inconclusive")
    );
    assert_eq!(node.call("getbestblockhash", json!([])), tip);
    // Never connected, so only its header chain is known good; the tip
    // that was invalidated and reconsidered is the active one again.
    let tips = node.call("getchaintips", json!([]));
    let status = |status: &str| {
        tips.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == status)
            .count()
    };
    assert_eq!(
        (status("active"), status("valid-headers")),
        (1, 1),
        "{tips}"
    );
}

#[test]
fn relative_lock_times_are_enforced() {
    let (node, key, hashes) = funded(&[]);
    let coinbase = coinbase_txid(&node, &hashes[0]);
    // Block 1's coinbase, locked 200 blocks after its own: not before 200.
    let locked = |blocks: u32| {
        let mut tx = unsigned(coinbase, 0, key.script(), REWARD - Amount::from_sat(10_000));
        tx.input[0].sequence = bitcoin::Sequence::from_height(blocks as u16);
        key.sign(&mut tx, &[REWARD]);
        tx
    };
    let test = node.call("testmempoolaccept", json!([[to_hex(&locked(200))]]));
    assert_eq!(test[0]["reject-reason"], "non-BIP68-final");
    let block = block_with(&node, &key, vec![locked(200)], 10_000);
    assert_eq!(
        node.call("submitblock", json!([block])),
        json!("bad-txns-nonfinal")
    );
    // A lock that has passed (50 blocks after height 1) is fine.
    let test = node.call("testmempoolaccept", json!([[to_hex(&locked(50))]]));
    assert_eq!(test[0]["allowed"], true, "{test}");
    let block = block_with(&node, &key, vec![locked(50)], 10_000);
    assert_eq!(node.call("submitblock", json!([block])), Value::Null);
}
