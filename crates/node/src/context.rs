//! What every part of the node shares: the chainstate behind a lock, the
//! chain's name and network, the clock (which `setmocktime` can fix), the
//! tip-change signal waiting RPCs block on, and the shutdown request.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bitcoin::BlockHash;
use chain::ChainState;
use common::logging::{LogCategory, Logger};

use crate::mempool::Mempool;

pub struct Node {
    chain: Mutex<ChainState>,
    /// Locked after `chain` when both are needed, never before.
    mempool: Mutex<Mempool>,
    /// Bumped and signalled whenever the tip moves.
    tip_changed: (Mutex<u64>, Condvar),
    pub network: bitcoin::Network,
    /// Bitcoin Core's name for the chain (`regtest`).
    pub chain_name: String,
    mocktime: AtomicI64,
    started: Instant,
    shutdown: AtomicBool,
    /// `-txindex`: getrawtransaction may look transactions up by txid.
    pub txindex: bool,
    shutdown_signal: tokio::sync::Notify,
    /// The process's logger; `logging` changes its categories at runtime.
    pub logger: Logger,
}

impl Node {
    pub fn new(
        chain: ChainState,
        network: bitcoin::Network,
        chain_name: &str,
        txindex: bool,
        logger: Logger,
    ) -> Arc<Node> {
        Arc::new(Node {
            chain: Mutex::new(chain),
            mempool: Mutex::new(Mempool::default()),
            tip_changed: (Mutex::new(0), Condvar::new()),
            network,
            chain_name: chain_name.to_string(),
            mocktime: AtomicI64::new(0),
            started: Instant::now(),
            shutdown: AtomicBool::new(false),
            txindex,
            shutdown_signal: tokio::sync::Notify::new(),
            logger,
        })
    }

    /// The chainstate, locked. Keep the guard short.
    pub fn chain(&self) -> MutexGuard<'_, ChainState> {
        self.chain.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The mempool, locked. Take the chain lock first if both are needed.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `change` on the chainstate, then brings the mempool in line
    /// with whatever the tip did (transactions of disconnected blocks come
    /// back, those of connected blocks and their conflicts leave), logs
    /// the new tip and wakes waiters.
    pub fn change_chain<T>(&self, change: impl FnOnce(&mut ChainState) -> T) -> T {
        let mut chain = self.chain();
        let old_tip = chain.tip();
        let result = change(&mut chain);
        if chain.tip() != old_tip {
            self.sync_mempool(&chain, old_tip);
            crate::mining::log_tip(self, &chain);
            drop(chain);
            self.notify_tip();
        }
        result
    }

    fn sync_mempool(&self, chain: &ChainState, old_tip: BlockHash) {
        // Walk both tips back to their common ancestor.
        let mut disconnected = Vec::new();
        let mut cursor = old_tip;
        while !chain.is_active(&cursor) {
            disconnected.push(cursor);
            match chain.entry(&cursor) {
                Some(entry) => cursor = entry.header.prev_blockhash,
                None => break,
            }
        }
        let mut mempool = self.mempool();
        if disconnected.is_empty() {
            // Blocks were only added: what they confirm or conflict with
            // leaves; nothing else can have become invalid (maturity and
            // lock-times only get easier as the chain grows), so the pool
            // is not checked again, which keeps mining cheap.
            let fork_height = chain.entry(&cursor).map_or(0, |e| e.height);
            for height in fork_height + 1..=chain.height() {
                let hash = chain.block_hash(height).expect("an active height");
                if let Ok(Some(block)) = chain.block(&hash) {
                    mempool.remove_for_block(&block);
                }
            }
            return;
        }
        // A reorganisation: everything is checked again against the new
        // tip, disconnected blocks' transactions first (they are older),
        // then the pool in arrival order. What the new chain confirmed,
        // conflicts with, or made immature or non-final falls out, with
        // its descendants.
        let mut candidates = Vec::new();
        for hash in disconnected.iter().rev() {
            if let Ok(Some(block)) = chain.block(hash) {
                candidates.extend(block.txdata.into_iter().skip(1));
            }
        }
        candidates.extend(mempool.drain());
        let now = self.now();
        for tx in candidates {
            let _ = mempool.accept(chain, tx, now, 0, false);
        }
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
        self.logger.info(format_args!("{message}"));
    }

    pub fn log_debug(&self, category: LogCategory, message: String) {
        self.logger.debug(category, format_args!("{message}"));
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
