//! The test interface (`schema/ipc_test.capnp`): a server and blocking
//! clients the runtime tests and `cargo xtask bench ipc` drive across real
//! processes. It exercises what `Echo` cannot: blocking calls, callbacks
//! from server to client, server errors and object lifetimes.

use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::client::{connect, Construct};
use crate::connection::ConnectionHandle;
use crate::connection::{run_on_worker, Connection, ServerRequest};
use crate::error::IpcError;
use crate::event_loop::{Local, LoopHandle};
use crate::ipc_test_capnp::{test_callback, test_init, tester};
use crate::listen::Stream;
use crate::proxy_capnp::thread_map;

/// Tester objects alive in this process.
static LIVE_TESTERS: AtomicU32 = AtomicU32::new(0);

/// Tester objects alive in this process (servers run in-process count here).
pub fn live_testers() -> u32 {
    LIVE_TESTERS.load(Ordering::SeqCst)
}

/// The bootstrap a test peer serves.
pub fn test_bootstrap(connection: Rc<Connection>) -> capnp::capability::Client {
    let init: test_init::Client = capnp_rpc::new_client(TestInitServer { connection });
    init.client
}

struct TestInitServer {
    connection: Rc<Connection>,
}

impl test_init::Server for TestInitServer {
    async fn construct(
        self: capnp::capability::Rc<Self>,
        params: test_init::ConstructParams,
        mut results: test_init::ConstructResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        if params.has_thread_map() {
            self.connection.set_peer_threads(params.get_thread_map()?);
        }
        results.get().set_thread_map(self.connection.thread_map());
        Ok(())
    }

    async fn make_tester(
        self: capnp::capability::Rc<Self>,
        params: test_init::MakeTesterParams,
        mut results: test_init::MakeTesterResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("TestInit.makeTester", &params);
        run_on_worker(
            &self.connection,
            "TestInit.makeTester",
            &request,
            params.get_context(),
            || (),
        )
        .await?;
        LIVE_TESTERS.fetch_add(1, Ordering::SeqCst);
        let tester: tester::Client = capnp_rpc::new_client(TesterServer {
            connection: self.connection.clone(),
        });
        results.get().set_result(tester);
        Ok(())
    }

    async fn live_testers(
        self: capnp::capability::Rc<Self>,
        _: test_init::LiveTestersParams,
        mut results: test_init::LiveTestersResults,
    ) -> Result<(), capnp::Error> {
        results
            .get()
            .set_result(LIVE_TESTERS.load(Ordering::SeqCst));
        Ok(())
    }
}

struct TesterServer {
    connection: Rc<Connection>,
}

impl Drop for TesterServer {
    fn drop(&mut self) {
        LIVE_TESTERS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl tester::Server for TesterServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: tester::DestroyParams,
        _: tester::DestroyResults,
    ) -> Result<(), capnp::Error> {
        // Nothing is freed early: the object goes when the client releases
        // the capability right after destroy, or when the peer disconnects.
        Ok(())
    }

    async fn add(
        self: capnp::capability::Rc<Self>,
        params: tester::AddParams,
        mut results: tester::AddResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Tester.add", &params);
        let (a, b) = (params.get_a(), params.get_b());
        let sum = run_on_worker(
            &self.connection,
            "Tester.add",
            &request,
            params.get_context(),
            move || a.wrapping_add(b),
        )
        .await?;
        results.get().set_result(sum);
        request.responded("Tester.add", &results.get().into_reader());
        Ok(())
    }

    async fn sleep(
        self: capnp::capability::Rc<Self>,
        params: tester::SleepParams,
        _: tester::SleepResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Tester.sleep", &params);
        let millis = params.get_millis();
        run_on_worker(
            &self.connection,
            "Tester.sleep",
            &request,
            params.get_context(),
            move || std::thread::sleep(std::time::Duration::from_millis(millis.into())),
        )
        .await
    }

    async fn call_back(
        self: capnp::capability::Rc<Self>,
        params: tester::CallBackParams,
        mut results: tester::CallBackResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Tester.callBack", &params);
        let context = params.get_context()?;
        // The callback runs on the client thread that is waiting on this
        // call: the thread it named as its callback thread.
        let callback_thread = Local::new(context.get_callback_thread()?);
        let callback = Local::new(params.get_callback()?);
        let connection = Local::new(self.connection.clone());
        let value = params.get_value();
        let handle = callback.handle().clone();
        let answer = run_on_worker(
            &self.connection,
            "Tester.callBack",
            &request,
            Ok(context),
            move || {
                let (thread, callback, connection) =
                    (callback_thread.key(), callback.key(), connection.key());
                handle.sync(move |caller| async move {
                    let (Some(thread), Some(callback), Some(connection)) =
                        (thread.get(), callback.get(), connection.get())
                    else {
                        return Err(IpcError::Disconnected);
                    };
                    let mut call = callback.call_request();
                    call.get().init_context().set_thread(thread);
                    call.get().set_value(value);
                    let response = connection.call(&caller, "TestCallback.call", call).await?;
                    Ok(response.get()?.get_result())
                })
            },
        )
        .await?
        .map_err(|e| capnp::Error::failed(format!("callback failed: {e}")))?;
        results.get().set_result(answer + 1);
        Ok(())
    }

    async fn fail(
        self: capnp::capability::Rc<Self>,
        params: tester::FailParams,
        _: tester::FailResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Tester.fail", &params);
        let message = params.get_message()?.to_string()?;
        let message = run_on_worker(
            &self.connection,
            "Tester.fail",
            &request,
            params.get_context(),
            move || message,
        )
        .await?;
        let error = capnp::Error::failed(message);
        request.failed("Tester.fail", &error);
        Err(error)
    }

    async fn thread_name(
        self: capnp::capability::Rc<Self>,
        params: tester::ThreadNameParams,
        mut results: tester::ThreadNameResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Tester.threadName", &params);
        let name = run_on_worker(
            &self.connection,
            "Tester.threadName",
            &request,
            params.get_context(),
            crate::log::thread_tag,
        )
        .await?;
        results.get().set_result(name.as_str());
        Ok(())
    }

    async fn plain_echo(
        self: capnp::capability::Rc<Self>,
        params: tester::PlainEchoParams,
        mut results: tester::PlainEchoResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_result(params.get()?.get_echo()?);
        Ok(())
    }
}

/// A client-side callback: runs `f` on the thread that is waiting for the
/// call the callback belongs to.
struct CallbackServer {
    connection: Rc<Connection>,
    f: Arc<dyn Fn(i64) -> i64 + Send + Sync>,
}

impl test_callback::Server for CallbackServer {
    async fn call(
        self: capnp::capability::Rc<Self>,
        params: test_callback::CallParams,
        mut results: test_callback::CallResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("TestCallback.call", &params);
        let (f, value) = (self.f.clone(), params.get_value());
        let answer = run_on_worker(
            &self.connection,
            "TestCallback.call",
            &request,
            params.get_context(),
            move || f(value),
        )
        .await?;
        results.get().set_result(answer);
        Ok(())
    }
}

impl Construct for test_init::Client {
    fn construct(&self, ours: thread_map::Client) -> thread_map::Client {
        let mut request = self.construct_request();
        request.get().set_thread_map(ours);
        request.send().pipeline.get_thread_map()
    }
}

/// The peer's `TestInit`.
pub struct TestInitClient {
    connection: Arc<ConnectionHandle>,
    init: Local<test_init::Client>,
}

impl TestInitClient {
    pub fn connect(handle: &LoopHandle, stream: Stream) -> Result<TestInitClient, IpcError> {
        let (connection, init) = connect(handle, stream)?;
        Ok(TestInitClient { connection, init })
    }

    pub fn make_tester(&self) -> Result<TesterClient, IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        let tester = self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let mut request = init.make_tester_request();
            connection.set_context(&caller, request.get().init_context())?;
            let response = connection
                .call(&caller, "TestInit.makeTester", request)
                .await?;
            Ok(Local::new(response.get()?.get_result()?))
        })?;
        Ok(TesterClient {
            connection: self.connection.clone(),
            tester,
        })
    }

    pub fn live_testers(&self) -> Result<u32, IpcError> {
        let (connection, init) = (self.connection.local().key(), self.init.key());
        self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let init = init.get().ok_or(IpcError::Disconnected)?;
            let response = connection
                .call(&caller, "TestInit.liveTesters", init.live_testers_request())
                .await?;
            Ok(response.get()?.get_result())
        })
    }
}

/// The peer's `Tester`, callable from any thread.
pub struct TesterClient {
    connection: Arc<ConnectionHandle>,
    tester: Local<tester::Client>,
}

/// Makes a request with a `Context` for the calling thread, lets `fill`
/// set its parameters, sends it and hands the response to `read`.
macro_rules! tester_call {
    ($self:ident, $method:ident, $label:literal, |$params:ident| $fill:expr, |$response:ident| $read:expr) => {{
        let (connection, tester) = ($self.connection.local().key(), $self.tester.key());
        $self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let tester = tester.get().ok_or(IpcError::Disconnected)?;
            let mut request = tester.$method();
            {
                let mut $params = request.get();
                connection.set_context(&caller, $params.reborrow().init_context())?;
                #[allow(clippy::no_effect)]
                $fill;
            }
            let $response = connection.call(&caller, $label, request).await?;
            Ok($read)
        })
    }};
}

impl TesterClient {
    pub fn add(&self, a: i64, b: i64) -> Result<i64, IpcError> {
        tester_call!(
            self,
            add_request,
            "Tester.add",
            |params| {
                params.set_a(a);
                params.set_b(b);
            },
            |response| response.get()?.get_result()
        )
    }

    pub fn sleep(&self, millis: u32) -> Result<(), IpcError> {
        tester_call!(
            self,
            sleep_request,
            "Tester.sleep",
            |params| params.set_millis(millis),
            |_response| ()
        )
    }

    pub fn fail(&self, message: &str) -> Result<(), IpcError> {
        let message = message.to_string();
        tester_call!(
            self,
            fail_request,
            "Tester.fail",
            |params| params.set_message(message.as_str()),
            |_response| ()
        )
    }

    pub fn thread_name(&self) -> Result<String, IpcError> {
        tester_call!(
            self,
            thread_name_request,
            "Tester.threadName",
            |params| (),
            |response| {
                response
                    .get()?
                    .get_result()?
                    .to_string()
                    .map_err(|e| IpcError::Protocol(e.to_string()))?
            }
        )
    }

    /// `Tester.callBack`: the server calls `f(value)` back over IPC, and
    /// `f` runs on this thread while it waits.
    pub fn call_back(
        &self,
        value: i64,
        f: impl Fn(i64) -> i64 + Send + Sync + 'static,
    ) -> Result<i64, IpcError> {
        let f: Arc<dyn Fn(i64) -> i64 + Send + Sync> = Arc::new(f);
        let (connection, tester) = (self.connection.local().key(), self.tester.key());
        self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let tester = tester.get().ok_or(IpcError::Disconnected)?;
            let callback: test_callback::Client = capnp_rpc::new_client(CallbackServer {
                connection: connection.clone(),
                f,
            });
            let mut request = tester.call_back_request();
            let mut params = request.get();
            connection.set_context(&caller, params.reborrow().init_context())?;
            params.set_callback(callback);
            params.set_value(value);
            let response = connection.call(&caller, "Tester.callBack", request).await?;
            Ok(response.get()?.get_result())
        })
    }

    /// `Tester.plainEcho`: no `Context`, answered on the peer's loop.
    pub fn plain_echo(&self, text: &str) -> Result<String, IpcError> {
        let (connection, tester) = (self.connection.local().key(), self.tester.key());
        let text = text.to_string();
        self.connection.handle().sync(move |caller| async move {
            let connection = connection.get().ok_or(IpcError::Disconnected)?;
            let tester = tester.get().ok_or(IpcError::Disconnected)?;
            let mut request = tester.plain_echo_request();
            request.get().set_echo(text.as_str());
            let response = connection
                .call(&caller, "Tester.plainEcho", request)
                .await?;
            response
                .get()?
                .get_result()?
                .to_string()
                .map_err(|e| IpcError::Protocol(e.to_string()))
        })
    }

    /// `Tester.destroy`, then the capability is released.
    pub fn destroy(self) -> Result<(), IpcError> {
        tester_call!(
            self,
            destroy_request,
            "Tester.destroy",
            |params| (),
            |_response| ()
        )
    }
}
