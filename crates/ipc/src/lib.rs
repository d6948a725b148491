//! c1pzo's IPC layer. This first part holds the Cap'n Proto schemas, wire
//! compatible with Bitcoin Core's (`schema/`), and the Rust code capnpc
//! generates from them. The runtime (event loop, spawn, listen/connect,
//! thread dispatch) and the trait proxies are still to come.

capnp::generated_code!(pub mod proxy_capnp);
capnp::generated_code!(pub mod common_capnp);
capnp::generated_code!(pub mod echo_capnp);
capnp::generated_code!(pub mod mining_capnp);
capnp::generated_code!(pub mod rpc_capnp);
capnp::generated_code!(pub mod init_capnp);
