//! The memory pool: transactions checked against the chain tip (consensus
//! rules, scripts by Core's interpreter, and Bitcoin Core's main policy
//! rules) waiting for a block. Entries may spend each other; a transaction
//! spending what an entry already spends is a conflict and refused.

use std::collections::{HashMap, HashSet};

use bitcoin::{Amount, OutPoint, Transaction, TxOut, Txid, Weight, Wtxid};
use chain::check::check_transaction;
use chain::ChainState;

/// Bitcoin Core's default minimum relay fee rate, sat per 1000 vbytes.
pub const MIN_RELAY_FEERATE: u64 = 1_000;
/// Bitcoin Core's default `maxfeerate` for sendrawtransaction: 0.10 BTC/kvB.
pub const DEFAULT_MAX_FEERATE: u64 = 10_000_000;
/// Policy limit on a transaction's weight.
const MAX_STANDARD_TX_WEIGHT: u64 = 400_000;
/// Smallest non-witness size a relayed transaction may have.
const MIN_STANDARD_TX_NONWITNESS_SIZE: usize = 65;

/// One waiting transaction.
#[derive(Clone, Debug)]
pub struct Entry {
    pub tx: Transaction,
    pub txid: Txid,
    pub wtxid: Wtxid,
    pub fee: Amount,
    pub vsize: u64,
    pub weight: Weight,
    /// When it entered, seconds since the epoch.
    pub time: u64,
    /// Tip height when it entered.
    pub height: u32,
}

impl Entry {
    /// Fee rate in sat per 1000 vbytes, for ordering.
    pub fn feerate(&self) -> u64 {
        self.fee.to_sat() * 1000 / self.vsize.max(1)
    }
}

/// Why a transaction was not accepted. `reason` is Core's reject reason
/// (`reject-reason` in testmempoolaccept); `kind` picks the RPC error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub kind: RejectKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectKind {
    /// Inputs unknown (Core's TX_MISSING_INPUTS).
    MissingInputs,
    /// Already confirmed.
    AlreadyInChain,
    /// Already waiting here.
    AlreadyInMempool,
    /// Fee above the caller's limit.
    MaxFeeExceeded,
    /// Any consensus or policy rule.
    Invalid,
}

fn reject(kind: RejectKind, reason: impl Into<String>) -> Rejection {
    Rejection {
        kind,
        reason: reason.into(),
    }
}

/// What an accepted (or would-be accepted) transaction looks like.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub txid: Txid,
    pub wtxid: Wtxid,
    pub fee: Amount,
    pub vsize: u64,
}

pub struct Mempool {
    /// Core's `-acceptnonstdtxn=0` (the default): policy rules apply.
    pub require_standard: bool,
    entries: HashMap<Txid, Entry>,
    /// Which entry spends each outpoint.
    spent_by: HashMap<OutPoint, Txid>,
    /// Entries in arrival order, for listing.
    order: Vec<Txid>,
}

impl Default for Mempool {
    fn default() -> Mempool {
        Mempool {
            require_standard: true,
            entries: HashMap::new(),
            spent_by: HashMap::new(),
            order: Vec::new(),
        }
    }
}

impl Mempool {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, txid: &Txid) -> Option<&Entry> {
        self.entries.get(txid)
    }

    /// Entries in arrival order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.order.iter().filter_map(|txid| self.entries.get(txid))
    }

    /// The entry spending `outpoint`, if any.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spent_by.get(outpoint).copied()
    }

    /// In-mempool parents of `txid`.
    pub fn parents(&self, txid: &Txid) -> Vec<Txid> {
        let Some(entry) = self.entries.get(txid) else {
            return Vec::new();
        };
        let mut parents: Vec<Txid> = entry
            .tx
            .input
            .iter()
            .map(|i| i.previous_output.txid)
            .filter(|p| self.entries.contains_key(p))
            .collect();
        // Several inputs may spend one parent: list it once.
        let mut seen = HashSet::new();
        parents.retain(|p| seen.insert(*p));
        parents
    }

    /// In-mempool children of `txid`.
    pub fn children(&self, txid: &Txid) -> Vec<Txid> {
        let Some(entry) = self.entries.get(txid) else {
            return Vec::new();
        };
        let mut children: Vec<Txid> = (0..entry.tx.output.len() as u32)
            .filter_map(|vout| self.spent_by.get(&OutPoint { txid: *txid, vout }).copied())
            .collect();
        let mut seen = HashSet::new();
        children.retain(|c| seen.insert(*c));
        children
    }

    /// Checks `tx` against the tip and this pool and, unless `test_only`,
    /// adds it. `max_feerate` (sat/kvB, 0 for none) guards against fee
    /// mistakes, as sendrawtransaction's `maxfeerate` does.
    pub fn accept(
        &mut self,
        chain: &ChainState,
        tx: Transaction,
        now: u64,
        max_feerate: u64,
        test_only: bool,
    ) -> Result<Accepted, Rejection> {
        let txid = tx.compute_txid();
        let wtxid = tx.compute_wtxid();
        if self.entries.contains_key(&txid) {
            return Err(reject(
                RejectKind::AlreadyInMempool,
                "txn-already-in-mempool",
            ));
        }
        check_transaction(&tx).map_err(|e| reject(RejectKind::Invalid, e.to_string()))?;
        if tx.is_coinbase() {
            return Err(reject(RejectKind::Invalid, "coinbase"));
        }
        if self.require_standard {
            check_standard(&tx)?;
        }
        let spend_height = chain.height() + 1;
        let cutoff = chain.median_time_past(&chain.tip());
        if !is_final(&tx, spend_height, cutoff) {
            return Err(reject(RejectKind::Invalid, "non-final"));
        }

        let mut spent = Vec::with_capacity(tx.input.len());
        let mut coin_heights = Vec::with_capacity(tx.input.len());
        let mut conflicts = false;
        let mut missing = false;
        for input in &tx.input {
            let prevout = input.previous_output;
            if self.spent_by.contains_key(&prevout) {
                conflicts = true;
            }
            let output = match self.entries.get(&prevout.txid) {
                Some(parent) => {
                    // Unconfirmed: as if mined in the next block.
                    coin_heights.push(spend_height);
                    parent.tx.output.get(prevout.vout as usize).cloned()
                }
                None => match chain
                    .coin(&prevout)
                    .map_err(|e| reject(RejectKind::Invalid, e.to_string()))?
                {
                    Some(coin) => {
                        if coin.is_coinbase
                            && spend_height - coin.height < chain.consensus().coinbase_maturity
                        {
                            return Err(reject(
                                RejectKind::Invalid,
                                format!(
                                    "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth {}",
                                    spend_height - coin.height
                                ),
                            ));
                        }
                        coin_heights.push(coin.height);
                        Some(coin.output)
                    }
                    None => None,
                },
            };
            match output {
                Some(output) => spent.push(output),
                None => missing = true,
            }
        }
        if missing {
            // Confirmed already, if any of its outputs is in the UTXO set.
            let confirmed = (0..tx.output.len() as u32)
                .any(|vout| matches!(chain.coin(&OutPoint { txid, vout }), Ok(Some(_))));
            if confirmed {
                return Err(reject(RejectKind::AlreadyInChain, "txn-already-known"));
            }
            return Err(reject(RejectKind::MissingInputs, "missing-inputs"));
        }
        if conflicts {
            return Err(reject(RejectKind::Invalid, "txn-mempool-conflict"));
        }

        let value_in: u64 = spent.iter().map(|o: &TxOut| o.value.to_sat()).sum();
        let value_out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        if value_in < value_out {
            return Err(reject(
                RejectKind::Invalid,
                format!(
                    "bad-txns-in-belowout, value in ({}) < value out ({})",
                    format_btc(value_in),
                    format_btc(value_out)
                ),
            ));
        }
        if !chain.sequence_locks_ok(&tx, &coin_heights, spend_height) {
            return Err(reject(RejectKind::Invalid, "non-BIP68-final"));
        }
        let fee = value_in - value_out;
        let vsize = tx.vsize() as u64;
        let required = vsize * MIN_RELAY_FEERATE / 1000;
        if fee < required {
            return Err(reject(
                RejectKind::Invalid,
                format!("min relay fee not met, {fee} < {required}"),
            ));
        }
        if max_feerate > 0 && fee > vsize * max_feerate / 1000 {
            return Err(reject(RejectKind::MaxFeeExceeded, "max-fee-exceeded"));
        }
        chain::script::verify_inputs(&tx, &spent, chain::script::BLOCK_FLAGS)
            .map_err(|e| reject(RejectKind::Invalid, e.to_string()))?;

        let accepted = Accepted {
            txid,
            wtxid,
            fee: Amount::from_sat(fee),
            vsize,
        };
        if !test_only {
            for input in &tx.input {
                self.spent_by.insert(input.previous_output, txid);
            }
            self.order.push(txid);
            self.entries.insert(
                txid,
                Entry {
                    weight: tx.weight(),
                    tx,
                    txid,
                    wtxid,
                    fee: Amount::from_sat(fee),
                    vsize,
                    time: now,
                    height: chain.height(),
                },
            );
        }
        Ok(accepted)
    }

    /// Empties the pool, returning its transactions in arrival order.
    pub fn drain(&mut self) -> Vec<Transaction> {
        let order = std::mem::take(&mut self.order);
        self.spent_by.clear();
        let mut entries = std::mem::take(&mut self.entries);
        order
            .into_iter()
            .filter_map(|txid| entries.remove(&txid))
            .map(|e| e.tx)
            .collect()
    }

    /// Removes `txid` and everything spending it.
    pub fn remove_with_descendants(&mut self, txid: &Txid) {
        let mut stack = vec![*txid];
        while let Some(txid) = stack.pop() {
            stack.extend(self.children(&txid));
            if let Some(entry) = self.entries.remove(&txid) {
                for input in &entry.tx.input {
                    self.spent_by.remove(&input.previous_output);
                }
                self.order.retain(|t| *t != txid);
            }
        }
    }

    /// A block was connected: its transactions leave the pool, and so do
    /// entries that spend what it spent (conflicts) and their descendants.
    pub fn remove_for_block(&mut self, block: &bitcoin::Block) {
        for tx in &block.txdata {
            let txid = tx.compute_txid();
            if let Some(entry) = self.entries.remove(&txid) {
                for input in &entry.tx.input {
                    self.spent_by.remove(&input.previous_output);
                }
                self.order.retain(|t| *t != txid);
            }
            for input in &tx.input {
                if let Some(conflict) = self.spent_by.get(&input.previous_output).copied() {
                    self.remove_with_descendants(&conflict);
                }
            }
        }
    }

    /// Entries for a block, best fee rate first, parents before children,
    /// up to `max_weight`.
    pub fn select(&self, max_weight: u64) -> Vec<Entry> {
        let mut chosen: Vec<Entry> = Vec::new();
        let mut included: HashSet<Txid> = HashSet::new();
        let mut weight = 0u64;
        let mut candidates: Vec<&Entry> = self.entries.values().collect();
        candidates.sort_by(|a, b| b.feerate().cmp(&a.feerate()).then(a.time.cmp(&b.time)));
        loop {
            let next = candidates.iter().position(|entry| {
                !included.contains(&entry.txid)
                    && self
                        .parents(&entry.txid)
                        .iter()
                        .all(|p| included.contains(p))
                    && weight + entry.weight.to_wu() <= max_weight
            });
            let Some(position) = next else { break };
            let entry = candidates.remove(position);
            weight += entry.weight.to_wu();
            included.insert(entry.txid);
            chosen.push(entry.clone());
        }
        chosen
    }
}

/// BTC with eight decimals, as Core writes amounts in reject reasons.
fn format_btc(sats: u64) -> String {
    format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000)
}

/// Core's `IsFinalTx` for the next block.
fn is_final(tx: &Transaction, height: u32, cutoff: u32) -> bool {
    let lock = tx.lock_time.to_consensus_u32();
    if lock == 0 {
        return true;
    }
    let passed = if lock < 500_000_000 {
        lock < height
    } else {
        lock < cutoff
    };
    passed
        || tx
            .input
            .iter()
            .all(|i| i.sequence == bitcoin::Sequence::MAX)
}

/// Core's main `IsStandardTx` rules.
fn check_standard(tx: &Transaction) -> Result<(), Rejection> {
    let invalid = |reason: &str| Err(reject(RejectKind::Invalid, reason));
    if !(1..=3).contains(&tx.version.0) {
        return invalid("version");
    }
    if tx.weight().to_wu() > MAX_STANDARD_TX_WEIGHT {
        return invalid("tx-size");
    }
    if tx.base_size() < MIN_STANDARD_TX_NONWITNESS_SIZE {
        return invalid("tx-size-small");
    }
    for input in &tx.input {
        if input.script_sig.len() > 1650 {
            return invalid("scriptsig-size");
        }
        if !input.script_sig.is_push_only() {
            return invalid("scriptsig-not-pushonly");
        }
    }
    let mut data_outputs = 0;
    for output in &tx.output {
        let script = &output.script_pubkey;
        if script.is_op_return() {
            data_outputs += 1;
            continue;
        }
        let standard = script.is_p2pkh()
            || script.is_p2sh()
            || script.is_p2wpkh()
            || script.is_p2wsh()
            || script.is_p2tr()
            || script.is_p2pk()
            || script.is_multisig()
            || (script.is_witness_program() && script.len() >= 4);
        if !standard {
            return invalid("scriptpubkey");
        }
        if output.value < output.script_pubkey.minimal_non_dust() {
            return invalid("dust");
        }
    }
    if data_outputs > 1 {
        return invalid("multi-op-return");
    }
    Ok(())
}
