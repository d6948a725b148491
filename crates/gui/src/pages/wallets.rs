//! Wallet management, as Core's File and Settings menus offer it: create
//! (optionally encrypted, without private keys, blank), open one from the
//! wallet directory, close, back up; encrypt, change the passphrase, and
//! the unlock prompt a locked wallet's payment asks for. Each runs off the
//! UI thread and says what happened; a dialog keeps what was typed until
//! it succeeds or is cancelled.

use std::sync::Arc;

use interfaces::{CreateWalletOptions, Node, Wallet};

use crate::task::{self, Task};

/// How long an unlock from the send page lasts (Core's GUI relocks when
/// the payment is done; a minute covers the confirmation).
pub const UNLOCK_SECS: i64 = 60;

#[derive(Default)]
enum Dialog {
    #[default]
    None,
    Create {
        name: String,
        encrypt: bool,
        passphrase: String,
        repeat: String,
        disable_private_keys: bool,
        blank: bool,
    },
    Backup {
        destination: String,
    },
    Encrypt {
        passphrase: String,
        repeat: String,
    },
    ChangePassphrase {
        old: String,
        new: String,
        repeat: String,
    },
    Unlock {
        passphrase: String,
    },
}

#[derive(Default)]
pub struct Wallets {
    dialog: Dialog,
    running: Option<Task<Result<String, String>>>,
    /// Wallets on disk, asked for when the Open menu is shown.
    listing: Option<Task<Result<Vec<String>, String>>>,
    pub on_disk: Vec<String>,
    pub message: Option<Result<String, String>>,
    /// The name of a wallet just created or opened, to select it.
    pub opened: Option<String>,
}

fn secret(ui: &mut egui::Ui, label: &str, value: &mut String) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .password(true)
            .desired_width(240.0),
    )
    .labelled_by(label.id);
    ui.end_row();
}

fn text(ui: &mut egui::Ui, label: &str, value: &mut String) {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(240.0))
        .labelled_by(label.id);
    ui.end_row();
}

impl Wallets {
    /// The File menu's wallet entries.
    pub fn file_menu(
        &mut self,
        ui: &mut egui::Ui,
        node: &Arc<dyn Node>,
        loaded: &[String],
        current: Option<&str>,
    ) {
        if ui.button("Create Wallet…").clicked() {
            self.dialog = Dialog::Create {
                name: String::new(),
                encrypt: false,
                passphrase: String::new(),
                repeat: String::new(),
                disable_private_keys: false,
                blank: false,
            };
            ui.close();
        }
        let response = ui.menu_button("Open Wallet", |ui| {
            let closed: Vec<&String> = self
                .on_disk
                .iter()
                .filter(|n| !loaded.contains(n))
                .collect();
            if closed.is_empty() {
                ui.label("No other wallets in the wallet directory");
            }
            for name in closed {
                let shown = if name.is_empty() {
                    "(default wallet)"
                } else {
                    name.as_str()
                };
                if ui.button(shown).clicked() {
                    let (node, name) = (node.clone(), name.clone());
                    self.running = Some(Task::spawn(ui.ctx(), move || {
                        node.load_wallet(&name).map(|name| format!("opened:{name}"))
                    }));
                    ui.close();
                }
            }
        });
        let wanted = response.response.hovered() || response.response.clicked();
        if wanted && self.listing.is_none() {
            let node = node.clone();
            self.listing = Some(Task::spawn(ui.ctx(), move || node.list_wallet_dir()));
        }
        if let Some(name) = current {
            if ui.button("Close Wallet…").clicked() {
                let (node, name) = (node.clone(), name.to_string());
                self.running = Some(Task::spawn(ui.ctx(), move || {
                    node.unload_wallet(&name)
                        .map(|()| format!("Wallet \"{name}\" closed."))
                }));
                ui.close();
            }
            if ui.button("Backup Wallet…").clicked() {
                self.dialog = Dialog::Backup {
                    destination: String::new(),
                };
                ui.close();
            }
        }
    }

    /// The Settings menu's wallet entries.
    pub fn settings_menu(&mut self, ui: &mut egui::Ui, crypted: bool) {
        if !crypted && ui.button("Encrypt Wallet…").clicked() {
            self.dialog = Dialog::Encrypt {
                passphrase: String::new(),
                repeat: String::new(),
            };
            ui.close();
        }
        if crypted && ui.button("Change Passphrase…").clicked() {
            self.dialog = Dialog::ChangePassphrase {
                old: String::new(),
                new: String::new(),
                repeat: String::new(),
            };
            ui.close();
        }
    }

    /// Asks for the passphrase of a locked wallet (the send page does).
    pub fn ask_unlock(&mut self) {
        if matches!(self.dialog, Dialog::None) {
            self.dialog = Dialog::Unlock {
                passphrase: String::new(),
            };
        }
    }

    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// The open dialog, if any, and the outcome of what ran.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        node: &Arc<dyn Node>,
        wallet: Option<Arc<dyn Wallet>>,
    ) {
        self.collect();
        let mut close = false;
        let mut run: Option<Box<dyn FnOnce() -> Result<String, String> + Send>> = None;
        let mut error = None;
        let title = match &self.dialog {
            Dialog::None => return,
            Dialog::Create { .. } => "Create Wallet",
            Dialog::Backup { .. } => "Backup Wallet",
            Dialog::Encrypt { .. } => "Encrypt wallet",
            Dialog::ChangePassphrase { .. } => "Change passphrase",
            Dialog::Unlock { .. } => "Unlock wallet",
        };
        egui::Modal::new(egui::Id::unique("wallet_dialog")).show(ctx, |ui| {
            ui.heading(title);
            egui::Grid::new("wallet_dialog_form")
                .num_columns(2)
                .show(ui, |ui| match &mut self.dialog {
                    Dialog::None => {}
                    Dialog::Create {
                        name,
                        encrypt,
                        passphrase,
                        repeat,
                        disable_private_keys,
                        blank,
                    } => {
                        text(ui, "Wallet Name:", name);
                        ui.checkbox(encrypt, "Encrypt Wallet");
                        ui.end_row();
                        if *encrypt {
                            secret(ui, "New passphrase:", passphrase);
                            secret(ui, "Repeat new passphrase:", repeat);
                        }
                        ui.checkbox(disable_private_keys, "Disable Private Keys");
                        ui.end_row();
                        ui.checkbox(blank, "Make Blank Wallet");
                        ui.end_row();
                    }
                    Dialog::Backup { destination } => text(ui, "Back up to:", destination),
                    Dialog::Encrypt { passphrase, repeat } => {
                        secret(ui, "New passphrase:", passphrase);
                        secret(ui, "Repeat new passphrase:", repeat);
                    }
                    Dialog::ChangePassphrase { old, new, repeat } => {
                        secret(ui, "Current passphrase:", old);
                        secret(ui, "New passphrase:", new);
                        secret(ui, "Repeat new passphrase:", repeat);
                    }
                    Dialog::Unlock { passphrase } => secret(ui, "Passphrase:", passphrase),
                });
            ui.horizontal(|ui| {
                if ui.button("Cancel").clicked() {
                    close = true;
                }
                if ui
                    .add_enabled(self.running.is_none(), egui::Button::new("OK"))
                    .clicked()
                {
                    match self.prepared(node, wallet.clone()) {
                        Ok(work) => run = Some(work),
                        Err(message) => error = Some(message),
                    }
                }
            });
        });
        if let Some(message) = error {
            self.message = Some(Err(message));
        }
        if let Some(work) = run {
            self.running = Some(Task::spawn(ctx, work));
        }
        if close {
            self.dialog = Dialog::None;
        }
    }

    /// The work the dialog's OK stands for, after the checks the GUI makes
    /// itself (empty and mismatched passphrases).
    #[allow(clippy::type_complexity)]
    fn prepared(
        &self,
        node: &Arc<dyn Node>,
        wallet: Option<Arc<dyn Wallet>>,
    ) -> Result<Box<dyn FnOnce() -> Result<String, String> + Send>, String> {
        let matching = |new: &String, repeat: &String| {
            if new.is_empty() {
                Err("Enter a passphrase.".to_string())
            } else if new != repeat {
                Err("The supplied passphrases do not match.".to_string())
            } else {
                Ok(new.clone())
            }
        };
        let wallet = || {
            wallet
                .clone()
                .ok_or_else(|| "No wallet is selected.".to_string())
        };
        Ok(match &self.dialog {
            Dialog::None => return Err("Nothing to do.".into()),
            Dialog::Create {
                name,
                encrypt,
                passphrase,
                repeat,
                disable_private_keys,
                blank,
            } => {
                let passphrase = if *encrypt {
                    matching(passphrase, repeat)?
                } else {
                    String::new()
                };
                let options = CreateWalletOptions {
                    name: name.trim().to_string(),
                    passphrase,
                    disable_private_keys: *disable_private_keys,
                    blank: *blank,
                };
                let node = node.clone();
                Box::new(move || {
                    node.create_wallet(&options)
                        .map(|name| format!("opened:{name}"))
                })
            }
            Dialog::Backup { destination } => {
                let (wallet, destination) = (wallet()?, destination.trim().to_string());
                if destination.is_empty() {
                    return Err("Type where to back the wallet up to.".into());
                }
                Box::new(move || {
                    wallet
                        .backup_wallet(&destination)
                        .map(|()| format!("The wallet was backed up to {destination}."))
                })
            }
            Dialog::Encrypt { passphrase, repeat } => {
                let (wallet, passphrase) = (wallet()?, matching(passphrase, repeat)?);
                Box::new(move || {
                    wallet
                        .encrypt_wallet(&passphrase)
                        .map(|()| "Wallet encrypted.".to_string())
                })
            }
            Dialog::ChangePassphrase { old, new, repeat } => {
                let (wallet, new, old) = (wallet()?, matching(new, repeat)?, old.clone());
                Box::new(move || {
                    wallet
                        .change_passphrase(&old, &new)
                        .map(|()| "Wallet passphrase was successfully changed.".to_string())
                })
            }
            Dialog::Unlock { passphrase } => {
                let (wallet, passphrase) = (wallet()?, passphrase.clone());
                Box::new(move || {
                    wallet
                        .unlock(&passphrase, UNLOCK_SECS)
                        .map(|()| "Wallet unlocked.".to_string())
                })
            }
        })
    }

    fn collect(&mut self) {
        if let Some(Ok(Ok(names))) = task::take(&mut self.listing) {
            self.on_disk = names;
        }
        match task::take(&mut self.running) {
            None => {}
            Some(Ok(Ok(done))) => {
                // Success closes the dialog; what was typed is no longer needed.
                self.dialog = Dialog::None;
                self.message = Some(Ok(match done.strip_prefix("opened:") {
                    Some(name) => {
                        self.opened = Some(name.to_string());
                        format!("Wallet \"{name}\" opened.")
                    }
                    None => done,
                }));
            }
            // A failure keeps the dialog and its fields.
            Some(Ok(Err(error))) | Some(Err(error)) => self.message = Some(Err(error)),
        }
    }
}
