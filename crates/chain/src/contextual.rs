//! Rules that need a block's place in the chain but no chainstate:
//! transaction finality against a height and median time, the witness
//! commitment, and which outputs never enter the UTXO set.

use bitcoin::hashes::Hash;
use bitcoin::{Block, Transaction};

use crate::consensus::LOCKTIME_THRESHOLD;
use crate::error::BlockError;

/// Core's `IsFinalTx`: locktime passed (by height or median time), or
/// every input opted out with a final sequence.
pub fn is_final(tx: &Transaction, height: u32, cutoff_time: u32) -> bool {
    let lock = tx.lock_time.to_consensus_u32();
    if lock == 0 {
        return true;
    }
    let passed = if lock < LOCKTIME_THRESHOLD {
        lock < height
    } else {
        lock < cutoff_time
    };
    passed
        || tx
            .input
            .iter()
            .all(|input| input.sequence == bitcoin::Sequence::MAX)
}

/// Outputs that can never be spent stay out of the UTXO set.
pub fn is_unspendable(output: &bitcoin::TxOut) -> bool {
    output.script_pubkey.is_op_return() || output.script_pubkey.len() > 10_000
}

/// Segwit's block rules: a witness commitment that matches, when any
/// transaction has witness data.
pub fn check_witness(block: &Block) -> Result<(), BlockError> {
    let has_witness = block
        .txdata
        .iter()
        .any(|tx| tx.input.iter().any(|i| !i.witness.is_empty()));
    let coinbase = &block.txdata[0];
    let commitment = coinbase.output.iter().rposition(|o| {
        let s = o.script_pubkey.as_bytes();
        s.len() >= 38 && s[..6] == [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]
    });
    match commitment {
        Some(position) => {
            // Checked whenever a commitment is present, witness data or
            // not, as Bitcoin Core does.
            let nonce: Vec<&[u8]> = coinbase.input[0].witness.iter().collect();
            if nonce.len() != 1 || nonce[0].len() != 32 {
                return Err(BlockError::WitnessNonceSize);
            }
            let root = block.witness_root().ok_or(BlockError::WitnessMerkleMatch)?;
            let expected = Block::compute_witness_commitment(&root, nonce[0]);
            let script = coinbase.output[position].script_pubkey.as_bytes();
            if script[6..38] != expected.as_byte_array()[..] {
                return Err(BlockError::WitnessMerkleMatch);
            }
            Ok(())
        }
        None if has_witness => Err(BlockError::UnexpectedWitness),
        None => Ok(()),
    }
}
