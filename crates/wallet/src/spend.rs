//! Spending: fee rates, coin selection, building the transaction, and
//! signing through PSBTs with the descriptors' keys.
//!
//! Coin selection is deliberately simple where Core's is elaborate
//! (branch-and-bound, knapsack and CoinGrinder scored by waste): preset
//! inputs first, then confirmed coins before unconfirmed ones, largest
//! first, until the amounts and the fee at the chosen rate are covered;
//! change below the dust threshold goes to the fee. Results differ from
//! Core's in which coins are picked, never in validity or fee rate.

use bitcoin::absolute::LockTime;
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use miniscript::descriptor::{KeyMap, KeyMapWrapper};
use miniscript::psbt::PsbtExt;

use crate::descriptors::AddressType;
use crate::error::WalletError;
use crate::store::Batch;
use crate::wallet::{Spendable, State, Wallet};

/// Core's `DEFAULT_TRANSACTION_MINFEE` (`-mintxfee`), sat/kvB.
pub const MIN_TX_FEE: u64 = 1_000;

/// Core's `DEFAULT_TRANSACTION_MAXFEE` (`-maxtxfee`): 0.1 BTC.
pub const MAX_TX_FEE: Amount = Amount::from_sat(10_000_000);

/// One output to pay.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub script: ScriptBuf,
    pub amount: Amount,
    /// Take (a share of) the fee from this output.
    pub subtract_fee: bool,
}

/// Choices a caller may make (Core's `CCoinControl`).
#[derive(Clone, Debug)]
pub struct SpendOptions {
    /// Explicit fee rate, sat/kvB.
    pub fee_rate: Option<u64>,
    pub conf_target: Option<u32>,
    /// BIP125 signalling (Core's `-walletrbf`, on by default).
    pub replaceable: bool,
    /// Inputs that must be spent.
    pub inputs: Vec<OutPoint>,
    /// Whether more inputs may be added to `inputs`.
    pub add_inputs: bool,
    pub change_script: Option<ScriptBuf>,
    pub change_type: Option<AddressType>,
    pub change_position: Option<usize>,
    pub lock_time: Option<u32>,
    /// Also spend unconfirmed coins others sent.
    pub include_unsafe: bool,
}

impl Default for SpendOptions {
    fn default() -> SpendOptions {
        SpendOptions {
            fee_rate: None,
            conf_target: None,
            replaceable: true,
            inputs: Vec::new(),
            add_inputs: true,
            change_script: None,
            change_type: None,
            change_position: None,
            lock_time: None,
            include_unsafe: false,
        }
    }
}

/// A funded, unsigned transaction.
#[derive(Clone, Debug)]
pub struct Funded {
    pub tx: Transaction,
    pub fee: Amount,
    pub change_position: Option<usize>,
    /// The outputs its inputs spend, in input order.
    pub spent: Vec<TxOut>,
    /// Why this fee rate (Core's `fee_reason`).
    pub fee_reason: &'static str,
}

/// `fee` sat/kvB for `vsize`, rounded up as Core's `GetFee`.
pub fn fee_for(rate: u64, vsize: u64) -> Amount {
    Amount::from_sat(rate.saturating_mul(vsize).div_ceil(1000))
}

/// A sat/kvB rate as Core prints it in messages: `1.000 sat/vB`.
pub fn format_rate(rate: u64) -> String {
    format!("{}.{:03} sat/vB", rate / 1000, rate % 1000)
}

fn shuffle<T>(items: &mut [T]) {
    let random = common::secret::random_bytes(items.len() * 4).unwrap_or_default();
    for i in (1..items.len()).rev() {
        let r = random
            .get(i * 4..i * 4 + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        items.swap(i, r as usize % (i + 1));
    }
}

impl Wallet {
    /// The rate to pay, sat/kvB: the caller's, else `settxfee`'s, else an
    /// estimate, else `-fallbackfee`; never below `-mintxfee` or the
    /// node's relay minimum.
    /// Also returns why that rate, in Core's words (`fee_reason`).
    pub fn fee_rate(
        &self,
        state: &State,
        options: &SpendOptions,
    ) -> Result<(u64, &'static str), WalletError> {
        let floor = MIN_TX_FEE.max(self.chain.relay_min_fee().to_sat_per_kwu() * 4);
        if let Some(rate) = options.fee_rate {
            if rate < floor {
                return Err(WalletError::FeeRateTooLow(
                    format_rate(rate),
                    format_rate(floor),
                ));
            }
            return Ok((rate, "PayTxFee set"));
        }
        let (chosen, reason) = if state.pay_tx_fee > 0 {
            (state.pay_tx_fee, "PayTxFee set")
        } else if let Some(estimate) = self
            .chain
            .estimate_smart_fee(options.conf_target.unwrap_or(6))
        {
            (
                estimate.to_sat_per_kwu() * 4,
                "Conservative Double Target longer horizon",
            )
        } else {
            match self.fallback_fee {
                Some(rate) if rate > 0 => (rate, "Fallback fee"),
                _ => return Err(WalletError::NoFeeRate),
            }
        };
        if chosen < floor {
            return Ok((floor, "Minimum Required Fee"));
        }
        Ok((chosen, reason))
    }

    /// Chooses inputs and change for `recipients` (Core's
    /// `CreateTransaction` up to signing). Hands out a change script only
    /// if change is needed; nothing is written unless the caller commits
    /// `batch`.
    pub fn fund(
        &self,
        state: &mut State,
        mut outputs: Vec<TxOut>,
        subtract_fee: Vec<usize>,
        options: &SpendOptions,
        batch: &mut Batch,
    ) -> Result<Funded, WalletError> {
        let (rate, fee_reason) = self.fee_rate(state, options)?;
        for (i, output) in outputs.iter().enumerate() {
            if output.value < output.script_pubkey.minimal_non_dust() && !subtract_fee.contains(&i)
            {
                return Err(WalletError::AmountTooSmall);
            }
        }
        let target: Amount = outputs.iter().map(|o| o.value).sum();

        // The coins to choose from: preset ones first, in order.
        let mut available = state.spendable();
        let mut chosen: Vec<Spendable> = Vec::new();
        for outpoint in &options.inputs {
            let position = available
                .iter()
                .position(|c| c.outpoint == *outpoint)
                .ok_or_else(|| {
                    WalletError::Invalid(format!(
                        "Unable to find UTXO for external input {}:{}",
                        outpoint.txid, outpoint.vout
                    ))
                })?;
            chosen.push(available.swap_remove(position));
        }
        let mut candidates: Vec<Spendable> = if options.add_inputs {
            available
                .into_iter()
                .filter(|c| c.safe || options.include_unsafe)
                .collect()
        } else {
            Vec::new()
        };
        candidates.sort_by(|a, b| {
            (b.depth > 0)
                .cmp(&(a.depth > 0))
                .then(b.output.value.cmp(&a.output.value))
                .then(a.outpoint.cmp(&b.outpoint))
        });

        let change_script = match &options.change_script {
            Some(script) => script.clone(),
            None => {
                let kind = options.change_type.unwrap_or_else(|| change_type(&outputs));
                let index = state
                    .active_descriptor(kind, true)
                    .or_else(|| state.active_descriptor(AddressType::Bech32, true))
                    .ok_or(WalletError::NoKeys);
                match index {
                    Ok(index) => state.descriptors[index]
                        .script_at(state.descriptors[index].record.next_index)?,
                    // No change descriptor: only exact amounts can work.
                    Err(_) => ScriptBuf::new(),
                }
            }
        };
        let change_output = TxOut {
            value: Amount::ZERO,
            script_pubkey: change_script.clone(),
        };

        let base_weight = |inputs: usize, with_change: bool| -> u64 {
            let mut all = outputs.clone();
            if with_change {
                all.push(change_output.clone());
            }
            let outputs_size: usize = all
                .iter()
                .map(|o| bitcoin::consensus::serialize(o).len())
                .sum();
            let size = 4 + 4 + varint_len(inputs) + varint_len(all.len()) + outputs_size;
            size as u64 * 4
        };
        let input_weight = |coin: &Spendable| state.descriptors[coin.origin.0].input_weight();
        let is_witness = |coin: &Spendable| {
            let script = &coin.output.script_pubkey;
            script.is_witness_program() || script.is_p2sh()
        };

        let mut candidates = candidates.into_iter();
        let (fee, change) = loop {
            let inputs_weight: u64 = chosen.iter().map(input_weight).sum();
            let marker = if chosen.iter().any(is_witness) { 2 } else { 0 };
            let vsize = |with_change| {
                (base_weight(chosen.len(), with_change) + inputs_weight + marker).div_ceil(4)
            };
            let selected: Amount = chosen.iter().map(|c| c.output.value).sum();
            let fee_without = fee_for(rate, vsize(false));
            let fee_with = fee_for(rate, vsize(true));
            let dust = change_script.minimal_non_dust();
            if !chosen.is_empty() || target == Amount::ZERO {
                if subtract_fee.is_empty() {
                    if let Some(left) = selected.checked_sub(target + fee_with) {
                        if left >= dust && !change_script.is_empty() {
                            break (fee_with, Some(left));
                        }
                    }
                    if selected >= target + fee_without {
                        // Too little for a change output: it goes to the fee.
                        break (selected - target, None);
                    }
                } else if selected >= target {
                    let left = selected - target;
                    if left >= dust && !change_script.is_empty() {
                        break (fee_with, Some(left));
                    }
                    break (fee_without, None);
                }
            }
            match candidates.next() {
                Some(coin) => chosen.push(coin),
                None => return Err(WalletError::InsufficientFunds),
            }
        };

        if fee > MAX_TX_FEE {
            return Err(WalletError::FeeTooHigh);
        }
        // The fee comes out of the marked outputs, shared equally, the
        // first paying any remainder. Without change, whatever the inputs
        // bring beyond the amounts already counts toward the fee (and any
        // excess over it goes back to the marked outputs), so the fee is
        // exactly what the size needs, as in Core.
        let selected: Amount = chosen.iter().map(|c| c.output.value).sum();
        if !subtract_fee.is_empty() {
            let already = if change.is_none() {
                (selected - target).to_sat() as i64
            } else {
                0
            };
            let needed = fee.to_sat() as i64 - already;
            let count = subtract_fee.len() as i64;
            let (share, remainder) = (needed.div_euclid(count), needed.rem_euclid(count));
            for (n, &i) in subtract_fee.iter().enumerate() {
                let take = share + if n == 0 { remainder } else { 0 };
                let output = &mut outputs[i];
                let value = output.value.to_sat() as i64 - take;
                if value < 0 {
                    return Err(WalletError::AmountTooSmallForFee);
                }
                if (value as u64) < output.script_pubkey.minimal_non_dust().to_sat() {
                    return Err(WalletError::AmountTooSmallAfterFee);
                }
                output.value = Amount::from_sat(value as u64);
            }
        }
        let paid: Amount = outputs.iter().map(|o| o.value).sum();
        let change_value = change.map(|_| selected - paid - fee);

        let mut change_position = None;
        if let Some(value) = change_value {
            let position = match options.change_position {
                Some(position) if position <= outputs.len() => position,
                Some(_) => return Err(WalletError::Invalid("Change index out of bounds".into())),
                None => {
                    let random = common::secret::random_bytes(4).unwrap_or_default();
                    let r = random.iter().fold(0usize, |a, b| a * 256 + *b as usize);
                    r % (outputs.len() + 1)
                }
            };
            outputs.insert(
                position,
                TxOut {
                    value,
                    script_pubkey: change_script.clone(),
                },
            );
            change_position = Some(position);
            if options.change_script.is_none() {
                // Hand the change script out for good.
                if let Some(origin) = state.script_origin(&change_script) {
                    state.mark_used(origin, batch)?;
                }
            }
        }

        let preset = options.inputs.len();
        shuffle(&mut chosen[preset..]);
        let sequence = if options.replaceable {
            Sequence::ENABLE_RBF_NO_LOCKTIME
        } else {
            Sequence::ENABLE_LOCKTIME_NO_RBF
        };
        // Anti-fee-sniping, as Core: lock to the current height.
        let lock_time = options.lock_time.unwrap_or(state.tip_height());
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::from_consensus(lock_time),
            input: chosen
                .iter()
                .map(|c| TxIn {
                    previous_output: c.outpoint,
                    script_sig: ScriptBuf::new(),
                    sequence,
                    witness: Witness::new(),
                })
                .collect(),
            output: outputs,
        };
        Ok(Funded {
            spent: chosen.iter().map(|c| c.output.clone()).collect(),
            tx,
            fee: selected - paid - change_value.unwrap_or(Amount::ZERO),
            change_position,
            fee_reason,
        })
    }

    /// Adds what the wallet knows about each input (the spent output, its
    /// scripts and key origins), signs what it can if `sign`, and
    /// finalises complete inputs if `finalize`. Returns whether every
    /// input is now final.
    pub fn process_psbt(
        &self,
        state: &State,
        psbt: &mut Psbt,
        sign: bool,
        finalize: bool,
        now: i64,
    ) -> Result<bool, WalletError> {
        let secp = Secp256k1::new();
        for index in 0..psbt.inputs.len() {
            let outpoint = psbt.unsigned_tx.input[index].previous_output;
            let Some(parent) = state.txs.get(&outpoint.txid) else {
                continue;
            };
            let Some(output) = parent.tx.output.get(outpoint.vout as usize) else {
                continue;
            };
            let Some((descriptor, child)) = state.script_origin(&output.script_pubkey) else {
                continue;
            };
            let input = &mut psbt.inputs[index];
            if input.final_script_sig.is_some() || input.final_script_witness.is_some() {
                continue;
            }
            let script = &output.script_pubkey;
            if script.is_witness_program() || script.is_p2sh() {
                input.witness_utxo = Some(output.clone());
            }
            if !script.is_witness_program() {
                input.non_witness_utxo = Some(parent.tx.clone());
            }
            let definite = state.descriptors[descriptor]
                .descriptor
                .at_derivation_index(child)
                .map_err(|_| WalletError::SigningFailed)?;
            psbt.update_input_with_descriptor(index, &definite)
                .map_err(|e| WalletError::Invalid(e.to_string()))?;
        }
        if sign {
            let mut keys = KeyMap::new();
            for map in state.signing_keys(now)? {
                keys.extend(map);
            }
            // Errors are per input: inputs that are not ours stay unsigned.
            let _ = psbt.sign(&KeyMapWrapper::from(keys), &secp);
        }
        let mut complete = true;
        for index in 0..psbt.inputs.len() {
            let input = &psbt.inputs[index];
            if input.final_script_sig.is_some() || input.final_script_witness.is_some() {
                continue;
            }
            if !finalize {
                complete = false;
                continue;
            }
            let mut attempt = psbt.clone();
            if attempt.finalize_inp_mut(&secp, index).is_ok() {
                *psbt = attempt;
            } else {
                complete = false;
            }
        }
        Ok(complete)
    }

    /// Signs a funded transaction completely or fails.
    pub fn sign_funded(
        &self,
        state: &State,
        funded: &Funded,
        now: i64,
    ) -> Result<Transaction, WalletError> {
        let mut psbt = Psbt::from_unsigned_tx(funded.tx.clone())
            .map_err(|e| WalletError::Invalid(e.to_string()))?;
        if !self.process_psbt(state, &mut psbt, true, true, now)? {
            return Err(WalletError::SigningFailed);
        }
        Ok(psbt.extract_tx_unchecked_fee_rate())
    }

    /// Records a signed transaction of ours and hands it to the node
    /// (Core's `CommitTransaction`): written to disk before it is
    /// broadcast, so a crash after the RPC returns never loses it.
    pub fn commit_transaction(
        &self,
        state: &mut State,
        tx: &Transaction,
        comment: Option<String>,
        comment_to: Option<String>,
        mut batch: Batch,
    ) -> Result<(), WalletError> {
        let now = self.chain.now();
        state.sync_transaction(
            tx,
            crate::tx::TxState::Inactive { abandoned: false },
            now,
            &mut batch,
        )?;
        let txid = tx.compute_txid();
        if let Some(wtx) = state.txs.get_mut(&txid) {
            wtx.comment = comment;
            wtx.comment_to = comment_to;
            batch.tx(&txid.to_string(), &wtx.to_stored());
        }
        self.commit_batch(batch)?;
        match self.chain.broadcast_transaction(tx, MAX_TX_FEE, true) {
            Ok(()) => {
                let mut batch = Batch::default();
                state.sync_transaction(tx, crate::tx::TxState::InMempool, now, &mut batch)?;
                self.commit_batch(batch)?;
            }
            // As Core: the transaction stays in the wallet, to be
            // broadcast again later or abandoned by the user.
            Err(reason) => self.log(format_args!(
                "CommitTransaction(): Transaction cannot be broadcast immediately, {reason}"
            )),
        }
        Ok(())
    }
}

fn varint_len(n: usize) -> usize {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        _ => 5,
    }
}

/// Core's default change type: bech32m if any output is taproot (or a
/// later witness version), bech32 otherwise.
fn change_type(outputs: &[TxOut]) -> AddressType {
    if outputs.iter().any(|o| {
        o.script_pubkey
            .witness_version()
            .is_some_and(|v| v.to_num() >= 1)
    }) {
        AddressType::Bech32m
    } else {
        AddressType::Bech32
    }
}
