//! Starting, stopping and crashing: options errors, SIGTERM/SIGINT and the
//! `stop` RPC shut down cleanly (cookie removed), and kill -9 at any moment
//! leaves a chainstate that reopens at a consistent tip with nothing it
//! reported as accepted lost.

use c1pzo_functional as harness;

use std::process::Command;
use std::time::Duration;

use harness::TestNode;
use serde_json::json;

#[test]
fn unknown_options_and_other_chains_are_refused() {
    let out = Command::new(harness::node_exe())
        .arg("-foo")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Error: Error parsing command line arguments: Invalid parameter -foo"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(harness::node_exe())
        .args([&format!("-datadir={}", dir.path().display()), "-chain=main"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("regtest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(harness::node_exe())
        .args(["-regtest", "-datadir=/nonexistent/c1pzo"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Specified data directory \"/nonexistent/c1pzo\" does not exist."));
}

#[test]
fn stop_and_signals_shut_down_cleanly_and_state_persists() {
    let mut node = TestNode::start(&[]);
    let hashes = node.generate(5);
    let cookie = node.network_dir().join(".cookie");
    assert!(cookie.exists());
    assert!(node.stop().success());
    assert!(!cookie.exists(), "the cookie is removed at shutdown");
    assert!(
        node.debug_log().contains("Shutdown: done"),
        "{}",
        node.log_tail()
    );

    // Windows has no SIGTERM; under wine a SIGINT reaches the node as the
    // console's Ctrl-C event, which is what Windows users send.
    let signals: &[i32] = if harness::windows_executables() {
        &[libc::SIGINT]
    } else {
        &[libc::SIGTERM, libc::SIGINT]
    };
    for &signal in signals {
        node.launch();
        assert_eq!(node.call("getbestblockhash", json!([])), json!(hashes[4]));
        node.signal(signal);
        assert!(node.wait_exit(Duration::from_secs(30)).success());
    }
}

#[test]
fn kill_9_while_mining_loses_nothing_accepted() {
    let mut node = TestNode::start(&[]);
    node.generate(110);
    // Mine in the background and kill the node mid-way.
    let port = node.rpc_port;
    let cookie = node.cookie().unwrap();
    let miner = std::thread::spawn(move || {
        let (user, password) = cookie.split_once(':').unwrap();
        let client = reqwest::blocking::Client::new();
        let mut accepted = Vec::new();
        for _ in 0..400 {
            let reply = client
                .post(format!("http://127.0.0.1:{port}/"))
                .basic_auth(user, Some(password))
                .body(json!({"method": "generatetoaddress", "params": [1, harness::ADDRESS], "id": 1}).to_string())
                .send()
                .and_then(|r| r.text());
            match reply {
                Ok(text) => {
                    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                    accepted.push(value["result"][0].as_str().unwrap().to_string());
                }
                Err(_) => break,
            }
        }
        accepted
    });
    std::thread::sleep(Duration::from_millis(700));
    node.kill_9();
    let accepted = miner.join().unwrap();
    assert!(!accepted.is_empty());

    node.launch();
    let height = node.call("getblockcount", json!([])).as_u64().unwrap();
    assert!(
        height >= 110 + accepted.len() as u64,
        "{height} < {}",
        110 + accepted.len()
    );
    for hash in &accepted {
        assert!(
            node.rpc("getblock", json!([hash])).is_ok(),
            "accepted block {hash} lost"
        );
    }
    // The UTXO set is exactly the one these blocks make: a second node fed
    // the same blocks computes the same hash.
    let utxos = node.call("gettxoutsetinfo", json!([]));
    assert_eq!(utxos["height"].as_u64().unwrap(), height);
    assert_eq!(utxos["txouts"].as_u64().unwrap(), height);
    assert_eq!(
        replayed(&node)["hash_serialized_3"],
        utxos["hash_serialized_3"]
    );
    // And it keeps working.
    node.generate(1);
    assert_eq!(
        node.call("getblockcount", json!([])).as_u64().unwrap(),
        height + 1
    );
}

/// A fresh node given every block of `node`'s active chain; returns its
/// gettxoutsetinfo.
fn replayed(node: &TestNode) -> serde_json::Value {
    let copy = TestNode::start(&[]);
    let height = node.call("getblockcount", json!([])).as_u64().unwrap();
    for h in 1..=height {
        let hash = node.call("getblockhash", json!([h]));
        let raw = node.call("getblock", json!([hash, 0]));
        assert_eq!(
            copy.call("submitblock", json!([raw])),
            serde_json::Value::Null
        );
    }
    copy.call("gettxoutsetinfo", json!([]))
}

#[test]
fn kill_9_during_shutdown_leaves_a_consistent_chainstate() {
    let mut node = TestNode::start(&[]);
    node.generate(30);
    let before = node.call("gettxoutsetinfo", json!([]));
    // Ask for shutdown and kill it while it is shutting down.
    let _ = node.rpc("stop", json!([]));
    std::thread::sleep(Duration::from_millis(5));
    node.kill_9();
    node.launch();
    assert_eq!(node.call("gettxoutsetinfo", json!([])), before);
    assert_eq!(
        replayed(&node)["hash_serialized_3"],
        before["hash_serialized_3"]
    );
}

#[test]
fn config_file_sections_pid_and_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let rpc_port = harness::free_port();
    let p2p_port = harness::free_port();
    // Top-level rpcport is ignored on regtest (network-only option); the
    // [regtest] section's applies, as in Bitcoin Core.
    std::fs::write(
        dir.path().join("c1pzo.conf"),
        format!(
            "regtest=1\nrpcport=1\nincludeconf=extra.conf\n[regtest]\nrpcport={rpc_port}\nport={p2p_port}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("extra.conf"), "txindex=1\n").unwrap();
    let daemon = || {
        Command::new(harness::node_exe())
            .arg(format!("-datadir={}", dir.path().display()))
            .args(["-daemon", "-printtoconsole=0"])
            .output()
            .unwrap()
    };
    let net = dir.path().join("regtest");
    let _daemon = KillOnDrop(net.join("c1pzod.pid"));
    // Windows has no fork: Core's message, and the node runs as a child
    // of this test instead.
    let _windows_node = if harness::windows_executables() {
        let out = daemon();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("Error: -daemon is not supported on this operating system"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let child = Command::new(harness::node_exe())
            .arg(format!("-datadir={}", dir.path().display()))
            .arg("-printtoconsole=0")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Some(KillChildOnDrop(child))
    } else {
        let out = daemon();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "c1pzo starting\n");
        None
    };
    let cli = |args: &[&str]| {
        Command::new(harness::cli_exe())
            .arg(format!("-datadir={}", dir.path().display()))
            .args(["-rpcwait", "-rpcwaittimeout=30"])
            .args(args)
            .output()
            .unwrap()
    };
    // The cli reads the same config: regtest and the section's port.
    let out = cli(&["getblockcount"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid: i32 = std::fs::read_to_string(net.join("c1pzod.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid > 0);
    // -txindex from the included file is on: a coinbase is found by txid.
    let hashes = cli(&["generatetoaddress", "1", harness::ADDRESS]);
    let hashes: serde_json::Value = serde_json::from_slice(&hashes.stdout).unwrap();
    let block = cli(&["getblock", hashes[0].as_str().unwrap()]);
    let block: serde_json::Value = serde_json::from_slice(&block.stdout).unwrap();
    let out = cli(&["getrawtransaction", block["tx"][0].as_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second node on the same data directory is refused.
    let out = Command::new(harness::node_exe())
        .arg(format!("-datadir={}", dir.path().display()))
        .arg("-printtoconsole=0")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Cannot obtain a lock on directory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&cli(&["stop"]).stdout),
        "c1pzo stopping\n"
    );
    let started = std::time::Instant::now();
    while net.join("c1pzod.pid").exists() && started.elapsed() < harness::scaled(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !net.join("c1pzod.pid").exists(),
        "the pid file goes at shutdown"
    );
}

/// A data directory whose path has spaces and characters outside ASCII,
/// holding a config file as Windows editors save it (a UTF-8 byte-order
/// mark, CRLF line ends): the node reads every line, including the first,
/// writes its files there, and the cli finds the cookie.
#[test]
fn a_datadir_with_spaces_and_non_ascii_characters_and_a_notepad_config() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("c1pzo data ünïcødé 日本");
    std::fs::create_dir(&dir).unwrap();
    let rpc_port = harness::free_port();
    let p2p_port = harness::free_port();
    std::fs::write(
        dir.join("c1pzo.conf"),
        format!("\u{feff}regtest=1\r\n[regtest]\r\nrpcport={rpc_port}\r\nport={p2p_port}\r\n"),
    )
    .unwrap();
    let node = Command::new(harness::node_exe())
        .arg(format!("-datadir={}", dir.display()))
        .arg("-printtoconsole=0")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _node = KillChildOnDrop(node);
    let cli = |args: &[&str]| {
        let out = Command::new(harness::cli_exe())
            .arg(format!("-datadir={}", dir.display()))
            .arg("-rpcwait")
            .arg(format!("-rpcwaittimeout={}", harness::scaled(30).as_secs()))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // regtest=1 on the marked first line chose the chain, the CRLF lines
    // the ports: the cli, reading the same file, reaches the node.
    assert_eq!(cli(&["getblockcount"]), "0\n");
    let network = dir.join("regtest");
    assert!(network.join(".cookie").is_file());
    assert!(network.join("debug.log").is_file());
    assert_eq!(cli(&["stop"]), "c1pzo stopping\n");
}

/// Notepad's "Unicode" (UTF-16 with its byte-order mark) is named as the
/// problem, with what to do; a `-datadir` the system refuses gets the
/// system's reason rather than "does not exist".
#[test]
fn a_utf16_config_and_a_refused_datadir_are_errors_that_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c1pzo.conf");
    let utf16: Vec<u8> = "\u{feff}regtest=1\r\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    std::fs::write(&conf, &utf16).unwrap();
    let run = |datadir: &std::path::Path| {
        let out = Command::new(harness::node_exe())
            .arg(format!("-datadir={}", datadir.display()))
            .arg("-printtoconsole=0")
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = run(dir.path());
    assert!(
        stderr.contains(&format!(
            "Error: Error reading configuration file: \"{}\" is saved as UTF-16 LE (it starts with \
             that byte-order mark); c1pzo reads configuration files as UTF-8: save it as UTF-8 \
             and start again",
            harness::shown(&conf)
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&conf).unwrap(),
        utf16,
        "the file is left as it was"
    );

    // `|` is refused in a Windows file name; on unix a name longer than
    // 255 bytes is.
    let refused = if harness::windows_executables() {
        dir.path().join("bad|name")
    } else {
        dir.path().join("n".repeat(300))
    };
    let stderr = run(&refused);
    assert!(
        stderr.contains(&format!(
            "Error: Specified data directory \"{}\" cannot be used: ",
            refused.display()
        )),
        "{stderr}"
    );
    assert!(!refused.exists());
}

/// Kills a node this test started as its child when the test ends.
struct KillChildOnDrop(std::process::Child);

impl Drop for KillChildOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills the daemon named in a pid file if the test ends without stopping
/// it, so a failed test leaves no node behind.
struct KillOnDrop(std::path::PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // A Windows pid (wine's numbering) names no process here.
        if harness::windows_executables() {
            return;
        }
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                // SAFETY: kill(2) on the daemon this test started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

#[test]
fn rpc_answers_minus_28_until_the_node_has_loaded() {
    // Poll from the moment the process starts: every answer is either
    // -28 with a loading message or the real result, never an error of
    // another kind, and the node ends up ready.
    let dir = tempfile::tempdir().unwrap();
    let port = harness::free_port();
    let mut child = Command::new(harness::node_exe())
        .args([
            "-regtest",
            "-printtoconsole=0",
            &format!("-datadir={}", dir.path().display()),
            &format!("-rpcport={port}"),
            &format!("-port={}", harness::free_port()),
        ])
        .spawn()
        .unwrap();
    let cookie = dir.path().join("regtest/.cookie");
    let client = reqwest::blocking::Client::new();
    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    while started.elapsed() < harness::scaled(30) {
        let Ok(text) = std::fs::read_to_string(&cookie) else {
            continue;
        };
        let (user, password) = text.split_once(':').unwrap();
        let Ok(response) = client
            .post(format!("http://127.0.0.1:{port}/"))
            .basic_auth(user, Some(password))
            .body(r#"{"method":"getblockcount","id":1}"#)
            .send()
        else {
            continue;
        };
        let reply: serde_json::Value = serde_json::from_str(&response.text().unwrap()).unwrap();
        let done = reply["error"].is_null();
        answers.push(reply);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let last = answers.last().expect("the node answered");
    assert_eq!(last["result"], 0, "{answers:?}");
    for reply in &answers[..answers.len() - 1] {
        assert_eq!(reply["error"]["code"], -28, "{reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Loading"),
            "{reply}"
        );
    }
}
