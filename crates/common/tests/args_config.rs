//! End-to-end option handling: command line plus config files on disk,
//! chain selection, and Core's precedence rules.

use std::fs;
use std::path::Path;

use common::args::{node_options, Args, ArgsError, UnknownKeys};
use common::chainparams::{ChainError, ChainType};

fn parse(arguments: &[&str]) -> Args {
    Args::from_command_line(&node_options(), arguments.iter().copied()).unwrap()
}

/// Parses `arguments`, writes `config` as c1pzo.conf in `datadir`, reads it,
/// and selects the chain the options name.
fn load(datadir: &Path, arguments: &[&str], config: &str) -> Result<Args, ArgsError> {
    fs::write(datadir.join("c1pzo.conf"), config).unwrap();
    let mut args = parse(arguments);
    args.read_config_files(datadir, UnknownKeys::Ignore)?;
    let chain = ChainType::from_args(&args)?;
    args.select_network(chain);
    Ok(args)
}

#[test]
fn command_line_beats_config_and_chain_section_beats_top_level() {
    let dir = tempfile::tempdir().unwrap();
    let config = "rpcuser=top\nfallbackfee=0.1\nregtest=1\n[regtest]\nrpcuser=net\n";
    let args = load(dir.path(), &["-fallbackfee=0.2"], config).unwrap();
    assert_eq!(args.get("fallbackfee").as_deref(), Some("0.2"));
    assert_eq!(args.get("rpcuser").as_deref(), Some("net"));
    assert_eq!(
        args.get("-rpcuser").as_deref(),
        Some("net"),
        "a leading dash is accepted"
    );
}

#[test]
fn first_config_assignment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let args = load(dir.path(), &["-regtest"], "rpcuser=first\nrpcuser=second\n").unwrap();
    assert_eq!(args.get("rpcuser").as_deref(), Some("first"));
    assert_eq!(args.get_all("rpcuser"), ["first", "second"]);
}

#[test]
fn network_only_top_level_values_are_ignored_off_main() {
    let dir = tempfile::tempdir().unwrap();
    let config = "port=1111\nrpcport=2222\naddnode=a\nrpcuser=u\n";
    let args = load(dir.path(), &["-regtest"], config).unwrap();
    assert_eq!(args.get("port"), None);
    assert_eq!(args.get("rpcport"), None);
    assert!(args.get_all("addnode").is_empty());
    assert_eq!(
        args.get("rpcuser").as_deref(),
        Some("u"),
        "ordinary options still apply"
    );
    let mut unsuitable = args.unsuitable_section_only_args();
    unsuitable.sort();
    assert_eq!(unsuitable, ["-addnode", "-port", "-rpcport"]);

    let args = load(dir.path(), &["-chain=main"], config).unwrap();
    assert_eq!(
        args.get("port").as_deref(),
        Some("1111"),
        "main uses the top level"
    );
    assert!(args.unsuitable_section_only_args().is_empty());
}

#[test]
fn network_only_values_apply_from_chain_section_and_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = "regtest=1\nport=1111\nwallet=top\n[regtest]\nport=3333\n";
    let args = load(dir.path(), &["-wallet=cli"], config).unwrap();
    assert_eq!(args.get("port").as_deref(), Some("3333"));
    assert_eq!(args.get_all("wallet"), ["cli"]);
    assert!(args.unsuitable_section_only_args().is_empty());
}

#[test]
fn prefixed_keys_equal_section_keys() {
    let dir = tempfile::tempdir().unwrap();
    let args = load(
        dir.path(),
        &["-regtest"],
        "regtest.rpcport=4444\nmain.rpcport=5555\n",
    )
    .unwrap();
    assert_eq!(args.get("rpcport").as_deref(), Some("4444"));
    assert!(args.unrecognized_section_warnings().is_empty());
}

#[test]
fn top_level_negation_of_network_only_option_still_applies() {
    let dir = tempfile::tempdir().unwrap();
    let args = load(dir.path(), &["-regtest"], "noconnect=1\n").unwrap();
    assert!(args.is_negated("connect"));
    assert_eq!(args.get("connect").as_deref(), Some("0"));
}

#[test]
fn command_line_negation_hides_config_list_values() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[regtest]\naddnode=x\naddnode=y\n";
    let args = load(dir.path(), &["-regtest", "-noaddnode"], config).unwrap();
    assert!(args.get_all("addnode").is_empty());
    let args = load(dir.path(), &["-regtest", "-addnode=z"], config).unwrap();
    assert_eq!(args.get_all("addnode"), ["z", "x", "y"]);
}

#[test]
fn unknown_config_keys_are_skipped_or_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let args = load(dir.path(), &["-regtest"], "foo=1\n[regtest]\nbar=2\n").unwrap();
    assert_eq!(
        args.warnings(),
        [
            "Ignoring unknown configuration value foo",
            "Ignoring unknown configuration value regtest.bar"
        ]
    );

    let mut strict = parse(&[]);
    let error = strict
        .read_config_text("server=1\nfoo=1\n", UnknownKeys::Reject)
        .unwrap_err();
    assert_eq!(error.to_string(), "Invalid configuration value foo");
    let error = strict
        .read_config_text("[regtest]\nbar=1\n", UnknownKeys::Reject)
        .unwrap_err();
    assert_eq!(error.to_string(), "Invalid configuration value regtest.bar");
}

#[test]
fn conf_inside_config_is_an_error() {
    let mut args = parse(&[]);
    let error = args
        .read_config_text("conf=other.conf\n", UnknownKeys::Ignore)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "conf cannot be set in the configuration file; use includeconf= if you want to include \
         additional config files"
    );
}

#[test]
fn syntax_error_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(dir.path(), &[], "server=1\n# comment\nfoo\n").unwrap_err();
    assert_eq!(error.to_string(), "parse error on line 3: foo");
}

#[test]
fn comments_anywhere_and_whitespace() {
    let dir = tempfile::tempdir().unwrap();
    let config = "  # heading\nregtest = 1 # pick regtest\n\n[regtest]\n  rpcuser =  alice  #me\n";
    let args = load(dir.path(), &[], config).unwrap();
    assert_eq!(ChainType::from_args(&args), Ok(ChainType::Regtest));
    assert_eq!(args.get("rpcuser").as_deref(), Some("alice"));
}

#[test]
fn includeconf_reads_files_relative_to_datadir() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("extra.conf"),
        "rpcuser=included\nincludeconf=deeper.conf\n",
    )
    .unwrap();
    fs::write(dir.path().join("net.conf"), "rpcpassword=secret\n").unwrap();
    let config = "regtest=1\nincludeconf=extra.conf\n[regtest]\nincludeconf=net.conf\n";
    let args = load(dir.path(), &[], config).unwrap();
    assert_eq!(args.get("rpcuser").as_deref(), Some("included"));
    assert_eq!(args.get("rpcpassword").as_deref(), Some("secret"));
    assert_eq!(
        args.nested_include_warnings(),
        ["-includeconf cannot be used from included files; ignoring -includeconf=deeper.conf"]
    );
}

#[test]
fn noincludeconf_on_command_line_skips_includes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("extra.conf"), "rpcuser=included\n").unwrap();
    let args = load(dir.path(), &["-noincludeconf"], "includeconf=extra.conf\n").unwrap();
    assert_eq!(args.get("rpcuser"), None);
}

#[test]
fn missing_include_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(dir.path(), &[], "includeconf=nothere.conf\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Failed to include configuration file nothere.conf"
    );
}

#[test]
fn includeconf_on_command_line_is_an_error() {
    let error = Args::from_command_line(&node_options(), ["-includeconf=x.conf"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "-includeconf cannot be used from commandline; -includeconf=\"x.conf\""
    );
}

#[test]
fn explicit_conf_must_exist_but_default_may_be_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = parse(&["-conf=missing.conf"]);
    let error = args
        .read_config_files(dir.path(), UnknownKeys::Ignore)
        .unwrap_err();
    let expected = format!(
        "specified config file \"{}\" could not be opened.",
        dir.path().join("missing.conf").display()
    );
    assert_eq!(error.to_string(), expected);

    let mut args = parse(&[]);
    args.read_config_files(dir.path(), UnknownKeys::Ignore)
        .unwrap();
    assert_eq!(
        args.config_path(),
        Some(dir.path().join("c1pzo.conf").as_path())
    );
}

#[test]
fn conf_option_picks_the_file_and_noconf_reads_none() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("c1pzo.conf"), "rpcuser=default\n").unwrap();
    fs::write(dir.path().join("other.conf"), "rpcuser=other\n").unwrap();
    let mut args = parse(&["-conf=other.conf"]);
    args.read_config_files(dir.path(), UnknownKeys::Ignore)
        .unwrap();
    assert_eq!(args.get("rpcuser").as_deref(), Some("other"));
    let mut args = parse(&["-noconf"]);
    args.read_config_files(dir.path(), UnknownKeys::Ignore)
        .unwrap();
    assert_eq!(args.get("rpcuser"), None);
    assert_eq!(args.config_path(), None);
}

#[test]
fn config_path_that_is_a_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("c1pzo.conf")).unwrap();
    let mut args = parse(&[]);
    let error = args
        .read_config_files(dir.path(), UnknownKeys::Ignore)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Config file \"{}\" is a directory.",
            dir.path().join("c1pzo.conf").display()
        )
    );
}

#[test]
fn datadir_in_config_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(dir.path(), &[], "datadir=/nonexistent/c1pzo-test\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "specified data directory \"/nonexistent/c1pzo-test\" does not exist."
    );
}

#[test]
fn chain_selection_rules() {
    let chain = |arguments: &[&str]| ChainType::from_args(&parse(arguments));
    assert_eq!(chain(&[]), Ok(ChainType::Main));
    assert_eq!(chain(&["-regtest"]), Ok(ChainType::Regtest));
    assert_eq!(chain(&["-testnet"]), Ok(ChainType::Testnet));
    assert_eq!(chain(&["-testnet4"]), Ok(ChainType::Testnet4));
    assert_eq!(chain(&["-signet"]), Ok(ChainType::Signet));
    assert_eq!(chain(&["-chain=regtest"]), Ok(ChainType::Regtest));
    assert_eq!(chain(&["-chain=test"]), Ok(ChainType::Testnet));
    assert_eq!(chain(&["-regtest=0"]), Ok(ChainType::Main));
    assert_eq!(
        chain(&["-regtest", "-testnet"]),
        Err(ChainError::InvalidCombination)
    );
    assert_eq!(
        chain(&["-chain=regtest", "-regtest"]),
        Err(ChainError::InvalidCombination)
    );
    assert_eq!(
        chain(&["-chain=foo"]),
        Err(ChainError::UnknownChain("foo".into()))
    );
    assert_eq!(
        chain(&["-chain=foo"]).unwrap_err().to_string(),
        "Unknown chain foo."
    );
}

#[test]
fn command_line_negated_chain_flag_does_not_override_config() {
    // Core quirk: `-noregtest` is accepted but ignored for chain selection.
    let dir = tempfile::tempdir().unwrap();
    let args = load(dir.path(), &["-noregtest"], "regtest=1\n").unwrap();
    assert_eq!(ChainType::from_args(&args), Ok(ChainType::Regtest));
}

#[test]
fn conflicting_chains_while_reading_includes_are_chain_errors() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(dir.path(), &["-regtest", "-testnet"], "server=1\n").unwrap_err();
    assert_eq!(error, ArgsError::Chain(ChainError::InvalidCombination));
    assert_eq!(
        error.to_string(),
        "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one."
    );
}

#[test]
fn value_interpretation_matches_core() {
    let args = parse(&[
        "-server",
        "-nolisten",
        "-txindex=abc",
        "-daemon=0",
        "-rpcport=12abc",
        "-rpcthreads=",
    ]);
    assert!(args.get_bool("server", false), "bare flag is true");
    assert_eq!(
        args.get("server").as_deref(),
        Some(""),
        "stored as the empty string"
    );
    assert!(!args.get_bool("listen", true));
    assert!(!args.get_bool("txindex", true), "non-numbers are false");
    assert!(!args.get_bool("daemon", true));
    assert!(args.get_bool("printtoconsole", true), "default when unset");
    assert_eq!(args.get_int("rpcport", 0), 12);
    assert_eq!(
        args.get_int("rpcthreads", 7),
        0,
        "empty text is 0, not the default"
    );
    assert_eq!(args.get_int("listen", 5), 0, "negation is 0");
    assert_eq!(args.get_int("port", 18444), 18444);
    assert!(args.is_set("listen") && args.is_negated("listen"));
    assert!(!args.is_set("port"));
}

#[test]
fn double_negative_is_true_with_a_warning() {
    let args = parse(&["-nolisten=0"]);
    assert!(args.get_bool("listen", false));
    assert_eq!(args.get("listen").as_deref(), Some("1"));
    assert_eq!(
        args.warnings(),
        ["Parsed potentially confusing double-negative -listen=0"]
    );
}

#[test]
fn repeated_options_keep_order_and_last_single_value_wins() {
    let args = parse(&["-debug=net", "-debug=rpc", "-rpcport=1", "-rpcport=2"]);
    assert_eq!(args.get_all("debug"), ["net", "rpc"]);
    assert_eq!(args.get("rpcport").as_deref(), Some("2"));
}

#[test]
fn positional_arguments_and_help() {
    let args = parse(&["-regtest", "getblockcount", "-x"]);
    assert_eq!(args.positional(), ["getblockcount", "-x"]);
    assert!(!args.help_requested());
    for flag in ["-?", "-h", "-help", "--help", "-help-debug"] {
        assert!(parse(&[flag]).help_requested(), "{flag}");
    }
}

#[test]
fn soft_and_forced_values() {
    let mut args = parse(&["-listen=1"]);
    assert!(!args.soft_set_bool("listen", false), "user value kept");
    assert!(args.soft_set_bool("server", true));
    assert!(args.get_bool("server", false));
    args.force_set("listen", "0");
    assert!(!args.get_bool("listen", true));
}

#[test]
fn paths_are_normalised() {
    let args = parse(&["-datadir=/tmp/a/./b/", "-pid="]);
    assert_eq!(
        args.get_path("datadir").as_deref(),
        Some(Path::new("/tmp/a/b"))
    );
    assert_eq!(args.get_path("pid"), None, "empty means unset");
    assert_eq!(parse(&["-nopid"]).get_path("pid"), None);
}

#[test]
fn unrecognized_sections_are_reported() {
    let mut args = parse(&[]);
    args.read_config_text("[regtest]\n[bogus]\nnope.rpcuser=x\n", UnknownKeys::Ignore)
        .unwrap();
    assert_eq!(
        args.unrecognized_section_warnings(),
        [
            ":2 Section [bogus] is not recognized.",
            ":3 Section [bogus.nope] is not recognized."
        ]
    );
}

#[test]
fn log_lines_hide_secrets() {
    let mut args = parse(&["-rpcpassword=hunter2", "-datadir=/tmp/x", "-nolisten"]);
    args.read_config_text("[regtest]\nport=18444\n", UnknownKeys::Ignore)
        .unwrap();
    assert_eq!(
        args.log_lines(),
        [
            "Config file arg: [regtest] port=\"18444\"",
            "Command-line arg: datadir=\"/tmp/x\"",
            "Command-line arg: listen=false",
            "Command-line arg: rpcpassword=****",
        ]
    );
}

#[test]
fn include_that_is_a_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("dir.conf")).unwrap();
    let error = load(dir.path(), &[], "includeconf=dir.conf\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Included config file \"{}\" is a directory.",
            dir.path().join("dir.conf").display()
        )
    );
}
