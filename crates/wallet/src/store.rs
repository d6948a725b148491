//! The wallet file: one redb database per wallet (`wallet.redb`), each
//! change committed whole, so a crash leaves either the old or the new
//! state and never half of one.

use std::path::Path;

use redb::{Database, Durability, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Settings and wallet-wide state (flags, best block, encryption).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Descriptor records by id.
const DESCRIPTORS: TableDefinition<&str, &[u8]> = TableDefinition::new("descriptors");
/// Transactions by txid (hex).
const TXS: TableDefinition<&str, &[u8]> = TableDefinition::new("txs");
/// Address book entries (label, purpose) by address.
const ADDRESSES: TableDefinition<&str, &[u8]> = TableDefinition::new("addresses");

pub const FILE_NAME: &str = "wallet.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("wallet database: {0}")]
    Database(String),
    #[error("wallet database record {0} is corrupt")]
    Corrupt(String),
}

macro_rules! db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(error: $t) -> StoreError {
                StoreError::Database(error.to_string())
            }
        }
    )*};
}
db_error!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

pub struct Store {
    db: Database,
}

/// Changes gathered for one commit.
#[derive(Default)]
pub struct Batch {
    meta: Vec<(String, Option<Vec<u8>>)>,
    descriptors: Vec<(String, Vec<u8>)>,
    txs: Vec<(String, Vec<u8>)>,
    addresses: Vec<(String, Option<Vec<u8>>)>,
    /// Only the best block changed: no need to wait for the disk.
    pub lazy: bool,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("wallet records serialise")
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
            && self.descriptors.is_empty()
            && self.txs.is_empty()
            && self.addresses.is_empty()
    }
    /// Whether only wallet-wide values changed (no transaction, key or
    /// address record).
    pub fn only_meta(&self) -> bool {
        self.descriptors.is_empty() && self.txs.is_empty() && self.addresses.is_empty()
    }
    pub fn has_txs(&self) -> bool {
        !self.txs.is_empty()
    }
    pub fn meta<T: Serialize>(&mut self, key: &str, value: &T) {
        self.meta.push((key.to_string(), Some(encode(value))));
    }
    pub fn remove_meta(&mut self, key: &str) {
        self.meta.push((key.to_string(), None));
    }
    pub fn descriptor<T: Serialize>(&mut self, id: &str, value: &T) {
        self.descriptors.push((id.to_string(), encode(value)));
    }
    pub fn tx<T: Serialize>(&mut self, txid: &str, value: &T) {
        self.txs.push((txid.to_string(), encode(value)));
    }
    pub fn address<T: Serialize>(&mut self, address: &str, value: Option<&T>) {
        self.addresses
            .push((address.to_string(), value.map(|v| encode(v))));
    }
}

impl Store {
    /// Creates the file; fails if it exists.
    pub fn create(path: &Path) -> Result<Store, StoreError> {
        if path.exists() {
            return Err(StoreError::Database(format!("{} exists", path.display())));
        }
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(META)?;
        txn.open_table(DESCRIPTORS)?;
        txn.open_table(TXS)?;
        txn.open_table(ADDRESSES)?;
        txn.commit()?;
        Ok(Store { db })
    }

    /// Opens the file. If another process holds it, waits up to five
    /// seconds for it to let go: after a crash, the dead node's wallet
    /// process may still be on its way out.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Database::open(path) {
                Ok(db) => return Ok(Store { db }),
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                    return Err(StoreError::Database(format!(
                        "{} is in use by another process",
                        path.display()
                    )))
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    pub fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.begin_write()?;
        if batch.lazy {
            txn.set_durability(Durability::Eventual);
        }
        {
            let mut meta = txn.open_table(META)?;
            for (key, value) in &batch.meta {
                match value {
                    Some(value) => meta.insert(key.as_str(), value.as_slice())?,
                    None => meta.remove(key.as_str())?,
                };
            }
            let mut descriptors = txn.open_table(DESCRIPTORS)?;
            for (key, value) in &batch.descriptors {
                descriptors.insert(key.as_str(), value.as_slice())?;
            }
            let mut txs = txn.open_table(TXS)?;
            for (key, value) in &batch.txs {
                txs.insert(key.as_str(), value.as_slice())?;
            }
            let mut addresses = txn.open_table(ADDRESSES)?;
            for (key, value) in &batch.addresses {
                match value {
                    Some(value) => addresses.insert(key.as_str(), value.as_slice())?,
                    None => addresses.remove(key.as_str())?,
                };
            }
        }
        txn.commit()?;
        Ok(())
    }

    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(META)?;
        match table.get(key)? {
            Some(value) => serde_json::from_slice(value.value())
                .map(Some)
                .map_err(|_| StoreError::Corrupt(key.to_string())),
            None => Ok(None),
        }
    }

    fn all<T: DeserializeOwned>(
        &self,
        definition: TableDefinition<&str, &[u8]>,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(definition)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (key, value) = entry?;
            let record = serde_json::from_slice(value.value())
                .map_err(|_| StoreError::Corrupt(key.value().to_string()))?;
            out.push((key.value().to_string(), record));
        }
        Ok(out)
    }

    pub fn descriptors<T: DeserializeOwned>(&self) -> Result<Vec<(String, T)>, StoreError> {
        self.all(DESCRIPTORS)
    }

    pub fn txs<T: DeserializeOwned>(&self) -> Result<Vec<(String, T)>, StoreError> {
        self.all(TXS)
    }

    pub fn addresses<T: DeserializeOwned>(&self) -> Result<Vec<(String, T)>, StoreError> {
        self.all(ADDRESSES)
    }

    /// A consistent copy of the whole file at `path` (backupwallet).
    pub fn backup(&self, path: &Path) -> Result<(), StoreError> {
        let copy = Store::create(path)?;
        let mut batch = Batch::default();
        let txn = self.db.begin_read()?;
        for (definition, target) in [(META, 0), (DESCRIPTORS, 1), (TXS, 2), (ADDRESSES, 3)] {
            let table = txn.open_table(definition)?;
            for entry in table.iter()? {
                let (key, value) = entry?;
                let (key, value) = (key.value().to_string(), value.value().to_vec());
                match target {
                    0 => batch.meta.push((key, Some(value))),
                    1 => batch.descriptors.push((key, value)),
                    2 => batch.txs.push((key, value)),
                    _ => batch.addresses.push((key, Some(value))),
                }
            }
        }
        copy.commit(batch)
    }
}
