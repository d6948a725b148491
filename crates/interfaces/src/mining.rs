//! What an external miner may ask of the node (Bitcoin Core's
//! `interfaces::Mining` and `BlockTemplate`, served over IPC with Core's
//! schema). Owned values throughout, as for `Chain`.

use std::time::Duration;

use bitcoin::block::Header;
use bitcoin::{Block, BlockHash, Transaction, Txid, Wtxid};

use crate::chain::BlockRef;

/// `createNewBlock`'s options (Core's `BlockCreateOptions`).
#[derive(Clone, Copy, Debug)]
pub struct BlockCreateOptions {
    pub use_mempool: bool,
    /// Weight kept free for the coinbase and anything the miner adds.
    pub block_reserved_weight: u64,
    pub coinbase_output_max_additional_sigops: u64,
}

/// What a check or submission concluded: accepted, or Core's reject
/// reason (`high-hash`, `duplicate`, `bad-txnmrklroot`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockVerdict {
    pub accepted: bool,
    pub reason: String,
    pub debug: String,
}

/// The coinbase a template expects the miner to build (Core's
/// `CoinbaseTx`).
#[derive(Clone, Debug)]
pub struct CoinbaseTemplate {
    pub version: u32,
    pub sequence: u32,
    /// The BIP34 height push the scriptSig must start with.
    pub script_sig_prefix: Vec<u8>,
    /// The witness reserved value, if the block commits to witnesses.
    pub witness: Option<Vec<u8>>,
    /// Subsidy plus fees, in satoshis, for the miner's outputs.
    pub block_reward_remaining: i64,
    /// Outputs the coinbase must carry (the witness commitment).
    pub required_outputs: Vec<bitcoin::TxOut>,
    pub lock_time: u32,
}

pub trait Mining: Send + Sync {
    fn is_test_chain(&self) -> bool;
    fn is_initial_block_download(&self) -> bool;
    fn get_tip(&self) -> Option<BlockRef>;
    /// Waits until the tip is not `current_tip`, or `timeout`, or an
    /// interrupt; returns the tip then.
    fn wait_tip_changed(&self, current_tip: BlockHash, timeout: Duration) -> Option<BlockRef>;
    fn create_new_block(
        &self,
        options: BlockCreateOptions,
    ) -> Result<Box<dyn BlockTemplate>, String>;
    fn check_block(&self, block: &Block, check_merkle_root: bool, check_pow: bool) -> BlockVerdict;
    fn submit_block(&self, block: &Block) -> BlockVerdict;
    /// Wakes every `wait_tip_changed` and `wait_next` in progress.
    fn interrupt(&self);
    fn transactions_by_txid(&self, txids: &[Txid]) -> Vec<Option<Transaction>>;
    fn transactions_by_wtxid(&self, wtxids: &[Wtxid]) -> Vec<Option<Transaction>>;
}

/// A block to mine on (Core's `BlockTemplate`).
pub trait BlockTemplate: Send + Sync {
    fn header(&self) -> Header;
    /// The whole block, with a placeholder coinbase.
    fn block(&self) -> Block;
    /// Fees of each transaction after the coinbase.
    fn tx_fees(&self) -> Vec<i64>;
    fn tx_sigops(&self) -> Vec<i64>;
    fn coinbase(&self) -> CoinbaseTemplate;
    /// Hashes from the coinbase's leaf up to the merkle root.
    fn coinbase_merkle_path(&self) -> Vec<[u8; 32]>;
    /// Puts the miner's header fields and coinbase into the template and
    /// submits the block.
    fn submit_solution(
        &self,
        version: u32,
        timestamp: u32,
        nonce: u32,
        coinbase: Transaction,
    ) -> BlockVerdict;
    /// A newer template once the tip changes or fees rise by
    /// `fee_threshold`, or `None` after `timeout` or an interrupt.
    fn wait_next(&self, timeout: Duration, fee_threshold: i64) -> Option<Box<dyn BlockTemplate>>;
    fn interrupt_wait(&self);
}
