//! Turns the logging options (`-debug`, `-debugexclude`, `-loglevel`,
//! `-debuglogfile`, `-printtoconsole`, `-logtimestamps`, ...) into a
//! [`LogOptions`] value, with Core's defaults and error messages.

use std::path::{Path, PathBuf};

use super::category::{CategorySet, LogCategory, LogLevel};
use crate::args::{Args, DEFAULT_DEBUG_LOG_FILE};
use crate::datadir::resolve_in;

/// A logging option has a value the logger does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogConfigError {
    /// `-debug=<x>` or `-debugexclude=<x>` with an unknown category.
    #[error("Unsupported logging category {option}={value}.")]
    UnsupportedCategory { option: &'static str, value: String },
    /// `-loglevel=<x>` with an unknown or unsettable level.
    #[error(
        "Unsupported global logging level -loglevel={0}. Valid values: {levels}.",
        levels = LogLevel::user_settable_names()
    )]
    UnsupportedGlobalLevel(String),
    /// `-loglevel=<category>:<level>` with an unknown category or level.
    #[error(
        "Unsupported category-specific logging level -loglevel={0}. Expected \
         -loglevel=<category>:<loglevel>. Valid categories: {categories}. Valid loglevels: \
         {levels}.",
        categories = LogCategory::names_sorted(),
        levels = LogLevel::user_settable_names()
    )]
    UnsupportedCategoryLevel(String),
}

/// How the logger behaves. Build it with [`LogOptions::from_args`], adjust
/// fields if needed, then open a [`super::Logger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// The log file, or `None` for `-nodebuglogfile`.
    pub file: Option<PathBuf>,
    /// Also write to standard output.
    pub print_to_console: bool,
    /// Start lines with an ISO 8601 UTC time.
    pub timestamps: bool,
    /// Give times to the microsecond.
    pub time_micros: bool,
    /// Start lines with the thread name.
    pub thread_names: bool,
    /// Start lines with the source location.
    pub source_locations: bool,
    /// Always print `[category:level]`, even where Core would imply it.
    pub always_print_category_level: bool,
    /// Categories whose debug and trace messages are written.
    pub categories: CategorySet,
    /// Lowest level written for enabled categories (default debug).
    pub level: LogLevel,
    /// Per-category overrides of [`LogOptions::level`].
    pub category_levels: Vec<(LogCategory, LogLevel)>,
    /// Trim a large log file on opening.
    pub shrink_debug_file: bool,
}

impl Default for LogOptions {
    /// Core's defaults with no file and no console output.
    fn default() -> Self {
        LogOptions {
            file: None,
            print_to_console: false,
            timestamps: true,
            time_micros: false,
            thread_names: false,
            source_locations: false,
            always_print_category_level: false,
            categories: CategorySet::NONE,
            level: LogLevel::Debug,
            category_levels: Vec::new(),
            shrink_debug_file: false,
        }
    }
}

impl LogOptions {
    /// The options as `args` set them. Relative log paths are taken from
    /// `network_dir`. Console output defaults to on unless `-daemon`, as in
    /// Core.
    pub fn from_args(args: &Args, network_dir: &Path) -> Result<LogOptions, LogConfigError> {
        let file = if args.is_negated("debuglogfile") {
            None
        } else {
            let path = args
                .get_path("debuglogfile")
                .unwrap_or_else(|| DEFAULT_DEBUG_LOG_FILE.into());
            Some(resolve_in(network_dir, &path))
        };
        let categories = categories_from_args(args)?;
        let (level, category_levels) = levels_from_args(args)?;
        Ok(LogOptions {
            file,
            print_to_console: args.get_bool("printtoconsole", !args.get_bool("daemon", false)),
            timestamps: args.get_bool("logtimestamps", true),
            time_micros: args.get_bool("logtimemicros", false),
            thread_names: args.get_bool("logthreadnames", false),
            source_locations: args.get_bool("logsourcelocations", false),
            always_print_category_level: args.get_bool("loglevelalways", false),
            categories,
            level,
            category_levels,
            shrink_debug_file: args.get_bool("shrinkdebugfile", categories.is_empty()),
        })
    }
}

/// `-debug` values after the last `0`/`none` are enabled; then every
/// `-debugexclude` value is removed.
fn categories_from_args(args: &Args) -> Result<CategorySet, LogConfigError> {
    let requested = args.get_all("debug");
    let start = requested
        .iter()
        .rposition(|value| value == "0" || value == "none")
        .map_or(0, |position| position + 1);
    let mut enabled = CategorySet::NONE;
    for value in &requested[start..] {
        let set = CategorySet::parse(value).ok_or_else(|| LogConfigError::UnsupportedCategory {
            option: "-debug",
            value: value.clone(),
        })?;
        enabled = enabled.with(set);
    }
    for value in args.get_all("debugexclude") {
        let set =
            CategorySet::parse(&value).ok_or_else(|| LogConfigError::UnsupportedCategory {
                option: "-debugexclude",
                value: value.clone(),
            })?;
        enabled = enabled.without(set);
    }
    Ok(enabled)
}

/// Reads every `-loglevel`: `<level>` sets the global level,
/// `<category>:<level>` one category's. Like Core, a colon only counts from
/// the fourth character on, so `a:b` is read as a (bad) global level.
/// `all:<level>` is accepted, and, as in Core, changes nothing.
fn levels_from_args(
    args: &Args,
) -> Result<(LogLevel, Vec<(LogCategory, LogLevel)>), LogConfigError> {
    let mut global = LogLevel::Debug;
    let mut per_category = Vec::new();
    for value in args.get_all("loglevel") {
        let has_category = value.as_bytes().iter().skip(3).any(|byte| *byte == b':');
        if !has_category {
            global = LogLevel::from_user_name(&value)
                .ok_or_else(|| LogConfigError::UnsupportedGlobalLevel(value.clone()))?;
            continue;
        }
        let bad = || LogConfigError::UnsupportedCategoryLevel(value.clone());
        let mut parts = value.split(':');
        let (Some(category), Some(level), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let level = LogLevel::from_user_name(level).ok_or_else(bad)?;
        let set = CategorySet::parse(category).ok_or_else(bad)?;
        if let Some(category) = LogCategory::from_name(category) {
            per_category.push((category, level));
        } else {
            debug_assert_eq!(set, CategorySet::ALL);
        }
    }
    Ok((global, per_category))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::node_options;

    fn options(arguments: &[&str]) -> Result<LogOptions, LogConfigError> {
        let args = Args::from_command_line(&node_options(), arguments.iter().copied()).unwrap();
        LogOptions::from_args(&args, Path::new("/net"))
    }

    #[test]
    fn defaults_follow_core() {
        let opts = options(&[]).unwrap();
        assert_eq!(opts.file.as_deref(), Some(Path::new("/net/debug.log")));
        assert!(opts.print_to_console, "console is on unless -daemon");
        assert!(opts.timestamps && !opts.time_micros && !opts.thread_names);
        assert!(opts.categories.is_empty());
        assert_eq!(opts.level, LogLevel::Debug);
        assert!(opts.shrink_debug_file, "shrink by default when no -debug");
        assert!(!options(&["-daemon"]).unwrap().print_to_console);
        assert!(!options(&["-printtoconsole=0"]).unwrap().print_to_console);
    }

    #[test]
    fn log_file_location_options() {
        assert_eq!(options(&["-nodebuglogfile"]).unwrap().file, None);
        let opts = options(&["-debuglogfile=sub/x.log"]).unwrap();
        assert_eq!(opts.file.as_deref(), Some(Path::new("/net/sub/x.log")));
        let opts = options(&["-debuglogfile=/abs/y.log"]).unwrap();
        assert_eq!(opts.file.as_deref(), Some(Path::new("/abs/y.log")));
    }

    #[test]
    fn debug_categories() {
        let opts = options(&["-debug=net", "-debug=rpc"]).unwrap();
        assert!(
            opts.categories.contains(LogCategory::Net)
                && opts.categories.contains(LogCategory::Rpc)
        );
        assert!(!opts.categories.contains(LogCategory::Mempool));
        assert!(!opts.shrink_debug_file);
        assert_eq!(options(&["-debug"]).unwrap().categories, CategorySet::ALL);
        assert_eq!(options(&["-debug=1"]).unwrap().categories, CategorySet::ALL);
        assert_eq!(
            options(&["-debug=all"]).unwrap().categories,
            CategorySet::ALL
        );
        assert!(options(&["-nodebug"]).unwrap().categories.is_empty());
    }

    #[test]
    fn zero_or_none_drops_earlier_categories() {
        assert!(options(&["-debug=net", "-debug=0"])
            .unwrap()
            .categories
            .is_empty());
        let opts = options(&["-debug=net", "-debug=none", "-debug=rpc"]).unwrap();
        assert_eq!(opts.categories, CategorySet::of(LogCategory::Rpc));
        assert!(
            options(&["-debug=bogus", "-debug=0"]).is_ok(),
            "dropped values are not checked"
        );
    }

    #[test]
    fn debugexclude_wins() {
        let opts = options(&["-debug", "-debugexclude=net", "-debugexclude=leveldb"]).unwrap();
        assert!(!opts.categories.contains(LogCategory::Net));
        assert!(!opts.categories.contains(LogCategory::LevelDb));
        assert!(opts.categories.contains(LogCategory::Rpc));
    }

    #[test]
    fn unknown_categories_are_errors() {
        assert_eq!(
            options(&["-debug=foo"]).unwrap_err().to_string(),
            "Unsupported logging category -debug=foo."
        );
        assert_eq!(
            options(&["-debugexclude=foo"]).unwrap_err().to_string(),
            "Unsupported logging category -debugexclude=foo."
        );
        assert_eq!(
            options(&["-debugexclude=none"]).unwrap_err().to_string(),
            "Unsupported logging category -debugexclude=none."
        );
    }

    #[test]
    fn global_and_category_levels() {
        let opts = options(&["-loglevel=trace", "-loglevel=net:info"]).unwrap();
        assert_eq!(opts.level, LogLevel::Trace);
        assert_eq!(opts.category_levels, [(LogCategory::Net, LogLevel::Info)]);
        assert!(options(&["-loglevel=all:trace"])
            .unwrap()
            .category_levels
            .is_empty());
    }

    #[test]
    fn bad_global_level_message() {
        assert_eq!(
            options(&["-loglevel=foo"]).unwrap_err().to_string(),
            "Unsupported global logging level -loglevel=foo. Valid values: info, debug, trace."
        );
        assert!(matches!(
            options(&["-loglevel=warning"]),
            Err(LogConfigError::UnsupportedGlobalLevel(_))
        ));
        assert!(matches!(
            options(&["-loglevel=a:b"]),
            Err(LogConfigError::UnsupportedGlobalLevel(_))
        ));
    }

    #[test]
    fn bad_category_level_message() {
        let message = options(&["-loglevel=net:foo"]).unwrap_err().to_string();
        assert!(message.starts_with(
            "Unsupported category-specific logging level -loglevel=net:foo. Expected \
             -loglevel=<category>:<loglevel>. Valid categories: addrman, bench,"
        ));
        assert!(message.ends_with("walletdb, zmq. Valid loglevels: info, debug, trace."));
        assert!(matches!(
            options(&["-loglevel=foo:debug"]),
            Err(LogConfigError::UnsupportedCategoryLevel(_))
        ));
        assert!(matches!(
            options(&["-loglevel=net:debug:x"]),
            Err(LogConfigError::UnsupportedCategoryLevel(_))
        ));
    }
}
