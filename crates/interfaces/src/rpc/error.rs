//! JSON-RPC errors with Bitcoin Core's codes.

use serde_json::{json, Value};

/// Bitcoin Core's RPC error codes (`src/rpc/protocol.h`), the ones used here.
pub mod code {
    pub const INVALID_REQUEST: i32 = -32600;
    pub const METHOD_NOT_FOUND: i32 = -32601;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL_ERROR: i32 = -32603;
    pub const PARSE_ERROR: i32 = -32700;
    pub const MISC_ERROR: i32 = -1;
    pub const TYPE_ERROR: i32 = -3;
    pub const INVALID_ADDRESS_OR_KEY: i32 = -5;
    pub const INVALID_PARAMETER: i32 = -8;
    pub const DATABASE_ERROR: i32 = -20;
    pub const DESERIALIZATION_ERROR: i32 = -22;
    pub const VERIFY_ERROR: i32 = -25;
    pub const VERIFY_REJECTED: i32 = -26;
    pub const VERIFY_ALREADY_IN_CHAIN: i32 = -27;
    pub const IN_WARMUP: i32 = -28;
    pub const WALLET_ERROR: i32 = -4;
    pub const WALLET_INSUFFICIENT_FUNDS: i32 = -6;
    pub const WALLET_INVALID_LABEL_NAME: i32 = -11;
    pub const WALLET_KEYPOOL_RAN_OUT: i32 = -12;
    pub const WALLET_UNLOCK_NEEDED: i32 = -13;
    pub const WALLET_PASSPHRASE_INCORRECT: i32 = -14;
    pub const WALLET_WRONG_ENC_STATE: i32 = -15;
    pub const WALLET_ENCRYPTION_FAILED: i32 = -16;
    pub const WALLET_ALREADY_UNLOCKED: i32 = -17;
    pub const WALLET_NOT_FOUND: i32 = -18;
    pub const WALLET_NOT_SPECIFIED: i32 = -19;
    pub const WALLET_ALREADY_LOADED: i32 = -35;
    pub const WALLET_ALREADY_EXISTS: i32 = -36;
    pub const CLIENT_NOT_CONNECTED: i32 = -9;
    pub const CLIENT_NODE_ALREADY_ADDED: i32 = -23;
    pub const CLIENT_NODE_NOT_ADDED: i32 = -24;
    pub const CLIENT_NODE_NOT_CONNECTED: i32 = -29;
    pub const CLIENT_INVALID_IP_OR_SUBNET: i32 = -30;
    pub const CLIENT_P2P_DISABLED: i32 = -31;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i32,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i32, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message })
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}
