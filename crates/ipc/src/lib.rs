//! c1pzo's IPC layer, wire-compatible with Bitcoin Core's multiprocess
//! binaries, in two layers. Below, the [`runtime`]: event loop,
//! connections, transport, libmultiprocess's thread model, child
//! processes, `-ipcbind`/`-ipcconnect` addresses and `-debug=ipc` (its
//! modules are re-exported here under their own names). Above, the glue:
//! the Cap'n Proto schemas (`schema/`) and the code capnpc generates from
//! them, [`serve`] and [`client`] (`Init` on a stream or a listener), and
//! proxies for the `crates/interfaces` traits ([`proxy`], [`chain`],
//! [`wallet_loader`], [`node`], [`wallet`], [`mining`]).

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

pub mod runtime;
pub use runtime::{
    connection, error, event_loop, listen, log, mailbox, process, threads, transport,
};

pub mod chain;
pub mod client;
pub mod mining;
pub mod node;
pub mod proxy;
pub mod serve;
pub mod testing;
pub mod wallet;
pub mod wallet_loader;
pub mod wire;

pub use error::IpcError;
