//! `c1pzod`'s life: options and config as Bitcoin Core reads them, the
//! data directory lock, the log, the chainstate, the RPC server, and a
//! clean shutdown on `stop`, SIGINT or SIGTERM (Ctrl-C, Ctrl-Break or
//! closing the console on Windows; cookie and pid file removed; every
//! accepted block is already committed).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use common::args::{help_message, node_options, Args, DEFAULT_PID_FILE};
use common::chainparams::ChainParams;
use common::init::{check_section_only_args, init_config, InitError};
use common::logging::{LogOptions, Logger};
use node::rpc::http::RpcState;
use node::Node;

/// An error that stops startup, printed as `Error: <message>`.
pub struct Fatal(pub(crate) String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(error: E) -> Fatal {
        Fatal(error.to_string())
    }
}

/// Which executable is running: the wallet in this process, or in a
/// `c1pzo-wallet` process this one spawns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executable {
    /// `c1pzod`.
    Monolithic,
    /// `c1pzo-node`.
    Multiprocess,
}

/// Which executable's options, help and name: `c1pzod`, `c1pzo-node` or
/// `c1pzo-qt` (the node with the GUI in this process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program {
    pub executable: Executable,
    pub gui: bool,
}

impl Program {
    pub const DAEMON: Program = Program {
        executable: Executable::Monolithic,
        gui: false,
    };

    fn name(self) -> &'static str {
        match (self.executable, self.gui) {
            (_, true) => "c1pzo-qt",
            (Executable::Monolithic, false) => "c1pzod",
            (Executable::Multiprocess, false) => "c1pzo-node",
        }
    }
}

pub fn main(argv: &[String]) -> ExitCode {
    main_with(argv, Executable::Monolithic)
}

pub fn main_with(argv: &[String], executable: Executable) -> ExitCode {
    let program = Program {
        executable,
        gui: false,
    };
    match start(argv, program) {
        Ok(Started::Exit(code)) => code,
        Ok(Started::Running(mut running)) => {
            running.wait();
            running.finish()
        }
        Err(fatal) => fatal.report(),
    }
}

impl Fatal {
    /// Prints the error as Core does and picks the exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("Error: {}", self.0);
        if let Some(logger) = common::logging::global() {
            logger.error(format_args!("{}", self.0));
        }
        ExitCode::FAILURE
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

/// What startup came to: done already (`-help`, `-version`), or a node
/// that runs until [`Running::finish`].
pub enum Started {
    Exit(ExitCode),
    Running(Box<Running>),
}

/// A node that finished starting, with everything its shutdown needs.
pub struct Running {
    pub args: Args,
    pub network: bitcoin::Network,
    /// `<datadir>/<chain>`.
    pub network_dir: PathBuf,
    node: Arc<Node>,
    runtime: tokio::runtime::Runtime,
    rpc: Arc<RpcState>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    connman: Arc<node::net::Connman>,
    wallets: Option<Wallets>,
    #[cfg(feature = "multiprocess")]
    ipc_server: Option<std::thread::JoinHandle<()>>,
    cookie: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    logger: Logger,
    _lock: std::fs::File,
}

pub fn start(argv: &[String], program: Program) -> Result<Started, Fatal> {
    let mut options = node_options();
    if program.executable == Executable::Multiprocess {
        // c1pzo-node serves IPC clients on -ipcbind.
        options = common::args::select_options(common::args::IPC_OPTIONS, &["ipcbind"], &options);
    }
    if program.gui {
        options.extend_from_slice(common::args::GUI_OPTIONS);
    }
    let mut args = Args::from_command_line(&options, argv.iter().cloned())
        .map_err(|e| Fatal(InitError::CommandLine(e).to_string()))?;
    if args.help_requested() {
        let usage = if program.gui {
            format!(
                "c1pzo-qt version {}\n\nUsage:  c1pzo-qt [command-line options]\n\n",
                crate::VERSION
            )
        } else {
            format!(
                "c1pzo daemon version {}\n\nUsage:  {} [options]                     Start c1pzo daemon\n\n",
                crate::VERSION,
                program.name()
            )
        };
        print!(
            "{usage}{}",
            help_message(&options, args.is_set("help-debug"))
        );
        return Ok(Started::Exit(ExitCode::SUCCESS));
    }
    if args.is_set("version") {
        if program.gui {
            println!("c1pzo-qt version {}", crate::VERSION);
        } else {
            println!("c1pzo daemon version {}", crate::VERSION);
        }
        return Ok(Started::Exit(ExitCode::SUCCESS));
    }
    if let Some(token) = args.positional().first() {
        return Err(Fatal(format!(
            "Command line contains unexpected token '{token}', see {} -h for a list of options.",
            program.name()
        )));
    }
    let dirs = init_config(&mut args)?;
    check_section_only_args(&args)?;
    let params = ChainParams::for_chain(dirs.chain);
    if args.get_bool("daemon", false) && !program.gui {
        crate::platform::daemonize().map_err(Fatal)?;
    }

    let logger = Logger::open(LogOptions::from_args(&args, &dirs.network)?)?;
    let _ = common::logging::install_global(logger.clone());
    let lock = lock_datadir(&dirs.base)?;
    logger.info(format_args!("c1pzo version {}", crate::VERSION));
    logger.info(format_args!(
        "Using data directory {}",
        dirs.network.display()
    ));
    if let Some(path) = args.config_path() {
        logger.info(format_args!("Config file: {}", path.display()));
    }
    for line in args.log_lines() {
        logger.info(format_args!("{line}"));
    }

    let pid_file = if args.is_negated("pid") {
        None
    } else {
        let path = args
            .get_path("pid")
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
        Some(resolve(&dirs.network, &path))
    };
    if let Some(path) = &pid_file {
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(|e| {
            Fatal(format!(
                "Unable to create the PID file '{}': {e}",
                path.display()
            ))
        })?;
    }

    // The RPC server starts first and answers -28 while the node loads,
    // as Core's does, so clients can poll as soon as the port is open.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.get_int("rpcthreads", 4).clamp(1, 64) as usize)
        .enable_all()
        .build()?;
    let rpc = RpcState::new(logger.clone(), "Loading block index…");
    let mut cookie = None;
    let served = if args.get_bool("server", !program.gui) {
        let (auth, cookie_path) = crate::rpc_setup::rpc_auth(&args, &dirs.network)?;
        cookie = cookie_path;
        let allowed = node::rpc::allow::AllowList::new(&args.get_all("rpcallowip"))?;
        let listeners = crate::rpc_setup::rpc_listeners(&args, params.default_rpc_port, &logger)?;
        Some(runtime.spawn(node::rpc::http::serve(
            rpc.clone(),
            listeners,
            Arc::new(auth),
            Arc::new(allowed),
        )))
    } else {
        None
    };
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (signal_tx, mut signal_rx) = tokio::sync::watch::channel(false);
    {
        let interrupted = interrupted.clone();
        runtime.spawn(async move {
            crate::platform::shutdown_requested().await;
            interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = signal_tx.send(true);
        });
    }

    let loaded = chain::ChainState::open(
        &dirs.network.join("chainstate.redb"),
        consensus(&params),
        &params.genesis,
    )
    .map_err(|e| Fatal(format!("Error opening block database: {e}")));
    let chainstate = match loaded {
        Ok(chainstate) => chainstate,
        Err(error) => {
            give_up(&rpc, None, &cookie, &pid_file);
            return Err(error);
        }
    };
    logger.info(format_args!(
        "Loaded best chain: hashBestChain={} height={}",
        chainstate.tip(),
        chainstate.height()
    ));
    let node = Node::with_settings(
        Node::new(
            chainstate,
            params.network,
            dirs.chain.name(),
            args.get_bool("txindex", false),
            logger.clone(),
        ),
        dirs.network.join("settings.json"),
    );
    node.mempool().require_standard = !args.get_bool("acceptnonstdtxn", false);
    // Wallets load before the RPC server leaves warmup, as in Core.
    let wallets = match start_wallets(
        &args,
        &dirs.network,
        &node,
        params.network,
        program.executable,
    ) {
        Ok(wallets) => wallets,
        Err(error) => {
            give_up(&rpc, None, &cookie, &pid_file);
            return Err(error);
        }
    };
    #[cfg(feature = "multiprocess")]
    let ipc_server = match serve_ipc(&args, &dirs.network, &node, wallet_source(&wallets)) {
        Ok(server) => server,
        Err(error) => {
            give_up(&rpc, wallets, &cookie, &pid_file);
            return Err(error);
        }
    };
    let started = net_config(&args, &params, &dirs.network).and_then(|config| {
        node::net::Connman::start(node.clone(), config, runtime.handle()).map_err(Fatal)
    });
    let connman = match started {
        Ok(connman) => connman,
        Err(error) => {
            give_up(&rpc, wallets, &cookie, &pid_file);
            return Err(error);
        }
    };
    rpc.ready(node.clone());
    // A signal (Ctrl-C, SIGTERM, closing the console) asks the node to
    // stop, however the process waits for that.
    {
        let node = node.clone();
        runtime.spawn(async move {
            // Without signal handlers (the sender gone unsent), never.
            if signal_rx.wait_for(|signalled| *signalled).await.is_ok() {
                node.request_shutdown();
            }
        });
    }
    if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        node.request_shutdown();
    }
    logger.info(format_args!("init message: Done loading"));
    Ok(Started::Running(Box::new(Running {
        args,
        network: params.network,
        network_dir: dirs.network.clone(),
        node,
        runtime,
        rpc,
        served,
        connman,
        wallets,
        #[cfg(feature = "multiprocess")]
        ipc_server,
        cookie,
        pid_file,
        logger,
        _lock: lock,
    })))
}

impl Running {
    /// The node as a front end sees it (the GUI in this process).
    pub fn front_end(&self) -> Arc<dyn interfaces::Node> {
        node::LocalNode::new(self.node.clone(), wallet_source(&self.wallets))
    }

    pub fn request_shutdown(&self) {
        self.node.request_shutdown();
    }

    /// Blocks until something asks the node to stop: `stop`, a signal,
    /// or [`Running::request_shutdown`].
    pub fn wait(&mut self) {
        let node = self.node.clone();
        self.runtime
            .block_on(async move { node.shutdown_requested_async().await });
    }

    /// Stops everything in order and says how the process should exit.
    pub fn finish(self) -> ExitCode {
        let Running {
            node,
            runtime,
            rpc,
            served,
            connman,
            wallets,
            #[cfg(feature = "multiprocess")]
            ipc_server,
            cookie,
            pid_file,
            logger,
            _lock,
            ..
        } = self;
        node.request_shutdown();
        runtime.block_on(async move {
            rpc.request_stop();
            if let Some(server) = served {
                let _ = server.await;
            }
        });
        logger.info(format_args!("Shutdown: In progress..."));
        connman.stop();
        // Wallets hear that the chainstate is final before they close
        // (Core's ChainStateFlushed at shutdown).
        node.notifier.flushed(node.chain().tip());
        node.notifier.sync();
        if let Some(wallets) = wallets {
            wallets.stop();
        }
        #[cfg(feature = "multiprocess")]
        if let Some(server) = ipc_server {
            let _ = server.join();
        }
        runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        cleanup(&cookie, &pid_file);
        drop(node);
        logger.info(format_args!("Shutdown: done"));
        ExitCode::SUCCESS
    }
}

/// P2P settings from `-listen`, `-bind`, `-port`, `-connect`, `-addnode`,
/// `-maxconnections` and `-peertimeout`.
fn net_config(
    args: &Args,
    params: &ChainParams,
    network_dir: &Path,
) -> Result<node::net::NetConfig, Fatal> {
    let port = match args.get_int("port", params.default_p2p_port as i64) {
        port @ 1..=65535 => port as u16,
        other => return Err(Fatal(format!("Invalid port specified in -port: '{other}'"))),
    };
    let connect: Vec<String> = if args.is_negated("connect") {
        vec![]
    } else {
        args.get_all("connect")
            .into_iter()
            .filter(|c| c != "0")
            .collect()
    };
    let mut listen = Vec::new();
    if args.get_bool("listen", connect.is_empty()) {
        let binds = args.get_all("bind");
        if binds.is_empty() {
            // IPv6 first: on a dual-stack system it takes IPv4 too, and the
            // IPv4 bind after it then fails harmlessly.
            listen.push(std::net::SocketAddr::from(([0u16; 8], port)));
            listen.push(std::net::SocketAddr::from(([0, 0, 0, 0], port)));
        }
        for bind in binds {
            let bind = bind.trim_end_matches("=onion");
            let address = node::net::parse_address(bind, port)
                .ok_or_else(|| Fatal(format!("Cannot resolve -bind address: '{bind}'")))?;
            listen.push(address);
        }
    }
    let max_connections = args.get_int("maxconnections", 125).max(0) as usize;
    let peer_timeout = args.get_int("peertimeout", 60).max(1) as u64;
    Ok(node::net::NetConfig {
        magic: params.message_start,
        listen,
        connect,
        addnode: args.get_all("addnode"),
        max_connections,
        peer_timeout: std::time::Duration::from_secs(peer_timeout),
        banlist: network_dir.join("banlist.json"),
    })
}

/// The node's wallets: in this process (`c1pzod`) or in a spawned
/// `c1pzo-wallet` process (`c1pzo-node`).
enum Wallets {
    InProcess(Arc<wallet::manager::WalletContext>),
    #[cfg(feature = "multiprocess")]
    Spawned(Arc<crate::wallet_process::Supervisor>),
}

/// The wallets loaded now, for a front end's `Node.getWallets`. Weak, so
/// a connected front end does not keep stopped wallets alive.
fn wallet_source(wallets: &Option<Wallets>) -> node::local_node::WalletSource {
    match wallets {
        None => Arc::new(Vec::new),
        Some(Wallets::InProcess(context)) => {
            let context = Arc::downgrade(context);
            Arc::new(move || {
                context
                    .upgrade()
                    .map(|context| interfaces::WalletLoader::get_wallets(&*context))
                    .unwrap_or_default()
            })
        }
        #[cfg(feature = "multiprocess")]
        Some(Wallets::Spawned(supervisor)) => {
            let supervisor = Arc::downgrade(supervisor);
            Arc::new(move || {
                supervisor
                    .upgrade()
                    .map(|supervisor| supervisor.wallets())
                    .unwrap_or_default()
            })
        }
    }
}

impl Wallets {
    fn stop(self) {
        match self {
            Wallets::InProcess(context) => context.stop(),
            #[cfg(feature = "multiprocess")]
            Wallets::Spawned(supervisor) => supervisor.stop(),
        }
    }
}

/// Starts the wallets: `-walletdir` (default `<datadir>/<chain>/wallets`),
/// the wallet RPCs, and the wallets `-wallet` and settings.json name.
/// `None` with `-disablewallet`.
fn start_wallets(
    args: &Args,
    network_dir: &Path,
    node: &Arc<Node>,
    network: bitcoin::Network,
    executable: Executable,
) -> Result<Option<Wallets>, Fatal> {
    if args.get_bool("disablewallet", false) {
        node.log("Wallet disabled!".into());
        return Ok(None);
    }
    let wallet_dir = match args.get_path("walletdir") {
        Some(dir) => {
            let dir = common::datadir::resolve_in(&std::env::current_dir()?, &dir);
            if !dir.is_dir() {
                return Err(Fatal(format!(
                    "Specified -walletdir \"{}\" does not exist",
                    dir.display()
                )));
            }
            dir
        }
        None => {
            let dir = network_dir.join("wallets");
            std::fs::create_dir_all(&dir)?;
            dir
        }
    };
    let fallback_fee = match args.get("fallbackfee") {
        None => None,
        Some(text) => {
            let sats = interfaces::rpc::amount::parse(&serde_json::Value::String(text.clone()))
                .map_err(|_| {
                    Fatal(format!(
                        "Invalid amount for -fallbackfee=<amount>: '{text}'"
                    ))
                })?;
            Some(sats)
        }
    };
    node.log(format!("Using wallet directory {}", wallet_dir.display()));
    let names = args.get_all("wallet");
    match executable {
        Executable::Monolithic => {
            let chain: Arc<dyn interfaces::Chain> = node::LocalChain::new(node.clone());
            let context =
                wallet::manager::WalletContext::new(chain, wallet_dir, network, fallback_fee);
            context.register_rpcs();
            context.load_at_startup(&names).map_err(Fatal)?;
            Ok(Some(Wallets::InProcess(context)))
        }
        #[cfg(feature = "multiprocess")]
        Executable::Multiprocess => {
            let shared = shared_args(&wallet_dir, node, fallback_fee);
            let exe_dir = std::env::current_exe()?
                .parent()
                .map(Path::to_path_buf)
                .ok_or_else(|| Fatal("cannot find this executable's directory".into()))?;
            // -debug=ipc (and -loglevel=ipc:trace): the node/wallet traffic
            // in libmultiprocess's format, in this node's log.
            let logger = node.logger.clone();
            let level = if logger.will_log(
                common::logging::LogCategory::Ipc,
                common::logging::LogLevel::Trace,
            ) {
                Some(ipc::log::Level::Trace)
            } else if logger.will_log(
                common::logging::LogCategory::Ipc,
                common::logging::LogLevel::Debug,
            ) {
                Some(ipc::log::Level::Debug)
            } else {
                None
            };
            if let Some(level) = level {
                ipc::log::init(
                    "c1pzo-node",
                    level,
                    Arc::new(move |_, line| {
                        logger.debug(common::logging::LogCategory::Ipc, format_args!("{line}"))
                    }),
                );
            }
            let supervisor = crate::wallet_process::Supervisor::new(node.clone(), &exe_dir, shared);
            if let Err(error) = supervisor.start(&names) {
                supervisor.stop();
                return Err(Fatal(error));
            }
            Ok(Some(Wallets::Spawned(supervisor)))
        }
        #[cfg(not(feature = "multiprocess"))]
        Executable::Multiprocess => Err(Fatal(
            "this build has no multiprocess support (build with --features multiprocess)".into(),
        )),
    }
}

/// What a wallet process asks the node for (`Chain::get_args`): the
/// wallet directory, the chain, the fallback fee rate (sat/kvB).
#[cfg(feature = "multiprocess")]
fn shared_args(
    wallet_dir: &Path,
    node: &Node,
    fallback_fee: Option<u64>,
) -> std::collections::HashMap<String, Vec<String>> {
    let mut shared = std::collections::HashMap::new();
    shared.insert(
        "walletdir".to_string(),
        vec![wallet_dir.display().to_string()],
    );
    shared.insert("chain".to_string(), vec![node.chain_name.clone()]);
    if let Some(fee) = fallback_fee {
        shared.insert("fallbackfee".to_string(), vec![fee.to_string()]);
    }
    shared
}

/// `-ipcbind`: serves `Init` (Echo, this node's `Chain`, `Mining`, `Rpc`,
/// and `Node` with its wallets) to other processes on each address until
/// shutdown, on a thread of its own.
#[cfg(feature = "multiprocess")]
fn serve_ipc(
    args: &Args,
    network_dir: &Path,
    node: &Arc<Node>,
    wallets: node::local_node::WalletSource,
) -> Result<Option<std::thread::JoinHandle<()>>, Fatal> {
    let binds = args.get_all("ipcbind");
    if binds.is_empty() {
        return Ok(None);
    }
    let mut listeners = Vec::new();
    for value in &binds {
        let bound = ipc::listen::parse_address(value, network_dir)
            .and_then(|address| ipc::listen::bind(&address, network_dir, false))
            .map_err(|e| Fatal(format!("Unable to bind to IPC address '{value}'. {e}")))?;
        let address = bound.local_address()?;
        node.log(format!("Listening for IPC requests on address {address}"));
        listeners.push(bound);
    }
    let wallet_dir = args
        .get_path("walletdir")
        .map(|dir| common::datadir::resolve_in(&std::env::current_dir().unwrap_or_default(), &dir))
        .unwrap_or_else(|| network_dir.join("wallets"));
    let fallback_fee = args
        .get("fallbackfee")
        .and_then(|text| interfaces::rpc::amount::parse(&serde_json::Value::String(text)).ok());
    let chain =
        node::LocalChain::with_args(node.clone(), shared_args(&wallet_dir, node, fallback_fee));
    let for_rpc = node.clone();
    let services = ipc::serve::Services {
        chain: Some(chain),
        wallet_loader: None,
        mining: Some(node::miner::NodeMining::new(node.clone())),
        node: Some(node::LocalNode::new(node.clone(), wallets)),
        rpc: Some(Arc::new(move |body: &str, uri: &str, _user: &str| {
            node::rpc::http::execute(&for_rpc, uri, body.as_bytes()).1
        })),
    };
    let stopping = node.clone();
    let thread = std::thread::Builder::new()
        .name("c1pzo-ipcbind".into())
        .spawn(move || {
            let stop = async move { stopping.shutdown_requested_async().await };
            if let Err(error) = ipc::serve::listen_blocking_with(
                listeners,
                ipc::serve::init_bootstrap_with(services),
                stop,
            ) {
                if let Some(logger) = common::logging::global() {
                    logger.error(format_args!("IPC listener stopped: {error}"));
                }
            }
        })?;
    Ok(Some(thread))
}

/// Removes the files that exist only while the node runs.
/// Startup failed after the RPC server began: it stops, the wallets
/// started so far close, and the cookie and pid file go.
fn give_up(
    rpc: &RpcState,
    wallets: Option<Wallets>,
    cookie: &Option<PathBuf>,
    pid_file: &Option<PathBuf>,
) {
    rpc.request_stop();
    if let Some(wallets) = wallets {
        wallets.stop();
    }
    cleanup(cookie, pid_file);
}

fn cleanup(cookie: &Option<PathBuf>, pid_file: &Option<PathBuf>) {
    for path in [cookie, pid_file].into_iter().flatten() {
        let _ = std::fs::remove_file(path);
    }
}

/// The chainstate's rules from the chain's parameters.
fn consensus(params: &ChainParams) -> chain::Consensus {
    let c = &params.consensus;
    chain::Consensus {
        subsidy_halving_interval: c.subsidy_halving_interval,
        pow_limit: c.pow_limit,
        pow_no_retargeting: c.pow_no_retargeting,
        pow_target_spacing: c.pow_target_spacing as u32,
        pow_target_timespan: c.pow_target_timespan as u32,
        bip34_height: c.bip34_height,
        bip66_height: c.bip66_height,
        bip65_height: c.bip65_height,
        segwit_height: c.segwit_height,
        coinbase_maturity: c.coinbase_maturity,
    }
}

fn resolve(dir: &Path, path: &Path) -> PathBuf {
    common::datadir::resolve_in(dir, path)
}

/// `<datadir>/.lock`, held for the life of the process so two nodes never
/// share a data directory.
fn lock_datadir(base: &Path) -> Result<std::fs::File, Fatal> {
    let path = base.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    // flock on unix, LockFileEx on Windows: released when the process
    // ends, however it ends.
    if file.try_lock().is_err() {
        return Err(Fatal(format!(
            "Cannot obtain a lock on directory {}. c1pzo is probably already running.",
            base.display()
        )));
    }
    Ok(file)
}
