//! The `Init` every c1pzo process serves, with `Echo`, and the plumbing to
//! serve it on a stream: a two-party vat on a tokio current-thread runtime
//! and LocalSet (capnp-rpc objects are not `Send`).

use std::os::unix::net::UnixStream;

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::twoparty::VatNetwork;
use capnp_rpc::RpcSystem;
use futures::io::{BufReader, BufWriter};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::echo_capnp::echo;
use crate::init_capnp::init;
use crate::proxy_capnp::{context, thread};
use crate::threads::{ThreadMapServer, Threads};

/// What Bitcoin Core answers on the retired `makeMiningOld2` ordinal, as
/// its clients see it (C++ exceptions reach them as `std::exception: ...`).
pub const MINING_OLD2: &str =
    "std::exception: Old mining interface (@2) not supported. Please update your client!";

fn context_thread(
    context: capnp::Result<context::Reader>,
) -> capnp::Result<Option<thread::Client>> {
    let context = context?;
    if !context.has_thread() {
        return Ok(None);
    }
    Ok(Some(context.get_thread()?))
}

/// `Init` for one connection.
pub struct InitServer {
    threads: Threads,
}

impl init::Server for InitServer {
    fn construct(
        self: capnp::capability::Rc<Self>,
        _: init::ConstructParams,
        mut results: init::ConstructResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let map: crate::proxy_capnp::thread_map::Client = capnp_rpc::new_client(ThreadMapServer {
            threads: self.threads.clone(),
        });
        results.get().set_thread_map(map);
        std::future::ready(Ok(()))
    }

    async fn make_echo(
        self: capnp::capability::Rc<Self>,
        params: init::MakeEchoParams,
        mut results: init::MakeEchoResults,
    ) -> Result<(), capnp::Error> {
        let thread = context_thread(params.get()?.get_context())?;
        // Resolve the thread as Core does, so a call naming none gets
        // the same error even though making an Echo never blocks.
        self.threads.worker_for(thread).await?;
        let echo: echo::Client = capnp_rpc::new_client(EchoServer {
            threads: self.threads.clone(),
        });
        results.get().set_result(echo);
        Ok(())
    }

    fn make_mining_old2(
        self: capnp::capability::Rc<Self>,
        _: init::MakeMiningOld2Params,
        _: init::MakeMiningOld2Results,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        std::future::ready(Err(capnp::Error::failed(MINING_OLD2.into())))
    }
}

/// Echo: returns its argument, computed on the thread the context names.
pub struct EchoServer {
    threads: Threads,
}

impl echo::Server for EchoServer {
    fn destroy(
        self: capnp::capability::Rc<Self>,
        _: echo::DestroyParams,
        _: echo::DestroyResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        std::future::ready(Ok(()))
    }

    async fn echo(
        self: capnp::capability::Rc<Self>,
        params: echo::EchoParams,
        mut results: echo::EchoResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let thread = context_thread(params.get_context())?;
        let text = params.get_echo()?.to_string()?;
        let worker = self.threads.worker_for(thread).await?;
        let answer = worker.run(move || text).await?;
        results.get().set_result(answer.as_str());
        Ok(())
    }
}

/// Serves `Init` on one connection until the peer disconnects. Must run
/// inside a LocalSet (the process's event loop).
pub async fn serve_connection(stream: tokio::net::UnixStream) {
    let (reader, writer) = stream.into_split();
    let network = VatNetwork::new(
        BufReader::new(reader.compat()),
        BufWriter::new(writer.compat_write()),
        Side::Server,
        Default::default(),
    );
    let init: init::Client = capnp_rpc::new_client(InitServer {
        threads: Threads::default(),
    });
    let system = RpcSystem::new(Box::new(network), Some(init.client));
    // Ends with an error when the peer goes away or sends garbage; either
    // way this connection is done and its server objects are dropped.
    let _ = system.await;
}

/// A process's event loop: a current-thread runtime and the LocalSet that
/// capnp-rpc's `!Send` objects live on.
pub fn event_loop() -> std::io::Result<(tokio::runtime::Runtime, tokio::task::LocalSet)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok((runtime, tokio::task::LocalSet::new()))
}

/// Serves `Init` on `stream` until the peer disconnects. Blocks the calling
/// thread, which becomes the process's event loop (a spawned child's case).
pub fn serve_blocking(stream: UnixStream) -> std::io::Result<()> {
    stream.set_nonblocking(true)?;
    let (runtime, local) = event_loop()?;
    local.block_on(&runtime, async move {
        serve_connection(tokio::net::UnixStream::from_std(stream)?).await;
        Ok(())
    })
}

/// Accepts connections on `listener` and serves `Init` on each, all on the
/// calling thread's event loop, until `stop` resolves. One bad peer only
/// ends its own connection.
pub fn listen_blocking(
    listener: std::os::unix::net::UnixListener,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let (runtime, local) = event_loop()?;
    local.block_on(&runtime, async move {
        let listener = tokio::net::UnixListener::from_std(listener)?;
        let accept = async {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::task::spawn_local(serve_connection(stream));
                    }
                    // Out of descriptors, say: keep serving the peers we
                    // have and try again shortly, rather than stop listening.
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
        };
        tokio::select! {
            () = accept => Ok(()),
            () = stop => Ok(()),
        }
    })
}
