//! A logger that writes Bitcoin Core's `debug.log` format.
//!
//! Build [`LogOptions`] from the parsed options, open a [`Logger`] with
//! them, and share it: it is a cheap handle (`Clone`, `Send`, `Sync`). Info,
//! warning and error messages are always written; debug and trace messages
//! only for categories enabled with `-debug` and at or above the
//! `-loglevel`. [`Logger::will_log`] is a couple of atomic loads, so hot
//! paths can check it before building a message; the `log_*!` macros do.
//!
//! The one process-wide piece of state is the optional global handle
//! ([`install_global`] / [`global`]) for code that has no logger passed in.

mod category;
mod format;
mod options;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

pub use category::{CategorySet, LogCategory, LogLevel};
pub use format::SourceLocation;
pub use options::{LogConfigError, LogOptions};

use format::{format_line, Entry, LineStyle};

/// The log file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("Could not open debug log file {}", .path.display())]
pub struct LogOpenError {
    /// The file that could not be opened.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// Marks a category without its own level (it follows the global one).
const NO_CATEGORY_LEVEL: u8 = u8::MAX;
/// A log file over this size is shrunk at startup (Core: 10% over what is
/// kept).
const SHRINK_THRESHOLD: u64 = 11_000_000;
/// How much of the end of the log file shrinking keeps.
const SHRINK_KEEP: u64 = 10_000_000;

/// A shared handle to one log destination.
#[derive(Clone)]
pub struct Logger {
    inner: Arc<Inner>,
}

struct Inner {
    style: LineStyle,
    print_to_console: bool,
    file_path: Option<PathBuf>,
    /// Serialises output so lines from different threads never interleave
    /// and file and console see the same order.
    output: Mutex<Option<File>>,
    reopen_requested: AtomicBool,
    categories: AtomicU64,
    level: AtomicU8,
    category_levels: [AtomicU8; LogCategory::ALL.len()],
    mocktime: AtomicI64,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("file", &self.inner.file_path)
            .field("print_to_console", &self.inner.print_to_console)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// Opens the log as `options` describe: shrinks and opens (appending,
    /// creating) the log file, and separates this run from the previous one
    /// with blank lines as Core does.
    pub fn open(options: LogOptions) -> Result<Logger, LogOpenError> {
        let file = match &options.file {
            Some(path) => {
                if options.shrink_debug_file {
                    // Trimming is housekeeping: a failure must not stop startup.
                    let _ = shrink_file(path, SHRINK_THRESHOLD, SHRINK_KEEP);
                }
                let mut file = open_append(path).map_err(|source| LogOpenError {
                    path: path.clone(),
                    source,
                })?;
                file.write_all(b"\n\n\n\n\n")
                    .map_err(|source| LogOpenError {
                        path: path.clone(),
                        source,
                    })?;
                Some(file)
            }
            None => None,
        };
        Ok(Logger::build(options, file))
    }

    /// A logger that writes nowhere (tests, tools that do not log).
    pub fn disabled() -> Logger {
        Logger::build(LogOptions::default(), None)
    }

    fn build(options: LogOptions, file: Option<File>) -> Logger {
        let category_levels = std::array::from_fn(|_| AtomicU8::new(NO_CATEGORY_LEVEL));
        let inner = Inner {
            style: LineStyle {
                timestamps: options.timestamps,
                time_micros: options.time_micros,
                thread_names: options.thread_names,
                source_locations: options.source_locations,
                always_print_category_level: options.always_print_category_level,
            },
            print_to_console: options.print_to_console,
            file_path: options.file.clone(),
            output: Mutex::new(file),
            reopen_requested: AtomicBool::new(false),
            categories: AtomicU64::new(options.categories.0),
            level: AtomicU8::new(options.level as u8),
            category_levels,
            mocktime: AtomicI64::new(0),
        };
        for (category, level) in &options.category_levels {
            inner.category_levels[category.index()].store(*level as u8, Ordering::Relaxed);
        }
        Logger {
            inner: Arc::new(inner),
        }
    }

    /// Whether a message of `category` at `level` would be written. Info and
    /// above always are.
    pub fn will_log(&self, category: LogCategory, level: LogLevel) -> bool {
        if level >= LogLevel::Info {
            return true;
        }
        if self.inner.categories.load(Ordering::Relaxed) & CategorySet::of(category).0 == 0 {
            return false;
        }
        let own = self.inner.category_levels[category.index()].load(Ordering::Relaxed);
        let threshold = if own == NO_CATEGORY_LEVEL {
            self.inner.level.load(Ordering::Relaxed)
        } else {
            own
        };
        level as u8 >= threshold
    }

    /// Writes an info message (no prefix).
    #[track_caller]
    pub fn info(&self, message: fmt::Arguments<'_>) {
        self.log_at(caller(), None, LogLevel::Info, message);
    }

    /// Writes a `[warning]` message.
    #[track_caller]
    pub fn warning(&self, message: fmt::Arguments<'_>) {
        self.log_at(caller(), None, LogLevel::Warning, message);
    }

    /// Writes an `[error]` message.
    #[track_caller]
    pub fn error(&self, message: fmt::Arguments<'_>) {
        self.log_at(caller(), None, LogLevel::Error, message);
    }

    /// Writes a `[category]` debug message if the category is enabled.
    #[track_caller]
    pub fn debug(&self, category: LogCategory, message: fmt::Arguments<'_>) {
        self.log_at(caller(), Some(category), LogLevel::Debug, message);
    }

    /// Writes a `[category:trace]` message if the category is enabled at
    /// trace level.
    #[track_caller]
    pub fn trace(&self, category: LogCategory, message: fmt::Arguments<'_>) {
        self.log_at(caller(), Some(category), LogLevel::Trace, message);
    }

    /// Writes one message if [`Logger::will_log`] allows it. The macros call
    /// this with the exact source location.
    pub fn log_at(
        &self,
        location: SourceLocation,
        category: Option<LogCategory>,
        level: LogLevel,
        message: fmt::Arguments<'_>,
    ) {
        if let Some(category) = category {
            if !self.will_log(category, level) {
                return;
            }
        }
        if !self.inner.print_to_console && self.inner.file_path.is_none() {
            return;
        }
        let message = message.to_string();
        let thread = std::thread::current();
        let line = format_line(
            &self.inner.style,
            &Entry {
                now: SystemTime::now(),
                mocktime: self.inner.mocktime.load(Ordering::Relaxed),
                thread: thread.name(),
                location: Some(location),
                category,
                level,
                message: &message,
            },
        );
        self.write_line(&line);
    }

    fn write_line(&self, line: &str) {
        // A poisoned lock only means another thread panicked mid-write; the
        // file handle is still usable.
        let mut output = self
            .inner
            .output
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if self.inner.print_to_console {
            let mut stdout = io::stdout().lock();
            let _ = stdout.write_all(line.as_bytes());
            let _ = stdout.flush();
        }
        if let Some(path) = &self.inner.file_path {
            if self.inner.reopen_requested.swap(false, Ordering::Relaxed) {
                // Keep the old handle if the file cannot be reopened.
                if let Ok(file) = open_append(path) {
                    *output = Some(file);
                }
            }
            if let Some(file) = output.as_mut() {
                // Nowhere to report a failing log write; drop the line.
                let _ = file.write_all(line.as_bytes());
            }
        }
    }

    /// Makes the next message reopen the log file (after log rotation;
    /// Core does this on SIGHUP).
    pub fn reopen_file(&self) {
        self.inner.reopen_requested.store(true, Ordering::Relaxed);
    }

    /// The log file, if any.
    pub fn file_path(&self) -> Option<&Path> {
        self.inner.file_path.as_deref()
    }

    /// Turns on debug logging for `name` (a category, `all`, `1` or empty);
    /// false if the name is unknown. For the `logging` RPC.
    pub fn enable_category(&self, name: &str) -> bool {
        match CategorySet::parse(name) {
            Some(set) => {
                self.inner.categories.fetch_or(set.0, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Turns off debug logging for `name`; false if the name is unknown.
    pub fn disable_category(&self, name: &str) -> bool {
        match CategorySet::parse(name) {
            Some(set) => {
                self.inner.categories.fetch_and(!set.0, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// The enabled categories.
    pub fn categories(&self) -> CategorySet {
        CategorySet(self.inner.categories.load(Ordering::Relaxed))
    }

    /// Sets the mock time shown after each timestamp; 0 turns it off.
    pub fn set_mocktime(&self, seconds_since_epoch: i64) {
        self.inner
            .mocktime
            .store(seconds_since_epoch, Ordering::Relaxed);
    }
}

#[track_caller]
fn caller() -> SourceLocation {
    let location = std::panic::Location::caller();
    SourceLocation::new(location.file(), location.line(), "")
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Keeps only the last `keep` bytes of the file at `path` when it is larger
/// than `threshold`. A missing file is fine.
fn shrink_file(path: &Path, threshold: u64, keep: u64) -> io::Result<()> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    if file.metadata()?.len() <= threshold {
        return Ok(());
    }
    file.seek(SeekFrom::End(-(keep as i64)))?;
    let mut tail = Vec::with_capacity(keep as usize);
    file.read_to_end(&mut tail)?;
    drop(file);
    std::fs::write(path, tail)
}

static GLOBAL: OnceLock<Logger> = OnceLock::new();

/// Installs the process-wide logger; gives it back if one is installed
/// already.
pub fn install_global(logger: Logger) -> Result<(), Logger> {
    GLOBAL.set(logger)
}

/// The process-wide logger, if one was installed.
pub fn global() -> Option<&'static Logger> {
    GLOBAL.get()
}

/// `log_info!(logger, "format", args...)`: an info message.
#[macro_export]
macro_rules! log_info {
    ($logger:expr, $($arg:tt)+) => {
        $logger.log_at(
            $crate::logging::SourceLocation::new(file!(), line!(), module_path!()),
            None,
            $crate::logging::LogLevel::Info,
            format_args!($($arg)+),
        )
    };
}

/// `log_warning!(logger, "format", args...)`: a `[warning]` message.
#[macro_export]
macro_rules! log_warning {
    ($logger:expr, $($arg:tt)+) => {
        $logger.log_at(
            $crate::logging::SourceLocation::new(file!(), line!(), module_path!()),
            None,
            $crate::logging::LogLevel::Warning,
            format_args!($($arg)+),
        )
    };
}

/// `log_error!(logger, "format", args...)`: an `[error]` message.
#[macro_export]
macro_rules! log_error {
    ($logger:expr, $($arg:tt)+) => {
        $logger.log_at(
            $crate::logging::SourceLocation::new(file!(), line!(), module_path!()),
            None,
            $crate::logging::LogLevel::Error,
            format_args!($($arg)+),
        )
    };
}

/// `log_debug!(logger, LogCategory::Net, "format", args...)`: a category
/// debug message; the arguments are not evaluated when it would not be
/// written.
#[macro_export]
macro_rules! log_debug {
    ($logger:expr, $category:expr, $($arg:tt)+) => {{
        let logger = &$logger;
        let category = $category;
        if logger.will_log(category, $crate::logging::LogLevel::Debug) {
            logger.log_at(
                $crate::logging::SourceLocation::new(file!(), line!(), module_path!()),
                Some(category),
                $crate::logging::LogLevel::Debug,
                format_args!($($arg)+),
            )
        }
    }};
}

/// `log_trace!(logger, LogCategory::Net, "format", args...)`: a category
/// trace message; the arguments are not evaluated when it would not be
/// written.
#[macro_export]
macro_rules! log_trace {
    ($logger:expr, $category:expr, $($arg:tt)+) => {{
        let logger = &$logger;
        let category = $category;
        if logger.will_log(category, $crate::logging::LogLevel::Trace) {
            logger.log_at(
                $crate::logging::SourceLocation::new(file!(), line!(), module_path!()),
                Some(category),
                $crate::logging::LogLevel::Trace,
                format_args!($($arg)+),
            )
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_categories(categories: CategorySet, level: LogLevel) -> Logger {
        Logger::disabled_with(LogOptions {
            categories,
            level,
            ..LogOptions::default()
        })
    }

    impl Logger {
        fn disabled_with(options: LogOptions) -> Logger {
            Logger::build(options, None)
        }
    }

    #[test]
    fn info_and_above_always_log() {
        let logger = with_categories(CategorySet::NONE, LogLevel::Debug);
        assert!(logger.will_log(LogCategory::Net, LogLevel::Info));
        assert!(logger.will_log(LogCategory::Net, LogLevel::Error));
        assert!(!logger.will_log(LogCategory::Net, LogLevel::Debug));
    }

    #[test]
    fn debug_needs_category_and_trace_needs_level() {
        let logger = with_categories(CategorySet::of(LogCategory::Net), LogLevel::Debug);
        assert!(logger.will_log(LogCategory::Net, LogLevel::Debug));
        assert!(!logger.will_log(LogCategory::Net, LogLevel::Trace));
        assert!(!logger.will_log(LogCategory::Rpc, LogLevel::Debug));
        let logger = with_categories(CategorySet::ALL, LogLevel::Trace);
        assert!(logger.will_log(LogCategory::Rpc, LogLevel::Trace));
    }

    #[test]
    fn category_level_overrides_global() {
        let logger = Logger::disabled_with(LogOptions {
            categories: CategorySet::ALL,
            level: LogLevel::Debug,
            category_levels: vec![
                (LogCategory::Net, LogLevel::Trace),
                (LogCategory::Rpc, LogLevel::Info),
            ],
            ..LogOptions::default()
        });
        assert!(logger.will_log(LogCategory::Net, LogLevel::Trace));
        assert!(!logger.will_log(LogCategory::Rpc, LogLevel::Debug));
        assert!(logger.will_log(LogCategory::Mempool, LogLevel::Debug));
        assert!(!logger.will_log(LogCategory::Mempool, LogLevel::Trace));
    }

    #[test]
    fn categories_can_change_at_runtime() {
        let logger = with_categories(CategorySet::NONE, LogLevel::Debug);
        assert!(logger.enable_category("rpc"));
        assert!(logger.will_log(LogCategory::Rpc, LogLevel::Debug));
        assert!(logger.enable_category("all"));
        assert!(logger.disable_category("net"));
        assert!(!logger.will_log(LogCategory::Net, LogLevel::Debug));
        assert!(!logger.enable_category("bogus") && !logger.disable_category("bogus"));
        assert_eq!(
            logger.categories(),
            CategorySet::ALL.without(CategorySet::of(LogCategory::Net))
        );
    }

    #[test]
    fn shrink_keeps_the_tail_of_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("debug.log");
        std::fs::write(&path, b"0123456789").unwrap();
        shrink_file(&path, 10, 4).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"0123456789",
            "not over the threshold"
        );
        std::fs::write(&path, b"0123456789A").unwrap();
        shrink_file(&path, 10, 4).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"789A");
        shrink_file(&dir.path().join("missing.log"), 10, 4).unwrap();
    }

    #[test]
    fn logger_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Logger>();
    }
}
