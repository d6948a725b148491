//! c1pzo's IPC layer, wire-compatible with Bitcoin Core's multiprocess
//! binaries: the Cap'n Proto schemas (`schema/`) and the code capnpc
//! generates from them; one event loop per process ([`event_loop`]);
//! libmultiprocess's thread model (`ThreadMap`, named workers, pools,
//! `Context` dispatch) in [`threads`]; [`serve`] and [`client`], `Init`
//! on a stream or a listener; [`process`], spawning a child with
//! `-ipcfd`; [`listen`], `-ipcbind`/`-ipcconnect` addresses and the tcp
//! cookie; `-debug=ipc` in [`log`]; and proxies for the
//! `crates/interfaces` traits ([`proxy`], [`chain`], [`wallet_loader`],
//! [`node`], [`wallet`], [`mining`]).

capnp::generated_code!(pub mod proxy_capnp);
capnp::generated_code!(pub mod common_capnp);
capnp::generated_code!(pub mod echo_capnp);
capnp::generated_code!(pub mod mining_capnp);
capnp::generated_code!(pub mod rpc_capnp);
capnp::generated_code!(pub mod handler_capnp);
capnp::generated_code!(pub mod chain_capnp);
capnp::generated_code!(pub mod wallet_capnp);
capnp::generated_code!(pub mod wallet_loader_capnp);
capnp::generated_code!(pub mod node_capnp);
capnp::generated_code!(pub mod init_capnp);
capnp::generated_code!(pub mod ipc_test_capnp);

pub mod chain;
pub mod client;
pub mod connection;
pub mod error;
pub mod event_loop;
pub mod listen;
pub mod log;
pub mod mailbox;
pub mod mining;
pub mod node;
pub mod process;
pub mod proxy;
pub mod serve;
pub mod testing;
pub mod threads;
pub mod transport;
pub mod wallet;
pub mod wallet_loader;
pub mod wire;

pub use error::IpcError;
