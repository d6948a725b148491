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

fn screenshot(harness: &mut Harness<'_, gui::App>, name: &str) {
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
fn overview_receive_and_console_work_against_a_real_node() {
    let datadir = tempfile::tempdir().unwrap();
    let argv: Vec<String> = [
        "-regtest".to_string(),
        format!("-datadir={}", datadir.path().display()),
        "-listen=0".into(),
        "-printtoconsole=0".into(),
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
