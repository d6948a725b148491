//! The smallest story that shows a set of executables works, the one
//! `cargo xtask dist` runs against every archive it makes once unpacked
//! (`C1PZO_BIN_DIR` the archive's `bin/`; `C1PZOD` its
//! `libexec/c1pzo-node` for the multiprocess pass): a regtest node mines
//! to its wallet, the wallet pays another, the payment confirms, the CLI
//! answers, and the node stops cleanly. Against `c1pzo-node` the wallets
//! live in a `c1pzo-wallet` process the node found through the archive's
//! layout.

use c1pzo_functional as harness;

use bitcoin::Amount;
use harness::wallet_rpc::*;
use serde_json::json;

#[test]
fn a_node_mines_its_wallet_pays_another_and_it_stops_cleanly() {
    let mut node = node();
    let miner = funded(&node, "alice");
    node.call("createwallet", json!(["bob"]));
    let to_bob = new_address(&node, "bob");
    let txid = node.wallet_call("alice", "sendtoaddress", json!([to_bob, 10]));
    let block = mine_to(&node, 1, &miner);
    let confirmed = node.wallet_call("bob", "gettransaction", json!([txid]));
    assert_eq!(confirmed["blockhash"], json!(block[0]));
    assert_eq!(
        btc(&node.wallet_call("bob", "getbalance", json!([]))),
        Amount::from_btc(10.0).unwrap()
    );
    let out = node.cli(&["getblockcount"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "102");
    let status = node.stop();
    assert!(status.success(), "{status}\n{}", node.log_tail());
}
