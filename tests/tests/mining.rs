//! Mining RPCs beyond generatetoaddress: generatetodescriptor,
//! generateblock, getblocktemplate; and the logging RPC.

use c1pzo_functional as harness;

use bitcoin::Amount;
use harness::wallet::{to_hex, Key};
use harness::TestNode;
use serde_json::json;

const REWARD: Amount = Amount::from_sat(5_000_000_000);

#[test]
fn descriptors_templates_and_chosen_blocks() {
    let node = TestNode::start(&[]);
    let key = Key::new(5);
    let descriptor = format!("wpkh({})", key.public_hex());
    let hashes = node.call("generatetodescriptor", json!([101, descriptor]));
    let first = node.call("getblock", json!([hashes[0], 2]));
    assert_eq!(
        first["tx"][0]["vout"][0]["scriptPubKey"]["address"],
        json!(key.address())
    );
    let err = node
        .rpc("generatetodescriptor", json!([1, "nonsense("]))
        .unwrap_err();
    assert_eq!(err.code, -5);

    // A transaction waiting in the mempool shows in the template.
    let coinbase: bitcoin::Txid = first["tx"][0]["txid"].as_str().unwrap().parse().unwrap();
    let tx = key.spend(coinbase, 0, REWARD, key.script(), Amount::from_sat(5_000));
    node.call("sendrawtransaction", json!([to_hex(&tx)]));
    let err = node.rpc("getblocktemplate", json!([])).unwrap_err();
    assert_eq!(err.code, -8);
    let template = node.call("getblocktemplate", json!([{"rules": ["segwit"]}]));
    assert_eq!(template["height"], 102);
    assert_eq!(
        template["transactions"][0]["txid"],
        json!(tx.compute_txid().to_string())
    );
    assert_eq!(template["transactions"][0]["fee"], 5_000);
    assert_eq!(template["coinbasevalue"], 5_000_005_000u64);
    assert!(template["default_witness_commitment"]
        .as_str()
        .unwrap()
        .starts_with("6a24aa21a9ed"));
    assert_eq!(template["bits"], "207fffff");

    // generateblock with that txid: exactly it, nothing else.
    let unsubmitted = node.call(
        "generateblock",
        json!([key.address(), [tx.compute_txid().to_string()], false]),
    );
    assert!(unsubmitted["hex"].is_string());
    assert_eq!(node.call("getblockcount", json!([])), 101, "not submitted");
    let made = node.call(
        "generateblock",
        json!([key.address(), [tx.compute_txid().to_string()]]),
    );
    let block = node.call("getblock", json!([made["hash"]]));
    assert_eq!(block["tx"].as_array().unwrap().len(), 2);
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));
}

#[test]
fn logging_switches_categories() {
    // The harness turns -debug=net on; -debug=none after it turns every
    // category off again, as in Core.
    let node = TestNode::start(&["-debug=none"]);
    let before = node.call("logging", json!([]));
    assert_eq!(before["net"], false);
    let after = node.call("logging", json!([["net", "rpc"], ["rpc"]]));
    assert_eq!(after["net"], true);
    assert_eq!(after["rpc"], false);
    let err = node
        .rpc("logging", json!([["nosuchcategory"]]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-8, "unknown logging category nosuchcategory")
    );
    node.call("logging", json!([["rpc"]]));
    node.call("getblockcount", json!([]));
    assert!(
        node.debug_log()
            .contains("[rpc] ThreadRPCServer method=getblockcount"),
        "{}",
        node.log_tail()
    );
}
