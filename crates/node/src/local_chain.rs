//! [`interfaces::Chain`] for a wallet in the node's own process: each call
//! takes the node's locks for as long as it needs them and returns owned
//! values, exactly as the IPC one (`ipc::chain::ChainServer` over this)
//! does across processes.

use std::sync::Arc;

use bitcoin::{Amount, BlockHash, FeeRate, OutPoint, Transaction, Txid};
use interfaces::rpc::RpcCommand;
use interfaces::{BlockRef, Chain, ChainNotifications, CleanupHandler, Coin, FoundBlock, Handler};
use serde_json::Value;

use crate::mempool::RejectKind;
use crate::Node;

pub struct LocalChain {
    node: Arc<Node>,
    /// The node's options a wallet component may ask for (`get_args`).
    args: std::collections::HashMap<String, Vec<String>>,
}

impl LocalChain {
    pub fn new(node: Arc<Node>) -> Arc<LocalChain> {
        LocalChain::with_args(node, Default::default())
    }

    /// A `Chain` that answers `get_args` from `args`.
    pub fn with_args(
        node: Arc<Node>,
        args: std::collections::HashMap<String, Vec<String>>,
    ) -> Arc<LocalChain> {
        Arc::new(LocalChain { node, args })
    }

    fn settings(&self) -> serde_json::Map<String, Value> {
        self.node
            .settings_path
            .as_ref()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }
}

impl Chain for LocalChain {
    fn tip(&self) -> BlockRef {
        let chain = self.node.chain();
        BlockRef {
            hash: chain.tip(),
            height: chain.height(),
        }
    }

    fn block_hash(&self, height: u32) -> Option<BlockHash> {
        self.node.chain().block_hash(height)
    }

    fn find_block(&self, hash: &BlockHash, with_data: bool) -> Option<FoundBlock> {
        let chain = self.node.chain();
        let entry = chain.entry(hash)?;
        let data = if with_data {
            Some(chain.block(hash).ok()??)
        } else {
            None
        };
        Some(FoundBlock {
            hash: *hash,
            prev_hash: entry.header.prev_blockhash,
            height: entry.height,
            time: entry.header.time,
            median_time_past: chain.median_time_past(hash),
            in_active_chain: chain.is_active(hash),
            data,
        })
    }

    fn find_ancestor_by_height(&self, hash: &BlockHash, height: u32) -> Option<BlockHash> {
        let chain = self.node.chain();
        let mut cursor = chain.entry(hash)?;
        let mut cursor_hash = *hash;
        if cursor.height < height {
            return None;
        }
        // On the active chain the height index answers at once.
        if chain.is_active(hash) {
            return chain.block_hash(height);
        }
        while cursor.height > height {
            cursor_hash = cursor.header.prev_blockhash;
            cursor = chain.entry(&cursor_hash)?;
        }
        Some(cursor_hash)
    }

    fn find_common_ancestor(&self, a: &BlockHash, b: &BlockHash) -> Option<BlockRef> {
        let chain = self.node.chain();
        let (mut a, mut b) = (*a, *b);
        let (mut entry_a, mut entry_b) = (chain.entry(&a)?, chain.entry(&b)?);
        while a != b {
            if entry_a.height >= entry_b.height {
                a = entry_a.header.prev_blockhash;
                entry_a = chain.entry(&a)?;
            } else {
                b = entry_b.header.prev_blockhash;
                entry_b = chain.entry(&b)?;
            }
        }
        Some(BlockRef {
            hash: a,
            height: entry_a.height,
        })
    }

    fn find_coins(&self, outpoints: &[OutPoint]) -> Vec<Option<Coin>> {
        let chain = self.node.chain();
        let mempool = self.node.mempool();
        outpoints
            .iter()
            .map(|outpoint| {
                if mempool.spender(outpoint).is_some() {
                    return None;
                }
                if let Some(entry) = mempool.get(&outpoint.txid) {
                    return entry
                        .tx
                        .output
                        .get(outpoint.vout as usize)
                        .map(|output| Coin {
                            output: output.clone(),
                            height: chain.height() + 1,
                            is_coinbase: false,
                        });
                }
                chain.coin(outpoint).ok().flatten().map(|coin| Coin {
                    output: coin.output,
                    height: coin.height,
                    is_coinbase: coin.is_coinbase,
                })
            })
            .collect()
    }

    fn broadcast_transaction(
        &self,
        tx: &Transaction,
        max_tx_fee: Amount,
        _relay: bool,
    ) -> Result<(), String> {
        // The fee ceiling is absolute here (Core's -maxtxfee), so the
        // transaction is checked first and added only if it is within it.
        let fee = {
            let chain = self.node.chain();
            let outcome = self
                .node
                .mempool()
                .accept(&chain, tx.clone(), self.node.now(), 0, true);
            match outcome {
                Ok(accepted) => Some(accepted.fee),
                Err(rejection) => match rejection.kind {
                    RejectKind::AlreadyInMempool => return Ok(()),
                    RejectKind::AlreadyInChain => {
                        return Err("Transaction outputs already in utxo set".into())
                    }
                    RejectKind::MissingInputs => {
                        return Err("bad-txns-inputs-missingorspent".into())
                    }
                    _ => return Err(rejection.reason),
                },
            }
        };
        if fee.is_some_and(|fee| fee > max_tx_fee) {
            return Err(
                "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)".into(),
            );
        }
        match self.node.submit_transaction(tx.clone(), 0) {
            Ok(_) => Ok(()),
            Err(rejection) if rejection.kind == RejectKind::AlreadyInMempool => Ok(()),
            Err(rejection) => Err(rejection.reason),
        }
    }

    fn estimate_smart_fee(&self, _target: u32) -> Option<FeeRate> {
        // No fee estimator yet: a regtest node has too few blocks for one
        // to say anything, and Core answers "no estimate" there too.
        None
    }

    fn relay_min_fee(&self) -> FeeRate {
        FeeRate::from_sat_per_kwu(crate::mempool::MIN_RELAY_FEERATE / 4)
    }

    fn relay_dust_fee(&self) -> FeeRate {
        FeeRate::from_sat_per_kwu(3000 / 4)
    }

    fn is_in_mempool(&self, txid: &Txid) -> bool {
        self.node.mempool().get(txid).is_some()
    }

    fn has_descendants_in_mempool(&self, txid: &Txid) -> bool {
        !self.node.mempool().children(txid).is_empty()
    }

    fn mempool_transactions(&self) -> Vec<Transaction> {
        self.node
            .mempool()
            .entries()
            .map(|e| e.tx.clone())
            .collect()
    }

    fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Box<dyn Handler> {
        self.node.notifier.subscribe(notifications)
    }

    fn wait_for_notifications(&self) {
        self.node.notifier.sync();
    }

    fn wait_for_notifications_if_tip_changed(&self, old_tip: &BlockHash) {
        // Also when events are still queued: a wallet may already have
        // seen the new tip's block but not the mempool events after it.
        if self.tip().hash != *old_tip || !self.node.notifier.is_idle() {
            self.node.notifier.sync();
        }
    }

    fn handle_rpc(&self, command: RpcCommand) -> Box<dyn Handler> {
        let name = command.name.clone();
        let id = self.node.add_rpc_command(command);
        let node = Arc::downgrade(&self.node);
        Box::new(CleanupHandler::new(move || {
            if let Some(node) = node.upgrade() {
                node.remove_rpc_command(&name, id);
            }
        }))
    }

    fn is_ready_to_broadcast(&self) -> bool {
        !self.node.shutdown_requested()
    }

    fn is_initial_block_download(&self) -> bool {
        false
    }

    fn shutdown_requested(&self) -> bool {
        self.node.shutdown_requested()
    }

    fn now(&self) -> i64 {
        self.node.now() as i64
    }

    fn get_args(&self, name: &str) -> Vec<String> {
        self.args.get(name).cloned().unwrap_or_default()
    }

    fn setting(&self, name: &str) -> Option<Value> {
        self.settings().remove(name)
    }

    fn update_setting(&self, name: &str, value: Option<Value>) -> Result<(), String> {
        let path = self
            .node
            .settings_path
            .as_ref()
            .ok_or("this node keeps no settings file")?;
        let mut settings = self.settings();
        match value {
            Some(value) => settings.insert(name.to_string(), value),
            None => settings.remove(name),
        };
        let text =
            serde_json::to_string_pretty(&Value::Object(settings)).map_err(|e| e.to_string())?;
        // Written beside and renamed, so a crash never leaves half a file.
        let partial = path.with_extension("json.tmp");
        std::fs::write(&partial, text + "\n")
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("Failed to write settings file {}: {e}", path.display()))
    }

    fn init_message(&self, message: &str) {
        self.node.log(format!("init message: {message}"));
    }

    fn init_warning(&self, message: &str) {
        self.node.logger.warning(format_args!("{message}"));
    }
}
