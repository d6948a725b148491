//! The IPC runtime: what carries calls between processes, whatever the
//! interfaces are. One event loop per process ([`event_loop`], fed by
//! [`mailbox`]), connections on it ([`connection`]) over sockets
//! ([`transport`]), libmultiprocess's thread model ([`threads`]), child
//! processes and their inherited socket ([`process`]), `-ipcbind` and
//! `-ipcconnect` addresses ([`listen`]), `-debug=ipc` lines ([`log`]).
//!
//! This layer sits below the generated glue, as libmultiprocess keeps its
//! runtime apart from the code it generates: nothing here imports the
//! proxies, `client` or `serve` (a tidy test holds it to that), so the
//! runtime can be read, ported (Windows) and tested on its own.

pub mod connection;
pub mod error;
pub mod event_loop;
pub mod listen;
pub mod log;
pub mod mailbox;
pub mod platform;
pub mod process;
pub mod threads;
pub mod transport;
