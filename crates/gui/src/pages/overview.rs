//! Overview: the selected wallet's balances as Core's GUI names them
//! (Available, Pending, Immature, Total), masked on request.

use bitcoin::Amount;

use crate::amount;
use crate::model::WalletView;

pub fn show(ui: &mut egui::Ui, wallet: Option<&WalletView>, mask: bool) {
    ui.heading("Balances");
    let Some(wallet) = wallet else {
        ui.label("No wallet is loaded. Create or open one from the File menu.");
        return;
    };
    match &wallet.balances {
        Err(error) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Balances unavailable: {error}"),
            );
        }
        Ok(balances) => {
            let total = balances.trusted + balances.untrusted_pending + balances.immature;
            egui::Grid::new("balances").num_columns(2).show(ui, |ui| {
                let row = |ui: &mut egui::Ui, name: &str, value: Amount| {
                    let label = ui.label(format!("{name}:"));
                    ui.label(amount::shown(value, mask)).labelled_by(label.id);
                    ui.end_row();
                };
                row(ui, "Available", balances.trusted);
                row(ui, "Pending", balances.untrusted_pending);
                if balances.immature > Amount::ZERO {
                    row(ui, "Immature", balances.immature);
                }
                ui.separator();
                ui.end_row();
                row(ui, "Total", total);
            });
        }
    }
}
