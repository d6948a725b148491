//! The byte stream under a connection: [`SocketStream`], a socket (the
//! pair to a child, a unix-domain or tcp client) registered with the event
//! loop. How it waits and writes is per platform: on unix a direct
//! `send`/`recv` path tuned for RPC-sized messages, on Windows tokio's own
//! TCP stream (see `platform/`).

pub use crate::runtime::platform::SocketStream;
