//! What the benchmarks share: a release `c1pzod` on regtest in a temporary
//! data directory, reached over JSON-RPC with its cookie.

// Each example that includes this module uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

pub struct Node {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub auth: (String, String),
    client: reqwest::blocking::Client,
}

impl Node {
    /// Starts `exe` on regtest in a fresh data directory with `extra`
    /// options and waits until RPC answers.
    pub fn start(exe: &Path, extra: &[&str]) -> Result<Node> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(exe)
            .args(["-regtest", "-printtoconsole=0", "-rpcthreads=8"])
            .arg(format!("-datadir={}", dir.path().display()))
            .arg(format!("-rpcport={port}"))
            .args(extra)
            .stdout(Stdio::null())
            .spawn()?;
        let cookie = dir.path().join("regtest/.cookie");
        let started = Instant::now();
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&cookie) {
                break text;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("c1pzod did not start".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (user, password) = text.split_once(':').ok_or("bad cookie")?;
        let node = Node {
            child,
            port,
            auth: (user.to_string(), password.to_string()),
            dir,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()?,
        };
        while node.call("getblockcount", json!([])).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(node)
    }

    pub fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.call_at("/", method, params)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Calls `method` on the HTTP path `path` (`/wallet/<name>`).
    pub fn call_at(&self, path: &str, method: &str, params: Value) -> Result<Value> {
        let text = self
            .client
            .post(format!("http://127.0.0.1:{}{path}", self.port))
            .basic_auth(&self.auth.0, Some(&self.auth.1))
            .body(json!({"method": method, "params": params, "id": 1}).to_string())
            .send()?
            .text()?;
        let reply: Value = serde_json::from_str(&text)?;
        if !reply["error"].is_null() {
            return Err(format!("{method}: {}", reply["error"]).into());
        }
        Ok(reply["result"].clone())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.call("stop", json!([]));
        let _ = self.child.wait();
    }
}

/// Resident memory of process `pid`, in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The pids of `parent`'s children.
pub fn children(parent: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// `--out <dir>` from the command line.
pub fn out_dir(usage: &str) -> Result<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    Ok(args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .ok_or(format!("usage: {usage}"))?)
}

/// The release executables' directory (this example's parent's parent).
pub fn exe_dir() -> Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or("cannot find the executables")?)
}

/// Runs `f` `runs` times; the durations, sorted.
pub fn time(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times)
}

/// Two decimals.
pub fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Min, median, p90 and max of sorted durations, in milliseconds.
pub fn summary(sorted: &[Duration]) -> Value {
    let ms = |d: &Duration| round(d.as_secs_f64() * 1000.0);
    let at = |q: f64| ms(&sorted[((sorted.len() - 1) as f64 * q).round() as usize]);
    json!({ "min": at(0.0), "median": at(0.5), "p90": at(0.9), "max": at(1.0), "runs": sorted.len() })
}
