//! `c1pzo`: one command in front of the suite's executables, as Bitcoin
//! Core's `bitcoin` wrapper: `c1pzo [-m|-M] node|wallet|rpc|gui [args]`
//! runs `c1pzod`/`c1pzo-node`, `c1pzo-wallet`, `c1pzo-cli` or the GUI
//! from its own directory (or `../libexec`). The multiprocess node is
//! chosen by `-m`, or when `-ipcbind`, `-ipcconnect` or `-ipcfd` appear on
//! the command line or in the config file; `-M` forces the monolithic one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "Usage: c1pzo [-m|-M] <command> [args]

Commands:
  node     Start the node (c1pzod, or c1pzo-node with -m)
  wallet   The wallet tool (c1pzo-wallet)
  rpc      Call the node's RPC (c1pzo-cli)
  gui      Start the GUI (c1pzo-qt, or c1pzo-gui with -m)
  help     Show this help

Options:
  -m, --multiprocess   Run the multiprocess executable
  -M, --monolithic     Run the monolithic executable
";

/// What the wrapper decided to run.
#[derive(Debug, PartialEq, Eq)]
pub struct Choice {
    pub exe: &'static str,
    pub args: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Run(Choice),
    Help,
    Error(String),
}

/// Picks the executable for `argv` (without argv[0]); `config_mentions_ipc`
/// tells whether the config file sets an IPC option.
pub fn decide(argv: &[String], config_mentions_ipc: &dyn Fn(&[String]) -> bool) -> Decision {
    let mut multiprocess = None;
    let mut rest = argv.iter();
    let command = loop {
        match rest.next().map(String::as_str) {
            Some("-m") | Some("--multiprocess") => multiprocess = Some(true),
            Some("-M") | Some("--monolithic") => multiprocess = Some(false),
            Some("help") | Some("-h") | Some("-help") | Some("--help") | None => {
                return Decision::Help
            }
            Some(option) if option.starts_with('-') => {
                return Decision::Error(format!("unknown option '{option}'"))
            }
            Some(command) => break command.to_string(),
        }
    };
    let args: Vec<String> = rest.cloned().collect();
    let ipc = || {
        args.iter().any(|a| {
            let name = a.trim_start_matches('-');
            ["ipcbind", "ipcconnect", "ipcfd"]
                .iter()
                .any(|o| name == *o || name.starts_with(&format!("{o}=")))
        }) || config_mentions_ipc(&args)
    };
    let exe = match command.as_str() {
        "node" => {
            if multiprocess.unwrap_or_else(ipc) {
                "c1pzo-node"
            } else {
                "c1pzod"
            }
        }
        "gui" => {
            if multiprocess.unwrap_or_else(ipc) {
                "c1pzo-gui"
            } else {
                "c1pzo-qt"
            }
        }
        "wallet" => "c1pzo-wallet",
        "rpc" => "c1pzo-cli",
        other => return Decision::Error(format!("unknown command '{other}'")),
    };
    Decision::Run(Choice { exe, args })
}

/// Whether the config file the node would read sets an IPC option
/// (`-conf`, else `<datadir>/c1pzo.conf`; any section).
fn config_mentions_ipc(args: &[String]) -> bool {
    let value = |name: &str| {
        args.iter()
            .rev()
            .find_map(|a| a.strip_prefix(&format!("-{name}=")).map(str::to_string))
    };
    let datadir = value("datadir")
        .map(PathBuf::from)
        .unwrap_or_else(common::datadir::default_datadir);
    let conf = match value("conf") {
        Some(conf) if Path::new(&conf).is_relative() => datadir.join(conf),
        Some(conf) => PathBuf::from(conf),
        None => datadir.join("c1pzo.conf"),
    };
    std::fs::read_to_string(conf)
        .map(|text| {
            text.lines().any(|line| {
                let key = line.trim().split('=').next().unwrap_or("").trim();
                let key = key.rsplit('.').next().unwrap_or(key);
                matches!(key, "ipcbind" | "ipcconnect" | "ipcfd")
            })
        })
        .unwrap_or(false)
}

/// Where the executable lives: beside this one, else across an installed
/// tree (`bin/` to `libexec/`); the places looked in when it is nowhere.
fn locate(exe: &str) -> Result<PathBuf, String> {
    let here = std::env::current_exe().map_err(|e| format!("cannot find c1pzo itself: {e}"))?;
    let dir = here.parent().unwrap_or(Path::new("."));
    crate::install_layout::find(dir, exe).map_err(|places| crate::install_layout::describe(&places))
}

pub fn main(argv: &[String]) -> ExitCode {
    match decide(argv, &config_mentions_ipc) {
        Decision::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Decision::Error(message) => {
            eprintln!("Error: {message}\n\n{USAGE}");
            ExitCode::FAILURE
        }
        Decision::Run(choice) => {
            let path = match locate(choice.exe) {
                Ok(path) => path,
                Err(places) => {
                    let hint = if choice.exe == "c1pzo-node" {
                        " (build with `cargo xtask build MULTIPROCESS=1`)"
                    } else {
                        ""
                    };
                    eprintln!("Error: {} not found: looked for {places}{hint}", choice.exe);
                    return ExitCode::FAILURE;
                }
            };
            let mut command = std::process::Command::new(&path);
            command.args(&choice.args);
            let error = crate::platform::run_instead(command);
            eprintln!("Error: cannot run {}: {error}", path.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn exe(list: &[&str], config: bool) -> &'static str {
        match decide(&words(list), &|_| config) {
            Decision::Run(choice) => choice.exe,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_node_is_multiprocess_when_asked_or_when_ipc_options_appear() {
        assert_eq!(exe(&["node", "-regtest"], false), "c1pzod");
        assert_eq!(exe(&["-m", "node"], false), "c1pzo-node");
        assert_eq!(exe(&["node", "-ipcbind=unix"], false), "c1pzo-node");
        assert_eq!(exe(&["node", "-ipcconnect=auto"], false), "c1pzo-node");
        assert_eq!(exe(&["node"], true), "c1pzo-node");
        assert_eq!(exe(&["-M", "node", "-ipcbind=unix"], false), "c1pzod");
        assert_eq!(exe(&["rpc", "getblockcount"], false), "c1pzo-cli");
        assert_eq!(exe(&["wallet", "info"], false), "c1pzo-wallet");
        assert_eq!(exe(&["-m", "gui"], false), "c1pzo-gui");
    }

    #[test]
    fn arguments_after_the_command_pass_through_untouched() {
        let Decision::Run(choice) = decide(&words(&["rpc", "-m", "echo", "x"]), &|_| false) else {
            panic!()
        };
        assert_eq!(choice.args, words(&["-m", "echo", "x"]));
        assert_eq!(decide(&words(&[]), &|_| false), Decision::Help);
        assert!(matches!(
            decide(&words(&["fly"]), &|_| false),
            Decision::Error(m) if m == "unknown command 'fly'"
        ));
        assert!(matches!(
            decide(&words(&["-x", "node"]), &|_| false),
            Decision::Error(_)
        ));
    }
}
