//! What only `c1pzo-node` has: the wallet in its own process. The wallet
//! file is held by a separate pid, never by the node; a wallet process
//! killed with -9 is noticed, answered for, and replaced by `loadwallet`
//! with nothing lost; `stop` and Ctrl-C leave no process behind.
#![cfg(feature = "multiprocess")]

mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::TestNode;
use serde_json::json;

fn multiprocess_node(extra: &[&str]) -> TestNode {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_c1pzo-node"));
    let mut args = vec!["-fallbackfee=0.0002"];
    args.extend_from_slice(extra);
    TestNode::start_exe(exe, [127, 0, 0, 1].into(), &args)
}

/// The pids whose parent is `parent` and whose name is `name`.
fn children(parent: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let comm = comm.split_once('(').map_or("", |(_, c)| c);
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == parent && comm == name {
            found.push(pid);
        }
    }
    found
}

/// Whether process `pid` has `file` open.
fn holds_open(pid: u32, file: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|target| target == file)
}

fn alive(pid: u32) -> bool {
    // A zombie has been reaped by no one yet; count it as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
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
    let wallets = children(node_pid, "c1pzo-wallet");
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

    node.stop();
    assert!(
        wait_until(Duration::from_secs(10), || !alive(wallet_pid)),
        "stop leaves no wallet process behind"
    );
    assert!(node.debug_log().contains(&format!(
        "Process c1pzo-wallet pid {wallet_pid} exited with status 0"
    )));
}

#[test]
fn a_killed_wallet_process_is_reported_and_loadwallet_starts_a_new_one() {
    let node = multiprocess_node(&[]);
    node.call("createwallet", json!(["w"]));
    let address = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    let before = node.wallet_call("w", "getbalances", json!([]));
    let old_pid = children(node.pid().unwrap(), "c1pzo-wallet")[0];

    // SAFETY: kill(2) on a process this test's node spawned.
    unsafe { libc::kill(old_pid as i32, libc::SIGKILL) };
    assert!(wait_until(Duration::from_secs(10), || node
        .debug_log()
        .contains("c1pzo-wallet exited unexpectedly")));
    // Wallet calls get a clear error, not a hang; the node serves on.
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
    let new_pids = children(node.pid().unwrap(), "c1pzo-wallet");
    assert_eq!(new_pids.len(), 1);
    assert_ne!(new_pids[0], old_pid);
    assert_eq!(node.wallet_call("w", "getbalances", json!([])), before);
    let more = node.wallet_call("w", "getnewaddress", json!([]));
    assert_ne!(more, address);
}

#[test]
fn ctrl_c_stops_the_node_and_its_wallet_process() {
    let mut node = multiprocess_node(&[]);
    node.call("createwallet", json!(["w"]));
    let wallet_pid = children(node.pid().unwrap(), "c1pzo-wallet")[0];
    // A terminal's Ctrl-C reaches the whole foreground process group:
    // the wallet process ignores it and leaves when the node closes the
    // socket.
    // SAFETY: kill(2) on processes this test started.
    unsafe { libc::kill(wallet_pid as i32, libc::SIGINT) };
    node.signal(libc::SIGINT);
    let status = node.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert!(wait_until(Duration::from_secs(10), || !alive(wallet_pid)));
}

#[test]
fn a_wallet_process_started_on_its_own_connects_to_a_listening_node() {
    let mut node = multiprocess_node(&["-ipcbind=unix", "-disablewallet"]);
    let socket = node.network_dir().join("node.sock");
    assert!(node.debug_log().contains(&format!(
        "Listening for IPC requests on address unix:{}",
        socket.display()
    )));
    let mut wallet = std::process::Command::new(env!("CARGO_BIN_EXE_c1pzo-wallet"))
        .arg("-regtest")
        .arg(format!("-datadir={}", node.datadir().display()))
        .arg("-ipcconnect=unix")
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
            started.elapsed() < Duration::from_secs(20),
            "the wallet process outlived the node"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
