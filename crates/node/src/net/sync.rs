//! Headers-first block sync: headers peers send are checked (they
//! connect, they carry the proof of work their bits claim) and kept in a
//! tree beside the chainstate; the blocks of the best headers a peer has
//! are then fetched from it, at most [`MAX_IN_FLIGHT`] at a time, from
//! several peers in parallel; blocks that arrive ahead of their parent
//! wait for it. New tips are announced by `headers` to peers that asked
//! for them (`sendheaders`) and by `inv` to the others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::block::Header;
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::{GetHeadersMessage, Inventory};
use bitcoin::pow::Work;
use bitcoin::{Block, BlockHash};
use chain::{BlockError, BlockOutcome, ChainState};

use super::peer::{Peer, PeerId};
use super::{blocking, lock, Connman, PROTOCOL_VERSION};

/// Blocks requested from one peer at a time (Core's
/// `MAX_BLOCKS_IN_TRANSIT_PER_PEER`).
const MAX_IN_FLIGHT: usize = 16;
/// The most headers one message carries (Core's `MAX_HEADERS_RESULTS`).
const MAX_HEADERS: usize = 2000;
/// The longest locator a peer may send (Core's `MAX_LOCATOR_SZ`).
const MAX_LOCATOR: usize = 101;
/// Blocks kept while their parent is missing, at most (each may be up
/// to 4 MB); past this, no more are asked for until they connect.
const MAX_WAITING: usize = 32;
/// How far past our tip blocks are fetched (Core's
/// `BLOCK_DOWNLOAD_WINDOW`).
const DOWNLOAD_WINDOW: u32 = 1024;
/// A requested block not delivered in this long, while another peer could
/// serve it, marks its peer as stalling the download: it is dropped and
/// the block asked of the other.
const STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// With nobody else to ask, a peer gets this long (Core's base block
/// download timeout).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Blocks announced by `headers` at most; a longer run goes by `inv`.
const MAX_BLOCKS_TO_ANNOUNCE: u32 = 8;

/// A header learnt from a peer whose block we do not have yet.
struct HeaderEntry {
    header: Header,
    height: u32,
    work: Work,
}

#[derive(Default)]
pub struct SyncState {
    headers: HashMap<BlockHash, HeaderEntry>,
    /// Headers (and their descendants) whose blocks proved invalid.
    invalid: HashSet<BlockHash>,
    /// Requested blocks: who was asked, and when.
    in_flight: HashMap<BlockHash, (PeerId, Instant)>,
    /// Blocks that arrived before their parent, by hash, with the peer
    /// that sent them.
    waiting: HashMap<BlockHash, (PeerId, Block)>,
    /// The last tip announced to each peer.
    announced: HashMap<PeerId, BlockHash>,
}

impl SyncState {
    pub fn peer_gone(&mut self, peer: PeerId) {
        self.in_flight.retain(|_, (asked, _)| *asked != peer);
        self.waiting.retain(|_, (from, _)| *from != peer);
        self.announced.remove(&peer);
    }

    /// Waiting blocks whose parent is `parent`, taken out.
    fn children_of(&mut self, parent: BlockHash) -> Vec<Block> {
        let children: Vec<BlockHash> = self
            .waiting
            .iter()
            .filter(|(_, (_, b))| b.header.prev_blockhash == parent)
            .map(|(h, _)| *h)
            .collect();
        children
            .iter()
            .filter_map(|h| self.waiting.remove(h).map(|(_, b)| b))
            .collect()
    }

    fn in_flight_from(&self, peer: PeerId) -> usize {
        self.in_flight.values().filter(|(p, _)| *p == peer).count()
    }
}

/// Height and work of `hash`, from the chainstate or the header tree.
fn known(chain: &ChainState, sync: &SyncState, hash: &BlockHash) -> Option<(u32, Work, Header)> {
    if let Some(entry) = chain.entry(hash) {
        return Some((entry.height, entry.chain_work, entry.header));
    }
    sync.headers
        .get(hash)
        .map(|entry| (entry.height, entry.work, entry.header))
}

/// Core's block locator from `start`: ten steps back one at a time, then
/// doubling, ending at genesis (so at most ~40 entries, well inside the
/// 101 a peer accepts).
fn locator(chain: &ChainState, sync: &SyncState, start: BlockHash) -> Vec<BlockHash> {
    let Some((start_height, _, _)) = known(chain, sync, &start) else {
        return chain.block_hash(0).into_iter().collect();
    };
    let mut hashes = Vec::new();
    let mut cursor = start;
    let mut cursor_height = start_height;
    let mut height = start_height as i64;
    let mut step = 1i64;
    loop {
        // Walk back to `height`: through the header tree while off the
        // active chain, then by height on it.
        while cursor_height as i64 > height && !chain.is_active(&cursor) {
            let Some((_, _, header)) = known(chain, sync, &cursor) else {
                break;
            };
            cursor = header.prev_blockhash;
            cursor_height -= 1;
        }
        if chain.is_active(&cursor) && cursor_height as i64 != height {
            cursor = chain.block_hash(height as u32).unwrap_or(cursor);
            cursor_height = height as u32;
        }
        hashes.push(cursor);
        if height == 0 {
            break;
        }
        if hashes.len() >= 10 {
            step *= 2;
        }
        height = (height - step).max(0);
    }
    hashes
}

impl Connman {
    /// After the handshake: ask for the headers past our best one.
    pub(super) fn start_sync(&self, peer: &Peer) {
        self.send_getheaders(peer, None);
    }

    /// `getheaders` from our best header (or `from`).
    fn send_getheaders(&self, peer: &Peer, from: Option<BlockHash>) {
        let chain = self.node.chain();
        let sync = lock(&self.sync);
        let start = from.unwrap_or_else(|| {
            let tip = chain.tip_entry().chain_work;
            sync.headers
                .iter()
                .filter(|(hash, e)| e.work > tip && !sync.invalid.contains(*hash))
                .max_by_key(|(_, e)| e.work)
                .map_or(chain.tip(), |(hash, _)| *hash)
        });
        let hashes = locator(&chain, &sync, start);
        drop((sync, chain));
        peer.send(NetworkMessage::GetHeaders(GetHeadersMessage {
            version: PROTOCOL_VERSION,
            locator_hashes: hashes,
            stop_hash: BlockHash::from_raw_hash(bitcoin::hashes::Hash::all_zeros()),
        }));
    }

    pub(super) fn on_getheaders(&self, peer: &Peer, request: GetHeadersMessage) {
        if request.locator_hashes.len() > MAX_LOCATOR {
            self.log_net(format!(
                "getheaders locator size {} > {MAX_LOCATOR}, disconnect peer={}",
                request.locator_hashes.len(),
                peer.id
            ));
            peer.disconnect();
            return;
        }
        let chain = self.node.chain();
        if request.locator_hashes.is_empty() {
            // No locator: just the header `stop_hash` names, if we have it.
            let header = chain.entry(&request.stop_hash).map(|e| e.header);
            drop(chain);
            if let Some(header) = header {
                peer.send(NetworkMessage::Headers(vec![header]));
            }
            return;
        }
        // The first locator entry on our active chain is the fork point;
        // none at all means "from genesis".
        let fork = request
            .locator_hashes
            .iter()
            .find(|hash| chain.is_active(hash))
            .and_then(|hash| chain.entry(hash))
            .map_or(0, |entry| entry.height);
        let mut headers = Vec::new();
        for height in fork + 1..=chain.height() {
            let hash = chain.block_hash(height).expect("an active height");
            headers.push(chain.entry(&hash).expect("indexed").header);
            if hash == request.stop_hash || headers.len() == MAX_HEADERS {
                break;
            }
        }
        drop(chain);
        peer.send(NetworkMessage::Headers(headers));
    }

    pub(super) fn on_headers(self: &Arc<Self>, peer: &Arc<Peer>, headers: Vec<Header>) {
        if headers.is_empty() {
            return;
        }
        if headers.len() > MAX_HEADERS {
            self.misbehaving(peer, &format!("headers message size = {}", headers.len()));
            return;
        }
        let regtest = self.config.magic == bitcoin::p2p::Magic::REGTEST;
        let chain = self.node.chain();
        let mut sync = lock(&self.sync);
        let first_prev = headers[0].prev_blockhash;
        if known(&chain, &sync, &first_prev).is_none() {
            // We miss what they build on: ask from our best header again.
            drop((sync, chain));
            self.log_net(format!(
                "received header {}: missing prev block {first_prev}, sending getheaders to peer={}",
                headers[0].block_hash(),
                peer.id
            ));
            self.send_getheaders(peer, None);
            return;
        }
        let mut prev_hash = first_prev;
        let mut last = None;
        for header in &headers {
            if header.prev_blockhash != prev_hash {
                drop((sync, chain));
                self.misbehaving(peer, "non-continuous headers sequence");
                return;
            }
            let hash = header.block_hash();
            let (prev_height, prev_work, prev_header) =
                known(&chain, &sync, &prev_hash).expect("checked: connects");
            let fault = if sync.invalid.contains(&prev_hash)
                || chain
                    .entry(&prev_hash)
                    .is_some_and(|e| e.status == chain::store::BlockStatus::Invalid)
            {
                Some("bad-prevblk")
            } else if regtest && header.bits != prev_header.bits {
                Some("bad-diffbits")
            } else if header.validate_pow(header.target()).is_err() {
                Some("high-hash")
            } else {
                None
            };
            if let Some(fault) = fault {
                sync.invalid.insert(hash);
                drop((sync, chain));
                self.misbehaving(peer, &format!("invalid header received {hash}: {fault}"));
                return;
            }
            if known(&chain, &sync, &hash).is_none() {
                sync.headers.insert(
                    hash,
                    HeaderEntry {
                        header: *header,
                        height: prev_height + 1,
                        work: prev_work + header.work(),
                    },
                );
            }
            last = Some((hash, prev_height + 1, prev_work + header.work()));
            prev_hash = hash;
        }
        if let Some((hash, height, work)) = last {
            let mut state = peer.state();
            let better = match state.best_known {
                Some((best, _)) => known(&chain, &sync, &best).is_none_or(|(_, w, _)| work > w),
                None => true,
            };
            if better {
                state.best_known = Some((hash, height));
            }
        }
        drop((sync, chain));
        if headers.len() == MAX_HEADERS {
            self.send_getheaders(peer, last.map(|(hash, _, _)| hash));
        }
        self.request_blocks(peer);
    }

    /// Asks `peer` for the next blocks of the best chain it has, keeping
    /// at most [`MAX_IN_FLIGHT`] outstanding.
    pub(super) fn request_blocks(&self, peer: &Peer) {
        let Some((target, _)) = peer.state().best_known else {
            return;
        };
        let chain = self.node.chain();
        let mut sync = lock(&self.sync);
        let room = MAX_IN_FLIGHT.saturating_sub(sync.in_flight_from(peer.id));
        let Some((_, target_work, _)) = known(&chain, &sync, &target) else {
            return;
        };
        if room == 0 || target_work <= chain.tip_entry().chain_work {
            return;
        }
        // With the waiting room full, only the oldest missing block (the
        // one holding the others up) is asked for.
        let room = if sync.waiting.len() >= MAX_WAITING {
            1
        } else {
            room
        };
        // The blocks between what we have and their best, oldest first.
        let mut missing = Vec::new();
        let mut cursor = target;
        while chain.entry(&cursor).is_none() {
            let Some(entry) = sync.headers.get(&cursor) else {
                break;
            };
            missing.push((cursor, entry.height));
            cursor = entry.header.prev_blockhash;
        }
        let limit = chain.height() + DOWNLOAD_WINDOW;
        let wanted: Vec<BlockHash> = missing
            .iter()
            .rev()
            .filter(|(hash, height)| {
                *height <= limit
                    && !sync.in_flight.contains_key(hash)
                    && !sync.waiting.contains_key(hash)
                    && !sync.invalid.contains(hash)
            })
            .map(|(hash, _)| *hash)
            .take(room)
            .collect();
        let now = Instant::now();
        for hash in &wanted {
            sync.in_flight.insert(*hash, (peer.id, now));
        }
        drop((sync, chain));
        if !wanted.is_empty() {
            peer.send(NetworkMessage::GetData(
                wanted.into_iter().map(Inventory::WitnessBlock).collect(),
            ));
        }
    }

    /// Block parts of an `inv`: an unknown block means new headers to
    /// fetch (from peers that announce by `inv`).
    pub(super) fn on_block_inv(&self, peer: &Peer, hashes: &[BlockHash]) {
        let unknown = {
            let chain = self.node.chain();
            let sync = lock(&self.sync);
            hashes
                .iter()
                .any(|hash| known(&chain, &sync, hash).is_none())
        };
        if unknown {
            self.send_getheaders(peer, None);
        }
    }

    /// A block from `peer`: processed if we asked for it, or if it would
    /// be our new best chain (Core takes such unrequested blocks too).
    pub(super) async fn on_block(self: &Arc<Self>, peer: &Arc<Peer>, block: Block) {
        let hash = block.block_hash();
        let requested = {
            let mut sync = lock(&self.sync);
            let requested = sync.in_flight.remove(&hash).is_some();
            // The peer is delivering: its other requests count from now.
            let now = Instant::now();
            for (asked, when) in sync.in_flight.values_mut() {
                if *asked == peer.id {
                    *when = now;
                }
            }
            requested
        };
        {
            let chain = self.node.chain();
            if chain.entry(&hash).is_some() {
                return;
            }
            if !requested {
                let prev = block.header.prev_blockhash;
                let more_work = chain.entry(&prev).is_some_and(|p| {
                    p.chain_work + block.header.work() > chain.tip_entry().chain_work
                });
                if !more_work {
                    self.log_net(format!(
                        "received unrequested block {hash} without more work, ignored, peer={}",
                        peer.id
                    ));
                    return;
                }
            }
        }
        self.connect_block(peer, block);
        self.request_blocks(peer);
    }

    /// Processes `block` and then any waiting descendants.
    fn connect_block(&self, peer: &Arc<Peer>, block: Block) {
        let mut queue = vec![block];
        while let Some(block) = queue.pop() {
            let hash = block.block_hash();
            let now = self.node.now();
            let outcome = blocking(|| {
                self.node
                    .change_chain(|chain| chain.process_block(&block, now))
            });
            match outcome {
                Ok(outcome) => {
                    let height = self.node.chain().entry(&hash).map(|e| e.height);
                    let mut sync = lock(&self.sync);
                    sync.headers.remove(&hash);
                    queue.extend(sync.children_of(hash));
                    drop(sync);
                    let mut state = peer.state();
                    if outcome == BlockOutcome::NewTip {
                        state.last_block = now as i64;
                    }
                    if let Some(height) = height {
                        if state.best_known.is_none_or(|(_, h)| h < height) {
                            state.best_known = Some((hash, height));
                        }
                    }
                }
                Err(BlockError::Duplicate) => {
                    // We had it (from `submitblock`, say): its children can go on.
                    queue.extend(lock(&self.sync).children_of(hash));
                }
                Err(BlockError::PrevNotFound) => {
                    let mut sync = lock(&self.sync);
                    if sync.waiting.len() < MAX_WAITING {
                        sync.waiting.insert(hash, (peer.id, block));
                    }
                }
                Err(BlockError::Store(message)) => {
                    self.node
                        .log(format!("ERROR: storing block {hash}: {message}"));
                }
                Err(error) => {
                    let mut sync = lock(&self.sync);
                    sync.invalid.insert(hash);
                    sync.headers.remove(&hash);
                    drop(sync);
                    self.misbehaving(peer, &format!("invalid block {hash}: {error}"));
                    return;
                }
            }
        }
    }

    /// `notfound` for blocks: ask someone else.
    pub(super) fn on_block_notfound(&self, peer: &Peer, hashes: &[BlockHash]) {
        let mut sync = lock(&self.sync);
        for hash in hashes {
            if sync.in_flight.get(hash).is_some_and(|(p, _)| *p == peer.id) {
                sync.in_flight.remove(hash);
            }
        }
    }

    /// Whether `peer` has a header with more work than `tip_work`.
    fn has_more_work(&self, peer: &Peer, tip_work: Work) -> bool {
        let Some((best, _)) = peer.state().best_known else {
            return false;
        };
        let chain = self.node.chain();
        let sync = lock(&self.sync);
        known(&chain, &sync, &best).is_some_and(|(_, work, _)| work > tip_work)
    }

    /// Announces each new tip to the peers that lack it.
    pub(super) async fn announce_blocks(self: Arc<Self>) {
        loop {
            let changed = self.node.tip_signal.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            lock(&self.relay).tip_changed();
            self.announce_tip();
            tokio::select! {
                () = changed => {}
                () = self.stop_signal.notified() => return,
            }
        }
    }

    fn announce_tip(&self) {
        for peer in self.peers() {
            if !peer.is_ready() {
                continue;
            }
            let chain = self.node.chain();
            let tip = chain.tip();
            let tip_height = chain.height();
            let mut sync = lock(&self.sync);
            if sync.announced.get(&peer.id) == Some(&tip) {
                continue;
            }
            sync.announced.insert(peer.id, tip);
            drop(sync);
            let (best_known, prefers_headers) = {
                let state = peer.state();
                (state.best_known, state.prefers_headers)
            };
            // What the peer already has of our active chain.
            let has = best_known
                .filter(|(hash, _)| chain.is_active(hash))
                .map(|(_, height)| height);
            if has.is_some_and(|h| h >= tip_height) {
                continue;
            }
            let message = match has {
                Some(height)
                    if prefers_headers && tip_height - height <= MAX_BLOCKS_TO_ANNOUNCE =>
                {
                    let headers = (height + 1..=tip_height)
                        .filter_map(|h| chain.block_hash(h))
                        .filter_map(|hash| chain.entry(&hash).map(|e| e.header))
                        .collect();
                    NetworkMessage::Headers(headers)
                }
                _ if prefers_headers => NetworkMessage::Headers(vec![chain.tip_entry().header]),
                _ => NetworkMessage::Inv(vec![Inventory::Block(tip)]),
            };
            drop(chain);
            peer.send(message);
        }
    }

    /// Drops peers sitting on blocks we asked for, so others are asked.
    pub(super) async fn check_stalls(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.stop_signal.notified() => return,
            }
            // Peers that could serve the blocks we lack.
            let tip_work = self.node.chain().tip_entry().chain_work;
            let servers: HashSet<PeerId> = self
                .peers()
                .iter()
                .filter(|p| p.is_ready() && self.has_more_work(p, tip_work))
                .map(|p| p.id)
                .collect();
            let late: Vec<(PeerId, BlockHash, Duration)> = lock(&self.sync)
                .in_flight
                .iter()
                .map(|(hash, (peer, asked))| (*peer, *hash, asked.elapsed()))
                .filter(|(_, _, waited)| *waited > STALL_TIMEOUT)
                .collect();
            let mut dropped = HashSet::new();
            for (id, hash, waited) in late {
                let others = servers.iter().any(|s| *s != id);
                let message = if others {
                    format!("Peer={id} is stalling block download, disconnecting")
                } else if waited > DOWNLOAD_TIMEOUT {
                    format!("Timeout downloading block {hash} from peer={id}, disconnecting")
                } else {
                    continue;
                };
                if dropped.insert(id) {
                    self.log_net(message);
                    if let Some(peer) = self.peer(id) {
                        peer.disconnect();
                    }
                    lock(&self.sync).peer_gone(id);
                }
            }
            // Waiting blocks whose parent came another way (`submitblock`).
            let ready: Vec<(PeerId, Block)> = {
                let chain = self.node.chain();
                let mut sync = lock(&self.sync);
                let hashes: Vec<BlockHash> = sync
                    .waiting
                    .iter()
                    .filter(|(_, (_, b))| chain.entry(&b.header.prev_blockhash).is_some())
                    .map(|(h, _)| *h)
                    .collect();
                hashes
                    .iter()
                    .filter_map(|h| sync.waiting.remove(h))
                    .collect()
            };
            for (id, block) in ready {
                if let Some(peer) = self.peer(id) {
                    self.connect_block(&peer, block);
                }
            }
            // Blocks freed by a stalled peer go to whoever has them.
            for peer in self.peers() {
                if peer.is_ready() {
                    self.request_blocks(&peer);
                }
            }
        }
    }
}
