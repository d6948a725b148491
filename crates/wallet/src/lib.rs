//! c1pzo's descriptor wallet.
//!
//! A wallet is a set of output descriptors ([`descriptors`]), the
//! transactions that pay or spend their scripts ([`tx`]), and a redb file
//! holding both ([`store`]). It learns about the chain only through
//! [`interfaces::Chain`] and its notifications ([`wallet`]), so the same
//! code runs inside `c1pzod` and, later, in its own process. [`spend`]
//! funds and signs transactions; [`manager`] loads and unloads wallets by
//! name; [`rpc`] serves Bitcoin Core's wallet RPCs through the node's
//! server; [`handle`] is a loaded wallet as a front end holds it, and
//! [`revision`] what it waits on for changes.

pub mod crypter;
pub mod descriptors;
pub mod error;
pub mod handle;
pub mod manager;
pub mod offline;
pub mod revision;
pub mod rpc;
pub mod spend;
pub mod state;
pub mod store;
pub mod tx;
pub mod wallet;

pub use error::WalletError;
pub use wallet::{CreateOptions, Wallet};
