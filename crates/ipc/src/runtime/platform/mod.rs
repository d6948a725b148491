//! What the IPC runtime does differently per operating system, behind one
//! API, so that nothing above it (`process`, `listen`, `transport`, and
//! nothing outside the runtime) carries a `#[cfg]` of its own:
//!
//! - the connected socket pair a parent and the child it spawns talk over
//!   ([`PairStream`], [`socket_pair`]), handing one end to the child
//!   ([`Handoff`]: what `-ipcfd` carries) and taking it up there
//!   ([`adopt`]), and, on Windows, watching the parent process itself
//!   ([`parent_exited`]);
//! - keeping a terminal's Ctrl-C away from a child, whose parent decides
//!   when it stops ([`leave_interrupts_to_the_parent`]);
//! - unix-domain listeners and clients for `-ipcbind=unix` and
//!   `-ipcconnect=unix` ([`bind_unix`], [`connect_unix`], [`UnixAcceptor`]);
//! - the byte stream a connection runs on ([`SocketStream`]);
//! - the OS's id for the calling thread, for log tags ([`os_thread_id`]).
//!
//! Unix: a `socketpair(AF_UNIX)`, the child's end as descriptor 3, as
//! libmultiprocess does. Windows: a connected loopback TCP pair and an
//! inherited socket handle whose number `-ipcfd` carries (see
//! `windows.rs` for why not AF_UNIX); unix-domain addresses are refused
//! there with a message that names `tcp:` instead.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
mod unix_socket_stream;
#[cfg(unix)]
pub use {unix::*, unix_socket_stream::SocketStream};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
mod windows_socket_stream;
#[cfg(windows)]
pub use {windows::*, windows_socket_stream::SocketStream};
