//! The c1pzo GUI: egui pages over the front-end interfaces ([`interfaces::Node`]
//! and the [`interfaces::Wallet`]s it hands out), and nothing else. Which
//! node it talks to, in this process (`c1pzo-qt`) or over IPC
//! (`c1pzo-gui`), is the executable's choice, made before [`run`].

pub mod amount;
pub mod app;
pub mod bip21;
pub mod console_parser;
pub mod model;
pub mod pages;
pub mod settings;
pub mod task;

pub use app::App;
pub use model::{Frontend, Health, Restart};

/// How the window starts.
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowOptions {
    /// `-min`.
    pub minimized: bool,
}

/// Opens the main window and returns when it closes.
pub fn run(title: &str, frontend: Frontend, window: WindowOptions) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_app_id("c1pzo")
            .with_inner_size([900.0, 600.0]),
        // The GUI's own settings file is kept per data directory
        // (`settings`); eframe's would be one per user.
        persist_window: false,
        ..Default::default()
    };
    eframe::run_native(
        title,
        options,
        Box::new(move |cc| {
            if window.minimized {
                cc.egui_ctx
                    .send_viewport_cmd(egui::ViewportCommand::Minimized(true));
            }
            Ok(Box::new(App::new(&cc.egui_ctx, frontend)))
        }),
    )
    .map_err(|e| format!("the window could not be opened: {e}"))
}
