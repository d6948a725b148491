//! What the wallet may know of the node, and nothing more.
//!
//! The wallet sees the node only through [`Chain`] (questions it asks and
//! transactions it hands over) and [`ChainNotifications`] (what the node
//! tells it as blocks and transactions come and go). `c1pzod` implements
//! `Chain` locally; `c1pzo-node` will implement it over Cap'n Proto, so
//! every argument and result here is an owned value or a consensus type
//! that can be serialised: no reference into the node's memory crosses
//! this boundary, and a callback is always an `Arc<dyn ...>` the other
//! side can proxy.
//!
//! A front end (the GUI) sees the node through [`Node`] and each loaded
//! wallet through [`Wallet`]; the node reaches its wallet component
//! through [`WalletLoader`].

mod chain;
mod handler;
mod mining;
mod node;
mod notifications;
pub mod rpc;
mod wallet;
mod wallet_loader;

pub use chain::{BlockRef, Chain, Coin, FoundBlock};
pub use handler::{CleanupHandler, Handler};
pub use mining::{BlockCreateOptions, BlockTemplate, BlockVerdict, CoinbaseTemplate, Mining};
pub use node::{BannedSubnet, BlockTip, CreateWalletOptions, Node, PeerInfo};
pub use notifications::{BlockInfo, ChainNotifications, RemovalReason};
pub use wallet::{
    CreatedTransaction, Recipient, TxCategory, TxRecord, Wallet, WalletBalances, WalletTxDetails,
};
pub use wallet_loader::WalletLoader;
