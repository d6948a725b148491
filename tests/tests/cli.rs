//! `c1pzo-cli` against a running node: results and errors printed as
//! bitcoin-cli prints them, with its exit codes.

use c1pzo_functional as harness;

use std::io::Write;
use std::process::{Command, Stdio};

use harness::TestNode;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_cli_mines_queries_and_reports_errors_like_bitcoin_cli() {
    let node = TestNode::start(&[]);
    let out = node.cli(&["generatetoaddress", "101", harness::ADDRESS]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hashes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hashes.as_array().unwrap().len(), 101);
    // Pretty JSON with two-space indents.
    assert!(
        text(&out.stdout).starts_with("[\n  \""),
        "{}",
        text(&out.stdout)
    );

    let out = node.cli(&["getblockcount"]);
    assert_eq!(text(&out.stdout), "101\n");
    // Strings print raw, without quotes.
    let out = node.cli(&["getblockhash", "0"]);
    assert_eq!(
        text(&out.stdout),
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206\n"
    );
    // -named.
    let out = node.cli(&["-named", "getblockhash", "height=0"]);
    assert_eq!(text(&out.stdout).len(), 65);

    // An RPC error: bitcoin-cli's two lines and the code as exit status.
    let out = node.cli(&["getblockhash", "500"]);
    assert_eq!(
        text(&out.stderr),
        "error code: -8\nerror message:\nBlock height out of range\n"
    );
    assert_eq!(out.status.code(), Some(8));
    let out = node.cli(&["nosuchmethod"]);
    assert!(
        text(&out.stderr).starts_with("error code: -32601\n"),
        "{}",
        text(&out.stderr)
    );

    // -stdin: the remaining arguments, one per line.
    let mut child = Command::new(harness::cli_exe())
        .arg("-regtest")
        .arg(format!("-datadir={}", node.datadir().display()))
        .arg(format!("-rpcport={}", node.rpc_port))
        .args(["-stdin", "getblockhash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"1\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        text(&out.stdout).trim(),
        serde_json::from_value::<String>(hashes[0].clone()).unwrap()
    );

    // stop says so, and the node exits.
    let out = node.cli(&["stop"]);
    assert_eq!(text(&out.stdout), "c1pzo stopping\n");
}

#[test]
fn without_a_server_the_cli_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let port = harness::free_port().to_string();
    let out = Command::new(harness::cli_exe())
        .args(["-regtest", &format!("-datadir={}", dir.path().display())])
        .args([
            &format!("-rpcport={port}"),
            "-rpcpassword=x",
            "-rpcuser=y",
            "getblockcount",
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with(&format!(
            "error: Could not connect to the server 127.0.0.1:{port}"
        )),
        "{stderr}"
    );

    let out = Command::new(harness::cli_exe())
        .args(["-regtest", &format!("-datadir={}", dir.path().display())])
        .args([
            &format!("-rpcport={port}"),
            "-rpcwait",
            "-rpcwaittimeout=1",
            "-rpcuser=y",
            "-rpcpassword=x",
            "getblockcount",
        ])
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("timeout on transient error"),
        "{}",
        text(&out.stderr)
    );

    let out = Command::new(harness::cli_exe())
        .arg("-nosuchoption")
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stderr).trim(),
        "Error parsing command line arguments: Invalid parameter -nosuchoption"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// `c1pzo <command>` runs the executable for the command from its own
/// directory; `-m`, or an IPC option in the config file, picks the
/// multiprocess node.
#[cfg(feature = "multiprocess")]
#[test]
fn the_c1pzo_wrapper_runs_the_executable_each_command_names() {
    let wrapper = harness::exe("c1pzo");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(&wrapper)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["node", "-help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Usage:  c1pzod [options]"), "{out}");
    let (_, out, _) = run(&["-m", "node", "-help"]);
    assert!(out.contains("Usage:  c1pzo-node [options]"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c1pzo.conf"),
        "regtest=1\n[regtest]\nipcbind=unix\n",
    )
    .unwrap();
    let datadir = format!("-datadir={}", dir.path().display());
    let (_, out, _) = run(&["node", &datadir, "-help"]);
    assert!(out.contains("Usage:  c1pzo-node [options]"), "{out}");
    let (_, out, _) = run(&["-M", "node", &datadir, "-help"]);
    assert!(out.contains("Usage:  c1pzod [options]"), "{out}");
    let (code, out, _) = run(&["rpc", "-version"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("RPC client version"), "{out}");
    let (code, _, err) = run(&["fly"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Error: unknown command 'fly'"), "{err}");
    let (code, out, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Usage: c1pzo [-m|-M] <command>"), "{out}");
}
