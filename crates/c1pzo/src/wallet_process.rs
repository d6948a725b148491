//! The multiprocess wallet (`c1pzo-node` with `c1pzo-wallet -ipcfd`): the
//! node spawns one wallet process and hands it its `Chain`; the wallet
//! process hosts every loaded wallet and registers their RPCs through that
//! `Chain`. Built with the `multiprocess` feature.

use std::path::Path;
use std::sync::Arc;

use interfaces::{Chain, WalletLoader};
use ipc::client::InitClient;
use ipc::event_loop::LoopHandle;
use ipc::listen::Stream;
use ipc::process::Spawned;
use ipc::serve::{init_bootstrap_with, serve_parent_with, MakeWalletLoader, Services};
use wallet::manager::WalletContext;

/// The executable the node spawns, next to its own.
pub const WALLET_EXE: &str = "c1pzo-wallet";

/// The node's side of its wallet process.
pub struct WalletProcess {
    pub loader: Arc<dyn WalletLoader>,
    init: Option<InitClient>,
    spawned: Option<Spawned>,
    /// Keeps the event loop alive as long as the proxies need it.
    _handle: LoopHandle,
}

impl WalletProcess {
    /// Spawns `c1pzo-wallet -ipcfd 3` from `exe_dir` and gives it `chain`.
    pub fn spawn(exe_dir: &Path, chain: Arc<dyn Chain>) -> Result<WalletProcess, String> {
        let exe = exe_dir.join(WALLET_EXE);
        let spawned = ipc::process::spawn(&exe).map_err(|e| e.to_string())?;
        let handle = LoopHandle::start().map_err(|e| e.to_string())?;
        let stream = spawned.stream.try_clone().map_err(|e| e.to_string())?;
        let init = InitClient::connect(&handle, Stream::Unix(stream)).map_err(|e| e.to_string())?;
        let loader = init
            .make_wallet_loader(chain)
            .map_err(|e| format!("{WALLET_EXE} did not start its wallet loader: {e}"))?;
        Ok(WalletProcess {
            loader: Arc::new(loader),
            init: Some(init),
            spawned: Some(spawned),
            _handle: handle,
        })
    }

    /// The wallet process's pid.
    pub fn pid(&self) -> Option<u32> {
        self.spawned.as_ref().map(|s| s.child.id())
    }

    /// Unloads the wallets, closes the socket and waits for the process
    /// to exit (it leaves when the socket closes).
    pub fn stop(&mut self) {
        self.loader.stop();
        self.loader = Arc::new(Stopped);
        self.init = None;
        if let Some(spawned) = self.spawned.take() {
            let _ = spawned.reap(WALLET_EXE);
        }
    }
}

impl Drop for WalletProcess {
    fn drop(&mut self) {
        if self.spawned.is_some() {
            self.stop();
        }
    }
}

/// What the loader becomes once the process is gone.
struct Stopped;

impl WalletLoader for Stopped {
    fn register_rpcs(&self) {}
    fn load_wallets(&self, _: &[String]) -> Result<(), String> {
        Err("the wallet process has stopped".into())
    }
    fn stop(&self) {}
}

/// `c1pzo-wallet -ipcfd <N>`: serves `Init` with a wallet loader to the
/// parent node until it closes the socket.
pub fn serve_node(stream: std::os::unix::net::UnixStream) -> std::io::Result<()> {
    let make: MakeWalletLoader =
        Arc::new(
            |chain: Arc<dyn Chain>| match WalletContext::from_node_args(chain) {
                Ok(context) => context as Arc<dyn WalletLoader>,
                Err(error) => Arc::new(Misconfigured(error)) as Arc<dyn WalletLoader>,
            },
        );
    serve_parent_with(
        stream,
        init_bootstrap_with(Services {
            chain: None,
            wallet_loader: Some(make),
        }),
    )
}

/// A loader that could not be configured: every request says why.
struct Misconfigured(String);

impl WalletLoader for Misconfigured {
    fn register_rpcs(&self) {}
    fn load_wallets(&self, _: &[String]) -> Result<(), String> {
        Err(self.0.clone())
    }
    fn stop(&self) {}
}
