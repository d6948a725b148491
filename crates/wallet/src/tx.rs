//! A transaction the wallet keeps, and where it stands (Core's
//! `CWalletTx` and its `TxState`).

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{BlockHash, Transaction, Txid};
use serde::{Deserialize, Serialize};

/// Where a wallet transaction stands relative to the active chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxState {
    /// In an active-chain block.
    Confirmed {
        block_hash: BlockHash,
        height: u32,
        index: u32,
        block_time: u32,
    },
    /// Waiting in the node's mempool.
    InMempool,
    /// Neither confirmed nor waiting; `abandoned` if the user gave up on it
    /// (its inputs may be spent again).
    Inactive { abandoned: bool },
    /// A block at `height` spent one of its inputs in another way.
    Conflicted { block_hash: BlockHash, height: u32 },
}

impl TxState {
    /// Core's depth: confirmations, negative for conflicts, 0 otherwise.
    pub fn depth(&self, tip_height: u32) -> i64 {
        match self {
            TxState::Confirmed { height, .. } => i64::from(tip_height) - i64::from(*height) + 1,
            TxState::Conflicted { height, .. } => -(i64::from(tip_height) - i64::from(*height) + 1),
            TxState::InMempool | TxState::Inactive { .. } => 0,
        }
    }

    pub fn is_abandoned(&self) -> bool {
        matches!(self, TxState::Inactive { abandoned: true })
    }
}

#[derive(Clone, Debug)]
pub struct WalletTx {
    pub tx: Transaction,
    pub txid: Txid,
    pub state: TxState,
    /// When the wallet first saw it (seconds).
    pub time_received: i64,
    /// Insertion order, for listtransactions.
    pub order: u64,
    pub comment: Option<String>,
    pub comment_to: Option<String>,
}

/// The stored form: the transaction as consensus hex.
#[derive(Serialize, Deserialize)]
pub struct StoredTx {
    pub hex: String,
    pub state: TxState,
    pub time_received: i64,
    pub order: u64,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub comment_to: Option<String>,
}

impl WalletTx {
    pub fn to_stored(&self) -> StoredTx {
        StoredTx {
            hex: serialize_hex(&self.tx),
            state: self.state.clone(),
            time_received: self.time_received,
            order: self.order,
            comment: self.comment.clone(),
            comment_to: self.comment_to.clone(),
        }
    }

    pub fn from_stored(stored: StoredTx) -> Option<WalletTx> {
        let tx: Transaction = deserialize_hex(&stored.hex).ok()?;
        Some(WalletTx {
            txid: tx.compute_txid(),
            tx,
            state: stored.state,
            time_received: stored.time_received,
            order: stored.order,
            comment: stored.comment,
            comment_to: stored.comment_to,
        })
    }

    pub fn is_coinbase(&self) -> bool {
        self.tx.is_coinbase()
    }

    /// The time Core shows: the block's for transactions first seen in
    /// a block, the time received otherwise.
    pub fn time(&self) -> i64 {
        match self.state {
            // Seen before its block: when it was sent. First seen in a
            // block (a rescan): the block's time.
            TxState::Confirmed { block_time, .. } => self.time_received.min(i64::from(block_time)),
            _ => self.time_received,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    #[test]
    fn depth_counts_confirmations_and_is_negative_for_conflicts() {
        let block_hash = BlockHash::all_zeros();
        let confirmed = TxState::Confirmed {
            block_hash,
            height: 10,
            index: 0,
            block_time: 0,
        };
        assert_eq!(confirmed.depth(10), 1);
        assert_eq!(confirmed.depth(109), 100);
        let conflicted = TxState::Conflicted {
            block_hash,
            height: 10,
        };
        assert_eq!(conflicted.depth(11), -2);
        assert_eq!(TxState::InMempool.depth(50), 0);
    }
}
