//! The wallet through RPC only, as a user sees it: mining to a wallet,
//! maturity, payments between wallets, fees, PSBTs, encryption,
//! multiwallet routing, reloading from disk, a crash right after a send,
//! reorganisations, and every refusal with Bitcoin Core's code and message
//! leaving the wallet as it was. Written against `C1PZOD`, so the same
//! tests run against the multiprocess executables later.

use c1pzo_functional as harness;

use bitcoin::{Amount, SignedAmount};
use harness::wallet_rpc::*;
use harness::TestNode;
use serde_json::{json, Value};

#[test]
fn coinbase_outputs_mature_after_one_hundred_blocks() {
    let node = node();
    node.call("createwallet", json!(["miner"]));
    let address = new_address(&node, "miner");
    mine_to(&node, 100, &address);
    assert_eq!(
        balances(&node, "miner"),
        (Amount::ZERO, Amount::ZERO, FIFTY * 100)
    );
    assert_eq!(
        btc(&node.wallet_call("miner", "getbalance", json!([]))),
        Amount::ZERO
    );
    mine_to(&node, 1, &address);
    assert_eq!(balances(&node, "miner"), (FIFTY, Amount::ZERO, FIFTY * 100));
    let listed = node.wallet_call("miner", "listtransactions", json!(["*", 200]));
    let categories: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories.len(), 101);
    assert_eq!(categories.iter().filter(|c| **c == "generate").count(), 1);
    assert_eq!(categories.iter().filter(|c| **c == "immature").count(), 100);
    // Coinbases spend nothing: none conflicts with another.
    let coinbase = node.wallet_call("miner", "gettransaction", json!([listed[0]["txid"]]));
    assert_eq!(coinbase["walletconflicts"], json!([]));
    assert_eq!(coinbase["details"][0]["category"], json!("generate"));
}

#[test]
fn a_payment_between_two_wallets_pays_a_fee_and_both_sides_agree() {
    let node = node();
    let miner = funded(&node, "alice");
    node.call("createwallet", json!(["bob"]));
    let to_bob = node
        .wallet_call("bob", "getnewaddress", json!(["rent", "bech32m"]))
        .as_str()
        .unwrap()
        .to_string();
    let txid = node.wallet_call("alice", "sendtoaddress", json!([to_bob, 10]));
    let txid = txid.as_str().unwrap();

    // Bob sees it at once, unconfirmed and not trusted (not his own).
    assert_eq!(
        balances(&node, "bob"),
        (Amount::ZERO, Amount::from_int_btc(10), Amount::ZERO)
    );
    let sent = node.wallet_call("alice", "gettransaction", json!([txid]));
    let fee = (-signed_btc(&sent["fee"])).to_unsigned().unwrap();
    assert!(
        fee > Amount::ZERO && fee < Amount::from_sat(100_000),
        "fee {fee}"
    );
    assert_eq!(
        signed_btc(&sent["amount"]),
        SignedAmount::from_sat(-1_000_000_000)
    );
    assert_eq!(sent["confirmations"], json!(0));
    assert_eq!(sent["details"][0]["category"], json!("send"));
    assert_eq!(sent["details"][0]["address"], json!(to_bob));
    // Alice's change is trusted at once: 50 - 10 - fee.
    let (trusted, pending, _) = balances(&node, "alice");
    assert_eq!(trusted, FIFTY - Amount::from_int_btc(10) - fee);
    assert_eq!(pending, Amount::ZERO);
    assert!(node
        .call("getrawmempool", json!([]))
        .as_array()
        .unwrap()
        .contains(&json!(txid)));

    mine_to(&node, 1, &miner);
    assert_eq!(
        balances(&node, "bob"),
        (Amount::from_int_btc(10), Amount::ZERO, Amount::ZERO)
    );
    let received = node.wallet_call("bob", "gettransaction", json!([txid]));
    assert_eq!(received["confirmations"], json!(1));
    assert_eq!(received["details"][0]["category"], json!("receive"));
    assert_eq!(received["details"][0]["label"], json!("rent"));
    assert_eq!(
        btc(&node.wallet_call("bob", "getreceivedbyaddress", json!([to_bob]))),
        Amount::from_int_btc(10)
    );

    // listunspent and gettransaction tell the same story.
    let unspent = node.wallet_call("bob", "listunspent", json!([]));
    let unspent = unspent.as_array().unwrap();
    assert_eq!(unspent.len(), 1);
    assert_eq!(unspent[0]["txid"], json!(txid));
    assert_eq!(unspent[0]["address"], json!(to_bob));
    assert_eq!(btc(&unspent[0]["amount"]), Amount::from_int_btc(10));
    assert_eq!(unspent[0]["confirmations"], json!(1));
    assert_eq!(unspent[0]["spendable"], json!(true));
    let tx = node.call("decoderawtransaction", json!([received["hex"]]));
    let vout = unspent[0]["vout"].as_u64().unwrap() as usize;
    assert_eq!(btc(&tx["vout"][vout]["value"]), Amount::from_int_btc(10));

    // Bob spends his taproot coin back; Alice's address types all work.
    for kind in ["legacy", "p2sh-segwit", "bech32", "bech32m"] {
        let address = node.wallet_call("alice", "getnewaddress", json!(["", kind]));
        node.wallet_call("bob", "sendtoaddress", json!([address, 1]));
    }
    mine_to(&node, 1, &miner);
    for kind in ["legacy", "p2sh-segwit", "bech32", "bech32m"] {
        let back = node.wallet_call("alice", "getnewaddress", json!(["", kind]));
        let spend_all = node.wallet_call(
            "alice",
            "listunspent",
            json!([1, 9999999, [], true, {"maximumAmount": 1}]),
        );
        assert!(!spend_all.as_array().unwrap().is_empty());
        node.wallet_call("alice", "sendtoaddress", json!([back, 0.5]));
    }
    mine_to(&node, 1, &miner);
    let info = node.wallet_call("alice", "getwalletinfo", json!([]));
    assert_eq!(btc(&info["unconfirmed_balance"]), Amount::ZERO);
}

#[test]
fn a_psbt_made_by_one_call_is_signed_by_another_and_mined() {
    let node = node();
    let miner = funded(&node, "alice");
    node.call("createwallet", json!(["bob"]));
    let to_bob = new_address(&node, "bob");
    let created = node.wallet_call(
        "alice",
        "walletcreatefundedpsbt",
        json!([[], [{ to_bob.clone(): 3 }], 0, {"fee_rate": 5}]),
    );
    let fee = btc(&created["fee"]);
    assert!(fee > Amount::ZERO);
    let unsigned = created["psbt"].as_str().unwrap();
    // Without signing nothing is complete.
    let updated = node.wallet_call("alice", "walletprocesspsbt", json!([unsigned, false]));
    assert_eq!(updated["complete"], json!(false));
    let signed = node.wallet_call("alice", "walletprocesspsbt", json!([unsigned]));
    assert_eq!(signed["complete"], json!(true));
    let txid = node.call("sendrawtransaction", json!([signed["hex"]]));
    mine_to(&node, 1, &miner);
    let got = node.wallet_call("bob", "gettransaction", json!([txid]));
    assert_eq!(got["confirmations"], json!(1));
    assert_eq!(btc(&got["amount"]), Amount::from_int_btc(3));
    let sent = node.wallet_call("alice", "gettransaction", json!([txid]));
    assert_eq!((-signed_btc(&sent["fee"])).to_unsigned().unwrap(), fee);

    // fundrawtransaction + signrawtransactionwithwallet, the older way.
    let to_bob = new_address(&node, "bob");
    let raw = node.call("createrawtransaction", json!([[], { to_bob: 1 }]));
    let funded_raw = node.wallet_call("alice", "fundrawtransaction", json!([raw]));
    assert!(funded_raw["changepos"].as_i64().unwrap() >= 0);
    let signed = node.wallet_call(
        "alice",
        "signrawtransactionwithwallet",
        json!([funded_raw["hex"]]),
    );
    assert_eq!(signed["complete"], json!(true));
    node.call("sendrawtransaction", json!([signed["hex"]]));
    // Bob cannot sign Alice's inputs.
    let by_bob = node.wallet_call(
        "bob",
        "signrawtransactionwithwallet",
        json!([funded_raw["hex"]]),
    );
    assert_eq!(by_bob["complete"], json!(false));
    assert!(!by_bob["errors"].as_array().unwrap().is_empty());
}

#[test]
fn an_encrypted_wallet_signs_only_while_unlocked() {
    let node = node();
    let miner = funded(&node, "miner");
    node.call(
        "createwallet",
        json!(["safe", false, false, "correct horse"]),
    );
    let address = new_address(&node, "safe");
    node.wallet_call("miner", "sendtoaddress", json!([address, 5]));
    mine_to(&node, 1, &miner);
    let info = node.wallet_call("safe", "getwalletinfo", json!([]));
    assert_eq!(info["unlocked_until"], json!(0));
    let before = balances(&node, "safe");

    let target = new_address(&node, "miner");
    expect_error(
        node.wallet_rpc("safe", "sendtoaddress", json!([target, 1])),
        -13,
        "Error: Please enter the wallet passphrase with walletpassphrase first.",
    );
    expect_error(
        node.wallet_rpc("safe", "walletpassphrase", json!(["wrong horse", 60])),
        -14,
        "Error: The wallet passphrase entered was incorrect.",
    );
    expect_error(
        node.wallet_rpc("safe", "listdescriptors", json!([true])),
        -13,
        "walletpassphrase",
    );
    assert_eq!(balances(&node, "safe"), before);

    node.wallet_call("safe", "walletpassphrase", json!(["correct horse", 60]));
    let unlocked = node.wallet_call("safe", "getwalletinfo", json!([]));
    assert!(unlocked["unlocked_until"].as_i64().unwrap() > 0);
    node.wallet_call("safe", "sendtoaddress", json!([target, 1]));
    let private = node.wallet_call("safe", "listdescriptors", json!([true]));
    assert!(private["descriptors"][0]["desc"]
        .as_str()
        .unwrap()
        .contains("tprv"));
    node.wallet_call("safe", "walletlock", json!([]));
    expect_error(
        node.wallet_rpc("safe", "sendtoaddress", json!([target, 1])),
        -13,
        "walletpassphrase",
    );
    expect_error(
        node.wallet_rpc("safe", "encryptwallet", json!(["again"])),
        -15,
        "Error: running with an encrypted wallet, but encryptwallet was called.",
    );

    // Encrypting later works the same, and the key survives a reload.
    assert_eq!(
        node.wallet_call("miner", "encryptwallet", json!(["battery staple"])),
        json!("wallet encrypted; The keypool has been flushed and a new HD seed was generated (if you are using HD). You need to make a new backup.")
    );
    node.call("unloadwallet", json!(["miner"]));
    node.call("loadwallet", json!(["miner"]));
    expect_error(
        node.wallet_rpc("miner", "sendtoaddress", json!([target, 1])),
        -13,
        "walletpassphrase",
    );
    // Unlocked for long enough to send, under an emulator too.
    let unlock_for = harness::scaled(10).as_secs();
    node.wallet_call(
        "miner",
        "walletpassphrase",
        json!(["battery staple", unlock_for]),
    );
    node.wallet_call("miner", "sendtoaddress", json!([target, 1]));
    expect_error(
        node.wallet_rpc("safe", "walletpassphrase", json!(["", 10])),
        -8,
        "passphrase cannot be empty",
    );
    node.call("createwallet", json!(["plain"]));
    expect_error(
        node.wallet_rpc("plain", "walletpassphrase", json!(["x", 10])),
        -15,
        "Error: running with an unencrypted wallet, but walletpassphrase was called.",
    );
}

#[test]
fn requests_reach_the_wallet_their_path_names() {
    let node = node();
    expect_error(
        node.rpc("getbalance", json!([])),
        -18,
        "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet.",
    );
    node.call("createwallet", json!(["w1"]));
    // One wallet: "/" means it.
    assert_eq!(
        node.call("getwalletinfo", json!([]))["walletname"],
        json!("w1")
    );
    node.call("createwallet", json!(["w2"]));
    expect_error(
        node.rpc("getbalance", json!([])),
        -19,
        "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
    );
    assert_eq!(
        node.wallet_call("w2", "getwalletinfo", json!([]))["walletname"],
        json!("w2")
    );
    expect_error(
        node.wallet_rpc("nope", "getbalance", json!([])),
        -18,
        "Requested wallet does not exist or is not loaded",
    );
    // Node methods work at a wallet's path too.
    assert_eq!(node.wallet_call("w1", "getblockcount", json!([])), json!(0));
    assert_eq!(node.call("listwallets", json!([])), json!(["w1", "w2"]));
    expect_error(
        node.rpc("loadwallet", json!(["w1"])),
        -35,
        "Wallet \"w1\" is already loaded.",
    );
    expect_error(
        node.rpc("createwallet", json!(["w1"])),
        -4,
        "Database already exists.",
    );
    expect_error(
        node.rpc("loadwallet", json!(["missing"])),
        -18,
        "Path does not exist.",
    );
    expect_error(
        node.wallet_rpc("w1", "unloadwallet", json!(["w2"])),
        -8,
        "RPC endpoint wallet and wallet_name parameter specify different wallets",
    );
    node.wallet_call("w1", "unloadwallet", json!([]));
    expect_error(
        node.wallet_rpc("w1", "getbalance", json!([])),
        -18,
        "Requested wallet does not exist or is not loaded",
    );
    expect_error(
        node.rpc("unloadwallet", json!(["w1"])),
        -18,
        "Requested wallet does not exist or is not loaded",
    );
    let dir = node.call("listwalletdir", json!([]));
    assert_eq!(dir["wallets"], json!([{"name": "w1"}, {"name": "w2"}]));
    // Wallet methods appear in help, under their category.
    let help = node.call("help", json!([]));
    assert!(help.as_str().unwrap().contains("== Wallet =="));
    assert!(help
        .as_str()
        .unwrap()
        .contains("sendtoaddress \"address\" \"amount\""));
}

#[test]
fn wallets_reload_from_disk_with_their_history_and_balances() {
    let mut node = node();
    let miner = funded(&node, "keep");
    node.call(
        "createwallet",
        json!(["other", false, false, null, false, true, true]),
    );
    let to_other = new_address(&node, "other");
    let txid = node.wallet_call(
        "keep",
        "sendtoaddress",
        json!([to_other, 7, "for the car", "Carol"]),
    );
    mine_to(&node, 1, &miner);
    let before_keep = balances(&node, "keep");
    let before_other = balances(&node, "other");
    let listed_before = node.wallet_call("keep", "listtransactions", json!(["*", 1000]));
    // One lock kept across the restart, one in memory only (Core's
    // default).
    let coins = node.wallet_call("keep", "listunspent", json!([]));
    let kept = json!({"txid": coins[0]["txid"], "vout": coins[0]["vout"]});
    let forgotten = json!({"txid": coins[1]["txid"], "vout": coins[1]["vout"]});
    node.wallet_call("keep", "lockunspent", json!([false, [kept], true]));
    node.wallet_call("keep", "lockunspent", json!([false, [forgotten]]));
    node.stop();
    // "other" was created with load_on_startup: it comes back by itself;
    // "keep" is named on the command line.
    node.extra_args.push("-wallet=keep".into());
    node.launch();
    assert_eq!(
        node.call("listwallets", json!([])),
        json!(["keep", "other"])
    );
    assert_eq!(balances(&node, "keep"), before_keep);
    assert_eq!(balances(&node, "other"), before_other);
    assert_eq!(
        node.wallet_call("keep", "listtransactions", json!(["*", 1000])),
        listed_before
    );
    assert_eq!(
        node.wallet_call("keep", "listlockunspent", json!([])),
        json!([kept])
    );
    let sent = node.wallet_call("keep", "gettransaction", json!([txid]));
    assert_eq!(sent["comment"], json!("for the car"));
    assert_eq!(sent["to"], json!("Carol"));
    // Blocks mined while a wallet was unloaded are scanned when it loads.
    node.call("unloadwallet", json!(["other", false]));
    mine_to(&node, 3, &to_other);
    node.call("loadwallet", json!(["other"]));
    let (_, _, immature) = balances(&node, "other");
    assert_eq!(immature, FIFTY * 3);
    // A fresh address is never one handed out before the restart.
    let again = new_address(&node, "other");
    assert_ne!(again, to_other);
}

#[test]
fn refused_payments_leave_the_wallet_unchanged() {
    let node = node();
    funded(&node, "w");
    let info_before = node.wallet_call("w", "getwalletinfo", json!([]));
    let balances_before = balances(&node, "w");
    let good = new_address(&node, "w");
    let cases: Vec<(Value, i64, &str)> = vec![
        (json!([good, 1000]), -6, "Insufficient funds"),
        (
            json!([good, 0.00000100]),
            -6,
            "Transaction amount too small",
        ),
        (json!([good, 0]), -3, "Invalid amount for send"),
        (
            json!(["notanaddress", 1]),
            -5,
            "Invalid Bitcoin address: notanaddress",
        ),
        // A mainnet address on regtest.
        (
            json!(["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 1]),
            -5,
            "Invalid Bitcoin address",
        ),
        (
            json!([good, 1, "", "", false, true, null, "unset", false, 0.5]),
            -6,
            "is lower than the minimum fee rate setting",
        ),
        (
            json!([good, 1, "", "", false, true, null, "unset", false, 100000]),
            -6,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
        ),
    ];
    for (params, code, message) in cases {
        expect_error(node.wallet_rpc("w", "sendtoaddress", params), code, message);
    }
    expect_error(
        node.wallet_rpc(
            "w",
            "sendmany",
            json!(["", {good.clone(): 1, "bcrt1qnotvalid": 1}]),
        ),
        -5,
        "Invalid Bitcoin address",
    );
    expect_error(
        node.wallet_rpc("w", "getnewaddress", json!(["", "p2pk"])),
        -5,
        "Unknown address type 'p2pk'",
    );
    expect_error(
        node.wallet_rpc("w", "gettransaction", json!(["00".repeat(32)])),
        -5,
        "Invalid or non-wallet transaction id",
    );
    assert_eq!(balances(&node, "w"), balances_before);
    let info_after = node.wallet_call("w", "getwalletinfo", json!([]));
    assert_eq!(info_after["txcount"], info_before["txcount"]);
    assert!(node
        .call("getrawmempool", json!([]))
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn without_a_fallback_fee_sending_fails_with_cores_message() {
    let node = TestNode::start(&[]);
    funded(&node, "w");
    let address = new_address(&node, "w");
    expect_error(
        node.wallet_rpc("w", "sendtoaddress", json!([address, 1])),
        -6,
        "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee.",
    );
    // An explicit rate needs no estimate; settxfee too.
    node.wallet_call(
        "w",
        "sendtoaddress",
        json!([address, 1, "", "", false, true, null, "unset", false, 2]),
    );
    // The fee deducted from the amount is exactly what the size needs.
    let other = new_address(&node, "w");
    let sffo = node.wallet_call(
        "w",
        "sendtoaddress",
        json!([other, 3, "", "", true, true, null, "unset", false, 2]),
    );
    let sffo_tx = node.wallet_call("w", "gettransaction", json!([sffo, false, true]));
    let fee = (-signed_btc(&sffo_tx["fee"]))
        .to_unsigned()
        .unwrap()
        .to_sat();
    let to_other = node.call("getaddressinfo", json!([other]));
    let script = to_other["scriptPubKey"].clone();
    let paid: u64 = sffo_tx["decoded"]["vout"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["scriptPubKey"]["hex"] == script)
        .map(|o| btc(&o["value"]).to_sat())
        .sum();
    assert_eq!(paid + fee, 300_000_000, "the recipient pays the fee");
    let sffo_vsize = sffo_tx["decoded"]["vsize"].as_u64().unwrap();
    assert!(
        fee >= sffo_vsize * 2 && fee <= (sffo_vsize + 10) * 2,
        "fee {fee} for {sffo_vsize} vB at 2 sat/vB"
    );
    node.wallet_call("w", "settxfee", json!([0.0001]));
    let verbose = node.wallet_call(
        "w",
        "sendtoaddress",
        json!([address, 1, "", "", false, true, null, "unset", false, null, true]),
    );
    assert_eq!(verbose["fee_reason"], json!("PayTxFee set"));
    let tx = node.wallet_call("w", "gettransaction", json!([verbose["txid"]]));
    let vsize = node.call("decoderawtransaction", json!([tx["hex"]]))["vsize"]
        .as_u64()
        .unwrap();
    let fee = (-signed_btc(&tx["fee"])).to_unsigned().unwrap().to_sat();
    // 10 sat/vB, on an estimate of the size that may exceed the signed one
    // by a few bytes per input.
    assert!(
        fee >= vsize * 10 && fee <= (vsize + 10) * 10,
        "fee {fee} for {vsize} vB"
    );
    expect_error(
        node.wallet_rpc("w", "settxfee", json!([0.000001])),
        -8,
        "txfee cannot be less than min relay tx fee",
    );
}

#[test]
fn a_send_survives_the_node_being_killed_right_after_it_returns() {
    let mut node = node();
    funded(&node, "w");
    node.call("createwallet", json!(["payee"]));
    let address = new_address(&node, "payee");
    let txid = node.wallet_call("w", "sendtoaddress", json!([address, 12.5]));
    let before = balances(&node, "w");
    node.kill_9();
    node.extra_args.push("-wallet=w".into());
    node.extra_args.push("-wallet=payee".into());
    node.launch();
    let tx = node.wallet_call("w", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(0));
    // Re-broadcast at load: back in the (empty after the crash) mempool.
    assert!(node
        .call("getrawmempool", json!([]))
        .as_array()
        .unwrap()
        .contains(&txid));
    assert_eq!(balances(&node, "w"), before);
    assert_eq!(
        balances(&node, "payee"),
        (Amount::ZERO, Amount::from_sat(1_250_000_000), Amount::ZERO)
    );
}

#[test]
fn a_reorg_takes_payments_away_and_gives_them_back() {
    let node = node();
    let miner = funded(&node, "miner");
    node.call("createwallet", json!(["w"]));
    let address = new_address(&node, "w");
    let txid = node.wallet_call("miner", "sendtoaddress", json!([address, 4]));
    let blocks = mine_to(&node, 1, &address);
    let with_block = balances(&node, "w");
    // The coinbase also collects the payment's fee.
    assert_eq!(
        (with_block.0, with_block.1),
        (Amount::from_int_btc(4), Amount::ZERO)
    );
    assert!(with_block.2 > FIFTY && with_block.2 < FIFTY + Amount::from_sat(100_000));

    node.call("invalidateblock", json!([blocks[0]]));
    // The coinbase is gone from the chain and the payment waits again.
    assert_eq!(
        balances(&node, "w"),
        (Amount::ZERO, Amount::from_int_btc(4), Amount::ZERO)
    );
    let tx = node.wallet_call("w", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(0));
    assert!(tx.get("blockhash").is_none());
    let coinbase = node.call("getblock", json!([blocks[0]]))["tx"][0].clone();
    let orphan = node.wallet_call("w", "gettransaction", json!([coinbase]));
    assert_eq!(orphan["details"][0]["category"], json!("orphan"));
    let since = node.wallet_call("w", "listsinceblock", json!([blocks[0]]));
    assert!(!since["removed"].as_array().unwrap().is_empty());

    node.call("reconsiderblock", json!([blocks[0]]));
    assert_eq!(balances(&node, "w"), with_block);
    let tx = node.wallet_call("w", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(1));
    assert_eq!(tx["blockhash"], json!(blocks[0]));

    // A block that spends the payment's input another way: the payment
    // is conflicted (negative confirmations) and counts for nothing.
    let payment = node.wallet_call("miner", "sendtoaddress", json!([address, 2]));
    let decoded = node.wallet_call("miner", "gettransaction", json!([payment, false, true]));
    let input = &decoded["decoded"]["vin"][0];
    let coin = node.call("gettxout", json!([input["txid"], input["vout"], false]));
    let back_to_miner = new_address(&node, "miner");
    let value = btc(&coin["value"]) - Amount::from_sat(10_000);
    let raw = node.call(
        "createrawtransaction",
        json!([[{"txid": input["txid"], "vout": input["vout"]}], {back_to_miner: value.to_btc()}]),
    );
    let double_spend = node.wallet_call("miner", "signrawtransactionwithwallet", json!([raw]));
    assert_eq!(double_spend["complete"], json!(true));
    let block = node.call("generateblock", json!([miner, [double_spend["hex"]]]));
    let conflicted = node.wallet_call("w", "gettransaction", json!([payment]));
    assert_eq!(conflicted["confirmations"], json!(-1));
    assert_eq!(balances(&node, "w").1, Amount::ZERO);
    let conflict_txid =
        node.call("decoderawtransaction", json!([double_spend["hex"]]))["txid"].clone();
    assert_eq!(
        node.wallet_call("miner", "gettransaction", json!([payment]))["walletconflicts"],
        json!([conflict_txid])
    );
    // Undo that block: the payment is no longer conflicted but cannot
    // return to the mempool (the double spend did): it may be abandoned.
    node.call("invalidateblock", json!([block["hash"]]));
    let inactive = node.wallet_call("w", "gettransaction", json!([payment]));
    assert_eq!(inactive["confirmations"], json!(0));
    node.wallet_call("miner", "abandontransaction", json!([payment]));
    let abandoned = node.wallet_call("miner", "gettransaction", json!([payment]));
    assert_eq!(abandoned["details"][0]["abandoned"], json!(true));
}
