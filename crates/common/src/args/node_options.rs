//! The option lists the c1pzo executables accept. Each executable passes the
//! lists it wants to [`crate::args::Args`]; `c1pzod` takes
//! [`node_options`], a multiprocess build adds [`ipc_options`].
//!
//! Names, value hints, categories and parsing flags follow Bitcoin Core so
//! that existing scripts and config files keep working; the help texts are
//! our own.

use super::spec::{Category, OptionSpec};

use Category::{Chain, Connection, Debug, Ipc, NodeRelay, Options, Rpc, Wallet};

/// The file name of the config file, relative to the data directory.
pub const DEFAULT_CONFIG_FILE: &str = "c1pzo.conf";
/// The file name of the pid file, relative to the network data directory.
pub const DEFAULT_PID_FILE: &str = "c1pzod.pid";
/// The file name of the log file, relative to the network data directory.
pub const DEFAULT_DEBUG_LOG_FILE: &str = "debug.log";
/// The file name of the RPC cookie, relative to the network data directory.
pub const DEFAULT_RPC_COOKIE_FILE: &str = ".cookie";

/// `-help`, `-h`, `-?`, `-help-debug` and `-version`: every executable takes
/// these.
pub const HELP_OPTIONS: &[OptionSpec] = &[
    OptionSpec::flag(
        "help",
        Options,
        "Show this help text and exit (-h and -? do the same).",
    ),
    OptionSpec::hidden("h"),
    OptionSpec::hidden("?"),
    OptionSpec::flag(
        "help-debug",
        Debug,
        "Show this help text including the debugging options, then exit.",
    ),
    OptionSpec::flag("version", Options, "Show the version and exit."),
];

/// Options about files, directories and the process itself.
const GENERAL_OPTIONS: &[OptionSpec] = &[
    OptionSpec::path(
        "conf",
        "<file>",
        Options,
        "Read options from <file> instead of c1pzo.conf. A relative path is taken from the data \
         directory. Command line only.",
    ),
    OptionSpec::path("datadir", "<dir>", Options, "Keep all data under <dir>.").disallow_negation(),
    OptionSpec::path(
        "includeconf",
        "<file>",
        Options,
        "Also read options from <file>, relative to the data directory. Config file only; \
         may be repeated.",
    ),
    OptionSpec::flag(
        "daemon",
        Options,
        "Detach and run in the background (default: 0).",
    ),
    OptionSpec::path(
        "pid",
        "<file>",
        Options,
        "Write the process id to <file>; a relative path is taken from the network data \
         directory (default: c1pzod.pid).",
    ),
    OptionSpec::flag(
        "txindex",
        Options,
        "Keep an index of every transaction, for getrawtransaction (default: 0).",
    ),
];

/// Chain selection.
const CHAIN_OPTIONS: &[OptionSpec] = &[
    OptionSpec::value(
        "chain",
        "<chain>",
        Chain,
        "Run on <chain>: main, test, testnet4, signet or regtest.",
    ),
    OptionSpec::flag(
        "regtest",
        Chain,
        "Run on the local regression-test chain (-chain=regtest).",
    )
    .debug_only(),
    OptionSpec::flag("testnet", Chain, "Run on testnet3 (-chain=test)."),
    OptionSpec::flag("testnet4", Chain, "Run on testnet4 (-chain=testnet4)."),
    OptionSpec::flag(
        "signet",
        Chain,
        "Run on the default signet (-chain=signet).",
    ),
];

/// Logging.
const LOGGING_OPTIONS: &[OptionSpec] = &[
    OptionSpec::value(
        "debug",
        "<category>",
        Debug,
        "Log debug and trace messages for <category>; without a category, or with 1 or all, for \
         every category; 0 or none drops the categories given before it. May be repeated. \
         Categories: addrman, bench, blockstorage, cmpctblock, coindb, estimatefee, http, i2p, \
         ipc, leveldb, libevent, lock, mempool, mempoolrej, net, prune, proxy, qt, rand, \
         reindex, rpc, scan, selectcoins, tor, txpackages, txreconciliation, validation, \
         walletdb, zmq.",
    ),
    OptionSpec::value(
        "debugexclude",
        "<category>",
        Debug,
        "Leave <category> out of debug logging, even when -debug names it. May be repeated.",
    ),
    OptionSpec::path(
        "debuglogfile",
        "<file>",
        Debug,
        "Write the log to <file>; a relative path is taken from the network data directory \
         (default: debug.log). -nodebuglogfile writes no log file.",
    ),
    OptionSpec::value(
        "loglevel",
        "<level>|<category>:<level>",
        Debug,
        "Lowest severity written for the enabled debug categories, for all of them or for one: \
         info, debug or trace (default: debug). Info, warnings and errors are always written. \
         May be repeated.",
    )
    .disallow_negation()
    .disallow_elision()
    .debug_only(),
    OptionSpec::flag(
        "logtimestamps",
        Debug,
        "Start each log line with the time (default: 1).",
    ),
    OptionSpec::flag(
        "logtimemicros",
        Debug,
        "Give log times to the microsecond (default: 0).",
    )
    .debug_only(),
    OptionSpec::flag(
        "logthreadnames",
        Debug,
        "Start each log line with the name of its thread (default: 0).",
    ),
    OptionSpec::flag(
        "logsourcelocations",
        Debug,
        "Start each log line with the source file, line and function that wrote it (default: 0).",
    ),
    OptionSpec::flag(
        "loglevelalways",
        Debug,
        "Show category and severity on every log line (default: 0).",
    ),
    OptionSpec::flag(
        "printtoconsole",
        Debug,
        "Also write the log to standard output (default: 1 unless -daemon).",
    ),
    OptionSpec::flag(
        "shrinkdebugfile",
        Debug,
        "Cut debug.log down to its most recent part at startup when it has grown large \
         (default: 1 unless -debug).",
    ),
];

/// Peer-to-peer networking.
const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::value(
        "addnode",
        "<ip>",
        Connection,
        "Connect to this peer and keep the connection open. May be repeated.",
    )
    .network_only(),
    OptionSpec::value(
        "bind",
        "<addr>[:<port>][=onion]",
        Connection,
        "Listen for peers on this address (IPv6 as [host]:port). May be repeated.",
    )
    .network_only(),
    OptionSpec::value(
        "connect",
        "<ip>",
        Connection,
        "Connect to this peer only; -noconnect makes no automatic connections. May be repeated.",
    )
    .network_only(),
    OptionSpec::flag(
        "listen",
        Connection,
        "Accept incoming peer connections (default: 1 unless -connect or -proxy).",
    ),
    OptionSpec::value(
        "maxconnections",
        "<n>",
        Connection,
        "Maintain at most <n> connections to peers (default: 125).",
    ),
    OptionSpec::value(
        "peertimeout",
        "<n>",
        Connection,
        "Specify a p2p connection timeout delay in seconds. After connecting to a peer, wait this \
         amount of time before considering disconnection based on inactivity (minimum: 1, \
         default: 60).",
    )
    .debug_only(),
    OptionSpec::value(
        "port",
        "<port>",
        Connection,
        "Listen for peers on <port> (default: 8333, testnet3: 18333, testnet4: 48333, \
         signet: 38333, regtest: 18444).",
    )
    .network_only(),
];

/// Relay policy.
const RELAY_OPTIONS: &[OptionSpec] = &[OptionSpec::flag(
    "acceptnonstdtxn",
    NodeRelay,
    "Relay and mine non-standard transactions (test chains only; default: 0).",
)
.debug_only()];

/// The JSON-RPC server.
const RPC_OPTIONS: &[OptionSpec] = &[
    OptionSpec::value(
        "rpcallowip",
        "<ip>",
        Rpc,
        "Accept JSON-RPC clients from this address, address/netmask or address/CIDR. \
         May be repeated.",
    ),
    OptionSpec::value(
        "rpcauth",
        "<userpw>",
        Rpc,
        "Accept the user given as <USERNAME>:<SALT>$<HASH>, the hash being HMAC-SHA-256 of the \
         password. May be repeated.",
    )
    .sensitive(),
    OptionSpec::value(
        "rpcbind",
        "<addr>[:port]",
        Rpc,
        "Listen for JSON-RPC on this address; ignored without -rpcallowip. May be repeated \
         (default: 127.0.0.1 and ::1).",
    )
    .network_only(),
    OptionSpec::path(
        "rpccookiefile",
        "<loc>",
        Rpc,
        "Where to write the RPC auth cookie; a relative path is taken from the network data \
         directory (default: .cookie).",
    ),
    OptionSpec::value("rpcpassword", "<pw>", Rpc, "Password for JSON-RPC clients.").sensitive(),
    OptionSpec::value(
        "rpcport",
        "<port>",
        Rpc,
        "Listen for JSON-RPC on <port> (default: 8332, testnet3: 18332, testnet4: 48332, \
         signet: 38332, regtest: 18443).",
    )
    .network_only(),
    OptionSpec::value(
        "rpcthreads",
        "<n>",
        Rpc,
        "Number of threads serving RPC calls.",
    ),
    OptionSpec::value("rpcuser", "<user>", Rpc, "User name for JSON-RPC clients.").sensitive(),
    OptionSpec::flag("server", Rpc, "Accept JSON-RPC commands."),
];

/// The wallet.
const WALLET_OPTIONS: &[OptionSpec] = &[
    OptionSpec::flag(
        "disablewallet",
        Wallet,
        "Load no wallet and turn the wallet RPCs off.",
    ),
    OptionSpec::value(
        "fallbackfee",
        "<amt>",
        Wallet,
        "Fee rate (BTC/kvB) used when fee estimation has too little data; 0 turns the fallback \
         off.",
    ),
    OptionSpec::path(
        "wallet",
        "<path>",
        Wallet,
        "Load this existing wallet at startup; a relative path is taken from -walletdir. \
         May be repeated.",
    )
    .network_only(),
    OptionSpec::path(
        "walletdir",
        "<dir>",
        Wallet,
        "Directory holding the wallets (default: <datadir>/wallets if it exists, otherwise \
         <datadir>).",
    )
    .network_only(),
];

/// Multiprocess options. Only executables that talk IPC list these.
pub const IPC_OPTIONS: &[OptionSpec] = &[
    OptionSpec::value(
        "ipcbind",
        "<address>",
        Ipc,
        "Listen for IPC clients on a Unix socket: unix for <datadir>/node.sock, or \
         unix:<path>. May be repeated.",
    ),
    OptionSpec::value(
        "ipcconnect",
        "<address>",
        Ipc,
        "Connect to a running node over IPC: unix for the default socket, or unix:<path>; \
         -noipcconnect does not try.",
    ),
    OptionSpec::value(
        "ipcfd",
        "<fd>",
        Ipc,
        "Internal: talk IPC over file descriptor <fd>, set by the spawning process.",
    )
    .debug_only(),
];

/// What `c1pzo-qt` and `c1pzo-gui` add, as Core's GUI does.
pub const GUI_OPTIONS: &[OptionSpec] = &[
    OptionSpec::flag(
        "choosedatadir",
        Category::Gui,
        "Choose data directory on startup (default: 0)",
    ),
    OptionSpec::value(
        "lang",
        "<lang>",
        Category::Gui,
        "Set language, for example \"de_DE\" (default: system locale). The c1pzo GUI is in \
         English only; the option is accepted for compatibility.",
    ),
    OptionSpec::flag("min", Category::Gui, "Start minimized"),
    OptionSpec::flag(
        "resetguisettings",
        Category::Gui,
        "Reset all settings changed in the GUI",
    ),
    OptionSpec::flag(
        "splash",
        Category::Gui,
        "Show splash screen on startup (default: 1)",
    ),
    OptionSpec::value(
        "uiplatform",
        "<platform>",
        Category::Gui,
        "Select platform to customize UI for (one of windows, macosx, other; default: platform \
         compiled on)",
    )
    .debug_only(),
];

/// Every option `c1pzod` accepts (without the multiprocess ones).
pub fn node_options() -> Vec<OptionSpec> {
    [
        HELP_OPTIONS,
        GENERAL_OPTIONS,
        CHAIN_OPTIONS,
        LOGGING_OPTIONS,
        CONNECTION_OPTIONS,
        RELAY_OPTIONS,
        RPC_OPTIONS,
        WALLET_OPTIONS,
    ]
    .concat()
}

/// Options for another executable: the node's options named in `shared`
/// (with the node's help) followed by `own`.
pub fn select_options(from: &[OptionSpec], shared: &[&str], own: &[OptionSpec]) -> Vec<OptionSpec> {
    let mut options: Vec<OptionSpec> = from
        .iter()
        .filter(|o| shared.contains(&o.name))
        .cloned()
        .collect();
    options.extend_from_slice(own);
    options
}

/// The multiprocess options, for executables that speak IPC.
pub fn ipc_options() -> Vec<OptionSpec> {
    IPC_OPTIONS.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_dashless() {
        let mut seen = BTreeSet::new();
        for spec in node_options().iter().chain(IPC_OPTIONS) {
            assert!(!spec.name.starts_with('-'), "{}", spec.name);
            assert!(seen.insert(spec.name), "duplicate option {}", spec.name);
        }
    }

    #[test]
    fn the_briefed_options_are_present() {
        let names: BTreeSet<_> = node_options().iter().map(|s| s.name).collect();
        for wanted in [
            "?",
            "h",
            "help",
            "version",
            "conf",
            "datadir",
            "regtest",
            "testnet",
            "testnet4",
            "signet",
            "chain",
            "printtoconsole",
            "debug",
            "debugexclude",
            "loglevel",
            "logtimestamps",
            "daemon",
            "pid",
            "server",
            "rpcbind",
            "rpcport",
            "rpcallowip",
            "rpcuser",
            "rpcpassword",
            "rpcauth",
            "rpccookiefile",
            "rpcthreads",
            "port",
            "bind",
            "listen",
            "connect",
            "addnode",
            "txindex",
            "acceptnonstdtxn",
            "fallbackfee",
            "includeconf",
            "shrinkdebugfile",
            "disablewallet",
            "wallet",
            "walletdir",
        ] {
            assert!(names.contains(wanted), "missing -{wanted}");
        }
        assert!(!names.contains("ipcbind"), "IPC options are opt-in");
    }

    #[test]
    fn network_only_set_matches_core() {
        let network_only: BTreeSet<_> = node_options()
            .iter()
            .filter(|s| s.network_only)
            .map(|s| s.name)
            .collect();
        let expected: BTreeSet<_> = [
            "addnode",
            "bind",
            "connect",
            "port",
            "rpcbind",
            "rpcport",
            "wallet",
            "walletdir",
        ]
        .into_iter()
        .collect();
        assert_eq!(network_only, expected);
    }

    #[test]
    fn debug_help_lists_every_log_category() {
        let debug = node_options()
            .into_iter()
            .find(|s| s.name == "debug")
            .unwrap();
        for category in crate::logging::LogCategory::ALL {
            assert!(debug.help.contains(category.name()), "{}", category.name());
        }
    }
}
