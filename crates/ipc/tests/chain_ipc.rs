//! The wallet on one side of a socket pair, the node on the other, as
//! `c1pzo-node` and its wallet process will run: the node hands its real
//! `Chain` to the wallet side's `Init.makeWalletLoader`; wallet RPCs
//! registered through `Chain.handleRpc` are called through the node's RPC
//! table; chain notifications flow back over the socket. Two event loops
//! in one process, real Cap'n Proto between them, a real chainstate and
//! real wallet files.

use std::sync::Arc;

use bitcoin::{Address, Amount, Network};
use interfaces::{Chain, WalletLoader};
use ipc::client::InitClient;
use ipc::event_loop::LoopHandle;
use ipc::listen::Stream;
use ipc::serve::{init_bootstrap_with, serve_parent_with, MakeWalletLoader, Services};
use node::rpc::table::dispatch;
use node::{LocalChain, Node};
use serde_json::{json, Value};

fn start_node(dir: &std::path::Path) -> Arc<Node> {
    let chainstate = chain::ChainState::open(
        &dir.join("chainstate.redb"),
        chain::Consensus::regtest(),
        &bitcoin::constants::genesis_block(Network::Regtest),
    )
    .unwrap();
    Node::new(
        chainstate,
        Network::Regtest,
        "regtest",
        false,
        common::logging::Logger::disabled(),
    )
}

fn call(node: &Node, uri: &str, method: &str, params: Value) -> Value {
    dispatch(node, method, Some(&params), uri).unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn btc(value: &Value) -> Amount {
    Amount::from_str_in(&value.to_string(), bitcoin::Denomination::Bitcoin).unwrap()
}

#[test]
fn a_wallet_behind_a_socket_works_as_one_in_the_node_would() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path());
    let wallet_dir = dir.path().join("wallets");
    std::fs::create_dir_all(&wallet_dir).unwrap();

    // The wallet side: serves Init with a loader factory on its own loop.
    let (node_end, wallet_end) = ipc::runtime::platform::socket_pair().unwrap();
    let make: MakeWalletLoader = Arc::new(move |chain: Arc<dyn Chain>| {
        let context = wallet::manager::WalletContext::new(
            chain,
            wallet_dir.clone(),
            Network::Regtest,
            Some(20_000),
        );
        context as Arc<dyn WalletLoader>
    });
    let wallet_side = std::thread::spawn(move || {
        serve_parent_with(
            wallet_end,
            init_bootstrap_with(Services {
                chain: None,
                wallet_loader: Some(make),
                rpc: None,
                mining: None,
                node: None,
            }),
        )
    });

    // The node side: connects, hands over its Chain, registers the RPCs.
    let handle = LoopHandle::start().unwrap();
    let init = InitClient::connect(&handle, Stream::from(node_end)).unwrap();
    let loader = init
        .make_wallet_loader(LocalChain::new(node.clone()))
        .unwrap();
    loader.register_rpcs();
    assert!(node.rpc_command("getbalances").is_some());

    call(&node, "/", "createwallet", json!(["w"]));
    let address = call(&node, "/wallet/w", "getnewaddress", json!([]));
    let address = address
        .as_str()
        .unwrap()
        .parse::<Address<bitcoin::address::NetworkUnchecked>>()
        .unwrap()
        .require_network(Network::Regtest)
        .unwrap();
    node::mining::generate(&node, &address.script_pubkey(), 101).unwrap();
    // Notifications crossed the socket before the balance was read.
    let balances = call(&node, "/wallet/w", "getbalances", json!([]));
    assert_eq!(btc(&balances["mine"]["trusted"]), Amount::from_int_btc(50));
    assert_eq!(balances["lastprocessedblock"]["height"], json!(101));

    // A payment: funded and signed in the wallet, broadcast through the
    // node's mempool over IPC, seen back as a mempool notification.
    let target = call(&node, "/wallet/w", "getnewaddress", json!(["", "bech32m"]));
    let txid = call(&node, "/wallet/w", "sendtoaddress", json!([target, 2]));
    assert!(node
        .mempool()
        .get(&txid.as_str().unwrap().parse().unwrap())
        .is_some());
    let tx = call(&node, "/wallet/w", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(0));
    // Wallet errors keep their codes across the boundary.
    let error = dispatch(&node, "getbalance", None, "/wallet/nope").unwrap_err();
    assert_eq!(error.code, -18);

    // Unloading over IPC removes the wallet; stopping removes the RPCs.
    call(&node, "/", "unloadwallet", json!(["w"]));
    assert_eq!(call(&node, "/", "listwallets", json!([])), json!([]));
    loader.stop();
    assert!(node.rpc_command("getbalances").is_none());
    drop(loader);
    drop(init);
    // The wallet side's loop ends when the node closes the socket.
    wallet_side.join().unwrap().unwrap();
}
