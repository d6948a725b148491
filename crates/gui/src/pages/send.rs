//! Send: several recipients, "use available balance", subtract fee from
//! amount, a fee rate; every field checked before anything is asked of the
//! wallet (Core's messages where Core has them), then a confirmation that
//! shows the fee and total of the very transaction that will be sent.
//! A transaction whose sending failed is kept: sending it again cannot
//! pay twice, because it is the same transaction.

use std::sync::Arc;

use bitcoin::{Amount, FeeRate, Network, ScriptBuf, Transaction, Txid};
use interfaces::{CreatedTransaction, Recipient, Wallet};

use crate::amount;
use crate::bip21;
use crate::task::{self, Task};

/// Core's `SEND_CONFIRM_DELAY`: the Send button waits this long.
const CONFIRM_DELAY_SECS: f64 = 3.0;

#[derive(Clone, Debug, Default)]
pub struct Row {
    pub address: String,
    pub label: String,
    pub amount: String,
    pub subtract_fee: bool,
    pub error: Option<String>,
}

enum Stage {
    Editing,
    Creating(Task<Result<CreatedTransaction, String>>),
    Confirming {
        created: CreatedTransaction,
        shown_at: f64,
    },
    Committing {
        tx: Transaction,
        task: Task<Result<Txid, String>>,
    },
}

pub struct Send {
    pub rows: Vec<Row>,
    /// sat/vB typed by the user; empty: the wallet's own choice.
    pub fee_rate: String,
    stage: Stage,
    /// A created transaction whose sending failed: offered again as is.
    unsent: Option<CreatedTransaction>,
    pub message: Option<Result<String, String>>,
    available: Option<Task<Result<Amount, String>>>,
    available_for: usize,
    /// Send was pressed on a locked wallet: the passphrase is asked for,
    /// and the payment goes on once the wallet is unlocked.
    resume_when_unlocked: bool,
    unlock_requested: bool,
    /// The recipients' scripts of the payment being created: what the
    /// confirmation counts as paid (the rest is change).
    paying: Vec<ScriptBuf>,
}

impl Default for Send {
    fn default() -> Self {
        Send {
            rows: vec![Row::default()],
            fee_rate: String::new(),
            stage: Stage::Editing,
            unsent: None,
            message: None,
            available: None,
            available_for: 0,
            resume_when_unlocked: false,
            unlock_requested: false,
            paying: Vec::new(),
        }
    }
}

impl Send {
    /// Whether the page wants the wallet's passphrase asked for (once).
    pub fn take_unlock_request(&mut self) -> bool {
        std::mem::take(&mut self.unlock_requested)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        wallet: Option<Arc<dyn Wallet>>,
        balance: Option<Amount>,
        locked: bool,
        network: Network,
        mask: bool,
    ) {
        self.collect(ui.ctx());
        if self.resume_when_unlocked && !locked && matches!(self.stage, Stage::Editing) {
            self.resume_when_unlocked = false;
            self.create(ui.ctx(), wallet.clone(), balance, network);
        }
        ui.heading("Send coins");
        let editing = matches!(self.stage, Stage::Editing);
        let mut remove = None;
        let mut use_available = None;
        let row_count = self.rows.len();
        for (index, row) in self.rows.iter_mut().enumerate() {
            ui.group(|ui| {
                ui.add_enabled_ui(editing, |ui| {
                    egui::Grid::new(("recipient", index))
                        .num_columns(2)
                        .show(ui, |ui| {
                            let label = ui.label("Pay To:");
                            ui.add(
                                egui::TextEdit::singleline(&mut row.address).desired_width(420.0),
                            )
                            .labelled_by(label.id);
                            ui.end_row();
                            let label = ui.label("Label:");
                            ui.add(egui::TextEdit::singleline(&mut row.label).desired_width(420.0))
                                .labelled_by(label.id);
                            ui.end_row();
                            let label = ui.label("Amount (BTC):");
                            ui.horizontal(|ui| {
                                ui.add(
                                    egui::TextEdit::singleline(&mut row.amount)
                                        .desired_width(160.0),
                                )
                                .labelled_by(label.id);
                                ui.checkbox(&mut row.subtract_fee, "Subtract fee from amount");
                                if ui.button("Use available balance").clicked() {
                                    use_available = Some(index);
                                }
                                if row_count > 1 && ui.button("Remove").clicked() {
                                    remove = Some(index);
                                }
                            });
                            ui.end_row();
                        });
                    if let Some(error) = &row.error {
                        ui.colored_label(ui.visuals().error_fg_color, error);
                    }
                });
            });
        }
        if let (Some(index), Some(wallet)) = (use_available, wallet.clone()) {
            self.available_for = index;
            self.available = Some(Task::spawn(ui.ctx(), move || {
                wallet.get_balances().map(|b| b.trusted)
            }));
        }
        if let Some(index) = remove {
            self.rows.remove(index);
        }
        ui.add_enabled_ui(editing, |ui| {
            ui.horizontal(|ui| {
                if ui.button("Add Recipient").clicked() {
                    self.rows.push(Row::default());
                }
                if ui.button("Clear All").clicked() {
                    *self = Send::default();
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Fee rate (sat/vB, empty: the wallet's choice):");
                ui.add(egui::TextEdit::singleline(&mut self.fee_rate).desired_width(80.0))
                    .labelled_by(label.id);
            });
        });
        if let Some(balance) = balance {
            ui.label(format!("Balance: {}", amount::shown(balance, mask)));
        }
        ui.horizontal(|ui| {
            let ready = editing && wallet.is_some();
            if ui.add_enabled(ready, egui::Button::new("Send")).clicked() {
                if locked {
                    self.unlock_requested = true;
                    self.resume_when_unlocked = true;
                } else {
                    self.create(ui.ctx(), wallet.clone(), balance, network);
                }
            }
            if let (Some(unsent), true) = (&self.unsent, editing) {
                let again = format!(
                    "Send transaction {} again",
                    &unsent.tx.compute_txid().to_string()[..16]
                );
                if ui.button(again).clicked() {
                    let tx = unsent.tx.clone();
                    self.commit(ui.ctx(), wallet.clone(), tx);
                }
            }
            if matches!(self.stage, Stage::Creating(_) | Stage::Committing { .. }) {
                ui.spinner();
            }
        });
        crate::pages::outcome(ui, &self.message);
        self.confirmation(ui, wallet, mask);
    }

    /// Checks every row and the fee rate; marks the rows that are wrong.
    fn check(
        &mut self,
        balance: Option<Amount>,
        network: Network,
    ) -> Option<(Vec<Recipient>, Option<FeeRate>)> {
        let mut ok = true;
        let mut seen = Vec::new();
        let mut recipients = Vec::new();
        for row in &mut self.rows {
            row.error = None;
            let address = match bip21::parse_address(&row.address, network) {
                Ok(address) => address,
                Err(_) if row.address.trim().is_empty() => {
                    row.error = Some("The recipient address is not valid. Please recheck.".into());
                    ok = false;
                    continue;
                }
                Err(error) => {
                    row.error = Some(format!(
                        "The recipient address is not valid. Please recheck. ({error})"
                    ));
                    ok = false;
                    continue;
                }
            };
            let value = match bip21::parse_btc(&row.amount) {
                Ok(value) if value > Amount::ZERO => value,
                Ok(_) => {
                    row.error = Some("The amount to pay must be larger than 0.".into());
                    ok = false;
                    continue;
                }
                Err(error) => {
                    row.error = Some(error.to_string());
                    ok = false;
                    continue;
                }
            };
            let dust = address.script_pubkey().minimal_non_dust();
            if value < dust && !row.subtract_fee {
                row.error = Some(format!(
                    "The amount is below the dust threshold for this address ({}): it would not be relayed.",
                    amount::btc(dust)
                ));
                ok = false;
                continue;
            }
            if seen.contains(&address) {
                row.error = Some(
                    "Duplicate address found: addresses should only be used once each.".into(),
                );
                ok = false;
                continue;
            }
            seen.push(address.clone());
            recipients.push(Recipient {
                address: address.to_string(),
                amount: value,
                subtract_fee: row.subtract_fee,
            });
        }
        let fee_rate = match self.fee_rate.trim() {
            "" => None,
            text => match text.parse::<f64>() {
                Ok(rate) if rate.is_finite() && rate >= 1.0 => {
                    Some(FeeRate::from_sat_per_kwu((rate * 250.0).round() as u64))
                }
                _ => {
                    self.message = Some(Err(format!(
                        "Fee rate '{text}': expected a number of sat/vB of at least 1"
                    )));
                    return None;
                }
            },
        };
        if !ok {
            return None;
        }
        let total: Amount = recipients.iter().map(|r| r.amount).sum();
        if let Some(balance) = balance {
            if total > balance {
                self.message = Some(Err("The amount exceeds your balance.".into()));
                return None;
            }
        }
        Some((recipients, fee_rate))
    }

    fn create(
        &mut self,
        ctx: &egui::Context,
        wallet: Option<Arc<dyn Wallet>>,
        balance: Option<Amount>,
        network: Network,
    ) {
        self.message = None;
        let Some(wallet) = wallet else { return };
        let Some((recipients, fee_rate)) = self.check(balance, network) else {
            return;
        };
        self.paying = recipients
            .iter()
            .filter_map(|r| bip21::parse_address(&r.address, network).ok())
            .map(|address| address.script_pubkey())
            .collect();
        self.stage = Stage::Creating(Task::spawn(ctx, move || {
            wallet.create_transaction(&recipients, fee_rate)
        }));
    }

    fn commit(&mut self, ctx: &egui::Context, wallet: Option<Arc<dyn Wallet>>, tx: Transaction) {
        let Some(wallet) = wallet else { return };
        let sent = tx.clone();
        self.stage = Stage::Committing {
            tx,
            task: Task::spawn(ctx, move || wallet.commit_transaction(&sent)),
        };
    }

    fn confirmation(&mut self, ui: &mut egui::Ui, wallet: Option<Arc<dyn Wallet>>, mask: bool) {
        let Stage::Confirming { created, shown_at } = &self.stage else {
            return;
        };
        let (created, shown_at) = (created.clone(), *shown_at);
        let now = ui.input(|i| i.time);
        let left = (CONFIRM_DELAY_SECS - (now - shown_at)).ceil();
        let paid: Amount = created
            .tx
            .output
            .iter()
            .filter(|o| self.paying.contains(&o.script_pubkey))
            .map(|o| o.value)
            .sum();
        let total = paid + created.fee;
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("confirm_send")).show(ui.ctx(), |ui| {
            ui.heading("Confirm send coins");
            ui.label("Do you want to create this transaction?");
            ui.label("Please, review your transaction.");
            for row in &self.rows {
                let line = if row.label.is_empty() {
                    format!("{} to {}", row.amount, row.address)
                } else {
                    format!("{} to '{}' ({})", row.amount, row.label, row.address)
                };
                ui.label(line);
            }
            ui.label(format!(
                "Transaction fee: {} ({} vB)",
                amount::shown(created.fee, mask),
                created.tx.vsize()
            ));
            ui.strong(format!("Total Amount: {}", amount::shown(total, mask)));
            ui.horizontal(|ui| {
                if ui.button("Cancel").clicked() {
                    choice = Some(false);
                }
                let text = if left > 0.0 {
                    format!("Send ({left})")
                } else {
                    "Send".to_string()
                };
                if ui
                    .add_enabled(left <= 0.0, egui::Button::new(text))
                    .clicked()
                {
                    choice = Some(true);
                }
            });
        });
        if left > 0.0 {
            ui.ctx().request_repaint_after_secs(0.2);
        }
        match choice {
            Some(true) => {
                let tx = created.tx.clone();
                self.unsent = Some(created.clone());
                self.commit(ui.ctx(), wallet, tx);
            }
            Some(false) => {
                self.stage = Stage::Editing;
                self.message = Some(Err("Payment cancelled; nothing was sent.".into()));
            }
            None => {}
        }
    }

    fn collect(&mut self, ctx: &egui::Context) {
        if let Some(outcome) = task::take(&mut self.available) {
            let others: Amount = self
                .rows
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != self.available_for)
                .filter_map(|(_, row)| bip21::parse_btc(&row.amount).ok())
                .sum();
            match outcome.and_then(|r| r) {
                Ok(balance) => {
                    if let Some(row) = self.rows.get_mut(self.available_for) {
                        let rest = balance.checked_sub(others).unwrap_or(Amount::ZERO);
                        row.amount = bip21::format_btc(rest);
                        // Core ticks it: the fee must come from somewhere.
                        row.subtract_fee = rest > Amount::ZERO;
                    }
                }
                Err(error) => self.message = Some(Err(error)),
            }
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Editing);
        self.stage = match stage {
            Stage::Creating(task) => match task.poll() {
                task::Poll::Pending => Stage::Creating(task),
                task::Poll::Ready(Ok(created)) => Stage::Confirming {
                    created,
                    shown_at: ctx.input(|i| i.time),
                },
                task::Poll::Ready(Err(error)) => {
                    self.message = Some(Err(format!("Transaction creation failed: {error}")));
                    Stage::Editing
                }
                task::Poll::Lost => {
                    self.message = Some(Err("Transaction creation failed unexpectedly.".into()));
                    Stage::Editing
                }
            },
            Stage::Committing { tx, task } => match task.poll() {
                task::Poll::Pending => Stage::Committing { tx, task },
                task::Poll::Ready(Ok(txid)) => {
                    *self = Send {
                        message: Some(Ok(format!("Sent transaction {txid}"))),
                        ..Send::default()
                    };
                    Stage::Editing
                }
                task::Poll::Ready(Err(error)) => {
                    self.message = Some(Err(format!(
                        "Sending transaction {} failed: {error}. It is kept: \"Send transaction … again\" \
                         sends the same transaction, so it cannot pay twice.",
                        tx.compute_txid()
                    )));
                    Stage::Editing
                }
                task::Poll::Lost => {
                    self.message = Some(Err(format!(
                        "Sending transaction {} failed unexpectedly; it is kept to be sent again.",
                        tx.compute_txid()
                    )));
                    Stage::Editing
                }
            },
            other => other,
        };
    }
}
