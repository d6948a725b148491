//! One connection between two c1pzo processes (or a c1pzo process and any
//! client speaking Bitcoin Core's IPC): a two-party Cap'n Proto vat on a
//! byte stream, the threads each side made on the other, and what happens
//! when the peer goes away. Lives on the event loop; other threads reach it
//! through [`crate::event_loop::Local`] handles.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::ThreadId;

use capnp::capability::{Request, Response};
use capnp::traits::Owned;
use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::twoparty::VatNetwork;
use capnp_rpc::RpcSystem;
use futures::io::{BufReader, BufWriter};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::error::IpcError;
use crate::event_loop::{Caller, Local, LoopHandle};
use crate::ipc_log;
use crate::log::Level;
use crate::proxy_capnp::{context, thread, thread_map};
use crate::threads::{ThreadMapServer, Threads, Worker};

/// Resolves once the RPC system has hung up (capnp-rpc's `Disconnector`,
/// whose type it does not export).
type Disconnector = std::pin::Pin<Box<dyn std::future::Future<Output = capnp::Result<()>>>>;

/// Logs a line under the calling thread's tag, not the loop's.
macro_rules! client_log {
    ($tag:expr, $level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write_as($level, $tag, format_args!($($arg)*));
        }
    };
}

/// The threads one local OS thread uses on a connection.
struct ClientThreads {
    remote: thread::Client,
    callback: thread::Client,
    /// The local thread's mailbox; closed once that thread has exited.
    waiter: crate::mailbox::Sender<crate::event_loop::Job>,
}

impl ClientThreads {
    /// Whether the local thread still exists (its mailbox goes with it).
    fn alive(&self) -> bool {
        self.waiter.is_connected()
    }
}

/// The state of one connection, shared by the server objects it serves and
/// the clients that call through it.
pub struct Connection {
    /// Threads this side made for the peer, and callback threads it offers.
    threads: Threads,
    /// The peer's `ThreadMap`, once `Init.construct` has exchanged them.
    peer_threads: RefCell<Option<thread_map::Client>>,
    /// For each local OS thread that has called through this connection:
    /// the peer thread its calls run on, and the local thread the peer's
    /// callbacks to it run on. Made once, reused, as libmultiprocess does.
    client_threads: RefCell<HashMap<ThreadId, ClientThreads>>,
    disconnected: Cell<bool>,
    /// Set while this side is the one hanging up, so the disconnect is
    /// not reported as unexpected.
    closing: Cell<bool>,
    disconnector: RefCell<Option<Disconnector>>,
}

impl Connection {
    fn new() -> Rc<Connection> {
        Rc::new(Connection {
            threads: Threads::default(),
            peer_threads: RefCell::new(None),
            client_threads: RefCell::new(HashMap::new()),
            disconnected: Cell::new(false),
            closing: Cell::new(false),
            disconnector: RefCell::new(None),
        })
    }

    /// The threads peers name in calls to objects served on this connection.
    pub fn threads(&self) -> &Threads {
        &self.threads
    }

    /// This side's `ThreadMap`, for `Init.construct`.
    pub fn thread_map(&self) -> thread_map::Client {
        capnp_rpc::new_client(ThreadMapServer {
            threads: self.threads.clone(),
        })
    }

    /// Records the peer's `ThreadMap` (from `Init.construct`).
    pub fn set_peer_threads(&self, map: thread_map::Client) {
        *self.peer_threads.borrow_mut() = Some(map);
    }

    pub fn is_disconnected(&self) -> bool {
        self.disconnected.get()
    }

    /// Hangs up: the peer sees the socket close, and calls still in flight
    /// fail with [`IpcError::Interrupted`].
    pub fn disconnect(&self) {
        self.closing.set(true);
        if let Some(disconnector) = self.disconnector.borrow_mut().take() {
            tokio::task::spawn_local(async move {
                let _ = disconnector.await;
            });
        }
    }

    fn on_disconnect(&self) {
        self.disconnected.set(true);
        // Drops the peer's threads and our callback threads with it.
        self.client_threads.borrow_mut().clear();
        self.peer_threads.borrow_mut().take();
        self.disconnector.borrow_mut().take();
    }

    /// Fills a call's `Context` for `caller`: the peer thread its calls run
    /// on (made on first use, pipelined so it costs no round trip) and the
    /// local thread the peer's callbacks to it run on.
    pub fn set_context(
        &self,
        caller: &Caller,
        mut context: context::Builder,
    ) -> Result<(), IpcError> {
        if self.disconnected.get() {
            return Err(IpcError::Disconnected);
        }
        let mut cache = self.client_threads.borrow_mut();
        if !cache.contains_key(&caller.thread) {
            // A new caller: forget threads that have exited since, so
            // their peer threads are released rather than kept forever.
            cache.retain(|_, threads| threads.alive());
        }
        if let std::collections::hash_map::Entry::Vacant(entry) = cache.entry(caller.thread) {
            let map = self.peer_threads.borrow().clone().ok_or_else(|| {
                IpcError::Protocol("no ThreadMap from the peer (Init.construct not called)".into())
            })?;
            client_log!(
                &caller.name,
                Level::Info,
                "IPC client first request from current thread, constructing waiter"
            );
            let mut request = map.make_thread_request();
            request.get().set_name(&*caller.name);
            let remote = request.send().pipeline.get_result();
            let callback = self.threads.export(Worker::waiting(
                caller.name.to_string(),
                caller.jobs.clone(),
            ));
            entry.insert(ClientThreads {
                remote,
                callback,
                waiter: caller.jobs.clone(),
            });
        }
        let threads = &cache[&caller.thread];
        context.set_thread(threads.remote.clone());
        context.set_callback_thread(threads.callback.clone());
        Ok(())
    }

    /// Sends `request` and waits for its results, logging both ends as
    /// libmultiprocess does (`label` is `Iface.method`). A call on a dead
    /// connection fails at once; one the disconnect cuts short fails with
    /// [`IpcError::Interrupted`].
    pub async fn call<P, R>(
        &self,
        caller: &Caller,
        label: &str,
        request: Request<P, R>,
    ) -> Result<Response<R>, IpcError>
    where
        P: Owned,
        P: 'static,
        R: Owned + capnp::traits::Pipelined + Unpin + 'static,
        R::Pipeline: capnp::capability::FromTypelessPipeline,
        for<'a> R::Reader<'a>: std::fmt::Debug,
        for<'a> P::Builder<'a>: Into<capnp::dynamic_value::Builder<'a>>,
    {
        if self.disconnected.get() {
            return Err(IpcError::Disconnected);
        }
        let tag = &caller.name;
        client_log!(tag, Level::Debug, "IPC client send {label}$Params");
        let mut request = request;
        if crate::log::enabled(Level::Trace) {
            let params: capnp::dynamic_value::Builder = request.get().into();
            let data = format!("{:?}", params.into_reader());
            client_log!(tag, Level::Trace, "send data: {}", crate::log::data(&data));
        }
        let response = request.send().promise.await.map_err(|error| {
            client_log!(tag, Level::Info, "IPC client exception {error}");
            if self.disconnected.get() {
                IpcError::Interrupted
            } else {
                IpcError::from_call(error)
            }
        })?;
        client_log!(tag, Level::Debug, "IPC client recv {label}$Results");
        if crate::log::enabled(Level::Trace) {
            if let Ok(results) = response.get() {
                let data = format!("{results:?}");
                client_log!(tag, Level::Trace, "recv data: {}", crate::log::data(&data));
            }
        }
        Ok(response)
    }
}

/// Counts requests served by this process, for `#<n>` in log lines.
static SERVER_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// One request a server is handling, logged in libmultiprocess's words.
pub struct ServerRequest {
    number: u64,
}

impl ServerRequest {
    /// A request has arrived; `params` prints its contents for trace lines.
    pub fn received(label: &str, params: &dyn std::fmt::Debug) -> ServerRequest {
        let number = SERVER_REQUESTS.fetch_add(1, Ordering::Relaxed) + 1;
        ipc_log!(
            Level::Debug,
            "IPC server recv request  #{number} {label}$Params"
        );
        if crate::log::enabled(Level::Trace) {
            let data = format!("{params:?}");
            ipc_log!(Level::Trace, "request data: {}", crate::log::data(&data));
        }
        ServerRequest { number }
    }

    /// The request is handed to `worker`.
    pub fn posted(&self, worker: &Worker) {
        let number = self.number;
        ipc_log!(
            Level::Debug,
            "IPC server post request  #{number} {{{}}}",
            worker.name()
        );
    }

    /// The response is going back.
    pub fn responded(&self, label: &str, results: &dyn std::fmt::Debug) {
        let number = self.number;
        ipc_log!(
            Level::Debug,
            "IPC server send response #{number} {label}$Results"
        );
        if crate::log::enabled(Level::Trace) {
            let data = format!("{results:?}");
            ipc_log!(Level::Trace, "response data: {}", crate::log::data(&data));
        }
    }

    /// The method failed with `error`.
    pub fn failed(&self, label: &str, error: &capnp::Error) {
        let number = self.number;
        ipc_log!(
            Level::Error,
            "IPC server error request #{number} {label}$Results {error}"
        );
    }
}

/// Runs `f` on the worker a request's `context` names (or the pool) and
/// returns its result, logging the hand-off. The shared body of every
/// blocking server method.
pub async fn run_on_worker<T: Send + 'static>(
    connection: &Connection,
    label: &str,
    request: &ServerRequest,
    context: capnp::Result<context::Reader<'_>>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, capnp::Error> {
    let thread = crate::threads::context_thread(context)?;
    let worker = connection
        .threads()
        .worker_for(thread)
        .await
        .inspect_err(|e| request.failed(label, e))?;
    request.posted(&worker);
    let number = request.number;
    worker
        .run(move || {
            ipc_log!(Level::Debug, "IPC server executing request #{number}");
            f()
        })
        .await
}

/// The vat network for one side of a stream.
fn vat<S>(stream: S, side: Side) -> VatNetwork<impl futures::AsyncRead + Unpin>
where
    S: AsyncRead + AsyncWrite + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    VatNetwork::new(
        BufReader::new(reader.compat()),
        BufWriter::new(writer.compat_write()),
        side,
        Default::default(),
    )
}

/// Serves `bootstrap(connection)` to the peer on `stream` until it
/// disconnects or sends something that is not Cap'n Proto; then every
/// object served on it is dropped. Must run inside a LocalSet.
pub async fn serve_stream<S>(
    stream: S,
    bootstrap: impl FnOnce(Rc<Connection>) -> capnp::capability::Client,
) where
    S: AsyncRead + AsyncWrite + 'static,
{
    serve_stream_until(stream, bootstrap, std::future::pending()).await
}

/// [`serve_stream`], ending also when `until` resolves (a spawned child's
/// parent that exited without its socket's close reaching us); the
/// connection is torn down the same way either way.
pub async fn serve_stream_until<S>(
    stream: S,
    bootstrap: impl FnOnce(Rc<Connection>) -> capnp::capability::Client,
    until: impl std::future::Future<Output = ()>,
) where
    S: AsyncRead + AsyncWrite + 'static,
{
    let connection = Connection::new();
    let network = vat(stream, Side::Server);
    let system = RpcSystem::new(Box::new(network), Some(bootstrap(connection.clone())));
    *connection.disconnector.borrow_mut() = Some(Box::pin(system.get_disconnector()));
    ipc_log!(Level::Info, "IPC server: socket connected.");
    // Ends with an error when the peer goes away or sends garbage; either
    // way this connection is done.
    tokio::select! {
        _ = system => {}
        () = until => {}
    }
    connection.on_disconnect();
    ipc_log!(Level::Info, "IPC server: socket disconnected.");
}

/// Connects to the peer on `stream`: starts the vat on the current
/// LocalSet, bootstraps the peer's object and returns it with the
/// connection. `construct` is Init's, called here so every client gets the
/// thread maps exchanged before its first call (libmultiprocess does the
/// same in its client's constructor).
pub fn connect_stream<S>(stream: S) -> (Rc<Connection>, capnp::capability::Client)
where
    S: AsyncRead + AsyncWrite + 'static,
{
    let connection = Connection::new();
    let network = vat(stream, Side::Client);
    let mut system = RpcSystem::new(Box::new(network), None);
    let bootstrap: capnp::capability::Client = system.bootstrap(Side::Server);
    *connection.disconnector.borrow_mut() = Some(Box::pin(system.get_disconnector()));
    let watched = connection.clone();
    tokio::task::spawn_local(async move {
        let _ = system.await;
        watched.on_disconnect();
        if !watched.closing.get() {
            ipc_log!(Level::Warning, "IPC client: unexpected network disconnect.");
        }
    });
    (connection, bootstrap)
}

/// A connection held from any thread. The socket closes when the last
/// client made through it is dropped.
pub struct ConnectionHandle {
    connection: Local<Rc<Connection>>,
    /// Whether dropping this handle closes the connection (the one made
    /// by `connect`) or not (handles a server makes for callbacks).
    owner: bool,
}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        let connection = self.connection.key();
        let _ = self.connection.handle().post(move || {
            if let Some(connection) = connection.get() {
                connection.disconnect();
            }
        });
    }
}

impl ConnectionHandle {
    /// The handle `connect` returns: dropping the last one closes the
    /// connection.
    pub(crate) fn owned(connection: Local<Rc<Connection>>) -> ConnectionHandle {
        ConnectionHandle {
            connection,
            owner: true,
        }
    }

    /// A handle on a connection someone else owns (a server calling back
    /// the peer that called it); dropping it leaves the connection open.
    pub fn borrowed(connection: Local<Rc<Connection>>) -> ConnectionHandle {
        ConnectionHandle {
            connection,
            owner: false,
        }
    }

    pub fn handle(&self) -> &LoopHandle {
        self.connection.handle()
    }

    pub fn local(&self) -> &Local<Rc<Connection>> {
        &self.connection
    }
}
