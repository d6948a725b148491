//! One wallet's state and the rules Bitcoin Core applies to it: which
//! outputs are ours, spent, trusted and mature; the balances; what a block,
//! a disconnected block or a mempool event does to each transaction; the
//! keypool; and the keys, sealed or not. Pure bookkeeping: no chain, no
//! disk; the changes it makes go into a [`Batch`] its caller commits.

use std::collections::{BTreeMap, HashMap, HashSet};

use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use interfaces::{BlockInfo, BlockRef};
use serde::{Deserialize, Serialize};

use crate::crypter::{EncryptedMasterKey, MasterKey};
use crate::descriptors::{self, AddressType, DescriptorRecord, Secret, WalletDescriptor};
use crate::error::WalletError;
use crate::store::Batch;
use crate::tx::{TxState, WalletTx};

/// Core's `COINBASE_MATURITY`.
pub const COINBASE_MATURITY: i64 = 100;

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
    pub(crate) scripts: HashMap<ScriptBuf, (usize, u32)>,
    pub txs: HashMap<Txid, WalletTx>,
    /// Outpoint to the wallet transactions spending it.
    pub(crate) spends: HashMap<OutPoint, Vec<Txid>>,
    pub(crate) next_order: u64,
    pub best_block: Option<BlockRef>,
    pub locked_coins: HashSet<OutPoint>,
    /// The locks `lockunspent` was told to keep across restarts.
    pub persistent_locks: HashSet<OutPoint>,
    pub encryption: Option<EncryptedMasterKey>,
    /// The master key while unlocked, and until when (seconds).
    pub(crate) unlocked: Option<(MasterKey, i64)>,
    /// `settxfee` (sat/kvB), 0 for none.
    pub pay_tx_fee: u64,
    pub addresses: BTreeMap<String, AddressEntry>,
    pub birth_time: i64,
    pub(crate) keypool: u32,
}

impl State {
    pub(crate) fn new(flags: Flags, keypool: u32) -> State {
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

    /// Indexes what `tx` spends (nothing for a coinbase, as Core).
    pub(crate) fn record_spends(&mut self, tx: &Transaction, txid: Txid) {
        if tx.is_coinbase() {
            return;
        }
        for input in &tx.input {
            self.spends
                .entry(input.previous_output)
                .or_default()
                .push(txid);
        }
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
                self.record_spends(tx, txid);
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
            // A coinbase spends nothing (its null input conflicts with no
            // one, as in Core, which never indexes it).
            if tx.is_coinbase() {
                continue;
            }
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
