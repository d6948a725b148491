//! The RPC client: turning command-line words into a JSON-RPC request
//! ([`convert`]), sending it ([`client`]) and printing the answer the way
//! bitcoin-cli does ([`output`]).

#[cfg(feature = "http")]
pub mod client;
pub mod convert;
pub mod output;
