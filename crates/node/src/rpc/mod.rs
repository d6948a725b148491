//! The JSON-RPC server: HTTP and authentication ([`http`], [`auth`]), the
//! method table ([`table`]) and the methods, grouped as Bitcoin Core's
//! `help` groups them.

pub mod allow;
pub mod auth;
pub mod blockchain;
pub mod control;
pub mod encode;
pub mod http;
pub mod mining;
pub mod net;
pub mod rawtransactions;
pub mod table;
pub mod util;

pub use interfaces::rpc::{error, params};
