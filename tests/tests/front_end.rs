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
