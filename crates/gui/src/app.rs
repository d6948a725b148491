//! The main window: the pages of the selected wallet (Overview, Receive),
//! the node window (console), the status bar, and the banner that says
//! when the node is gone. State shared with other threads lives in the
//! [`Model`]; everything here runs on the UI thread and never blocks.

use std::sync::Arc;

use interfaces::Node;

use crate::model::{Frontend, Model, Snapshot};
use crate::pages::peers::Peers;
use crate::pages::transactions::Transactions;
use crate::pages::wallets::Wallets;
use crate::pages::{console::Console, overview, receive::Receive, send::Send};
use crate::settings::{GuiSettings, SettingsFile, Theme};
use crate::task::{self, Task};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Overview,
    Send,
    Receive,
    Transactions,
}

/// The node window's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeTab {
    Console,
    Peers,
}

pub struct App {
    frontend: Frontend,
    model: Model,
    settings: GuiSettings,
    settings_file: SettingsFile,
    /// Messages for the user that stay until dismissed.
    notices: Vec<String>,
    page: Page,
    selected_wallet: Option<String>,
    send: Send,
    receive: Receive,
    transactions: Transactions,
    wallets: Wallets,
    console: Console,
    peers: Peers,
    node_window: bool,
    node_tab: NodeTab,
    restarting: Option<Task<Result<Arc<dyn Node>, String>>>,
    toggling_network: Option<Task<()>>,
    closing: bool,
}

impl App {
    pub fn new(ctx: &egui::Context, frontend: Frontend) -> App {
        let settings_file = SettingsFile::in_dir(&frontend.network_dir);
        let (settings, notice) = settings_file.load();
        apply_theme(ctx, settings.theme);
        let model = Model::start(ctx, frontend.node.clone(), frontend.health.clone());
        App {
            selected_wallet: settings.last_wallet.clone(),
            frontend,
            model,
            settings,
            settings_file,
            notices: notice.into_iter().collect(),
            page: Page::Overview,
            send: Send::default(),
            receive: Receive::default(),
            transactions: Transactions::default(),
            wallets: Wallets::default(),
            console: Console::default(),
            peers: Peers::default(),
            node_window: false,
            node_tab: NodeTab::Console,
            restarting: None,
            toggling_network: None,
            closing: false,
        }
    }

    pub fn settings(&self) -> &GuiSettings {
        &self.settings
    }

    /// The latest facts the window shows (tests wait on these).
    pub fn snapshot(&self) -> Snapshot {
        self.model.snapshot()
    }

    pub fn page(&self) -> Page {
        self.page
    }

    /// The wallet the pages show now.
    pub fn shown_wallet(&self) -> Option<String> {
        self.current_wallet(&self.model.snapshot())
    }

    fn save_settings(&mut self) {
        if let Err(error) = self.settings_file.save(&self.settings) {
            self.notices.push(format!(
                "Could not save the GUI settings to {}: {error}",
                self.settings_file.path.display()
            ));
        }
    }

    /// The wallet the pages act on: the chosen one while it is loaded,
    /// else the first. The choice itself stays (a wallet just opened is
    /// not in the snapshot yet).
    fn current_wallet(&self, snapshot: &Snapshot) -> Option<String> {
        self.selected_wallet
            .as_ref()
            .filter(|name| snapshot.wallet(name).is_some())
            .cloned()
            .or_else(|| snapshot.wallets.first().map(|w| w.name.clone()))
    }

    fn menu(&mut self, ui: &mut egui::Ui, snapshot: &Snapshot, wallet: &Option<String>) {
        let loaded: Vec<String> = snapshot.wallets.iter().map(|w| w.name.clone()).collect();
        let crypted = wallet
            .as_ref()
            .and_then(|name| snapshot.wallet(name))
            .is_some_and(|view| view.crypted);
        let node = self.frontend.node.clone();
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                self.wallets
                    .file_menu(ui, &node, &loaded, wallet.as_deref());
                ui.separator();
                if ui.button("Exit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Settings", |ui| {
                if wallet.is_some() {
                    self.wallets.settings_menu(ui, crypted);
                    ui.separator();
                }
                if ui
                    .checkbox(&mut self.settings.mask_values, "Mask values")
                    .changed()
                {
                    self.save_settings();
                }
                let mut dark = self.settings.theme == Theme::Dark;
                if ui.checkbox(&mut dark, "Dark theme").changed() {
                    self.settings.theme = if dark { Theme::Dark } else { Theme::Light };
                    apply_theme(ui.ctx(), self.settings.theme);
                    self.save_settings();
                }
            });
            ui.menu_button("Window", |ui| {
                if ui.button("Console").clicked() {
                    self.node_window = true;
                    self.node_tab = NodeTab::Console;
                    ui.close();
                }
                if ui.button("Peers").clicked() {
                    self.node_window = true;
                    self.node_tab = NodeTab::Peers;
                    ui.close();
                }
            });
        });
    }

    fn tabs(&mut self, ui: &mut egui::Ui, snapshot: &Snapshot, wallet: &Option<String>) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.page, Page::Overview, "Overview");
            ui.selectable_value(&mut self.page, Page::Send, "Send");
            ui.selectable_value(&mut self.page, Page::Receive, "Receive");
            ui.selectable_value(&mut self.page, Page::Transactions, "Transactions");
            ui.separator();
            let label = ui.label("Wallet:");
            let mut chosen = wallet.clone();
            egui::ComboBox::from_id_salt("wallet")
                .selected_text(match wallet {
                    Some(name) if name.is_empty() => "(default wallet)".to_string(),
                    Some(name) => name.clone(),
                    None => "(none loaded)".into(),
                })
                .show_ui(ui, |ui| {
                    for view in &snapshot.wallets {
                        let shown = if view.name.is_empty() {
                            "(default wallet)"
                        } else {
                            view.name.as_str()
                        };
                        ui.selectable_value(&mut chosen, Some(view.name.clone()), shown);
                    }
                })
                .response
                .labelled_by(label.id);
            if chosen != *wallet {
                self.selected_wallet = chosen.clone();
                self.settings.last_wallet = chosen;
                self.save_settings();
            }
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui, snapshot: &Snapshot) {
        ui.horizontal(|ui| {
            match &snapshot.tip {
                Some(tip) => {
                    ui.label(format!("Blocks: {}", tip.height));
                    ui.separator();
                    ui.label("Up to date");
                }
                None => {
                    ui.label("Connecting to the node…");
                }
            }
            ui.separator();
            let _ = task::take(&mut self.toggling_network);
            let connections = if snapshot.network_active {
                format!("Connections: {}", snapshot.connections)
            } else {
                "Network activity disabled".to_string()
            };
            let tip = if snapshot.network_active {
                format!(
                    "{} active connection(s) to the network. Click to disable network activity.",
                    snapshot.connections
                )
            } else {
                "Network activity disabled. Click to enable network activity again.".to_string()
            };
            let toggle = ui
                .add_enabled(
                    self.toggling_network.is_none(),
                    egui::Button::new(connections).frame(false),
                )
                .on_hover_text(tip);
            if toggle.clicked() {
                let (node, active) = (self.frontend.node.clone(), !snapshot.network_active);
                self.toggling_network = Some(Task::spawn(ui.ctx(), move || {
                    node.set_network_active(active)
                }));
            }
            ui.separator();
            ui.label(format!("Mempool: {} transactions", snapshot.mempool_size));
            ui.separator();
            ui.label(format!(
                "Network: {}",
                crate::bip21::network_name(self.frontend.network)
            ));
        });
    }

    /// The node is gone: say so, offer a restart where one is possible,
    /// and keep every page's typed text.
    fn lost_banner(&mut self, ui: &mut egui::Ui, why: &str) {
        egui::Frame::new()
            .fill(ui.visuals().error_fg_color.gamma_multiply(0.15))
            .inner_margin(8.0)
            .show(ui, |ui| {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("The connection to the node was lost: {why}"),
                );
                if let Some(restart) = self.frontend.restart.clone() {
                    let busy = self.restarting.is_some();
                    if ui
                        .add_enabled(!busy, egui::Button::new("Restart node"))
                        .clicked()
                    {
                        self.restarting = Some(Task::spawn(ui.ctx(), move || restart()));
                    }
                    if busy {
                        ui.spinner();
                    }
                } else {
                    ui.label("Start the node again, then restart this window.");
                }
            });
        match task::take(&mut self.restarting) {
            None => {}
            Some(Ok(Ok(node))) => {
                self.frontend.node = node.clone();
                self.model.replace_node(node);
                self.frontend.health.clear();
            }
            Some(Ok(Err(error))) | Some(Err(error)) => {
                self.notices
                    .push(format!("Restarting the node failed: {error}"));
            }
        }
    }
}

fn apply_theme(ctx: &egui::Context, theme: Theme) {
    ctx.set_theme(match theme {
        Theme::Light => egui::Theme::Light,
        Theme::Dark => egui::Theme::Dark,
    });
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let snapshot = self.model.snapshot();
        if snapshot.shutdown_requested && !self.closing {
            // `stop` from the console or an RPC client: leave with the node.
            self.closing = true;
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        let wallet = self.current_wallet(&snapshot);
        self.model.select_wallet(wallet.clone());
        let handle = wallet
            .as_ref()
            .and_then(|name| snapshot.wallet(name))
            .map(|view| view.handle.clone());
        egui::Panel::top("menu").show(ui, |ui| {
            self.menu(ui, &snapshot, &wallet);
            self.tabs(ui, &snapshot, &wallet);
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui, &snapshot));
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(why) = self.frontend.health.lost() {
                self.lost_banner(ui, &why);
            }
            let mut dismissed = None;
            for (index, notice) in self.notices.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.colored_label(ui.visuals().warn_fg_color, notice);
                    if ui.small_button("Dismiss").clicked() {
                        dismissed = Some(index);
                    }
                });
            }
            if let Some(index) = dismissed {
                self.notices.remove(index);
            }
            crate::pages::outcome(ui, &self.wallets.message);
            match self.page {
                Page::Overview => overview::show(
                    ui,
                    wallet.as_ref().and_then(|name| snapshot.wallet(name)),
                    self.settings.mask_values,
                ),
                Page::Send => {
                    let balance = wallet
                        .as_ref()
                        .and_then(|name| snapshot.wallet(name))
                        .and_then(|view| view.balances.as_ref().ok())
                        .map(|balances| balances.trusted);
                    let locked = wallet
                        .as_ref()
                        .and_then(|name| snapshot.wallet(name))
                        .is_some_and(|view| view.locked);
                    self.send.show(
                        ui,
                        handle.clone(),
                        balance,
                        locked,
                        self.frontend.network,
                        self.settings.mask_values,
                    );
                    if self.send.take_unlock_request() {
                        self.wallets.ask_unlock();
                    }
                }
                Page::Receive => self.receive.show(ui, handle.clone(), self.frontend.network),
                Page::Transactions => {
                    if let Some(view) = wallet.as_ref().and_then(|name| snapshot.wallet(name)) {
                        self.transactions.refresh(
                            ui.ctx(),
                            &view.name,
                            view.revision,
                            &view.handle,
                        );
                    }
                    self.transactions
                        .show(ui, handle.clone(), self.settings.mask_values)
                }
            }
        });
        let node = self.frontend.node.clone();
        self.wallets.show(ui.ctx(), &node, handle.clone());
        if let Some(name) = self.wallets.opened.take() {
            self.selected_wallet = Some(name.clone());
            self.settings.last_wallet = Some(name);
            self.save_settings();
        }
        let mut open = self.node_window;
        egui::Window::new("Node window")
            .open(&mut open)
            .default_size([640.0, 420.0])
            .show(ui.ctx(), |ui| {
                let node = self.frontend.node.clone();
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.node_tab, NodeTab::Console, "Console tab");
                    ui.selectable_value(&mut self.node_tab, NodeTab::Peers, "Peers tab");
                });
                ui.separator();
                match self.node_tab {
                    NodeTab::Console => self.console.show(ui, &node, wallet.clone()),
                    NodeTab::Peers => self.peers.show(ui, &node),
                }
            });
        self.node_window = open;
    }
}
