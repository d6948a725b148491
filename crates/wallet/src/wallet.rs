//! One loaded wallet: its descriptors and the scripts they derived, the
//! transactions that touch them, and how those stand against the chain
//! the node reports. Locking: the node never calls in while holding its
//! own locks, and the wallet holds its state lock while it asks the
//! chain, never the other way round.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bitcoin::{Address, Amount, Network, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use interfaces::{BlockInfo, BlockRef, Chain, ChainNotifications, Handler, RemovalReason};
use serde::{Deserialize, Serialize};

use crate::crypter::{EncryptedMasterKey, MasterKey};
use crate::descriptors::{self, AddressType, DescriptorRecord, Secret, WalletDescriptor};
use crate::error::WalletError;
use crate::store::{self, Batch, Store};
use crate::tx::{StoredTx, TxState, WalletTx};

/// Core's `COINBASE_MATURITY`.
pub const COINBASE_MATURITY: i64 = 100;

/// The version Core's descriptor wallets report (`FEATURE_LATEST`).
pub const WALLET_VERSION: u32 = 169_900;

/// Core's `TIMESTAMP_WINDOW`: a block's time may be up to two hours
/// behind the real time, so rescans start that much before a key's birth.
pub const TIMESTAMP_WINDOW: i64 = 2 * 60 * 60;

/// Core's `-keypool` default: scripts derived ahead of the last used one.
pub const DEFAULT_KEYPOOL: u32 = 1000;

/// Wallet-wide switches fixed at creation (Core's wallet flags).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Flags {
    pub disable_private_keys: bool,
    pub blank: bool,
    #[serde(default)]
    pub avoid_reuse: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AddressEntry {
    pub label: String,
    /// `receive` or `send`.
    pub purpose: String,
}

/// What `createwallet` asks for.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    pub disable_private_keys: bool,
    pub blank: bool,
    pub passphrase: Option<String>,
}

/// The three balances Core reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    pub trusted: Amount,
    pub untrusted_pending: Amount,
    pub immature: Amount,
}

/// An output the wallet could spend.
#[derive(Clone, Debug)]
pub struct Spendable {
    pub outpoint: OutPoint,
    pub output: TxOut,
    pub depth: i64,
    /// Confirmed, or our own change waiting in the mempool.
    pub safe: bool,
    /// The descriptor and index that derive its script.
    pub origin: (usize, u32),
}

pub struct State {
    pub flags: Flags,
    pub descriptors: Vec<WalletDescriptor>,
    /// Every derived script: which descriptor and index made it.
    scripts: HashMap<ScriptBuf, (usize, u32)>,
    pub txs: HashMap<Txid, WalletTx>,
    /// Outpoint to the wallet transactions spending it.
    spends: HashMap<OutPoint, Vec<Txid>>,
    next_order: u64,
    pub best_block: Option<BlockRef>,
    pub locked_coins: HashSet<OutPoint>,
    /// The locks `lockunspent` was told to keep across restarts.
    pub persistent_locks: HashSet<OutPoint>,
    pub encryption: Option<EncryptedMasterKey>,
    /// The master key while unlocked, and until when (seconds).
    unlocked: Option<(MasterKey, i64)>,
    /// `settxfee` (sat/kvB), 0 for none.
    pub pay_tx_fee: u64,
    pub addresses: BTreeMap<String, AddressEntry>,
    pub birth_time: i64,
    keypool: u32,
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
}

impl State {
    fn new(flags: Flags, keypool: u32) -> State {
        State {
            flags,
            descriptors: Vec::new(),
            scripts: HashMap::new(),
            txs: HashMap::new(),
            spends: HashMap::new(),
            next_order: 0,
            best_block: None,
            locked_coins: HashSet::new(),
            persistent_locks: HashSet::new(),
            encryption: None,
            unlocked: None,
            pay_tx_fee: 0,
            addresses: BTreeMap::new(),
            birth_time: 0,
            keypool,
        }
    }

    pub fn tip_height(&self) -> u32 {
        self.best_block.map_or(0, |b| b.height)
    }

    pub fn is_mine(&self, script: &bitcoin::Script) -> bool {
        self.scripts.contains_key(script)
    }

    pub fn script_origin(&self, script: &bitcoin::Script) -> Option<(usize, u32)> {
        self.scripts.get(script).copied()
    }

    pub fn is_encrypted(&self) -> bool {
        self.encryption.is_some()
    }

    /// Whether private keys are at hand: unencrypted, or unlocked and the
    /// unlock not yet expired at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.encryption.is_some()
            && self
                .unlocked
                .as_ref()
                .is_none_or(|(_, until)| now >= *until)
    }

    pub fn unlocked_until(&self) -> Option<i64> {
        self.encryption.as_ref()?;
        Some(self.unlocked.as_ref().map_or(0, |(_, until)| *until))
    }

    pub fn has_private_keys(&self) -> bool {
        self.descriptors.iter().any(|d| d.record.secret.is_some())
    }

    /// The sum of our outputs in `tx`.
    pub fn credit(&self, tx: &Transaction) -> Amount {
        tx.output
            .iter()
            .filter(|o| self.is_mine(&o.script_pubkey))
            .map(|o| o.value)
            .sum()
    }

    /// The value of our outputs `tx` spends.
    pub fn debit(&self, tx: &Transaction) -> Amount {
        tx.input
            .iter()
            .filter_map(|i| self.our_output(&i.previous_output))
            .map(|o| o.value)
            .sum()
    }

    /// The output at `outpoint` if it is in a wallet transaction and ours.
    pub fn our_output(&self, outpoint: &OutPoint) -> Option<&TxOut> {
        let parent = self.txs.get(&outpoint.txid)?;
        let output = parent.tx.output.get(outpoint.vout as usize)?;
        self.is_mine(&output.script_pubkey).then_some(output)
    }

    pub fn is_from_me(&self, tx: &Transaction) -> bool {
        tx.input
            .iter()
            .any(|i| self.our_output(&i.previous_output).is_some())
    }

    pub fn depth(&self, wtx: &WalletTx) -> i64 {
        wtx.state.depth(self.tip_height())
    }

    /// Blocks until a coinbase may be spent (0 when it may, or for other
    /// transactions).
    pub fn blocks_to_maturity(&self, wtx: &WalletTx) -> i64 {
        if !wtx.is_coinbase() {
            return 0;
        }
        (COINBASE_MATURITY + 1 - self.depth(wtx)).max(0)
    }

    pub fn is_immature_coinbase(&self, wtx: &WalletTx) -> bool {
        wtx.is_coinbase() && self.blocks_to_maturity(wtx) > 0
    }

    /// Core's `IsSpent`: a wallet transaction that is confirmed, or
    /// unconfirmed and not abandoned, spends `outpoint`.
    pub fn is_spent(&self, outpoint: &OutPoint) -> bool {
        self.spends.get(outpoint).is_some_and(|spenders| {
            spenders.iter().any(|txid| {
                self.txs.get(txid).is_some_and(|wtx| {
                    let depth = self.depth(wtx);
                    depth > 0 || (depth == 0 && !wtx.state.is_abandoned())
                })
            })
        })
    }

    /// The wallet transactions spending `outpoint`.
    pub fn spenders(&self, outpoint: &OutPoint) -> Vec<Txid> {
        self.spends.get(outpoint).cloned().unwrap_or_default()
    }

    /// The other wallet transactions spending any input of `wtx`.
    pub fn conflicts(&self, wtx: &WalletTx) -> Vec<Txid> {
        let mut out: Vec<Txid> = wtx
            .tx
            .input
            .iter()
            .flat_map(|i| self.spends.get(&i.previous_output).into_iter().flatten())
            .filter(|txid| **txid != wtx.txid)
            .copied()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Core's `CachedTxIsTrusted`: confirmed, or our own transaction in
    /// the mempool whose wallet parents are all trusted.
    pub fn is_trusted(&self, wtx: &WalletTx, seen: &mut HashSet<Txid>) -> bool {
        let depth = self.depth(wtx);
        if depth >= 1 {
            return true;
        }
        if depth < 0 || wtx.state != TxState::InMempool {
            return false;
        }
        if !wtx
            .tx
            .input
            .iter()
            .all(|i| self.our_output(&i.previous_output).is_some())
        {
            return false;
        }
        for input in &wtx.tx.input {
            let parent = &self.txs[&input.previous_output.txid];
            if seen.insert(parent.txid) && !self.is_trusted(parent, seen) {
                return false;
            }
        }
        true
    }

    /// Our unspent outputs in `wtx`, as they count for balances.
    fn available_credit(&self, wtx: &WalletTx) -> Amount {
        wtx.tx
            .output
            .iter()
            .enumerate()
            .filter(|(_, o)| self.is_mine(&o.script_pubkey))
            .filter(|(vout, _)| {
                !self.is_spent(&OutPoint {
                    txid: wtx.txid,
                    vout: *vout as u32,
                })
            })
            .map(|(_, o)| o.value)
            .sum()
    }

    /// Core's `GetBalance` with `min_depth`.
    pub fn balances(&self, min_depth: i64) -> Balances {
        let mut balances = Balances::default();
        for wtx in self.txs.values() {
            let depth = self.depth(wtx);
            let trusted = self.is_trusted(wtx, &mut HashSet::new());
            if self.is_immature_coinbase(wtx) {
                if depth > 0 {
                    balances.immature += self.available_credit(wtx);
                }
                continue;
            }
            let credit = self.available_credit(wtx);
            if trusted && depth >= min_depth {
                balances.trusted += credit;
            }
            if !trusted && depth == 0 && wtx.state == TxState::InMempool {
                balances.untrusted_pending += credit;
            }
        }
        balances
    }

    /// Outputs that could fund a transaction: ours, unspent, unlocked,
    /// mature, and confirmed or waiting in the mempool.
    pub fn spendable(&self) -> Vec<Spendable> {
        let mut out = Vec::new();
        for wtx in self.txs.values() {
            let depth = self.depth(wtx);
            if depth < 0 || self.is_immature_coinbase(wtx) {
                continue;
            }
            if depth == 0 && wtx.state != TxState::InMempool {
                continue;
            }
            let safe = self.is_trusted(wtx, &mut HashSet::new());
            for (vout, output) in wtx.tx.output.iter().enumerate() {
                let outpoint = OutPoint {
                    txid: wtx.txid,
                    vout: vout as u32,
                };
                let Some(origin) = self.script_origin(&output.script_pubkey) else {
                    continue;
                };
                if self.is_spent(&outpoint) || self.locked_coins.contains(&outpoint) {
                    continue;
                }
                out.push(Spendable {
                    outpoint,
                    output: output.clone(),
                    depth,
                    safe,
                    origin,
                });
            }
        }
        out
    }

    /// The active descriptor for `kind`, for change if `internal`.
    pub fn active_descriptor(&self, kind: AddressType, internal: bool) -> Option<usize> {
        self.descriptors
            .iter()
            .position(|d| d.record.active == Some((kind, internal)))
    }

    /// Derives scripts so that `keypool` remain unused past `next_index`.
    fn top_up(&mut self, index: usize, batch: &mut Batch) -> Result<(), WalletError> {
        let keypool = self.keypool;
        let descriptor = &mut self.descriptors[index];
        if !descriptor.is_ranged() {
            if descriptor.derived == 0 {
                let script = descriptor.script_at(0)?;
                self.scripts.insert(script, (index, 0));
                descriptor.derived = 1;
            }
            return Ok(());
        }
        let (start, end) = descriptor.record.range.unwrap_or((0, 0));
        let wanted_end = (descriptor.record.next_index + keypool).max(end);
        for i in descriptor.derived.max(start)..wanted_end {
            let script = descriptor.script_at(i)?;
            self.scripts.insert(script, (index, i));
        }
        descriptor.derived = descriptor.derived.max(wanted_end);
        if descriptor.record.range != Some((start, wanted_end)) {
            descriptor.record.range = Some((start, wanted_end));
            batch.descriptor(&descriptor.id, &descriptor.record);
        }
        Ok(())
    }

    /// Adds `descriptor` (or updates the one with the same id) and derives
    /// its scripts. Returns its position.
    pub fn add_descriptor(
        &mut self,
        record: DescriptorRecord,
        batch: &mut Batch,
    ) -> Result<usize, WalletError> {
        let descriptor = WalletDescriptor::from_record(record)?;
        if let Some((kind, internal)) = descriptor.record.active {
            // One active descriptor per type and side.
            for other in &mut self.descriptors {
                if other.record.active == Some((kind, internal)) && other.id != descriptor.id {
                    other.record.active = None;
                    batch.descriptor(&other.id, &other.record);
                }
            }
        }
        batch.descriptor(&descriptor.id, &descriptor.record);
        let index = match self.descriptors.iter().position(|d| d.id == descriptor.id) {
            Some(index) => {
                self.descriptors[index] = descriptor;
                index
            }
            None => {
                self.descriptors.push(descriptor);
                self.descriptors.len() - 1
            }
        };
        self.top_up(index, batch)?;
        Ok(index)
    }

    /// A script at `origin` appeared in a transaction: everything up to
    /// it counts as handed out, and the keypool is topped up.
    pub fn mark_used(
        &mut self,
        origin: (usize, u32),
        batch: &mut Batch,
    ) -> Result<(), WalletError> {
        let (index, child) = origin;
        let descriptor = &mut self.descriptors[index];
        if child >= descriptor.record.next_index && descriptor.is_ranged() {
            descriptor.record.next_index = child + 1;
            batch.descriptor(&descriptor.id, &descriptor.record);
            self.top_up(index, batch)?;
        }
        Ok(())
    }

    /// Hands out the next script of the active `kind` descriptor.
    pub fn next_script(
        &mut self,
        kind: AddressType,
        internal: bool,
        batch: &mut Batch,
    ) -> Result<ScriptBuf, WalletError> {
        let index = self
            .active_descriptor(kind, internal)
            .ok_or(WalletError::NoKeys)?;
        let child = self.descriptors[index].record.next_index;
        let script = self.descriptors[index].script_at(child)?;
        self.mark_used((index, child), batch)?;
        Ok(script)
    }

    /// Core's `SyncTransaction`/`AddToWalletIfInvolvingMe`: records `tx`
    /// in `state` if it pays or spends us, or is known already. Returns
    /// whether anything changed.
    pub fn sync_transaction(
        &mut self,
        tx: &Transaction,
        state: TxState,
        now: i64,
        batch: &mut Batch,
    ) -> Result<bool, WalletError> {
        let txid = tx.compute_txid();
        let known = self.txs.contains_key(&txid);
        let pays_us: Vec<(usize, u32)> = tx
            .output
            .iter()
            .filter_map(|o| self.script_origin(&o.script_pubkey))
            .collect();
        if !known && pays_us.is_empty() && !self.is_from_me(tx) {
            return Ok(false);
        }
        for origin in pays_us {
            self.mark_used(origin, batch)?;
        }
        match self.txs.get_mut(&txid) {
            Some(wtx) => {
                // A confirmation is never undone by a mempool event; only
                // block_disconnected undoes it.
                let keep = matches!(wtx.state, TxState::Confirmed { .. })
                    && !matches!(state, TxState::Confirmed { .. });
                if keep || wtx.state == state {
                    return Ok(false);
                }
                wtx.state = state;
                batch.tx(&txid.to_string(), &wtx.to_stored());
            }
            None => {
                let wtx = WalletTx {
                    tx: tx.clone(),
                    txid,
                    state,
                    time_received: now,
                    order: self.next_order,
                    comment: None,
                    comment_to: None,
                };
                self.next_order += 1;
                for input in &tx.input {
                    self.spends
                        .entry(input.previous_output)
                        .or_default()
                        .push(txid);
                }
                batch.tx(&txid.to_string(), &wtx.to_stored());
                self.txs.insert(txid, wtx);
            }
        }
        Ok(true)
    }

    /// Marks `txid` and its wallet descendants conflicted by a block.
    fn mark_conflicted(&mut self, txid: Txid, block: &BlockInfo, batch: &mut Batch) {
        let mut stack = vec![txid];
        let mut done = HashSet::new();
        while let Some(txid) = stack.pop() {
            if !done.insert(txid) {
                continue;
            }
            let Some(wtx) = self.txs.get_mut(&txid) else {
                continue;
            };
            if matches!(wtx.state, TxState::Confirmed { .. }) {
                continue;
            }
            // An earlier conflicting block is the one that counts (the
            // deepest conflict, as Core keeps it).
            if matches!(wtx.state, TxState::Conflicted { height, .. } if height <= block.height) {
                continue;
            }
            wtx.state = TxState::Conflicted {
                block_hash: block.hash,
                height: block.height,
            };
            batch.tx(&txid.to_string(), &wtx.to_stored());
            for vout in 0..wtx.tx.output.len() as u32 {
                if let Some(children) = self.spends.get(&OutPoint { txid, vout }) {
                    stack.extend(children.iter().copied());
                }
            }
        }
    }

    pub fn block_connected(
        &mut self,
        block: &BlockInfo,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(), WalletError> {
        self.scan_block(block, now, batch)?;
        self.set_best_block(block.hash, block.height, batch);
        Ok(())
    }

    /// What an active-chain block means for the wallet, whether it arrives
    /// as a notification or in a rescan: its transactions of ours are
    /// confirmed in it, and ours that spend what it spends are conflicted.
    pub fn scan_block(
        &mut self,
        block: &BlockInfo,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(), WalletError> {
        for (index, tx) in block.data.txdata.iter().enumerate() {
            let state = TxState::Confirmed {
                block_hash: block.hash,
                height: block.height,
                index: index as u32,
                block_time: block.data.header.time,
            };
            self.sync_transaction(tx, state, now, batch)?;
            let txid = tx.compute_txid();
            for input in &tx.input {
                let others: Vec<Txid> = self
                    .spends
                    .get(&input.previous_output)
                    .into_iter()
                    .flatten()
                    .filter(|t| **t != txid)
                    .copied()
                    .collect();
                for other in others {
                    self.mark_conflicted(other, block, batch);
                }
            }
        }
        Ok(())
    }

    pub fn block_disconnected(&mut self, block: &BlockInfo, batch: &mut Batch) {
        let mut unconfirm = Vec::new();
        for wtx in self.txs.values() {
            match wtx.state {
                TxState::Confirmed { block_hash, .. } | TxState::Conflicted { block_hash, .. }
                    if block_hash == block.hash =>
                {
                    unconfirm.push(wtx.txid)
                }
                _ => {}
            }
        }
        for txid in unconfirm {
            let wtx = self.txs.get_mut(&txid).expect("collected above");
            wtx.state = TxState::Inactive { abandoned: false };
            batch.tx(&txid.to_string(), &wtx.to_stored());
        }
        self.set_best_block(block.prev_hash, block.height.saturating_sub(1), batch);
    }

    pub fn set_best_block(&mut self, hash: bitcoin::BlockHash, height: u32, batch: &mut Batch) {
        let best = BlockRef { hash, height };
        self.best_block = Some(best);
        batch.meta("best_block", &(hash, height));
    }

    pub fn tx_added_to_mempool(
        &mut self,
        tx: &Transaction,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(), WalletError> {
        self.sync_transaction(tx, TxState::InMempool, now, batch)?;
        Ok(())
    }

    pub fn tx_removed_from_mempool(&mut self, tx: &Transaction, batch: &mut Batch) {
        let txid = tx.compute_txid();
        if let Some(wtx) = self.txs.get_mut(&txid) {
            if wtx.state == TxState::InMempool {
                wtx.state = TxState::Inactive { abandoned: false };
                batch.tx(&txid.to_string(), &wtx.to_stored());
            }
        }
    }

    /// The private descriptors' keys, for signing.
    pub fn signing_keys(
        &self,
        now: i64,
    ) -> Result<Vec<miniscript::descriptor::KeyMap>, WalletError> {
        if self.flags.disable_private_keys {
            return Err(WalletError::PrivateKeysDisabled);
        }
        if self.is_locked(now) {
            return Err(WalletError::Locked);
        }
        let mut maps = Vec::new();
        for descriptor in &self.descriptors {
            let text = match &descriptor.record.secret {
                None => continue,
                Some(Secret::Plain(text)) => text.clone(),
                Some(Secret::Encrypted(sealed)) => {
                    let (master, _) = self.unlocked.as_ref().ok_or(WalletError::Locked)?;
                    master.decrypt_secret(sealed)?
                }
            };
            maps.push(descriptors::parse_private(&text)?.1);
        }
        Ok(maps)
    }

    /// The private form of descriptor `index`, if it has one.
    pub fn private_descriptor(
        &self,
        index: usize,
        now: i64,
    ) -> Result<Option<String>, WalletError> {
        match &self.descriptors[index].record.secret {
            None => Ok(None),
            Some(Secret::Plain(text)) => Ok(Some(text.clone())),
            Some(Secret::Encrypted(sealed)) => {
                if self.is_locked(now) {
                    return Err(WalletError::Locked);
                }
                let (master, _) = self.unlocked.as_ref().ok_or(WalletError::Locked)?;
                Ok(Some(master.decrypt_secret(sealed)?))
            }
        }
    }

    /// Seals a private descriptor under the master key if the wallet is
    /// encrypted (it must then be unlocked).
    pub fn seal_secret(&self, private: String, now: i64) -> Result<Secret, WalletError> {
        if self.encryption.is_none() {
            return Ok(Secret::Plain(private));
        }
        if self.is_locked(now) {
            return Err(WalletError::Locked);
        }
        let (master, _) = self.unlocked.as_ref().ok_or(WalletError::Locked)?;
        Ok(Secret::Encrypted(master.encrypt_secret(&private)?))
    }

    pub fn lock(&mut self) {
        self.unlocked = None;
    }

    /// walletpassphrase: opens the master key until `until` (0: forever).
    pub fn unlock(&mut self, passphrase: &str, until: i64) -> Result<(), WalletError> {
        let record = self.encryption.as_ref().ok_or(WalletError::NotEncrypted)?;
        let master = MasterKey::decrypt(record, passphrase)?;
        self.unlocked = Some((master, until));
        Ok(())
    }

    /// encryptwallet: seals every private descriptor under a new master
    /// key, itself sealed under `passphrase`. The wallet stays locked.
    pub fn encrypt(&mut self, passphrase: &str, batch: &mut Batch) -> Result<(), WalletError> {
        if self.encryption.is_some() {
            return Err(WalletError::AlreadyEncrypted);
        }
        if self.flags.disable_private_keys {
            return Err(WalletError::Invalid(
                "Error: wallet does not contain private keys, nothing to encrypt.".into(),
            ));
        }
        let master = MasterKey::generate()?;
        let record = master.encrypt_with(passphrase)?;
        for descriptor in &mut self.descriptors {
            if let Some(Secret::Plain(text)) = &descriptor.record.secret {
                descriptor.record.secret = Some(Secret::Encrypted(master.encrypt_secret(text)?));
                batch.descriptor(&descriptor.id, &descriptor.record);
            }
        }
        batch.meta("encryption", &record);
        self.encryption = Some(record);
        self.unlocked = None;
        Ok(())
    }

    /// walletpassphrasechange's core: reseal the master key.
    pub fn change_passphrase(
        &mut self,
        old: &str,
        new: &str,
        batch: &mut Batch,
    ) -> Result<(), WalletError> {
        let record = self.encryption.as_ref().ok_or(WalletError::NotEncrypted)?;
        let master = MasterKey::decrypt(record, old)?;
        let sealed = master.encrypt_with(new)?;
        batch.meta("encryption", &sealed);
        self.encryption = Some(sealed);
        Ok(())
    }

    pub fn set_label(&mut self, address: &str, label: &str, purpose: &str, batch: &mut Batch) {
        let entry = AddressEntry {
            label: label.to_string(),
            purpose: purpose.to_string(),
        };
        batch.address(address, Some(&entry));
        self.addresses.insert(address.to_string(), entry);
    }

    pub fn label(&self, address: &str) -> Option<&str> {
        self.addresses.get(address).map(|e| e.label.as_str())
    }

    pub fn add_order(&mut self) -> u64 {
        self.next_order += 1;
        self.next_order - 1
    }
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
            for input in &wtx.tx.input {
                state
                    .spends
                    .entry(input.previous_output)
                    .or_default()
                    .push(wtx.txid);
            }
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
        Ok(self.store.commit(batch)?)
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
