//! Transactions: the selected wallet's history as Core's GUI lists it
//! (date, type, label or address, amount, status), filtered by type and
//! text, drawn a visible row at a time so ten thousand rows scroll as
//! smoothly as ten; a row's details, abandoning what can be abandoned,
//! and a CSV export with Core's columns.

use std::sync::Arc;

use bitcoin::{SignedAmount, Txid};
use interfaces::{TxCategory, TxRecord, Wallet, WalletTxDetails};

use crate::amount;
use crate::task::{self, Task};

/// Core's "Confirming (x of 6)" ends at this depth.
const RECOMMENDED_CONFIRMATIONS: i64 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    Received,
    Sent,
    Mined,
}

pub struct Transactions {
    /// Newest first, as shown.
    records: Vec<TxRecord>,
    loaded_for: Option<(String, u64)>,
    loading: Option<Task<Result<Vec<TxRecord>, String>>>,
    pub filter: Filter,
    pub search: String,
    selected: Option<Txid>,
    details: Option<Task<Result<WalletTxDetails, String>>>,
    shown_details: Option<Result<WalletTxDetails, String>>,
    abandoning: Option<Task<Result<(), String>>>,
    pub export_path: String,
    pub message: Option<Result<String, String>>,
}

impl Default for Transactions {
    fn default() -> Self {
        Transactions {
            records: Vec::new(),
            loaded_for: None,
            loading: None,
            filter: Filter::All,
            search: String::new(),
            selected: None,
            details: None,
            shown_details: None,
            abandoning: None,
            export_path: String::new(),
            message: None,
        }
    }
}

/// Core's type column.
pub fn type_name(record: &TxRecord) -> &'static str {
    match record.category {
        TxCategory::Send => "Sent to",
        TxCategory::Receive => "Received with",
        TxCategory::Generate | TxCategory::Immature | TxCategory::Orphan => "Mined",
    }
}

/// Core's status text for a record.
pub fn status(record: &TxRecord) -> String {
    let depth = record.confirmations;
    if record.abandoned {
        return "Abandoned".into();
    }
    if depth < 0 {
        return "Conflicted".into();
    }
    match record.category {
        TxCategory::Orphan => "Generated but not accepted".into(),
        TxCategory::Immature => {
            format!("Immature ({depth} confirmations, will be available after 100)")
        }
        _ if depth == 0 => "Unconfirmed".into(),
        _ if depth < RECOMMENDED_CONFIRMATIONS => {
            format!("Confirming ({depth} of {RECOMMENDED_CONFIRMATIONS} recommended confirmations)")
        }
        _ => format!("Confirmed ({depth} confirmations)"),
    }
}

fn matches(record: &TxRecord, filter: Filter, search: &str) -> bool {
    let kind = match filter {
        Filter::All => true,
        Filter::Received => record.category == TxCategory::Receive,
        Filter::Sent => record.category == TxCategory::Send,
        Filter::Mined => matches!(
            record.category,
            TxCategory::Generate | TxCategory::Immature | TxCategory::Orphan
        ),
    };
    let search = search.trim().to_lowercase();
    kind && (search.is_empty()
        || record.txid.to_string().contains(&search)
        || record
            .label
            .as_deref()
            .is_some_and(|l| l.to_lowercase().contains(&search))
        || record
            .address
            .as_deref()
            .is_some_and(|a| a.to_lowercase().contains(&search)))
}

/// A UTC date as Core's table shows it (`yyyy-MM-dd hh:mm`).
pub fn date(time: i64) -> String {
    let days = time.div_euclid(86_400);
    let seconds = time.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60
    )
}

/// Core's CSV export: every column quoted, amounts in BTC.
pub fn csv(records: &[&TxRecord]) -> String {
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let mut out = String::from(
        "\"Confirmed\",\"Date\",\"Type\",\"Label\",\"Address\",\"Amount (BTC)\",\"ID\"\n",
    );
    for record in records {
        let btc = amount::signed_btc(record.amount);
        let fields = [
            quote(if record.confirmations > 0 {
                "true"
            } else {
                "false"
            }),
            quote(&date(record.time)),
            quote(type_name(record)),
            quote(record.label.as_deref().unwrap_or("")),
            quote(record.address.as_deref().unwrap_or("")),
            quote(btc.trim_end_matches(" BTC")),
            quote(&record.txid.to_string()),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

impl Transactions {
    /// Reloads when the wallet or its revision changed.
    pub fn refresh(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        revision: u64,
        wallet: &Arc<dyn Wallet>,
    ) {
        let wanted = (name.to_string(), revision);
        if self.loaded_for.as_ref() == Some(&wanted) || self.loading.is_some() {
            return;
        }
        if self.loaded_for.as_ref().map(|(shown, _)| shown.as_str()) != Some(name) {
            // Another wallet: never show the last one's history meanwhile.
            self.records.clear();
            self.selected = None;
            self.shown_details = None;
            self.message = None;
        }
        self.loaded_for = Some(wanted);
        let wallet = wallet.clone();
        self.loading = Some(Task::spawn(ctx, move || wallet.get_transactions()));
    }

    pub fn records(&self) -> &[TxRecord] {
        &self.records
    }

    pub fn show(&mut self, ui: &mut egui::Ui, wallet: Option<Arc<dyn Wallet>>, mask: bool) {
        self.collect();
        // Held apart while drawing, so the rows can be borrowed while the
        // page's other state changes.
        let records = std::mem::take(&mut self.records);
        self.draw(ui, &records, wallet, mask);
        self.records = records;
    }

    fn draw(
        &mut self,
        ui: &mut egui::Ui,
        records: &[TxRecord],
        wallet: Option<Arc<dyn Wallet>>,
        mask: bool,
    ) {
        if mask {
            ui.label(
                "The transaction list is hidden while values are masked (Settings → Mask values).",
            );
            return;
        }
        ui.horizontal(|ui| {
            let label = ui.label("Type:");
            egui::ComboBox::from_id_salt("tx_filter")
                .selected_text(format!("{:?}", self.filter))
                .show_ui(ui, |ui| {
                    for filter in [Filter::All, Filter::Received, Filter::Sent, Filter::Mined] {
                        ui.selectable_value(&mut self.filter, filter, format!("{filter:?}"));
                    }
                })
                .response
                .labelled_by(label.id);
            let label = ui.label("Search:");
            ui.add(egui::TextEdit::singleline(&mut self.search).hint_text("label, address or ID"))
                .labelled_by(label.id);
        });
        let shown: Vec<&TxRecord> = records
            .iter()
            .filter(|r| matches(r, self.filter, &self.search))
            .collect();
        ui.label(format!("{} of {} entries", shown.len(), records.len()));
        let mut clicked = None;
        let height = (ui.available_height() - 140.0).max(120.0);
        egui_extras::TableBuilder::new(ui)
            .striped(true)
            .sense(egui::Sense::click())
            .max_scroll_height(height)
            .column(egui_extras::Column::auto().at_least(120.0))
            .column(egui_extras::Column::auto().at_least(100.0))
            .column(egui_extras::Column::remainder().at_least(200.0))
            .column(egui_extras::Column::auto().at_least(140.0))
            .column(egui_extras::Column::auto().at_least(160.0))
            .header(20.0, |mut header| {
                for title in ["Date", "Type", "Label", "Amount (BTC)", "Status"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, shown.len(), |mut row| {
                    let record = shown[row.index()];
                    row.set_selected(self.selected == Some(record.txid));
                    // Cells do not take the click (labels are selectable by
                    // default): the row does.
                    let cell = |ui: &mut egui::Ui, text: String| {
                        ui.add(egui::Label::new(text).selectable(false));
                    };
                    row.col(|ui| cell(ui, date(record.time)));
                    row.col(|ui| cell(ui, type_name(record).to_string()));
                    let who = record
                        .label
                        .clone()
                        .filter(|l| !l.is_empty())
                        .or_else(|| record.address.clone())
                        .unwrap_or_else(|| "(n/a)".into());
                    row.col(|ui| cell(ui, who));
                    row.col(|ui| cell(ui, amount::signed_btc(record.amount)));
                    row.col(|ui| cell(ui, status(record)));
                    if row.response().clicked() {
                        clicked = Some(record.txid);
                    }
                });
            });
        if let Some(txid) = clicked {
            self.selected = Some(txid);
            self.shown_details = None;
            if let Some(wallet) = wallet.clone() {
                self.details = Some(Task::spawn(ui.ctx(), move || wallet.get_transaction(&txid)));
            }
        }
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Export to:");
            ui.add(egui::TextEdit::singleline(&mut self.export_path).desired_width(320.0))
                .labelled_by(label.id);
            if ui.button("Export CSV").clicked() {
                self.message = Some(self.export(&shown));
            }
            let can_abandon = self.selected.is_some() && self.abandoning.is_none();
            if ui
                .add_enabled(can_abandon, egui::Button::new("Abandon transaction"))
                .clicked()
            {
                if let (Some(txid), Some(wallet)) = (self.selected, wallet.clone()) {
                    self.abandoning = Some(Task::spawn(ui.ctx(), move || {
                        wallet.abandon_transaction(&txid)
                    }));
                }
            }
        });
        crate::pages::outcome(ui, &self.message);
        if let Some(details) = &self.shown_details {
            ui.separator();
            match details {
                Ok(details) => {
                    ui.label(format!("Transaction ID: {}", details.tx.compute_txid()));
                    ui.label(format!("Status: {} confirmations", details.confirmations));
                    ui.label(format!("Date: {}", date(details.time)));
                    ui.label(format!(
                        "Net amount: {}",
                        amount::signed_btc(details.amount)
                    ));
                    if let Some(fee) = details.fee {
                        ui.label(format!("Transaction fee: {}", amount::btc(fee)));
                    }
                    ui.label(format!(
                        "Transaction total size: {} bytes, virtual size: {} vB",
                        bitcoin::consensus::encode::serialize(&details.tx).len(),
                        details.tx.vsize()
                    ));
                }
                Err(error) => {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
            }
        }
    }

    fn export(&self, shown: &[&TxRecord]) -> Result<String, String> {
        let path = self.export_path.trim();
        if path.is_empty() {
            return Err("Type the file to export to first.".into());
        }
        std::fs::write(path, csv(shown))
            .map(|()| format!("Exported {} entries to {path}", shown.len()))
            .map_err(|e| format!("Exporting Failed: could not write {path}: {e}"))
    }

    fn collect(&mut self) {
        match task::take(&mut self.loading) {
            Some(Ok(Ok(mut records))) => {
                records.reverse();
                self.records = records;
            }
            Some(Ok(Err(error))) | Some(Err(error)) => {
                self.loaded_for = None;
                self.message = Some(Err(format!("The history could not be read: {error}")));
            }
            None => {}
        }
        if let Some(outcome) = task::take(&mut self.details) {
            self.shown_details = Some(outcome.and_then(|r| r));
        }
        match task::take(&mut self.abandoning) {
            Some(Ok(Ok(()))) => self.message = Some(Ok("Transaction abandoned.".into())),
            Some(Ok(Err(error))) | Some(Err(error)) => self.message = Some(Err(error)),
            None => {}
        }
    }
}

/// Net amount of a record list (tests and the overview's recent list).
pub fn total(records: &[TxRecord]) -> SignedAmount {
    records.iter().map(|r| r.amount).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    fn record(category: TxCategory, sats: i64, confirmations: i64) -> TxRecord {
        TxRecord {
            txid: Txid::all_zeros(),
            vout: 0,
            category,
            address: Some("bcrt1qexample".into()),
            label: Some("rent \"May\"".into()),
            amount: SignedAmount::from_sat(sats),
            fee: None,
            confirmations,
            time: 1_700_000_000,
            abandoned: false,
            trusted: confirmations > 0,
        }
    }

    #[test]
    fn statuses_and_types_read_as_in_core() {
        assert_eq!(status(&record(TxCategory::Receive, 1, 0)), "Unconfirmed");
        assert_eq!(
            status(&record(TxCategory::Receive, 1, 2)),
            "Confirming (2 of 6 recommended confirmations)"
        );
        assert_eq!(
            status(&record(TxCategory::Send, -1, 7)),
            "Confirmed (7 confirmations)"
        );
        assert_eq!(status(&record(TxCategory::Send, -1, -1)), "Conflicted");
        assert_eq!(type_name(&record(TxCategory::Immature, 1, 3)), "Mined");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(date(0), "1970-01-01 00:00");
    }

    #[test]
    fn filters_and_csv() {
        let records = [
            record(TxCategory::Receive, 150_000_000, 1),
            record(TxCategory::Send, -5_000, 0),
            record(TxCategory::Generate, 5_000_000_000, 101),
        ];
        let sent: Vec<_> = records
            .iter()
            .filter(|r| matches(r, Filter::Sent, ""))
            .collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            records
                .iter()
                .filter(|r| matches(r, Filter::All, "RENT"))
                .count(),
            3
        );
        assert_eq!(
            records
                .iter()
                .filter(|r| matches(r, Filter::All, "nothing"))
                .count(),
            0
        );
        let text = csv(&records.iter().collect::<Vec<_>>());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "\"Confirmed\",\"Date\",\"Type\",\"Label\",\"Address\",\"Amount (BTC)\",\"ID\""
        );
        assert_eq!(
            lines[2],
            format!(
                "\"false\",\"2023-11-14 22:13\",\"Sent to\",\"rent \"\"May\"\"\",\"bcrt1qexample\",\"-0.00005000\",\"{}\"",
                Txid::all_zeros()
            )
        );
        assert_eq!(total(&records), SignedAmount::from_sat(5_149_995_000));
    }
}
