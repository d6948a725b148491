//! `c1pzo-qt`'s window driven by its accessible labels, against a real
//! regtest node, wallet and chainstate started in this process (P2P and
//! RPC off: the test owns no port). Screenshots of each page go to
//! `target/gui-screenshots/`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use c1pzo::daemon::{self, Executable, Program, Started};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use serde_json::{json, Value};

/// Frames until `found` holds; the node's answers arrive on other threads.
fn wait_for<'a>(
    harness: &mut Harness<'a, gui::App>,
    what: &str,
    found: impl Fn(&Harness<'a, gui::App>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        harness.step();
        if found(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "the window never showed {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Clicks the one widget labelled `label` and lets the window answer
/// (a menu opens a frame after its button is clicked).
fn press(harness: &mut Harness<'_, gui::App>, label: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// Renders the window (wgpu on Mesa's lavapipe) for a person to look at.
/// Only on x86_64 Linux: the cross hosts' tests run under qemu-user and
/// wine, which have no Vulkan driver for their architecture; everything
/// else this test checks runs there too.
/// The `nth` text field labelled `label`, clicked so typing goes there.
fn input<'t>(
    harness: &'t Harness<'_, gui::App>,
    label: &'t str,
    nth: usize,
) -> egui_kittest::Node<'t> {
    let field = harness
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, label)
        .nth(nth)
        .unwrap_or_else(|| panic!("no text field {nth} labelled {label}"));
    field.click();
    field
}

/// The password field labelled `label`, clicked.
fn secret<'t>(harness: &'t Harness<'_, gui::App>, label: &'t str) -> egui_kittest::Node<'t> {
    let field = harness.get_by_role_and_label(egui::accesskit::Role::PasswordInput, label);
    field.click();
    field
}

fn screenshot(harness: &mut Harness<'_, gui::App>, name: &str) {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/gui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let image = harness
        .render()
        .unwrap_or_else(|e| panic!("rendering {name}: {e}"));
    image.save(dir.join(format!("qt-{name}.png"))).unwrap();
}

fn rpc(node: &Arc<dyn interfaces::Node>, method: &str, params: Value, wallet: &str) -> Value {
    node.execute_rpc(method, Some(params), &format!("/wallet/{wallet}"))
        .unwrap_or_else(|e| panic!("{method}: {} ({})", e.message, e.code))
}

#[test]
fn overview_send_receive_and_console_work_against_a_real_node() {
    let datadir = tempfile::tempdir().unwrap();
    let argv: Vec<String> = [
        "-regtest".to_string(),
        format!("-datadir={}", datadir.path().display()),
        "-listen=0".into(),
        "-printtoconsole=0".into(),
        "-fallbackfee=0.0002".into(),
    ]
    .into();
    let program = Program {
        executable: Executable::Monolithic,
        gui: true,
    };
    let running = match daemon::start(&argv, program) {
        Ok(Started::Running(running)) => running,
        Ok(Started::Exit(_)) => panic!("the node exited at once"),
        Err(fatal) => panic!("the node did not start: {}", fatal.message()),
    };
    let node = running.front_end();
    // Set up through the node (what is under test is the window).
    rpc(&node, "createwallet", json!(["alice"]), "");
    let address = rpc(&node, "getnewaddress", json!([]), "alice");
    rpc(&node, "generatetoaddress", json!([101, address]), "alice");

    let frontend = gui::Frontend {
        node: node.clone(),
        network: running.network,
        network_dir: running.network_dir.clone(),
        health: Arc::new(gui::Health::default()),
        restart: None,
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        .build_eframe(|cc| gui::App::new(&cc.egui_ctx, frontend));

    // Overview: the coinbase of block 1 matured, the other 100 have not.
    wait_for(&mut harness, "the balances", |h| {
        h.query_by_label("50.00000000 BTC").is_some()
    });
    assert!(
        harness.query_by_label("5000.00000000 BTC").is_some(),
        "immature"
    );
    assert!(harness.query_by_label("Blocks: 101").is_some());
    screenshot(&mut harness, "overview");

    // The status bar's network switch: setnetworkactive both ways.
    press(&mut harness, "Connections: 0");
    wait_for(&mut harness, "network activity off", |h| {
        h.query_by_label("Network activity disabled").is_some()
    });
    assert_eq!(
        rpc(&node, "getnetworkinfo", json!([]), "")["networkactive"],
        json!(false)
    );
    press(&mut harness, "Network activity disabled");
    wait_for(&mut harness, "network activity on", |h| {
        h.query_by_label("Connections: 0").is_some()
    });
    assert_eq!(
        rpc(&node, "getnetworkinfo", json!([]), "")["networkactive"],
        json!(true)
    );

    // Mask values hides every digit.
    press(&mut harness, "Settings");
    press(&mut harness, "Mask values");
    wait_for(&mut harness, "masked balances", |h| {
        h.query_by_label("##.######## BTC").is_some()
    });
    assert!(harness.query_by_label("50.00000000 BTC").is_none());
    harness.key_press(egui::Key::Escape);
    press(&mut harness, "Settings");
    press(&mut harness, "Mask values");
    harness.key_press(egui::Key::Escape);

    // Receive: a labelled request becomes a URI and a QR code.
    press(&mut harness, "Receive");
    let field = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Label:");
    field.click();
    field.type_text("rent");
    harness.step();
    let field = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Amount (BTC):");
    field.click();
    field.type_text("0.25");
    harness.step();
    harness.get_by_label("Create new receiving address").click();
    wait_for(&mut harness, "the request's URI", |h| {
        h.query_by_label_contains("bitcoin:BCRT1").is_some()
    });
    let uri = harness
        .get_by_label_contains("bitcoin:BCRT1")
        .value()
        .unwrap_or_default();
    assert!(uri.ends_with("?amount=0.25&label=rent"), "{uri}");
    let request = gui::bip21::parse(&uri, running.network).unwrap();
    let info = rpc(
        &node,
        "getaddressinfo",
        json!([request.address.to_string()]),
        "alice",
    );
    assert_eq!(info["ismine"], json!(true), "{info}");
    assert_eq!(info["labels"], json!(["rent"]), "{info}");
    assert!(harness.query_by_label("QR code of the URI").is_some());
    screenshot(&mut harness, "receive");

    // Send: a bad address is refused inline and nothing is sent; then two
    // recipients, the confirmation with its fee, and the payment.
    rpc(&node, "createwallet", json!(["bob"]), "");
    let bob_1 = rpc(&node, "getnewaddress", json!([]), "bob");
    let bob_2 = rpc(&node, "getnewaddress", json!([]), "bob");
    press(&mut harness, "Send");
    input(&harness, "Pay To:", 0).type_text("bcrt1qnotanaddress");
    input(&harness, "Amount (BTC):", 0).type_text("1.5");
    harness.step();
    let send_button = |h: &Harness<'_, gui::App>| {
        h.get_all_by_label("Send")
            .last()
            .expect("a Send button")
            .click()
    };
    send_button(&harness);
    wait_for(&mut harness, "the address refused", |h| {
        h.query_by_label_contains("The recipient address is not valid")
            .is_some()
    });
    assert_eq!(
        rpc(&node, "getmempoolinfo", json!([]), "")["size"],
        json!(0)
    );
    let field = input(&harness, "Pay To:", 0);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    field.type_text(bob_1.as_str().unwrap());
    harness.step();
    press(&mut harness, "Add Recipient");
    input(&harness, "Pay To:", 1).type_text(bob_2.as_str().unwrap());
    input(&harness, "Amount (BTC):", 1).type_text("0.5");
    harness.step();
    send_button(&harness);
    wait_for(&mut harness, "the confirmation", |h| {
        h.query_by_label("Confirm send coins").is_some()
    });
    assert!(harness
        .query_by_label_contains("Transaction fee:")
        .is_some());
    screenshot(&mut harness, "send-confirm");
    // Core's three seconds before Send can be pressed (frames advance the
    // window's clock by a quarter second each).
    wait_for(&mut harness, "the Send button's countdown", |h| {
        h.query_by_label_contains("Send (").is_none()
    });
    send_button(&harness);
    wait_for(&mut harness, "the payment", |h| {
        h.query_by_label_contains("Sent transaction").is_some()
    });
    let mempool = rpc(&node, "getrawmempool", json!([]), "");
    assert_eq!(mempool.as_array().unwrap().len(), 1, "{mempool}");
    let bob = rpc(&node, "getbalances", json!([]), "bob");
    assert_eq!(
        bob["mine"]["untrusted_pending"].to_string(),
        "2.00000000",
        "{bob}"
    );
    screenshot(&mut harness, "send");

    // Transactions: the payment's two entries among the coinbases, found
    // by its ID, exported, and refused abandonment while in the mempool.
    let txid = mempool[0].as_str().unwrap().to_string();
    press(&mut harness, "Transactions");
    wait_for(&mut harness, "the history", |h| {
        h.query_all_by_label("Sent to").count() == 2
    });
    assert!(harness.query_all_by_label("Mined").count() > 0);
    assert!(harness.query_all_by_label("Unconfirmed").count() == 2);
    screenshot(&mut harness, "transactions");
    input(&harness, "Search:", 0).type_text(&txid[..12]);
    wait_for(&mut harness, "the search", |h| {
        h.query_by_label("2 of 103 entries").is_some()
    });
    let export = datadir.path().join("history.csv");
    input(&harness, "Export to:", 0).type_text(&export.display().to_string());
    harness.step();
    press(&mut harness, "Export CSV");
    wait_for(&mut harness, "the export", |h| {
        h.query_by_label_contains("Exported 2 entries").is_some()
    });
    let csv = std::fs::read_to_string(&export).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().all(|line| line.ends_with(&format!("\"{txid}\"")) || line.starts_with("\"Confirmed\"")), "{csv}");
    harness.get_all_by_label("Sent to").next().unwrap().click();
    harness.step();
    wait_for(&mut harness, "the details", |h| {
        h.query_by_label_contains("Transaction fee:").is_some()
    });
    press(&mut harness, "Abandon transaction");
    wait_for(&mut harness, "the refusal", |h| {
        h.query_by_label_contains("not eligible for abandonment")
            .is_some()
    });

    // Wallets: mismatched passphrases are refused in the dialog, which
    // keeps what was typed; then an encrypted wallet is created and shown.
    press(&mut harness, "File");
    press(&mut harness, "Create Wallet…");
    input(&harness, "Wallet Name:", 0).type_text("carol");
    harness.step();
    press(&mut harness, "Encrypt Wallet");
    secret(&harness, "New passphrase:").type_text("correct horse");
    secret(&harness, "Repeat new passphrase:").type_text("correct hose");
    harness.step();
    press(&mut harness, "OK");
    wait_for(&mut harness, "the mismatch", |h| {
        h.query_by_label("The supplied passphrases do not match.")
            .is_some()
    });
    let repeat = secret(&harness, "Repeat new passphrase:");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    repeat.type_text("correct horse");
    harness.step();
    press(&mut harness, "OK");
    wait_for(&mut harness, "the new wallet", |h| {
        h.query_by_label("Wallet \"carol\" opened.").is_some()
    });
    let info = rpc(&node, "getwalletinfo", json!([]), "carol");
    assert!(info["unlocked_until"].is_number(), "encrypted: {info}");
    wait_for(&mut harness, "carol selected", |h| {
        h.state().shown_wallet().as_deref() == Some("carol")
    });
    // The history shown is carol's (empty), not the last wallet's.
    wait_for(&mut harness, "carol's empty history", |h| {
        h.query_by_label("0 of 0 entries").is_some()
    });
    screenshot(&mut harness, "wallet-created");

    // Console: Core's command, a nested call with a lookup.
    press(&mut harness, "Window");
    press(&mut harness, "Console");
    let input = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Command:");
    input.click();
    input.type_text("getblockchaininfo");
    harness.key_press(egui::Key::Enter);
    wait_for(&mut harness, "getblockchaininfo's reply", |h| {
        h.query_by_label_contains("\"chain\": \"regtest\"")
            .is_some()
    });
    let input = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Command:");
    input.click();
    input.type_text("getblock(getbestblockhash())[height]");
    harness.key_press(egui::Key::Enter);
    wait_for(&mut harness, "the nested call's reply", |h| {
        h.query_by_label("101").is_some()
    });
    let input = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Command:");
    input.click();
    input.type_text("walletpassphrase \"hunter2\" 1");
    harness.key_press(egui::Key::Enter);
    wait_for(&mut harness, "the redacted echo", |h| {
        h.query_by_label("> walletpassphrase(…)").is_some()
    });
    assert!(harness.query_by_label_contains("hunter2").is_none());
    // The output sticks to its bottom from the next frame on.
    harness.step();
    harness.step();
    screenshot(&mut harness, "console");

    // `stop` from the console closes the window with the node.
    let input = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Command:");
    input.click();
    input.type_text("stop");
    harness.key_press(egui::Key::Enter);
    wait_for(&mut harness, "the node stopping", |h| {
        h.state().snapshot().shutdown_requested
    });
    drop(harness);
    let _ = running.finish();
    assert!(
        !datadir.path().join("regtest/c1pzod.pid").exists(),
        "shut down cleanly"
    );
}
