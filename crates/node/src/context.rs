//! What every part of the node shares: the chainstate behind a lock, the
//! chain's name and network, the clock (which `setmocktime` can fix), the
//! tip-change signal waiting RPCs block on, and the shutdown request.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bitcoin::{BlockHash, Transaction, Txid};
use chain::ChainState;
use common::logging::{LogCategory, Logger};
use interfaces::rpc::RpcCommand;
use interfaces::{BlockInfo, RemovalReason};

use crate::mempool::{Accepted, Mempool, Rejection};
use crate::notify::Notifier;

/// What a tip change did: the blocks that left the active chain (old tip
/// first) and the height of the last block both chains share.
#[derive(Default)]
struct TipChange {
    disconnected: Vec<(BlockHash, bitcoin::Block)>,
    heights: HashMap<BlockHash, u32>,
    fork_height: u32,
}

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
    /// Chain and mempool events for wallets, delivered off-lock.
    pub notifier: Notifier,
    /// Methods other components (wallets) added, by name, with the id of
    /// the registration that added them.
    /// Several components may add the same name (two wallet processes):
    /// they are tried in the order they registered (see `table::dispatch`).
    rpc_commands: RwLock<BTreeMap<String, Vec<(u64, RpcCommand)>>>,
    next_registration: Mutex<u64>,
    /// `<datadir>/<chain>/settings.json`, if the node keeps one.
    pub settings_path: Option<PathBuf>,
    /// The P2P connection manager, once started (weak: it holds the node).
    pub net: OnceLock<Weak<crate::net::Connman>>,
    /// Notified whenever the tip moves, for async waiters (P2P
    /// announcements).
    pub tip_signal: tokio::sync::Notify,
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
            notifier: Notifier::new(),
            rpc_commands: RwLock::default(),
            next_registration: Mutex::new(0),
            settings_path: None,
            net: OnceLock::new(),
            tip_signal: tokio::sync::Notify::new(),
        })
    }

    /// As [`Node::new`], keeping read-write settings in `settings.json`.
    pub fn with_settings(mut node: Arc<Node>, path: PathBuf) -> Arc<Node> {
        if let Some(inner) = Arc::get_mut(&mut node) {
            inner.settings_path = Some(path);
        }
        node
    }

    /// Adds a method to the RPC server; returns the id that removes it.
    pub fn add_rpc_command(&self, command: RpcCommand) -> u64 {
        let id = {
            let mut next = self
                .next_registration
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        self.rpc_commands
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(command.name.clone())
            .or_default()
            .push((id, command));
        id
    }

    /// Removes registration `id` of the method `name`.
    pub fn remove_rpc_command(&self, name: &str, id: u64) {
        let mut commands = self.rpc_commands.write().unwrap_or_else(|e| e.into_inner());
        if let Some(handlers) = commands.get_mut(name) {
            handlers.retain(|(owner, _)| *owner != id);
            if handlers.is_empty() {
                commands.remove(name);
            }
        }
    }

    /// Every registration of `name`, oldest first.
    pub fn rpc_handlers(&self, name: &str) -> Vec<RpcCommand> {
        self.rpc_commands
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .map(|handlers| handlers.iter().map(|(_, c)| c.clone()).collect())
            .unwrap_or_default()
    }

    /// The newest registration of `name`.
    pub fn rpc_command(&self, name: &str) -> Option<RpcCommand> {
        self.rpc_handlers(name).pop()
    }

    /// Every added method, once per name (its newest registration).
    pub fn rpc_commands(&self) -> Vec<RpcCommand> {
        self.rpc_commands
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter_map(|handlers| handlers.last().map(|(_, c)| c.clone()))
            .collect()
    }

    /// Checks `tx` and adds it to the mempool, telling subscribers.
    /// `max_feerate` is in sat/kvB (0: no limit).
    pub fn submit_transaction(
        &self,
        tx: Transaction,
        max_feerate: u64,
    ) -> Result<Accepted, Rejection> {
        let chain = self.chain();
        let mut mempool = self.mempool();
        let copy = self.notifier.has_subscribers().then(|| tx.clone());
        let accepted = mempool.accept(&chain, tx, self.now(), max_feerate, false)?;
        self.log_debug(
            LogCategory::Mempool,
            format!(
                "AcceptToMemoryPool: accepted {} (poolsz {} txn)",
                accepted.txid,
                mempool.len()
            ),
        );
        if let Some(tx) = copy {
            self.notifier.tx_added(tx);
        }
        Ok(accepted)
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
            let before = self
                .notifier
                .has_subscribers()
                .then(|| self.mempool_snapshot());
            let tip_change = self.sync_mempool(&chain, old_tip);
            if let Some(before) = before {
                self.notify_chain_change(&chain, &tip_change, before);
            }
            crate::mining::log_tip(self, &chain);
            drop(chain);
            self.notify_tip();
        }
        result
    }

    fn mempool_snapshot(&self) -> HashMap<Txid, Transaction> {
        self.mempool()
            .entries()
            .map(|entry| (entry.txid, entry.tx.clone()))
            .collect()
    }

    /// Queues what a tip change means for subscribers, in Core's order:
    /// blocks disconnected (tip first), transactions that left the pool,
    /// blocks connected (oldest first), transactions that (re-)entered it,
    /// then the new tip.
    fn notify_chain_change(
        &self,
        chain: &ChainState,
        change: &TipChange,
        before: HashMap<Txid, Transaction>,
    ) {
        let disconnected = &change.disconnected;
        let info = |hash: BlockHash, data: bitcoin::Block| BlockInfo {
            hash,
            prev_hash: data.header.prev_blockhash,
            height: chain.entry(&hash).map_or(0, |e| e.height),
            data,
        };
        for (hash, block) in disconnected {
            self.notifier.block_disconnected(BlockInfo {
                hash: *hash,
                prev_hash: block.header.prev_blockhash,
                height: change.heights[hash],
                data: block.clone(),
            });
        }
        let mut connected = Vec::new();
        for height in change.fork_height + 1..=chain.height() {
            let hash = chain.block_hash(height).expect("an active height");
            if let Ok(Some(block)) = chain.block(&hash) {
                connected.push((hash, block));
            }
        }
        let confirmed: HashSet<Txid> = connected
            .iter()
            .flat_map(|(_, block)| block.txdata.iter().map(|tx| tx.compute_txid()))
            .collect();
        let after: HashSet<Txid> = self.mempool().entries().map(|e| e.txid).collect();
        for (txid, tx) in &before {
            if !after.contains(txid) {
                let reason = if confirmed.contains(txid) {
                    RemovalReason::Block
                } else if disconnected.is_empty() {
                    RemovalReason::Conflict
                } else {
                    RemovalReason::Reorg
                };
                self.notifier.tx_removed(tx.clone(), reason);
            }
        }
        for (hash, block) in connected {
            self.notifier.block_connected(info(hash, block));
        }
        let added: Vec<Transaction> = self
            .mempool()
            .entries()
            .filter(|e| !before.contains_key(&e.txid))
            .map(|e| e.tx.clone())
            .collect();
        for tx in added {
            self.notifier.tx_added(tx);
        }
        self.notifier.tip_updated();
    }

    fn sync_mempool(&self, chain: &ChainState, old_tip: BlockHash) -> TipChange {
        // Walk the old tip back to the active chain: the fork point.
        let mut change = TipChange::default();
        let mut cursor = old_tip;
        while !chain.is_active(&cursor) {
            let Some(entry) = chain.entry(&cursor) else {
                break;
            };
            change.heights.insert(cursor, entry.height);
            if let Ok(Some(block)) = chain.block(&cursor) {
                change.disconnected.push((cursor, block));
            }
            cursor = entry.header.prev_blockhash;
        }
        change.fork_height = chain.entry(&cursor).map_or(0, |e| e.height);
        let mut mempool = self.mempool();
        if change.disconnected.is_empty() {
            // Blocks were only added: what they confirm or conflict with
            // leaves; nothing else can have become invalid (maturity and
            // lock-times only get easier as the chain grows), so the pool
            // is not checked again, which keeps mining cheap.
            for height in change.fork_height + 1..=chain.height() {
                let hash = chain.block_hash(height).expect("an active height");
                if let Ok(Some(block)) = chain.block(&hash) {
                    mempool.remove_for_block(&block);
                }
            }
            return change;
        }
        // A reorganisation: everything is checked again against the new
        // tip, disconnected blocks' transactions first (they are older),
        // then the pool in arrival order. What the new chain confirmed,
        // conflicts with, or made immature or non-final falls out, with
        // its descendants.
        let mut candidates = Vec::new();
        for (_, block) in change.disconnected.iter().rev() {
            candidates.extend(block.txdata.iter().skip(1).cloned());
        }
        candidates.extend(mempool.drain());
        let now = self.now();
        for tx in candidates {
            let _ = mempool.accept(chain, tx, now, 0, false);
        }
        change
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
        self.tip_signal.notify_waiters();
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
    /// The connection manager, if P2P runs.
    pub fn connman(&self) -> Option<Arc<crate::net::Connman>> {
        self.net.get().and_then(Weak::upgrade)
    }

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
