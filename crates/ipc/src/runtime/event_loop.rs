//! One event loop per process, as libmultiprocess has: a thread running a
//! tokio current-thread runtime and a LocalSet, because capnp-rpc objects
//! are not `Send` and must stay on the thread that made them. Any other
//! thread reaches them through a [`LoopHandle`]: it posts a closure to the
//! loop and blocks in its [`Waiter`] until the answer comes back, running
//! callbacks the peer sends to it meanwhile (so a callback made during a
//! call runs on the calling thread, as it would in one process).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use crate::error::IpcError;
use crate::mailbox::{self, Receiver, Sender};

/// Work sent to a thread: a closure for the loop, a call or callback for a
/// worker or waiting thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// A cloneable, `Send` way to run code on the event loop. The loop runs as
/// long as a handle to it exists.
#[derive(Clone)]
pub struct LoopHandle {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

thread_local! {
    /// Set on the loop thread: a weak handle to itself, and the objects
    /// [`Local`] handles point at.
    static WEAK_CURRENT: RefCell<Option<tokio::sync::mpsc::WeakUnboundedSender<Job>>> =
        const { RefCell::new(None) };
    static OBJECTS: RefCell<HashMap<u64, Box<dyn Any>>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

impl LoopHandle {
    /// Starts the process's event-loop thread (`capnp-loop`, as Core names
    /// it). It stops once every handle is dropped; tasks still running on
    /// it are cancelled then.
    pub fn start() -> std::io::Result<LoopHandle> {
        let (handle, queue) = LoopHandle::channel();
        let runtime = runtime()?;
        let weak = handle.jobs.downgrade();
        std::thread::Builder::new()
            .name("capnp-loop".into())
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                set_current(weak);
                local.block_on(&runtime, run_jobs(queue));
                forget_objects();
            })?;
        Ok(handle)
    }

    /// Makes the calling thread the event loop until `body` finishes (a
    /// spawned child's case, whose main thread serves its parent).
    pub fn block_on_here<Fut: Future>(
        body: impl FnOnce(LoopHandle) -> Fut,
    ) -> std::io::Result<Fut::Output> {
        let (handle, queue) = LoopHandle::channel();
        let runtime = runtime()?;
        let local = tokio::task::LocalSet::new();
        set_current(handle.jobs.downgrade());
        // Held until the body is done, so other threads can post to this
        // loop for as long as it runs.
        let kept = handle.clone();
        let output = local.block_on(&runtime, async move {
            tokio::task::spawn_local(run_jobs(queue));
            let output = body(handle).await;
            drop(kept);
            output
        });
        drop(local);
        forget_objects();
        Ok(output)
    }

    fn channel() -> (LoopHandle, tokio::sync::mpsc::UnboundedReceiver<Job>) {
        let (jobs, queue) = tokio::sync::mpsc::unbounded_channel::<Job>();
        (LoopHandle { jobs }, queue)
    }

    /// The handle of the loop the calling thread runs, if it is one.
    pub fn current() -> Option<LoopHandle> {
        WEAK_CURRENT.with(|w| {
            w.borrow()
                .as_ref()
                .and_then(|weak| weak.upgrade())
                .map(|jobs| LoopHandle { jobs })
        })
    }

    /// Runs `job` on the loop thread. Fails only if the loop has stopped.
    pub fn post(&self, job: impl FnOnce() + Send + 'static) -> Result<(), IpcError> {
        self.jobs
            .send(Box::new(job))
            .map_err(|_| IpcError::LoopStopped)
    }

    /// Starts the future `make()` returns on the loop and blocks the
    /// calling thread until it resolves, running callbacks addressed to
    /// this thread in the meantime. Must not be called on the loop thread.
    pub fn sync<T, F, Fut>(&self, make: F) -> Result<T, IpcError>
    where
        T: Send + 'static,
        F: FnOnce(Caller) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, IpcError>> + 'static,
    {
        debug_assert!(
            LoopHandle::current().is_none(),
            "blocking IPC call made on the event-loop thread"
        );
        Waiter::with(|waiter| {
            let reply = waiter.reply_slot::<T>();
            let caller = waiter.caller();
            let slot = reply.slot.clone();
            self.post(move || {
                tokio::task::spawn_local(async move {
                    reply.send(make(caller).await);
                });
            })?;
            waiter.wait(&slot)
        })
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Marks the calling thread as the loop `weak` posts to. Weak, so the
/// loop's knowledge of itself does not keep it alive.
fn set_current(weak: tokio::sync::mpsc::WeakUnboundedSender<Job>) {
    WEAK_CURRENT.with(|w| *w.borrow_mut() = Some(weak));
}

/// The loop's job pump: runs what other threads post until the last
/// handle is gone.
async fn run_jobs(mut queue: tokio::sync::mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = queue.recv().await {
        job();
    }
}

/// Drops what [`Local`] handles still point at, once their loop is gone.
fn forget_objects() {
    WEAK_CURRENT.with(|w| w.borrow_mut().take());
    let objects = OBJECTS.with(|objects| std::mem::take(&mut *objects.borrow_mut()));
    drop(objects);
}

/// Who is calling: enough for the loop to pick (or make) the remote thread
/// for this OS thread and to send callbacks back to it.
#[derive(Clone)]
pub struct Caller {
    pub thread: std::thread::ThreadId,
    /// The caller's tag, used as the name of the thread made for it.
    pub name: Arc<str>,
    /// Jobs sent here run on the caller while it waits.
    pub jobs: Sender<Job>,
}

/// A value owned by the event loop, held from any thread. The value itself
/// never leaves the loop thread: `with` reaches it there, and dropping the
/// handle drops it there (releasing a capability, say).
pub struct Local<T: 'static> {
    id: u64,
    handle: LoopHandle,
    _value: PhantomData<fn() -> T>,
}

impl<T: 'static> Local<T> {
    /// Registers `value` with the loop. Call on the loop thread.
    pub fn new(value: T) -> Local<T> {
        let handle = LoopHandle::current().expect("Local::new called off the event-loop thread");
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id + 1);
            id
        });
        OBJECTS.with(|objects| objects.borrow_mut().insert(id, Box::new(value)));
        Local {
            id,
            handle,
            _value: PhantomData,
        }
    }

    /// The loop this value lives on.
    pub fn handle(&self) -> &LoopHandle {
        &self.handle
    }

    /// A copyable name for the value, to move into a closure the loop runs
    /// while this handle is kept alive.
    pub fn key(&self) -> Key<T> {
        Key {
            id: self.id,
            _value: PhantomData,
        }
    }
}

/// Names a [`Local`] value inside closures posted to the loop.
pub struct Key<T: 'static> {
    id: u64,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T: Clone + 'static> Key<T> {
    /// A clone of the value. Call on the loop thread; `None` once the
    /// value has been dropped.
    pub fn get(self) -> Option<T> {
        OBJECTS.with(|objects| {
            let objects = objects.borrow();
            objects.get(&self.id)?.downcast_ref::<T>().cloned()
        })
    }
}

impl<T: 'static> Drop for Local<T> {
    fn drop(&mut self) {
        let id = self.id;
        // If the loop is gone, so is the value.
        let _ = self.handle.post(move || {
            let value = OBJECTS.with(|objects| objects.borrow_mut().remove(&id));
            drop(value);
        });
    }
}

/// A thread's mailbox while it waits for an IPC reply: the reply arrives
/// as a job, and so do callbacks the peer addresses to this thread.
pub struct Waiter {
    jobs: Sender<Job>,
    queue: Receiver<Job>,
    /// This thread's log tag, worked out once rather than on every call.
    tag: Arc<str>,
}

thread_local! {
    static WAITER: Waiter = {
        let (jobs, queue) = mailbox::mailbox();
        let tag = crate::log::thread_tag().into();
        Waiter { jobs, queue, tag }
    };
}

/// Where one call's answer lands. If the loop drops it unanswered (the
/// loop stopped, the task was cancelled) the waiter still wakes, with an
/// error rather than a hang.
struct Reply<T> {
    slot: Arc<Mutex<Option<Result<T, IpcError>>>>,
    jobs: Sender<Job>,
    sent: bool,
}

impl<T> Reply<T> {
    fn send(mut self, result: Result<T, IpcError>) {
        self.sent = true;
        self.fill(result);
    }

    /// Puts `result` in the slot and wakes the waiter to look at it (a
    /// no-op job: zero-sized, so boxing it allocates nothing).
    fn fill(&self, result: Result<T, IpcError>) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        let _ = self.jobs.send(Box::new(|| {}));
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        if !self.sent {
            self.fill(Err(IpcError::LoopStopped));
        }
    }
}

impl Waiter {
    fn with<R>(f: impl FnOnce(&Waiter) -> R) -> R {
        WAITER.with(f)
    }

    fn reply_slot<T>(&self) -> Reply<T> {
        Reply {
            slot: Arc::new(Mutex::new(None)),
            jobs: self.jobs.clone(),
            sent: false,
        }
    }

    fn caller(&self) -> Caller {
        Caller {
            thread: std::thread::current().id(),
            name: self.tag.clone(),
            jobs: self.jobs.clone(),
        }
    }

    /// Runs jobs addressed to this thread until `slot` is filled. Nested
    /// calls made by a callback wait here too, each for its own slot.
    fn wait<T>(&self, slot: &Mutex<Option<Result<T, IpcError>>>) -> Result<T, IpcError> {
        loop {
            if let Some(result) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
                return result;
            }
            match self.queue.recv() {
                Some(job) => job(),
                // Cannot happen: this thread holds a sender itself.
                None => return Err(IpcError::LoopStopped),
            }
        }
    }
}
