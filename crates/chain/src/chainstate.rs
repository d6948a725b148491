//! The chainstate: the block index (every stored block, its height, the
//! work of the chain ending there, whether it is valid), the active chain,
//! and the UTXO set behind it. A new block is checked, stored, and, if its
//! chain has the most work, connected, reorganising away from the old tip
//! if needed. Each connected or disconnected block is one atomic commit.
//!
//! Inputs are checked as Bitcoin Core's `ConnectBlock` checks them:
//! existence, maturity, amounts, and scripts (by Core's interpreter, see
//! [`crate::script`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use bitcoin::block::Header;
use bitcoin::{Block, BlockHash, OutPoint, Transaction, Work};

use crate::check::check_block;
use crate::coins::{BlockUndo, Coin};
use crate::consensus::{
    Consensus, MAX_BLOCK_WEIGHT, MAX_FUTURE_BLOCK_TIME, MAX_MONEY, MEDIAN_TIME_SPAN,
};
use crate::contextual::{check_witness, is_final, is_unspendable};
use crate::error::{BlockError, TxError};
use crate::store::{BlockStatus, Store, StoreError, StoredEntry};

/// A block the index knows.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    pub header: Header,
    pub height: u32,
    /// Work of the chain from genesis up to and including this block.
    pub chain_work: Work,
    pub status: BlockStatus,
    /// Arrival order, for breaking ties between equal-work chains in favour
    /// of the first seen, as Core's `nSequenceId` does (0 for blocks loaded
    /// from disk).
    pub sequence: u64,
}

/// What became of a block handed to [`ChainState::process_block`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOutcome {
    /// It is the new tip (possibly after a reorganisation).
    NewTip,
    /// Valid so far and stored, but its chain has less work than ours.
    SideBranch,
}

pub struct ChainState {
    store: Store,
    consensus: Consensus,
    index: HashMap<BlockHash, IndexEntry>,
    /// Block hashes of the active chain, by height.
    active: Vec<BlockHash>,
    /// The next [`IndexEntry::sequence`].
    next_sequence: u64,
}

fn store_err(error: StoreError) -> BlockError {
    BlockError::Store(error.to_string())
}

impl ChainState {
    /// Opens (or creates, starting from `genesis`) the chainstate at `path`.
    pub fn open(
        path: &Path,
        consensus: Consensus,
        genesis: &Block,
    ) -> Result<ChainState, StoreError> {
        let store = Store::open(path)?;
        let mut stored = store.load_index()?;
        if stored.is_empty() {
            // The genesis block's outputs are not spendable: they never
            // enter the UTXO set, as in Bitcoin Core.
            let hash = genesis.block_hash();
            let entry = StoredEntry {
                header: genesis.header,
                height: 0,
                status: BlockStatus::Valid,
            };
            let mut batch = store.begin()?;
            batch.put_block(genesis)?;
            batch.put_entry(&hash, &entry)?;
            batch.put_undo(&hash, &BlockUndo::default())?;
            batch.set_tip(&hash)?;
            batch.commit()?;
            stored.push((hash, entry));
        }
        stored.sort_by_key(|(_, entry)| entry.height);
        let mut index: HashMap<BlockHash, IndexEntry> = HashMap::with_capacity(stored.len());
        for (hash, entry) in stored {
            let parent_work = index
                .get(&entry.header.prev_blockhash)
                .map(|parent| parent.chain_work);
            let chain_work = match parent_work {
                Some(work) => work + entry.header.work(),
                None if entry.height == 0 => entry.header.work(),
                None => return Err(StoreError::Corrupt(format!("block {hash} has no parent"))),
            };
            index.insert(
                hash,
                IndexEntry {
                    header: entry.header,
                    height: entry.height,
                    chain_work,
                    status: entry.status,
                    sequence: 0,
                },
            );
        }
        let tip = store
            .tip()?
            .ok_or_else(|| StoreError::Corrupt("no tip".into()))?;
        let mut active = Vec::new();
        let mut cursor = Some(tip);
        while let Some(hash) = cursor {
            let entry = index
                .get(&hash)
                .ok_or_else(|| StoreError::Corrupt(format!("tip ancestor {hash} missing")))?;
            active.push(hash);
            cursor = (entry.height > 0).then_some(entry.header.prev_blockhash);
        }
        active.reverse();
        let mut chainstate = ChainState {
            store,
            consensus,
            index,
            active,
            next_sequence: 1,
        };
        // A reorganisation is several commits; a crash in the middle leaves
        // the tip on the lighter chain. Finish it now.
        let best = chainstate.best_valid_tip();
        if best != chainstate.tip() {
            chainstate
                .activate(best)
                .map_err(|e| StoreError::Corrupt(format!("finishing a reorganisation: {e}")))?;
        }
        Ok(chainstate)
    }

    pub fn consensus(&self) -> &Consensus {
        &self.consensus
    }

    pub fn height(&self) -> u32 {
        (self.active.len() - 1) as u32
    }

    pub fn tip(&self) -> BlockHash {
        *self.active.last().expect("the active chain has genesis")
    }

    pub fn tip_entry(&self) -> &IndexEntry {
        &self.index[&self.tip()]
    }

    pub fn block_hash(&self, height: u32) -> Option<BlockHash> {
        self.active.get(height as usize).copied()
    }

    pub fn entry(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.index.get(hash)
    }

    /// Whether `hash` is on the active chain.
    pub fn is_active(&self, hash: &BlockHash) -> bool {
        self.index
            .get(hash)
            .is_some_and(|entry| self.block_hash(entry.height) == Some(*hash))
    }

    /// Every block the index knows, for `getchaintips`.
    pub fn entries(&self) -> impl Iterator<Item = (&BlockHash, &IndexEntry)> {
        self.index.iter()
    }

    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        self.store.block(hash)
    }

    pub fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.store.coin(outpoint)
    }

    /// What block `hash` spent (its undo data), if it was connected.
    pub fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StoreError> {
        self.store.undo(hash)
    }

    /// The active block holding `txid` (the transaction index is kept for
    /// every block; `-txindex` decides whether RPCs may use it).
    pub fn tx_block(&self, txid: &bitcoin::Txid) -> Result<Option<BlockHash>, StoreError> {
        self.store.tx_block(txid)
    }

    pub fn for_each_coin(&self, f: impl FnMut(OutPoint, Coin)) -> Result<(), StoreError> {
        self.store.for_each_coin(f)
    }

    /// Median of the last eleven block times ending at `hash`.
    pub fn median_time_past(&self, hash: &BlockHash) -> u32 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        let mut cursor = self.index.get(hash);
        while let Some(entry) = cursor {
            times.push(entry.header.time);
            if times.len() == MEDIAN_TIME_SPAN || entry.height == 0 {
                break;
            }
            cursor = self.index.get(&entry.header.prev_blockhash);
        }
        times.sort_unstable();
        times[times.len() / 2]
    }

    /// BIP68: whether `tx`'s relative lock-times allow it in a block at
    /// `height` on the active chain, given the heights of the coins it
    /// spends (`height` for coins created in that same block). Core's
    /// `CalculateSequenceLocks` and `EvaluateSequenceLocks`.
    pub fn sequence_locks_ok(&self, tx: &Transaction, coin_heights: &[u32], height: u32) -> bool {
        const DISABLE: u32 = 1 << 31;
        const TIME_BASED: u32 = 1 << 22;
        const MASK: u32 = 0x0000_ffff;
        if tx.version.0 < 2 {
            return true;
        }
        let mtp_at = |h: u32| -> i64 {
            self.block_hash(h)
                .map_or(0, |hash| i64::from(self.median_time_past(&hash)))
        };
        let mut min_height: i64 = -1;
        let mut min_time: i64 = -1;
        for (input, coin_height) in tx.input.iter().zip(coin_heights) {
            let sequence = input.sequence.to_consensus_u32();
            if sequence & DISABLE != 0 {
                continue;
            }
            let value = i64::from(sequence & MASK);
            if sequence & TIME_BASED != 0 {
                let coin_time = mtp_at(coin_height.saturating_sub(1));
                min_time = min_time.max(coin_time + (value << 9) - 1);
            } else {
                min_height = min_height.max(i64::from(*coin_height) + value - 1);
            }
        }
        let block_time = if height == 0 { 0 } else { mtp_at(height - 1) };
        min_height < i64::from(height) && min_time < block_time
    }

    /// The bits a block on top of `prev` must carry. Only chains without
    /// retargeting (regtest) run today; others keep their parent's bits.
    pub fn next_bits(&self, prev: &BlockHash) -> bitcoin::CompactTarget {
        self.index[prev].header.bits
    }

    /// Checks `block`, stores it, and makes its chain active if it has the
    /// most work. `now` is the node's (possibly mocked) time, in seconds.
    pub fn process_block(&mut self, block: &Block, now: u64) -> Result<BlockOutcome, BlockError> {
        let hash = block.block_hash();
        if let Some(entry) = self.index.get(&hash) {
            return Err(match entry.status {
                BlockStatus::Invalid => BlockError::DuplicateInvalid,
                BlockStatus::Valid => BlockError::Duplicate,
            });
        }
        check_block(block, &self.consensus)?;
        let prev_hash = block.header.prev_blockhash;
        let prev = self.index.get(&prev_hash).ok_or(BlockError::PrevNotFound)?;
        if !self.chain_is_valid(&prev_hash) {
            return Err(BlockError::BadPrevBlock);
        }
        let height = prev.height + 1;
        let chain_work = prev.chain_work + block.header.work();
        self.check_header_in_context(&block.header, &prev_hash, height, now)?;
        self.check_block_in_context(block, &prev_hash, height)?;

        let entry = StoredEntry {
            header: block.header,
            height,
            status: BlockStatus::Valid,
        };
        let indexed = IndexEntry {
            header: block.header,
            height,
            chain_work,
            status: BlockStatus::Valid,
            sequence: self.next_sequence,
        };
        self.next_sequence += 1;
        if prev_hash == self.tip() {
            // The common case: store and connect in one commit.
            let batch = self.stored_block(block, &entry)?;
            self.index.insert(hash, indexed);
            match self.connect_block(batch, &hash, block) {
                Ok(()) => return Ok(BlockOutcome::NewTip),
                Err(BlockError::Store(message)) => {
                    // Nothing was committed; a later copy is checked again.
                    self.index.remove(&hash);
                    return Err(BlockError::Store(message));
                }
                Err(error) => {
                    // Remembered as invalid, as Core marks it: a resubmission
                    // is "duplicate-invalid", children are "bad-prevblk".
                    let entry = StoredEntry {
                        status: BlockStatus::Invalid,
                        ..entry
                    };
                    self.stored_block(block, &entry)?
                        .commit()
                        .map_err(store_err)?;
                    if let Some(indexed) = self.index.get_mut(&hash) {
                        indexed.status = BlockStatus::Invalid;
                    }
                    return Err(error);
                }
            }
        }
        self.stored_block(block, &entry)?
            .commit()
            .map_err(store_err)?;
        self.index.insert(hash, indexed);
        if chain_work > self.tip_entry().chain_work {
            self.activate(hash)?;
            if self.tip() == hash {
                return Ok(BlockOutcome::NewTip);
            }
            // The new chain failed while connecting; the reason is the
            // block status now recorded.
            return Err(BlockError::BadPrevBlock);
        }
        Ok(BlockOutcome::SideBranch)
    }

    /// A batch holding `block` and its index entry, to commit alone or
    /// together with the block's connection.
    fn stored_block(
        &self,
        block: &Block,
        entry: &StoredEntry,
    ) -> Result<crate::store::Batch, BlockError> {
        let mut batch = self.store.begin().map_err(store_err)?;
        batch.put_block(block).map_err(store_err)?;
        batch
            .put_entry(&block.block_hash(), entry)
            .map_err(store_err)?;
        Ok(batch)
    }

    /// Whether `hash` and all its ancestors are valid.
    fn chain_is_valid(&self, hash: &BlockHash) -> bool {
        let mut cursor = Some(*hash);
        while let Some(h) = cursor {
            if self.is_active(&h) {
                return true;
            }
            match self.index.get(&h) {
                Some(entry) if entry.status == BlockStatus::Valid => {
                    cursor = (entry.height > 0).then_some(entry.header.prev_blockhash);
                }
                _ => return false,
            }
        }
        true
    }

    fn check_header_in_context(
        &self,
        header: &Header,
        prev: &BlockHash,
        height: u32,
        now: u64,
    ) -> Result<(), BlockError> {
        if header.bits != self.next_bits(prev) {
            return Err(BlockError::BadDiffBits);
        }
        if header.time <= self.median_time_past(prev) {
            return Err(BlockError::TimeTooOld);
        }
        if u64::from(header.time) > now + MAX_FUTURE_BLOCK_TIME {
            return Err(BlockError::TimeTooNew);
        }
        let version = header.version.to_consensus();
        let c = &self.consensus;
        if (version < 2 && height >= c.bip34_height)
            || (version < 3 && height >= c.bip66_height)
            || (version < 4 && height >= c.bip65_height)
        {
            return Err(BlockError::BadVersion(version));
        }
        Ok(())
    }

    fn check_block_in_context(
        &self,
        block: &Block,
        prev: &BlockHash,
        height: u32,
    ) -> Result<(), BlockError> {
        let cutoff = self.median_time_past(prev);
        for tx in &block.txdata {
            if !is_final(tx, height, cutoff) {
                return Err(TxError::NonFinal.into());
            }
        }
        if height >= self.consensus.bip34_height {
            // Core compares script bytes, so small heights are OP_1..OP_16.
            let prefix = crate::block_builder::bip34_prefix(height);
            let script_sig = block.txdata[0].input[0].script_sig.as_bytes();
            if !script_sig.starts_with(prefix.as_bytes()) {
                return Err(BlockError::CoinbaseHeight);
            }
        }
        if height >= self.consensus.segwit_height {
            check_witness(block)?;
        } else if block
            .txdata
            .iter()
            .any(|tx| tx.input.iter().any(|i| !i.witness.is_empty()))
        {
            return Err(BlockError::UnexpectedWitness);
        }
        if block.weight().to_wu() > MAX_BLOCK_WEIGHT {
            return Err(BlockError::BadWeight);
        }
        Ok(())
    }

    /// Spends the block's inputs and adds its outputs, checking amounts,
    /// maturity and the coinbase's claim, then commits `batch` with the
    /// UTXO changes, the undo data and the new tip.
    fn connect_block(
        &mut self,
        mut batch: crate::store::Batch,
        hash: &BlockHash,
        block: &Block,
    ) -> Result<(), BlockError> {
        let height = self.index[hash].height;
        let mut created: HashMap<OutPoint, Coin> = HashMap::new();
        let mut spent_from_store: HashSet<OutPoint> = HashSet::new();
        let mut undo = BlockUndo::default();
        let mut fees: u64 = 0;
        // Scripts are checked last, as Core's check queue reports them
        // after every cheaper rule.
        let mut script_checks = Vec::new();
        // The coinbase's outputs count too (it spends nothing).
        let mut sigops = block.txdata[0].total_sigop_cost(|_| None);
        for (position, tx) in block.txdata.iter().enumerate() {
            let txid = tx.compute_txid();
            if position > 0 {
                let mut value_in: u64 = 0;
                let mut spent_outputs = Vec::with_capacity(tx.input.len());
                let mut coin_heights = Vec::with_capacity(tx.input.len());
                for input in &tx.input {
                    let prevout = input.previous_output;
                    let coin = match created.remove(&prevout) {
                        Some(coin) => coin,
                        None if spent_from_store.contains(&prevout) => {
                            return Err(TxError::MissingOrSpent.into())
                        }
                        None => {
                            let coin = self.store.coin(&prevout).map_err(store_err)?;
                            let coin = coin.ok_or(TxError::MissingOrSpent)?;
                            spent_from_store.insert(prevout);
                            coin
                        }
                    };
                    if coin.is_coinbase && height - coin.height < self.consensus.coinbase_maturity {
                        return Err(TxError::PrematureCoinbaseSpend.into());
                    }
                    value_in = value_in.saturating_add(coin.output.value.to_sat());
                    if coin.output.value.to_sat() > MAX_MONEY || value_in > MAX_MONEY {
                        return Err(TxError::InputValuesOutOfRange.into());
                    }
                    spent_outputs.push(coin.output.clone());
                    coin_heights.push(coin.height);
                    undo.spent.push((prevout, coin));
                }
                let by_outpoint: HashMap<OutPoint, &bitcoin::TxOut> = tx
                    .input
                    .iter()
                    .map(|i| i.previous_output)
                    .zip(spent_outputs.iter())
                    .collect();
                sigops =
                    sigops.saturating_add(tx.total_sigop_cost(|outpoint| {
                        by_outpoint.get(outpoint).map(|o| (*o).clone())
                    }));
                if sigops > crate::consensus::MAX_BLOCK_SIGOPS_COST {
                    return Err(BlockError::TooManySigops);
                }
                script_checks.push((tx, spent_outputs));
                let value_out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
                if value_in < value_out {
                    return Err(TxError::InBelowOut.into());
                }
                if !self.sequence_locks_ok(tx, &coin_heights, height) {
                    return Err(TxError::NonFinal.into());
                }
                fees += value_in - value_out;
            }
            for (vout, output) in tx.output.iter().enumerate() {
                if is_unspendable(output) {
                    continue;
                }
                let outpoint = OutPoint {
                    txid,
                    vout: vout as u32,
                };
                let coin = Coin {
                    output: output.clone(),
                    height,
                    is_coinbase: position == 0,
                };
                created.insert(outpoint, coin);
            }
        }
        if sigops > crate::consensus::MAX_BLOCK_SIGOPS_COST {
            return Err(BlockError::TooManySigops);
        }
        let claimed: u64 = block.txdata[0]
            .output
            .iter()
            .map(|o| o.value.to_sat())
            .sum();
        if claimed > self.consensus.block_subsidy(height).to_sat() + fees {
            return Err(BlockError::CoinbaseAmount);
        }
        for (tx, spent) in script_checks {
            crate::script::verify_inputs(tx, &spent, crate::script::BLOCK_FLAGS)?;
        }
        for outpoint in &spent_from_store {
            batch.spend_coin(outpoint).map_err(store_err)?;
        }
        for (outpoint, coin) in &created {
            batch.put_coin(outpoint, coin).map_err(store_err)?;
        }
        for tx in &block.txdata {
            batch
                .index_tx(&tx.compute_txid(), hash)
                .map_err(store_err)?;
        }
        batch.put_undo(hash, &undo).map_err(store_err)?;
        batch.set_tip(hash).map_err(store_err)?;
        batch.commit().map_err(store_err)?;
        self.active.push(*hash);
        Ok(())
    }

    /// Undoes the tip block: its outputs leave the UTXO set, the coins it
    /// spent come back.
    fn disconnect_tip(&mut self) -> Result<Block, BlockError> {
        let hash = self.tip();
        let entry = self.index[&hash].clone();
        if entry.height == 0 {
            return Err(BlockError::Store(
                "cannot disconnect the genesis block".into(),
            ));
        }
        let block = self
            .store
            .block(&hash)
            .map_err(store_err)?
            .ok_or_else(|| BlockError::Store(format!("block {hash} missing")))?;
        let undo = self
            .store
            .undo(&hash)
            .map_err(store_err)?
            .ok_or_else(|| BlockError::Store(format!("undo data of {hash} missing")))?;
        let mut batch = self.store.begin().map_err(store_err)?;
        let mut restore = undo.spent.iter().rev();
        for tx in block.txdata.iter().rev() {
            let txid = tx.compute_txid();
            batch.unindex_tx(&txid).map_err(store_err)?;
            for vout in 0..tx.output.len() {
                batch
                    .spend_coin(&OutPoint {
                        txid,
                        vout: vout as u32,
                    })
                    .map_err(store_err)?;
            }
            if tx.is_coinbase() {
                continue;
            }
            for _ in &tx.input {
                let (outpoint, coin) = restore
                    .next()
                    .ok_or_else(|| BlockError::Store(format!("undo data of {hash} too short")))?;
                batch.put_coin(outpoint, coin).map_err(store_err)?;
            }
        }
        batch
            .set_tip(&entry.header.prev_blockhash)
            .map_err(store_err)?;
        batch.commit().map_err(store_err)?;
        self.active.pop();
        Ok(block)
    }

    /// Moves the active chain to end at `target`: disconnect back to the
    /// fork point, connect forward. A block that fails to connect is marked
    /// invalid and the best remaining chain is activated instead.
    fn activate(&mut self, target: BlockHash) -> Result<(), BlockError> {
        let mut path = Vec::new();
        let mut cursor = target;
        while !self.is_active(&cursor) {
            path.push(cursor);
            cursor = self.index[&cursor].header.prev_blockhash;
        }
        let fork_height = self.index[&cursor].height;
        while self.height() > fork_height {
            self.disconnect_tip()?;
        }
        for hash in path.into_iter().rev() {
            let block = self
                .store
                .block(&hash)
                .map_err(store_err)?
                .ok_or_else(|| BlockError::Store(format!("block {hash} missing")))?;
            let batch = self.store.begin().map_err(store_err)?;
            if let Err(error) = self.connect_block(batch, &hash, &block) {
                if matches!(error, BlockError::Store(_)) {
                    return Err(error);
                }
                self.mark_invalid(&hash)?;
                let best = self.best_valid_tip();
                if best != self.tip() {
                    self.activate(best)?;
                }
                return Ok(());
            }
        }
        Ok(())
    }

    fn mark_invalid(&mut self, hash: &BlockHash) -> Result<(), BlockError> {
        let entry = self.index.get_mut(hash).expect("known block");
        entry.status = BlockStatus::Invalid;
        let stored = StoredEntry {
            header: entry.header,
            height: entry.height,
            status: BlockStatus::Invalid,
        };
        let mut batch = self.store.begin().map_err(store_err)?;
        batch.put_entry(hash, &stored).map_err(store_err)?;
        batch.commit().map_err(store_err)
    }

    /// The block with the most work whose whole chain is valid.
    /// Ties go to the block seen first, so the answer does not depend on
    /// hash-map order.
    fn best_valid_tip(&self) -> BlockHash {
        let better = |a: &IndexEntry, b: &IndexEntry| {
            a.chain_work > b.chain_work || (a.chain_work == b.chain_work && a.sequence < b.sequence)
        };
        let mut best = self.tip();
        for (hash, entry) in &self.index {
            if better(entry, &self.index[&best]) && self.chain_is_valid(hash) {
                best = *hash;
            }
        }
        best
    }

    /// `invalidateblock`: marks `hash` invalid and, if it is on the active
    /// chain, disconnects down to its parent and activates the best
    /// remaining chain. Returns the blocks disconnected, tip first.
    pub fn invalidate_block(&mut self, hash: &BlockHash) -> Result<Vec<Block>, BlockError> {
        let entry = self
            .index
            .get(hash)
            .ok_or(BlockError::Store("Block not found".into()))?;
        if entry.height == 0 {
            return Err(BlockError::Store(
                "cannot invalidate the genesis block".into(),
            ));
        }
        let mut disconnected = Vec::new();
        if self.is_active(hash) {
            let height = entry.height;
            while self.height() >= height {
                disconnected.push(self.disconnect_tip()?);
            }
        }
        self.mark_invalid(hash)?;
        let best = self.best_valid_tip();
        if best != self.tip() {
            self.activate(best)?;
        }
        Ok(disconnected)
    }

    /// `reconsiderblock`: clears the invalid mark of `hash`, its ancestors
    /// and descendants, and activates the best chain.
    pub fn reconsider_block(&mut self, hash: &BlockHash) -> Result<(), BlockError> {
        let target = self
            .index
            .get(hash)
            .ok_or(BlockError::Store("Block not found".into()))?
            .clone();
        let mut cleared = Vec::new();
        for (h, entry) in &self.index {
            if entry.status == BlockStatus::Invalid
                && (self.descends_from(h, hash) || self.descends_from(hash, h))
            {
                cleared.push(*h);
            }
        }
        let _ = target;
        for h in cleared {
            let entry = self.index.get_mut(&h).expect("known");
            entry.status = BlockStatus::Valid;
            let stored = StoredEntry {
                header: entry.header,
                height: entry.height,
                status: BlockStatus::Valid,
            };
            let mut batch = self.store.begin().map_err(store_err)?;
            batch.put_entry(&h, &stored).map_err(store_err)?;
            batch.commit().map_err(store_err)?;
        }
        let best = self.best_valid_tip();
        if best != self.tip() {
            self.activate(best)?;
        }
        Ok(())
    }

    /// Whether `descendant` is `ancestor` or built on it.
    fn descends_from(&self, descendant: &BlockHash, ancestor: &BlockHash) -> bool {
        let Some(target) = self.index.get(ancestor) else {
            return false;
        };
        let mut cursor = *descendant;
        loop {
            if cursor == *ancestor {
                return true;
            }
            match self.index.get(&cursor) {
                Some(entry) if entry.height > target.height => cursor = entry.header.prev_blockhash,
                _ => return false,
            }
        }
    }
}
