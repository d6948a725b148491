//! Bitcoin Core-style options: the command line, `c1pzo.conf`, and the rules
//! for which value wins (Core's `ArgsManager`).
//!
//! Typical use by an executable, in Core's order:
//!
//! 1. [`Args::from_command_line`] with the executable's option list
//!    ([`node_options`] for `c1pzod`);
//! 2. `-help` / `-version` handling;
//! 3. [`Args::read_config_files`] against the base data directory;
//! 4. chain selection ([`crate::chainparams::ChainType::from_args`]) and
//!    [`Args::select_network`], after which the chain's config section
//!    applies.
//!
//! [`crate::init::init_config`] does steps 3 and 4 with Core's error texts.
//!
//! Names are given without the dash (`"datadir"`); a leading dash is
//! accepted and ignored. A bare `-name` is stored as the empty string, which
//! [`Args::get`] returns as `Some("")` and [`Args::get_bool`] reads as true.
//! A negated `-noname` reads as `"0"`/false and removes the option's values
//! from [`Args::get_all`].

mod command_line;
mod config_file;
mod error;
mod help;
mod key;
mod node_options;
mod settings;
mod spec;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use config_file::{ConfigSection, UnknownKeys};
pub use error::ArgsError;
pub use help::help_message;
pub use node_options::{
    ipc_options, node_options, select_options, DEFAULT_CONFIG_FILE, DEFAULT_DEBUG_LOG_FILE,
    DEFAULT_PID_FILE, DEFAULT_RPC_COOKIE_FILE, GUI_OPTIONS, HELP_OPTIONS, IPC_OPTIONS,
};
pub use settings::{interpret_bool, parse_leading_int};
pub use spec::{Category, OptionSpec, ValueKind};

use crate::chainparams::ChainType;
use settings::{Lookup, Setting, Settings};

/// The options an executable accepts and every value given for them.
#[derive(Debug, Clone)]
pub struct Args {
    specs: BTreeMap<&'static str, OptionSpec>,
    settings: Settings,
    positional: Vec<String>,
    /// The config section of the selected chain; empty until
    /// [`Args::select_network`].
    network: String,
    config_path: Option<PathBuf>,
    config_sections: Vec<ConfigSection>,
    warnings: Vec<String>,
    nested_include_warnings: Vec<String>,
}

/// `-datadir` and `datadir` both name the setting `datadir`.
fn setting_name(name: &str) -> &str {
    name.strip_prefix('-').unwrap_or(name)
}

impl Args {
    /// An empty set of values for the given options.
    pub fn new(options: &[OptionSpec]) -> Args {
        let mut specs = BTreeMap::new();
        for spec in options {
            let previous = specs.insert(spec.name, *spec);
            debug_assert!(previous.is_none(), "option -{} listed twice", spec.name);
        }
        Args {
            specs,
            settings: Settings::default(),
            positional: Vec::new(),
            network: String::new(),
            config_path: None,
            config_sections: Vec::new(),
            warnings: Vec::new(),
            nested_include_warnings: Vec::new(),
        }
    }

    /// Parses the command line (without the program name, e.g.
    /// `std::env::args().skip(1)`) against `options`.
    pub fn from_command_line<I, S>(options: &[OptionSpec], arguments: I) -> Result<Args, ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut args = Args::new(options);
        args.parse_command_line(arguments)?;
        Ok(args)
    }

    /// Replaces the command-line values and positional arguments.
    pub fn parse_command_line<I, S>(&mut self, arguments: I) -> Result<(), ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let specs = &self.specs;
        let parsed = command_line::parse(arguments.into_iter().map(Into::into), |name| {
            specs.get(name)
        })?;
        self.settings.command_line = parsed.options;
        self.positional = parsed.positional;
        self.warnings.extend(parsed.warnings);
        Ok(())
    }

    /// The accepted options, sorted by name.
    pub fn options(&self) -> impl Iterator<Item = &OptionSpec> {
        self.specs.values()
    }

    /// The spec of an accepted option.
    pub fn spec(&self, name: &str) -> Option<&OptionSpec> {
        self.specs.get(setting_name(name))
    }

    /// Makes the chain's config section (`[regtest]`, ...) apply, and the
    /// top-level values of network-only options stop applying unless the
    /// chain is main.
    pub fn select_network(&mut self, chain: ChainType) {
        self.network = chain.name().to_owned();
    }

    /// The config section in use; empty before [`Args::select_network`].
    pub fn network_section(&self) -> &str {
        &self.network
    }

    fn uses_default_section(&self, name: &str) -> bool {
        self.network == ChainType::Main.name()
            || !self.specs.get(name).is_some_and(|spec| spec.network_only)
    }

    fn setting(&self, name: &str) -> Option<Setting> {
        let name = setting_name(name);
        let lookup = Lookup {
            ignore_default_section: !self.uses_default_section(name),
            chain_selection: false,
        };
        self.settings.get(&self.network, name, lookup)
    }

    /// The value that applies: command line over the chain's config section
    /// over the top-level config. Negated options read as `"0"`.
    pub fn get(&self, name: &str) -> Option<String> {
        self.setting(name).map(|setting| setting.to_text())
    }

    /// Every value of a repeatable option, command line first, then the
    /// chain's section, then the top level. A negation drops the values
    /// before it.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        let name = setting_name(name);
        let ignore_default = !self.uses_default_section(name);
        self.settings
            .get_list(&self.network, name, ignore_default)
            .iter()
            .map(Setting::to_text)
            .collect()
    }

    /// The value as a boolean, Core's way: a bare `-name` is true, `-noname`
    /// false, otherwise the leading integer decides (`"abc"` is false).
    pub fn get_bool(&self, name: &str, default: bool) -> bool {
        self.setting(name)
            .map_or(default, |setting| setting.to_bool())
    }

    /// The value as an integer, Core's way: the leading integer of the
    /// text, 0 when there is none, saturating when out of range.
    pub fn get_int(&self, name: &str, default: i64) -> i64 {
        self.setting(name)
            .map_or(default, |setting| setting.to_int())
    }

    /// The value as a path, lexically normalised and without a trailing
    /// slash; `None` when unset, empty or negated.
    pub fn get_path(&self, name: &str) -> Option<PathBuf> {
        if self.is_negated(name) {
            return None;
        }
        let text = self.get(name)?;
        if text.is_empty() {
            return None;
        }
        Some(crate::datadir::lexically_normal(std::path::Path::new(
            &text,
        )))
    }

    /// True if the option has a value from any source, negations included.
    pub fn is_set(&self, name: &str) -> bool {
        self.setting(name).is_some()
    }

    /// True if the value that applies is a negation (`-noname`).
    pub fn is_negated(&self, name: &str) -> bool {
        self.setting(name) == Some(Setting::Bool(false))
    }

    /// The arguments after the last option (the RPC method and its
    /// parameters, for the client).
    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// True for `-?`, `-h`, `-help` or `-help-debug`.
    pub fn help_requested(&self) -> bool {
        ["?", "h", "help", "help-debug"]
            .iter()
            .any(|name| self.is_set(name))
    }

    /// Sets a value unless the user gave one; returns whether it was set.
    /// Used for Core's "parameter interaction" (`-connect` implies
    /// `-listen=0` unless `-listen` was given, ...).
    pub fn soft_set(&mut self, name: &str, value: &str) -> bool {
        if self.is_set(name) {
            return false;
        }
        self.force_set(name, value);
        true
    }

    /// [`Args::soft_set`] with `"1"` or `"0"`.
    pub fn soft_set_bool(&mut self, name: &str, value: bool) -> bool {
        self.soft_set(name, if value { "1" } else { "0" })
    }

    /// Sets a value that overrides every source.
    pub fn force_set(&mut self, name: &str, value: &str) {
        self.settings.forced.insert(
            setting_name(name).to_owned(),
            Setting::Text(value.to_owned()),
        );
    }

    /// Warnings found while parsing (double negatives, unknown config keys
    /// that were skipped, ...). Core writes them to the log as warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// `includeconf` lines found inside included files, which are ignored.
    /// Core prints each to stderr as `warning: <message>`.
    pub fn nested_include_warnings(&self) -> &[String] {
        &self.nested_include_warnings
    }

    /// Network-only options (with dash, e.g. `-wallet`) whose only value sits
    /// in the config file's top-level section and therefore does not apply
    /// on the selected chain. Empty on main or before a chain is selected.
    pub fn unsuitable_section_only_args(&self) -> Vec<String> {
        if self.network.is_empty() || self.network == ChainType::Main.name() {
            return Vec::new();
        }
        self.specs
            .values()
            .filter(|spec| spec.network_only)
            .filter(|spec| {
                self.settings
                    .only_in_default_section(&self.network, spec.name)
            })
            .map(|spec| format!("-{}", spec.name))
            .collect()
    }

    /// The raw value of a chain flag under Core's special rule (last config
    /// value wins, negations skipped, chain sections not consulted).
    pub(crate) fn chain_selection_flag(&self, name: &str) -> bool {
        let lookup = Lookup {
            ignore_default_section: false,
            chain_selection: true,
        };
        self.settings
            .get("", setting_name(name), lookup)
            .is_some_and(|setting| setting.to_bool())
    }

    /// Every config and command-line value as Core logs them at startup:
    /// `Config file arg: [regtest] port="18444"`, `Command-line arg:
    /// datadir="/tmp/x"`. Secrets show as `****`.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut describe =
            |prefix: &str, section: &str, options: &BTreeMap<String, Vec<Setting>>| {
                let section = if section.is_empty() {
                    String::new()
                } else {
                    format!("[{section}] ")
                };
                for (name, values) in options {
                    let Some(spec) = self.specs.get(name.as_str()) else {
                        continue;
                    };
                    for value in values {
                        let shown = if spec.sensitive {
                            "****".to_owned()
                        } else {
                            value.to_json()
                        };
                        lines.push(format!("{prefix} {section}{name}={shown}"));
                    }
                }
            };
        for (section, options) in &self.settings.config {
            describe("Config file arg:", section, options);
        }
        describe("Command-line arg:", "", &self.settings.command_line);
        lines
    }
}
