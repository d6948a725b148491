//! The wallet without a node, for `c1pzo-wallet` (Bitcoin Core's
//! `bitcoin-wallet`): a stand-in [`Chain`] and raw access to a wallet file.
//!
//! [`Wallet::create`](crate::Wallet::create) and
//! [`Wallet::open`](crate::Wallet::open) need a chain, but the tool runs
//! while no node does. [`OfflineChain`] answers as a chain holding only the
//! genesis block would: the tip is genesis, nothing is in a mempool, no fee
//! is estimated and nothing can be broadcast. A wallet created through it
//! therefore records genesis as its best block, so the first time the node
//! loads it, it is scanned from its oldest key's birth (less Core's
//! two-hour window) and misses nothing that happened after its keys were
//! made. The tool never calls
//! [`Wallet::attach`](crate::Wallet::attach): there is nothing to follow.
//!
//! [`read_records`] reads every stored record as bytes, for `dump`, which
//! must show the file as it is rather than as the wallet understands it.
//! [`ensure_not_in_use`] tells a wallet another process holds open apart
//! from one that merely fails to load.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::{Amount, Block, BlockHash, FeeRate, OutPoint, Transaction, Txid};
use common::chainparams::ChainParams;
use interfaces::rpc::RpcCommand;
use interfaces::{BlockRef, Chain, ChainNotifications, CleanupHandler, Coin, FoundBlock, Handler};
use redb::{
    Database, DatabaseError, MultimapTableHandle, ReadableTable, TableDefinition, TableError,
    TableHandle,
};
use serde_json::Value;

/// Why nothing can be handed to a node.
const NO_NODE: &str = "no node: the wallet tool works offline";

/// A chain of one block, the genesis block of the chain the tool was
/// pointed at. Core's tool passes no chain at all; ours must pass one, so
/// this one knows as little as possible while staying self-consistent:
/// every question about genesis is answered, every other one is not.
pub struct OfflineChain {
    genesis: Block,
    hash: BlockHash,
}

impl OfflineChain {
    pub fn new(params: &ChainParams) -> Arc<OfflineChain> {
        Arc::new(OfflineChain {
            genesis: params.genesis.clone(),
            hash: params.genesis_hash(),
        })
    }

    fn genesis_ref(&self) -> BlockRef {
        BlockRef {
            hash: self.hash,
            height: 0,
        }
    }
}

impl Chain for OfflineChain {
    fn tip(&self) -> BlockRef {
        self.genesis_ref()
    }

    fn block_hash(&self, height: u32) -> Option<BlockHash> {
        (height == 0).then_some(self.hash)
    }

    fn find_block(&self, hash: &BlockHash, with_data: bool) -> Option<FoundBlock> {
        if *hash != self.hash {
            return None;
        }
        let header = &self.genesis.header;
        Some(FoundBlock {
            hash: self.hash,
            prev_hash: header.prev_blockhash,
            height: 0,
            time: header.time,
            // With no blocks before it, the median is its own time.
            median_time_past: header.time,
            in_active_chain: true,
            data: with_data.then(|| self.genesis.clone()),
        })
    }

    fn find_ancestor_by_height(&self, hash: &BlockHash, height: u32) -> Option<BlockHash> {
        (*hash == self.hash && height == 0).then_some(self.hash)
    }

    fn find_common_ancestor(&self, a: &BlockHash, b: &BlockHash) -> Option<BlockRef> {
        (*a == self.hash && *b == self.hash).then(|| self.genesis_ref())
    }

    fn find_coins(&self, outpoints: &[OutPoint]) -> Vec<Option<Coin>> {
        vec![None; outpoints.len()]
    }

    fn broadcast_transaction(
        &self,
        _tx: &Transaction,
        _max_tx_fee: Amount,
        _relay: bool,
    ) -> Result<(), String> {
        Err(NO_NODE.to_string())
    }

    fn estimate_smart_fee(&self, _target: u32) -> Option<FeeRate> {
        None
    }

    /// Core's default `-minrelaytxfee` (1000 sat/kvB), so that anything
    /// computed offline matches what a default node would accept.
    fn relay_min_fee(&self) -> FeeRate {
        FeeRate::from_sat_per_kwu(1000 / 4)
    }

    /// Core's default `-dustrelayfee` (3000 sat/kvB), as the node uses.
    fn relay_dust_fee(&self) -> FeeRate {
        FeeRate::from_sat_per_kwu(3000 / 4)
    }

    fn is_in_mempool(&self, _txid: &Txid) -> bool {
        false
    }

    fn has_descendants_in_mempool(&self, _txid: &Txid) -> bool {
        false
    }

    fn mempool_transactions(&self) -> Vec<Transaction> {
        Vec::new()
    }

    /// Nothing will ever be notified: the handler has nothing to undo.
    fn handle_notifications(
        &self,
        _notifications: Arc<dyn ChainNotifications>,
    ) -> Box<dyn Handler> {
        Box::new(CleanupHandler::new(|| {}))
    }

    fn wait_for_notifications(&self) {}

    /// There is no RPC server to add the command to.
    fn handle_rpc(&self, _command: RpcCommand) -> Box<dyn Handler> {
        Box::new(CleanupHandler::new(|| {}))
    }

    fn is_ready_to_broadcast(&self) -> bool {
        false
    }

    fn is_initial_block_download(&self) -> bool {
        false
    }

    fn shutdown_requested(&self) -> bool {
        false
    }

    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }

    /// No node, so no settings.json to read the startup wallet list from.
    fn setting(&self, _name: &str) -> Option<Value> {
        None
    }

    fn update_setting(&self, _name: &str, _value: Option<Value>) -> Result<(), String> {
        Err(NO_NODE.to_string())
    }

    /// The tool prints its own output; startup progress means nothing here.
    fn init_message(&self, _message: &str) {}

    fn init_warning(&self, _message: &str) {}

    fn get_args(&self, _name: &str) -> Vec<String> {
        Vec::new()
    }
}

/// The tables of a wallet file, by the names [`crate::store`] gives them.
/// Listed here (rather than taken from the store) because a dump must see
/// exactly what is on disk, including records the store would reject.
pub const TABLES: [&str; 4] = ["addresses", "descriptors", "meta", "txs"];

/// Why a wallet file could not be read offline.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("Failed to load database path '{}'. Path does not exist.", .0.display())]
    Missing(PathBuf),
    /// Another process (usually a running node) has the file open: redb
    /// holds an exclusive lock on it for as long as it is open.
    #[error("Unable to obtain an exclusive lock on the database, is it being used by another instance of c1pzo?")]
    InUse,
    #[error(
        "Table '{0}' in the wallet database is not one c1pzo knows; refusing to leave it out."
    )]
    UnknownTable(String),
    #[error("Wallet database: {0}")]
    Database(String),
}

impl From<DatabaseError> for OfflineError {
    fn from(error: DatabaseError) -> OfflineError {
        match error {
            DatabaseError::DatabaseAlreadyOpen => OfflineError::InUse,
            other => OfflineError::Database(other.to_string()),
        }
    }
}

macro_rules! database_error {
    ($($t:ty),*) => {$(
        impl From<$t> for OfflineError {
            fn from(error: $t) -> OfflineError {
                OfflineError::Database(error.to_string())
            }
        }
    )*};
}
database_error!(redb::TransactionError, redb::StorageError);

impl From<TableError> for OfflineError {
    fn from(error: TableError) -> OfflineError {
        match error {
            TableError::TableDoesNotExist(name) => {
                OfflineError::Database(format!("table '{name}' is missing; not a c1pzo wallet?"))
            }
            other => OfflineError::Database(other.to_string()),
        }
    }
}

/// Fails with [`OfflineError::InUse`] if another process has `file` open.
/// Opening takes redb's lock, so this opens and at once closes the file;
/// [`crate::Wallet::open`] only reports such a failure as text.
pub fn ensure_not_in_use(file: &Path) -> Result<(), OfflineError> {
    if !file.exists() {
        return Err(OfflineError::Missing(
            file.parent().unwrap_or(file).to_path_buf(),
        ));
    }
    Database::open(file)?;
    Ok(())
}

/// One stored record, as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    pub table: &'static str,
    pub key: String,
    pub value: Vec<u8>,
}

/// Every record of the wallet file `file`, ordered by table name, then by
/// key, read in one transaction so they are from the same moment. Fails
/// rather than leave out a table it does not know.
pub fn read_records(file: &Path) -> Result<Vec<RawRecord>, OfflineError> {
    if !file.exists() {
        return Err(OfflineError::Missing(
            file.parent().unwrap_or(file).to_path_buf(),
        ));
    }
    let db = Database::open(file)?;
    let txn = db.begin_read()?;
    for table in txn.list_tables()? {
        if !TABLES.contains(&table.name()) {
            return Err(OfflineError::UnknownTable(table.name().to_string()));
        }
    }
    if let Some(table) = txn.list_multimap_tables()?.next() {
        return Err(OfflineError::UnknownTable(table.name().to_string()));
    }
    let mut records = Vec::new();
    for name in TABLES {
        let table = txn.open_table(TableDefinition::<&str, &[u8]>::new(name))?;
        let mut rows = Vec::new();
        for entry in table.iter()? {
            let (key, value) = entry?;
            rows.push(RawRecord {
                table: name,
                key: key.value().to_string(),
                value: value.value().to_vec(),
            });
        }
        // redb already iterates in key order; sorting states the promise.
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        records.extend(rows);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::{CreateOptions, Wallet};
    use common::chainparams::ChainType;

    #[test]
    fn the_offline_chain_is_genesis_alone() {
        use bitcoin::hashes::Hash;
        let params = ChainParams::for_chain(ChainType::Regtest);
        let chain = OfflineChain::new(&params);
        let genesis = params.genesis_hash();
        assert_eq!(
            chain.tip(),
            BlockRef {
                hash: genesis,
                height: 0
            }
        );
        assert_eq!(chain.block_hash(0), Some(genesis));
        assert_eq!(chain.block_hash(1), None);
        let found = chain.find_block(&genesis, true).unwrap();
        assert!(found.in_active_chain && found.data.is_some());
        assert!(chain
            .find_block(&BlockHash::from_byte_array([1; 32]), false)
            .is_none());
        let tx = params.genesis.txdata[0].clone();
        assert_eq!(
            chain.broadcast_transaction(&tx, Amount::MAX_MONEY, true),
            Err(NO_NODE.to_string())
        );
        assert!(chain.update_setting("wallet", None).is_err());
        assert!(chain.mempool_transactions().is_empty());
        assert_eq!(chain.find_coins(&[OutPoint::null()]), vec![None]);
    }

    #[test]
    fn a_wallet_made_offline_starts_at_genesis_and_reads_back_raw() {
        let params = ChainParams::for_chain(ChainType::Regtest);
        let dir = tempfile::tempdir().unwrap();
        let wallet_dir = dir.path().join("w");
        let wallet = Wallet::create(
            OfflineChain::new(&params),
            &wallet_dir,
            "w",
            params.network,
            &CreateOptions::default(),
            None,
        )
        .unwrap();
        assert_eq!(wallet.state().tip_height(), 0);
        assert_eq!(
            wallet.state().best_block.map(|b| b.hash),
            Some(params.genesis_hash())
        );
        let file = wallet_dir.join(crate::store::FILE_NAME);
        // The wallet still holds the file.
        assert!(matches!(ensure_not_in_use(&file), Err(OfflineError::InUse)));
        assert!(matches!(read_records(&file), Err(OfflineError::InUse)));
        drop(wallet);

        ensure_not_in_use(&file).unwrap();
        let records = read_records(&file).unwrap();
        assert_eq!(
            records.iter().filter(|r| r.table == "descriptors").count(),
            8
        );
        assert!(records
            .iter()
            .any(|r| r.table == "meta" && r.key == "best_block"));
        let order: Vec<(&str, &str)> = records.iter().map(|r| (r.table, r.key.as_str())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);

        let missing = dir.path().join("nope").join(crate::store::FILE_NAME);
        assert_eq!(
            read_records(&missing).unwrap_err().to_string(),
            format!(
                "Failed to load database path '{}'. Path does not exist.",
                dir.path().join("nope").display()
            )
        );
    }
}
