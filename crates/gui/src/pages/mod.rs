//! One module per page or window part; each owns its state and draws
//! itself from the model's snapshot.

pub mod console;
pub mod overview;
pub mod peers;
pub mod receive;
pub mod send;
pub mod transactions;
pub mod wallets;

/// A page's last outcome: plain when it worked, in the error colour when
/// it did not.
pub fn outcome(ui: &mut egui::Ui, message: &Option<Result<String, String>>) {
    match message {
        Some(Ok(text)) => {
            ui.label(text);
        }
        Some(Err(text)) => {
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        None => {}
    }
}
