//! Blocking clients for the peer's `Init` and `Echo`, callable from any
//! thread: each call is posted to the event loop, which sends it with a
//! `Context` naming the peer thread made for the calling thread, and the
//! caller waits (running any callbacks the peer sends it) until the reply.

use capnp::capability::FromClientHook;
use std::sync::Arc;

use crate::connection::{connect_stream, ConnectionHandle};
use crate::echo_capnp::echo;
use crate::error::IpcError;
use crate::event_loop::{Local, LoopHandle};
use crate::init_capnp::init;
use crate::listen::Stream;
use crate::proxy_capnp::thread_map;
use crate::transport::SocketStream;

/// A bootstrap interface with libmultiprocess's `construct @0 (threadMap)
/// -> (threadMap)`, which a client calls before anything else.
pub trait Construct: capnp::capability::FromClientHook + Clone + 'static {
    /// Sends ours, returns the peer's (pipelined).
    fn construct(&self, ours: thread_map::Client) -> thread_map::Client;
}

impl Construct for init::Client {
    fn construct(&self, ours: thread_map::Client) -> thread_map::Client {
        let mut request = self.construct_request();
        request.get().set_thread_map(ours);
        request.send().pipeline.get_thread_map()
    }
}

/// Starts Cap'n Proto on `stream` and returns the peer's bootstrap object,
/// after `Init.construct` has exchanged thread maps (pipelined: no round
/// trip is waited for here).
pub fn connect<C: Construct>(
    handle: &LoopHandle,
    stream: Stream,
) -> Result<(Arc<ConnectionHandle>, Local<C>), IpcError> {
    handle.sync(move |_caller| async move {
        let (connection, bootstrap) = match stream {
            Stream::Unix(stream) => connect_stream(SocketStream::new(stream).map_err(io)?),
            Stream::Tcp(stream) => connect_stream(SocketStream::new(stream).map_err(io)?),
        };
        let bootstrap: C = bootstrap.cast_to();
        connection.set_peer_threads(bootstrap.construct(connection.thread_map()));
        let handle = ConnectionHandle::owned(Local::new(connection));
        Ok((Arc::new(handle), Local::new(bootstrap)))
    })
}

fn io(error: std::io::Error) -> IpcError {
    IpcError::Protocol(error.to_string())
}

/// The peer process's `Init`.
pub struct InitClient {
    connection: Arc<ConnectionHandle>,
    init: Local<init::Client>,
}

impl InitClient {
    /// Connects to the `Init` served on `stream`.
    pub fn connect(handle: &LoopHandle, stream: Stream) -> Result<InitClient, IpcError> {
        let (connection, init) = connect(handle, stream)?;
        Ok(InitClient { connection, init })
    }

    /// `Init.makeEcho`.
    pub fn make_echo(&self) -> Result<EchoClient, IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        let echo = self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let mut request = init.make_echo_request();
            connection.set_context(&caller, request.get().init_context())?;
            let response = connection.call(&caller, "Init.makeEcho", request).await?;
            Ok(Local::new(response.get()?.get_result()?))
        })?;
        Ok(EchoClient {
            connection: self.connection.clone(),
            echo,
        })
    }

    /// `Init.makeChain`: the peer node's `Chain`.
    pub fn make_chain(&self) -> Result<crate::chain::ChainClient, IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        let chain = self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let mut request = init.make_chain_request();
            connection.set_context(&caller, request.get().init_context())?;
            let response = connection.call(&caller, "Init.makeChain", request).await?;
            Ok(Local::new(response.get()?.get_result()?))
        })?;
        Ok(crate::chain::ChainClient {
            proxy: crate::proxy::Proxy {
                connection: self.connection.clone(),
                client: chain,
            },
            on_disconnect: crate::chain::log_disconnect(),
        })
    }

    /// `Init.makeWalletLoader`: hands the peer wallet process `chain` (served
    /// from here) and returns its loader.
    pub fn make_wallet_loader(
        &self,
        chain: Arc<dyn interfaces::Chain>,
    ) -> Result<crate::wallet_loader::WalletLoaderClient, IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        let loader = self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let served: crate::chain_capnp::chain::Client =
                capnp_rpc::new_client(crate::chain::ChainServer {
                    connection: connection.clone(),
                    inner: chain,
                });
            let mut request = init.make_wallet_loader_request();
            let mut params = request.get();
            connection.set_context(&caller, params.reborrow().init_context())?;
            params.set_chain(served);
            let response = connection
                .call(&caller, "Init.makeWalletLoader", request)
                .await?;
            Ok(Local::new(response.get()?.get_result()?))
        })?;
        Ok(crate::wallet_loader::WalletLoaderClient {
            proxy: crate::proxy::Proxy {
                connection: self.connection.clone(),
                client: loader,
            },
            on_disconnect: crate::chain::log_disconnect(),
        })
    }

    /// `Init.makeNode`: the node as a front end sees it.
    pub fn make_node(&self) -> Result<crate::node::NodeClient, IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        let node = self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let mut request = init.make_node_request();
            connection.set_context(&caller, request.get().init_context())?;
            let response = connection.call(&caller, "Init.makeNode", request).await?;
            Ok(Local::new(response.get()?.get_result()?))
        })?;
        Ok(crate::node::NodeClient {
            proxy: crate::proxy::Proxy {
                connection: self.connection.clone(),
                client: node,
            },
            on_disconnect: crate::chain::log_disconnect(),
        })
    }

    /// `Init.makeMiningOld2`, the retired ordinal: always an error.
    pub fn make_mining_old2(&self) -> Result<(), IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let request = init.make_mining_old2_request();
            connection
                .call(&caller, "Init.makeMiningOld2", request)
                .await?;
            Ok(())
        })
    }
}

/// The peer's `Echo`.
pub struct EchoClient {
    connection: Arc<ConnectionHandle>,
    echo: Local<echo::Client>,
}

impl EchoClient {
    /// `Echo.echo`: the peer returns `text`, computed on its thread for
    /// the calling thread.
    pub fn echo(&self, text: &str) -> Result<String, IpcError> {
        let (connection, echo) = (self.connection.local().key(), self.echo.key());
        let text = text.to_string();
        self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let echo = echo.get().ok_or(IpcError::Disconnected)?;
            let mut request = echo.echo_request();
            let mut params = request.get();
            connection.set_context(&caller, params.reborrow().init_context())?;
            params.set_echo(text.as_str());
            let response = connection.call(&caller, "Echo.echo", request).await?;
            response
                .get()?
                .get_result()?
                .to_string()
                .map_err(|e| IpcError::Protocol(e.to_string()))
        })
    }
}
