//! The node window's peers tab: the connected peers (refreshed every two
//! seconds while shown), disconnect, ban for Core's four periods, and the
//! banned list with unban.

use std::sync::Arc;
use std::time::Duration;

use interfaces::{BannedSubnet, Node, PeerInfo};

use crate::task::{self, Task};

/// Core's "Ban for" menu.
const BAN_PERIODS: &[(&str, i64)] = &[
    ("1 hour", 3600),
    ("1 day", 86_400),
    ("1 week", 604_800),
    ("1 year", 31_536_000),
];
const REFRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Peers {
    peers: Vec<PeerInfo>,
    banned: Vec<BannedSubnet>,
    loading: Option<Task<(Vec<PeerInfo>, Vec<BannedSubnet>)>>,
    last_load: Option<f64>,
    selected: Option<i64>,
    action: Option<Task<Result<String, String>>>,
    pub message: Option<Result<String, String>>,
}

impl Peers {
    pub fn show(&mut self, ui: &mut egui::Ui, node: &Arc<dyn Node>) {
        self.collect();
        let now = ui.input(|i| i.time);
        let due = self
            .last_load
            .is_none_or(|last| now - last >= REFRESH.as_secs_f64());
        if due && self.loading.is_none() {
            self.last_load = Some(now);
            let node = node.clone();
            self.loading = Some(Task::spawn(ui.ctx(), move || {
                (node.get_peers(), node.get_banned())
            }));
        }
        ui.ctx().request_repaint_after(REFRESH);
        ui.label(format!("{} peers connected", self.peers.len()));
        egui::Grid::new("peers")
            .striped(true)
            .num_columns(6)
            .show(ui, |ui| {
                for title in ["Peer", "Address", "Direction", "Type", "User Agent", "Ping"] {
                    ui.strong(title);
                }
                ui.end_row();
                for peer in &self.peers {
                    let chosen = self.selected == Some(peer.id);
                    if ui.selectable_label(chosen, peer.id.to_string()).clicked() {
                        self.selected = Some(peer.id);
                    }
                    ui.label(&peer.address);
                    ui.label(if peer.inbound { "Inbound" } else { "Outbound" });
                    ui.label(&peer.connection_type);
                    ui.label(&peer.user_agent);
                    ui.label(
                        peer.ping_micros
                            .map(|us| format!("{:.3} ms", us as f64 / 1000.0))
                            .unwrap_or_else(|| "N/A".into()),
                    );
                    ui.end_row();
                }
            });
        let selected = self
            .selected
            .and_then(|id| self.peers.iter().find(|p| p.id == id))
            .cloned();
        ui.horizontal(|ui| {
            let enabled = selected.is_some() && self.action.is_none();
            if ui
                .add_enabled(enabled, egui::Button::new("Disconnect"))
                .clicked()
            {
                if let Some(peer) = &selected {
                    let (node, id) = (node.clone(), peer.id);
                    self.action = Some(Task::spawn(ui.ctx(), move || {
                        if node.disconnect_peer(id) {
                            Ok(format!("Peer {id} disconnected."))
                        } else {
                            Err(format!("Peer {id} is no longer connected."))
                        }
                    }));
                }
            }
            for (period, seconds) in BAN_PERIODS {
                let text = format!("Ban for {period}");
                if ui.add_enabled(enabled, egui::Button::new(text)).clicked() {
                    if let Some(peer) = &selected {
                        let node = node.clone();
                        let host = host_of(&peer.address);
                        let seconds = *seconds;
                        let period = *period;
                        self.action = Some(Task::spawn(ui.ctx(), move || {
                            node.ban(&host, seconds)
                                .map(|()| format!("{host} banned for {period}."))
                        }));
                    }
                }
            }
        });
        if !self.banned.is_empty() {
            ui.separator();
            ui.strong("Banned peers");
            for ban in self.banned.clone() {
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "{} (until {})",
                        ban.subnet,
                        crate::pages::transactions::date(ban.until)
                    ));
                    if ui
                        .add_enabled(self.action.is_none(), egui::Button::new("Unban"))
                        .clicked()
                    {
                        let node = node.clone();
                        self.action = Some(Task::spawn(ui.ctx(), move || {
                            node.unban(&ban.subnet)
                                .map(|()| format!("{} unbanned.", ban.subnet))
                        }));
                    }
                });
            }
        }
        crate::pages::outcome(ui, &self.message);
    }

    fn collect(&mut self) {
        if let Some(Ok((peers, banned))) = task::take(&mut self.loading) {
            self.peers = peers;
            self.banned = banned;
        }
        if let Some(outcome) = task::take(&mut self.action) {
            self.message = Some(outcome.and_then(|r| r));
            // Show the effect at once.
            self.last_load = None;
        }
    }
}

/// The host part of `ip:port` or `[ipv6]:port`, as `setban` wants it.
fn host_of(address: &str) -> String {
    match address.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host_of("127.0.0.1:18444"), "127.0.0.1");
        assert_eq!(host_of("[::1]:18444"), "::1");
        assert_eq!(host_of("example"), "example");
    }
}
