//! The node benchmark behind `cargo xtask bench node`, run against the
//! release `c1pzod`: time to `generatetoaddress` 2,000 blocks; time to
//! connect 2,000 submitted blocks of 50 signed transactions each (so script
//! checks dominate); `getblockcount` calls per second from 8 concurrent
//! clients; and the data directory's size afterwards. Writes
//! `<out>/node.json` and `<out>/node.md`.

use std::path::Path;

use std::time::{Duration, Instant};

use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    Amount, Block, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut,
    Witness,
};
use serde_json::{json, Value};

const BLOCKS: u32 = 2_000;
const TXS_PER_BLOCK: usize = 50;
const RPC_CLIENTS: usize = 8;
const RPC_SECONDS: u64 = 5;

mod support;

use support::{round, Node, Result};

fn main() -> Result<()> {
    let out = support::out_dir("node_bench --out <dir>")?;
    let exe = support::exe_dir()?.join("c1pzod");

    eprintln!("generatetoaddress {BLOCKS}");
    let generate_seconds = {
        let node = Node::start(&exe, &[])?;
        let started = Instant::now();
        node.call("generatetoaddress", json!([BLOCKS, ADDRESS]))?;
        started.elapsed().as_secs_f64()
    };

    eprintln!("building {BLOCKS} blocks of {TXS_PER_BLOCK} signed transactions");
    let (setup, timed) = build_blocks()?;
    eprintln!("submitting them");
    let node = Node::start(&exe, &[])?;
    for block in &setup {
        submit(&node, block)?;
    }
    let started = Instant::now();
    for block in &timed {
        submit(&node, block)?;
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    let height = node.call("getblockcount", json!([]))?;

    eprintln!("getblockcount from {RPC_CLIENTS} clients for {RPC_SECONDS} s");
    let rpc_calls_per_second = rpc_throughput(&node)?;
    let datadir_bytes = dir_size(&node.dir.path().join("regtest"));

    let figures = json!({
        "generatetoaddress_2000_seconds": round(generate_seconds),
        "connect_2000_blocks_x50_txs_seconds": round(connect_seconds),
        "connect_blocks_per_second": round(f64::from(BLOCKS) / connect_seconds),
        "connect_txs_per_second": round((BLOCKS as usize * TXS_PER_BLOCK) as f64 / connect_seconds),
        "final_height": height,
        "getblockcount_calls_per_second_8_clients": rpc_calls_per_second.round(),
        "datadir_bytes_after_connect": datadir_bytes,
        "machine_cpus": std::thread::available_parallelism()?.get(),
    });
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("node.json"),
        serde_json::to_string_pretty(&figures)?,
    )?;
    let markdown = render(&figures);
    std::fs::write(out.join("node.md"), &markdown)?;
    print!("{markdown}");
    Ok(())
}

/// The P2WSH(OP_TRUE) regtest address Bitcoin Core's tests mine to.
const ADDRESS: &str = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85";

fn submit(node: &Node, block: &Block) -> Result<()> {
    let hex = hex::encode(bitcoin::consensus::encode::serialize(block));
    let result = node.call("submitblock", json!([hex]))?;
    if !result.is_null() {
        return Err(format!("block refused: {result}").into());
    }
    Ok(())
}

struct Key {
    secret: SecretKey,
    public: CompressedPublicKey,
    script: ScriptBuf,
}

impl Key {
    fn new() -> Key {
        let secret = SecretKey::from_slice(&[42; 32]).expect("a key");
        let public = CompressedPublicKey(secret.public_key(&Secp256k1::new()));
        let script = ScriptBuf::new_p2wpkh(&public.wpubkey_hash());
        Key {
            secret,
            public,
            script,
        }
    }

    fn sign(
        &self,
        secp: &Secp256k1<bitcoin::secp256k1::All>,
        tx: &mut Transaction,
        values: &[Amount],
    ) {
        for (index, value) in values.iter().enumerate() {
            let sighash = SighashCache::new(&*tx)
                .p2wpkh_signature_hash(index, &self.script, *value, EcdsaSighashType::All)
                .expect("an input");
            let signature = bitcoin::ecdsa::Signature {
                signature: secp.sign_ecdsa(&Message::from(sighash), &self.secret),
                sighash_type: EcdsaSighashType::All,
            };
            tx.input[index].witness = Witness::p2wpkh(&signature, &self.public.0);
        }
    }
}

fn tx(inputs: Vec<OutPoint>, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: inputs
            .into_iter()
            .map(|previous_output| TxIn {
                previous_output,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs,
    }
}

/// 101 blocks to the key plus a block fanning one coinbase out to 50
/// lanes (not timed), then 2,000 blocks each moving every lane one step
/// with a signed transaction (timed). Built on a chainstate of our own, so
/// the blocks are valid before the node sees them.
fn build_blocks() -> Result<(Vec<Block>, Vec<Block>)> {
    let dir = tempfile::tempdir()?;
    let genesis = bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Regtest);
    let mut chain = chain::ChainState::open(
        &dir.path().join("c.redb"),
        chain::Consensus::regtest(),
        &genesis,
    )?;
    let key = Key::new();
    let secp = Secp256k1::new();
    let mut time = 1_700_000_000u32;
    let now = u64::from(u32::MAX);
    let mut mine =
        |chain: &mut chain::ChainState, txs: Vec<Transaction>, fees: Amount| -> Result<Block> {
            time += 1;
            let block =
                chain::block_builder::build_block(chain, key.script.clone(), txs, fees, time);
            chain.process_block(&block, now)?;
            Ok(block)
        };
    let mut setup = Vec::new();
    for _ in 0..101 {
        setup.push(mine(&mut chain, Vec::new(), Amount::ZERO)?);
    }
    let reward = setup[0].txdata[0].output[0].value;
    let fee = Amount::from_sat(2_000);
    let lane_value = (reward - fee) / TXS_PER_BLOCK as u64;
    let mut fan_out = tx(
        vec![OutPoint {
            txid: setup[0].txdata[0].compute_txid(),
            vout: 0,
        }],
        (0..TXS_PER_BLOCK)
            .map(|_| TxOut {
                value: lane_value,
                script_pubkey: key.script.clone(),
            })
            .collect(),
    );
    key.sign(&secp, &mut fan_out, &[reward]);
    let fan_out_fee = reward - lane_value * TXS_PER_BLOCK as u64;
    let mut lanes: Vec<(OutPoint, Amount)> = (0..TXS_PER_BLOCK as u32)
        .map(|vout| {
            (
                OutPoint {
                    txid: fan_out.compute_txid(),
                    vout,
                },
                lane_value,
            )
        })
        .collect();
    setup.push(mine(&mut chain, vec![fan_out], fan_out_fee)?);

    let step_fee = Amount::from_sat(1_000);
    let mut timed = Vec::with_capacity(BLOCKS as usize);
    for _ in 0..BLOCKS {
        let mut txs = Vec::with_capacity(TXS_PER_BLOCK);
        for lane in &mut lanes {
            let mut step = tx(
                vec![lane.0],
                vec![TxOut {
                    value: lane.1 - step_fee,
                    script_pubkey: key.script.clone(),
                }],
            );
            key.sign(&secp, &mut step, &[lane.1]);
            *lane = (
                OutPoint {
                    txid: step.compute_txid(),
                    vout: 0,
                },
                lane.1 - step_fee,
            );
            txs.push(step);
        }
        timed.push(mine(&mut chain, txs, step_fee * TXS_PER_BLOCK as u64)?);
    }
    Ok((setup, timed))
}

fn rpc_throughput(node: &Node) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(RPC_SECONDS);
    let started = Instant::now();
    let threads: Vec<_> = (0..RPC_CLIENTS)
        .map(|_| {
            let (port, auth) = (node.port, node.auth.clone());
            std::thread::spawn(move || -> usize {
                let client = reqwest::blocking::Client::new();
                let mut calls = 0;
                while Instant::now() < deadline {
                    let ok = client
                        .post(format!("http://127.0.0.1:{port}/"))
                        .basic_auth(&auth.0, Some(&auth.1))
                        .body(r#"{"method":"getblockcount","params":[],"id":1}"#)
                        .send()
                        .and_then(|r| r.text())
                        .is_ok();
                    if ok {
                        calls += 1;
                    }
                }
                calls
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok())
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn render(f: &Value) -> String {
    format!(
        "# cargo xtask bench node\n\n\
         Release `c1pzod` on this machine ({} CPUs).\n\n\
         | measurement | c1pzo |\n|---|---|\n\
         | generatetoaddress 2,000 blocks (one call) | {} s |\n\
         | connect 2,000 submitted blocks x 50 signed P2WPKH transactions | {} s ({} blocks/s, {} tx/s) |\n\
         | getblockcount, 8 concurrent keep-alive clients | {} calls/s |\n\
         | data directory after the connect run ({} blocks) | {} bytes |\n\n\
         Bitcoin Core publishes no figures for these operations, and it is not\n\
         installed on this machine (no package in Debian 12, no network to build\n\
         it), so there is no same-run baseline.\n",
        f["machine_cpus"],
        f["generatetoaddress_2000_seconds"],
        f["connect_2000_blocks_x50_txs_seconds"],
        f["connect_blocks_per_second"],
        f["connect_txs_per_second"],
        f["getblockcount_calls_per_second_8_clients"],
        f["final_height"],
        f["datadir_bytes_after_connect"],
    )
}
