//! Peer-to-peer networking with Bitcoin's wire protocol: the connection
//! manager ([`Connman`], Core's name), which listens on `-port`/`-bind`,
//! keeps `-connect`/`-addnode` peers connected and knows every peer; the
//! frame codec ([`frame`]); one task pair per connection ([`peer`]);
//! message handling ([`handle`]); headers-first block download
//! ([`sync`]); transaction relay and orphans ([`relay`]); and bans
//! ([`ban`]).

pub mod ban;
pub mod frame;
mod handle;
pub mod peer;
mod relay;
mod sync;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bitcoin::p2p::Magic;
use common::logging::LogCategory;
use tokio::net::{TcpListener, TcpStream};

use crate::context::Node;
use ban::BanList;
pub use handle::local_services;
use peer::{ConnectionType, Peer, PeerId};

/// Bitcoin Core's protocol version (wtxid relay, BIP 339).
pub const PROTOCOL_VERSION: u32 = 70016;

/// How the node was asked to network.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub magic: Magic,
    /// Addresses to listen on; empty with `-listen=0`.
    pub listen: Vec<SocketAddr>,
    /// `-connect` peers (manual, kept connected).
    pub connect: Vec<String>,
    /// `-addnode` peers (manual, kept connected).
    pub addnode: Vec<String>,
    /// `-maxconnections`.
    pub max_connections: usize,
    /// `-peertimeout`: a peer silent this long after connecting is dropped.
    pub peer_timeout: Duration,
    /// Where bans are kept.
    pub banlist: std::path::PathBuf,
}

/// The node's peers and everything shared between them.
pub struct Connman {
    pub node: Arc<Node>,
    pub config: NetConfig,
    peers: Mutex<BTreeMap<PeerId, Arc<Peer>>>,
    next_id: AtomicU64,
    /// `addnode ... add` and `-addnode`, in the order added.
    added: Mutex<Vec<String>>,
    bans: Mutex<BanList>,
    active: AtomicBool,
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    sync: Mutex<sync::SyncState>,
    relay: Mutex<relay::RelayState>,
    /// Nonces of our own outbound `version`s, to notice connecting to
    /// ourselves.
    local_nonces: Mutex<Vec<u64>>,
    stopping: AtomicBool,
    stop_signal: tokio::sync::Notify,
    /// Where connection tasks run (RPC threads start some).
    runtime: tokio::runtime::Handle,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, letting the runtime move other tasks off this thread first
/// when it can (chainstate and mempool work touches the disk).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Connman {
    /// Binds the listeners, then starts accepting, the manual connections,
    /// block announcement and transaction relay on `runtime`.
    pub fn start(
        node: Arc<Node>,
        config: NetConfig,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Arc<Connman>, String> {
        let (bans, problem) = BanList::load(config.banlist.clone(), node.now() as i64);
        if let Some(problem) = problem {
            node.log(format!("Warning: {problem}"));
        }
        let mut listeners = Vec::new();
        let mut failures = Vec::new();
        for address in &config.listen {
            let bound = std::net::TcpListener::bind(address).and_then(|listener| {
                listener.set_nonblocking(true)?;
                Ok(listener)
            });
            match bound {
                Ok(listener) => {
                    node.log(format!("Bound to {address}"));
                    listeners.push(listener);
                }
                Err(e) => failures.push(format!(
                    "Unable to bind to {address} on this computer. c1pzo is probably already running. ({e})"
                )),
            }
        }
        // The wildcard pair (IPv6 and IPv4) needs one of the two to work;
        // explicit `-bind` addresses each must.
        let wildcard = config.listen.iter().all(|a| a.ip().is_unspecified());
        if !failures.is_empty() && (!wildcard || listeners.is_empty()) {
            return Err(failures.join("; "));
        }
        let connman = Arc::new(Connman {
            node: node.clone(),
            added: Mutex::new(config.addnode.clone()),
            config,
            peers: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            bans: Mutex::new(bans),
            active: AtomicBool::new(true),
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            sync: Mutex::new(sync::SyncState::default()),
            relay: Mutex::new(relay::RelayState::default()),
            local_nonces: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            stop_signal: tokio::sync::Notify::new(),
            runtime: runtime.clone(),
        });
        let _ = node.net.set(Arc::downgrade(&connman));
        let _guard = runtime.enter();
        for listener in listeners {
            let listener = TcpListener::from_std(listener).map_err(|e| e.to_string())?;
            tokio::spawn(connman.clone().accept(listener));
        }
        for target in connman.config.connect.clone() {
            tokio::spawn(connman.clone().keep_connected(target));
        }
        for target in connman.config.addnode.clone() {
            tokio::spawn(connman.clone().keep_connected(target));
        }
        tokio::spawn(connman.clone().announce_blocks());
        tokio::spawn(connman.clone().trickle_transactions());
        tokio::spawn(connman.clone().check_stalls());
        Ok(connman)
    }

    /// Disconnects every peer and stops accepting.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_signal.notify_waiters();
        for peer in self.peers() {
            peer.disconnect();
        }
    }

    pub fn log_net(&self, message: String) {
        self.node.log_debug(LogCategory::Net, message);
    }

    pub fn peers(&self) -> Vec<Arc<Peer>> {
        lock(&self.peers).values().cloned().collect()
    }

    pub fn peer(&self, id: PeerId) -> Option<Arc<Peer>> {
        lock(&self.peers).get(&id).cloned()
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    /// `setnetworkactive`: off drops every peer and refuses new ones.
    pub fn set_active(&self, active: bool) {
        if self.active.swap(active, Ordering::SeqCst) != active {
            self.node.log(format!(
                "SetNetworkActive: {}",
                if active { "true" } else { "false" }
            ));
        }
        if !active {
            for peer in self.peers() {
                peer.disconnect();
            }
        }
    }

    pub fn bans(&self) -> MutexGuard<'_, BanList> {
        lock(&self.bans)
    }

    /// After a new ban: peers it covers go.
    pub fn enforce_bans(&self) {
        let now = self.node.now() as i64;
        let bans = self.bans();
        for peer in self.peers() {
            if bans.is_banned(peer.addr.ip(), now) {
                peer.disconnect();
            }
        }
    }

    pub fn added_nodes(&self) -> Vec<String> {
        lock(&self.added).clone()
    }

    /// `addnode <node> add`; false if it was added already.
    pub fn add_node(self: &Arc<Self>, target: &str) -> bool {
        let mut added = lock(&self.added);
        if added.iter().any(|a| a == target) {
            return false;
        }
        added.push(target.to_string());
        drop(added);
        self.runtime
            .spawn(self.clone().keep_connected(target.to_string()));
        true
    }

    /// `addnode <node> remove`; false if it was never added.
    pub fn remove_node(&self, target: &str) -> bool {
        let mut added = lock(&self.added);
        let before = added.len();
        added.retain(|a| a != target);
        added.len() != before
    }

    /// `addnode <node> onetry`: one attempt, in the background.
    pub fn connect_once(self: &Arc<Self>, target: &str) {
        let connman = self.clone();
        let target = target.to_string();
        self.runtime.spawn(async move {
            connman.connect_to(&target).await;
        });
    }

    /// The peer connected to `target` ("host:port"), if any.
    pub fn find_by_target(&self, target: &str) -> Option<Arc<Peer>> {
        self.peers()
            .into_iter()
            .find(|p| p.target.as_deref() == Some(target) || p.addr.to_string() == target)
    }

    async fn accept(self: Arc<Self>, listener: TcpListener) {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = self.stop_signal.notified() => return,
            };
            let (stream, from) = match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors, say: keep the peers we have.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let from = unmapped(from);
            let now = self.node.now() as i64;
            let refusal = if !self.is_active() {
                Some("not accepting new connections")
            } else if self.bans().is_banned(from.ip(), now) {
                Some("banned")
            } else if self.bans().is_discouraged(from.ip())
                && self.inbound_count() + 1 >= self.max_inbound()
            {
                // Core lets discouraged addresses in while slots are free.
                Some("discouraged")
            } else if self.inbound_count() >= self.max_inbound() {
                Some("full")
            } else {
                None
            };
            if let Some(reason) = refusal {
                self.log_net(format!("connection from {from} dropped ({reason})"));
                continue;
            }
            self.open(stream, ConnectionType::Inbound, None);
        }
    }

    fn inbound_count(&self) -> usize {
        lock(&self.peers).values().filter(|p| p.inbound()).count()
    }

    /// Inbound slots: `-maxconnections` less the outbound peers we have.
    fn max_inbound(&self) -> usize {
        let outbound = lock(&self.peers).values().filter(|p| !p.inbound()).count();
        self.config.max_connections.saturating_sub(outbound)
    }

    /// Keeps trying `target` while it stays added (or, for `-connect`,
    /// forever): at once, then every few seconds while disconnected.
    async fn keep_connected(self: Arc<Self>, target: String) {
        let permanent = self.config.connect.contains(&target);
        loop {
            if self.stopping.load(Ordering::SeqCst)
                || (!permanent && !self.added_nodes().contains(&target))
            {
                return;
            }
            if self.is_active() && self.find_by_target(&target).is_none() {
                self.connect_to(&target).await;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                () = self.stop_signal.notified() => return,
            }
        }
    }

    /// One outbound attempt to `target`.
    async fn connect_to(self: &Arc<Self>, target: &str) {
        if !self.is_active() || self.find_by_target(target).is_some() {
            return;
        }
        let Some(address) = resolve(target, default_port(self.config.magic)).await else {
            self.node
                .log(format!("Cannot resolve -addnode address '{target}'"));
            return;
        };
        if self.bans().is_banned(address.ip(), self.node.now() as i64) {
            return;
        }
        let connected = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(address));
        match connected.await {
            Ok(Ok(stream)) => {
                self.open(stream, ConnectionType::Manual, Some(target.to_string()));
            }
            Ok(Err(e)) => self.log_net(format!("connection attempt to {address} failed: {e}")),
            Err(_) => self.log_net(format!("connection attempt to {address} timed out")),
        }
    }

    /// Registers a new connection and starts its tasks.
    fn open(self: &Arc<Self>, stream: TcpStream, kind: ConnectionType, target: Option<String>) {
        let (Ok(addr), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
            return;
        };
        let (addr, local) = (unmapped(addr), unmapped(local));
        let _ = stream.set_nodelay(true);
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (peer, outbox) = Peer::new(
            id,
            addr,
            local,
            kind,
            target,
            self.node.now() as i64,
            self.config.magic,
        );
        lock(&self.peers).insert(id, peer.clone());
        if kind == ConnectionType::Inbound {
            self.log_net(format!("Added connection peer={id}"));
        } else {
            self.log_net(format!("Added connection to {addr} peer={id}"));
            self.send_version(&peer);
        }
        self.runtime
            .spawn(peer::run(self.clone(), peer, stream, outbox));
    }

    /// Forgets a peer whose connection ended.
    fn closed(&self, peer: &Peer) {
        lock(&self.peers).remove(&peer.id);
        lock(&self.sync).peer_gone(peer.id);
        lock(&self.relay).peer_gone(peer.id);
        self.log_net(format!("Cleared nodestate for peer={}", peer.id));
    }

    /// Core's reaction to a peer breaking the rules: disconnect it, and
    /// discourage its address unless it is local or manually connected.
    pub fn misbehaving(&self, peer: &Peer, reason: &str) {
        self.log_net(format!("Misbehaving: peer={}: {reason}", peer.id));
        if peer.kind == ConnectionType::Manual {
            self.node.log(format!(
                "Warning: not punishing manually connected peer {}!",
                peer.id
            ));
            return;
        }
        if is_local(peer.addr.ip()) {
            self.node.log(format!(
                "Warning: disconnecting but not discouraging local peer {}!",
                peer.id
            ));
        } else {
            self.log_net(format!("Disconnecting and discouraging peer {}!", peer.id));
            self.bans().discourage(peer.addr.ip());
        }
        peer.disconnect();
    }
}

/// An IPv4 peer reached through a dual-stack socket, as IPv4.
fn unmapped(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), address.port()),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

/// Loopback and unspecified addresses (Core's `IsLocal`).
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// The P2P port of the network whose magic is `magic`.
pub fn default_port(magic: Magic) -> u16 {
    match magic {
        Magic::BITCOIN => 8333,
        Magic::TESTNET3 => 18333,
        Magic::SIGNET => 38333,
        _ => 18444,
    }
}

/// A numeric `ip`, `ip:port` or `[v6]:port` (`-bind`, `-connect`,
/// `addnode`), with `default_port` when none is given.
pub fn parse_address(text: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Some(address);
    }
    let ip = text.trim_matches(['[', ']']).parse::<IpAddr>().ok()?;
    Some(SocketAddr::new(ip, default_port))
}

/// As [`parse_address`], or a host name looked up through tokio's
/// resolver (off the runtime's threads).
async fn resolve(target: &str, default_port: u16) -> Option<SocketAddr> {
    if let Some(address) = parse_address(target, default_port) {
        return Some(address);
    }
    let with_port = if target.contains(':') {
        target.to_string()
    } else {
        format!("{target}:{default_port}")
    };
    tokio::net::lookup_host(with_port).await.ok()?.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connman(dir: &std::path::Path, runtime: &tokio::runtime::Runtime) -> Arc<Connman> {
        let chainstate = chain::ChainState::open(
            &dir.join("chainstate.redb"),
            chain::Consensus::regtest(),
            &bitcoin::constants::genesis_block(bitcoin::Network::Regtest),
        )
        .unwrap();
        let node = Node::new(
            chainstate,
            bitcoin::Network::Regtest,
            "regtest",
            false,
            common::logging::Logger::disabled(),
        );
        let config = NetConfig {
            magic: Magic::REGTEST,
            listen: vec![],
            connect: vec![],
            addnode: vec![],
            max_connections: 125,
            peer_timeout: Duration::from_secs(60),
            banlist: dir.join("banlist.json"),
        };
        Connman::start(node, config, runtime.handle()).unwrap()
    }

    /// Core's reaction to misbehaviour: a remote inbound peer is dropped
    /// and its address discouraged; a local one only dropped; a manual
    /// one kept. (The functional tests can only reach the local case.)
    #[test]
    fn misbehaving_discourages_remote_peers_only() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let connman = connman(dir.path(), &runtime);
        let local: SocketAddr = "192.0.2.1:18444".parse().unwrap();
        let cases = [
            ("203.0.113.7:18444", ConnectionType::Inbound, true, true),
            ("127.0.0.1:5000", ConnectionType::Inbound, false, true),
            (
                "[::ffff:127.0.0.1]:5001",
                ConnectionType::Inbound,
                false,
                true,
            ),
            ("198.51.100.2:18444", ConnectionType::Manual, false, false),
        ];
        for (address, kind, discouraged, dropped) in cases {
            let address: SocketAddr = address.parse().unwrap();
            let (peer, _outbox) = Peer::new(1, address, local, kind, None, 0, Magic::REGTEST);
            connman.misbehaving(&peer, "a test");
            assert_eq!(
                connman.bans().is_discouraged(address.ip()),
                discouraged,
                "{address} discouraged"
            );
            assert_eq!(peer.is_closing(), dropped, "{address} dropped");
        }
        // Discouragement is not a ban: listbanned stays empty.
        assert!(connman.bans().list(0).is_empty());
        connman.stop();
    }

    #[tokio::test]
    async fn targets_resolve_with_the_network_port() {
        assert_eq!(
            resolve("127.0.0.1", 18444).await,
            Some("127.0.0.1:18444".parse().unwrap())
        );
        assert_eq!(
            resolve("[::1]:9", 18444).await,
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(
            resolve("::1", 18444).await,
            Some("[::1]:18444".parse().unwrap())
        );
        assert_eq!(
            unmapped("[::ffff:10.0.0.1]:7".parse().unwrap()),
            "10.0.0.1:7".parse().unwrap()
        );
    }
}
