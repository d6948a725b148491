//! Starting, stopping and crashing: options errors, SIGTERM/SIGINT and the
//! `stop` RPC shut down cleanly (cookie removed), and kill -9 at any moment
//! leaves a chainstate that reopens at a consistent tip with nothing it
//! reported as accepted lost.

mod harness;

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

    for signal in [libc::SIGTERM, libc::SIGINT] {
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
    // The UTXO set matches the tip: one coin per coinbase, nothing spent.
    let utxos = node.call("gettxoutsetinfo", json!([]));
    assert_eq!(utxos["height"].as_u64().unwrap(), height);
    assert_eq!(utxos["txouts"].as_u64().unwrap(), height);
    // And it keeps working.
    node.generate(1);
    assert_eq!(
        node.call("getblockcount", json!([])).as_u64().unwrap(),
        height + 1
    );
}
