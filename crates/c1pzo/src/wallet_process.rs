//! The multiprocess wallet (`c1pzo-node` with `c1pzo-wallet -ipcfd`): the
//! node spawns one wallet process and hands it its `Chain`; the wallet
//! process hosts every loaded wallet and registers their RPCs through that
//! `Chain`. Built with the `multiprocess` feature.
//!
//! [`Supervisor`] keeps the process honest: a watcher thread reaps it
//! and logs its exit; if it dies while the node runs, its RPC methods
//! (which vanished with its connection) come back as stand-ins that say
//! so, and `loadwallet` or `createwallet` starts a fresh process, which
//! reloads wallets from disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use interfaces::rpc::{code, RpcActor, RpcCommand, RpcError, RpcRequest};
use interfaces::{Chain, WalletLoader};
use ipc::client::InitClient;
use ipc::event_loop::LoopHandle;
use ipc::listen::Stream;
use ipc::serve::{init_bootstrap_with, serve_parent_with, MakeWalletLoader, Services};
use node::{LocalChain, Node};
use serde_json::Value;
use wallet::manager::WalletContext;

/// The executable the node spawns, next to its own.
pub const WALLET_EXE: &str = "c1pzo-wallet";

/// One running wallet process, seen from the node.
struct WalletProcess {
    loader: Arc<dyn WalletLoader>,
    init: Option<InitClient>,
    pid: u32,
    /// Set before the node closes the socket on purpose.
    stopping: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
    _handle: LoopHandle,
}

/// Starts, watches and stops the node's wallet process.
pub struct Supervisor {
    node: Arc<Node>,
    exe_dir: PathBuf,
    /// What the wallet process asks the node for (`Chain::get_args`).
    args: HashMap<String, Vec<String>>,
    process: Mutex<Option<WalletProcess>>,
    /// The RPC methods the wallet process registered, for stand-ins.
    methods: Mutex<Vec<(String, String, String)>>,
    /// The stand-ins registered while the process is down: (name, id).
    stand_ins: Mutex<Vec<(String, u64)>>,
    me: Weak<Supervisor>,
}

impl Supervisor {
    pub fn new(
        node: Arc<Node>,
        exe_dir: &Path,
        args: HashMap<String, Vec<String>>,
    ) -> Arc<Supervisor> {
        Arc::new_cyclic(|me| Supervisor {
            node,
            exe_dir: exe_dir.to_path_buf(),
            args,
            process: Mutex::new(None),
            methods: Mutex::new(Vec::new()),
            stand_ins: Mutex::new(Vec::new()),
            me: me.clone(),
        })
    }

    /// Spawns the wallet process, registers its RPCs and loads `names`.
    pub fn start(&self, names: &[String]) -> Result<(), String> {
        let loader = self.restart()?;
        loader.load_wallets(names)
    }

    /// Spawns the wallet process (unless one runs) and registers its RPCs;
    /// loads nothing. Returns its loader.
    fn restart(&self) -> Result<Arc<dyn WalletLoader>, String> {
        let mut slot = self.process.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = slot.as_ref() {
            // Another caller restarted it first.
            return Ok(running.loader.clone());
        }
        *slot = Some(self.spawn()?);
        let process = slot.as_ref().expect("just started");
        process.loader.register_rpcs();
        // The real methods are back: the stand-ins go.
        for (name, id) in self
            .stand_ins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            self.node.remove_rpc_command(&name, id);
        }
        let methods: Vec<(String, String, String)> = self
            .node
            .rpc_commands()
            .into_iter()
            .map(|c| (c.name, c.usage, c.help))
            .collect();
        *self.methods.lock().unwrap_or_else(|e| e.into_inner()) = methods;
        Ok(process.loader.clone())
    }

    /// The wallets the process has loaded (none while it is down): each a
    /// proxy whose calls go to the wallet process.
    pub fn wallets(&self) -> Vec<Arc<dyn interfaces::Wallet>> {
        let loader = self
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|process| process.loader.clone());
        loader
            .map(|loader| loader.get_wallets())
            .unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|p| p.pid)
    }

    fn spawn(&self) -> Result<WalletProcess, String> {
        let exe = crate::install_layout::find(&self.exe_dir, WALLET_EXE).map_err(|places| {
            format!(
                "{WALLET_EXE} not found: looked for {}; c1pzo-node runs its wallets in that executable, built beside it (`cargo xtask build MULTIPROCESS=1`) or installed in the release's bin/",
                crate::install_layout::describe(&places)
            )
        })?;
        let spawned = ipc::process::spawn(&exe).map_err(|e| e.to_string())?;
        let pid = spawned.child.id();
        let handle = LoopHandle::start().map_err(|e| e.to_string())?;
        let stream = spawned.stream.try_clone().map_err(|e| e.to_string())?;
        let stopping = Arc::new(AtomicBool::new(false));
        let watcher = {
            let stopping = stopping.clone();
            let supervisor = self.me.clone();
            std::thread::Builder::new()
                .name("c1pzo-walletwatch".into())
                .spawn(move || {
                    let mut child = spawned.child;
                    // Our end stays open in the connection; this copy goes.
                    drop(spawned.stream);
                    let status = child.wait();
                    let code = status.as_ref().ok().and_then(|s| s.code()).unwrap_or(-1);
                    let log = |message: String| {
                        if let Some(logger) = common::logging::global() {
                            logger.info(format_args!("{message}"));
                        }
                    };
                    log(format!("Process {WALLET_EXE} pid {pid} exited with status {code}"));
                    if !stopping.load(Ordering::SeqCst) {
                        // Stand-ins first, then the line that says so: a
                        // reader of the log (a test, an operator) who calls
                        // a wallet method next gets -18, not -32601.
                        if let Some(supervisor) = supervisor.upgrade() {
                            supervisor.lost();
                        }
                        log(format!(
                            "{WALLET_EXE} exited unexpectedly; wallet RPCs are unavailable until loadwallet or createwallet starts it again"
                        ));
                    }
                })
                .map_err(|e| e.to_string())?
        };
        let init = InitClient::connect(&handle, Stream::from(stream)).map_err(|e| e.to_string())?;
        let chain = LocalChain::with_args(self.node.clone(), self.args.clone());
        let loader = init
            .make_wallet_loader(chain)
            .map_err(|e| format!("{WALLET_EXE} did not start its wallet loader: {e}"))?;
        self.node
            .log(format!("Wallet process {WALLET_EXE} pid {pid} started"));
        Ok(WalletProcess {
            loader: Arc::new(loader),
            init: Some(init),
            pid,
            stopping,
            watcher: Some(watcher),
            _handle: handle,
        })
    }

    /// The process died on its own: forget it, and stand in for its RPCs.
    fn lost(&self) {
        let dead = self
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut dead) = dead {
            // The watcher is this thread: nothing to join.
            dead.watcher = None;
            dead.stopping.store(true, Ordering::SeqCst);
        }
        let methods = self
            .methods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut stand_ins = self.stand_ins.lock().unwrap_or_else(|e| e.into_inner());
        for (name, usage, help) in methods {
            let id = self.node.add_rpc_command(RpcCommand {
                category: "wallet".into(),
                name: name.clone(),
                usage,
                help,
                actor: Arc::new(StandIn {
                    supervisor: self.me.clone(),
                    method: name.clone(),
                }),
            });
            stand_ins.push((name, id));
        }
    }

    /// Unloads the wallets, closes the socket and waits for the process
    /// to exit (it leaves when the socket closes).
    pub fn stop(&self) {
        let process = self
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut process) = process {
            process.stopping.store(true, Ordering::SeqCst);
            process.loader.stop();
            process.loader = Arc::new(Gone);
            process.init = None;
            if let Some(watcher) = process.watcher.take() {
                let _ = watcher.join();
            }
        }
    }
}

/// Answers for a wallet method while the wallet process is down:
/// `loadwallet` and `createwallet` start a new one and go on there;
/// anything else says what happened.
struct StandIn {
    supervisor: Weak<Supervisor>,
    method: String,
}

impl RpcActor for StandIn {
    fn call(&self, request: &RpcRequest) -> Result<Value, RpcError> {
        let unavailable = || {
            RpcError::new(
                code::WALLET_NOT_FOUND,
                format!(
                    "The wallet process ({WALLET_EXE}) has exited; loadwallet or createwallet starts it again"
                ),
            )
        };
        if self.method != "loadwallet" && self.method != "createwallet" {
            return Err(unavailable());
        }
        let supervisor = self.supervisor.upgrade().ok_or_else(unavailable)?;
        // A restart loads nothing by itself (not even the startup list):
        // the call being forwarded decides what loads.
        supervisor
            .restart()
            .map_err(|e| RpcError::new(code::WALLET_ERROR, e))?;
        // The new process has registered the real method in our place.
        let command = supervisor
            .node
            .rpc_command(&self.method)
            .ok_or_else(unavailable)?;
        command.actor.call(request)
    }
}

/// What the loader becomes once the process is gone.
struct Gone;

impl WalletLoader for Gone {
    fn register_rpcs(&self) {}
    fn load_wallets(&self, _: &[String]) -> Result<(), String> {
        Err("the wallet process has stopped".into())
    }
    fn stop(&self) {}
    fn get_wallets(&self) -> Vec<Arc<dyn interfaces::Wallet>> {
        Vec::new()
    }
}

/// `c1pzo-wallet -ipcfd <N>`: serves `Init` with a wallet loader to the
/// parent node until it closes the socket.
pub fn serve_node(stream: ipc::runtime::platform::PairStream) -> std::io::Result<()> {
    let make: MakeWalletLoader =
        Arc::new(
            |chain: Arc<dyn Chain>| match WalletContext::from_node_args(chain) {
                Ok(context) => context as Arc<dyn WalletLoader>,
                Err(error) => Arc::new(Misconfigured(error)) as Arc<dyn WalletLoader>,
            },
        );
    serve_parent_with(
        stream,
        init_bootstrap_with(Services {
            chain: None,
            wallet_loader: Some(make),
            rpc: None,
            mining: None,
            node: None,
        }),
    )
}

/// A loader that could not be configured: every request says why.
struct Misconfigured(String);

impl WalletLoader for Misconfigured {
    fn register_rpcs(&self) {}
    fn load_wallets(&self, _: &[String]) -> Result<(), String> {
        Err(self.0.clone())
    }
    fn stop(&self) {}
    fn get_wallets(&self) -> Vec<Arc<dyn interfaces::Wallet>> {
        Vec::new()
    }
}

/// `c1pzo-wallet -ipcconnect=<address>`: a wallet process started on its
/// own that connects to a running `c1pzo-node -ipcbind=...`, serves its
/// wallets' RPCs through that node, and exits when the node goes away.
/// Takes `-datadir`, `-regtest`/`-chain`, `-ipcconnect` and `-wallet`.
pub fn connect_to_node(args: &[String]) -> Result<(), String> {
    let (mut datadir, mut chain_name, mut address) = (None, None, None);
    let mut wallets = Vec::new();
    let mut server = ServerOptions::default();
    for arg in args {
        match arg.split_once('=') {
            Some(("-datadir", value)) => datadir = Some(PathBuf::from(value)),
            Some(("-chain", value)) => chain_name = Some(value.to_string()),
            Some(("-ipcconnect", value)) => address = Some(value.to_string()),
            Some(("-wallet", value)) => wallets.push(value.to_string()),
            Some(("-server", value)) => server.enabled = value != "0",
            Some(("-rpcport", value)) => {
                server.port = Some(
                    value
                        .parse()
                        .map_err(|_| format!("Invalid port specified in -rpcport: '{value}'"))?,
                )
            }
            Some(("-rpcbind", value)) => server.bind = Some(value.to_string()),
            Some(("-rpccookiefile", value)) => server.cookie = Some(PathBuf::from(value)),
            None if arg == "-regtest" => chain_name = Some("regtest".into()),
            None if arg == "-server" => server.enabled = true,
            _ => return Err(format!("Invalid parameter {arg}")),
        }
    }
    let address = address.ok_or("-ipcconnect=<address> is required")?;
    let datadir = match datadir {
        Some(dir) => dir,
        None => common::datadir::default_datadir(),
    };
    let network_dir = match chain_name.as_deref() {
        None | Some("main") => datadir,
        Some(chain) => datadir.join(chain),
    };
    let stream = ipc::listen::connect(&address, &network_dir)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("nothing listens for IPC at {address}"))?;
    let handle = LoopHandle::start().map_err(|e| e.to_string())?;
    let init = InitClient::connect(&handle, stream).map_err(|e| e.to_string())?;
    let mut chain = init.make_chain().map_err(|e| e.to_string())?;
    // Losing the node ends this process.
    let lost = Arc::new(AtomicBool::new(false));
    let flag = lost.clone();
    chain.on_disconnect = Arc::new(move |_| flag.store(true, Ordering::SeqCst));
    let chain: Arc<dyn Chain> = Arc::new(chain);
    let context = WalletContext::from_node_args(chain.clone())?;
    context.register_rpcs();
    context.load_at_startup(&wallets)?;
    eprintln!("Connected to the node at {address}; serving wallet RPCs through it");
    let stop = Arc::new(AtomicBool::new(false));
    let own_server = if server.enabled {
        Some(serve_rpc(&server, &network_dir, &context, &stop)?)
    } else {
        None
    };
    while !lost.load(Ordering::SeqCst)
        && !stop.load(Ordering::SeqCst)
        && !chain.shutdown_requested()
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if let Some(own) = own_server {
        own.stop();
    }
    context.stop();
    Ok(())
}

/// `-server` and its options for a wallet process started by hand.
#[derive(Default)]
struct ServerOptions {
    enabled: bool,
    port: Option<u16>,
    bind: Option<String>,
    cookie: Option<PathBuf>,
}

/// A wallet process's own JSON-RPC server (Core's HTTP and JSON-RPC rules,
/// the node's server code), answering the wallet methods, `help` and
/// `stop`, with its own cookie.
struct OwnServer {
    state: Arc<node::rpc::http::RpcState>,
    runtime: Option<tokio::runtime::Runtime>,
    cookie: PathBuf,
}

impl OwnServer {
    fn stop(mut self) {
        self.state.request_stop();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
        let _ = std::fs::remove_file(&self.cookie);
    }
}

/// The default cookie of a wallet process's own server, beside the node's.
pub const WALLET_COOKIE_FILE: &str = ".wallet.cookie";

fn serve_rpc(
    options: &ServerOptions,
    network_dir: &Path,
    context: &Arc<WalletContext>,
    stop: &Arc<AtomicBool>,
) -> Result<OwnServer, String> {
    let port = options
        .port
        .ok_or("-server needs -rpcport=<port> (the node's port is the node's)")?;
    let host = options.bind.clone().unwrap_or_else(|| "127.0.0.1".into());
    let listener = std::net::TcpListener::bind((host.as_str(), port))
        .map_err(|e| format!("Unable to bind to {host}:{port} on this computer: {e}"))?;
    let cookie = common::datadir::resolve_in(
        network_dir,
        options
            .cookie
            .as_deref()
            .unwrap_or(Path::new(WALLET_COOKIE_FILE)),
    );
    let mut auth = node::rpc::auth::Auth::default();
    auth.add_cookie(&cookie).map_err(|e| e.to_string())?;
    let allowed = node::rpc::allow::AllowList::new(&[]).map_err(|e| e.to_string())?;
    let state =
        node::rpc::http::RpcState::new(common::logging::Logger::disabled(), "Loading wallets…");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.spawn(node::rpc::http::serve(
        state.clone(),
        vec![listener],
        Arc::new(auth),
        Arc::new(allowed),
    ));
    state.ready_with(Arc::new(WalletTarget {
        context: context.clone(),
        stop: stop.clone(),
    }));
    eprintln!(
        "Serving wallet RPCs on {host}:{port} (cookie {})",
        cookie.display()
    );
    Ok(OwnServer {
        state,
        runtime: Some(runtime),
        cookie,
    })
}

/// What the wallet's own server runs: wallet methods, `help`, `stop`.
struct WalletTarget {
    context: Arc<WalletContext>,
    stop: Arc<AtomicBool>,
}

impl node::rpc::http::RpcTarget for WalletTarget {
    fn call(&self, method: &str, params: Option<&Value>, uri: &str) -> Result<Value, RpcError> {
        match method {
            "stop" => {
                self.stop.store(true, Ordering::SeqCst);
                Ok(Value::String("c1pzo wallet stopping".into()))
            }
            "help" => Ok(Value::String(wallet::rpc::overview())),
            _ => wallet::rpc::call(
                &self.context,
                &RpcRequest {
                    method: method.to_string(),
                    params: params.cloned(),
                    uri: uri.to_string(),
                    synced: false,
                },
            ),
        }
    }
}
