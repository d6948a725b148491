//! Transaction relay: inventory by wtxid to peers that sent `wtxidrelay`
//! (by txid to the others), `getdata` for announced transactions we lack,
//! new mempool transactions announced in batches every
//! [`TRICKLE_INTERVAL`], and orphans (transactions whose parent we have
//! not seen) held for a while until the parent arrives.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::Inventory;
use bitcoin::{Transaction, Txid};

use super::peer::{Peer, PeerId};
use super::{blocking, lock, Connman};
use crate::mempool::RejectKind;

/// New mempool transactions are announced this often, in one `inv` per
/// peer (Core trickles with random delays of seconds; regtest tests want
/// them soon, and batching is what the delay is for).
const TRICKLE_INTERVAL: Duration = Duration::from_millis(100);
/// Orphans kept at most (Core's `DEFAULT_MAX_ORPHAN_TRANSACTIONS`).
const MAX_ORPHANS: usize = 100;
/// How long an orphan waits for its parent (Core's `ORPHAN_TX_EXPIRE_TIME`).
const ORPHAN_EXPIRY: Duration = Duration::from_secs(20 * 60);
/// The most entries one `inv` may carry (Core's `MAX_INV_SZ`).
const MAX_INV: usize = 50_000;
/// Past this many remembered ids per peer, the memory is started afresh.
const MAX_KNOWN: usize = 100_000;

struct Orphan {
    tx: Transaction,
    from: PeerId,
    expires: Instant,
}

#[derive(Default)]
pub struct RelayState {
    orphans: HashMap<Txid, Orphan>,
    /// Ids (as announced) of transactions refused, not asked for again.
    rejected: HashSet<[u8; 32]>,
}

impl RelayState {
    pub fn peer_gone(&mut self, peer: PeerId) {
        self.orphans.retain(|_, orphan| orphan.from != peer);
    }

    /// A new tip may make refused transactions acceptable (a coinbase
    /// matured, a lock time passed): ask for them again, as Core resets
    /// its recent rejects.
    pub fn tip_changed(&mut self) {
        self.rejected.clear();
    }
}

/// The id a peer relays `tx` by.
fn relay_id(tx: &Transaction, wtxid: bool) -> [u8; 32] {
    if wtxid {
        tx.compute_wtxid().to_byte_array()
    } else {
        tx.compute_txid().to_byte_array()
    }
}

impl Connman {
    pub(super) fn on_inv(&self, peer: &Peer, items: Vec<Inventory>) {
        if items.len() > MAX_INV {
            self.misbehaving(peer, &format!("inv message size = {}", items.len()));
            return;
        }
        let mut blocks = Vec::new();
        let mut wanted = Vec::new();
        let wtxid_relay = peer.state().wtxid_relay;
        // The mempool's ids, gathered only when transactions are announced.
        let announces_txs = items.iter().any(|item| {
            matches!(
                item,
                Inventory::WTx(_) | Inventory::Transaction(_) | Inventory::WitnessTransaction(_)
            )
        });
        let pool: HashSet<[u8; 32]> = if !announces_txs {
            HashSet::new()
        } else {
            self.node
                .mempool()
                .entries()
                .map(|e| {
                    if wtxid_relay {
                        e.wtxid.to_byte_array()
                    } else {
                        e.txid.to_byte_array()
                    }
                })
                .collect()
        };
        for item in items {
            match item {
                Inventory::Block(hash) | Inventory::WitnessBlock(hash) => blocks.push(hash),
                Inventory::WTx(wtxid) if wtxid_relay => {
                    let id = wtxid.to_byte_array();
                    if self.wants_tx(peer, id, &pool) {
                        wanted.push(Inventory::WTx(wtxid));
                    }
                }
                Inventory::Transaction(txid) | Inventory::WitnessTransaction(txid)
                    if !wtxid_relay =>
                {
                    let id = txid.to_byte_array();
                    if self.wants_tx(peer, id, &pool) {
                        wanted.push(Inventory::WitnessTransaction(txid));
                    }
                }
                // Mixed-up kinds (txid from a wtxid peer), compact blocks,
                // unknown types: ignored, as Core does.
                _ => {}
            }
        }
        if !blocks.is_empty() {
            self.on_block_inv(peer, &blocks);
        }
        if !wanted.is_empty() {
            peer.send(NetworkMessage::GetData(wanted));
        }
    }

    /// Whether to ask `peer` for the transaction it announced as `id`
    /// (`pool`: the mempool's ids of the same kind).
    fn wants_tx(&self, peer: &Peer, id: [u8; 32], pool: &HashSet<[u8; 32]>) -> bool {
        remember(&mut peer.state().known_txs, id);
        !pool.contains(&id) && !lock(&self.relay).rejected.contains(&id)
    }

    /// Serves a `getdata`, one item at a time, each waiting while the
    /// peer's unread answers exceed its send buffer (so one message
    /// cannot make the node hold gigabytes of blocks for it). Missing
    /// transactions get a `notfound`; missing blocks, as in Core, nothing.
    pub(super) async fn on_getdata(&self, peer: &Peer, items: Vec<Inventory>) {
        if items.len() > MAX_INV {
            self.misbehaving(peer, &format!("getdata message size = {}", items.len()));
            return;
        }
        let mut missing = Vec::new();
        let mut served = HashSet::new();
        for item in items {
            if !served.insert(item) {
                continue;
            }
            peer.wait_for_room().await;
            if peer.is_closing() {
                return;
            }
            match item {
                Inventory::Block(hash) | Inventory::WitnessBlock(hash) => {
                    let block = blocking(|| self.node.chain().block(&hash).ok().flatten());
                    if let Some(mut block) = block {
                        // A non-witness request gets the block without
                        // witnesses, as Core serves old peers.
                        if matches!(item, Inventory::Block(_)) {
                            block.txdata.iter_mut().for_each(strip_witness);
                        }
                        peer.send(NetworkMessage::Block(block));
                    }
                }
                Inventory::Transaction(txid) | Inventory::WitnessTransaction(txid) => {
                    let tx = self.node.mempool().get(&txid).map(|e| e.tx.clone());
                    match tx {
                        Some(mut tx) => {
                            if matches!(item, Inventory::Transaction(_)) {
                                strip_witness(&mut tx);
                            }
                            peer.send(NetworkMessage::Tx(tx));
                        }
                        None => missing.push(item),
                    }
                }
                Inventory::WTx(wtxid) => {
                    let tx = self
                        .node
                        .mempool()
                        .entries()
                        .find(|e| e.wtxid == wtxid)
                        .map(|e| e.tx.clone());
                    match tx {
                        Some(tx) => peer.send(NetworkMessage::Tx(tx)),
                        None => missing.push(item),
                    }
                }
                _ => {}
            }
        }
        if !missing.is_empty() {
            peer.send(NetworkMessage::NotFound(missing));
        }
    }

    pub(super) fn on_notfound(&self, peer: &Peer, items: Vec<Inventory>) {
        let blocks: Vec<_> = items
            .iter()
            .filter_map(|item| match item {
                Inventory::Block(hash) | Inventory::WitnessBlock(hash) => Some(*hash),
                _ => None,
            })
            .collect();
        self.on_block_notfound(peer, &blocks);
    }

    /// A transaction from `peer`: into the mempool, or held as an orphan
    /// (its parents asked of the same peer), or remembered as refused.
    pub(super) async fn on_tx(self: &Arc<Self>, peer: &Arc<Peer>, tx: Transaction) {
        let wtxid_relay = peer.state().wtxid_relay;
        remember(&mut peer.state().known_txs, relay_id(&tx, wtxid_relay));
        let txid = tx.compute_txid();
        let outcome = blocking(|| self.node.submit_transaction(tx.clone(), 0));
        match outcome {
            Ok(_) => {
                peer.state().last_tx = self.node.now() as i64;
                self.adopt_orphans(txid);
            }
            Err(rejection) if rejection.kind == RejectKind::MissingInputs => {
                let parents: Vec<Txid> = tx
                    .input
                    .iter()
                    .map(|input| input.previous_output.txid)
                    .filter(|parent| self.node.mempool().get(parent).is_none())
                    .collect();
                let mut relay = lock(&self.relay);
                let now = Instant::now();
                relay.orphans.retain(|_, orphan| orphan.expires > now);
                if relay.orphans.len() >= MAX_ORPHANS {
                    // Core evicts at random; the oldest is as good here.
                    if let Some(oldest) = relay
                        .orphans
                        .iter()
                        .min_by_key(|(_, o)| o.expires)
                        .map(|(id, _)| *id)
                    {
                        relay.orphans.remove(&oldest);
                    }
                }
                relay.orphans.insert(
                    txid,
                    Orphan {
                        tx,
                        from: peer.id,
                        expires: now + ORPHAN_EXPIRY,
                    },
                );
                drop(relay);
                self.log_net(format!(
                    "stored orphan tx {txid}, peer={} (mapsz {})",
                    peer.id,
                    lock(&self.relay).orphans.len()
                ));
                let request = parents
                    .into_iter()
                    .map(Inventory::WitnessTransaction)
                    .collect();
                peer.send(NetworkMessage::GetData(request));
            }
            Err(rejection)
                if matches!(
                    rejection.kind,
                    RejectKind::AlreadyInMempool | RejectKind::AlreadyInChain
                ) => {}
            Err(rejection) => {
                self.log_net(format!(
                    "{txid} from peer={} was not accepted: {}",
                    peer.id, rejection.reason
                ));
                remember(&mut lock(&self.relay).rejected, relay_id(&tx, wtxid_relay));
            }
        }
    }

    /// Retries orphans that spend `parent`, and theirs in turn.
    fn adopt_orphans(&self, parent: Txid) {
        let mut parents = vec![parent];
        while let Some(parent) = parents.pop() {
            let children: Vec<Transaction> = {
                let relay = lock(&self.relay);
                relay
                    .orphans
                    .values()
                    .filter(|o| o.tx.input.iter().any(|i| i.previous_output.txid == parent))
                    .map(|o| o.tx.clone())
                    .collect()
            };
            for child in children {
                let txid = child.compute_txid();
                let accepted = self.node.submit_transaction(child, 0);
                let mut relay = lock(&self.relay);
                match accepted {
                    Ok(_) => {
                        relay.orphans.remove(&txid);
                        parents.push(txid);
                    }
                    Err(rejection) if rejection.kind == RejectKind::MissingInputs => {}
                    Err(_) => {
                        relay.orphans.remove(&txid);
                    }
                }
            }
        }
    }

    /// Announces mempool transactions each peer has not seen, every
    /// [`TRICKLE_INTERVAL`].
    pub(super) async fn trickle_transactions(self: Arc<Self>) {
        let mut tick = tokio::time::interval(TRICKLE_INTERVAL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.stop_signal.notified() => return,
            }
            let pool: Vec<(Txid, bitcoin::Wtxid, u64)> = self
                .node
                .mempool()
                .entries()
                .map(|e| (e.txid, e.wtxid, e.feerate()))
                .collect();
            if pool.is_empty() {
                continue;
            }
            for peer in self.peers() {
                let mut state = peer.state();
                let relays = state.version.as_ref().is_some_and(|v| v.relay);
                if !state.ready || !relays {
                    continue;
                }
                let wtxid = state.wtxid_relay;
                let filter = state.fee_filter;
                let mut items = Vec::new();
                for (txid, wtx, feerate) in &pool {
                    let id = if wtxid {
                        wtx.to_byte_array()
                    } else {
                        txid.to_byte_array()
                    };
                    if *feerate < filter || state.known_txs.contains(&id) {
                        continue;
                    }
                    remember(&mut state.known_txs, id);
                    items.push(if wtxid {
                        Inventory::WTx(*wtx)
                    } else {
                        Inventory::Transaction(*txid)
                    });
                }
                drop(state);
                for chunk in items.chunks(MAX_INV) {
                    peer.send(NetworkMessage::Inv(chunk.to_vec()));
                }
            }
        }
    }
}

fn strip_witness(tx: &mut Transaction) {
    for input in &mut tx.input {
        input.witness.clear();
    }
}

fn remember(known: &mut HashSet<[u8; 32]>, id: [u8; 32]) {
    if known.len() >= MAX_KNOWN {
        known.clear();
    }
    known.insert(id);
}
