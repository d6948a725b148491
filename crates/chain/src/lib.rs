//! Consensus for c1pzo's regtest chain: context-free block and transaction
//! checks ([`check`]), the chainstate with its block index, active chain,
//! UTXO set and undo data ([`chainstate`]), kept in one crash-safe redb
//! database ([`store`]). Data types and encodings are rust-bitcoin's.

pub mod block_builder;
pub mod chainstate;
pub mod check;
pub mod coins;
pub mod consensus;
pub mod contextual;
pub mod error;
pub mod script;
pub mod store;

pub use chainstate::{BlockOutcome, ChainState, IndexEntry};
pub use consensus::Consensus;
pub use error::{BlockError, TxError};
