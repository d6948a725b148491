//! One peer: what the node knows about it (for message handling and
//! `getpeerinfo`) and the two tasks that carry its connection, a reader
//! that frames and hands over messages and a writer that drains its
//! outbox, plus the timers (silence after connecting, pings).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::ServiceFlags;
use bitcoin::BlockHash;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::frame::{self, Frame, FrameError};
use super::Connman;

pub type PeerId = u64;

/// Pings go out this often (Core's `PING_INTERVAL`).
const PING_INTERVAL: Duration = Duration::from_secs(120);
/// A peer that leaves a ping unanswered, or sends nothing, this long is
/// dropped (Core's `TIMEOUT_INTERVAL`).
const TIMEOUT_INTERVAL: Duration = Duration::from_secs(20 * 60);
/// While more than this is queued for a peer, its further requests wait
/// (Core's `-maxsendbuffer`): a peer that asks and never reads cannot
/// make the node hold its answers in memory without end.
const MAX_SEND_BUFFER: u64 = 5_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionType {
    Inbound,
    /// `-connect`, `-addnode`, `addnode`.
    Manual,
}

impl ConnectionType {
    pub fn name(self) -> &'static str {
        match self {
            ConnectionType::Inbound => "inbound",
            ConnectionType::Manual => "manual",
        }
    }
}

/// What the peer said in its `version`.
#[derive(Clone, Debug)]
pub struct VersionInfo {
    pub version: u32,
    pub services: ServiceFlags,
    pub user_agent: String,
    pub start_height: i32,
    pub relay: bool,
}

/// A peer's mutable state.
#[derive(Default)]
pub struct PeerState {
    pub version: Option<VersionInfo>,
    /// The handshake is complete (their `verack` arrived).
    pub ready: bool,
    pub wtxid_relay: bool,
    pub prefers_headers: bool,
    /// Their `feefilter`, sat/kvB.
    pub fee_filter: u64,
    pub last_send: i64,
    pub last_recv: i64,
    pub last_tx: i64,
    pub last_block: i64,
    /// An unanswered ping: nonce and when it went.
    pub ping: Option<(u64, Instant)>,
    pub last_ping_sent: Option<Instant>,
    pub ping_time: Option<f64>,
    pub min_ping: Option<f64>,
    /// The best block (header) we know the peer has.
    pub best_known: Option<(BlockHash, u32)>,
    /// The best block both of us have.
    pub synced_blocks: Option<u32>,
    /// Transactions (by the id the peer relays with) the peer knows.
    pub known_txs: HashSet<[u8; 32]>,
    pub sent_per_msg: BTreeMap<String, u64>,
    pub received_per_msg: BTreeMap<String, u64>,
}

pub struct Peer {
    pub id: PeerId,
    pub addr: SocketAddr,
    pub local: SocketAddr,
    pub kind: ConnectionType,
    /// The `addnode`/`-connect` text this connection was made for.
    pub target: Option<String>,
    pub connected_at: i64,
    outbox: mpsc::UnboundedSender<(String, Vec<u8>)>,
    /// Bytes in the outbox, not yet written.
    queued: AtomicU64,
    /// Signalled by the writer as the outbox drains.
    drained: tokio::sync::Notify,
    magic: bitcoin::p2p::Magic,
    state: Mutex<PeerState>,
    closing: AtomicBool,
    close_signal: tokio::sync::Notify,
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
}

impl Peer {
    pub fn new(
        id: PeerId,
        addr: SocketAddr,
        local: SocketAddr,
        kind: ConnectionType,
        target: Option<String>,
        now: i64,
        magic: bitcoin::p2p::Magic,
    ) -> (Arc<Peer>, mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
        let (outbox, queue) = mpsc::unbounded_channel();
        let peer = Peer {
            id,
            addr,
            local,
            kind,
            target,
            connected_at: now,
            outbox,
            queued: AtomicU64::new(0),
            drained: tokio::sync::Notify::new(),
            magic,
            state: Mutex::new(PeerState::default()),
            closing: AtomicBool::new(false),
            close_signal: tokio::sync::Notify::new(),
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
        };
        (Arc::new(peer), queue)
    }

    pub fn inbound(&self) -> bool {
        self.kind == ConnectionType::Inbound
    }

    pub fn state(&self) -> MutexGuard<'_, PeerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `message`, framed; dropped if the connection is going.
    pub fn send(&self, message: NetworkMessage) {
        if self.is_closing() {
            return;
        }
        let command = message.cmd().to_string();
        let bytes = frame::encode_message(self.magic, message);
        self.queued.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        let _ = self.outbox.send((command, bytes));
    }

    /// Waits while the outbox holds more than [`MAX_SEND_BUFFER`].
    pub(super) async fn wait_for_room(&self) {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.queued.load(Ordering::SeqCst) <= MAX_SEND_BUFFER || self.is_closing() {
                return;
            }
            drained.await;
        }
    }

    /// Asks the connection to close; its tasks end and it is forgotten.
    pub fn disconnect(&self) {
        if !self.closing.swap(true, Ordering::SeqCst) {
            self.close_signal.notify_waiters();
            self.close_signal.notify_one();
        }
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Whether the handshake is done.
    pub fn is_ready(&self) -> bool {
        self.state().ready
    }
}

/// Carries `peer`'s connection until either side ends it.
pub async fn run(
    connman: Arc<Connman>,
    peer: Arc<Peer>,
    stream: TcpStream,
    outbox: mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    let (reader, writer) = stream.into_split();
    let writing = tokio::spawn(write_loop(connman.clone(), peer.clone(), writer, outbox));
    read_loop(&connman, &peer, reader).await;
    peer.disconnect();
    writing.abort();
    connman.log_net(format!("disconnecting peer={}", peer.id));
    connman.closed(&peer);
}

async fn read_loop(
    connman: &Arc<Connman>,
    peer: &Arc<Peer>,
    reader: tokio::net::tcp::OwnedReadHalf,
) {
    let magic = connman.config.magic;
    let mut timer = tokio::time::interval(Duration::from_secs(1));
    let started = Instant::now();
    // One read future lives across the timer's ticks: dropping it part
    // way through a frame would lose the bytes it had consumed.
    let reading = read_next(BufReader::new(reader), magic);
    tokio::pin!(reading);
    loop {
        let (reader, frame) = tokio::select! {
            done = &mut reading => done,
            () = peer.close_signal.notified() => return,
            _ = timer.tick() => {
                if !keep_alive(connman, peer, started) {
                    return;
                }
                continue;
            }
        };
        let now = connman.node.now() as i64;
        match frame {
            Ok(Frame::Message {
                message,
                size,
                command,
            }) => {
                // Unknown commands are counted together, so made-up names
                // cannot grow the table without end.
                let command = match message {
                    NetworkMessage::Unknown { .. } => "*other*",
                    _ => command.as_str(),
                };
                account_received(connman, peer, command, size, now);
                connman.process(peer, message).await;
            }
            Ok(Frame::BadChecksum {
                command,
                length,
                expected,
                found,
            }) => {
                account_received(connman, peer, "*other*", length as usize + 24, now);
                connman.log_net(format!(
                    "Header error: Wrong checksum ({command}, {length} bytes), expected {expected} was {found}, peer={}",
                    peer.id
                ));
            }
            Ok(Frame::Malformed {
                command,
                length,
                error,
            }) => {
                account_received(connman, peer, "*other*", length as usize + 24, now);
                connman.log_net(format!(
                    "ProcessMessages({command}, {length} bytes): Exception '{error}' caught, peer={}",
                    peer.id
                ));
            }
            Err(FrameError::Io(_)) => return,
            Err(error) => {
                connman.log_net(format!("Header error: {error}, peer={}", peer.id));
                return;
            }
        }
        if peer.is_closing() {
            return;
        }
        // Nothing more is read from a peer whose answers pile up unread
        // (the timers still run meanwhile).
        loop {
            tokio::select! {
                () = peer.wait_for_room() => break,
                () = peer.close_signal.notified() => return,
                _ = timer.tick() => {
                    if !keep_alive(connman, peer, started) {
                        return;
                    }
                }
            }
        }
        reading.set(read_next(reader, magic));
    }
}

type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

/// Reads one frame, handing the reader back with it.
async fn read_next(
    mut reader: Reader,
    magic: bitcoin::p2p::Magic,
) -> (Reader, Result<Frame, FrameError>) {
    let frame = frame::read_frame(&mut reader, magic).await;
    (reader, frame)
}

fn account_received(connman: &Connman, peer: &Peer, command: &str, size: usize, now: i64) {
    peer.bytes_received
        .fetch_add(size as u64, Ordering::Relaxed);
    connman
        .bytes_received
        .fetch_add(size as u64, Ordering::Relaxed);
    let mut state = peer.state();
    state.last_recv = now;
    *state
        .received_per_msg
        .entry(command.to_string())
        .or_default() += size as u64;
}

/// The once-a-second checks: silence after connecting, ping timeouts,
/// pings due. False when the peer is to be dropped.
fn keep_alive(connman: &Connman, peer: &Peer, started: Instant) -> bool {
    let mut state = peer.state();
    let timeout = connman.config.peer_timeout;
    if (state.last_recv == 0 || state.last_send == 0) && started.elapsed() > timeout {
        let (received, sent) = (state.last_recv != 0, state.last_send != 0);
        drop(state);
        connman.log_net(format!(
            "socket no message in first {} seconds, {} {} peer={}",
            timeout.as_secs(),
            u8::from(received),
            u8::from(sent),
            peer.id
        ));
        return false;
    }
    if !state.ready && started.elapsed() > timeout {
        drop(state);
        connman.log_net(format!("version handshake timeout peer={}", peer.id));
        return false;
    }
    let now = connman.node.now() as i64;
    let limit = TIMEOUT_INTERVAL.as_secs() as i64;
    // As Core's ShouldRunInactivityChecks: no verdict on silence within
    // -peertimeout of connecting. The handshake can be done before the
    // writer has recorded its first send (last_send still 0), and a busy
    // machine made that look like 20 minutes of silence.
    let checks_due = started.elapsed() > timeout;
    if checks_due && state.ready && now - state.last_send > limit {
        drop(state);
        connman.log_net(format!("socket sending timeout: {limit}s peer={}", peer.id));
        return false;
    }
    if checks_due && state.ready && now - state.last_recv > limit {
        drop(state);
        connman.log_net(format!("socket receive timeout: {limit}s peer={}", peer.id));
        return false;
    }
    if let Some((_, sent)) = state.ping {
        if sent.elapsed() > TIMEOUT_INTERVAL {
            drop(state);
            connman.log_net(format!(
                "ping timeout: {:.6}s peer={}",
                TIMEOUT_INTERVAL.as_secs_f64(),
                peer.id
            ));
            return false;
        }
    } else if state.ready
        && state
            .last_ping_sent
            .is_none_or(|sent| sent.elapsed() >= PING_INTERVAL)
    {
        let nonce = rand_nonce();
        state.ping = Some((nonce, Instant::now()));
        state.last_ping_sent = Some(Instant::now());
        drop(state);
        peer.send(NetworkMessage::Ping(nonce));
    }
    true
}

/// `ping` RPC: a ping to every peer at the next tick.
pub fn request_ping(peer: &Peer) {
    let mut state = peer.state();
    if state.ping.is_none() {
        state.last_ping_sent = None;
    }
}

pub fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // A fresh random SipHash key per call: enough for nonces.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.finish()
}

async fn write_loop(
    connman: Arc<Connman>,
    peer: Arc<Peer>,
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut outbox: mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    while let Some((command, bytes)) = outbox.recv().await {
        let written = writer.write_all(&bytes).await;
        let size = bytes.len() as u64;
        peer.queued.fetch_sub(size, Ordering::SeqCst);
        peer.drained.notify_waiters();
        if written.is_err() {
            peer.disconnect();
            return;
        }
        peer.bytes_sent.fetch_add(size, Ordering::Relaxed);
        connman.bytes_sent.fetch_add(size, Ordering::Relaxed);
        let mut state = peer.state();
        state.last_send = connman.node.now() as i64;
        *state.sent_per_msg.entry(command).or_default() += size;
    }
}
