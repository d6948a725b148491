//! Checks that need nothing but the block itself (Bitcoin Core's
//! `CheckBlock`/`CheckTransaction`): proof of work against the block's own
//! bits, the merkle root (and the CVE-2012-2459 mutation), sizes, the
//! coinbase's place, and each transaction's shape.

use std::collections::HashSet;

use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{Block, Target, Transaction};

use crate::consensus::{Consensus, MAX_BLOCK_WEIGHT, MAX_MONEY, WITNESS_SCALE_FACTOR};
use crate::error::{BlockError, TxError};

/// Proof of work: the hash meets the target the header claims, and that
/// target is no easier than the chain allows.
pub fn check_proof_of_work(
    header: &bitcoin::block::Header,
    consensus: &Consensus,
) -> Result<(), BlockError> {
    let target = Target::from_compact(header.bits);
    if target > consensus.pow_limit || target == Target::ZERO {
        return Err(BlockError::BadDiffBits);
    }
    if !target.is_met_by(header.block_hash()) {
        return Err(BlockError::HighHash);
    }
    Ok(())
}

/// The merkle root of `hashes` and whether the tree was mutated (two equal
/// siblings, which lets different transaction lists share a root).
pub fn merkle_root(mut hashes: Vec<sha256d::Hash>) -> (sha256d::Hash, bool) {
    if hashes.is_empty() {
        return (sha256d::Hash::all_zeros(), false);
    }
    let mut mutated = false;
    while hashes.len() > 1 {
        for pair in hashes.chunks(2) {
            if pair.len() == 2 && pair[0] == pair[1] {
                mutated = true;
            }
        }
        if hashes.len() % 2 == 1 {
            hashes.push(*hashes.last().expect("not empty"));
        }
        hashes = hashes
            .chunks(2)
            .map(|pair| {
                let mut engine = sha256d::Hash::engine();
                bitcoin::hashes::HashEngine::input(&mut engine, pair[0].as_byte_array());
                bitcoin::hashes::HashEngine::input(&mut engine, pair[1].as_byte_array());
                sha256d::Hash::from_engine(engine)
            })
            .collect();
    }
    (hashes[0], mutated)
}

/// Everything about `block` that holds regardless of where it connects.
pub fn check_block(block: &Block, consensus: &Consensus) -> Result<(), BlockError> {
    check_proof_of_work(&block.header, consensus)?;
    let txids = block
        .txdata
        .iter()
        .map(|tx| tx.compute_txid().to_raw_hash())
        .collect();
    let (root, mutated) = merkle_root(txids);
    if root != block.header.merkle_root.to_raw_hash() {
        return Err(BlockError::BadMerkleRoot);
    }
    if mutated {
        return Err(BlockError::MutatedMerkle);
    }
    let stripped_size = bitcoin::consensus::encode::serialize(&strip_witness(block)).len() as u64;
    if block.txdata.is_empty()
        || block.txdata.len() as u64 * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
        || stripped_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
    {
        return Err(BlockError::BadLength);
    }
    if !block.txdata[0].is_coinbase() {
        return Err(BlockError::CoinbaseMissing);
    }
    if block.txdata[1..].iter().any(Transaction::is_coinbase) {
        return Err(BlockError::CoinbaseMultiple);
    }
    for tx in &block.txdata {
        check_transaction(tx)?;
    }
    Ok(())
}

/// The block as a node without segwit would see it, for the size limit.
fn strip_witness(block: &Block) -> Block {
    let mut stripped = block.clone();
    for tx in &mut stripped.txdata {
        for input in &mut tx.input {
            input.witness.clear();
        }
    }
    stripped
}

/// A transaction's shape, without looking at what it spends.
pub fn check_transaction(tx: &Transaction) -> Result<(), TxError> {
    if tx.input.is_empty() {
        return Err(TxError::NoInputs);
    }
    if tx.output.is_empty() {
        return Err(TxError::NoOutputs);
    }
    if tx.base_size() as u64 * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT {
        return Err(TxError::Oversize);
    }
    let mut total: u64 = 0;
    for output in &tx.output {
        let value = output.value.to_sat();
        if value > MAX_MONEY {
            return Err(TxError::OutputTooLarge);
        }
        total = total.saturating_add(value);
        if total > MAX_MONEY {
            return Err(TxError::OutputTotalTooLarge);
        }
    }
    let mut seen = HashSet::with_capacity(tx.input.len());
    if !tx
        .input
        .iter()
        .all(|input| seen.insert(input.previous_output))
    {
        return Err(TxError::DuplicateInputs);
    }
    if tx.is_coinbase() {
        let len = tx.input[0].script_sig.len();
        if !(2..=100).contains(&len) {
            return Err(TxError::CoinbaseLength);
        }
    } else if tx.input.iter().any(|input| input.previous_output.is_null()) {
        return Err(TxError::NullPrevout);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(byte: u8) -> sha256d::Hash {
        sha256d::Hash::from_byte_array([byte; 32])
    }

    #[test]
    fn merkle_root_of_one_is_itself_and_duplicates_are_mutations() {
        assert_eq!(merkle_root(vec![hash(1)]), (hash(1), false));
        let (_, mutated) = merkle_root(vec![hash(1), hash(2), hash(3)]);
        assert!(
            !mutated,
            "an odd count duplicates the last internally, which is fine"
        );
        let (_, mutated) = merkle_root(vec![hash(1), hash(2), hash(3), hash(3)]);
        assert!(mutated, "an explicit duplicate pair is CVE-2012-2459");
        // The two lists share a root: that is why the mutation is refused.
        assert_eq!(
            merkle_root(vec![hash(1), hash(2), hash(3)]).0,
            merkle_root(vec![hash(1), hash(2), hash(3), hash(3)]).0
        );
    }

    #[test]
    fn regtest_genesis_passes() {
        let genesis = bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Regtest);
        check_block(&genesis, &Consensus::regtest()).unwrap();
    }
}
