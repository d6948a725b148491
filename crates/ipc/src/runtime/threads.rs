//! Server threads, as libmultiprocess's `ThreadMap` hands them out: a
//! client creates named workers (`makeThread`) or a pool (`makePool`), then
//! names a worker in each call's `Context`. Calls carrying the same worker
//! run on it one after another; calls carrying none go to the pool.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;

use crate::mailbox::{self, Sender};

use capnp_rpc::CapabilityServerSet;

use crate::proxy_capnp::{context, thread, thread_map};

use crate::event_loop::Job;

/// Starts an OS thread that runs `jobs` until every sender is gone, and
/// returns the name it logs under: `<exe>-<pid>/<tid> <suffix>`, the form
/// libmultiprocess gives its server threads.
fn spawn_worker_thread(
    suffix: String,
    jobs: impl FnMut() -> Option<Job> + Send + 'static,
) -> std::io::Result<String> {
    let (named, name) = mpsc::channel();
    let mut jobs = jobs;
    std::thread::Builder::new()
        // Linux shows 15 bytes of a thread name; the full one is logged.
        .name("capnp-worker".into())
        .spawn(move || {
            let name = format!(
                "{}-{}/{} {suffix}",
                crate::log::exe_name(),
                std::process::id(),
                crate::log::os_thread_id()
            );
            crate::log::set_thread_name(name.clone());
            let _ = named.send(name);
            while let Some(job) = jobs() {
                job();
            }
        })?;
    name.recv()
        .map_err(|_| std::io::Error::other("server thread died while starting"))
}

/// Where calls run: one OS thread taking them in order, a pool of threads
/// sharing one queue, or a client thread waiting on a call of its own
/// (where the peer's callbacks to it run).
pub struct Worker {
    name: String,
    jobs: Sender<Job>,
    /// Held by threads a peer made, so the connection knows how many live.
    _slot: Option<ThreadSlot>,
}

/// One of a connection's peer-made threads; freed when its worker goes.
struct ThreadSlot(Rc<std::cell::Cell<u32>>);

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Worker {
    /// One thread of its own, made for the peer thread `client_name`.
    pub fn start(client_name: &str) -> std::io::Result<Worker> {
        let (jobs, queue) = mailbox::mailbox::<Job>();
        // Ends when every sender (the capability and its clones) is gone.
        let name = spawn_worker_thread(format!("(from {client_name})"), move || queue.recv())?;
        Ok(Worker {
            name,
            jobs,
            _slot: None,
        })
    }

    /// `count` threads sharing one queue, as libmultiprocess's pool: a call
    /// goes to whichever thread is free first, never behind a busy one.
    pub fn start_pool(count: u32) -> std::io::Result<Worker> {
        let (jobs, queue) = mailbox::mailbox::<Job>();
        let queue = std::sync::Arc::new(queue);
        for i in 0..count.max(1) {
            let queue = queue.clone();
            spawn_worker_thread(format!("(pool/{i})"), move || queue.recv())?;
        }
        Ok(Worker {
            name: format!("{}-{} (pool)", crate::log::exe_name(), std::process::id()),
            jobs,
            _slot: None,
        })
    }

    /// A client thread, reached through the jobs it runs while it waits.
    pub fn waiting(name: String, jobs: Sender<Job>) -> Worker {
        Worker {
            name,
            jobs,
            _slot: None,
        }
    }

    /// The name the peer sees (`Thread.getName`) and logs show.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on this worker and resolves with its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, capnp::Error> {
        let (reply, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(f());
        });
        self.jobs.send(job).map_err(|_| {
            capnp::Error::failed(format!("server thread {} has stopped", self.name))
        })?;
        result.await.map_err(|_| {
            capnp::Error::failed(format!("server thread {} dropped the call", self.name))
        })
    }
}

impl thread::Server for Worker {
    fn get_name(
        self: capnp::capability::Rc<Self>,
        _: thread::GetNameParams,
        mut results: thread::GetNameResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        results.get().set_result(self.name.as_str());
        std::future::ready(Ok(()))
    }
}

/// The threads one connection created, shared by every server object on it.
#[derive(Clone, Default)]
pub struct Threads {
    inner: Rc<RefCell<ThreadsInner>>,
}

#[derive(Default)]
struct ThreadsInner {
    named: CapabilityServerSet<Worker, thread::Client>,
    pool: Option<Rc<Worker>>,
    /// Threads the peer made with makeThread that are still alive.
    made: Rc<std::cell::Cell<u32>>,
}

/// The most pool threads a peer may ask for.
pub const MAX_POOL: u32 = 64;

/// The most threads one peer may have made at a time with makeThread (a
/// client makes one per calling thread; Bitcoin Core's node has ~50).
pub const MAX_THREADS: u32 = 1024;

/// The answer Bitcoin Core's servers give a call with no thread and no pool.
pub const NO_THREAD: &str = "no thread specified and no pool configured";

impl Threads {
    /// Exports `worker` as a `Thread` capability the peer can name in a
    /// call's context.
    pub fn export(&self, worker: Worker) -> thread::Client {
        self.inner.borrow_mut().named.new_client(worker)
    }

    /// Finds the worker a call's `Context` names, else the pool, else fails
    /// as libmultiprocess does.
    pub async fn worker_for(
        &self,
        thread: Option<thread::Client>,
    ) -> Result<Rc<Worker>, capnp::Error> {
        if let Some(client) = thread {
            // A Thread the peer passes back is one of ours; once resolved it
            // maps to its local server. (No borrow is held across the await,
            // so makeThread on the same connection is never blocked.)
            client.client.when_resolved().await?;
            let worker = self
                .inner
                .borrow()
                .named
                .get_local_server_of_resolved(&client);
            return worker.ok_or_else(|| capnp::Error::failed("unknown thread in context".into()));
        }
        self.inner
            .borrow()
            .pool
            .clone()
            .ok_or_else(|| capnp::Error::failed(NO_THREAD.into()))
    }
}

/// `ThreadMap`, served to the peer by `Init.construct`.
pub struct ThreadMapServer {
    pub threads: Threads,
}

impl thread_map::Server for ThreadMapServer {
    fn make_thread(
        self: capnp::capability::Rc<Self>,
        params: thread_map::MakeThreadParams,
        mut results: thread_map::MakeThreadResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let outcome = (|| {
            // Thread names cannot hold NUL; a peer must not crash us with one.
            let name = params.get()?.get_name()?.to_string()?.replace('\0', "");
            let made = self.threads.inner.borrow().made.clone();
            if made.get() >= MAX_THREADS {
                return Err(capnp::Error::failed(format!(
                    "makeThread: this connection already has {MAX_THREADS} threads"
                )));
            }
            let mut worker =
                Worker::start(&name).map_err(|e| capnp::Error::failed(e.to_string()))?;
            made.set(made.get() + 1);
            worker._slot = Some(ThreadSlot(made));
            results.get().set_result(self.threads.export(worker));
            Ok(())
        })();
        std::future::ready(outcome)
    }

    fn make_pool(
        self: capnp::capability::Rc<Self>,
        params: thread_map::MakePoolParams,
        _: thread_map::MakePoolResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let outcome = (|| {
            let count = params.get()?.get_count();
            // Thread counts come from the peer: keep them sane.
            if count > MAX_POOL {
                return Err(capnp::Error::failed(format!(
                    "makePool: {count} threads requested, at most {MAX_POOL} allowed"
                )));
            }
            let pool =
                Worker::start_pool(count).map_err(|e| capnp::Error::failed(e.to_string()))?;
            self.threads.inner.borrow_mut().pool = Some(Rc::new(pool));
            Ok(())
        })();
        std::future::ready(outcome)
    }
}

/// The worker thread a request's `Context` names, if it names one (a
/// call without one runs on the pool).
pub(crate) fn context_thread(
    context: capnp::Result<context::Reader>,
) -> capnp::Result<Option<thread::Client>> {
    let context = context?;
    if !context.has_thread() {
        return Ok(None);
    }
    Ok(Some(context.get_thread()?))
}
