//! The `Init` every c1pzo process serves, with `Echo`, and serving it to a
//! parent process over the socket it was spawned with.

use std::rc::Rc;
use std::sync::Arc;

use interfaces::{Chain, WalletLoader};

use crate::chain::{ChainClient, ChainServer};
use crate::connection::ConnectionHandle;
use crate::connection::{
    run_on_worker, serve_stream, serve_stream_until, Connection, ServerRequest,
};
use crate::echo_capnp::echo;
use crate::event_loop::{Local, LoopHandle};
use crate::init_capnp::init;
use crate::ipc_log;
use crate::listen::{check_cookie, Listener};
use crate::log::Level;
use crate::proxy::Proxy;
use crate::runtime::platform::{self, PairStream, UnixAcceptor};
use crate::threads::context_thread;
use crate::transport::SocketStream;
use crate::wallet_loader::WalletLoaderServer;

/// What Bitcoin Core answers on the retired `makeMiningOld2` ordinal, as
/// its clients see it (C++ exceptions reach them as `std::exception: ...`).
pub const MINING_OLD2: &str =
    "std::exception: Old mining interface (@2) not supported. Please update your client!";

/// `Init` for one connection.
pub struct InitServer {
    connection: Rc<Connection>,
    services: Services,
}

/// Makes a wallet process's loader from the node's `Chain`.
pub type MakeWalletLoader = Arc<dyn Fn(Arc<dyn Chain>) -> Arc<dyn WalletLoader> + Send + Sync>;

/// What a process serves through `Init` besides `Echo`: a node its
/// `Chain`, a wallet process its loader.
#[derive(Clone, Default)]
pub struct Services {
    pub chain: Option<Arc<dyn Chain>>,
    pub wallet_loader: Option<MakeWalletLoader>,
    /// Runs a JSON-RPC request body at a URI as the node's HTTP server
    /// would, returning the reply body (Core's `Rpc.executeRpc`).
    pub rpc: Option<ExecuteRpc>,
    /// Core's `Mining`, for external miners.
    pub mining: Option<Arc<dyn interfaces::Mining>>,
    /// The node as a front end sees it.
    pub node: Option<Arc<dyn interfaces::Node>>,
}

/// `(request, uri, user) -> reply`.
pub type ExecuteRpc = Arc<dyn Fn(&str, &str, &str) -> String + Send + Sync>;

impl InitServer {
    pub fn new(connection: Rc<Connection>) -> InitServer {
        InitServer::with_services(connection, Services::default())
    }

    pub fn with_services(connection: Rc<Connection>, services: Services) -> InitServer {
        InitServer {
            connection,
            services,
        }
    }
}

impl init::Server for InitServer {
    fn construct(
        self: capnp::capability::Rc<Self>,
        params: init::ConstructParams,
        mut results: init::ConstructResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let outcome = (|| {
            let params = params.get()?;
            let request = ServerRequest::received("Init.construct", &params);
            if params.has_thread_map() {
                self.connection.set_peer_threads(params.get_thread_map()?);
            }
            results.get().set_thread_map(self.connection.thread_map());
            request.responded("Init.construct", &"(threadMap = <capability>)");
            Ok(())
        })();
        std::future::ready(outcome)
    }

    async fn make_echo(
        self: capnp::capability::Rc<Self>,
        params: init::MakeEchoParams,
        mut results: init::MakeEchoResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Init.makeEcho", &params);
        let thread = context_thread(params.get_context())?;
        // Resolve the thread as Core does, so a call naming none gets
        // the same error even though making an Echo never blocks.
        let worker = self
            .connection
            .threads()
            .worker_for(thread)
            .await
            .inspect_err(|e| request.failed("Init.makeEcho", e))?;
        request.posted(&worker);
        let echo: echo::Client = capnp_rpc::new_client(EchoServer::new(self.connection.clone()));
        results.get().set_result(echo);
        request.responded("Init.makeEcho", &"(result = <capability>)");
        Ok(())
    }

    fn make_mining_old2(
        self: capnp::capability::Rc<Self>,
        params: init::MakeMiningOld2Params,
        _: init::MakeMiningOld2Results,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let error = capnp::Error::failed(MINING_OLD2.into());
        if let Ok(params) = params.get() {
            ServerRequest::received("Init.makeMiningOld2", &params)
                .failed("Init.makeMiningOld2", &error);
        }
        std::future::ready(Err(error))
    }

    async fn make_mining(
        self: capnp::capability::Rc<Self>,
        params: init::MakeMiningParams,
        mut results: init::MakeMiningResults,
    ) -> Result<(), capnp::Error> {
        let label = "Init.makeMining";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let mining = self.services.mining.clone().ok_or_else(|| {
            let error =
                capnp::Error::failed("this process runs no node, so it serves no Mining".into());
            request.failed(label, &error);
            error
        })?;
        let server = crate::mining::MiningServer {
            connection: self.connection.clone(),
            inner: mining,
        };
        results.get().set_result(capnp_rpc::new_client(server));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }

    async fn make_rpc(
        self: capnp::capability::Rc<Self>,
        params: init::MakeRpcParams,
        mut results: init::MakeRpcResults,
    ) -> Result<(), capnp::Error> {
        let label = "Init.makeRpc";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let execute = self.services.rpc.clone().ok_or_else(|| {
            let error = capnp::Error::failed("this process runs no RPC server".into());
            request.failed(label, &error);
            error
        })?;
        let server = RpcServer {
            connection: self.connection.clone(),
            execute,
        };
        results.get().set_result(capnp_rpc::new_client(server));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }

    async fn make_chain(
        self: capnp::capability::Rc<Self>,
        params: init::MakeChainParams,
        mut results: init::MakeChainResults,
    ) -> Result<(), capnp::Error> {
        let label = "Init.makeChain";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let chain = self.services.chain.clone().ok_or_else(|| {
            let error =
                capnp::Error::failed("this process runs no node, so it serves no Chain".into());
            request.failed(label, &error);
            error
        })?;
        let server = ChainServer {
            connection: self.connection.clone(),
            inner: chain,
        };
        results.get().set_result(capnp_rpc::new_client(server));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }

    async fn make_wallet_loader(
        self: capnp::capability::Rc<Self>,
        params: init::MakeWalletLoaderParams,
        mut results: init::MakeWalletLoaderResults,
    ) -> Result<(), capnp::Error> {
        let label = "Init.makeWalletLoader";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let make = self.services.wallet_loader.clone().ok_or_else(|| {
            let error = capnp::Error::failed("this process serves no wallet loader".into());
            request.failed(label, &error);
            error
        })?;
        let chain = ChainClient {
            proxy: Proxy {
                connection: Arc::new(ConnectionHandle::borrowed(Local::new(
                    self.connection.clone(),
                ))),
                client: Local::new(params.get_chain()?),
            },
            on_disconnect: crate::chain::log_disconnect(),
        };
        let loader = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || make(Arc::new(chain)),
        )
        .await?;
        let server = WalletLoaderServer {
            connection: self.connection.clone(),
            inner: loader,
        };
        results.get().set_result(capnp_rpc::new_client(server));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }

    async fn make_node(
        self: capnp::capability::Rc<Self>,
        params: init::MakeNodeParams,
        mut results: init::MakeNodeResults,
    ) -> Result<(), capnp::Error> {
        let label = "Init.makeNode";
        let params = params.get()?;
        let request = ServerRequest::received(label, &params);
        let node = self.services.node.clone().ok_or_else(|| {
            let error =
                capnp::Error::failed("this process runs no node, so it serves no Node".into());
            request.failed(label, &error);
            error
        })?;
        let server = crate::node::NodeServer {
            connection: self.connection.clone(),
            inner: node,
        };
        results.get().set_result(capnp_rpc::new_client(server));
        request.responded(label, &"(result = <capability>)");
        Ok(())
    }
}

/// Echo: returns its argument, computed on the thread the context names.
pub struct EchoServer {
    connection: Rc<Connection>,
}

impl EchoServer {
    pub fn new(connection: Rc<Connection>) -> EchoServer {
        EchoServer { connection }
    }
}

impl echo::Server for EchoServer {
    fn destroy(
        self: capnp::capability::Rc<Self>,
        _: echo::DestroyParams,
        _: echo::DestroyResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        // Echo holds nothing to free; the object goes when the peer
        // releases its capability.
        std::future::ready(Ok(()))
    }

    async fn echo(
        self: capnp::capability::Rc<Self>,
        params: echo::EchoParams,
        mut results: echo::EchoResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Echo.echo", &params);
        let text = params.get_echo()?.to_string()?;
        let context = params.get_context();
        let answer = run_on_worker(
            &self.connection,
            "Echo.echo",
            &request,
            context,
            move || text,
        )
        .await?;
        let mut results = results.get();
        results.set_result(answer.as_str());
        request.responded("Echo.echo", &results.into_reader());
        Ok(())
    }
}

/// Core's `Rpc`: JSON-RPC requests run as the HTTP server would run them.
pub struct RpcServer {
    connection: Rc<Connection>,
    execute: ExecuteRpc,
}

impl crate::rpc_capnp::rpc::Server for RpcServer {
    async fn execute_rpc(
        self: capnp::capability::Rc<Self>,
        params: crate::rpc_capnp::rpc::ExecuteRpcParams,
        mut results: crate::rpc_capnp::rpc::ExecuteRpcResults,
    ) -> Result<(), capnp::Error> {
        let label = "Rpc.executeRpc";
        let params = params.get()?;
        let request_log = ServerRequest::received(label, &params);
        let text = |t: capnp::Result<capnp::text::Reader>| -> capnp::Result<String> {
            t?.to_string()
                .map_err(|_| capnp::Error::failed("malformed text".into()))
        };
        let (body, uri, user) = (
            text(params.get_request())?,
            text(params.get_uri())?,
            text(params.get_user())?,
        );
        let execute = self.execute.clone();
        let reply = run_on_worker(
            &self.connection,
            label,
            &request_log,
            params.get_context(),
            move || execute(&body, &uri, &user),
        )
        .await?;
        results.get().set_result(reply.as_str());
        request_log.responded(label, &"(result = <text>)");
        Ok(())
    }
}

/// The `Init` every c1pzo process serves on `connection`.
pub fn init_bootstrap(connection: Rc<Connection>) -> capnp::capability::Client {
    let init: init::Client = capnp_rpc::new_client(InitServer::new(connection));
    init.client
}

/// An `Init` bootstrap that also serves `services`.
pub fn init_bootstrap_with(
    services: Services,
) -> impl Fn(Rc<Connection>) -> capnp::capability::Client + Clone {
    move |connection| {
        let init: init::Client =
            capnp_rpc::new_client(InitServer::with_services(connection, services.clone()));
        init.client
    }
}

/// Serves `Init` on a parent's socket until it hangs up (or, where the
/// platform watches the parent itself, until it exits). The calling
/// thread becomes the process's event loop, as a spawned child's main
/// thread does in Bitcoin Core.
pub fn serve_parent(stream: PairStream) -> std::io::Result<()> {
    serve_parent_with(stream, init_bootstrap)
}

/// [`serve_parent`] with another bootstrap object (tests and benchmarks).
pub fn serve_parent_with(
    stream: PairStream,
    bootstrap: impl FnOnce(Rc<Connection>) -> capnp::capability::Client,
) -> std::io::Result<()> {
    LoopHandle::block_on_here(|_loop| async move {
        let parent_exited = async {
            platform::parent_exited().await;
            ipc_log!(
                Level::Info,
                "IPC: parent process exited without closing its socket; leaving."
            );
        };
        serve_stream_until(SocketStream::new(stream)?, bootstrap, parent_exited).await;
        Ok(())
    })?
}

/// Accepts connections on `listener` and serves `bootstrap` on each, on the
/// current LocalSet, forever. One bad peer only ends its own connection;
/// a tcp peer without the cookie never gets past it.
pub async fn accept(
    listener: Listener,
    bootstrap: impl Fn(Rc<Connection>) -> capnp::capability::Client + Clone + 'static,
) -> std::io::Result<()> {
    // Out of descriptors, say: keep serving the peers we have and try
    // again shortly, rather than stop listening.
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(50));
    match listener {
        Listener::Unix(listener, _) => {
            let listener = UnixAcceptor::new(listener)?;
            loop {
                match listener.accept().await {
                    Ok(stream) => {
                        let Ok(stream) = SocketStream::new(stream) else {
                            continue;
                        };
                        tokio::task::spawn_local(serve_stream(stream, bootstrap.clone()));
                    }
                    Err(_) => pause().await,
                }
            }
        }
        Listener::Tcp { listener, cookie } => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let cookie = Rc::new(cookie);
            loop {
                match listener.accept().await {
                    Ok((mut stream, peer)) => {
                        let cookie = cookie.clone();
                        let bootstrap = bootstrap.clone();
                        tokio::task::spawn_local(async move {
                            if !check_cookie(&mut stream, &cookie).await {
                                ipc_log!(
                                    Level::Warning,
                                    "IPC server: refused tcp connection from {peer}: missing or wrong cookie."
                                );
                                return;
                            }
                            let _ = stream.set_nodelay(true);
                            if let Ok(stream) = stream.into_std().and_then(SocketStream::new) {
                                serve_stream(stream, bootstrap).await;
                            }
                        });
                    }
                    Err(_) => pause().await,
                }
            }
        }
    }
}

/// Listens on every listener and serves `Init` on each connection, the
/// calling thread being the event loop, until `stop` resolves.
pub fn listen_blocking(
    listeners: Vec<Listener>,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    listen_blocking_with(listeners, init_bootstrap, stop)
}

/// [`listen_blocking`] serving `bootstrap` (an `Init` with services).
pub fn listen_blocking_with(
    listeners: Vec<Listener>,
    bootstrap: impl Fn(Rc<Connection>) -> capnp::capability::Client + Clone + 'static,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    LoopHandle::block_on_here(|_loop| async move {
        let mut accepting = Vec::new();
        for listener in listeners {
            accepting.push(tokio::task::spawn_local(accept(
                listener,
                bootstrap.clone(),
            )));
        }
        stop.await;
        for task in accepting {
            task.abort();
        }
    })
}
