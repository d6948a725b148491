//! The main window: the pages of the selected wallet (Overview, Receive),
//! the node window (console), the status bar, and the banner that says
//! when the node is gone. State shared with other threads lives in the
//! [`Model`]; everything here runs on the UI thread and never blocks.

use std::sync::Arc;

use interfaces::Node;

use crate::model::{Frontend, Model, Snapshot};
use crate::pages::{console::Console, overview, receive::Receive};
use crate::settings::{GuiSettings, SettingsFile, Theme};
use crate::task::{self, Task};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Overview,
    Receive,
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
    receive: Receive,
    console: Console,
    node_window: bool,
    restarting: Option<Task<Result<Arc<dyn Node>, String>>>,
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
            receive: Receive::default(),
            console: Console::default(),
            node_window: false,
            restarting: None,
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

    fn save_settings(&mut self) {
        if let Err(error) = self.settings_file.save(&self.settings) {
            self.notices.push(format!(
                "Could not save the GUI settings to {}: {error}",
                self.settings_file.path.display()
            ));
        }
    }

    /// The wallet the pages act on: the chosen one while it is loaded,
    /// else the first.
    fn current_wallet(&mut self, snapshot: &Snapshot) -> Option<String> {
        let chosen = self
            .selected_wallet
            .as_ref()
            .filter(|name| snapshot.wallet(name).is_some())
            .cloned();
        let current = chosen.or_else(|| snapshot.wallets.first().map(|w| w.name.clone()));
        if current != self.selected_wallet && current.is_some() {
            self.selected_wallet = current.clone();
        }
        current
    }

    fn menu(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Exit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Settings", |ui| {
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
                    ui.close();
                }
            });
        });
    }

    fn tabs(&mut self, ui: &mut egui::Ui, snapshot: &Snapshot, wallet: &Option<String>) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.page, Page::Overview, "Overview");
            ui.selectable_value(&mut self.page, Page::Receive, "Receive");
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
        let handle = wallet
            .as_ref()
            .and_then(|name| snapshot.wallet(name))
            .map(|view| view.handle.clone());
        egui::Panel::top("menu").show(ui, |ui| {
            self.menu(ui);
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
            match self.page {
                Page::Overview => overview::show(
                    ui,
                    wallet.as_ref().and_then(|name| snapshot.wallet(name)),
                    self.settings.mask_values,
                ),
                Page::Receive => self.receive.show(ui, handle.clone(), self.frontend.network),
            }
        });
        let mut open = self.node_window;
        egui::Window::new("Node window")
            .open(&mut open)
            .default_size([640.0, 420.0])
            .show(ui.ctx(), |ui| {
                let node = self.frontend.node.clone();
                self.console.show(ui, &node, wallet.clone());
            });
        self.node_window = open;
    }
}
