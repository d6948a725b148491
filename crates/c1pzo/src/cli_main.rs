//! `c1pzo-cli`: bitcoin-cli's options, config reading and credentials,
//! then one call (or `-getinfo`'s few) printed as bitcoin-cli prints it.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use common::args::{
    help_message, node_options, Args, Category, OptionSpec, UnknownKeys, DEFAULT_RPC_COOKIE_FILE,
};
use common::chainparams::{ChainParams, ChainType};
use serde_json::{json, Value};

/// Options shared with the node that the client reads too.
const SHARED: &[&str] = &[
    "help",
    "h",
    "?",
    "help-debug",
    "version",
    "conf",
    "datadir",
    "includeconf",
    "chain",
    "regtest",
    "testnet",
    "testnet4",
    "signet",
    "rpcport",
    "rpcuser",
    "rpcpassword",
    "rpccookiefile",
];

const CLIENT_ONLY: &[OptionSpec] = &[
    OptionSpec::value(
        "rpcconnect",
        "<ip>",
        Category::Rpc,
        "Send commands to node running on <ip> (default: 127.0.0.1).",
    ),
    OptionSpec::value(
        "rpcwallet",
        "<walletname>",
        Category::Rpc,
        "Send RPC for non-default wallet on RPC server (/wallet/<walletname>).",
    ),
    OptionSpec::flag(
        "named",
        Category::Rpc,
        "Pass named instead of positional arguments.",
    ),
    OptionSpec::flag(
        "stdin",
        Category::Rpc,
        "Read extra arguments from standard input, one per line.",
    ),
    OptionSpec::flag(
        "stdinrpcpass",
        Category::Rpc,
        "Read the RPC password from the first line of standard input.",
    ),
    OptionSpec::flag(
        "rpcwait",
        Category::Rpc,
        "Wait for the RPC server to start.",
    ),
    OptionSpec::value(
        "rpcwaittimeout",
        "<n>",
        Category::Rpc,
        "Timeout in seconds to wait for the RPC server to start, or 0 for no timeout.",
    ),
    OptionSpec::value(
        "rpcclienttimeout",
        "<n>",
        Category::Rpc,
        "Timeout in seconds during HTTP requests, or 0 for no timeout.",
    ),
    OptionSpec::flag(
        "getinfo",
        Category::CliCommands,
        "Get general information from the remote server.",
    ),
];

fn options() -> Vec<OptionSpec> {
    common::args::select_options(&node_options(), SHARED, CLIENT_ONLY)
}

/// A failure printed on stderr with the exit code to use.
struct Failure {
    message: String,
    code: u8,
}

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 1,
    }
}

pub fn main(argv: &[String]) -> ExitCode {
    match run(argv) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(argv: &[String]) -> Result<ExitCode, Failure> {
    let options = options();
    let mut args = Args::from_command_line(&options, argv.iter().cloned())
        .map_err(|e| fail(format!("Error parsing command line arguments: {e}")))?;
    if args.help_requested() || args.is_set("version") {
        let mut text = format!("c1pzo RPC client version {}\n", crate::VERSION);
        if !args.is_set("version") {
            text += "\nUsage:  c1pzo-cli [options] <command> [params]  Send command to c1pzo\n\n";
            text += &help_message(&options, args.is_set("help-debug"));
        }
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let base = common::datadir::base_datadir(&args).map_err(|e| fail(format!("Error: {e}")))?;
    args.read_config_files(&base, UnknownKeys::Ignore)
        .map_err(|e| fail(format!("Error reading configuration file: {e}")))?;
    let chain = ChainType::from_args(&args).map_err(|e| fail(format!("Error: {e}")))?;
    args.select_network(chain);
    let params = ChainParams::for_chain(chain);
    let network_dir = common::datadir::network_dir(&base, chain);

    let mut words: Vec<String> = args.positional().to_vec();
    let mut stdin_lines = std::io::stdin().lock().lines();
    let mut password = args.get("rpcpassword");
    if args.get_bool("stdinrpcpass", false) {
        password = Some(stdin_lines.next().and_then(Result::ok).unwrap_or_default());
    }
    if args.get_bool("stdin", false) {
        words.extend(stdin_lines.map_while(Result::ok));
    }

    let (user, password) = match password.filter(|p| !p.is_empty()) {
        Some(password) => (args.get("rpcuser").unwrap_or_default(), password),
        None => {
            let cookie_file = args
                .get_path("rpccookiefile")
                .unwrap_or_else(|| PathBuf::from(DEFAULT_RPC_COOKIE_FILE));
            let path = common::datadir::resolve_in(&network_dir, &cookie_file);
            // With -rpcwait the node may not have written its cookie yet.
            let waiting = args.get_bool("rpcwait", false);
            let limit = match args.get_int("rpcwaittimeout", 0) {
                n if n > 0 => Some(Duration::from_secs(n as u64)),
                _ => None,
            };
            let started = std::time::Instant::now();
            let cookie = loop {
                match std::fs::read_to_string(&path) {
                    Ok(cookie) => break cookie,
                    Err(_) if waiting && limit.is_none_or(|l| started.elapsed() < l) => {
                        std::thread::sleep(Duration::from_millis(250));
                    }
                    Err(_) => return Err(fail(format!(
                        "error: Could not locate RPC credentials. No authentication cookie could be found, and RPC password is not set.  See -rpcpassword and -stdinrpcpass.  Configuration file: ({})",
                        args.config_path().map(|p| p.display().to_string()).unwrap_or_default()
                    ))),
                }
            };
            let (user, password) = cookie.trim().split_once(':').unwrap_or(("", ""));
            (user.to_string(), password.to_string())
        }
    };
    let (host, port) = endpoint(&args, params.default_rpc_port);
    let target = cli::client::Target {
        host,
        port,
        user,
        password,
        wallet: args.get("rpcwallet"),
    };
    let wait = args.get_bool("rpcwait", false);
    let wait_timeout = match args.get_int("rpcwaittimeout", 0) {
        n if n > 0 => Some(Duration::from_secs(n as u64)),
        _ => None,
    };
    let call = |method: &str, params: Value| {
        cli::client::call(&target, method, params, wait, wait_timeout)
            .map_err(|e| fail(format!("error: {e}")))
    };

    if args.get_bool("getinfo", false) {
        return getinfo(&call);
    }
    let Some((method, rest)) = words.split_first() else {
        return Err(fail("error: too few parameters (need at least command)"));
    };
    let params = if args.get_bool("named", false) {
        cli::convert::named(method, rest)
    } else {
        cli::convert::positional(method, rest)
    }
    .map_err(|e| fail(format!("error: {e}")))?;
    let reply = call(method, params)?;
    let printed = cli::output::reply(&reply);
    print!("{}", printed.stdout);
    eprint!("{}", printed.stderr);
    Ok(ExitCode::from((printed.exit_code & 0xff) as u8))
}

/// `-rpcconnect` (which may carry a port) and `-rpcport`.
fn endpoint(args: &Args, default_port: u16) -> (String, u16) {
    let connect = args.get("rpcconnect").unwrap_or_else(|| "127.0.0.1".into());
    let (host, mut port) = match connect.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            (host.to_string(), port.parse().unwrap_or(default_port))
        }
        _ => (connect.clone(), default_port),
    };
    if args.is_set("rpcport") {
        port =
            u16::try_from(args.get_int("rpcport", i64::from(default_port))).unwrap_or(default_port);
    }
    (host, port)
}

/// `-getinfo`: a human summary from getblockchaininfo and getnetworkinfo.
fn getinfo(call: &dyn Fn(&str, Value) -> Result<Value, Failure>) -> Result<ExitCode, Failure> {
    let chain = call("getblockchaininfo", json!([]))?;
    let network = call("getnetworkinfo", json!([]))?;
    for reply in [&chain, &network] {
        if !reply["error"].is_null() {
            let printed = cli::output::reply(reply);
            eprint!("{}", printed.stderr);
            return Ok(ExitCode::from((printed.exit_code & 0xff) as u8));
        }
    }
    let (chain, network) = (&chain["result"], &network["result"]);
    println!("Chain: {}", chain["chain"].as_str().unwrap_or_default());
    println!("Blocks: {}", chain["blocks"]);
    println!("Headers: {}", chain["headers"]);
    println!(
        "Verification progress: {:.4}%",
        chain["verificationprogress"].as_f64().unwrap_or(0.0) * 100.0
    );
    println!("Difficulty: {}", chain["difficulty"]);
    println!();
    println!(
        "Network: in {}, out {}, total {}",
        network["connections_in"], network["connections_out"], network["connections"]
    );
    println!("Version: {}", network["version"]);
    println!("Time offset (s): {}", network["timeoffset"]);
    println!("Proxies: n/a");
    println!("Min tx relay fee rate (BTC/kvB): {}", network["relayfee"]);
    println!();
    println!("Warnings: (none)");
    Ok(ExitCode::SUCCESS)
}
