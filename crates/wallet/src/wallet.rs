//! One loaded wallet's life: creating and opening its file, following the
//! chain through notifications, catching up and rescanning, handing
//! waiting transactions back to the node, and committing every change.
//! The bookkeeping itself is [`crate::state`]'s. Locking: the node never
//! calls in while holding its own locks, and the wallet holds its state
//! lock while it asks the chain, never the other way round.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bitcoin::{Address, Amount, Network, OutPoint, Transaction, Txid};
use interfaces::{BlockInfo, BlockRef, Chain, ChainNotifications, Handler, RemovalReason};

use crate::descriptors::{self, DescriptorRecord, Secret};
use crate::error::WalletError;
use crate::store::{self, Batch, Store};
use crate::tx::{StoredTx, TxState, WalletTx};

pub use crate::state::{
    AddressEntry, Balances, Flags, Spendable, State, COINBASE_MATURITY, DEFAULT_KEYPOOL,
};

/// The version Core's descriptor wallets report (`FEATURE_LATEST`).
pub const WALLET_VERSION: u32 = 169_900;

/// Core's `TIMESTAMP_WINDOW`: a block's time may be up to two hours
/// behind the real time, so rescans start that much before a key's birth.
pub const TIMESTAMP_WINDOW: i64 = 2 * 60 * 60;

/// What `createwallet` asks for.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    pub disable_private_keys: bool,
    pub blank: bool,
    pub passphrase: Option<String>,
}

pub struct Wallet {
    pub name: String,
    pub path: PathBuf,
    pub chain: Arc<dyn Chain>,
    pub network: Network,
    store: Store,
    state: Mutex<State>,
    /// `-fallbackfee` (sat/kvB), when fee estimation has nothing.
    pub fallback_fee: Option<u64>,
    notifications: Mutex<Option<Box<dyn Handler>>>,
    /// Moves on with every commit: what a front end waits on.
    pub revision: crate::revision::Revision,
}
thread_local! {
    static PRESYNCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the current thread as running an RPC the node passed on after
/// delivering every queued notification (`RpcRequest::synced`), for as
/// long as the guard lives.
pub struct PresyncedCall(bool);

impl PresyncedCall {
    pub fn enter(synced: bool) -> PresyncedCall {
        PresyncedCall(PRESYNCED.with(|flag| flag.replace(synced)))
    }

    pub fn active() -> bool {
        PRESYNCED.with(|flag| flag.get())
    }
}

impl Drop for PresyncedCall {
    fn drop(&mut self) {
        PRESYNCED.with(|flag| flag.set(self.0));
    }
}

/// Delivers chain notifications to a wallet without keeping it alive.
struct Listener(Weak<Wallet>);

impl ChainNotifications for Listener {
    fn transaction_added_to_mempool(&self, tx: &Transaction) {
        if let Some(wallet) = self.0.upgrade() {
            wallet.apply(|state, now, batch| state.tx_added_to_mempool(tx, now, batch));
        }
    }

    fn transaction_removed_from_mempool(&self, tx: &Transaction, reason: RemovalReason) {
        if reason == RemovalReason::Block {
            return; // block_connected confirms it
        }
        if let Some(wallet) = self.0.upgrade() {
            wallet.apply(|state, _, batch| {
                state.tx_removed_from_mempool(tx, batch);
                Ok(())
            });
        }
    }

    fn block_connected(&self, block: &BlockInfo) {
        if let Some(wallet) = self.0.upgrade() {
            wallet.apply(|state, now, batch| {
                // Already past it (a rescan got there first)?
                if state.best_block.is_some_and(|b| b.hash == block.hash) {
                    return Ok(());
                }
                state.block_connected(block, now, batch)?;
                // Only the best block moved: no need to wait for the disk.
                batch.lazy = batch.only_meta();
                Ok(())
            });
        }
    }

    fn chain_state_flushed(&self, _tip: &bitcoin::BlockHash) {
        // Best-block moves are committed without waiting for the disk;
        // this commit waits, making them (and all before it) durable.
        if let Some(wallet) = self.0.upgrade() {
            wallet.apply(|state, _, batch| {
                if let Some(best) = state.best_block {
                    batch.meta("best_block", &(best.hash, best.height));
                }
                Ok(())
            });
        }
    }

    fn block_disconnected(&self, block: &BlockInfo) {
        if let Some(wallet) = self.0.upgrade() {
            wallet.apply(|state, _, batch| {
                state.block_disconnected(block, batch);
                Ok(())
            });
        }
    }
}

impl Wallet {
    /// Creates `<dir>/wallet.redb` with new keys (unless blank or without
    /// private keys), encrypted if a passphrase is given.
    pub fn create(
        chain: Arc<dyn Chain>,
        dir: &Path,
        name: &str,
        network: Network,
        options: &CreateOptions,
        fallback_fee: Option<u64>,
    ) -> Result<Arc<Wallet>, WalletError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            WalletError::Invalid(format!(
                "Failed to create database path '{}': {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(store::FILE_NAME);
        let store = Store::create(&path)?;
        let flags = Flags {
            disable_private_keys: options.disable_private_keys,
            blank: options.blank,
            avoid_reuse: false,
        };
        let mut state = State::new(flags, DEFAULT_KEYPOOL);
        let now = chain.now();
        state.birth_time = now;
        let mut batch = Batch::default();
        batch.meta("flags", &flags);
        batch.meta("birth_time", &now);
        batch.meta("version", &WALLET_VERSION);
        if !options.blank && !options.disable_private_keys {
            let seed = common::secret::random_bytes(32)
                .map_err(|e| WalletError::Invalid(e.to_string()))?;
            for (public, private, kind, internal) in descriptors::generate(&seed, network.into())? {
                let record = DescriptorRecord {
                    descriptor: public,
                    secret: Some(Secret::Plain(private)),
                    timestamp: now,
                    range: Some((0, 0)),
                    next_index: 0,
                    active: Some((kind, internal)),
                    label: None,
                };
                state.add_descriptor(record, &mut batch)?;
            }
        }
        // New keys have no history: start at the tip.
        let tip = chain.tip();
        state.set_best_block(tip.hash, tip.height, &mut batch);
        if let Some(passphrase) = &options.passphrase {
            state.encrypt(passphrase, &mut batch)?;
        }
        store.commit(batch)?;
        Ok(Arc::new(Wallet {
            name: name.to_string(),
            path: dir.to_path_buf(),
            chain,
            network,
            store,
            state: Mutex::new(state),
            fallback_fee,
            notifications: Mutex::new(None),
            revision: Default::default(),
        }))
    }

    /// Opens an existing wallet file.
    pub fn open(
        chain: Arc<dyn Chain>,
        dir: &Path,
        name: &str,
        network: Network,
        fallback_fee: Option<u64>,
    ) -> Result<Arc<Wallet>, WalletError> {
        let store = Store::open(&dir.join(store::FILE_NAME))?;
        let flags: Flags = store.meta("flags")?.unwrap_or_default();
        let mut state = State::new(flags, DEFAULT_KEYPOOL);
        state.birth_time = store.meta("birth_time")?.unwrap_or(0);
        state.encryption = store.meta("encryption")?;
        state.best_block = store
            .meta::<(bitcoin::BlockHash, u32)>("best_block")?
            .map(|(hash, height)| BlockRef { hash, height });
        // Loading derives each descriptor's keypool; a range that grew is
        // written back.
        let mut derived = Batch::default();
        for (_, record) in store.descriptors::<DescriptorRecord>()? {
            state.add_descriptor(record, &mut derived)?;
        }
        let mut stored: Vec<WalletTx> = store
            .txs::<StoredTx>()?
            .into_iter()
            .filter_map(|(_, stored)| WalletTx::from_stored(stored))
            .collect();
        stored.sort_by_key(|wtx| wtx.order);
        for wtx in stored {
            state.record_spends(&wtx.tx, wtx.txid);
            state.next_order = state.next_order.max(wtx.order + 1);
            state.txs.insert(wtx.txid, wtx);
        }
        state.addresses = store.addresses::<AddressEntry>()?.into_iter().collect();
        state.locked_coins = store
            .meta::<Vec<OutPoint>>("locked_coins")?
            .unwrap_or_default()
            .into_iter()
            .collect();
        state.persistent_locks = state.locked_coins.clone();
        store.commit(derived)?;
        Ok(Arc::new(Wallet {
            name: name.to_string(),
            path: dir.to_path_buf(),
            chain,
            network,
            store,
            state: Mutex::new(state),
            fallback_fee,
            notifications: Mutex::new(None),
            revision: Default::default(),
        }))
    }

    /// Follows the chain: registers for notifications, catches up from
    /// the last block seen (undoing blocks the chain no longer has), then
    /// hands waiting transactions back to the mempool.
    pub fn attach(self: &Arc<Self>) -> Result<(), WalletError> {
        let handler = self
            .chain
            .handle_notifications(Arc::new(Listener(Arc::downgrade(self))));
        *self.notifications.lock().unwrap_or_else(|e| e.into_inner()) = Some(handler);
        let tip = self.chain.tip();
        let start = {
            let mut state = self.state();
            let mut batch = Batch::default();
            // Confirmations in blocks that left the chain while we were
            // away are undone.
            let stale: Vec<Txid> = state
                .txs
                .values()
                .filter(|wtx| match &wtx.state {
                    TxState::Confirmed { block_hash, .. }
                    | TxState::Conflicted { block_hash, .. } => !self
                        .chain
                        .find_block(block_hash, false)
                        .is_some_and(|b| b.in_active_chain),
                    _ => false,
                })
                .map(|wtx| wtx.txid)
                .collect();
            for txid in stale {
                let wtx = state.txs.get_mut(&txid).expect("collected above");
                wtx.state = TxState::Inactive { abandoned: false };
                batch.tx(&txid.to_string(), &wtx.to_stored());
            }
            let start = match state.best_block {
                Some(best) if best.height > 0 => self
                    .chain
                    .find_common_ancestor(&best.hash, &tip.hash)
                    .map_or(0, |fork| fork.height + 1),
                // Never synced (made offline, or before any block): no key
                // can have been used before the oldest key was made.
                _ => {
                    let oldest = state
                        .descriptors
                        .iter()
                        .map(|d| d.record.timestamp)
                        .min()
                        .unwrap_or(state.birth_time);
                    self.first_height_after(oldest - TIMESTAMP_WINDOW)
                }
            };
            self.store.commit(batch)?;
            start
        };
        if start <= tip.height {
            self.rescan(start, None)?;
        }
        self.resubmit();
        Ok(())
    }

    /// Stops following the chain.
    pub fn detach(&self) {
        if let Some(mut handler) = self
            .notifications
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            handler.disconnect();
        }
    }

    /// Scans active-chain blocks from `start` to `stop` (default: the
    /// tip) for our transactions, committing as it goes. Returns the last
    /// block scanned.
    pub fn rescan(&self, start: u32, stop: Option<u32>) -> Result<Option<BlockRef>, WalletError> {
        let mut last = None;
        let mut height = start;
        loop {
            let tip = self.chain.tip();
            let end = stop.unwrap_or(tip.height).min(tip.height);
            if height > end || self.chain.shutdown_requested() {
                break;
            }
            let Some(hash) = self.chain.block_hash(height) else {
                break;
            };
            let Some(found) = self.chain.find_block(&hash, true) else {
                break;
            };
            let Some(data) = found.data else { break };
            let block = BlockInfo {
                hash,
                prev_hash: found.prev_hash,
                height,
                data,
            };
            let now = self.chain.now();
            let mut state = self.state();
            let mut batch = Batch::default();
            state.scan_block(&block, now, &mut batch)?;
            // Only move the best block forward along the active chain.
            if state.best_block.is_none_or(|b| b.height < height) {
                state.set_best_block(hash, height, &mut batch);
                batch.lazy = batch.only_meta();
            }
            self.store.commit(batch)?;
            last = Some(BlockRef { hash, height });
            height += 1;
        }
        Ok(last)
    }

    /// The first active-chain height whose block time is at least
    /// `time` (a rescan's start for keys made at `time`).
    pub fn first_height_after(&self, time: i64) -> u32 {
        let (mut low, mut high) = (0u32, self.chain.tip().height);
        while low < high {
            let middle = low + (high - low) / 2;
            let block_time = self
                .chain
                .block_hash(middle)
                .and_then(|h| self.chain.find_block(&h, false))
                .map_or(0, |b| i64::from(b.time));
            if block_time < time {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// Hands our unconfirmed, unabandoned transactions to the node again
    /// (Core does this at load and then now and then).
    pub fn resubmit(&self) {
        let pending: Vec<Transaction> = {
            let state = self.state();
            let mut pending: Vec<&WalletTx> = state
                .txs
                .values()
                .filter(|wtx| {
                    !wtx.is_coinbase() && state.depth(wtx) == 0 && !wtx.state.is_abandoned()
                })
                .collect();
            pending.sort_by_key(|wtx| wtx.order);
            pending.into_iter().map(|wtx| wtx.tx.clone()).collect()
        };
        for tx in pending {
            if self
                .chain
                .broadcast_transaction(&tx, Amount::MAX_MONEY, true)
                .is_ok()
            {
                self.apply(|state, now, batch| state.tx_added_to_mempool(&tx, now, batch));
            }
        }
    }

    /// The state, locked. For RPCs use [`Wallet::synced`].
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state once every notification about the current tip has been
    /// applied (Core's `BlockUntilSyncedToCurrentChain`). Within a call the
    /// node passed on already synced, nothing needs asking.
    pub fn synced(&self) -> MutexGuard<'_, State> {
        if !PresyncedCall::active() {
            let best = self.state().best_block;
            if let Some(best) = best {
                self.chain.wait_for_notifications_if_tip_changed(&best.hash);
            }
        }
        self.state()
    }

    /// Runs `change` on the state and commits what it wrote, in one
    /// database transaction; an error is logged. A change that fails
    /// part-way may have altered the in-memory state it reached (the next
    /// successful write of those records brings the file in line).
    pub fn apply<T>(
        &self,
        change: impl FnOnce(&mut State, i64, &mut Batch) -> Result<T, WalletError>,
    ) -> Option<T> {
        let now = self.chain.now();
        let mut state = self.state();
        self.commit_with(&mut state, |state, batch| change(state, now, batch))
            .ok()
    }

    /// As [`Wallet::apply`], on a state already locked; errors returned.
    pub fn commit_with<T>(
        &self,
        state: &mut State,
        change: impl FnOnce(&mut State, &mut Batch) -> Result<T, WalletError>,
    ) -> Result<T, WalletError> {
        let mut batch = Batch::default();
        let result = change(state, &mut batch)?;
        self.store.commit(batch)?;
        self.revision.bump();
        Ok(result)
    }

    /// Writes to the node's log, prefixed with the wallet's name as
    /// Core's `WalletLogPrintf` does.
    pub fn log(&self, message: std::fmt::Arguments) {
        if let Some(logger) = common::logging::global() {
            let name = if self.name.is_empty() {
                "default wallet"
            } else {
                &self.name
            };
            logger.info(format_args!("[{name}] {message}"));
        }
    }

    pub fn commit_batch(&self, batch: Batch) -> Result<(), WalletError> {
        self.store.commit(batch)?;
        self.revision.bump();
        Ok(())
    }

    pub fn backup(&self, path: &Path) -> Result<(), WalletError> {
        Ok(self.store.backup(path)?)
    }

    /// An address for `script` on this wallet's network.
    pub fn address(&self, script: &bitcoin::Script) -> Option<Address> {
        Address::from_script(script, self.network).ok()
    }
}

impl Drop for Wallet {
    fn drop(&mut self) {
        self.detach();
    }
}
