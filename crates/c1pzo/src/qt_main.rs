//! `c1pzo-qt`: the node, its wallets and the GUI in one process. The node
//! starts as `c1pzod` would (with Core's GUI options added and the RPC
//! server off unless `-server`), the window gets it in process, and
//! closing the window stops the node; `stop` from anywhere closes it.

use std::process::ExitCode;
use std::sync::Arc;

use crate::daemon::{self, Executable, Program, Started};

pub fn main(argv: &[String]) -> ExitCode {
    let program = Program {
        executable: Executable::Monolithic,
        gui: true,
    };
    let running = match daemon::start(argv, program) {
        Ok(Started::Exit(code)) => return code,
        Ok(Started::Running(running)) => running,
        Err(fatal) => return fatal.report(),
    };
    let settings = gui::settings::SettingsFile::in_dir(&running.network_dir);
    if running.args.get_bool("resetguisettings", false) {
        match settings.reset() {
            Ok(done) => log(&done),
            Err(error) => log(&format!(
                "Could not reset the GUI settings {}: {error}",
                settings.path.display()
            )),
        }
    }
    let frontend = gui::Frontend {
        node: running.front_end(),
        network: running.network,
        network_dir: running.network_dir.clone(),
        health: Arc::new(gui::Health::default()),
        restart: None,
    };
    let title = format!(
        "c1pzo - Wallet [{}]",
        gui::bip21::network_name(running.network)
    );
    let shown = gui::run(
        &title,
        frontend,
        gui::WindowOptions {
            minimized: running.args.get_bool("min", false),
        },
    );
    let code = running.finish();
    match shown {
        Ok(()) => code,
        Err(error) => {
            eprintln!("Error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn log(line: &str) {
    if let Some(logger) = common::logging::global() {
        logger.info(format_args!("{line}"));
    }
}
