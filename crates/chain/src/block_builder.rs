//! Assembling a block on top of the tip, as Bitcoin Core's miner does: a
//! coinbase with the height (BIP34) and a witness commitment, the given
//! transactions, and a nonce that meets the target (trivial on regtest).

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
use bitcoin::script::Builder;
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    Amount, Block, OutPoint, ScriptBuf, Sequence, Target, Transaction, TxIn, TxMerkleNode, TxOut,
    Witness,
};

use crate::ChainState;

/// The scriptSig prefix BIP34 requires: the height as Bitcoin Core's
/// `CScript() << height` writes it (small heights as OP_1..OP_16).
pub fn bip34_prefix(height: u32) -> ScriptBuf {
    Builder::new().push_int(i64::from(height)).into_script()
}

/// The coinbase for a block at `height` paying `reward` to `payout`.
/// `OP_0` follows the height, as in Core, so the scriptSig is never
/// shorter than the two bytes consensus requires.
pub fn coinbase(height: u32, payout: ScriptBuf, reward: Amount) -> Transaction {
    let mut script_sig = bip34_prefix(height).into_bytes();
    script_sig.push(0x00);
    Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(script_sig),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[[0u8; 32]]),
        }],
        output: vec![TxOut {
            value: reward,
            script_pubkey: payout,
        }],
    }
}

/// The coinbase output committing to the witnesses of `transactions`
/// (everything after the coinbase, whose own entry in the witness tree is
/// zero), with an all-zero witness nonce, as Core's miner writes it.
pub fn witness_commitment(transactions: &[Transaction]) -> ScriptBuf {
    let wtxids = std::iter::once(bitcoin::Wtxid::all_zeros().to_raw_hash()).chain(
        transactions
            .iter()
            .map(|tx| tx.compute_wtxid().to_raw_hash()),
    );
    let root: bitcoin::WitnessMerkleNode = bitcoin::merkle_tree::calculate_root(wtxids)
        .expect("at least the coinbase")
        .into();
    let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
    let mut script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    script.extend_from_slice(commitment.as_byte_array());
    ScriptBuf::from_bytes(script)
}

/// Adds the witness commitment output to the block's coinbase (Core always
/// does once segwit is active) and fixes the merkle root.
fn finish_transactions(block: &mut Block) {
    let commitment = witness_commitment(&block.txdata[1..]);
    block.txdata[0].output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: commitment,
    });
    block.header.merkle_root = block
        .compute_merkle_root()
        .unwrap_or_else(TxMerkleNode::all_zeros);
}

/// A block on the current tip paying the subsidy plus `fees` to `payout`,
/// with `transactions` after the coinbase, its nonce ground until the
/// proof of work holds. `time` is raised above median-time-past if needed.
pub fn build_block(
    chain: &ChainState,
    payout: ScriptBuf,
    transactions: Vec<Transaction>,
    fees: Amount,
    time: u32,
) -> Block {
    let prev = chain.tip();
    let height = chain.height() + 1;
    let reward = chain.consensus().block_subsidy(height) + fees;
    let time = time.max(chain.median_time_past(&prev) + 1);
    assemble(
        prev,
        height,
        chain.next_bits(&prev),
        time,
        payout,
        reward,
        transactions,
    )
}

/// A block on `prev` at `height` whose coinbase pays `reward` to `payout`,
/// with a witness commitment and a nonce that meets `bits`. For tests and
/// tools that build blocks without a chainstate at hand.
pub fn assemble(
    prev: bitcoin::BlockHash,
    height: u32,
    bits: bitcoin::CompactTarget,
    time: u32,
    payout: ScriptBuf,
    reward: Amount,
    transactions: Vec<Transaction>,
) -> Block {
    let mut txdata = vec![coinbase(height, payout, reward)];
    txdata.extend(transactions);
    let mut block = Block {
        header: Header {
            version: Version::from_consensus(0x2000_0000),
            prev_blockhash: prev,
            merkle_root: TxMerkleNode::all_zeros(),
            time,
            bits,
            nonce: 0,
        },
        txdata,
    };
    finish_transactions(&mut block);
    grind(&mut block.header);
    block
}

/// Tries nonces (and, if they run out, later times) until the hash meets
/// the target.
pub fn grind(header: &mut Header) {
    let target = Target::from_compact(header.bits);
    loop {
        if target.is_met_by(header.block_hash()) {
            return;
        }
        if header.nonce == u32::MAX {
            header.nonce = 0;
            header.time += 1;
        } else {
            header.nonce += 1;
        }
    }
}
