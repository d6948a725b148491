//! `KEY=VALUE` options, as `make -C depends` takes them.
//!
//! Every key is read from the command line first, then from the environment.
//! Booleans differ from upstream on purpose: upstream treats any non-empty
//! value as "on", so `MULTIPROCESS=0` still builds Cap'n Proto. Here `0`,
//! `false` and the empty string mean off, which is what people type.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::remote_cache::{self, Credentials};

/// Tools a user may override for host packages (`CC=clang` and friends).
pub const TOOL_KEYS: &[&str] = &["CC", "CXX", "AR", "RANLIB", "STRIP"];
/// Flag variables a user may override for host packages. As upstream, a
/// user value replaces the toolchain's flags rather than adding to them.
pub const FLAG_KEYS: &[&str] = &["CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS"];

const BOOL_KEYS: &[&str] = &[
    "MULTIPROCESS",
    "NO_QT",
    "NO_WALLET",
    "NO_ZMQ",
    "NO_SYSROOT",
    "DEBUG",
    "LTO",
    "V",
    "LOG",
    "BASE_CACHE_PUSH",
];
const VALUE_KEYS: &[&str] = &[
    "HOST",
    "JOBS",
    "SOURCES_PATH",
    "BASE_CACHE",
    "BASE_CACHE_URL",
    "FALLBACK_DOWNLOAD_PATH",
    "SDK_PATH",
    "HOST_ID_SALT",
    "BUILD_ID_SALT",
];

/// Credentials for BASE_CACHE_URL. They are read from the environment
/// only: a command line is visible to every user of the machine in `ps`.
pub const CREDENTIAL_KEYS: &[&str] = &[
    "BASE_CACHE_PUSH_TOKEN",
    "BASE_CACHE_USER",
    "BASE_CACHE_PASSWORD",
];

/// Every key `cargo xtask depends` accepts, in the order the help lists them.
pub fn known_keys() -> impl Iterator<Item = &'static str> {
    VALUE_KEYS
        .iter()
        .chain(BOOL_KEYS)
        .chain(TOOL_KEYS)
        .chain(FLAG_KEYS)
        .copied()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OptionsError {
    #[error("unknown option {key}; valid options are: {}", known_keys().collect::<Vec<_>>().join(" "))]
    UnknownKey { key: String },
    #[error("`{arg}` is not KEY=VALUE")]
    NotKeyValue { arg: String },
    #[error("JOBS={value} is not a positive number")]
    BadJobs { value: String },
    /// `value` never holds the credentials of a URL that carried some.
    #[error("BASE_CACHE_URL={value} {reason}")]
    BadCacheUrl { value: String, reason: String },
    #[error("BASE_CACHE_PUSH=1 needs BASE_CACHE_URL, the server to push to")]
    PushWithoutUrl,
    #[error("{key} is a credential: set it in the environment, not on the command line (other users can read command lines with ps)")]
    CredentialOnCommandLine { key: String },
    #[error("BASE_CACHE_PUSH_TOKEN and BASE_CACHE_USER are both set; set one: a bearer token, or a user and password for basic auth")]
    TwoCredentials,
    #[error("BASE_CACHE_PASSWORD is set but BASE_CACHE_USER is not; basic auth needs both")]
    PasswordWithoutUser,
}

/// The parsed selection and settings of one depends run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The HOST as the user spelled it; `None` means the build machine.
    pub host: Option<String>,
    pub multiprocess: bool,
    pub no_qt: bool,
    pub no_wallet: bool,
    pub no_zmq: bool,
    /// Build against the build machine's own libc instead of the HOST
    /// toolchain's `[sysroot]` (its binaries then need this machine's glibc;
    /// `cargo xtask dist` refuses it).
    pub no_sysroot: bool,
    pub debug: bool,
    pub lto: bool,
    pub verbose: bool,
    pub log: bool,
    /// `--offline`: never touch the network; fail at once listing missing
    /// sources.
    pub offline: bool,
    pub jobs: usize,
    pub sources_path: Option<PathBuf>,
    pub base_cache: Option<PathBuf>,
    pub fallback_download_path: Option<String>,
    /// `BASE_CACHE_URL`: a BASE_CACHE shared over HTTP, consulted when the
    /// local one misses (checked, without a trailing `/`).
    pub base_cache_url: Option<String>,
    /// `BASE_CACHE_PUSH=1`: upload what this run builds to BASE_CACHE_URL.
    pub base_cache_push: bool,
    /// From [`CREDENTIAL_KEYS`]; sent with every request to BASE_CACHE_URL.
    pub base_cache_credentials: Option<Credentials>,
    pub sdk_path: Option<PathBuf>,
    pub host_id_salt: String,
    pub build_id_salt: String,
    /// `CC`, `CXX`, ... given by the user, applied to host packages only.
    pub tool_overrides: BTreeMap<String, String>,
    /// `CFLAGS`, ... given by the user, replacing the toolchain's flags.
    pub flag_overrides: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: None,
            multiprocess: false,
            no_qt: false,
            no_wallet: false,
            no_zmq: false,
            no_sysroot: false,
            debug: false,
            lto: false,
            verbose: false,
            log: false,
            offline: false,
            jobs: default_jobs(),
            sources_path: None,
            base_cache: None,
            fallback_download_path: None,
            base_cache_url: None,
            base_cache_push: false,
            base_cache_credentials: None,
            sdk_path: None,
            host_id_salt: "salt".into(),
            build_id_salt: "salt".into(),
            tool_overrides: BTreeMap::new(),
            flag_overrides: BTreeMap::new(),
        }
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `0`, `false` (any case) and the empty string are off; anything else is on.
pub fn is_truthy(value: &str) -> bool {
    let value = value.trim();
    !(value.is_empty() || value == "0" || value.eq_ignore_ascii_case("false"))
}

impl Options {
    /// Parses `KEY=VALUE` arguments; keys not on the command line are looked
    /// up with `env` (the process environment in production).
    pub fn parse(
        args: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Options, OptionsError> {
        let mut given = BTreeMap::new();
        for arg in args {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| OptionsError::NotKeyValue { arg: arg.clone() })?;
            if CREDENTIAL_KEYS.contains(&key) {
                return Err(OptionsError::CredentialOnCommandLine { key: key.into() });
            }
            if !known_keys().any(|known| known == key) {
                return Err(OptionsError::UnknownKey { key: key.into() });
            }
            given.insert(key.to_string(), value.to_string());
        }
        let lookup = |key: &str| given.get(key).cloned().or_else(|| env(key));
        let flag = |key: &str| lookup(key).is_some_and(|v| is_truthy(&v));
        let text = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

        let jobs = match text("JOBS") {
            None => default_jobs(),
            Some(value) => match value.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(OptionsError::BadJobs { value }),
            },
        };
        let base_cache_url = text("BASE_CACHE_URL")
            .map(|value| {
                remote_cache::normalize_url(&value).map_err(|reason| OptionsError::BadCacheUrl {
                    value: remote_cache::without_userinfo(&value),
                    reason,
                })
            })
            .transpose()?;
        let base_cache_push = flag("BASE_CACHE_PUSH");
        if base_cache_push && base_cache_url.is_none() {
            return Err(OptionsError::PushWithoutUrl);
        }
        let secret = |key: &str| env(key).filter(|v| !v.is_empty());
        let base_cache_credentials = match (
            secret("BASE_CACHE_PUSH_TOKEN"),
            secret("BASE_CACHE_USER"),
            secret("BASE_CACHE_PASSWORD"),
        ) {
            (Some(_), Some(_), _) => return Err(OptionsError::TwoCredentials),
            (None, None, Some(_)) => return Err(OptionsError::PasswordWithoutUser),
            (Some(token), None, _) => Some(Credentials::Bearer(token)),
            (None, Some(user), password) => Some(Credentials::Basic {
                user,
                password: password.unwrap_or_default(),
            }),
            (None, None, None) => None,
        };
        let pick = |keys: &[&str]| -> BTreeMap<String, String> {
            keys.iter()
                .filter_map(|key| text(key).map(|v| (key.to_string(), v)))
                .collect()
        };
        Ok(Options {
            host: text("HOST"),
            multiprocess: flag("MULTIPROCESS"),
            no_qt: flag("NO_QT"),
            no_wallet: flag("NO_WALLET"),
            no_zmq: flag("NO_ZMQ"),
            no_sysroot: flag("NO_SYSROOT"),
            debug: flag("DEBUG"),
            lto: flag("LTO"),
            verbose: flag("V"),
            log: flag("LOG"),
            offline: false,
            jobs,
            sources_path: text("SOURCES_PATH").map(PathBuf::from),
            base_cache: text("BASE_CACHE").map(PathBuf::from),
            fallback_download_path: text("FALLBACK_DOWNLOAD_PATH"),
            base_cache_url,
            base_cache_push,
            base_cache_credentials,
            sdk_path: text("SDK_PATH").map(PathBuf::from),
            host_id_salt: text("HOST_ID_SALT").unwrap_or_else(|| "salt".into()),
            build_id_salt: text("BUILD_ID_SALT").unwrap_or_else(|| "salt".into()),
            tool_overrides: pick(TOOL_KEYS),
            flag_overrides: pick(FLAG_KEYS),
        })
    }

    /// `release` or `debug`, the name upstream gives the flag set.
    pub fn release_type(&self) -> &'static str {
        if self.debug {
            "debug"
        } else {
            "release"
        }
    }

    /// Whether the package group named in a recipe's `group` is selected.
    /// Opt-in groups need their switch; the others are on unless `NO_*` says
    /// otherwise. Unknown groups are rejected when recipes are loaded.
    pub fn selects_group(&self, group: Group) -> bool {
        match group {
            Group::Base => true,
            Group::Multiprocess => self.multiprocess,
            Group::Qt => !self.no_qt,
            Group::Wallet => !self.no_wallet,
            Group::Zmq => !self.no_zmq,
        }
    }

    /// The options recorded in the prefix manifest, so `cargo xtask build`
    /// can carry them into the Rust build as upstream's configure does.
    pub fn manifest_view(&self) -> BTreeMap<&'static str, bool> {
        BTreeMap::from([
            ("MULTIPROCESS", self.multiprocess),
            ("NO_QT", self.no_qt),
            ("NO_WALLET", self.no_wallet),
            ("NO_ZMQ", self.no_zmq),
            ("NO_SYSROOT", self.no_sysroot),
            ("DEBUG", self.debug),
            ("LTO", self.lto),
        ])
    }
}

/// Which option pulls a package in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Always built. (A recipe with no group is built only as a dependency.)
    Base,
    Multiprocess,
    Qt,
    Wallet,
    Zmq,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Options, OptionsError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Options::parse(&args, &|key| env.get(key).cloned())
    }

    #[test]
    fn zero_false_and_empty_are_off() {
        for off in ["0", "false", "FALSE", ""] {
            let opts = parse(&[&format!("MULTIPROCESS={off}")], &[]).unwrap();
            assert!(!opts.multiprocess, "MULTIPROCESS={off} should be off");
        }
        for on in ["1", "yes", "true"] {
            assert!(parse(&[&format!("DEBUG={on}")], &[]).unwrap().debug);
        }
    }

    #[test]
    fn command_line_beats_environment() {
        let opts = parse(
            &["HOST=aarch64-linux-gnu"],
            &[("HOST", "x86_64-w64-mingw32")],
        )
        .unwrap();
        assert_eq!(opts.host.as_deref(), Some("aarch64-linux-gnu"));
        let opts = parse(&[], &[("HOST", "x86_64-w64-mingw32"), ("NO_QT", "1")]).unwrap();
        assert_eq!(opts.host.as_deref(), Some("x86_64-w64-mingw32"));
        assert!(opts.no_qt);
    }

    #[test]
    fn unknown_key_lists_valid_ones() {
        let err = parse(&["MULTIPROCES=1"], &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown option MULTIPROCES"), "{text}");
        assert!(
            text.contains("MULTIPROCESS") && text.contains("SOURCES_PATH"),
            "{text}"
        );
    }

    #[test]
    fn bad_jobs_and_bare_words_are_errors() {
        assert!(matches!(
            parse(&["JOBS=0"], &[]),
            Err(OptionsError::BadJobs { .. })
        ));
        assert!(matches!(
            parse(&["JOBS=x"], &[]),
            Err(OptionsError::BadJobs { .. })
        ));
        assert_eq!(parse(&["JOBS=3"], &[]).unwrap().jobs, 3);
        assert!(matches!(
            parse(&["MULTIPROCESS"], &[]),
            Err(OptionsError::NotKeyValue { .. })
        ));
    }

    #[test]
    fn base_cache_url_is_checked_and_credentials_stay_in_the_environment() {
        let opts = parse(
            &[
                "BASE_CACHE_URL=https://cache.example/c1pzo/",
                "BASE_CACHE_PUSH=1",
            ],
            &[("BASE_CACHE_PUSH_TOKEN", "s3cret-token")],
        )
        .unwrap();
        assert_eq!(
            opts.base_cache_url.as_deref(),
            Some("https://cache.example/c1pzo")
        );
        assert!(opts.base_cache_push);
        assert_eq!(
            opts.base_cache_credentials,
            Some(Credentials::Bearer("s3cret-token".into()))
        );
        assert!(
            !format!("{opts:?}").contains("s3cret-token"),
            "Debug must not show credentials"
        );

        let err = parse(&["BASE_CACHE_URL=ftp://cache.example/"], &[]).unwrap_err();
        assert!(err.to_string().contains("ftp://cache.example/"), "{err}");
        let err = parse(&["BASE_CACHE_URL=https://me:hunter2@cache.example/"], &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("BASE_CACHE_USER"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(
            parse(&["BASE_CACHE_PUSH=1"], &[]),
            Err(OptionsError::PushWithoutUrl)
        );
        assert!(matches!(
            parse(&["BASE_CACHE_PUSH_TOKEN=x"], &[]),
            Err(OptionsError::CredentialOnCommandLine { .. })
        ));
        assert_eq!(
            parse(
                &[],
                &[("BASE_CACHE_PUSH_TOKEN", "a"), ("BASE_CACHE_USER", "b")]
            ),
            Err(OptionsError::TwoCredentials)
        );
        let opts = parse(
            &[],
            &[("BASE_CACHE_USER", "ci"), ("BASE_CACHE_PASSWORD", "pw")],
        )
        .unwrap();
        assert_eq!(
            opts.base_cache_credentials,
            Some(Credentials::Basic {
                user: "ci".into(),
                password: "pw".into()
            })
        );
    }

    #[test]
    fn tool_and_flag_overrides_are_collected() {
        let opts = parse(&["CC=clang", "CFLAGS=-O3"], &[("CXX", "clang++")]).unwrap();
        assert_eq!(
            opts.tool_overrides.get("CC").map(String::as_str),
            Some("clang")
        );
        assert_eq!(
            opts.tool_overrides.get("CXX").map(String::as_str),
            Some("clang++")
        );
        assert_eq!(
            opts.flag_overrides.get("CFLAGS").map(String::as_str),
            Some("-O3")
        );
    }
}
