//! A front end's view of `c1pzo-node` (what the GUI will use): the `Node`
//! and `Wallet` interfaces over `-ipcbind`, through c1pzo's own IPC
//! client. The node answers from its own process; every wallet call goes
//! front end -> node -> wallet process and back, and gives the same
//! answers and the same refusals as the wallet RPCs.

use c1pzo_functional as harness;

use std::sync::Arc;
use std::time::Duration;

use bitcoin::Amount;
use harness::TestNode;
use interfaces::{Node, Wallet};
use ipc::client::InitClient;
use ipc::event_loop::LoopHandle;
use serde_json::json;

fn node_with_ipcbind() -> TestNode {
    let exe = harness::exe("c1pzo-node");
    TestNode::start_exe(
        exe,
        [127, 0, 0, 1].into(),
        &[
            "-fallbackfee=0.0002",
            &format!("-ipcbind={}", harness::ipc_bind_address()),
        ],
    )
}

/// Connects to the node's `-ipcbind` address and asks for its `Node`.
fn front_end(node: &TestNode) -> (ipc::node::NodeClient, InitClient, LoopHandle) {
    let handle = LoopHandle::start().unwrap();
    let address = node
        .args()
        .iter()
        .find_map(|a| a.strip_prefix("-ipcbind=").map(str::to_string))
        .expect("started with -ipcbind");
    let stream = ipc::listen::connect(&address, &node.network_dir())
        .unwrap()
        .expect("the node listens there");
    let init = InitClient::connect(&handle, stream).unwrap();
    (init.make_node().unwrap(), init, handle)
}

fn btc(value: &serde_json::Value) -> Amount {
    Amount::from_btc(value.as_f64().unwrap()).unwrap()
}

#[test]
fn a_front_end_follows_the_chain_and_runs_the_console() {
    let mut node = node_with_ipcbind();
    node.generate(3);
    let (front, _init, _loop) = front_end(&node);

    let tip = front.get_tip();
    assert_eq!(tip.height, 3);
    assert_eq!(
        json!(tip.hash.to_string()),
        node.call("getbestblockhash", json!([]))
    );
    let header = node.call("getblockheader", json!([tip.hash.to_string()]));
    assert_eq!(json!(tip.time), header["time"]);
    assert!(!front.is_initial_block_download());
    assert_eq!(front.get_mempool_size(), 0);

    // The console: the node's methods and the wallet process's, with
    // Core's errors.
    assert_eq!(front.execute_rpc("getblockcount", None, "/"), Ok(json!(3)));
    let hash = front
        .execute_rpc("getblockhash", Some(json!([3])), "/")
        .unwrap();
    assert_eq!(hash, json!(tip.hash.to_string()));
    let unknown = front.execute_rpc("nosuchmethod", None, "/").unwrap_err();
    assert_eq!(
        (unknown.code, unknown.message.as_str()),
        (-32601, "Method not found")
    );
    let out_of_range = front
        .execute_rpc("getblockhash", Some(json!([99])), "/")
        .unwrap_err();
    assert_eq!(out_of_range.code, -8);
    let commands = front.list_rpc_commands();
    for name in ["getblockcount", "stop", "getbalance", "createwallet"] {
        assert!(
            commands.iter().any(|c| c == name),
            "{name} missing from {commands:?}"
        );
    }

    // Following the chain without polling: a block mined elsewhere ends
    // the wait; with nothing mined the wait ends at its timeout.
    let moved = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            node.generate(1);
        });
        front.wait_tip_changed(&tip.hash, 20_000)
    });
    assert_eq!(moved.height, 4);
    let still = front.wait_tip_changed(&moved.hash, 200);
    assert_eq!(still, moved);

    // A front end may stop the node, as the GUI's quit does.
    assert!(!front.shutdown_requested());
    front.start_shutdown();
    assert!(node.wait_exit(Duration::from_secs(30)).success());
}

#[test]
fn a_front_end_uses_a_wallet_that_lives_in_the_wallet_process() {
    let node = node_with_ipcbind();
    node.call("createwallet", json!(["w"]));
    let mine = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, mine]));
    let (front, _init, _loop) = front_end(&node);

    let wallets = front.get_wallets();
    assert_eq!(wallets.len(), 1);
    let wallet: &Arc<dyn Wallet> = &wallets[0];
    assert_eq!(wallet.get_wallet_name(), "w");
    let expected = node.wallet_call("w", "getbalances", json!([]));
    let balances = wallet.get_balances().unwrap();
    assert_eq!(balances.trusted, btc(&expected["mine"]["trusted"]));
    assert_eq!(balances.immature, btc(&expected["mine"]["immature"]));
    assert_eq!(balances.trusted, Amount::from_btc(50.0).unwrap());

    let address = wallet.get_new_address("from the gui", "bech32m").unwrap();
    assert!(address.starts_with("bcrt1p"), "{address}");
    let info = node.wallet_call("w", "getaddressinfo", json!([address]));
    assert_eq!(info["ismine"], json!(true));
    assert_eq!(
        wallet.get_new_address("", "nonsense"),
        Err("Unknown address type 'nonsense'".to_string())
    );

    // A payment reaches the node's mempool; refusals change nothing.
    let txid = wallet
        .send_to_address(&address, Amount::from_btc(1.5).unwrap())
        .unwrap();
    assert_eq!(
        node.call("getrawmempool", json!([])),
        json!([txid.to_string()])
    );
    assert_eq!(front.get_mempool_size(), 1);
    assert_eq!(
        wallet.send_to_address("nonsense", Amount::from_btc(1.0).unwrap()),
        Err("Invalid Bitcoin address: nonsense".to_string())
    );
    assert_eq!(
        wallet.send_to_address(&address, Amount::from_btc(1000.0).unwrap()),
        Err("Insufficient funds".to_string())
    );
    assert_eq!(front.get_mempool_size(), 1);

    // Encryption, as the GUI's lock icon uses it.
    assert!(!wallet.is_crypted());
    assert!(wallet.lock().unwrap_err().contains("unencrypted wallet"));
    node.wallet_call("w", "encryptwallet", json!(["secret"]));
    assert!(wallet.is_crypted());
    assert!(wallet.is_locked());
    assert_eq!(
        wallet.unlock("wrong", 60),
        Err("Error: The wallet passphrase entered was incorrect.".to_string())
    );
    assert!(wallet.is_locked());
    wallet.unlock("secret", 60).unwrap();
    assert!(!wallet.is_locked());
    wallet.lock().unwrap();
    assert!(wallet.is_locked());

    // Once unloaded, the handle says so instead of showing stale figures.
    node.call("unloadwallet", json!(["w"]));
    assert_eq!(
        wallet.get_balances(),
        Err("Wallet \"w\" is not loaded".to_string())
    );
    assert!(front.get_wallets().is_empty());
}

#[test]
fn a_front_end_gets_errors_not_hangs_when_the_wallet_process_dies() {
    let node = node_with_ipcbind();
    node.call("createwallet", json!(["w"]));
    let (front, _init, _loop) = front_end(&node);
    let wallet = front.get_wallets().pop().expect("one wallet");
    assert_eq!(wallet.get_balances().unwrap().trusted, Amount::ZERO);

    harness::processes::kill_wallet_process(&node);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !node
        .debug_log()
        .contains("c1pzo-wallet exited unexpectedly")
    {
        assert!(std::time::Instant::now() < deadline, "{}", node.log_tail());
        std::thread::sleep(Duration::from_millis(20));
    }
    // The proxy the node held for the wallet fails; the front end hears
    // that, and the node itself goes on answering.
    let error = wallet.get_balances().unwrap_err();
    assert!(!error.is_empty());
    assert!(wallet.get_new_address("", "").is_err());
    assert!(front.get_wallets().is_empty());
    assert_eq!(front.get_tip().height, 0);
}

#[test]
fn a_front_end_manages_wallets_peers_and_two_step_payments() {
    let node = node_with_ipcbind();
    let (front, _init, _loop) = front_end(&node);
    assert_eq!(front.get_chain_name(), "regtest");

    // Wallets: created, listed, refused twice, closed and opened again.
    let created = front.create_wallet(&interfaces::CreateWalletOptions {
        name: "a".into(),
        ..Default::default()
    });
    assert_eq!(created, Ok("a".to_string()));
    let again = front
        .create_wallet(&interfaces::CreateWalletOptions {
            name: "a".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert!(again.contains("already exists"), "{again}");
    assert_eq!(front.list_wallet_dir(), Ok(vec!["a".to_string()]));
    front
        .create_wallet(&interfaces::CreateWalletOptions {
            name: "b".into(),
            ..Default::default()
        })
        .unwrap();
    let wallets = front.get_wallets();
    let wallet = |name: &str| {
        wallets
            .iter()
            .find(|w| w.get_wallet_name() == name)
            .cloned()
            .unwrap_or_else(|| panic!("wallet {name} not loaded"))
    };
    let (a, b) = (wallet("a"), wallet("b"));
    let mine = a.get_new_address("", "").unwrap();
    node.call("generatetoaddress", json!([101, mine]));

    // Two steps: created (nothing reaches the node), then committed; the
    // same transaction committed again pays nothing twice.
    let seen = a.wait_changed(u64::MAX, 0);
    let to_b = b.get_new_address("rent", "").unwrap();
    let other = b.get_new_address("", "bech32m").unwrap();
    let recipients = [
        interfaces::Recipient {
            address: to_b.clone(),
            amount: Amount::from_btc(1.25).unwrap(),
            subtract_fee: false,
        },
        interfaces::Recipient {
            address: other,
            amount: Amount::from_btc(2.0).unwrap(),
            subtract_fee: true,
        },
    ];
    let rate = bitcoin::FeeRate::from_sat_per_vb(3).unwrap();
    let created = a.create_transaction(&recipients, Some(rate)).unwrap();
    assert_eq!(front.get_mempool_size(), 0);
    let vsize = created.tx.vsize() as u64;
    assert!(
        created.fee.to_sat() >= 3 * vsize && created.fee.to_sat() <= 3 * vsize + 3,
        "fee {} for {vsize} vB at 3 sat/vB",
        created.fee
    );
    let paid: Vec<u64> = created.tx.output.iter().map(|o| o.value.to_sat()).collect();
    assert!(paid.contains(&125_000_000), "{paid:?}");
    assert!(
        paid.contains(&(200_000_000 - created.fee.to_sat())),
        "the fee comes out of the second output: {paid:?}"
    );
    let txid = a.commit_transaction(&created.tx).unwrap();
    assert_eq!(txid, created.tx.compute_txid());
    assert_eq!(a.commit_transaction(&created.tx), Ok(txid));
    assert_eq!(
        node.call("getrawmempool", json!([])),
        json!([txid.to_string()])
    );
    assert!(a.wait_changed(seen, 10_000) != seen, "the wallet changed");

    // The history, and one transaction whole.
    let history = a.get_transactions().unwrap();
    let sends: Vec<_> = history
        .iter()
        .filter(|r| r.txid == txid && r.category == interfaces::TxCategory::Send)
        .collect();
    assert_eq!(sends.len(), 2, "{history:?}");
    assert!(sends
        .iter()
        .all(|r| r.fee == Some(-created.fee.to_signed().unwrap())));
    assert!(history
        .iter()
        .any(|r| r.category == interfaces::TxCategory::Generate));
    let received = b.get_transactions().unwrap();
    assert!(received.iter().any(|r| r.txid == txid
        && r.category == interfaces::TxCategory::Receive
        && r.label.as_deref() == Some("rent")
        && r.address.as_deref() == Some(to_b.as_str())));
    let details = a.get_transaction(&txid).unwrap();
    assert_eq!(details.tx, created.tx);
    assert_eq!(details.fee, Some(created.fee));
    assert_eq!(details.confirmations, 0);
    let refused = a.abandon_transaction(&txid).unwrap_err();
    assert!(
        refused.contains("not eligible for abandonment"),
        "{refused}"
    );

    // Refusals, with the wallet's words, and nothing sent.
    let bad = [interfaces::Recipient {
        address: "nonsense".into(),
        amount: Amount::from_btc(1.0).unwrap(),
        subtract_fee: false,
    }];
    assert_eq!(
        a.create_transaction(&bad, None).unwrap_err(),
        "Invalid Bitcoin address: nonsense"
    );
    let too_much = [interfaces::Recipient {
        address: to_b,
        amount: Amount::from_btc(10_000.0).unwrap(),
        subtract_fee: false,
    }];
    assert_eq!(
        a.create_transaction(&too_much, None).unwrap_err(),
        "Insufficient funds"
    );
    assert_eq!(front.get_mempool_size(), 1);

    // Encryption and the passphrase, backup.
    a.encrypt_wallet("first").unwrap();
    assert!(a.is_crypted() && a.is_locked());
    assert!(a
        .create_transaction(&recipients, None)
        .unwrap_err()
        .contains("walletpassphrase"));
    assert!(a
        .change_passphrase("wrong", "second")
        .unwrap_err()
        .contains("passphrase entered was incorrect"));
    a.change_passphrase("first", "second").unwrap();
    a.unlock("second", 60).unwrap();
    let backup = node.datadir().join("a-backup.redb");
    a.backup_wallet(&backup.display().to_string()).unwrap();
    assert!(backup.is_file());

    front.unload_wallet("b").unwrap();
    assert!(b.get_balances().is_err());
    assert_eq!(front.load_wallet("b"), Ok("b".to_string()));

    // Peers: a second node connects; the front end sees it, bans it.
    let other = TestNode::start(&[]);
    node.call("addnode", json!([harness::net::p2p_addr(&other), "onetry"]));
    assert!(harness::net::wait_until(Duration::from_secs(30), || {
        front.get_connection_count() == 1
    }));
    let peers = front.get_peers();
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(peers[0].address, harness::net::p2p_addr(&other));
    assert!(!peers[0].inbound);
    assert_eq!(peers[0].connection_type, "manual");
    assert!(!front.disconnect_peer(9_999));
    front.ban("127.0.0.1", 3600).unwrap();
    assert!(harness::net::wait_until(Duration::from_secs(30), || {
        front.get_connection_count() == 0
    }));
    let banned = front.get_banned();
    assert_eq!(banned.len(), 1);
    assert_eq!(banned[0].subnet, "127.0.0.1/32");
    assert_eq!(banned[0].until - banned[0].created, 3600);
    assert!(front
        .ban("127.0.0.1", 3600)
        .unwrap_err()
        .contains("already banned"));
    front.unban("127.0.0.1/32").unwrap();
    assert!(front.get_banned().is_empty());

    assert!(front.get_network_active());
    front.set_network_active(false);
    assert!(!front.get_network_active());
    front.set_network_active(true);
    assert!(front.get_network_active());
}
