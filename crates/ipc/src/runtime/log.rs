//! IPC logging in libmultiprocess's format, so `-debug=ipc` output reads
//! like Bitcoin Core's: every line starts with the thread tag
//! `{<exe>-<pid>/<thread>-<tid>}`. The process installs one sink (its own
//! logger) and a level; a line below the level costs one relaxed atomic
//! load and a branch, because the macro checks before formatting anything.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// libmultiprocess's levels (Bitcoin Core maps `-debug=ipc` to `Debug`
/// and `-loglevel=ipc:trace` to `Trace`; otherwise `Info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
}

/// Where lines go: the process's logger.
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// Nothing is logged until a sink is installed.
const OFF: u8 = u8::MAX;

static THRESHOLD: AtomicU8 = AtomicU8::new(OFF);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static EXE_NAME: OnceLock<String> = OnceLock::new();

/// The most characters of message data a trace line shows, as
/// libmultiprocess's `LogOptions::max_chars`.
pub const MAX_DATA_CHARS: usize = 200;

thread_local! {
    /// The name this thread logs under, when it is not the OS thread name
    /// (server workers carry `<exe>-<pid>/<tid> (from <client thread>)`).
    static THREAD_NAME: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the process's IPC logger: `exe_name` starts every thread tag,
/// lines at `level` and above go to `sink`.
pub fn init(exe_name: &str, level: Level, sink: Sink) {
    let _ = EXE_NAME.set(exe_name.to_string());
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = Some(sink);
    THRESHOLD.store(level as u8, Ordering::Relaxed);
}

/// The process's name in thread tags (the executable's file name until
/// [`init`] says otherwise).
pub fn exe_name() -> &'static str {
    EXE_NAME.get_or_init(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
            // `c1pzo-node`, not `c1pzo-node.exe`: the tags read the same
            // on every platform, as Core's fixed executable names do.
            .map(|name| {
                let stem = name.strip_suffix(std::env::consts::EXE_SUFFIX);
                stem.unwrap_or(&name).to_string()
            })
            .unwrap_or_else(|| "c1pzo".into())
    })
}

/// Whether a line at `level` would be written. Cheap: call it before
/// building anything expensive.
#[inline]
pub fn enabled(level: Level) -> bool {
    level as u8 >= THRESHOLD.load(Ordering::Relaxed)
}

/// Writes one line with the calling thread's tag. Use [`crate::ipc_log!`],
/// which checks the level first.
pub fn write(level: Level, message: std::fmt::Arguments) {
    write_as(level, &thread_tag(), message);
}

/// Writes one line tagged as thread `tag` (the loop logs a client call
/// under the thread that made it, as libmultiprocess does).
pub fn write_as(level: Level, tag: &str, message: std::fmt::Arguments) {
    let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(sink) = sink {
        sink(level, &format!("{{{tag}}} {message}"));
    }
}

/// Names the calling thread for log lines.
pub fn set_thread_name(name: String) {
    THREAD_NAME.with(|cell| *cell.borrow_mut() = Some(name));
}

/// `<exe>-<pid>/<thread>-<tid>` for the calling thread, the form
/// libmultiprocess uses both in log tags and in `makeThread` names.
pub fn thread_tag() -> String {
    let pid = std::process::id();
    let tid = os_thread_id();
    let named = THREAD_NAME.with(|cell| cell.borrow().clone());
    match named {
        Some(name) => name,
        None => {
            let current = std::thread::current();
            let thread = current.name().unwrap_or(exe_name());
            // The main thread carries the process's name, as in Core.
            let thread = if thread == "main" { exe_name() } else { thread };
            format!("{}-{pid}/{thread}-{tid}", exe_name())
        }
    }
}

/// The OS's id for the calling thread, as libmultiprocess tags lines.
pub fn os_thread_id() -> i64 {
    crate::runtime::platform::os_thread_id()
}

/// Message contents for trace lines: non-printable bytes escaped, cut at
/// [`MAX_DATA_CHARS`] with `...`, as libmultiprocess prints them.
pub fn data(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_DATA_CHARS {
            out.push_str("...");
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `ipc_log!(Level::Debug, "IPC client send {}", name)`: formats and
/// writes only when the level is enabled.
#[macro_export]
macro_rules! ipc_log {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write($level, format_args!($($arg)*));
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_escaped_and_cut() {
        assert_eq!(data("a\\b\n"), "a\\\\b\\0a");
        let long = "x".repeat(250);
        let cut = data(&long);
        assert_eq!(cut.len(), MAX_DATA_CHARS + 3);
        assert!(cut.ends_with("x..."));
    }

    #[test]
    fn tags_name_exe_pid_thread_and_tid() {
        let tag = std::thread::Builder::new()
            .name("worker".into())
            .spawn(thread_tag)
            .unwrap()
            .join()
            .unwrap();
        let prefix = format!("{}-{}/worker-", exe_name(), std::process::id());
        assert!(tag.starts_with(&prefix), "{tag}");
        assert!(tag[prefix.len()..].parse::<i64>().is_ok(), "{tag}");
    }
}
