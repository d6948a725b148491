//! The c1pzo node: shared state ([`context`]), regtest mining
//! ([`mining`]) and the JSON-RPC server ([`rpc`]) with Bitcoin Core's
//! methods, results and errors.

pub mod context;
pub mod local_chain;
pub mod local_node;
pub mod mempool;
pub mod miner;
pub mod mining;
pub mod net;
pub mod notify;
pub mod rpc;
pub mod subnet;

pub use context::Node;
pub use local_chain::LocalChain;
pub use local_node::LocalNode;

/// The version number RPCs report (`getnetworkinfo`'s `version`), in
/// Bitcoin Core's MMmmpp form.
pub const VERSION_NUMBER: u32 = 100;
