//! Receive: a fresh address with a label, amount and message, shown as a
//! BIP21 URI and its QR code, and the requests made this session.

use std::sync::Arc;

use bitcoin::Network;
use interfaces::Wallet;

use crate::bip21::{self, PaymentRequest};
use crate::task::{self, Task};

/// The address types the wallet knows, as Core names them.
const ADDRESS_TYPES: &[(&str, &str)] = &[
    ("", "Default"),
    ("bech32", "Native SegWit (bech32)"),
    ("bech32m", "Taproot (bech32m)"),
    ("p2sh-segwit", "Nested SegWit (p2sh-segwit)"),
    ("legacy", "Legacy (base58)"),
];

#[derive(Default)]
pub struct Receive {
    label: String,
    amount: String,
    message: String,
    address_type: usize,
    error: Option<String>,
    pending: Option<Task<Result<String, String>>>,
    /// Newest first.
    pub requests: Vec<PaymentRequest>,
    shown: Option<Shown>,
}

struct Shown {
    uri: String,
    qr: Option<egui::TextureHandle>,
}

impl Receive {
    pub fn show(&mut self, ui: &mut egui::Ui, wallet: Option<Arc<dyn Wallet>>, network: Network) {
        self.collect(ui.ctx(), network);
        ui.heading("Request payment");
        egui::Grid::new("receive_form")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label("Label:");
                ui.text_edit_singleline(&mut self.label)
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Amount (BTC):");
                ui.text_edit_singleline(&mut self.amount)
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Message:");
                ui.text_edit_singleline(&mut self.message)
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Address type:");
                egui::ComboBox::from_id_salt("address_type")
                    .selected_text(ADDRESS_TYPES[self.address_type].1)
                    .show_ui(ui, |ui| {
                        for (index, (_, name)) in ADDRESS_TYPES.iter().enumerate() {
                            ui.selectable_value(&mut self.address_type, index, *name);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
            });
        let ready = wallet.is_some() && self.pending.is_none();
        if ui
            .add_enabled(ready, egui::Button::new("Create new receiving address"))
            .clicked()
        {
            self.request(ui.ctx(), wallet);
        }
        if self.pending.is_some() {
            ui.spinner();
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if let Some(shown) = &self.shown {
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("URI:");
                ui.add(
                    egui::Label::new(egui::RichText::new(&shown.uri).monospace()).selectable(true),
                );
                if ui.button("Copy URI").clicked() {
                    ui.ctx().copy_text(shown.uri.clone());
                }
            });
            if let Some(qr) = &shown.qr {
                ui.add(
                    egui::Image::new(qr)
                        .fit_to_exact_size(egui::vec2(220.0, 220.0))
                        .alt_text("QR code of the URI"),
                );
            }
        }
        if !self.requests.is_empty() {
            ui.separator();
            ui.heading("Requested payments history");
            egui::Grid::new("requests")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    for title in ["Label", "Message", "Amount", "Address"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for request in &self.requests {
                        ui.label(&request.label);
                        ui.label(&request.message);
                        ui.label(request.amount.map(bip21::format_btc).unwrap_or_default());
                        ui.monospace(request.address.to_string());
                        ui.end_row();
                    }
                });
        }
    }

    fn request(&mut self, ctx: &egui::Context, wallet: Option<Arc<dyn Wallet>>) {
        self.error = None;
        if !self.amount.trim().is_empty() {
            if let Err(error) = bip21::parse_btc(&self.amount) {
                self.error = Some(error.to_string());
                return;
            }
        }
        let Some(wallet) = wallet else { return };
        let label = self.label.clone();
        let address_type = ADDRESS_TYPES[self.address_type].0;
        self.pending = Some(Task::spawn(ctx, move || {
            wallet.get_new_address(&label, address_type)
        }));
    }

    fn collect(&mut self, ctx: &egui::Context, network: Network) {
        let Some(outcome) = task::take(&mut self.pending) else {
            return;
        };
        let made = outcome.and_then(|answer| answer).and_then(|address| {
            let address = bip21::parse_address(&address, network).map_err(|e| e.to_string())?;
            let amount = match self.amount.trim() {
                "" => None,
                text => Some(bip21::parse_btc(text).map_err(|e| e.to_string())?),
            };
            Ok(PaymentRequest {
                address,
                amount,
                label: self.label.clone(),
                message: self.message.clone(),
            })
        });
        match made {
            Err(error) => self.error = Some(error),
            Ok(request) => {
                let uri = bip21::format(&request);
                let qr = qr_texture(ctx, &uri);
                self.shown = Some(Shown { uri, qr });
                self.requests.insert(0, request);
                self.label.clear();
                self.amount.clear();
                self.message.clear();
            }
        }
    }
}

/// The URI as a QR code texture (a light border of four modules, as the
/// standard asks), or none when it is too long to encode.
fn qr_texture(ctx: &egui::Context, text: &str) -> Option<egui::TextureHandle> {
    let code = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let border = 4;
    let side = (code.size() + 2 * border) as usize;
    let mut pixels = Vec::with_capacity(side * side);
    for y in 0..side as i32 {
        for x in 0..side as i32 {
            let dark = code.get_module(x - border, y - border);
            pixels.push(if dark {
                egui::Color32::BLACK
            } else {
                egui::Color32::WHITE
            });
        }
    }
    let image = egui::ColorImage::new([side, side], pixels);
    Some(ctx.load_texture("receive_qr", image, egui::TextureOptions::NEAREST))
}
