//! The multiprocess benchmark behind `cargo xtask bench multiprocess`:
//! the same wallet calls through `c1pzod` (wallet in the node) and through
//! `c1pzo-node` (wallet in a `c1pzo-wallet` process), side by side in one
//! run: `getbalance` and `getnewaddress` latency, and each process's
//! resident memory. `--suite <exe>=<seconds>` adds the functional suite's
//! wall time as xtask measured it. Writes `<out>/multiprocess.{json,md}`.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::{children, round, rss_kib, summary, time, Node, Result};

const CALLS: usize = 300;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect()
    };
    let out = value("--out")
        .pop()
        .map(PathBuf::from)
        .ok_or("usage: multiprocess_bench --out <dir> [--suite <exe>=<seconds>]...")?;
    let dir = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or("cannot find the executables")?;

    let mut figures = json!({});
    for exe in ["c1pzod", "c1pzo-node"] {
        eprintln!("{exe}: getbalance and getnewaddress, {CALLS} calls each");
        let node = Node::start(&dir.join(exe), &["-fallbackfee=0.0002"])?;
        node.call("createwallet", json!(["bench"]))?;
        let wallet = |method: &str| node.call_at("/wallet/bench", method, json!([]));
        let address = wallet("getnewaddress")?;
        node.call("generatetoaddress", json!([101, address]))?;
        let balance = time(CALLS, || wallet("getbalance").map(drop))?;
        let new_address = time(CALLS, || wallet("getnewaddress").map(drop))?;
        let wallet_pids = children(node.pid());
        figures[exe] = json!({
            "getbalance_ms": summary(&balance),
            "getnewaddress_ms": summary(&new_address),
            "node_rss_kib": rss_kib(node.pid()),
            "wallet_process_rss_kib": wallet_pids.first().and_then(|pid| rss_kib(*pid)),
        });
    }
    for suite in value("--suite") {
        if let Some((exe, seconds)) = suite.split_once('=') {
            figures[exe]["functional_suite_seconds"] = json!(seconds.parse::<f64>()?);
        }
    }
    let ratio = |key: &str| -> Value {
        let a = figures["c1pzod"][key]["median"].as_f64();
        let b = figures["c1pzo-node"][key]["median"].as_f64();
        match (a, b) {
            (Some(a), Some(b)) if a > 0.0 => json!(round(b / a)),
            _ => Value::Null,
        }
    };
    let (balance_ratio, address_ratio) = (ratio("getbalance_ms"), ratio("getnewaddress_ms"));
    figures["ratio_getbalance"] = balance_ratio;
    figures["ratio_getnewaddress"] = address_ratio;
    if let (Some(a), Some(b)) = (
        figures["c1pzod"]["functional_suite_seconds"].as_f64(),
        figures["c1pzo-node"]["functional_suite_seconds"].as_f64(),
    ) {
        figures["ratio_functional_suite"] = json!(round(b / a));
    }
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("multiprocess.json"),
        serde_json::to_string_pretty(&figures)? + "\n",
    )?;
    let row = |exe: &str| {
        let f = &figures[exe];
        format!(
            "| {exe} | {} ms | {} ms | {} | {} KiB | {} |\n",
            f["getbalance_ms"]["median"],
            f["getnewaddress_ms"]["median"],
            f["functional_suite_seconds"],
            f["node_rss_kib"],
            match f["wallet_process_rss_kib"].as_u64() {
                Some(kib) => format!("{kib} KiB"),
                None => "(in the node)".into(),
            },
        )
    };
    let md = format!(
        "# Multiprocess benchmark\n\nRelease builds, one machine, one run; medians of {CALLS} calls.\n\n\
| executable | getbalance | getnewaddress | functional suite (s) | node RSS | wallet process RSS |\n|---|---|---|---|---|---|\n{}{}\n\
c1pzo-node / c1pzod: getbalance {}x, getnewaddress {}x, functional suite {}x (targets: 1.5x, 1.5x, 1.15x).\n",
        row("c1pzod"),
        row("c1pzo-node"),
        figures["ratio_getbalance"],
        figures["ratio_getnewaddress"],
        figures["ratio_functional_suite"],
    );
    std::fs::write(out.join("multiprocess.md"), &md)?;
    print!("{md}");
    Ok(())
}
