//! What only `c1pzo-node` has: the wallet in its own process. The wallet
//! file is held by a separate pid, never by the node; a wallet process
//! killed with -9 is noticed, answered for, and replaced by `loadwallet`
//! with nothing lost; `stop` and Ctrl-C leave no process behind.

use c1pzo_functional as harness;

use std::path::Path;
use std::time::{Duration, Instant};

use harness::processes::{
    alive, holds_open, kill_wallet_process, logged_wallet_pid, signal, the_wallet_process,
    wallet_processes,
};
use harness::TestNode;
use serde_json::json;

fn multiprocess_node(extra: &[&str]) -> TestNode {
    let exe = harness::exe("c1pzo-node");
    let mut args = vec!["-fallbackfee=0.0002"];
    args.extend_from_slice(extra);
    TestNode::start_exe(exe, [127, 0, 0, 1].into(), &args)
}

/// The capability a Cap'n Proto request returns (`result`), or panic.
macro_rules! result {
    ($request:expr) => {
        $request
            .send()
            .promise
            .await
            .unwrap()
            .get()
            .unwrap()
            .get_result()
            .unwrap()
    };
}

/// A current-thread runtime and local set for a Cap'n Proto client.
fn client_runtime() -> (tokio::runtime::Runtime, tokio::task::LocalSet) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (runtime, tokio::task::LocalSet::new())
}

/// A client built from Bitcoin Core's schemas by a third party
/// (`bitcoin-capnp-types`, its own capnp-rpc), connected to the node's
/// `-ipcbind` `address` (a tcp one presents the `.ipccookie` in
/// `network_dir`): the node's `Init`, and what hangs up. Call inside the
/// local set.
fn core_client(
    address: &str,
    network_dir: &Path,
) -> (
    bitcoin_capnp_types::init_capnp::init::Client,
    bitcoin_capnp_types::capnp_rpc::Disconnector<
        bitcoin_capnp_types::capnp_rpc::rpc_twoparty_capnp::Side,
    >,
) {
    use bitcoin_capnp_types::capnp_rpc::rpc_twoparty_capnp::Side;
    use bitcoin_capnp_types::capnp_rpc::{twoparty::VatNetwork, RpcSystem};
    use futures::io::{AsyncRead, AsyncWrite, BufReader, BufWriter};
    use ipc::listen::Stream;
    use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

    let (reader, writer): (Box<dyn AsyncRead + Unpin>, Box<dyn AsyncWrite + Unpin>) =
        match ipc::listen::connect(address, network_dir).unwrap() {
            Some(Stream::Unix(socket)) => {
                socket.set_nonblocking(true).unwrap();
                let (reader, writer) = tokio::net::UnixStream::from_std(socket)
                    .unwrap()
                    .into_split();
                (Box::new(reader.compat()), Box::new(writer.compat_write()))
            }
            Some(Stream::Tcp(socket)) => {
                socket.set_nonblocking(true).unwrap();
                let (reader, writer) = tokio::net::TcpStream::from_std(socket)
                    .unwrap()
                    .into_split();
                (Box::new(reader.compat()), Box::new(writer.compat_write()))
            }
            None => panic!(
                "-ipcconnect={address} means no connection (0, empty, or auto with no socket)"
            ),
        };
    let network = VatNetwork::new(
        BufReader::new(reader),
        BufWriter::new(writer),
        Side::Client,
        Default::default(),
    );
    let mut system = RpcSystem::new(Box::new(network), None);
    let init = system.bootstrap(Side::Server);
    let disconnector = system.get_disconnector();
    tokio::task::spawn_local(system);
    (init, disconnector)
}

/// Whether `done` becomes true within `limit` (scaled, as every wait).
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let limit = limit.mul_f64(harness::timeouts::timeout_factor());
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn the_wallet_lives_in_its_own_process_and_the_node_never_opens_its_file() {
    let mut node = multiprocess_node(&["-debug=ipc"]);
    let node_pid = node.pid().unwrap();
    node.call("createwallet", json!(["w"]));
    let wallets = wallet_processes(&node);
    assert_eq!(wallets.len(), 1, "one wallet process, not {wallets:?}");
    let wallet_pid = wallets[0];
    assert_ne!(wallet_pid, node_pid);
    let file = node
        .network_dir()
        .join("wallets/w/wallet.redb")
        .canonicalize()
        .unwrap();
    assert!(
        holds_open(wallet_pid, &file),
        "the wallet process holds the file"
    );
    assert!(!holds_open(node_pid, &file), "the node never opens it");
    // The node holds its chainstate; the wallet process does not.
    let chainstate = node
        .network_dir()
        .join("chainstate.redb")
        .canonicalize()
        .unwrap();
    assert!(holds_open(node_pid, &chainstate));
    assert!(!holds_open(wallet_pid, &chainstate));

    // -debug=ipc shows the traffic in libmultiprocess's form.
    let log = node.debug_log();
    for line in [
        "[ipc] {c1pzo-node-",
        "IPC client send Init.makeWalletLoader$Params",
        "IPC client recv Init.makeWalletLoader$Results",
        "IPC server recv request  #",
        "Chain.handleRpc$Params",
        "IPC server send response #",
    ] {
        assert!(log.contains(line), "no \"{line}\" in the log");
    }

    let logged_pid = logged_wallet_pid(&node);
    if !harness::windows_executables() {
        assert_eq!(logged_pid, wallet_pid);
    }
    node.stop();
    assert!(
        wait_until(Duration::from_secs(10), || !alive(wallet_pid)),
        "stop leaves no wallet process behind"
    );
    assert!(node.debug_log().contains(&format!(
        "Process c1pzo-wallet pid {logged_pid} exited with status 0"
    )));
}

/// The wallet process dies while the node waits for its answer (it is
/// stopped first, so the call is surely in flight): that call gets an
/// error, not a hang, and so do later ones; `loadwallet` starts a new
/// process, which reads the wallet from disk with nothing lost.
#[test]
fn a_wallet_process_killed_mid_call_is_reported_and_loadwallet_starts_a_new_one() {
    let node = multiprocess_node(&["-debug=ipc"]);
    node.call("createwallet", json!(["w"]));
    let address = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    let before = node.wallet_call("w", "getbalances", json!([]));
    let old_pid = the_wallet_process(&node);

    let forwarded = |node: &TestNode| {
        node.debug_log()
            .matches("IPC client send RpcActor.call$Params")
            .count()
    };
    let forwarded_before = forwarded(&node);
    signal(old_pid, libc::SIGSTOP);
    std::thread::scope(|scope| {
        // Should an assertion fail while the process is stopped, it goes
        // (before the scope joins the call, which would wait out its
        // timeout); stopped, it cannot have been reaped, so the pid is
        // still the wallet's.
        let _kill_if_failing = KillIfPanicking(old_pid);
        let call = scope.spawn(|| node.wallet_rpc("w", "getbalances", json!([])));
        assert!(
            wait_until(Duration::from_secs(20), || forwarded(&node)
                > forwarded_before),
            "the node never sent the call on\n{}",
            node.log_tail()
        );
        assert_eq!(kill_wallet_process(&node), old_pid);
        // SIGKILL takes a stopped process as it is; wine's TerminateProcess
        // needs it running to finish.
        if harness::windows_executables() {
            signal(old_pid, libc::SIGCONT);
        }
        // The IPC layer's answer: it knows the peer went, not that the
        // peer was the wallet process (the stand-ins below say that).
        let error = call.join().unwrap().unwrap_err();
        assert_eq!(error.code, -18, "{}", error.message);
        assert_eq!(
            error.message,
            "The process serving this method is unavailable: IPC client method call interrupted \
             by disconnect."
        );
    });
    assert!(wait_until(Duration::from_secs(10), || node
        .debug_log()
        .contains("c1pzo-wallet exited unexpectedly")));
    // Later wallet calls get the same error; the node serves on.
    let error = node.wallet_rpc("w", "getbalances", json!([])).unwrap_err();
    assert_eq!(error.code, -18, "{}", error.message);
    assert!(
        error.message.contains("wallet process"),
        "{}",
        error.message
    );
    assert_eq!(node.call("getblockcount", json!([])), json!(101));

    // loadwallet starts a fresh process, which reads the wallet from disk.
    node.call("loadwallet", json!(["w"]));
    assert!(!alive(old_pid));
    let new_pids = wallet_processes(&node);
    assert_eq!(new_pids.len(), 1);
    assert_ne!(new_pids[0], old_pid);
    assert_eq!(node.wallet_call("w", "getbalances", json!([])), before);
    let more = node.wallet_call("w", "getnewaddress", json!([]));
    assert_ne!(more, address);
}

/// Kills a stopped process when the test fails before it would.
struct KillIfPanicking(u32);

impl Drop for KillIfPanicking {
    fn drop(&mut self) {
        if std::thread::panicking() {
            signal(self.0, libc::SIGKILL);
            signal(self.0, libc::SIGCONT);
        }
    }
}

#[test]
fn ctrl_c_stops_the_node_and_its_wallet_process() {
    let mut node = multiprocess_node(&[]);
    node.call("createwallet", json!(["w"]));
    let wallet_pid = the_wallet_process(&node);
    // A terminal's Ctrl-C reaches the whole foreground process group (on
    // Windows, every process on the console; wine turns SIGINT into
    // CTRL_C_EVENT): the wallet process ignores it and leaves when the
    // node closes the socket.
    signal(wallet_pid, libc::SIGINT);
    node.signal(libc::SIGINT);
    let status = node.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert!(wait_until(Duration::from_secs(10), || !alive(wallet_pid)));
}

#[test]
fn a_wallet_process_started_on_its_own_connects_to_a_listening_node() {
    let address = harness::ipc_bind_address();
    let mut node = multiprocess_node(&[&format!("-ipcbind={address}"), "-disablewallet"]);
    let listening = match address.as_str() {
        "unix" => format!("unix:{}", node.network_dir().join("node.sock").display()),
        tcp => tcp.to_string(),
    };
    assert!(node.debug_log().contains(&format!(
        "Listening for IPC requests on address {listening}"
    )));
    let mut wallet = std::process::Command::new(harness::exe("c1pzo-wallet"))
        .arg("-regtest")
        .arg(format!("-datadir={}", node.datadir().display()))
        .arg(format!("-ipcconnect={address}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Its RPCs appear on the node's server once it has connected.
    assert!(wait_until(Duration::from_secs(20), || node
        .rpc("listwallets", json!([]))
        .is_ok()));
    node.call("createwallet", json!(["far"]));
    let address = node.wallet_call("far", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    assert_eq!(
        node.wallet_call("far", "getbalance", json!([])).to_string(),
        "50.00000000"
    );
    // The file is the other process's, not the node's.
    let file = node
        .network_dir()
        .join("wallets/far/wallet.redb")
        .canonicalize()
        .unwrap();
    assert!(holds_open(wallet.id(), &file));
    assert!(!holds_open(node.pid().unwrap(), &file));

    // The node stopping ends the wallet process too.
    node.stop();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = wallet.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < harness::scaled(20),
            "the wallet process outlived the node"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

/// An external miner built from Bitcoin Core's schemas by a third party
/// (`bitcoin-capnp-types`, its own capnp-rpc) gets a block template from
/// `c1pzo-node -ipcbind`, solves it, submits it, and sees the tip move.
#[test]
fn a_miner_using_cores_schemas_mines_a_block_through_ipcbind() {
    use bitcoin::consensus::encode::{deserialize, serialize};
    use bitcoin::hashes::Hash;
    use bitcoin_capnp_types as core;
    use core::mining_capnp::mining;

    let address = harness::ipc_bind_address();
    let node = multiprocess_node(&[&format!("-ipcbind={address}"), "-disablewallet"]);
    node.call(
        "generatetoaddress",
        json!([
            20,
            "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85"
        ]),
    );
    let network_dir = node.network_dir();
    let (runtime, local) = client_runtime();
    let mined = local.block_on(&runtime, async move {
        let (init, disconnector) = core_client(&address, &network_dir);

        let constructed = init.construct_request().send().promise.await.unwrap();
        let map = constructed.get().unwrap().get_thread_map().unwrap();
        let mut request = map.make_thread_request();
        request.get().set_name("miner");
        let thread = result!(request);

        let mut request = init.make_mining_request();
        request.get().init_context().set_thread(thread.clone());
        let mining: mining::Client = result!(request);

        let mut request = mining.is_test_chain_request();
        request.get().init_context().set_thread(thread.clone());
        assert!(request
            .send()
            .promise
            .await
            .unwrap()
            .get()
            .unwrap()
            .get_result());

        let mut request = mining.get_tip_request();
        request.get().init_context().set_thread(thread.clone());
        let reply = request.send().promise.await.unwrap();
        let tip = reply.get().unwrap();
        assert!(tip.get_has_result());
        assert_eq!(tip.get_result().unwrap().get_height(), 20);
        let tip_hash = tip.get_result().unwrap().get_hash().unwrap().to_vec();

        // waitTipChanged honours its timeout (milliseconds).
        let mut request = mining.wait_tip_changed_request();
        request.get().init_context().set_thread(thread.clone());
        request.get().set_current_tip(&tip_hash);
        request.get().set_timeout(50.0);
        let reply = request.send().promise.await.unwrap();
        assert_eq!(reply.get().unwrap().get_result().unwrap().get_height(), 20);

        let mut request = mining.create_new_block_request();
        request.get().init_context().set_thread(thread.clone());
        request.get().init_options();
        let template = result!(request);

        let mut request = template.get_block_request();
        request.get().init_context().set_thread(thread.clone());
        let bytes = result!(request).to_vec();
        let mut block: bitcoin::Block = deserialize(&bytes).unwrap();
        assert_eq!(
            block.header.prev_blockhash.to_byte_array().to_vec(),
            tip_hash
        );

        let mut request = template.get_coinbase_tx_request();
        request.get().init_context().set_thread(thread.clone());
        let reply = request.send().promise.await.unwrap();
        let wire = reply.get().unwrap().get_result().unwrap();
        // The miner's own coinbase: the height prefix, its payout, the
        // outputs the template requires.
        let mut script_sig = wire.get_script_sig_prefix().unwrap().to_vec();
        script_sig.extend_from_slice(&[0x04, 0xde, 0xad, 0xbe, 0xef]);
        let mut outputs = vec![bitcoin::TxOut {
            value: bitcoin::Amount::from_sat(wire.get_block_reward_remaining() as u64),
            script_pubkey: bitcoin::ScriptBuf::from_bytes(vec![0x51]),
        }];
        for output in wire.get_required_outputs().unwrap().iter() {
            outputs.push(deserialize(output.unwrap()).unwrap());
        }
        let witness = if wire.has_witness() {
            bitcoin::Witness::from_slice(&[wire.get_witness().unwrap()])
        } else {
            bitcoin::Witness::new()
        };
        let coinbase = bitcoin::Transaction {
            version: bitcoin::transaction::Version(wire.get_version() as i32),
            lock_time: bitcoin::absolute::LockTime::from_consensus(wire.get_lock_time()),
            input: vec![bitcoin::TxIn {
                previous_output: bitcoin::OutPoint::null(),
                script_sig: bitcoin::ScriptBuf::from_bytes(script_sig),
                sequence: bitcoin::Sequence(wire.get_sequence()),
                witness,
            }],
            output: outputs,
        };
        block.txdata[0] = coinbase.clone();
        block.header.merkle_root = block.compute_merkle_root().unwrap();
        let target = block.header.target();
        while !target.is_met_by(block.header.block_hash()) {
            block.header.nonce += 1;
        }

        // A block whose merkle root does not match is refused by reason.
        let mut bad = block.clone();
        bad.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
        let mut request = mining.check_block_request();
        request.get().init_context().set_thread(thread.clone());
        request.get().set_block(&serialize(&bad));
        request.get().init_options().set_check_pow(false);
        let reply = request.send().promise.await.unwrap();
        assert!(!reply.get().unwrap().get_result());
        assert_eq!(
            reply.get().unwrap().get_reason().unwrap().to_str().unwrap(),
            "bad-txnmrklroot"
        );

        let submit = |template: &core::mining_capnp::block_template::Client| {
            let mut request = template.submit_solution_request();
            request.get().init_context().set_thread(thread.clone());
            request
                .get()
                .set_version(block.header.version.to_consensus() as u32);
            request.get().set_timestamp(block.header.time);
            request.get().set_nonce(block.header.nonce);
            request.get().set_coinbase(&serialize(&coinbase));
            request.send().promise
        };
        let reply = submit(&template).await.unwrap();
        assert!(
            reply.get().unwrap().get_result(),
            "{:?}",
            reply.get().unwrap().get_reason()
        );
        let reply = submit(&template).await.unwrap();
        assert!(!reply.get().unwrap().get_result());
        assert_eq!(
            reply.get().unwrap().get_reason().unwrap().to_str().unwrap(),
            "duplicate"
        );

        drop(template);
        drop(mining);
        drop(thread);
        drop(map);
        drop(init);
        disconnector.await.unwrap();
        block.block_hash()
    });
    assert_eq!(node.call("getblockcount", json!([])), json!(21));
    assert_eq!(
        node.call("getbestblockhash", json!([])),
        json!(mined.to_string())
    );
}

/// `c1pzo-wallet -ipcconnect -server`: the wallet process answers wallet
/// RPCs on its own port with its own cookie, so they need not pass
/// through the node; `stop` there ends it.
#[test]
fn a_wallet_process_with_server_answers_wallet_rpcs_itself() {
    let address = harness::ipc_bind_address();
    let node = multiprocess_node(&[&format!("-ipcbind={address}"), "-disablewallet"]);
    let port = harness::free_port();
    let mut wallet = std::process::Command::new(harness::exe("c1pzo-wallet"))
        .arg("-regtest")
        .arg(format!("-datadir={}", node.datadir().display()))
        .arg(format!("-ipcconnect={address}"))
        .arg("-server")
        .arg(format!("-rpcport={port}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cookie_path = node.network_dir().join(".wallet.cookie");
    assert!(wait_until(Duration::from_secs(20), || cookie_path.exists()));
    let cookie = std::fs::read_to_string(&cookie_path).unwrap();
    let (user, password) = cookie.trim().split_once(':').unwrap();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let call = |path: &str, method: &str, params: serde_json::Value| -> serde_json::Value {
        let text = client
            .post(format!("http://127.0.0.1:{port}{path}"))
            .basic_auth(user, Some(password))
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
            )
            .send()
            .unwrap()
            .text()
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    assert_eq!(
        call("/", "createwallet", json!(["own"]))["result"]["name"],
        json!("own")
    );
    let address = call("/wallet/own", "getnewaddress", json!([]))["result"].clone();
    node.call("generatetoaddress", json!([101, address]));
    assert_eq!(
        call("/wallet/own", "getbalance", json!([]))["result"].to_string(),
        "50.00000000"
    );
    // Chain methods are the node's: the wallet's server does not have them.
    assert_eq!(
        call("/", "getblockcount", json!([]))["error"]["code"],
        json!(-32601)
    );
    // The same wallet through the node's server.
    assert_eq!(
        node.wallet_call("own", "getbalance", json!([])).to_string(),
        "50.00000000"
    );
    // A wrong cookie is refused.
    let refused = client
        .post(format!("http://127.0.0.1:{port}/"))
        .basic_auth("__cookie__", Some("wrong"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);

    assert_eq!(
        call("/", "stop", json!([]))["result"],
        json!("c1pzo wallet stopping")
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = wallet.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < harness::scaled(20),
            "stop did not end the wallet process"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(!cookie_path.exists(), "the cookie is removed at exit");
    // The node serves on.
    assert_eq!(node.call("getblockcount", json!([])), json!(101));
}

/// More of `Mining`'s contract, through Core's schemas: `waitNext` gives up
/// at its timeout (a null template), `interrupt` wakes `waitTipChanged`,
/// transactions come back by txid and wtxid (empty when unknown),
/// `Rpc.executeRpc` runs JSON-RPC as the HTTP server would, and stopping
/// the node while this client still holds a template does not hang.
#[test]
fn mining_waits_end_on_timeouts_and_interrupts_and_shutdown_does_not_wait_for_clients() {
    use bitcoin::consensus::encode::serialize;
    use bitcoin::hashes::Hash;

    let ipc_address = harness::ipc_bind_address();
    let mut node = multiprocess_node(&[&format!("-ipcbind={ipc_address}")]);
    node.call("createwallet", json!(["w"]));
    let address = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    let txid = node.wallet_call("w", "sendtoaddress", json!([address, 1]));
    let tx_hex = node.call("getrawtransaction", json!([txid]));
    let tx: bitcoin::Transaction =
        bitcoin::consensus::encode::deserialize_hex(tx_hex.as_str().unwrap()).unwrap();
    let network_dir = node.network_dir();
    let (runtime, local) = client_runtime();
    // The client's connection stays open (held by `kept`) while the node
    // is stopped below.
    let kept = local.block_on(&runtime, async move {
        let (init, _disconnector) = core_client(&ipc_address, &network_dir);
        let constructed = init.construct_request().send().promise.await.unwrap();
        let map = constructed.get().unwrap().get_thread_map().unwrap();
        let mut threads = Vec::new();
        for name in ["a", "b"] {
            let mut request = map.make_thread_request();
            request.get().set_name(name);
            threads.push(result!(request));
        }
        let mut request = init.make_mining_request();
        request.get().init_context().set_thread(threads[0].clone());
        let mining = result!(request);

        // Transactions by id: the mempool's, and an empty entry for none.
        let mut request = mining.get_transactions_by_tx_i_d_request();
        request.get().init_context().set_thread(threads[0].clone());
        let mut ids = request.get().init_txids(2);
        ids.set(0, &tx.compute_txid().to_byte_array());
        ids.set(1, &[7u8; 32]);
        let reply = request.send().promise.await.unwrap();
        let found = reply.get().unwrap().get_result().unwrap();
        assert_eq!(found.get(0).unwrap(), &serialize(&tx)[..]);
        assert!(found.get(1).unwrap().is_empty());
        let mut request = mining.get_transactions_by_witness_i_d_request();
        request.get().init_context().set_thread(threads[0].clone());
        request
            .get()
            .init_wtxids(1)
            .set(0, &tx.compute_wtxid().to_byte_array());
        let reply = request.send().promise.await.unwrap();
        assert_eq!(
            reply.get().unwrap().get_result().unwrap().get(0).unwrap(),
            &serialize(&tx)[..]
        );

        // A template with the payment in it; waitNext with nothing new
        // returns no template at its timeout.
        let mut request = mining.create_new_block_request();
        request.get().init_context().set_thread(threads[0].clone());
        request.get().init_options();
        let template = result!(request);
        let mut request = template.get_tx_fees_request();
        request.get().init_context().set_thread(threads[0].clone());
        let reply = request.send().promise.await.unwrap();
        let fees = reply.get().unwrap().get_result().unwrap();
        assert_eq!(fees.len(), 1);
        assert!(fees.get(0) > 0);
        let mut request = template.wait_next_request();
        request.get().init_context().set_thread(threads[0].clone());
        request.get().init_options().set_timeout(100.0);
        let reply = request.send().promise.await.unwrap();
        assert!(
            !reply.get().unwrap().has_result(),
            "no new template before the timeout"
        );

        // waitTipChanged with no timeout, woken by interrupt from another
        // thread's call.
        let mut request = mining.get_tip_request();
        request.get().init_context().set_thread(threads[0].clone());
        let reply = request.send().promise.await.unwrap();
        let tip = reply
            .get()
            .unwrap()
            .get_result()
            .unwrap()
            .get_hash()
            .unwrap()
            .to_vec();
        let mut request = mining.wait_tip_changed_request();
        request.get().init_context().set_thread(threads[1].clone());
        request.get().set_current_tip(&tip);
        let waiting = request.send().promise;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        mining.interrupt_request().send().promise.await.unwrap();
        let reply = waiting.await.unwrap();
        assert_eq!(
            reply
                .get()
                .unwrap()
                .get_result()
                .unwrap()
                .get_hash()
                .unwrap(),
            &tip[..]
        );

        // Rpc.executeRpc: a JSON-RPC body, answered as over HTTP.
        let mut request = init.make_rpc_request();
        request.get().init_context().set_thread(threads[0].clone());
        let rpc = result!(request);
        let mut request = rpc.execute_rpc_request();
        request.get().init_context().set_thread(threads[0].clone());
        request
            .get()
            .set_request(r#"{"jsonrpc":"2.0","id":5,"method":"getblockcount"}"#);
        request.get().set_uri("/");
        request.get().set_user("");
        let reply = request.send().promise.await.unwrap();
        let text = reply
            .get()
            .unwrap()
            .get_result()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["result"], json!(101));
        assert_eq!(answer["id"], json!(5));
        (init, mining, template, threads)
    });
    // The node stops while the client still holds its template.
    let status = node.stop();
    assert!(status.success(), "{status}");
    drop(kept);
}

/// The node killed with -9: its wallet process sees the socket close (on
/// Windows, or its parent process exit) and exits, letting go of the
/// wallet files, so a restarted node loads them.
#[test]
fn a_wallet_process_leaves_when_its_node_is_killed() {
    let mut node = multiprocess_node(&[]);
    node.call(
        "createwallet",
        json!(["w", false, false, null, false, true, true]),
    );
    let wallet_pid = the_wallet_process(&node);
    node.kill_9();
    assert!(
        wait_until(Duration::from_secs(10), || !alive(wallet_pid)),
        "the orphaned wallet process exits\n{}",
        harness::processes::describe(wallet_pid)
    );
    node.launch();
    assert_eq!(node.call("listwallets", json!([])), json!(["w"]));
}

/// `c1pzo-node` without `c1pzo-wallet` beside it (a half-copied
/// install): a startup error that names the file it looked for and how to
/// build it, rather than a failed spawn of something unnamed.
#[test]
fn a_missing_wallet_executable_is_a_startup_error_naming_the_path() {
    let alone = tempfile::tempdir().unwrap();
    let datadir = tempfile::tempdir().unwrap();
    let exe = harness::exe("c1pzo-node");
    let copy = alone.path().join(exe.file_name().unwrap());
    std::fs::copy(&exe, &copy).unwrap();
    let out = std::process::Command::new(&copy)
        .arg("-regtest")
        .arg(format!("-datadir={}", datadir.path().display()))
        .arg(format!("-port={}", harness::free_port()))
        .arg(format!("-rpcport={}", harness::free_port()))
        .arg("-printtoconsole=0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let looked_for = alone
        .path()
        .join(format!("c1pzo-wallet{}", harness::exe::exe_suffix()));
    assert!(
        stderr.contains(&format!(
            "c1pzo-wallet not found: looked for {}",
            harness::shown(&looked_for)
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("cargo xtask build MULTIPROCESS=1"),
        "{stderr}"
    );
}
