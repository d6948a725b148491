//! The executables' Windows side: a console control handler for shutdown,
//! no `-daemon` (Core's message), and a waited-for child instead of
//! `exec`, which Windows does not have.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use windows_sys::Win32::System::Console::{
    SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
};

/// Woken by the console handler; holds the wake-up for a waiter that
/// comes later.
static REQUESTED: Notify = Notify::const_new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Resolves on Ctrl-C, Ctrl-Break, the console being closed, logoff or
/// system shutdown. Call on the tokio runtime.
pub async fn shutdown_requested() {
    if !INSTALLED.swap(true, Ordering::SeqCst) {
        // SAFETY: registers a handler that lives as long as the process.
        unsafe { SetConsoleCtrlHandler(Some(on_console_event), 1) };
    }
    REQUESTED.notified().await;
}

unsafe extern "system" fn on_console_event(event: u32) -> i32 {
    match event {
        CTRL_C_EVENT | CTRL_BREAK_EVENT => {
            REQUESTED.notify_one();
            1
        }
        CTRL_CLOSE_EVENT | CTRL_LOGOFF_EVENT | CTRL_SHUTDOWN_EVENT => {
            // Windows ends the process as soon as this returns (or after
            // its own timeout): hold it off while shutdown flushes the
            // chainstate and removes the cookie, as Core's handler does.
            // The process ends when its main returns, this thread with it.
            REQUESTED.notify_one();
            loop {
                std::thread::park();
            }
        }
        _ => 0,
    }
}

/// `-daemon` does not exist on Windows; Core's message.
pub fn daemonize() -> Result<(), String> {
    Err("-daemon is not supported on this operating system".into())
}

/// Runs `command` in this process's place: Windows has no `exec`, so it
/// is started, waited for, and its exit code becomes ours. A console's
/// Ctrl-C reaches both; this process leaves it to the child.
pub fn run_instead(mut command: Command) -> std::io::Error {
    // SAFETY: a NULL handler with TRUE makes this process ignore Ctrl-C.
    unsafe { SetConsoleCtrlHandler(None, 1) };
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(error) => error,
    }
}
