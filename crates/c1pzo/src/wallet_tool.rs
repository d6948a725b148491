//! `c1pzo-wallet`: Bitcoin Core's `bitcoin-wallet`, an offline tool that
//! creates, describes and dumps wallet files while no node runs.
//!
//! Its options and messages are `bitcoin-wallet`'s, with two differences
//! that follow from the wallet itself: only descriptor wallets exist (so
//! `-legacy` and `-descriptors=0` are refused), and the file is redb, so
//! `dump` writes our own record format (see [`dump_text`]). Like Core's
//! tool it reads no config file: the chain and data directory come from
//! the command line alone.
//!
//! The wallet is opened through [`wallet::offline::OfflineChain`], which
//! plays a chain holding only the genesis block.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::hex::DisplayHex;
use common::args::{help_message, node_options, Args, Category, OptionSpec};
use common::chainparams::{ChainParams, ChainType};
use common::logging::{CategorySet, LogOptions, Logger};
use wallet::offline::{self, OfflineChain, OfflineError};
use wallet::store::FILE_NAME;
use wallet::{CreateOptions, Wallet};

/// The first line of a dump: format name and version.
pub const DUMP_MAGIC: &str = "C1PZO_WALLET_DUMP";
pub const DUMP_VERSION: u32 = 1;

/// The commands, with the help text `-help` lists for each.
const COMMANDS: &[(&str, &str)] = &[
    (
        "create",
        "Make a new descriptor wallet file named by -wallet.",
    ),
    (
        "dump",
        "Write every record of the wallet file to the file named by -dumpfile.",
    ),
    ("info", "Show what the wallet file holds."),
];

/// Options the node defines that mean the same here.
const SHARED: &[&str] = &[
    "help",
    "h",
    "?",
    "help-debug",
    "version",
    "datadir",
    "chain",
    "regtest",
    "testnet",
    "testnet4",
    "signet",
];

/// Options of the tool alone (or whose help differs from the node's).
const TOOL_ONLY: &[OptionSpec] = &[
    OptionSpec::path(
        "wallet",
        "<wallet-name>",
        Category::Options,
        "The wallet to act on: a directory below -walletdir holding wallet.redb, or a path.",
    )
    .network_only(),
    OptionSpec::path(
        "walletdir",
        "<dir>",
        Category::Options,
        "Directory holding the wallets (default: <datadir>/<chain>/wallets, where the node \
         looks for them).",
    )
    .network_only(),
    OptionSpec::path(
        "dumpfile",
        "<file>",
        Category::Options,
        "With dump: the new file to write the wallet's records to.",
    )
    .disallow_negation(),
    OptionSpec::flag(
        "descriptors",
        Category::Options,
        "Make a descriptor wallet; the only kind there is (default: 1). Only for create.",
    ),
    OptionSpec::flag(
        "legacy",
        Category::Options,
        "Make a legacy wallet: refused, as c1pzo has none. Only for create.",
    ),
    OptionSpec::value(
        "debug",
        "<category>",
        Category::Debug,
        "Show debugging output (default: 0).",
    ),
    OptionSpec::flag(
        "printtoconsole",
        Category::Debug,
        "Write log messages to standard output (default: 1 with -debug, otherwise 0).",
    ),
];

fn options() -> Vec<OptionSpec> {
    common::args::select_options(&node_options(), SHARED, TOOL_ONLY)
}

/// A failure: the lines for stderr. Every one exits with 1, as Core's.
struct Failure(String);

/// A failure printed as `Error: <message>`.
fn fail(message: impl std::fmt::Display) -> Failure {
    Failure(format!("Error: {message}"))
}

pub fn main(argv: &[String]) -> ExitCode {
    match run(argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn usage(options: &[OptionSpec], debug: bool) -> String {
    let mut text = format!("c1pzo wallet tool version {}\n\n", crate::VERSION);
    text += "c1pzo-wallet works on c1pzo wallet files while no node runs.\n";
    text += "It acts on the wallets of the regtest wallet directory in the data directory;\n";
    text += "choose the wallet with -datadir, -walletdir and -wallet.\n\n";
    text += "Usage:\n  c1pzo-wallet [options] <command>\n\n";
    text += &help_message(options, debug);
    text += "Commands:\n\n";
    for (name, help) in COMMANDS {
        text += &format!("  {name}\n       {help}\n\n");
    }
    text
}

fn run(argv: &[String]) -> Result<(), Failure> {
    let options = options();
    let args = Args::from_command_line(&options, argv.iter().cloned())
        .map_err(|e| Failure(format!("Error parsing command line arguments: {e}")))?;
    if argv.is_empty() || args.help_requested() || args.is_set("version") {
        if args.is_set("version") {
            println!("c1pzo wallet tool version {}", crate::VERSION);
        } else {
            print!("{}", usage(&options, args.is_set("help-debug")));
        }
        if argv.is_empty() {
            return Err(fail("too few parameters"));
        }
        return Ok(());
    }

    // Everything after the first word that is not an option belongs to
    // the command, and commands take no arguments.
    let Some((command, extra)) = args.positional().split_first() else {
        return Err(fail(
            "No method provided. Run `c1pzo-wallet -help` for valid methods.",
        ));
    };
    if !COMMANDS.iter().any(|(name, _)| name == command) {
        return Err(fail(format!("Invalid command '{command}'")));
    }
    if !extra.is_empty() {
        return Err(fail(format!(
            "Additional arguments provided ({}). Methods do not take arguments. Please refer to `-help`.",
            extra.join(", ")
        )));
    }

    start_logging(&args);
    let base = common::datadir::base_datadir(&args).map_err(fail)?;
    let chain = ChainType::from_args(&args).map_err(fail)?;
    chain.ensure_supported_for_running().map_err(fail)?;
    let params = ChainParams::for_chain(chain);
    let network_dir = common::datadir::network_dir(&base, chain);

    // Options that belong to one command are refused with the others, as
    // Core does, so a misplaced one is never silently ignored.
    if args.is_set("dumpfile") && command != "dump" {
        return Err(fail(
            "The -dumpfile option can only be used with the \"dump\" command.",
        ));
    }
    for option in ["descriptors", "legacy"] {
        if args.is_set(option) && command != "create" {
            return Err(fail(format!(
                "The -{option} option can only be used with the 'create' command."
            )));
        }
    }

    let wallet_dir = wallet_dir(&args, &network_dir)?;
    let name = (!args.is_negated("wallet"))
        .then(|| args.get("wallet"))
        .flatten();
    // The default wallet `""` is the wallet directory itself.
    let path = match name.as_deref() {
        Some(name) if !name.is_empty() => wallet_dir.join(name),
        _ => wallet_dir.clone(),
    };
    let tool = Tool { path, name, params };
    log(format_args!(
        "Using wallet directory {}",
        wallet_dir.display()
    ));
    match command.as_str() {
        "create" => tool.create(&args),
        "info" => tool.info(),
        "dump" => tool.dump(&args),
        _ => unreachable!("commands were checked above"),
    }
}

/// Core's tool logs to the console only, and only when asked to.
fn start_logging(args: &Args) {
    let print_to_console = args.get_bool("printtoconsole", args.get_bool("debug", false));
    if !print_to_console {
        return;
    }
    // Unknown categories are ignored: the tool has next to nothing to log.
    let categories = args
        .get_all("debug")
        .iter()
        .filter_map(|value| CategorySet::parse(value))
        .fold(CategorySet::NONE, CategorySet::with);
    let logger = Logger::open(LogOptions {
        print_to_console,
        categories,
        ..LogOptions::default()
    })
    .unwrap_or_else(|_| Logger::disabled());
    let _ = common::logging::install_global(logger);
}

fn log(message: std::fmt::Arguments) {
    if let Some(logger) = common::logging::global() {
        logger.info(message);
    }
}

/// `-walletdir`, which must exist, or `<network dir>/wallets`, the
/// directory `c1pzod` keeps its wallets in.
fn wallet_dir(args: &Args, network_dir: &Path) -> Result<PathBuf, Failure> {
    match args.get_path("walletdir") {
        Some(dir) => {
            let dir = common::datadir::absolute(&dir);
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(fail(format!(
                    "Specified -walletdir \"{}\" does not exist",
                    dir.display()
                )))
            }
        }
        None => Ok(network_dir.join("wallets")),
    }
}

/// The wallet a command acts on.
struct Tool {
    /// `-wallet`, if given (`None` means the default wallet `""`).
    name: Option<String>,
    /// The wallet's directory: `-wallet` inside the wallet directory.
    path: PathBuf,
    params: ChainParams,
}

impl Tool {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    fn file(&self) -> PathBuf {
        self.path.join(FILE_NAME)
    }

    fn chain(&self) -> Arc<dyn interfaces::Chain> {
        OfflineChain::new(&self.params)
    }

    fn create(&self, args: &Args) -> Result<(), Failure> {
        if args.get_bool("legacy", false) || !args.get_bool("descriptors", true) {
            return Err(fail(
                "Legacy wallets are not supported; c1pzo wallets are descriptor wallets.",
            ));
        }
        if self.name.is_none() {
            return Err(fail(
                "Wallet name must be provided when creating a new wallet.",
            ));
        }
        let file = self.file();
        if file.exists() {
            return Err(fail(format!(
                "Failed to create database path '{}'. Database already exists.",
                self.path.display()
            )));
        }
        println!("Topping up keypool...");
        let created = Wallet::create(
            self.chain(),
            &self.path,
            self.name(),
            self.params.network,
            &CreateOptions::default(),
            None,
        );
        let wallet = match created {
            Ok(wallet) => wallet,
            Err(error) => {
                // Leave no half-made wallet for the node to trip over; the
                // check above proved the file is ours.
                let _ = std::fs::remove_file(&file);
                return Err(fail(error));
            }
        };
        wallet.log(format_args!("Created {}", file.display()));
        show_info(&wallet);
        Ok(())
    }

    fn info(&self) -> Result<(), Failure> {
        offline::ensure_not_in_use(&self.file()).map_err(fail)?;
        let wallet = Wallet::open(
            self.chain(),
            &self.path,
            self.name(),
            self.params.network,
            None,
        )
        .map_err(fail)?;
        show_info(&wallet);
        Ok(())
    }

    fn dump(&self, args: &Args) -> Result<(), Failure> {
        // As in Core, the wallet must exist before the dump file matters.
        if !self.file().exists() {
            return Err(fail(OfflineError::Missing(self.path.clone())));
        }
        let Some(dump_file) = args.get_path("dumpfile") else {
            return Err(fail(
                "No dump file provided. To use dump, -dumpfile=<filename> must be provided.",
            ));
        };
        let dump_file = common::datadir::absolute(&dump_file);
        let exists = || {
            fail(format!(
                "File {} already exists. If you are sure this is what you want, move it out of the way first.",
                dump_file.display()
            ))
        };
        if dump_file.exists() {
            return Err(exists());
        }
        // Read everything first, so that a failure leaves no file behind.
        let records = offline::read_records(&self.file()).map_err(fail)?;
        let text = dump_text(&records);
        // The records include private keys: readable by this user only.
        let mut out = match common::platform::create_new_private(&dump_file) {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) => {
                return Err(fail(format!(
                    "Unable to open {} for writing: {e}",
                    dump_file.display()
                )))
            }
        };
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.sync_all()) {
            drop(out);
            let _ = std::fs::remove_file(&dump_file);
            return Err(fail(format!(
                "Unable to write {}: {e}",
                dump_file.display()
            )));
        }
        println!("The dumpfile may contain private keys. To ensure the safety of your Bitcoin, do not share the dumpfile.");
        Ok(())
    }
}

/// The dump format: a `C1PZO_WALLET_DUMP,1` line, one
/// `<table>/<key>,<value as hex>` line per record (ordered by table, then
/// key), and `checksum,<hex>`, the SHA-256 of every byte before that line.
/// Values are hex, so a line's last comma always ends its key.
pub fn dump_text(records: &[offline::RawRecord]) -> String {
    let mut text = format!("{DUMP_MAGIC},{DUMP_VERSION}\n");
    for record in records {
        text += &format!(
            "{}/{},{}\n",
            record.table,
            record.key,
            record.value.to_lower_hex_string()
        );
    }
    let checksum = sha256::Hash::hash(text.as_bytes());
    text += &format!(
        "checksum,{}\n",
        checksum.to_byte_array().to_lower_hex_string()
    );
    text
}

/// `info`'s report, the fields bitcoin-wallet prints.
fn show_info(wallet: &Wallet) {
    let state = wallet.state();
    let active: Vec<_> = state
        .descriptors
        .iter()
        .filter(|d| d.record.active.is_some())
        .collect();
    // Unused scripts derived ahead on the receiving side, as getwalletinfo
    // counts its keypoolsize.
    let keypool: u64 = active
        .iter()
        .filter(|d| d.record.active.is_some_and(|(_, internal)| !internal))
        .filter_map(|d| {
            let (_, end) = d.record.range?;
            Some(u64::from(end.saturating_sub(d.record.next_index)))
        })
        .sum();
    // Core: HD when there are active descriptors and all of them derive.
    let hd = !active.is_empty() && active.iter().all(|d| d.is_ranged());
    let yes_no = |on: bool| if on { "yes" } else { "no" };
    println!("Wallet info");
    println!("===========");
    println!("Name: {}", wallet.name);
    println!("Format: redb");
    println!("Descriptors: yes");
    println!("Encrypted: {}", yes_no(state.is_encrypted()));
    println!("HD (hd seed available): {}", yes_no(hd));
    println!("Keypool Size: {keypool}");
    println!("Transactions: {}", state.txs.len());
    println!("Address Book: {}", state.addresses.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dump_checksum_covers_every_line_before_it() {
        let records = vec![offline::RawRecord {
            table: "meta",
            key: "version".into(),
            value: b"1".to_vec(),
        }];
        let text = dump_text(&records);
        let body = "C1PZO_WALLET_DUMP,1\nmeta/version,31\n";
        assert!(text.starts_with(body), "{text}");
        let checksum = sha256::Hash::hash(body.as_bytes())
            .to_byte_array()
            .to_lower_hex_string();
        assert_eq!(&text[body.len()..], format!("checksum,{checksum}\n"));
    }

    #[test]
    fn help_lists_every_command_and_fits_the_screen() {
        let text = usage(&options(), false);
        for (name, _) in COMMANDS {
            assert!(text.contains(&format!("\n  {name}\n")), "{name}");
        }
        assert!(text.contains("  -dumpfile=<file>\n"));
        assert!(text.lines().all(|line| line.len() <= 79), "{text}");
    }
}
