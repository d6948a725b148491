//! The layout of one log line, as Bitcoin Core writes it:
//!
//! ```text
//! 2026-11-25T14:00:00Z [thread] [file.rs:12] [function] [net] message
//! ```
//!
//! Timestamp (optional, `-logtimemicros` adds `.123456`, mock time adds
//! ` (mocktime: ...)`), thread name (`-logthreadnames`), source location
//! (`-logsourcelocations`), then the category/level prefix: none for plain
//! info, `[warning]`/`[error]` for uncategorised messages, `[net]` for
//! category debug messages and `[net:trace]` for other levels.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::category::{LogCategory, LogLevel};

/// Where a message was written; filled in by the logging macros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLocation {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line number.
    pub line: u32,
    /// Function or module name; empty when unknown.
    pub function: &'static str,
}

impl SourceLocation {
    /// A location; the macros pass `file!()`, `line!()`, `module_path!()`.
    pub const fn new(file: &'static str, line: u32, function: &'static str) -> Self {
        SourceLocation {
            file,
            line,
            function,
        }
    }
}

/// The line-layout options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineStyle {
    pub timestamps: bool,
    pub time_micros: bool,
    pub thread_names: bool,
    pub source_locations: bool,
    pub always_print_category_level: bool,
}

/// Everything about one message apart from the style.
pub(crate) struct Entry<'a> {
    pub now: SystemTime,
    /// Mock time in seconds since the epoch; 0 when not mocked.
    pub mocktime: i64,
    pub thread: Option<&'a str>,
    pub location: Option<SourceLocation>,
    pub category: Option<LogCategory>,
    pub level: LogLevel,
    pub message: &'a str,
}

/// The complete line, newline included.
pub(crate) fn format_line(style: &LineStyle, entry: &Entry<'_>) -> String {
    let mut line = String::with_capacity(entry.message.len() + 64);
    if style.timestamps {
        line.push_str(&timestamp(entry.now, style.time_micros));
        if entry.mocktime > 0 {
            let mocked = UNIX_EPOCH + Duration::from_secs(entry.mocktime.unsigned_abs());
            line.push_str(&format!(
                " (mocktime: {})",
                humantime::format_rfc3339_seconds(mocked)
            ));
        }
        line.push(' ');
    }
    if style.thread_names {
        line.push_str(&format!(
            "[{}] ",
            entry.thread.filter(|t| !t.is_empty()).unwrap_or("unknown")
        ));
    }
    if style.source_locations {
        if let Some(location) = entry.location {
            let file = location.file.strip_prefix("./").unwrap_or(location.file);
            line.push_str(&format!("[{}:{}] ", file, location.line));
            if !location.function.is_empty() {
                line.push_str(&format!("[{}] ", location.function));
            }
        }
    }
    line.push_str(&prefix(
        style.always_print_category_level,
        entry.category,
        entry.level,
    ));
    escape_into(entry.message, &mut line);
    if !line.ends_with('\n') {
        line.push('\n');
    }
    line
}

fn timestamp(now: SystemTime, micros: bool) -> String {
    if micros {
        humantime::format_rfc3339_micros(now).to_string()
    } else {
        humantime::format_rfc3339_seconds(now).to_string()
    }
}

/// The `[category:level] ` part. A category implies debug and no category
/// implies info; only what is not implied is printed.
fn prefix(always: bool, category: Option<LogCategory>, level: LogLevel) -> String {
    let category_name = match category {
        Some(category) => Some(category.name()),
        None if always => Some("all"),
        None => None,
    };
    match category_name {
        None if level == LogLevel::Info => String::new(),
        None => format!("[{}] ", level.name()),
        Some(name) if level == LogLevel::Debug && !always => format!("[{name}] "),
        Some(name) => format!("[{name}:{}] ", level.name()),
    }
}

/// Copies `message`, writing control characters other than newline as
/// `\xNN` so a log line can never carry terminal escape sequences.
fn escape_into(message: &str, out: &mut String) {
    for ch in message.chars() {
        if (ch < ' ' && ch != '\n') || ch == '\x7f' {
            out.push_str(&format!("\\x{:02x}", ch as u32));
        } else {
            out.push(ch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: LineStyle = LineStyle {
        timestamps: false,
        time_micros: false,
        thread_names: false,
        source_locations: false,
        always_print_category_level: false,
    };

    fn entry(category: Option<LogCategory>, level: LogLevel, message: &str) -> Entry<'_> {
        Entry {
            now: UNIX_EPOCH + Duration::from_micros(1_764_079_200_123_456),
            mocktime: 0,
            thread: Some("main"),
            location: Some(SourceLocation::new("./src/net.rs", 42, "c1pzo::net")),
            category,
            level,
            message,
        }
    }

    #[test]
    fn prefixes_match_core() {
        let line = |category, level| format_line(&PLAIN, &entry(category, level, "m"));
        assert_eq!(line(None, LogLevel::Info), "m\n");
        assert_eq!(line(None, LogLevel::Warning), "[warning] m\n");
        assert_eq!(line(None, LogLevel::Error), "[error] m\n");
        assert_eq!(line(Some(LogCategory::Net), LogLevel::Debug), "[net] m\n");
        assert_eq!(
            line(Some(LogCategory::Net), LogLevel::Trace),
            "[net:trace] m\n"
        );
        assert_eq!(
            line(Some(LogCategory::Net), LogLevel::Info),
            "[net:info] m\n"
        );
    }

    #[test]
    fn always_print_category_level() {
        let style = LineStyle {
            always_print_category_level: true,
            ..PLAIN
        };
        assert_eq!(
            format_line(&style, &entry(None, LogLevel::Info, "m")),
            "[all:info] m\n"
        );
        assert_eq!(
            format_line(&style, &entry(Some(LogCategory::Rpc), LogLevel::Debug, "m")),
            "[rpc:debug] m\n"
        );
    }

    #[test]
    fn timestamps_seconds_and_micros() {
        let style = LineStyle {
            timestamps: true,
            ..PLAIN
        };
        assert_eq!(
            format_line(&style, &entry(None, LogLevel::Info, "m")),
            "2025-11-25T14:00:00Z m\n"
        );
        let style = LineStyle {
            timestamps: true,
            time_micros: true,
            ..PLAIN
        };
        assert_eq!(
            format_line(&style, &entry(None, LogLevel::Info, "m")),
            "2025-11-25T14:00:00.123456Z m\n"
        );
    }

    #[test]
    fn mocktime_is_shown_after_the_timestamp() {
        let style = LineStyle {
            timestamps: true,
            ..PLAIN
        };
        let mut mocked = entry(None, LogLevel::Info, "m");
        mocked.mocktime = 1_296_688_602;
        assert_eq!(
            format_line(&style, &mocked),
            "2025-11-25T14:00:00Z (mocktime: 2011-02-02T23:16:42Z) m\n"
        );
    }

    #[test]
    fn thread_and_source_location() {
        let style = LineStyle {
            thread_names: true,
            source_locations: true,
            ..PLAIN
        };
        assert_eq!(
            format_line(&style, &entry(Some(LogCategory::Net), LogLevel::Debug, "m")),
            "[main] [src/net.rs:42] [c1pzo::net] [net] m\n"
        );
        let mut anonymous = entry(None, LogLevel::Info, "m");
        anonymous.thread = None;
        anonymous.location = Some(SourceLocation::new("a.rs", 1, ""));
        assert_eq!(format_line(&style, &anonymous), "[unknown] [a.rs:1] m\n");
    }

    #[test]
    fn control_characters_are_escaped_and_newline_added_once() {
        assert_eq!(
            format_line(&PLAIN, &entry(None, LogLevel::Info, "a\u{1b}[31mb\r")),
            "a\\x1b[31mb\\x0d\n"
        );
        assert_eq!(
            format_line(&PLAIN, &entry(None, LogLevel::Info, "a\n")),
            "a\n"
        );
        assert_eq!(
            format_line(&PLAIN, &entry(None, LogLevel::Info, "a\nb")),
            "a\nb\n"
        );
    }
}
