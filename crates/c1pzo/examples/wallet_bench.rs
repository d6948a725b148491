//! The wallet benchmark behind `cargo xtask bench wallet`, run against
//! the release `c1pzod`: `getbalance` and `sendtoaddress` on a wallet
//! holding 10,000 UTXOs, and `rescanblockchain` over 2,000+ blocks. In the
//! same run, as baselines: `getblockcount` (the RPC round trip itself) and
//! a rescan by a wallet the chain never paid (the scan without hits).
//! Writes `<out>/wallet.json` and `<out>/wallet.md`.

mod support;

use std::time::Instant;

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use serde_json::{json, Value};
use support::{round, summary, time, Node, Result};

const CHAIN_BLOCKS: u32 = 2_000;
const UTXOS: usize = 10_000;
/// Outputs per fan-out transaction (about 28 kvB each).
const FAN_OUT: usize = 900;
const BALANCE_CALLS: usize = 200;
const SENDS: usize = 50;

fn main() -> Result<()> {
    let out = support::out_dir("wallet_bench --out <dir>")?;
    let exe = support::exe_dir()?.join("c1pzod");
    let node = Node::start(&exe, &["-fallbackfee=0.0002"])?;
    let wallet = |method: &str, params: Value| node.call_at("/wallet/bench", method, params);
    node.call("createwallet", json!(["bench"]))?;
    let address = wallet("getnewaddress", json!([]))?;
    let info = wallet("getaddressinfo", json!([address]))?;
    let script = ScriptBuf::from_hex(info["scriptPubKey"].as_str().ok_or("no script")?)?;

    eprintln!("mining {CHAIN_BLOCKS} blocks to the wallet");
    let started = Instant::now();
    for _ in 0..CHAIN_BLOCKS / 500 {
        node.call("generatetoaddress", json!([500, address]))?;
    }
    let mining_seconds = started.elapsed().as_secs_f64();

    eprintln!("fanning out to {UTXOS} UTXOs");
    let mut count = wallet("listunspent", json!([]))?
        .as_array()
        .map_or(0, Vec::len);
    // Regtest halves the subsidy every 150 blocks: fan out the largest.
    let mut coinbases = wallet("listunspent", json!([]))?
        .as_array()
        .cloned()
        .unwrap_or_default();
    coinbases.sort_by(|a, b| {
        let amount = |v: &Value| v["amount"].as_f64().unwrap_or(0.0);
        amount(b).total_cmp(&amount(a))
    });
    let mut coinbases = coinbases.into_iter();
    while count < UTXOS {
        let coin = coinbases.next().ok_or("ran out of coinbases")?;
        let outputs = FAN_OUT.min(UTXOS - count + 1);
        let tx = fan_out(&coin, &script, outputs)?;
        let signed = wallet("signrawtransactionwithwallet", json!([serialize_hex(&tx)]))?;
        node.call("sendrawtransaction", json!([signed["hex"]]))?;
        node.call("generatetoaddress", json!([1, address]))?;
        count = wallet("listunspent", json!([]))?
            .as_array()
            .map_or(0, Vec::len);
    }
    let height = node.call("getblockcount", json!([]))?;

    eprintln!("timing getbalance and getblockcount");
    let balance = time(BALANCE_CALLS, || wallet("getbalance", json!([])).map(drop))?;
    let blockcount = time(BALANCE_CALLS, || {
        node.call("getblockcount", json!([])).map(drop)
    })?;

    eprintln!("timing sendtoaddress");
    node.call("createwallet", json!(["payee"]))?;
    let payee = node.call_at("/wallet/payee", "getnewaddress", json!([]))?;
    let sends = time(SENDS, || {
        wallet("sendtoaddress", json!([payee, 0.0005])).map(drop)
    })?;

    eprintln!("timing rescans");
    let rescan = time(3, || wallet("rescanblockchain", json!([0])).map(drop))?;
    node.call("createwallet", json!(["empty"]))?;
    let empty_rescan = time(3, || {
        node.call_at("/wallet/empty", "rescanblockchain", json!([0]))
            .map(drop)
    })?;

    let figures = json!({
        "utxos": count,
        "chain_height": height,
        "mining_2000_blocks_to_the_wallet_seconds": round(mining_seconds),
        "getbalance_ms": summary(&balance),
        "baseline_getblockcount_ms": summary(&blockcount),
        "sendtoaddress_ms": summary(&sends),
        "rescanblockchain_ms": summary(&rescan),
        "baseline_rescan_without_hits_ms": summary(&empty_rescan),
    });
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("wallet.json"),
        serde_json::to_string_pretty(&figures)? + "\n",
    )?;
    let median = |name: &str| figures[name]["median"].clone();
    let md = format!(
        "# Wallet benchmark\n\nA wallet with {count} UTXOs on a {height}-block regtest chain, release `c1pzod`, one machine.\n\n\
| what | median | p90 |\n|---|---|---|\n\
| getbalance | {} ms | {} ms |\n| baseline: getblockcount | {} ms | {} ms |\n\
| sendtoaddress | {} ms | {} ms |\n| rescanblockchain (all {height} blocks) | {} ms | {} ms |\n\
| baseline: rescan by a wallet never paid | {} ms | {} ms |\n\n\
Mining the first {CHAIN_BLOCKS} blocks to the loaded wallet: {:.2} s.\n",
        median("getbalance_ms"), figures["getbalance_ms"]["p90"],
        median("baseline_getblockcount_ms"), figures["baseline_getblockcount_ms"]["p90"],
        median("sendtoaddress_ms"), figures["sendtoaddress_ms"]["p90"],
        median("rescanblockchain_ms"), figures["rescanblockchain_ms"]["p90"],
        median("baseline_rescan_without_hits_ms"), figures["baseline_rescan_without_hits_ms"]["p90"],
        mining_seconds,
    );
    std::fs::write(out.join("wallet.md"), &md)?;
    print!("{md}");
    Ok(())
}

/// Spends `coin` (a listunspent entry) into `outputs` equal outputs to
/// `script` and change back to it, paying 0.001 BTC in fee.
fn fan_out(coin: &Value, script: &ScriptBuf, outputs: usize) -> Result<Transaction> {
    let txid: Txid = coin["txid"].as_str().ok_or("no txid")?.parse()?;
    let vout = coin["vout"].as_u64().ok_or("no vout")? as u32;
    let value = Amount::from_btc(coin["amount"].as_f64().ok_or("no amount")?)?;
    let piece = Amount::from_sat(100_000);
    let fee = Amount::from_sat(100_000);
    let change = value - piece * outputs as u64 - fee;
    let mut output = vec![
        TxOut {
            value: piece,
            script_pubkey: script.clone(),
        };
        outputs
    ];
    output.push(TxOut {
        value: change,
        script_pubkey: script.clone(),
    });
    let tx = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint { txid, vout },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output,
    };
    // Round trip: what the node signs is what was built.
    let _: Transaction = deserialize_hex(&serialize_hex(&tx))?;
    Ok(tx)
}
