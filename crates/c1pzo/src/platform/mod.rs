//! What the executables do differently per operating system, behind one
//! API so that `daemon`, `wrapper` and the mains carry no `#[cfg]`: waiting
//! for the request to shut down ([`shutdown_requested`]: SIGINT/SIGTERM on
//! unix; Ctrl-C, Ctrl-Break, closing the console, logoff or shutdown on
//! Windows, as Bitcoin Core's console handler), `-daemon`
//! ([`daemonize`]), and handing over to another executable
//! ([`run_instead`]: `exec` on unix, a waited-for child on Windows).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;
