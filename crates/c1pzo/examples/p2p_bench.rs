//! The P2P benchmark behind `cargo xtask bench p2p`, run against the
//! release `c1pzod` over loopback:
//!
//! - initial sync: node A holds a regtest chain of 5,000 blocks carrying
//!   signed P2WPKH transactions (built and signed here, mined with one
//!   `generateblock` call per block); a fresh node B is pointed at A with
//!   `addnode <A> onetry` and timed until its best block is A's;
//! - relay latency: nodes in a line A-B-C; a wallet on A `sendtoaddress`es
//!   and the time until the transaction is in C's mempool is taken
//!   (`getmempoolentry` polled every millisecond), 20 times.
//!
//! `--blocks <n>` makes a shorter chain for a quick run. Writes
//! `<out>/p2p.json` and `<out>/p2p.md`.

mod support;

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    absolute, transaction, Address, Amount, CompressedPublicKey, Network, OutPoint, ScriptBuf,
    Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use serde_json::json;
use support::{round, summary, Node, Result};

const DEFAULT_BLOCKS: u32 = 5_000;
/// Transactions per block once enough coins are confirmed.
const TXS_PER_BLOCK: usize = 4;
/// Blocks mined to the relay wallet before the chain (one coin per send).
const WALLET_COINBASES: u32 = 21;
const RELAY_SAMPLES: usize = 20;
const FEE: Amount = Amount::from_sat(1_000);
const SYNC_LIMIT: Duration = Duration::from_secs(1_800);
const RELAY_LIMIT: Duration = Duration::from_secs(60);

fn main() -> Result<()> {
    let out = support::out_dir("p2p_bench --out <dir> [--blocks <n>]")?;
    let args: Vec<String> = std::env::args().collect();
    let blocks: u32 = match args.iter().position(|a| a == "--blocks") {
        Some(i) => args.get(i + 1).ok_or("--blocks needs a number")?.parse()?,
        None => DEFAULT_BLOCKS,
    };
    if blocks < 101 + WALLET_COINBASES {
        return Err(format!("--blocks must be at least {}", 101 + WALLET_COINBASES).into());
    }
    let exe = support::exe_dir()?.join("c1pzod");

    let (a, a_port) = start(&exe)?;
    let key = Key::new();
    let chain = build_chain(&a, &key, blocks)?;
    let tip = a.call("getbestblockhash", json!([]))?;

    eprintln!("initial sync of {blocks} blocks into a fresh node");
    let (b, b_port) = start(&exe)?;
    let started = Instant::now();
    b.call("addnode", json!([format!("127.0.0.1:{a_port}"), "onetry"]))?;
    wait(SYNC_LIMIT, Duration::from_millis(10), || {
        Ok(b.call("getbestblockhash", json!([]))? == tip)
    })
    .map_err(|e| format!("node B did not sync: {e}"))?;
    let sync_seconds = started.elapsed().as_secs_f64();
    let received = b.call("getnettotals", json!([]))?["totalbytesrecv"].clone();

    eprintln!("relay latency along A-B-C, {RELAY_SAMPLES} transactions");
    let (c, _) = start(&exe)?;
    c.call("addnode", json!([format!("127.0.0.1:{b_port}"), "onetry"]))?;
    wait(SYNC_LIMIT, Duration::from_millis(10), || {
        Ok(c.call("getbestblockhash", json!([]))? == tip)
    })
    .map_err(|e| format!("node C did not sync: {e}"))?;
    let mut latencies = Vec::with_capacity(RELAY_SAMPLES);
    for _ in 0..RELAY_SAMPLES {
        let started = Instant::now();
        let txid = a.call_at(
            "/wallet/relay",
            "sendtoaddress",
            json!([key.address(), 0.001]),
        )?;
        wait(RELAY_LIMIT, Duration::from_millis(1), || {
            Ok(c.call("getmempoolentry", json!([txid])).is_ok())
        })
        .map_err(|e| format!("{txid} did not reach node C: {e}"))?;
        latencies.push(started.elapsed());
    }
    latencies.sort();

    let figures = json!({
        "chain": {
            "blocks": blocks,
            "transactions": chain.transactions,
            "blocks_with_transactions": chain.blocks_with_transactions,
            "build_seconds": round(chain.seconds),
        },
        "initial_sync": {
            "seconds": round(sync_seconds),
            "blocks_per_second": round(f64::from(blocks) / sync_seconds),
            "transactions_per_second": round(chain.transactions as f64 / sync_seconds),
            "bytes_received": received,
        },
        "relay_a_to_c_ms": summary(&latencies),
        "note": "Bitcoin Core publishes no equivalent regtest figure.",
    });
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("p2p.json"),
        serde_json::to_string_pretty(&figures)? + "\n",
    )?;
    let relay = &figures["relay_a_to_c_ms"];
    let md = format!(
        "# P2P benchmark\n\nRelease `c1pzod`, regtest, nodes on one machine over loopback.\n\n\
| what | figure |\n|---|---|\n\
| initial sync, {blocks} blocks with {} transactions, A to a fresh B | {:.2} s ({:.0} blocks/s, {:.0} tx/s, {} bytes received) |\n\
| transaction relay A-B-C, `sendtoaddress` on A until in C's mempool ({} runs) | median {} ms, p90 {} ms, min {} ms, max {} ms |\n\n\
Building the chain on A ({} blocks carrying transactions, one `generateblock` each): {:.2} s.\n\n\
Bitcoin Core publishes no equivalent regtest figure.\n",
        chain.transactions,
        sync_seconds,
        f64::from(blocks) / sync_seconds,
        chain.transactions as f64 / sync_seconds,
        received,
        relay["runs"],
        relay["median"],
        relay["p90"],
        relay["min"],
        relay["max"],
        chain.blocks_with_transactions,
        chain.seconds,
    );
    std::fs::write(out.join("p2p.md"), &md)?;
    print!("{md}");
    Ok(())
}

/// A node listening for peers on a free port of 127.0.0.1.
fn start(exe: &Path) -> Result<(Node, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let node = Node::start(exe, &["-fallbackfee=0.0002", &format!("-port={port}")])?;
    Ok((node, port))
}

/// Polls `done` every `every` until it holds; an error after `limit`.
fn wait(limit: Duration, every: Duration, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let started = Instant::now();
    while !done()? {
        if started.elapsed() > limit {
            return Err(format!("gave up after {limit:?}").into());
        }
        std::thread::sleep(every);
    }
    Ok(())
}

struct Chain {
    transactions: usize,
    blocks_with_transactions: usize,
    seconds: f64,
}

/// Mines `blocks` blocks on `node`: the first to `key`, the next
/// `WALLET_COINBASES` to the wallet `relay`, the rest of the first 101 to
/// `key`; from then on each block carries up to `TXS_PER_BLOCK` one-input,
/// two-output transactions spending `key`'s coins confirmed earlier.
fn build_chain(node: &Node, key: &Key, blocks: u32) -> Result<Chain> {
    eprintln!("building a {blocks}-block chain with transactions");
    let started = Instant::now();
    node.call("createwallet", json!(["relay"]))?;
    let wallet_address = node.call_at("/wallet/relay", "getnewaddress", json!([]))?;
    let first = node.call("generatetoaddress", json!([1, key.address()]))?;
    node.call(
        "generatetoaddress",
        json!([WALLET_COINBASES, wallet_address]),
    )?;
    node.call(
        "generatetoaddress",
        json!([100 - WALLET_COINBASES, key.address()]),
    )?;
    let first_block = node.call("getblock", json!([first[0]]))?;
    let coinbase: Txid = first_block["tx"][0]
        .as_str()
        .ok_or("no coinbase txid")?
        .parse()?;
    let mut coins: VecDeque<(OutPoint, Amount)> = VecDeque::new();
    coins.push_back((OutPoint::new(coinbase, 0), Amount::from_sat(5_000_000_000)));

    let mut transactions = 0;
    let mut blocks_with_transactions = 0;
    for height in 102..=blocks {
        let count = TXS_PER_BLOCK.min(coins.len());
        let mut hexes = Vec::with_capacity(count);
        let mut created = Vec::with_capacity(2 * count);
        for _ in 0..count {
            let (outpoint, value) = coins.pop_front().expect("counted");
            let tx = key.split(outpoint, value);
            let txid = tx.compute_txid();
            for (vout, output) in tx.output.iter().enumerate() {
                created.push((OutPoint::new(txid, vout as u32), output.value));
            }
            hexes.push(serialize_hex(&tx));
        }
        node.call("generateblock", json!([key.address(), hexes]))?;
        coins.extend(created);
        transactions += count;
        blocks_with_transactions += usize::from(count > 0);
        if height % 1_000 == 0 {
            eprintln!("  {height} blocks, {transactions} transactions");
        }
    }
    Ok(Chain {
        transactions,
        blocks_with_transactions,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A fixed key whose regtest P2WPKH coins the benchmark spends.
struct Key {
    secret: SecretKey,
    public: CompressedPublicKey,
    secp: Secp256k1<bitcoin::secp256k1::All>,
}

impl Key {
    fn new() -> Key {
        let secp = Secp256k1::new();
        let secret = SecretKey::from_slice(&[0x42; 32]).expect("a valid key");
        let public = CompressedPublicKey(secret.public_key(&secp));
        Key {
            secret,
            public,
            secp,
        }
    }

    fn script(&self) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&self.public.wpubkey_hash())
    }

    fn address(&self) -> String {
        Address::p2wpkh(&self.public, Network::Regtest).to_string()
    }

    /// Spends `outpoint` (worth `value`, paid to this key) into two
    /// outputs back to this key, less `FEE`; signed.
    fn split(&self, outpoint: OutPoint, value: Amount) -> Transaction {
        let rest = value - FEE;
        let half = Amount::from_sat(rest.to_sat() / 2);
        let mut tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            }],
            output: vec![
                TxOut {
                    value: half,
                    script_pubkey: self.script(),
                },
                TxOut {
                    value: rest - half,
                    script_pubkey: self.script(),
                },
            ],
        };
        let sighash = SighashCache::new(&tx)
            .p2wpkh_signature_hash(0, &self.script(), value, EcdsaSighashType::All)
            .expect("one input");
        let signature = bitcoin::ecdsa::Signature {
            signature: self.secp.sign_ecdsa(&Message::from(sighash), &self.secret),
            sighash_type: EcdsaSighashType::All,
        };
        tx.input[0].witness = Witness::p2wpkh(&signature, &self.public.0);
        tx
    }
}
