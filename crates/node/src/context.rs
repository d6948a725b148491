//! What every part of the node shares: the chainstate behind a lock, the
//! chain's name and network, the clock (which `setmocktime` can fix), the
//! tip-change signal waiting RPCs block on, and the shutdown request.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chain::ChainState;

/// Where the node's log lines go (the executable wires its logger here).
pub type LogFn = Arc<dyn Fn(LogLine) + Send + Sync>;

/// One log line: `category` is `None` for always-on lines, else a Bitcoin
/// Core category name (`rpc`, `validation`, ...) logged at debug level.
pub struct LogLine {
    pub category: Option<&'static str>,
    pub message: String,
}

pub struct Node {
    chain: Mutex<ChainState>,
    /// Bumped and signalled whenever the tip moves.
    tip_changed: (Mutex<u64>, Condvar),
    pub network: bitcoin::Network,
    /// Bitcoin Core's name for the chain (`regtest`).
    pub chain_name: String,
    mocktime: AtomicI64,
    started: Instant,
    shutdown: AtomicBool,
    shutdown_signal: tokio::sync::Notify,
    log: LogFn,
}

impl Node {
    pub fn new(
        chain: ChainState,
        network: bitcoin::Network,
        chain_name: &str,
        log: LogFn,
    ) -> Arc<Node> {
        Arc::new(Node {
            chain: Mutex::new(chain),
            tip_changed: (Mutex::new(0), Condvar::new()),
            network,
            chain_name: chain_name.to_string(),
            mocktime: AtomicI64::new(0),
            started: Instant::now(),
            shutdown: AtomicBool::new(false),
            shutdown_signal: tokio::sync::Notify::new(),
            log,
        })
    }

    /// The chainstate, locked. Keep the guard short.
    pub fn chain(&self) -> MutexGuard<'_, ChainState> {
        self.chain.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seconds since the epoch, or the mock time if one is set.
    pub fn now(&self) -> u64 {
        match self.mocktime.load(Ordering::Relaxed) {
            0 => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            mock => mock as u64,
        }
    }

    pub fn set_mocktime(&self, time: i64) {
        self.mocktime.store(time, Ordering::Relaxed);
    }

    pub fn uptime(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    pub fn log(&self, message: String) {
        (self.log)(LogLine {
            category: None,
            message,
        });
    }

    pub fn log_debug(&self, category: &'static str, message: String) {
        (self.log)(LogLine {
            category: Some(category),
            message,
        });
    }

    /// Called after the tip moved: wakes `waitfornewblock` and friends.
    pub fn notify_tip(&self) {
        let (count, signal) = &self.tip_changed;
        *count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        signal.notify_all();
    }

    /// Blocks until the tip changes, `done` holds, shutdown, or `timeout`.
    pub fn wait_for_tip(
        &self,
        timeout: Option<std::time::Duration>,
        mut done: impl FnMut(&Node) -> bool,
    ) {
        let deadline = timeout.map(|t| Instant::now() + t);
        let (count, signal) = &self.tip_changed;
        let mut guard = count.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if done(self) || self.shutdown_requested() {
                return;
            }
            let wait = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) => left,
                    None => return,
                },
                None => std::time::Duration::from_millis(500),
            };
            guard = signal
                .wait_timeout(guard, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Asks the node to shut down (the `stop` RPC, SIGINT, SIGTERM).
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.shutdown_signal.notify_waiters();
        self.notify_tip();
    }

    pub fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Resolves once shutdown is requested.
    pub async fn shutdown_requested_async(&self) {
        loop {
            let notified = self.shutdown_signal.notified();
            if self.shutdown_requested() {
                return;
            }
            notified.await;
        }
    }
}
