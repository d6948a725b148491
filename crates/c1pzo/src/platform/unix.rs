//! The executables' unix side: signals, fork, exec.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Resolves when SIGINT or SIGTERM arrives (never, if the handlers cannot
/// be installed). Call on the tokio runtime.
pub async fn shutdown_requested() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// `-daemon`: fork, let the parent exit, detach from the terminal. Call
/// before any thread is started.
pub fn daemonize() -> Result<(), String> {
    println!("c1pzo starting");
    // SAFETY: called before any thread is started; the child only continues
    // the single-threaded startup.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork failed: {}", std::io::Error::last_os_error())),
        0 => {
            // SAFETY: setsid and dup2 on standard descriptors in the child.
            unsafe {
                libc::setsid();
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 {
                    libc::dup2(null, 0);
                    libc::dup2(null, 1);
                    libc::dup2(null, 2);
                }
            }
            Ok(())
        }
        _ => std::process::exit(0),
    }
}

/// Replaces this process with `command` (`exec`); returns only the error
/// if that fails.
pub fn run_instead(mut command: Command) -> std::io::Error {
    command.exec()
}
