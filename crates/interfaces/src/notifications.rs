//! What the node tells a wallet, in the order it happened.

use bitcoin::{Block, BlockHash, Transaction};

/// Why a transaction left the mempool (Core's `MemPoolRemovalReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalReason {
    /// Expired from the pool.
    Expiry,
    /// Evicted for size.
    SizeLimit,
    /// No longer valid after a reorganisation.
    Reorg,
    /// Included in a block.
    Block,
    /// Spends an output a block spent.
    Conflict,
    /// Replaced by a transaction paying more.
    Replaced,
}

/// A block connected to or disconnected from the active chain, with its
/// transactions (Core's `interfaces::BlockInfo`).
#[derive(Clone, Debug)]
pub struct BlockInfo {
    pub hash: BlockHash,
    pub prev_hash: BlockHash,
    pub height: u32,
    pub data: Block,
}

/// Callbacks a wallet registers with [`crate::Chain::handle_notifications`].
/// The node calls them from one thread, in the order events happened, and
/// never while it holds a lock of its own, so an implementation may call
/// back into [`crate::Chain`].
pub trait ChainNotifications: Send + Sync {
    fn transaction_added_to_mempool(&self, _tx: &Transaction) {}
    fn transaction_removed_from_mempool(&self, _tx: &Transaction, _reason: RemovalReason) {}
    fn block_connected(&self, _block: &BlockInfo) {}
    fn block_disconnected(&self, _block: &BlockInfo) {}
    /// The tip moved (after the blocks' own notifications).
    fn updated_block_tip(&self) {}
    /// The node wrote its chainstate: a good moment to write wallet state
    /// that only matters for speed (the last block scanned).
    fn chain_state_flushed(&self, _tip: &BlockHash) {}
}
