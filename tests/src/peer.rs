//! `TestPeer`: a raw P2P peer on a blocking TCP socket, speaking the v1
//! wire format with rust-bitcoin's messages. It can also write frames the
//! node must refuse (bad checksum, wrong magic, oversized, garbage). Every
//! read is bounded by a deadline; a `ping` from the node is answered with
//! its `pong` whenever the peer reads.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::timeouts::timeout_factor;
use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::p2p::message::{CommandString, NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_network::VersionMessage;
use bitcoin::p2p::{Address, Magic, ServiceFlags};

/// The regtest network's message start.
pub const REGTEST_MAGIC: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];
/// Mainnet's, for frames the node must refuse.
pub const MAINNET_MAGIC: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];
/// The largest payload a node accepts.
pub const MAX_PAYLOAD: u32 = 4_000_000;
pub const PROTOCOL_VERSION: u32 = 70016;
pub const USER_AGENT: &str = "/c1pzo-test-peer:0.1/";
/// The longest a frame's payload may be before this peer gives up on it
/// (the node never sends one this large).
const READ_LIMIT: usize = MAX_PAYLOAD as usize + 1_000_000;

/// Why a read ended without a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvError {
    /// Nothing (or not a whole frame) arrived before the deadline.
    Timeout,
    /// The node closed the connection (EOF) or reset it.
    Closed(String),
    /// The node sent something that is not a v1 frame.
    Malformed(String),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Timeout => write!(f, "timed out"),
            RecvError::Closed(why) => write!(f, "connection closed: {why}"),
            RecvError::Malformed(why) => write!(f, "malformed frame: {why}"),
        }
    }
}

pub struct TestPeer {
    stream: TcpStream,
    /// Bytes read but not yet parsed into a frame.
    buffer: Vec<u8>,
    /// The command of every message received, in order.
    pub received: Vec<String>,
    /// The node's `version`, once the handshake saw it.
    pub node_version: Option<VersionMessage>,
}

impl TestPeer {
    /// Opens a TCP connection to the node's P2P port on 127.0.0.1.
    pub fn connect(port: u16) -> std::io::Result<TestPeer> {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&address, crate::scaled(10))?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(TestPeer {
            stream,
            buffer: Vec::new(),
            received: Vec::new(),
            node_version: None,
        })
    }

    /// As [`TestPeer::connect`], then [`TestPeer::handshake`]; panics on
    /// failure.
    pub fn connected(port: u16) -> TestPeer {
        let mut peer = TestPeer::connect(port).expect("the node accepts a TCP connection");
        if let Err(e) = peer.handshake() {
            panic!("the handshake with the node failed: {e}");
        }
        peer
    }

    /// This end's address, as the node lists it in `getpeerinfo` `addr`.
    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("a connected socket")
    }

    /// The version message this peer sends.
    pub fn version_message(&self) -> VersionMessage {
        let remote = self
            .stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        VersionMessage {
            version: PROTOCOL_VERSION,
            services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
            timestamp: now.as_secs() as i64,
            receiver: Address::new(&remote, ServiceFlags::NONE),
            sender: Address::new(&self.local_addr(), ServiceFlags::NONE),
            nonce: nonce(),
            user_agent: USER_AGENT.to_string(),
            start_height: 0,
            relay: true,
        }
    }

    /// As [`TestPeer::connected`], with [`TestPeer::handshake_with`]
    /// sending `before_verack`.
    pub fn connected_with(port: u16, before_verack: &[NetworkMessage]) -> TestPeer {
        let mut peer = TestPeer::connect(port).expect("the node accepts a TCP connection");
        if let Err(e) = peer.handshake_with(before_verack) {
            panic!("the handshake with the node failed: {e}");
        }
        peer
    }

    /// Sends `version`, then reads until the node's `version` and
    /// `verack` are in (answering the `version` with `verack`), 10 s at
    /// most. Returns the node's version message.
    pub fn handshake(&mut self) -> Result<VersionMessage, String> {
        self.handshake_with(&[])
    }

    /// As [`TestPeer::handshake`], sending `before_verack` (say
    /// [`negotiation`]'s `wtxidrelay` and `sendaddrv2`) between the node's
    /// `version` and this peer's `verack`.
    pub fn handshake_with(
        &mut self,
        before_verack: &[NetworkMessage],
    ) -> Result<VersionMessage, String> {
        let version = self.version_message();
        self.send(NetworkMessage::Version(version))
            .map_err(|e| format!("sending version: {e}"))?;
        let deadline = Instant::now() + crate::scaled(10);
        let mut got_verack = false;
        while self.node_version.is_none() || !got_verack {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left) {
                Ok(NetworkMessage::Version(theirs)) => {
                    self.node_version = Some(theirs);
                    for message in before_verack {
                        self.send(message.clone())
                            .map_err(|e| format!("sending {}: {e}", message.cmd()))?;
                    }
                    self.send(NetworkMessage::Verack)
                        .map_err(|e| format!("sending verack: {e}"))?;
                }
                Ok(NetworkMessage::Verack) => got_verack = true,
                Ok(_) => {}
                Err(e) => return Err(format!("{e} (received so far: {:?})", self.received)),
            }
        }
        Ok(self.node_version.clone().expect("set above"))
    }

    /// Sends one message in a regtest v1 frame.
    pub fn send(&mut self, message: NetworkMessage) -> std::io::Result<()> {
        let raw = RawNetworkMessage::new(Magic::from_bytes(REGTEST_MAGIC), message);
        self.send_raw(&serialize(&raw))
    }

    /// Writes `bytes` as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// A v1 frame: magic, the command NUL-padded to 12 bytes, the payload's
    /// length (u32 LE), its checksum (the first four bytes of its double
    /// SHA-256) and the payload. Either override replaces the right value.
    pub fn frame(
        command: &str,
        payload: &[u8],
        checksum_override: Option<[u8; 4]>,
        magic_override: Option<[u8; 4]>,
    ) -> Vec<u8> {
        assert!(command.len() <= 12, "a command has at most 12 bytes");
        let mut frame = Vec::with_capacity(24 + payload.len());
        frame.extend_from_slice(&magic_override.unwrap_or(REGTEST_MAGIC));
        let mut name = [0u8; 12];
        name[..command.len()].copy_from_slice(command.as_bytes());
        frame.extend_from_slice(&name);
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&checksum_override.unwrap_or_else(|| checksum(payload)));
        frame.extend_from_slice(payload);
        frame
    }

    /// The next message, within `timeout`. A `ping` is answered before it
    /// is returned. A frame rust-bitcoin cannot decode comes back as
    /// `NetworkMessage::Unknown` with its command and payload.
    pub fn recv(&mut self, timeout: Duration) -> Result<NetworkMessage, RecvError> {
        self.recv_before(Instant::now() + timeout.mul_f64(timeout_factor()))
    }

    /// The next message, before `deadline`.
    fn recv_before(&mut self, deadline: Instant) -> Result<NetworkMessage, RecvError> {
        self.fill(24, deadline)?;
        if self.buffer[..4] != REGTEST_MAGIC {
            return Err(RecvError::Malformed(format!(
                "magic {:02x?}",
                &self.buffer[..4]
            )));
        }
        let length = u32::from_le_bytes(self.buffer[16..20].try_into().expect("4 bytes")) as usize;
        if length > READ_LIMIT {
            return Err(RecvError::Malformed(format!("payload of {length} bytes")));
        }
        self.fill(24 + length, deadline)?;
        let bytes: Vec<u8> = self.buffer.drain(..24 + length).collect();
        let payload = &bytes[24..];
        if bytes[20..24] != checksum(payload) {
            return Err(RecvError::Malformed("bad checksum".to_string()));
        }
        let command = String::from_utf8_lossy(&bytes[4..16])
            .trim_end_matches('\0')
            .to_string();
        let message = match deserialize::<RawNetworkMessage>(&bytes) {
            Ok(raw) => raw.into_payload(),
            Err(_) => NetworkMessage::Unknown {
                command: CommandString::try_from(command.clone())
                    .unwrap_or_else(|_| CommandString::try_from_static("invalid").unwrap()),
                payload: payload.to_vec(),
            },
        };
        self.received.push(command);
        if let NetworkMessage::Ping(nonce) = message {
            // A closed socket shows on the next read.
            let _ = self.send(NetworkMessage::Pong(nonce));
        }
        Ok(message)
    }

    /// Reads until a message satisfies `matches`, within `timeout`;
    /// returns that message.
    pub fn recv_until(
        &mut self,
        mut matches: impl FnMut(&NetworkMessage) -> bool,
        timeout: Duration,
    ) -> Result<NetworkMessage, RecvError> {
        let deadline = Instant::now() + timeout.mul_f64(timeout_factor());
        loop {
            if Instant::now() >= deadline {
                return Err(RecvError::Timeout);
            }
            let message = self.recv_before(deadline)?;
            if matches(&message) {
                return Ok(message);
            }
        }
    }

    /// Sends a `ping` and waits for the first `pong`; returns its nonce.
    pub fn ping_pong(&mut self, nonce: u64, timeout: Duration) -> Result<u64, RecvError> {
        self.send(NetworkMessage::Ping(nonce))
            .map_err(|e| RecvError::Closed(e.to_string()))?;
        match self.recv_until(|m| matches!(m, NetworkMessage::Pong(_)), timeout)? {
            NetworkMessage::Pong(n) => Ok(n),
            _ => unreachable!("matched a pong"),
        }
    }

    /// Whether the node closes the connection within `timeout` (reads,
    /// discarding what arrives, until EOF or a reset).
    pub fn expect_disconnect(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout.mul_f64(timeout_factor());
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = self
                .stream
                .set_read_timeout(Some(left.min(Duration::from_millis(200))));
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Whether the connection is still open after `duration` of reading
    /// (pings answered, messages kept in `received`).
    pub fn is_connected_after(&mut self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            match self.recv(left) {
                Ok(_) | Err(RecvError::Timeout) => {}
                Err(RecvError::Closed(_)) => return false,
                // Keep reading raw bytes: only EOF says closed.
                Err(RecvError::Malformed(_)) => return !self.expect_disconnect(left),
            }
        }
    }

    /// Closes this end.
    pub fn close(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Reads until the buffer holds `wanted` bytes or the deadline passes.
    fn fill(&mut self, wanted: usize, deadline: Instant) -> Result<(), RecvError> {
        let mut chunk = [0u8; 64 * 1024];
        while self.buffer.len() < wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RecvError::Timeout);
            }
            // A zero timeout would mean "block forever".
            let _ = self
                .stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(RecvError::Closed("EOF".to_string())),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(RecvError::Closed(e.to_string())),
            }
        }
        Ok(())
    }
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        self.close();
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// What a peer relaying by wtxid (BIP 339) and taking addrv2 (BIP 155)
/// sends before its `verack`.
pub fn negotiation() -> Vec<NetworkMessage> {
    vec![NetworkMessage::WtxidRelay, NetworkMessage::SendAddrV2]
}

/// The first four bytes of the double SHA-256 of `payload`.
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    let hash = sha256d::Hash::hash(payload);
    hash.as_byte_array()[..4].try_into().expect("4 bytes")
}

/// A nonce that differs between peers and runs.
pub fn nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64 of the mix, so that nearby inputs spread.
    let mut z = time ^ (u64::from(std::process::id()) << 32) ^ count.wrapping_mul(0x9e37_79b9);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `count` pseudo-random bytes from `seed` (not starting with either
/// network's magic).
pub fn garbage(seed: u64, count: usize) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes: Vec<u8> = (0..count)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    if bytes.len() >= 4 && (bytes[..4] == REGTEST_MAGIC || bytes[..4] == MAINNET_MAGIC) {
        bytes[0] ^= 0xff;
    }
    bytes
}
