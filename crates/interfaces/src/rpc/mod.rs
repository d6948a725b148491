//! JSON-RPC as both sides of [`crate::Chain`] see it: errors with Core's
//! codes, parameter binding, amounts, and the commands a wallet adds to
//! the node's server.

pub mod amount;
pub mod error;
pub mod params;

use std::sync::Arc;

use serde_json::Value;

pub use error::{code, RpcError};

/// One call as it reached the server.
#[derive(Clone, Debug)]
pub struct RpcRequest {
    pub method: String,
    /// Positional (an array) or named (an object), as sent.
    pub params: Option<Value>,
    /// The HTTP path: `/` or `/wallet/<url-encoded name>`.
    pub uri: String,
    /// The node delivered every chain notification queued before it
    /// passed this request on, so the wallet need not ask (a round trip
    /// when the node is another process).
    pub synced: bool,
}

/// What runs a command registered from outside the node.
pub trait RpcActor: Send + Sync {
    fn call(&self, request: &RpcRequest) -> Result<Value, RpcError>;
}

/// A method another component adds to the node's RPC server (Core's
/// `CRPCCommand` as `Chain::handleRpc` takes it).
#[derive(Clone)]
pub struct RpcCommand {
    pub category: String,
    pub name: String,
    /// The usage line `help` lists (`name "arg" ( "optional" )`).
    pub usage: String,
    /// The full text of `help <name>`.
    pub help: String,
    pub actor: Arc<dyn RpcActor>,
}
