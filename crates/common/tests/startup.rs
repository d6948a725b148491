//! Startup as an executable runs it: data directories, `init_config`, and
//! the logger writing `debug.log`.

use std::fs;
use std::path::Path;

use common::args::{node_options, Args, ArgsError};
use common::datadir::{self, default_datadir};
use common::init::{check_section_only_args, init_config, InitError};
use common::logging::{LogCategory, LogOptions, Logger};
use common::{log_debug, log_error, log_info, log_trace, log_warning};

fn parse(arguments: &[&str]) -> Args {
    Args::from_command_line(&node_options(), arguments.iter().copied()).unwrap()
}

fn datadir_arg(dir: &Path) -> String {
    format!("-datadir={}", dir.display())
}

#[test]
fn init_config_creates_the_regtest_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = parse(&[&datadir_arg(dir.path()), "-regtest"]);
    let dirs = init_config(&mut args).unwrap();
    assert_eq!(dirs.base, dir.path());
    assert_eq!(dirs.network, dir.path().join("regtest"));
    assert!(dirs.network.join("wallets").is_dir());
    assert_eq!(args.network_section(), "regtest");
}

#[test]
fn init_config_reads_the_chain_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("c1pzo.conf"),
        "regtest=1\n[regtest]\nrpcport=1234\n",
    )
    .unwrap();
    let mut args = parse(&[&datadir_arg(dir.path())]);
    let dirs = init_config(&mut args).unwrap();
    assert_eq!(dirs.chain, common::ChainType::Regtest);
    assert_eq!(args.get("rpcport").as_deref(), Some("1234"));
}

#[test]
fn missing_datadir_is_reported_as_given() {
    let mut args = parse(&["-datadir=/nonexistent/c1pzo-dir", "-regtest"]);
    let error = init_config(&mut args).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Specified data directory \"/nonexistent/c1pzo-dir\" does not exist."
    );
}

#[test]
fn a_datadir_that_is_a_file_does_not_exist_and_one_the_system_refuses_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    for not_a_folder in [file.clone(), file.join("below")] {
        let mut args = parse(&[&datadir_arg(&not_a_folder), "-regtest"]);
        assert_eq!(
            init_config(&mut args).unwrap_err().to_string(),
            format!(
                "Specified data directory \"{}\" does not exist.",
                not_a_folder.display()
            )
        );
    }
    // A name Windows refuses (`|`), and one longer than any unix file
    // system allows: the system's reason, not "does not exist".
    let refused = if cfg!(windows) {
        dir.path().join("bad|name")
    } else {
        dir.path().join("n".repeat(300))
    };
    let mut args = parse(&[&datadir_arg(&refused), "-regtest"]);
    let error = init_config(&mut args).unwrap_err().to_string();
    let start = format!(
        "Specified data directory \"{}\" cannot be used: ",
        refused.display()
    );
    assert!(error.starts_with(&start), "{error}");
    assert!(
        error.ends_with(". Give -datadir the path of an existing folder this user can open."),
        "{error}"
    );
    assert!(!refused.exists());
}

#[test]
fn relative_datadir_is_made_absolute() {
    // Tests run in the crate directory, which has `src`.
    let args = parse(&["-datadir=src"]);
    let base = datadir::base_datadir(&args).unwrap();
    assert!(base.is_absolute());
    assert_eq!(base, std::env::current_dir().unwrap().join("src"));
}

#[test]
fn the_default_datadir_is_absolute() {
    // Which folder per platform: crates/common/src/platform's own tests.
    assert!(default_datadir().is_absolute());
}

#[test]
fn config_errors_carry_cores_prefix() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("c1pzo.conf"), "regtest=1\n\nfoo\n").unwrap();
    let mut args = parse(&[&datadir_arg(dir.path())]);
    let error = init_config(&mut args).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Error reading configuration file: parse error on line 3: foo"
    );
}

#[test]
fn missing_conf_file_carries_cores_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = parse(&[&datadir_arg(dir.path()), "-regtest", "-conf=nope.conf"]);
    let error = init_config(&mut args).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Error reading configuration file: specified config file \"{}\" could not be opened.",
            dir.path().join("nope.conf").display()
        )
    );
}

#[test]
fn chain_errors_have_no_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = parse(&[&datadir_arg(dir.path()), "-regtest", "-signet"]);
    let error = init_config(&mut args).unwrap_err();
    assert!(matches!(error, InitError::Chain(_)));
    assert_eq!(
        error.to_string(),
        "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one."
    );
    let mut args = parse(&[&datadir_arg(dir.path()), "-chain=foo"]);
    assert_eq!(
        init_config(&mut args).unwrap_err().to_string(),
        "Unknown chain foo."
    );
}

#[test]
fn chains_other_than_regtest_are_refused_before_creating_directories() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = parse(&[&datadir_arg(dir.path()), "-testnet4"]);
    let error = init_config(&mut args).unwrap_err();
    assert_eq!(
        error.to_string(),
        "c1pzo runs only on regtest for now; -chain=testnet4 is defined but not supported"
    );
    assert!(!dir.path().join("testnet4").exists());
}

#[test]
fn command_line_error_message() {
    let error = Args::from_command_line(&node_options(), ["-foo"]).unwrap_err();
    assert_eq!(
        InitError::CommandLine(error).to_string(),
        "Error parsing command line arguments: Invalid parameter -foo"
    );
    let error = ArgsError::IncludeConfOnCommandLine("\"a\"".into());
    assert_eq!(
        InitError::CommandLine(error).to_string(),
        "Error parsing command line arguments: -includeconf cannot be used from commandline; \
         -includeconf=\"a\""
    );
}

#[test]
fn section_only_options_in_top_level_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("c1pzo.conf"),
        "regtest=1\nwallet=foo\nrpcport=5\n",
    )
    .unwrap();
    let mut args = parse(&[&datadir_arg(dir.path())]);
    init_config(&mut args).unwrap();
    assert_eq!(
        check_section_only_args(&args).unwrap_err().to_string(),
        "Config setting for -rpcport only applied on regtest network when in [regtest] section.\n\
         Config setting for -wallet only applied on regtest network when in [regtest] section."
    );

    fs::write(
        dir.path().join("c1pzo.conf"),
        "regtest=1\n[regtest]\nwallet=foo\n",
    )
    .unwrap();
    let mut args = parse(&[&datadir_arg(dir.path())]);
    init_config(&mut args).unwrap();
    assert!(check_section_only_args(&args).is_ok());
}

fn open_logger(network_dir: &Path, arguments: &[&str]) -> Logger {
    let mut all = vec!["-printtoconsole=0"];
    all.extend_from_slice(arguments);
    let options = LogOptions::from_args(&parse(&all), network_dir).unwrap();
    Logger::open(options).unwrap()
}

fn log_lines(network_dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(network_dir.join("debug.log")).unwrap();
    text.lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `2026-11-25T14:00:00Z ` at the start of a line.
fn strip_timestamp(line: &str) -> &str {
    let (stamp, rest) = line.split_at(21);
    let bytes = stamp.as_bytes();
    assert!(bytes[..4].iter().all(u8::is_ascii_digit), "{line}");
    assert_eq!(
        (bytes[4], bytes[7], bytes[10], bytes[13], bytes[16]),
        (b'-', b'-', b'T', b':', b':'),
        "{line}"
    );
    assert_eq!(&stamp[19..], "Z ", "{line}");
    rest
}

#[test]
fn debug_log_lines_have_cores_format() {
    let dir = tempfile::tempdir().unwrap();
    let logger = open_logger(dir.path(), &["-debug=net"]);
    logger.info(format_args!("Bitcoin-like node starting"));
    logger.warning(format_args!("low disk"));
    logger.error(format_args!("bad block {}", 7));
    logger.debug(LogCategory::Net, format_args!("peer connected"));
    logger.debug(LogCategory::Rpc, format_args!("not enabled"));
    logger.trace(LogCategory::Net, format_args!("trace is off by default"));
    let lines = log_lines(dir.path());
    let bodies: Vec<_> = lines.iter().map(|line| strip_timestamp(line)).collect();
    assert_eq!(
        bodies,
        [
            "Bitcoin-like node starting",
            "[warning] low disk",
            "[error] bad block 7",
            "[net] peer connected"
        ]
    );
}

#[test]
fn trace_level_and_excluded_categories() {
    let dir = tempfile::tempdir().unwrap();
    let logger = open_logger(
        dir.path(),
        &[
            "-debug",
            "-debugexclude=rpc",
            "-loglevel=trace",
            "-nologtimestamps",
        ],
    );
    log_trace!(logger, LogCategory::Net, "t {}", 1);
    log_debug!(logger, LogCategory::Rpc, "excluded");
    log_debug!(logger, LogCategory::Mempool, "m");
    assert_eq!(log_lines(dir.path()), ["[net:trace] t 1", "[mempool] m"]);
}

#[test]
fn debug_macros_skip_argument_evaluation_when_off() {
    let logger = Logger::disabled();
    let mut evaluated = false;
    log_debug!(logger, LogCategory::Net, "{}", {
        evaluated = true;
        1
    });
    assert!(!evaluated);
}

#[test]
fn macros_record_source_locations_and_thread_names() {
    let dir = tempfile::tempdir().unwrap();
    let logger = open_logger(
        dir.path(),
        &["-nologtimestamps", "-logsourcelocations", "-logthreadnames"],
    );
    std::thread::Builder::new()
        .name("msghand".into())
        .spawn({
            let logger = logger.clone();
            move || log_info!(logger, "hello")
        })
        .unwrap()
        .join()
        .unwrap();
    log_warning!(logger, "w");
    log_error!(logger, "e");
    let lines = log_lines(dir.path());
    assert!(
        lines[0].starts_with("[msghand] [crates/common/tests/startup.rs:")
            || lines[0].starts_with("[msghand] [tests/startup.rs:"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("] [startup] hello"), "{}", lines[0]);
    assert!(lines[1].ends_with("[startup] [warning] w"), "{}", lines[1]);
    assert!(lines[2].ends_with("[startup] [error] e"), "{}", lines[2]);
}

#[test]
fn log_file_is_appended_with_a_run_separator() {
    let dir = tempfile::tempdir().unwrap();
    open_logger(dir.path(), &["-nologtimestamps"]).info(format_args!("first"));
    open_logger(dir.path(), &["-nologtimestamps"]).info(format_args!("second"));
    let text = fs::read_to_string(dir.path().join("debug.log")).unwrap();
    assert_eq!(text, "\n\n\n\n\nfirst\n\n\n\n\n\nsecond\n");
}

#[test]
fn mocktime_and_micros_in_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let logger = open_logger(dir.path(), &["-logtimemicros"]);
    logger.set_mocktime(1_296_688_602);
    logger.info(format_args!("m"));
    let line = &log_lines(dir.path())[0];
    assert_eq!(
        line.len(),
        "2026-11-25T14:00:00.123456Z (mocktime: 2011-02-02T23:16:42Z) m".len(),
        "{line}"
    );
    assert!(
        line.ends_with("Z (mocktime: 2011-02-02T23:16:42Z) m"),
        "{line}"
    );
}

#[test]
fn reopen_follows_a_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let logger = open_logger(dir.path(), &["-nologtimestamps"]);
    logger.info(format_args!("before"));
    fs::rename(dir.path().join("debug.log"), dir.path().join("debug.log.1")).unwrap();
    logger.reopen_file();
    logger.info(format_args!("after"));
    assert_eq!(log_lines(dir.path()), ["after"]);
}

#[test]
fn unopenable_log_file_is_reported() {
    let options = LogOptions {
        file: Some("/nonexistent/c1pzo/debug.log".into()),
        ..LogOptions::default()
    };
    let error = Logger::open(options).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Could not open debug log file /nonexistent/c1pzo/debug.log"
    );
}

#[test]
fn nodebuglogfile_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let logger = open_logger(dir.path(), &["-nodebuglogfile"]);
    logger.info(format_args!("nowhere"));
    assert!(!dir.path().join("debug.log").exists());
    assert_eq!(logger.file_path(), None);
}

#[test]
fn global_logger_can_be_installed_once() {
    assert!(common::logging::install_global(Logger::disabled()).is_ok());
    assert!(common::logging::install_global(Logger::disabled()).is_err());
    assert!(common::logging::global().is_some());
}
