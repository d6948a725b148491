//! What the node does with each message a peer sends: the handshake,
//! pings, and handing blocks, headers and transactions to [`super::sync`]
//! and [`super::relay`].

use std::sync::Arc;
use std::time::Instant;

use bitcoin::p2p::address::Address;
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_network::VersionMessage;
use bitcoin::p2p::ServiceFlags;

use super::peer::{Peer, VersionInfo};
use super::{Connman, PROTOCOL_VERSION};

/// The oldest protocol version Core talks to (`MIN_PEER_PROTO_VERSION`).
const MIN_PEER_VERSION: u32 = 31800;
/// Versions that understand `sendheaders` (BIP 130).
const SENDHEADERS_VERSION: u32 = 70012;
/// Versions that understand `wtxidrelay` (BIP 339).
const WTXID_RELAY_VERSION: u32 = 70016;
/// The longest user agent kept (Core's `MAX_SUBVERSION_LENGTH`).
const MAX_USER_AGENT: usize = 256;
/// The relay fee we tell peers (`feefilter`), sat/kvB.
const MIN_RELAY_FEE: i64 = 1000;

/// The services this node offers: blocks and witnesses, no bloom filters
/// or compact blocks.
pub fn local_services() -> ServiceFlags {
    ServiceFlags::NETWORK | ServiceFlags::WITNESS
}

impl Connman {
    /// Sends our `version` (on connecting out, or in answer to an inbound
    /// peer's).
    pub(super) fn send_version(&self, peer: &Peer) {
        let nonce = super::peer::rand_nonce();
        if !peer.inbound() {
            let mut nonces = self.local_nonces.lock().unwrap_or_else(|e| e.into_inner());
            nonces.push(nonce);
            // Only recent connections can loop back to us.
            if nonces.len() > 64 {
                nonces.remove(0);
            }
        }
        let height = self.node.chain().height();
        let message = VersionMessage {
            version: PROTOCOL_VERSION,
            services: local_services(),
            timestamp: self.node.now() as i64,
            receiver: Address::new(&peer.addr, ServiceFlags::NONE),
            sender: Address::new(&peer.local, local_services()),
            nonce,
            user_agent: format!("/c1pzo:{}/", env!("CARGO_PKG_VERSION")),
            start_height: height as i32,
            relay: true,
        };
        peer.send(NetworkMessage::Version(message));
    }

    /// Handles one message from `peer`.
    pub(super) async fn process(self: &Arc<Self>, peer: &Arc<Peer>, message: NetworkMessage) {
        let (has_version, ready) = {
            let state = peer.state();
            (state.version.is_some(), state.ready)
        };
        if let NetworkMessage::Version(version) = message {
            if has_version {
                self.log_net(format!("redundant version message from peer={}", peer.id));
                return;
            }
            self.on_version(peer, version);
            return;
        }
        if !has_version {
            self.log_net(format!(
                "non-version message before version handshake. Message \"{}\" from peer={}",
                message.cmd(),
                peer.id
            ));
            return;
        }
        if !ready {
            match message {
                NetworkMessage::Verack => self.on_verack(peer),
                NetworkMessage::WtxidRelay => {
                    let mut state = peer.state();
                    if state
                        .version
                        .as_ref()
                        .is_some_and(|v| v.version >= WTXID_RELAY_VERSION)
                    {
                        state.wtxid_relay = true;
                    }
                }
                NetworkMessage::SendAddrV2 => {}
                other => self.log_net(format!(
                    "unsupported message \"{}\" prior to verack from peer={}",
                    other.cmd(),
                    peer.id
                )),
            }
            return;
        }
        match message {
            NetworkMessage::Verack => {}
            NetworkMessage::WtxidRelay => {
                self.log_net(format!(
                    "wtxidrelay received after verack from peer={}; disconnecting",
                    peer.id
                ));
                peer.disconnect();
            }
            NetworkMessage::SendAddrV2 => {
                self.log_net(format!(
                    "sendaddrv2 received after verack from peer={}; disconnecting",
                    peer.id
                ));
                peer.disconnect();
            }
            NetworkMessage::Ping(nonce) => peer.send(NetworkMessage::Pong(nonce)),
            NetworkMessage::Pong(nonce) => on_pong(peer, nonce),
            NetworkMessage::SendHeaders => peer.state().prefers_headers = true,
            // Core ignores rates outside the money range.
            NetworkMessage::FeeFilter(rate) if (0..=21_000_000 * 100_000_000).contains(&rate) => {
                peer.state().fee_filter = rate as u64;
            }
            NetworkMessage::GetHeaders(request) => self.on_getheaders(peer, request),
            NetworkMessage::Headers(headers) => self.on_headers(peer, headers),
            NetworkMessage::Inv(items) => self.on_inv(peer, items),
            NetworkMessage::GetData(items) => self.on_getdata(peer, items).await,
            NetworkMessage::NotFound(items) => self.on_notfound(peer, items),
            NetworkMessage::Block(block) => self.on_block(peer, block).await,
            NetworkMessage::Tx(tx) => self.on_tx(peer, tx).await,
            NetworkMessage::MemPool => {
                // Served only with bloom filters (NODE_BLOOM), which this
                // node does not offer: Core's answer is to disconnect.
                self.log_net(format!(
                    "mempool request with bloom filters disabled, disconnect peer={}",
                    peer.id
                ));
                peer.disconnect();
            }
            // Compact blocks, address relay, filters: not offered, ignored.
            _ => {}
        }
    }

    fn on_version(self: &Arc<Self>, peer: &Arc<Peer>, version: VersionMessage) {
        if version.version < MIN_PEER_VERSION {
            self.log_net(format!(
                "peer={} using obsolete version {}; disconnecting",
                peer.id, version.version
            ));
            peer.disconnect();
            return;
        }
        if peer.inbound()
            && self
                .local_nonces
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&version.nonce)
        {
            self.node
                .log(format!("connected to self at {}, disconnecting", peer.addr));
            peer.disconnect();
            return;
        }
        // Core reads at most 256 bytes of it (`MAX_SUBVERSION_LENGTH`).
        let mut user_agent = version.user_agent.clone();
        if user_agent.len() > MAX_USER_AGENT {
            let mut end = MAX_USER_AGENT;
            while !user_agent.is_char_boundary(end) {
                end -= 1;
            }
            user_agent.truncate(end);
        }
        let info = VersionInfo {
            version: version.version,
            services: version.services,
            user_agent: user_agent.clone(),
            start_height: version.start_height,
            relay: version.relay,
        };
        peer.state().version = Some(info);
        if peer.inbound() {
            self.send_version(peer);
        }
        if version.version >= WTXID_RELAY_VERSION {
            peer.send(NetworkMessage::WtxidRelay);
            peer.send(NetworkMessage::SendAddrV2);
        }
        peer.send(NetworkMessage::Verack);
        self.log_net(format!(
            "receive version message: {}: version {}, blocks={}, us={}, txrelay={}, peer={}",
            user_agent,
            version.version,
            version.start_height,
            peer.local,
            u8::from(version.relay),
            peer.id
        ));
    }

    fn on_verack(self: &Arc<Self>, peer: &Arc<Peer>) {
        let version = {
            let mut state = peer.state();
            state.ready = true;
            state.version.clone().expect("checked by the caller")
        };
        self.log_net(format!(
            "New {} v1 peer connected: version: {}, blocks={}, peer={}",
            peer.kind.name(),
            version.version,
            version.start_height,
            peer.id
        ));
        if version.version >= SENDHEADERS_VERSION {
            peer.send(NetworkMessage::SendHeaders);
        }
        peer.send(NetworkMessage::FeeFilter(MIN_RELAY_FEE));
        // The first ping goes out at the next tick.
        super::peer::request_ping(peer);
        self.start_sync(peer);
    }
}

fn on_pong(peer: &Peer, nonce: u64) {
    let mut state = peer.state();
    let Some((expected, sent)) = state.ping else {
        return;
    };
    if nonce != expected {
        // A stale or foreign nonce: Core keeps waiting for the right one.
        return;
    }
    let seconds = Instant::now().duration_since(sent).as_secs_f64();
    state.ping = None;
    state.ping_time = Some(seconds);
    state.min_ping = Some(state.min_ping.map_or(seconds, |m| m.min(seconds)));
}
