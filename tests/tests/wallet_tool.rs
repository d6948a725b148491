//! `c1pzo-wallet` run as a program: create, info and dump with
//! bitcoin-wallet's output and errors, and a wallet it made offline
//! loaded by a running node.

use c1pzo_functional as harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bitcoin::hashes::{sha256, Hash};
use harness::TestNode;
use serde_json::json;

fn tool_exe() -> PathBuf {
    harness::exe("c1pzo-wallet")
}

/// Runs the tool on regtest in `datadir` with `args`.
fn tool(datadir: &Path, args: &[&str]) -> Output {
    Command::new(tool_exe())
        .arg("-regtest")
        .arg(format!("-datadir={}", datadir.display()))
        .args(args)
        .output()
        .expect("c1pzo-wallet runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the tool failed with exit code 1 and exactly `message`.
fn assert_fails(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(out), stderr(out));
    assert_eq!(stderr(out), format!("{message}\n"));
}

fn info_block(name: &str, keypool: u32, transactions: usize) -> String {
    format!(
        "Wallet info\n===========\nName: {name}\nFormat: redb\nDescriptors: yes\nEncrypted: no\n\
         HD (hd seed available): yes\nKeypool Size: {keypool}\nTransactions: {transactions}\n\
         Address Book: 0\n"
    )
}

fn wallet_path(datadir: &Path, name: &str) -> PathBuf {
    datadir.join("regtest").join("wallets").join(name)
}

#[test]
fn create_then_info_and_a_second_create_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path();

    let out = tool(datadir, &["-wallet=w1", "create"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("Topping up keypool...\n{}", info_block("w1", 4000, 0))
    );
    let file = wallet_path(datadir, "w1").join("wallet.redb");
    let before = std::fs::read(&file).expect("the wallet file");

    let out = tool(datadir, &["-wallet=w1", "create"]);
    assert_fails(
        &out,
        &format!(
            "Error: Failed to create database path '{}'. Database already exists.",
            harness::shown(&wallet_path(datadir, "w1"))
        ),
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the wallet was touched"
    );

    let out = tool(datadir, &["-wallet=w1", "info"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), info_block("w1", 4000, 0));
}

#[test]
fn errors_are_bitcoin_wallets() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path();

    assert_fails(
        &tool(datadir, &["-wallet=missing", "info"]),
        &format!(
            "Error: Failed to load database path '{}'. Path does not exist.",
            harness::shown(&wallet_path(datadir, "missing"))
        ),
    );
    assert_fails(
        &tool(datadir, &["create"]),
        "Error: Wallet name must be provided when creating a new wallet.",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w", "frobnicate"]),
        "Error: Invalid command 'frobnicate'",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w"]),
        "Error: No method provided. Run `c1pzo-wallet -help` for valid methods.",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w", "info", "extra"]),
        "Error: Additional arguments provided (extra). Methods do not take arguments. Please refer to `-help`.",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w", "-descriptors=0", "create"]),
        "Error: Legacy wallets are not supported; c1pzo wallets are descriptor wallets.",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w", "-legacy", "create"]),
        "Error: Legacy wallets are not supported; c1pzo wallets are descriptor wallets.",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w", "-descriptors", "info"]),
        "Error: The -descriptors option can only be used with the 'create' command.",
    );
    assert_fails(
        &tool(datadir, &["-wallet=w", "-dumpfile=x", "info"]),
        "Error: The -dumpfile option can only be used with the \"dump\" command.",
    );
    assert!(
        !wallet_path(datadir, "w").exists(),
        "a refused command made a wallet"
    );

    // No arguments at all: the usage, then Core's complaint.
    let out = Command::new(tool_exe()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("Usage:\n  c1pzo-wallet [options] <command>\n"));
    assert_eq!(stderr(&out), "Error: too few parameters\n");
    let out = Command::new(tool_exe()).arg("-help").output().unwrap();
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("Commands:\n\n  create\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_wallet_can_live_in_another_wallet_dir() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path();
    let elsewhere = datadir.join("elsewhere");

    let walletdir = format!("-walletdir={}", elsewhere.display());
    assert_fails(
        &tool(datadir, &[&walletdir, "-wallet=w", "create"]),
        &format!(
            "Error: Specified -walletdir \"{}\" does not exist",
            harness::shown(&elsewhere)
        ),
    );
    std::fs::create_dir(&elsewhere).unwrap();
    let out = tool(datadir, &[&walletdir, "-wallet=w", "create"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(elsewhere.join("w").join("wallet.redb").is_file());
    assert!(!wallet_path(datadir, "w").exists());
}

#[test]
fn dump_writes_every_record_with_a_checksum_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path();
    let out = tool(datadir, &["-wallet=w", "create"]);
    assert!(out.status.success(), "{}", stderr(&out));

    assert_fails(
        &tool(datadir, &["-wallet=w", "dump"]),
        "Error: No dump file provided. To use dump, -dumpfile=<filename> must be provided.",
    );

    let dump = datadir.join("w.dump");
    let dumpfile = format!("-dumpfile={}", dump.display());
    let out = tool(datadir, &["-wallet=w", &dumpfile, "dump"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("may contain private keys"));
    let text = std::fs::read_to_string(&dump).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "C1PZO_WALLET_DUMP,1");
    let (last, records) = lines[1..].split_last().unwrap();
    let checksum = last.strip_prefix("checksum,").expect("a checksum line");
    let body = &text[..text.len() - last.len() - 1];
    assert_eq!(
        checksum,
        sha256::Hash::hash(body.as_bytes())
            .to_byte_array()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    // The eight descriptors and the wallet-wide records, hex values,
    // ordered by table then key.
    let keys: Vec<&str> = records
        .iter()
        .map(|line| {
            let (key, value) = line.rsplit_once(',').unwrap();
            assert!(!value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit()));
            key
        })
        .collect();
    assert_eq!(
        keys.iter()
            .filter(|k| k.starts_with("descriptors/"))
            .count(),
        8
    );
    for key in [
        "meta/best_block",
        "meta/birth_time",
        "meta/flags",
        "meta/version",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // An existing file is left alone.
    std::fs::write(&dump, "keep me").unwrap();
    assert_fails(
        &tool(datadir, &["-wallet=w", &dumpfile, "dump"]),
        &format!(
            "Error: File {} already exists. If you are sure this is what you want, move it out of the way first.",
            harness::shown(&dump)
        ),
    );
    assert_eq!(std::fs::read_to_string(&dump).unwrap(), "keep me");
}

#[test]
fn a_running_node_loads_a_wallet_made_offline_and_rescans_for_it() {
    let mut node = TestNode::start(&[]);
    node.generate(3);
    node.stop();

    let out = tool(node.datadir(), &["-wallet=offline", "create"]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.launch();

    assert_eq!(
        node.call("loadwallet", json!(["offline"])),
        json!({ "name": "offline" })
    );
    let info = node.wallet_call("offline", "getwalletinfo", json!([]));
    assert_eq!(info["walletname"], "offline");
    assert_eq!(info["keypoolsize"], 4000);
    // Made at genesis, the wallet was scanned up to the node's tip.
    assert_eq!(info["lastprocessedblock"]["height"], 3, "{info}");

    // While the node holds the file the tool keeps away from it.
    assert_fails(
        &tool(node.datadir(), &["-wallet=offline", "info"]),
        "Error: Unable to obtain an exclusive lock on the database, is it being used by another instance of c1pzo?",
    );

    let address = node.wallet_call("offline", "getnewaddress", json!([]));
    let address = address.as_str().expect("an address");
    assert!(address.starts_with("bcrt1q"), "{address}");
    node.call("generatetoaddress", json!([1, address]));
    let info = node.wallet_call("offline", "getwalletinfo", json!([]));
    assert_eq!(info["txcount"], 1, "{info}");
    node.call("unloadwallet", json!(["offline"]));

    let out = tool(node.datadir(), &["-wallet=offline", "info"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Transactions: 1\n"), "{text}");
    assert!(text.contains("Keypool Size: 4000\n"), "{text}");
}
