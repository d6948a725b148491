//! The example program for the IPC layer, used by the tests and the
//! benchmark. Every mode serves or calls the same `Init` and `Echo` the
//! c1pzo executables do.
//!
//! ```text
//! c1pzo-echo [options] <message>          spawn a child, ask its Echo
//! c1pzo-echo [options] -ipcconnect=<addr> <message>
//!                                         ask the Echo of a listening process
//! c1pzo-echo [options] -ipcbind=<addr>... serve until stdin closes
//! c1pzo-echo -ipcfd <N>                   (the spawned child)
//! ```
//! Options: `-datadir=<dir>`, `-regtest` / `-chain=<name>`, `-debug=ipc`,
//! `-loglevel=ipc:trace`, `-ipcallowremote` (let tcp bind non-loopback).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ipc::client::InitClient;
use ipc::event_loop::LoopHandle;
use ipc::listen::Stream;
use ipc::log::Level;

const EXE: &str = "c1pzo-echo";

#[derive(Default)]
struct Options {
    datadir: Option<PathBuf>,
    chain: Option<String>,
    binds: Vec<String>,
    connect: Option<String>,
    allow_remote: bool,
    level: Option<Level>,
    message: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    for arg in args {
        let (key, value) = match arg.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (arg.as_str(), None),
        };
        match (key, value) {
            ("-datadir", Some(dir)) => options.datadir = Some(dir.into()),
            ("-regtest", None) => options.chain = Some("regtest".into()),
            ("-chain", Some(chain)) => options.chain = Some(chain.into()),
            ("-ipcbind", Some(address)) => options.binds.push(address.into()),
            ("-ipcconnect", Some(address)) => options.connect = Some(address.into()),
            ("-ipcallowremote", None) => options.allow_remote = true,
            ("-debug", Some("ipc")) => {
                options.level = Some(options.level.map_or(Level::Debug, |l| l.min(Level::Debug)))
            }
            ("-loglevel", Some("ipc:trace")) => options.level = Some(Level::Trace),
            (key, _) if key.starts_with('-') => return Err(format!("Invalid parameter {arg}")),
            _ => options.message.push(arg.clone()),
        }
    }
    Ok(options)
}

impl Options {
    /// Bitcoin Core's network data dir: the data dir itself on main,
    /// `<datadir>/<chain>` otherwise.
    fn network_dir(&self) -> PathBuf {
        let datadir = self.datadir.clone().unwrap_or_else(|| PathBuf::from("."));
        match self.chain.as_deref() {
            None | Some("main") => datadir,
            Some(chain) => datadir.join(chain),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match ipc::process::spawned_socket(&args) {
        Ok(Some(stream)) => ipc::serve::serve_parent(stream).map_err(|e| e.to_string()),
        Ok(None) => run(&args),
        Err(err) => Err(err.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    if let Some(level) = options.level {
        ipc::log::init(EXE, level, Arc::new(|_, line| eprintln!("[ipc] {line}")));
    }
    let network_dir = options.network_dir();
    if !options.binds.is_empty() {
        return serve(&options, &network_dir);
    }
    let message = options.message.join(" ");
    let handle = LoopHandle::start().map_err(|e| e.to_string())?;
    match options.connect.as_deref() {
        Some(address) => {
            let stream = ipc::listen::connect(address, &network_dir)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("nothing listens for IPC at {address}"))?;
            println!("{}", ask(&handle, stream, &message)?);
            Ok(())
        }
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let spawned = ipc::process::spawn(&exe).map_err(|e| e.to_string())?;
            let stream = spawned.stream.try_clone().map_err(|e| e.to_string())?;
            let reply = ask(&handle, Stream::from(stream), &message)?;
            let status = spawned.reap(EXE).map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("the child exited with {status}"));
            }
            println!("{reply}");
            Ok(())
        }
    }
}

fn ask(handle: &LoopHandle, stream: Stream, message: &str) -> Result<String, String> {
    let init = InitClient::connect(handle, stream).map_err(|e| e.to_string())?;
    let echo = init.make_echo().map_err(|e| e.to_string())?;
    echo.echo(message).map_err(|e| e.to_string())
}

fn serve(options: &Options, network_dir: &std::path::Path) -> Result<(), String> {
    let mut listeners = Vec::new();
    for value in &options.binds {
        let bound = ipc::listen::parse_address(value, network_dir)
            .and_then(|address| ipc::listen::bind(&address, network_dir, options.allow_remote))
            .map_err(|e| format!("Unable to bind to IPC address '{value}'. {e}"))?;
        let address = bound.local_address().map_err(|e| e.to_string())?;
        eprintln!("Listening for IPC requests on address {address}");
        listeners.push(bound);
    }
    // Serves until stdin closes: the tests' (and a shell's) way to stop it.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = stop.send(());
    });
    ipc::serve::listen_blocking(listeners, async {
        let _ = stopped.await;
    })
    .map_err(|e| e.to_string())
}
