//! The wallet's history and coins through RPC: locking and listing coins,
//! abandoning, listsinceblock, rescans, importing descriptors into blank
//! and watch-only wallets, and restoring a backup.

use c1pzo_functional as harness;

use bitcoin::Amount;
use harness::wallet_rpc::*;
use serde_json::{json, Value};

#[test]
fn coins_can_be_locked_listed_and_abandoned_and_history_listed_since_a_block() {
    let node = node();
    let miner = funded(&node, "w");
    let unspent = node.wallet_call("w", "listunspent", json!([]));
    let coin = json!({"txid": unspent[0]["txid"], "vout": unspent[0]["vout"]});
    assert_eq!(
        node.wallet_call("w", "lockunspent", json!([false, [coin]])),
        json!(true)
    );
    assert_eq!(
        node.wallet_call("w", "listlockunspent", json!([])),
        json!([coin])
    );
    expect_error(
        node.wallet_rpc("w", "lockunspent", json!([false, [coin]])),
        -8,
        "Invalid parameter, output already locked",
    );
    // The only mature coin is locked: nothing to spend.
    let target = new_address(&node, "w");
    expect_error(
        node.wallet_rpc("w", "sendtoaddress", json!([target, 1])),
        -6,
        "Insufficient funds",
    );
    node.wallet_call("w", "lockunspent", json!([true]));
    assert_eq!(
        node.wallet_call("w", "listlockunspent", json!([])),
        json!([])
    );

    let tip = node.call("getbestblockhash", json!([]));
    let txid = node.wallet_call("w", "sendtoaddress", json!([target, 1]));
    let since = node.wallet_call("w", "listsinceblock", json!([tip]));
    let txids: Vec<&Value> = since["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["txid"])
        .collect();
    assert!(txids.contains(&&txid));
    assert_eq!(since["lastblock"], tip);

    // A transaction the mempool no longer has can be abandoned; one it
    // has cannot.
    expect_error(
        node.wallet_rpc("w", "abandontransaction", json!([txid])),
        -5,
        "Transaction not eligible for abandonment",
    );
    mine_to(&node, 1, &miner);
    expect_error(
        node.wallet_rpc("w", "abandontransaction", json!([txid])),
        -5,
        "Transaction not eligible for abandonment",
    );
    let rescanned = node.wallet_call("w", "rescanblockchain", json!([0]));
    assert_eq!(rescanned["start_height"], json!(0));
    assert_eq!(rescanned["stop_height"], json!(102));
    expect_error(
        node.wallet_rpc("w", "rescanblockchain", json!([500])),
        -8,
        "Invalid start_height",
    );
}

#[test]
fn imported_descriptors_find_their_history_and_backups_restore() {
    let node = node();
    funded(&node, "w");
    let descriptors = node.wallet_call("w", "listdescriptors", json!([true]));
    let receive: Vec<Value> = descriptors["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["active"] == json!(true))
        .map(|d| json!({"desc": d["desc"], "timestamp": 0, "active": true, "internal": d["internal"]}))
        .collect();
    assert_eq!(receive.len(), 8);
    node.call("createwallet", json!(["copy", false, true]));
    assert_eq!(
        balances(&node, "copy"),
        (Amount::ZERO, Amount::ZERO, Amount::ZERO)
    );
    let results = node.wallet_call("copy", "importdescriptors", json!([receive]));
    assert!(results
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["success"] == json!(true)));
    assert_eq!(balances(&node, "copy"), balances(&node, "w"));
    let too_large = node.wallet_call(
        "copy",
        "importdescriptors",
        json!([[{"desc": receive[0]["desc"], "timestamp": "now", "range": [0, 2_000_000]}]]),
    );
    assert_eq!(
        too_large[0]["error"]["message"],
        json!("Range is too large")
    );
    let bad = node.wallet_call(
        "copy",
        "importdescriptors",
        json!([[{"desc": "wpkh(nonsense)", "timestamp": "now"}]]),
    );
    assert_eq!(bad[0]["success"], json!(false));
    assert_eq!(bad[0]["error"]["code"], json!(-5));

    // A watch-only wallet takes public descriptors only.
    let public = node.wallet_call("w", "listdescriptors", json!([]));
    node.call("createwallet", json!(["watch", true]));
    let public_requests: Vec<Value> = public["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!({"desc": d["desc"], "timestamp": 0, "active": true, "internal": d["internal"]}))
        .collect();
    node.wallet_call("watch", "importdescriptors", json!([public_requests]));
    assert_eq!(balances(&node, "watch"), balances(&node, "w"));
    let target = new_address(&node, "w");
    expect_error(
        node.wallet_rpc("watch", "sendtoaddress", json!([target, 1])),
        -4,
        "Error: Private keys are disabled for this wallet",
    );

    let backup = node.datadir().join("w-backup.redb");
    node.wallet_call("w", "backupwallet", json!([backup.to_str().unwrap()]));
    let restored = node.network_dir().join("wallets").join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&backup, restored.join("wallet.redb")).unwrap();
    node.call("loadwallet", json!(["restored"]));
    assert_eq!(balances(&node, "restored"), balances(&node, "w"));
    let info = node.wallet_call("w", "getaddressinfo", json!([target]));
    assert_eq!(info["ismine"], json!(true));
    assert!(info["hdkeypath"]
        .as_str()
        .unwrap()
        .starts_with("m/84h/1h/0h/0/"));
    expect_error(
        node.wallet_rpc("w", "getaddressinfo", json!(["nope"])),
        -5,
        "Invalid address",
    );
}
