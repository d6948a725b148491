//! Reads the command line the way Bitcoin Core does.
//!
//! * `-name=value`, `-name` (stored as the empty string), `-noname`
//!   (negation), `-noname=0` (true), `--name` (same as `-name`).
//! * The first argument that does not start with `-` ends option parsing;
//!   it and everything after it are positional (the RPC method and its
//!   parameters for the client), kept verbatim.
//! * A lone `-` stops parsing and drops the rest (Core keeps this for
//!   tools that read stdin).
//! * Options may repeat; every value is kept in order.
//! * `-includeconf` is refused: it belongs in the config file.

use std::collections::BTreeMap;

use super::error::ArgsError;
use super::key::{interpret_key, interpret_value};
use super::settings::{Setting, Span};
use super::spec::OptionSpec;

/// The outcome of reading the command line.
#[derive(Debug, Default)]
pub(crate) struct CommandLine {
    pub options: BTreeMap<String, Vec<Setting>>,
    pub positional: Vec<String>,
    pub warnings: Vec<String>,
}

/// Parses `arguments` (without the program name). `spec_for` looks an
/// option name up in the executable's list.
pub(crate) fn parse<'a>(
    arguments: impl IntoIterator<Item = String>,
    spec_for: impl Fn(&str) -> Option<&'a OptionSpec>,
) -> Result<CommandLine, ArgsError> {
    let mut parsed = CommandLine::default();
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        if argument == "-" {
            break;
        }
        if !argument.starts_with('-') {
            parsed.positional.push(argument);
            parsed.positional.extend(arguments.by_ref());
            break;
        }
        let (key, value) = match argument.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (argument.as_str(), None),
        };
        // `--foo` is `-foo`; then drop the dash.
        let key = key.strip_prefix("--").unwrap_or(&key[1..]);
        let key_info = interpret_key(key);
        // Sections only make sense in the config file.
        let spec = match spec_for(&key_info.name) {
            Some(spec) if key_info.section.is_empty() => spec,
            _ => return Err(ArgsError::InvalidParameter(argument.clone())),
        };
        let setting = interpret_value(&key_info, value, spec, &mut parsed.warnings)?;
        parsed
            .options
            .entry(key_info.name)
            .or_default()
            .push(setting);
    }

    if let Some(values) = parsed.options.get("includeconf") {
        // `-noincludeconf` is fine: it switches includes off.
        if let Some(first) = Span::new(values).effective().first() {
            return Err(ArgsError::IncludeConfOnCommandLine(first.to_json()));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::node_options::node_options;

    fn run(arguments: &[&str]) -> Result<CommandLine, ArgsError> {
        let specs = node_options();
        parse(arguments.iter().map(|a| a.to_string()), |name| {
            specs.iter().find(|spec| spec.name == name)
        })
    }

    fn values(parsed: &CommandLine, name: &str) -> Vec<Setting> {
        parsed.options.get(name).cloned().unwrap_or_default()
    }

    #[test]
    fn equals_and_bare_forms() {
        let parsed = run(&["-datadir=/tmp/x", "-server"]).unwrap();
        assert_eq!(values(&parsed, "datadir"), [Setting::Text("/tmp/x".into())]);
        assert_eq!(values(&parsed, "server"), [Setting::Text(String::new())]);
    }

    #[test]
    fn value_keeps_later_equals_signs() {
        let parsed = run(&["-rpcauth=u:salt$h=a=b"]).unwrap();
        assert_eq!(
            values(&parsed, "rpcauth"),
            [Setting::Text("u:salt$h=a=b".into())]
        );
    }

    #[test]
    fn double_dash_is_single_dash() {
        let parsed = run(&["--server", "--rpcport=5"]).unwrap();
        assert_eq!(values(&parsed, "server"), [Setting::Text(String::new())]);
        assert_eq!(values(&parsed, "rpcport"), [Setting::Text("5".into())]);
    }

    #[test]
    fn negation_forms() {
        let parsed = run(&["-nolisten", "-noserver=0", "-notxindex=1"]).unwrap();
        assert_eq!(values(&parsed, "listen"), [Setting::Bool(false)]);
        assert_eq!(values(&parsed, "server"), [Setting::Bool(true)]);
        assert_eq!(values(&parsed, "txindex"), [Setting::Bool(false)]);
        assert_eq!(parsed.warnings.len(), 1);
    }

    #[test]
    fn repeats_keep_order() {
        let parsed = run(&["-debug=net", "-debug=rpc", "-addnode=a", "-addnode=b"]).unwrap();
        assert_eq!(
            values(&parsed, "debug"),
            [Setting::Text("net".into()), Setting::Text("rpc".into())]
        );
        assert_eq!(values(&parsed, "addnode").len(), 2);
    }

    #[test]
    fn first_positional_ends_options() {
        let parsed = run(&["-regtest", "getblock", "-verbosity=2", "abc=1"]).unwrap();
        assert_eq!(parsed.positional, ["getblock", "-verbosity=2", "abc=1"]);
        assert!(!parsed.options.contains_key("verbosity"));
    }

    #[test]
    fn positional_keeps_equals_sign() {
        let parsed = run(&["address=bcrt1q"]).unwrap();
        assert_eq!(parsed.positional, ["address=bcrt1q"]);
    }

    #[test]
    fn lone_dash_stops_parsing() {
        let parsed = run(&["-server", "-", "-bogus"]).unwrap();
        assert!(parsed.positional.is_empty());
        assert!(parsed.options.contains_key("server"));
    }

    #[test]
    fn unknown_option_is_reported_as_typed() {
        assert_eq!(
            run(&["-foo"]).unwrap_err().to_string(),
            "Invalid parameter -foo"
        );
        assert_eq!(
            run(&["-foo=bar"]).unwrap_err().to_string(),
            "Invalid parameter -foo=bar"
        );
        assert_eq!(
            run(&["--foo"]).unwrap_err().to_string(),
            "Invalid parameter --foo"
        );
        assert_eq!(
            run(&["-nofoo"]).unwrap_err().to_string(),
            "Invalid parameter -nofoo"
        );
    }

    #[test]
    fn sections_are_refused_on_the_command_line() {
        assert_eq!(
            run(&["-regtest.port=1"]).unwrap_err().to_string(),
            "Invalid parameter -regtest.port=1"
        );
    }

    #[test]
    fn includeconf_is_refused_but_negation_is_fine() {
        assert_eq!(
            run(&["-includeconf=relative2.conf"])
                .unwrap_err()
                .to_string(),
            "-includeconf cannot be used from commandline; -includeconf=\"relative2.conf\""
        );
        assert!(run(&["-noincludeconf"]).is_ok());
        assert!(matches!(
            run(&["-noincludeconf", "-includeconf=a"]),
            Err(ArgsError::IncludeConfOnCommandLine(_))
        ));
    }

    #[test]
    fn flag_errors_propagate() {
        assert_eq!(
            run(&["-nodatadir"]).unwrap_err().to_string(),
            "Negating of -datadir is meaningless and therefore forbidden"
        );
        assert_eq!(
            run(&["-loglevel"]).unwrap_err().to_string(),
            "Can not set -loglevel with no value. Please specify value with -loglevel=value."
        );
    }

    #[test]
    fn question_mark_and_h_are_accepted() {
        let parsed = run(&["-?", "-h"]).unwrap();
        assert!(parsed.options.contains_key("?") && parsed.options.contains_key("h"));
    }
}
