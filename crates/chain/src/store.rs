//! Crash-safe storage for the chainstate, in one redb database: blocks,
//! the block index, undo data, the UTXO set and the tip. redb commits are
//! atomic and durable (copy-on-write pages, fsync at commit), so a block's
//! UTXO changes, its undo data and the new tip land together or not at
//! all: after kill -9 the node reopens at a tip that matches its coins.

use std::path::Path;

use bitcoin::consensus::encode;
use bitcoin::hashes::Hash;
use bitcoin::{Block, BlockHash, OutPoint};
use redb::{ReadableTable, TableDefinition};

use crate::coins::{outpoint_key, BlockUndo, Coin};

const BLOCKS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blocks");
const INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("index");
const UNDO: TableDefinition<&[u8], &[u8]> = TableDefinition::new("undo");
const COINS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("coins");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// txid -> hash of the active block holding it (`-txindex`).
const TXINDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("txindex");

const TIP: &str = "tip";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("chainstate database {path}: {message}")]
    Open { path: String, message: String },
    #[error("chainstate database: {0}")]
    Db(String),
    #[error("chainstate database is corrupt: {0}")]
    Corrupt(String),
}

fn db<E: std::fmt::Display>(error: E) -> StoreError {
    StoreError::Db(error.to_string())
}

/// Whether an indexed block is usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockStatus {
    /// Stored and not known to be invalid.
    Valid,
    /// Failed validation, or descends from a block that did.
    Invalid,
}

/// An index entry as stored: the header, its height and its status.
#[derive(Clone, Debug)]
pub struct StoredEntry {
    pub header: bitcoin::block::Header,
    pub height: u32,
    pub status: BlockStatus,
}

impl StoredEntry {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = encode::serialize(&self.header);
        bytes.extend_from_slice(&self.height.to_le_bytes());
        bytes.push(match self.status {
            BlockStatus::Valid => 1,
            BlockStatus::Invalid => 2,
        });
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Result<StoredEntry, StoreError> {
        let corrupt = || StoreError::Corrupt("bad block index entry".into());
        if bytes.len() != 85 {
            return Err(corrupt());
        }
        let header = encode::deserialize(&bytes[..80]).map_err(|_| corrupt())?;
        let height = u32::from_le_bytes(bytes[80..84].try_into().map_err(|_| corrupt())?);
        let status = match bytes[84] {
            1 => BlockStatus::Valid,
            2 => BlockStatus::Invalid,
            _ => return Err(corrupt()),
        };
        Ok(StoredEntry {
            header,
            height,
            status,
        })
    }
}

/// The database.
pub struct Store {
    db: redb::Database,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = redb::Database::create(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        // Create the tables up front, so readers never meet a missing one.
        let txn = db.begin_write().map_err(db_err)?;
        for table in [BLOCKS, INDEX, UNDO, COINS, TXINDEX] {
            txn.open_table(table).map_err(db_err)?;
        }
        txn.open_table(META).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Store { db })
    }

    pub fn tip(&self) -> Result<Option<BlockHash>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(META).map_err(db_err)?;
        let tip = table.get(TIP).map_err(db_err)?;
        tip.map(|value| hash_from(value.value())).transpose()
    }

    pub fn load_index(&self) -> Result<Vec<(BlockHash, StoredEntry)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(INDEX).map_err(db_err)?;
        let mut entries = Vec::new();
        for row in table.iter().map_err(db_err)? {
            let (key, value) = row.map_err(db_err)?;
            entries.push((
                hash_from(key.value())?,
                StoredEntry::from_bytes(value.value())?,
            ));
        }
        Ok(entries)
    }

    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(BLOCKS).map_err(db_err)?;
        let value = table.get(hash.as_byte_array().as_slice()).map_err(db_err)?;
        value
            .map(|v| {
                encode::deserialize(v.value())
                    .map_err(|e| StoreError::Corrupt(format!("block {hash}: {e}")))
            })
            .transpose()
    }

    pub fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(UNDO).map_err(db_err)?;
        let value = table.get(hash.as_byte_array().as_slice()).map_err(db_err)?;
        value
            .map(|v| {
                BlockUndo::from_bytes(v.value())
                    .ok_or_else(|| StoreError::Corrupt(format!("undo data of {hash}")))
            })
            .transpose()
    }

    pub fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(COINS).map_err(db_err)?;
        let value = table
            .get(outpoint_key(outpoint).as_slice())
            .map_err(db_err)?;
        value
            .map(|v| {
                Coin::from_bytes(v.value())
                    .ok_or_else(|| StoreError::Corrupt(format!("coin {outpoint}")))
            })
            .transpose()
    }

    /// The active block holding `txid`, if the transaction index has it.
    pub fn tx_block(&self, txid: &bitcoin::Txid) -> Result<Option<BlockHash>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(TXINDEX).map_err(db_err)?;
        let value = table.get(txid.as_byte_array().as_slice()).map_err(db_err)?;
        value.map(|v| hash_from(v.value())).transpose()
    }

    /// Every unspent output, in key order (for `gettxoutsetinfo`).
    pub fn for_each_coin(&self, mut f: impl FnMut(OutPoint, Coin)) -> Result<(), StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(COINS).map_err(db_err)?;
        for row in table.iter().map_err(db_err)? {
            let (key, value) = row.map_err(db_err)?;
            let key = key.value();
            let corrupt = || StoreError::Corrupt("bad coin key".into());
            let txid = bitcoin::Txid::from_byte_array(key[..32].try_into().map_err(|_| corrupt())?);
            let vout = u32::from_le_bytes(key[32..36].try_into().map_err(|_| corrupt())?);
            let coin = Coin::from_bytes(value.value()).ok_or_else(corrupt)?;
            f(OutPoint { txid, vout }, coin);
        }
        Ok(())
    }

    /// Starts an atomic batch of changes.
    pub fn begin(&self) -> Result<Batch, StoreError> {
        Ok(Batch {
            txn: self.db.begin_write().map_err(db_err)?,
        })
    }
}

fn db_err<E: std::fmt::Display>(error: E) -> StoreError {
    db(error)
}

fn hash_from(bytes: &[u8]) -> Result<BlockHash, StoreError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("bad block hash".into()))?;
    Ok(BlockHash::from_byte_array(array))
}

/// Changes that commit together or not at all.
pub struct Batch {
    txn: redb::WriteTransaction,
}

impl Batch {
    pub fn put_block(&mut self, block: &Block) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(BLOCKS).map_err(db_err)?;
        let hash = block.block_hash();
        table
            .insert(
                hash.as_byte_array().as_slice(),
                encode::serialize(block).as_slice(),
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn put_entry(&mut self, hash: &BlockHash, entry: &StoredEntry) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(INDEX).map_err(db_err)?;
        table
            .insert(hash.as_byte_array().as_slice(), entry.to_bytes().as_slice())
            .map_err(db_err)?;
        Ok(())
    }

    pub fn put_undo(&mut self, hash: &BlockHash, undo: &BlockUndo) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(UNDO).map_err(db_err)?;
        table
            .insert(hash.as_byte_array().as_slice(), undo.to_bytes().as_slice())
            .map_err(db_err)?;
        Ok(())
    }

    pub fn put_coin(&mut self, outpoint: &OutPoint, coin: &Coin) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(COINS).map_err(db_err)?;
        table
            .insert(
                outpoint_key(outpoint).as_slice(),
                coin.to_bytes().as_slice(),
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Removes a coin; `false` if it was not there.
    pub fn spend_coin(&mut self, outpoint: &OutPoint) -> Result<bool, StoreError> {
        let mut table = self.txn.open_table(COINS).map_err(db_err)?;
        let removed = table
            .remove(outpoint_key(outpoint).as_slice())
            .map_err(db_err)?;
        Ok(removed.is_some())
    }

    pub fn index_tx(&mut self, txid: &bitcoin::Txid, block: &BlockHash) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(TXINDEX).map_err(db_err)?;
        table
            .insert(
                txid.as_byte_array().as_slice(),
                block.as_byte_array().as_slice(),
            )
            .map_err(db_err)?;
        Ok(())
    }

    pub fn unindex_tx(&mut self, txid: &bitcoin::Txid) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(TXINDEX).map_err(db_err)?;
        table
            .remove(txid.as_byte_array().as_slice())
            .map_err(db_err)?;
        Ok(())
    }

    pub fn set_tip(&mut self, hash: &BlockHash) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(META).map_err(db_err)?;
        table
            .insert(TIP, hash.as_byte_array().as_slice())
            .map_err(db_err)?;
        Ok(())
    }

    /// Makes every change durable at once.
    pub fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().map_err(db_err)
    }
}
