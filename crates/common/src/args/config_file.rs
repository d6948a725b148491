//! Reads `c1pzo.conf` and the files it includes, as Bitcoin Core reads
//! `bitcoin.conf`.
//!
//! * `key=value` lines, no leading dash; whitespace around key and value is
//!   trimmed; a bare `key=` stores the empty string.
//! * `#` starts a comment anywhere on a line (so values cannot contain `#`;
//!   on an `rpcpassword` line that is an error rather than a silent cut).
//! * `[name]` starts a section; `name.key=value` is the same as `key=value`
//!   inside `[name]`. The sections that mean something are the chain names:
//!   `main`, `test`, `testnet4`, `signet`, `regtest`.
//! * `nokey=1` negates, as on the command line.
//! * `includeconf=<file>` (top level or the chain's section) reads another
//!   file, relative to the data directory; included files cannot include.
//! * Unknown keys are skipped with a warning, as `bitcoind` does; pass
//!   [`UnknownKeys::Reject`] to make them an error instead.
//! * The first assignment of a key wins (see `settings.rs`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::ArgsError;
use super::key::{interpret_key, interpret_value};
use super::node_options::DEFAULT_CONFIG_FILE;
use super::settings::{Setting, Span};
use super::Args;
use crate::chainparams::ChainSelection;

/// What to do with a config key that matches no option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownKeys {
    /// Skip it and record the warning `Ignoring unknown configuration value
    /// <key>` (what `bitcoind` and `bitcoin-cli` do).
    #[default]
    Ignore,
    /// Fail with `Invalid configuration value <key>`.
    Reject,
}

/// A section seen in a config file, for the "not recognized" warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSection {
    /// The section name, e.g. `regtest`.
    pub name: String,
    /// The file it appeared in, as named by the user.
    pub file: String,
    /// The line number (1-based).
    pub line: usize,
}

/// The chain names that are meaningful as config sections.
const KNOWN_SECTIONS: [&str; 5] = ["main", "test", "testnet4", "signet", "regtest"];

/// The raw `key=value` pairs of one file, keys already prefixed with their
/// section, plus the sections seen.
struct RawConfig {
    options: Vec<(String, String)>,
    sections: Vec<ConfigSection>,
}

fn is_config_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn parse_lines(text: &str, file: &str) -> Result<RawConfig, ArgsError> {
    let mut raw = RawConfig {
        options: Vec::new(),
        sections: Vec::new(),
    };
    let mut prefix = String::new();
    for (index, full_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let (line, had_comment) = match full_line.find('#') {
            Some(position) => (&full_line[..position], true),
            None => (full_line, false),
        };
        let line = line.trim_matches(is_config_space);
        if line.is_empty() {
            continue;
        }
        if line.len() >= 2 && line.starts_with('[') && line.ends_with(']') {
            let name = &line[1..line.len() - 1];
            raw.sections.push(ConfigSection {
                name: name.to_owned(),
                file: file.to_owned(),
                line: line_number,
            });
            prefix = format!("{name}.");
        } else if line.starts_with('-') {
            return Err(ArgsError::ConfigLeadingDash {
                line: line_number,
                text: line.to_owned(),
            });
        } else if let Some((key, value)) = line.split_once('=') {
            let name = format!("{prefix}{}", key.trim_matches(is_config_space));
            let value = value.trim_matches(is_config_space);
            if had_comment && name.contains("rpcpassword") {
                return Err(ArgsError::ConfigHashInPassword(line_number));
            }
            // `regtest.port=1` outside any section names a section too.
            if let Some(dot) = name.rfind('.') {
                if prefix.len() <= dot {
                    raw.sections.push(ConfigSection {
                        name: name[..dot].to_owned(),
                        file: file.to_owned(),
                        line: line_number,
                    });
                }
            }
            raw.options.push((name, value.to_owned()));
        } else {
            let hint = if line.starts_with("no") {
                format!(", if you intended to specify a negated option, use {line}=1 instead")
            } else {
                String::new()
            };
            return Err(ArgsError::ConfigSyntax {
                line: line_number,
                text: line.to_owned(),
                hint,
            });
        }
    }
    Ok(raw)
}

/// What a config file holds, read as text: `Ok(Err(_))` when it is
/// readable but not in an encoding c1pzo reads.
fn read_text(path: &Path) -> std::io::Result<Result<String, ArgsError>> {
    fs::read(path).map(|bytes| decode(&bytes, &display(path)))
}

/// A config file's bytes as text. Windows editors mark the encoding at the
/// start: a UTF-8 byte-order mark is dropped so the first line reads as
/// written (Core would take it as part of the first key and ignore that
/// line); a UTF-16 one (Notepad's "Unicode") is refused by name rather than
/// read as garbage. Any other stray byte should not make the file
/// unreadable, so invalid UTF-8 is replaced.
fn decode(bytes: &[u8], file: &str) -> Result<String, ArgsError> {
    let encoding = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => return Ok(String::from_utf8_lossy(rest).into_owned()),
        [0xFF, 0xFE, ..] => "UTF-16 LE",
        [0xFE, 0xFF, ..] => "UTF-16 BE",
        _ => return Ok(String::from_utf8_lossy(bytes).into_owned()),
    };
    Err(ArgsError::ConfigNotUtf8 {
        file: file.to_owned(),
        encoding,
    })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

impl Args {
    /// Reads the config file and its includes, replacing any config values
    /// read before. `base_datadir` is the data directory a relative `-conf`
    /// or `includeconf` is taken from (see [`crate::datadir::base_datadir`]).
    ///
    /// A missing default config file is fine; a missing `-conf` file is an
    /// error; `-noconf` reads nothing.
    pub fn read_config_files(
        &mut self,
        base_datadir: &Path,
        unknown: UnknownKeys,
    ) -> Result<(), ArgsError> {
        self.settings.config.clear();
        self.config_sections.clear();
        self.nested_include_warnings.clear();

        let config_path = if self.is_negated("conf") {
            None
        } else {
            let path = self
                .get_path("conf")
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
            Some(resolve(base_datadir, &path))
        };
        self.config_path = config_path.clone();

        if let Some(path) = config_path {
            if path.is_dir() {
                return Err(ArgsError::ConfigFileIsDirectory(display(&path)));
            }
            match read_text(&path) {
                Ok(text) => {
                    self.read_config_stream(&text?, &display(&path), unknown)?;
                    self.read_included_files(base_datadir, unknown)?;
                }
                Err(_) if self.is_set("conf") => {
                    return Err(ArgsError::ConfigFileUnreadable(display(&path)));
                }
                Err(_) => {}
            }
        }

        // The config file may have named a data directory of its own.
        if let Some(datadir) = self.get_path("datadir") {
            if !crate::datadir::absolute(&datadir).is_dir() {
                return Err(ArgsError::ConfigDataDirMissing(
                    self.get("datadir").unwrap_or_default(),
                ));
            }
        }
        Ok(())
    }

    /// Replaces the config values with those in `text` (no includes). Meant
    /// for tests and tools that build a config in memory.
    pub fn read_config_text(&mut self, text: &str, unknown: UnknownKeys) -> Result<(), ArgsError> {
        self.settings.config.clear();
        self.config_sections.clear();
        self.read_config_stream(text, "", unknown)
    }

    /// The config file that was (or would have been) read, if any.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// Sections that name no chain, as `file:line Section [name] is not
    /// recognized.` warnings (Core shows them at startup).
    pub fn unrecognized_section_warnings(&self) -> Vec<String> {
        self.config_sections
            .iter()
            .filter(|section| !KNOWN_SECTIONS.contains(&section.name.as_str()))
            .map(|s| {
                format!(
                    "{}:{} Section [{}] is not recognized.",
                    s.file, s.line, s.name
                )
            })
            .collect()
    }

    /// Every section seen in the config files, in order.
    pub fn config_sections(&self) -> &[ConfigSection] {
        &self.config_sections
    }

    fn read_config_stream(
        &mut self,
        text: &str,
        file: &str,
        unknown: UnknownKeys,
    ) -> Result<(), ArgsError> {
        let raw = parse_lines(text, file)?;
        self.config_sections.extend(raw.sections);
        for (full_key, value) in raw.options {
            let key = interpret_key(&full_key);
            if key.name == "conf" {
                return Err(ArgsError::ConfInConfigFile);
            }
            if key.name == "reindex" {
                self.warnings.push(
                    "reindex=1 is set in the configuration file, which will significantly slow \
                     down startup. Consider removing or commenting out this option for better \
                     performance, unless there is currently a condition which makes rebuilding \
                     the indexes necessary"
                        .to_owned(),
                );
            }
            let Some(spec) = self.spec(&key.name).copied() else {
                match unknown {
                    UnknownKeys::Ignore => {
                        self.warnings
                            .push(format!("Ignoring unknown configuration value {full_key}"));
                        continue;
                    }
                    UnknownKeys::Reject => return Err(ArgsError::UnknownConfigKey(full_key)),
                }
            };
            let setting = interpret_value(&key, Some(&value), &spec, &mut self.warnings)?;
            self.settings
                .config
                .entry(key.section)
                .or_default()
                .entry(key.name)
                .or_default()
                .push(setting);
        }
        Ok(())
    }

    fn read_included_files(
        &mut self,
        base_datadir: &Path,
        unknown: UnknownKeys,
    ) -> Result<(), ArgsError> {
        // Only `-noincludeconf` can be on the command line; it turns
        // includes off.
        if self.settings.command_line.contains_key("includeconf") {
            return Ok(());
        }
        let chain = chain_section(self)?;
        let mut names = Vec::new();
        let chain_count = collect_includes(&self.settings.config, &chain, 0, &mut names);
        let top_count = collect_includes(&self.settings.config, "", 0, &mut names);

        for name in &names {
            let path = resolve(base_datadir, Path::new(name));
            if path.is_dir() {
                return Err(ArgsError::IncludedConfigIsDirectory(display(&path)));
            }
            let text = read_text(&path).map_err(|_| ArgsError::IncludeFailed(name.clone()))??;
            self.read_config_stream(&text, name, unknown)?;
        }

        // Anything an included file added to includeconf is ignored.
        let mut nested = Vec::new();
        collect_includes(&self.settings.config, &chain, chain_count, &mut nested);
        collect_includes(&self.settings.config, "", top_count, &mut nested);
        let final_chain = chain_section(self)?;
        if final_chain != chain {
            collect_includes(&self.settings.config, &final_chain, 0, &mut nested);
        }
        self.nested_include_warnings
            .extend(nested.into_iter().map(|name| {
                format!(
                    "-includeconf cannot be used from included files; ignoring -includeconf={name}"
                )
            }));
        Ok(())
    }
}

/// The section name of the chain selected so far (an unknown `-chain`
/// value is used as is, like Core).
fn chain_section(args: &Args) -> Result<String, ArgsError> {
    Ok(match crate::chainparams::chain_selection(args)? {
        ChainSelection::Known(chain) => chain.name().to_owned(),
        ChainSelection::Unknown(name) => name,
    })
}

/// Appends the `includeconf` values of `section` from index `skip` on
/// (values cancelled by a negation excluded); returns how many there are.
fn collect_includes(
    config: &BTreeMap<String, BTreeMap<String, Vec<Setting>>>,
    section: &str,
    skip: usize,
    out: &mut Vec<String>,
) -> usize {
    let Some(values) = config
        .get(section)
        .and_then(|options| options.get("includeconf"))
    else {
        return 0;
    };
    let start = skip.max(Span::new(values).negated());
    out.extend(values.iter().skip(start).map(Setting::to_text));
    values.len()
}

/// A config path made absolute against the data directory.
fn resolve(base_datadir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base_datadir.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_count_blank_and_comment_lines() {
        let error = parse_lines("# c\n\nserver=1\nfoo\n", "f").err().unwrap();
        assert_eq!(error.to_string(), "parse error on line 4: foo");
    }

    #[test]
    fn section_headers_prefix_keys() {
        let raw = parse_lines("a=1\n[regtest]\nport=2\n[main]\nport=3\n", "f")
            .ok()
            .unwrap();
        let keys: Vec<_> = raw.options.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "regtest.port", "main.port"]);
        assert_eq!(raw.sections.len(), 2);
        assert_eq!(raw.sections[0].line, 2);
    }

    #[test]
    fn dotted_keys_record_their_section() {
        let raw = parse_lines("regtest.port=2\n", "f").ok().unwrap();
        assert_eq!(
            raw.sections,
            [ConfigSection {
                name: "regtest".into(),
                file: "f".into(),
                line: 1
            }]
        );
    }

    #[test]
    fn a_utf8_byte_order_mark_is_dropped_and_utf16_is_refused_by_name() {
        let text = decode(b"\xEF\xBB\xBFregtest=1\r\n", "c.conf").unwrap();
        let raw = parse_lines(&text, "c.conf").ok().unwrap();
        assert_eq!(raw.options, [("regtest".into(), "1".into())]);
        let utf16: Vec<u8> = "\u{feff}regtest=1\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            decode(&utf16, "c.conf").unwrap_err().to_string(),
            "\"c.conf\" is saved as UTF-16 LE (it starts with that byte-order mark); c1pzo reads \
             configuration files as UTF-8: save it as UTF-8 and start again"
        );
        assert!(decode(b"\xFE\xFF\x00r", "c.conf").is_err());
        // Stray bytes elsewhere are replaced, not fatal.
        assert_eq!(decode(b"a=\xFF", "c.conf").unwrap(), "a=\u{fffd}");
    }

    #[test]
    fn whitespace_and_comments_are_trimmed() {
        let raw = parse_lines("  rpcuser = alice  # me\r\n\tfoo=\n", "f")
            .ok()
            .unwrap();
        assert_eq!(
            raw.options,
            [
                ("rpcuser".into(), "alice".into()),
                ("foo".into(), String::new())
            ]
        );
    }

    #[test]
    fn negation_hint_for_bare_no_lines() {
        let error = parse_lines("nolisten\n", "f").err().unwrap();
        assert_eq!(
            error.to_string(),
            "parse error on line 1: nolisten, if you intended to specify a negated option, use \
             nolisten=1 instead"
        );
    }

    #[test]
    fn leading_dash_is_an_error() {
        let error = parse_lines("-dash=1\n", "f").err().unwrap();
        assert_eq!(
            error.to_string(),
            "parse error on line 1: -dash=1, options in configuration file must be specified \
             without leading -"
        );
    }

    #[test]
    fn hash_in_rpcpassword_line_is_an_error() {
        let error = parse_lines("\nrpcpassword=abc#def\n", "f").err().unwrap();
        assert_eq!(
            error.to_string(),
            "parse error on line 2, using # in rpcpassword can be ambiguous and should be avoided"
        );
        assert!(parse_lines("rpcpassword=abcdef\n", "f").is_ok());
    }
}
