//! The functional test harness: a `TestNode` runs the node executable
//! (`C1PZOD`, by default `c1pzod` from `C1PZO_BIN_DIR`) in a fresh
//! temporary data directory with ports this process owns, waits until its
//! RPC answers, talks to it over real HTTP with the cookie, and stops it.
//! A test that fails prints the tail of the node's debug.log.

pub mod exe;
pub mod net;
pub mod peer;
pub mod ports;
pub mod processes;
pub mod timeouts;
pub mod wallet;
pub mod wallet_rpc;
pub mod wine;

use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use exe::{cli_exe, exe, node_exe, shown, windows_executables};
pub use ports::free_port;
pub use timeouts::scaled;

/// An RPC error as the node sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

pub struct TestNode {
    pub dir: tempfile::TempDir,
    /// The address RPC is reached at (127.0.0.1 unless `-rpcbind` says
    /// otherwise).
    pub rpc_host: std::net::IpAddr,
    pub rpc_port: u16,
    pub p2p_port: u16,
    pub extra_args: Vec<String>,
    /// The executable started (`node_exe()` unless a test picks one).
    pub exe: PathBuf,
    child: Option<Child>,
    /// The process group of the last launch (the node's pid), which its
    /// wallet processes join.
    group: Option<u32>,
}

impl TestNode {
    /// Starts a node and waits until RPC answers.
    pub fn start(extra_args: &[&str]) -> TestNode {
        TestNode::start_at([127, 0, 0, 1].into(), extra_args)
    }

    /// Starts a node whose RPC is reached at `rpc_host`.
    pub fn start_at(rpc_host: std::net::IpAddr, extra_args: &[&str]) -> TestNode {
        TestNode::start_exe(node_exe(), rpc_host, extra_args)
    }

    /// Starts `exe` (a node executable) whose RPC is reached at `rpc_host`.
    pub fn start_exe(exe: PathBuf, rpc_host: std::net::IpAddr, extra_args: &[&str]) -> TestNode {
        let mut node = TestNode {
            exe,
            rpc_host,
            dir: tempfile::tempdir().expect("a temp dir"),
            rpc_port: free_port(),
            p2p_port: free_port(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            child: None,
            group: None,
        };
        node.launch();
        node
    }

    pub fn datadir(&self) -> &Path {
        self.dir.path()
    }

    pub fn network_dir(&self) -> PathBuf {
        self.dir.path().join("regtest")
    }

    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "-regtest".to_string(),
            format!("-datadir={}", self.dir.path().display()),
            format!("-rpcport={}", self.rpc_port),
            format!("-port={}", self.p2p_port),
            "-printtoconsole=0".to_string(),
            // As Core's test framework runs its nodes with -debug: a
            // failure's log tail says what the node saw.
            "-debug=net".to_string(),
        ];
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// Runs the executable and waits for RPC (30 s at most, scaled).
    pub fn launch(&mut self) {
        // A node killed with -9 leaves its cookie behind; the new one
        // writes a fresh one before it listens, so never read the old one.
        let _ = std::fs::remove_file(self.network_dir().join(".cookie"));
        // Its own process group: wallet processes it starts join it, which
        // is how `processes` finds them even under wine. Out of the
        // terminal's group, a Ctrl-C on the test run no longer reaches it,
        // so it dies with the thread that started it instead.
        let mut command = Command::new(&self.exe);
        command
            .args(self.args())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: prctl(2) is async-signal-safe and touches only the child.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("the node executable runs");
        self.group = Some(child.id());
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.as_mut().and_then(|c| c.stderr.take()) {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!(
                    "the node exited during startup with {status}: {stderr}\n{}",
                    self.log_tail()
                );
            }
            // Up once an authorised call gets anything but -28, "still
            // warming up".
            let answer = self.try_post(r#"{"method":"getblockcount","id":0}"#);
            if answer.is_some_and(|(status, body)| status != 401 && !body.contains("\"code\":-28"))
            {
                return;
            }
            if started.elapsed() > scaled(30) {
                panic!(
                    "the node's RPC did not come up in {:?}\n{}",
                    scaled(30),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!(
            "http://{}/",
            std::net::SocketAddr::new(self.rpc_host, self.rpc_port)
        )
    }

    pub fn cookie(&self) -> Option<String> {
        std::fs::read_to_string(self.network_dir().join(".cookie")).ok()
    }

    /// Whether the RPC port answers HTTP; with the cookie if there is one.
    fn try_post(&self, body: &str) -> Option<(u16, String)> {
        let client = reqwest::blocking::Client::builder()
            .timeout(scaled(5))
            .build()
            .ok()?;
        let mut request = client.post(self.url()).body(body.to_string());
        let arg = |name: &str| {
            self.extra_args
                .iter()
                .find_map(|a| a.strip_prefix(&format!("-{name}=")).map(str::to_string))
        };
        let credentials = match arg("rpcpassword") {
            Some(password) => Some((arg("rpcuser").unwrap_or_default(), password)),
            None => self.cookie().and_then(|c| {
                c.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            }),
        };
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().unwrap_or_default()))
    }

    /// Sends a raw HTTP request body to the RPC port; returns the status
    /// and body text.
    pub fn post(&self, body: &str, credentials: Option<&str>) -> (u16, String) {
        let client = reqwest::blocking::Client::builder()
            .timeout(scaled(60))
            .build()
            .expect("a client");
        let mut request = client
            .post(self.url())
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some((user, password)) = credentials.and_then(|c| c.split_once(':')) {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().expect("the node answers HTTP");
        let status = response.status().as_u16();
        (status, response.text().unwrap_or_default())
    }

    /// Calls `method` with `params`; `Err` carries the node's error.
    pub fn rpc(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.rpc_at("/", method, params)
    }

    /// As [`TestNode::rpc`], for the wallet `name` (`/wallet/<name>`).
    pub fn wallet_rpc(&self, name: &str, method: &str, params: Value) -> Result<Value, RpcError> {
        self.rpc_at(&format!("/wallet/{name}"), method, params)
    }

    /// As [`TestNode::call`], for the wallet `name`.
    pub fn wallet_call(&self, name: &str, method: &str, params: Value) -> Value {
        self.wallet_rpc(name, method, params)
            .unwrap_or_else(|e| panic!("{name}: {method} failed: {e:?}\n{}", self.log_tail()))
    }

    /// Calls `method` on the HTTP path `path`.
    pub fn rpc_at(&self, path: &str, method: &str, params: Value) -> Result<Value, RpcError> {
        let cookie = self.cookie().unwrap_or_default();
        let body = json!({ "jsonrpc": "1.0", "id": "test", "method": method, "params": params });
        let client = reqwest::blocking::Client::builder()
            .timeout(scaled(120))
            .build()
            .expect("a client");
        let (user, password) = cookie.split_once(':').unwrap_or(("", ""));
        let response = client
            .post(format!("{}{}", self.url().trim_end_matches('/'), path))
            .basic_auth(user, Some(password))
            .body(body.to_string())
            .send()
            .map_err(|e| RpcError {
                code: 0,
                message: format!("no answer: {e}"),
            })?;
        let text = response.text().map_err(|e| RpcError {
            code: 0,
            message: e.to_string(),
        })?;
        let reply: Value = serde_json::from_str(&text).map_err(|_| RpcError {
            code: 0,
            message: format!("not JSON: {text}"),
        })?;
        if reply["error"].is_null() {
            Ok(reply["result"].clone())
        } else {
            Err(RpcError {
                code: reply["error"]["code"].as_i64().unwrap_or(0),
                message: reply["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            })
        }
    }

    /// `rpc`, panicking with the node's log on error.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.rpc(method, params)
            .unwrap_or_else(|e| panic!("{method} failed: {e:?}\n{}", self.log_tail()))
    }

    /// Runs `c1pzo-cli` against this node.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(cli_exe())
            .arg("-regtest")
            .arg(format!("-datadir={}", self.dir.path().display()))
            .arg(format!("-rpcport={}", self.rpc_port))
            .args(args)
            .output()
            .expect("c1pzo-cli runs")
    }

    /// Mines `count` blocks to a fixed regtest address; returns the hashes.
    pub fn generate(&self, count: u32) -> Vec<String> {
        let hashes = self.call("generatetoaddress", json!([count, ADDRESS]));
        hashes
            .as_array()
            .expect("an array")
            .iter()
            .map(|h| h.as_str().expect("a hash").to_string())
            .collect()
    }

    /// `stop` over RPC, then waits for the process to exit (30 s, scaled).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = self.rpc("stop", json!([]));
        self.wait_exit(scaled(30))
    }

    /// Waits up to `limit` (scaled) for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let limit = limit.mul_f64(timeouts::timeout_factor());
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!(
                    "the node did not exit within {limit:?}\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` to the node process.
    pub fn signal(&self, signal: i32) {
        if let Some(child) = &self.child {
            processes::signal(child.id(), signal);
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process group of the last launch, running or not.
    pub fn group(&self) -> Option<u32> {
        self.group
    }

    pub fn debug_log(&self) -> String {
        std::fs::read_to_string(self.network_dir().join("debug.log")).unwrap_or_default()
    }

    /// The last 40 lines of debug.log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = self.debug_log();
        let lines: Vec<&str> = log.lines().collect();
        let start = lines.len().saturating_sub(40);
        format!(
            "--- debug.log tail ({}) ---\n{}",
            self.network_dir().display(),
            lines[start..].join("\n")
        )
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
        // Whatever the node started (its wallet processes) goes with the
        // test too, even when a failure left it behind; that a wallet
        // process leaves by itself when its node dies is a test of its own.
        // While the node is unreaped its group id cannot be reused, so the
        // whole group is ours to kill; after, only the wallet processes
        // still in it are.
        match (self.pid(), self.group) {
            (Some(running), _) => processes::signal_group(running, libc::SIGKILL),
            (None, Some(_)) => {
                for pid in processes::wallet_processes_in(self) {
                    processes::signal(pid, libc::SIGKILL);
                }
            }
            (None, None) => {}
        }
        self.kill_9();
    }
}

/// The regtest P2WSH address of `OP_TRUE`, which Bitcoin Core's
/// functional tests mine to too.
pub const ADDRESS: &str = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85";

/// An `-ipcbind` value for a node under test: its default unix socket,
/// or, for Windows executables (no unix sockets there), a loopback tcp
/// address on a port of this test's own, used with the `.ipccookie`.
pub fn ipc_bind_address() -> String {
    if windows_executables() {
        format!("tcp:127.0.0.1:{}", free_port())
    } else {
        "unix".to_string()
    }
}
