//! The client side of a connection: a two-party vat on a stream, asking
//! the peer for its `Init`.

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::twoparty::VatNetwork;
use capnp_rpc::RpcSystem;
use futures::io::{BufReader, BufWriter};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::init_capnp::init;

/// Returns the peer's `Init` and the RPC system that carries it; spawn the
/// system on the event loop's LocalSet (`tokio::task::spawn_local`).
pub fn client_vat(stream: tokio::net::UnixStream) -> (init::Client, RpcSystem<Side>) {
    let (reader, writer) = stream.into_split();
    let network = VatNetwork::new(
        BufReader::new(reader.compat()),
        BufWriter::new(writer.compat_write()),
        Side::Client,
        Default::default(),
    );
    let mut system = RpcSystem::new(Box::new(network), None);
    let init: init::Client = system.bootstrap(Side::Server);
    (init, system)
}
