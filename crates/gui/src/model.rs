//! What the window shows about the node and its wallets, kept fresh by a
//! follower thread: it waits for the tip to move (`Node::wait_tip_changed`,
//! half a second at most), then reads the rest, so the UI thread never
//! makes a call that could block on another process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Network};
use interfaces::{BlockTip, Node, Wallet, WalletBalances};

/// Starts a fresh node after the old one died (`c1pzo-gui`, which spawned
/// it); none where the GUI cannot (the node is in this process, or was
/// only attached to).
pub type Restart = Arc<dyn Fn() -> Result<Arc<dyn Node>, String> + Send + Sync>;

/// Everything the GUI is given by its executable's main.
pub struct Frontend {
    pub node: Arc<dyn Node>,
    pub network: Network,
    /// The network's data directory: the GUI's settings live there.
    pub network_dir: PathBuf,
    pub health: Arc<Health>,
    pub restart: Option<Restart>,
}

/// Whether the node (or its wallet process) can still be reached: the
/// IPC binding reports a lost connection here, and the window says so.
#[derive(Default)]
pub struct Health {
    lost: Mutex<Option<String>>,
}

impl Health {
    pub fn report_lost(&self, why: String) {
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        lost.get_or_insert(why);
    }

    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn clear(&self) {
        *self.lost.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// One wallet as the window knows it.
#[derive(Clone)]
pub struct WalletView {
    pub name: String,
    pub handle: Arc<dyn Wallet>,
    pub balances: Result<WalletBalances, String>,
    pub crypted: bool,
    pub locked: bool,
    /// `Wallet::wait_changed`'s count when the figures were read (0
    /// until the wallet follower first saw it).
    pub revision: u64,
}

/// The latest facts, replaced whole by the follower.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub tip: Option<BlockTip>,
    pub mempool_size: u64,
    pub connections: u64,
    pub network_active: bool,
    pub wallets: Vec<WalletView>,
    pub shutdown_requested: bool,
    /// How many times the follower has refreshed (tests wait on it).
    pub generation: u64,
}

impl Snapshot {
    pub fn wallet(&self, name: &str) -> Option<&WalletView> {
        self.wallets.iter().find(|w| w.name == name)
    }
}

pub struct Model {
    node: Arc<Mutex<Arc<dyn Node>>>,
    snapshot: Arc<Mutex<Snapshot>>,
    /// The wallet the window shows, whose changes are waited on.
    selected: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    followers: Vec<std::thread::JoinHandle<()>>,
}

impl Model {
    pub fn start(ctx: &egui::Context, node: Arc<dyn Node>, health: Arc<Health>) -> Model {
        let node = Arc::new(Mutex::new(node));
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let selected = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let tip = {
            let (node, snapshot, stop, ctx, health) = (
                node.clone(),
                snapshot.clone(),
                stop.clone(),
                ctx.clone(),
                health.clone(),
            );
            std::thread::Builder::new()
                .name("c1pzo-gui-follow".into())
                .spawn(move || follow(&node, &snapshot, &stop, &health, &ctx))
                .expect("spawning the GUI's follower thread")
        };
        let wallet = {
            let (snapshot, selected, stop, ctx) = (
                snapshot.clone(),
                selected.clone(),
                stop.clone(),
                ctx.clone(),
            );
            std::thread::Builder::new()
                .name("c1pzo-gui-wallet".into())
                .spawn(move || follow_wallet(&snapshot, &selected, &stop, &health, &ctx))
                .expect("spawning the GUI's wallet follower thread")
        };
        Model {
            node,
            snapshot,
            selected,
            stop,
            followers: vec![tip, wallet],
        }
    }

    /// Which wallet's changes to wait on.
    pub fn select_wallet(&self, name: Option<String>) {
        let mut selected = lock(&self.selected);
        if *selected != name {
            *selected = name;
        }
    }

    pub fn node(&self) -> Arc<dyn Node> {
        lock(&self.node).clone()
    }

    /// After a restart: follow the new node.
    pub fn replace_node(&self, node: Arc<dyn Node>) {
        *lock(&self.node) = node;
    }

    pub fn snapshot(&self) -> Snapshot {
        lock(&self.snapshot).clone()
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for follower in self.followers.drain(..) {
            let _ = follower.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn follow(
    node: &Mutex<Arc<dyn Node>>,
    snapshot: &Mutex<Snapshot>,
    stop: &AtomicBool,
    health: &Health,
    ctx: &egui::Context,
) {
    let mut current = BlockHash::all_zeros();
    let mut generation = 0;
    while !stop.load(Ordering::SeqCst) {
        let node = lock(node).clone();
        if health.lost().is_some() {
            // Calls would fail at once; do not spin.
            std::thread::sleep(Duration::from_millis(250));
            ctx.request_repaint();
            continue;
        }
        let tip = node.wait_tip_changed(&current, 500);
        current = tip.hash;
        let revisions: BTreeMap<String, u64> = lock(snapshot)
            .wallets
            .iter()
            .map(|w| (w.name.clone(), w.revision))
            .collect();
        let wallets = node
            .get_wallets()
            .into_iter()
            .map(|handle| {
                let name = handle.get_wallet_name();
                WalletView {
                    revision: revisions.get(&name).copied().unwrap_or(0),
                    name,
                    balances: handle.get_balances(),
                    crypted: handle.is_crypted(),
                    locked: handle.is_locked(),
                    handle,
                }
            })
            .collect::<Vec<_>>();
        let mut sorted: BTreeMap<String, WalletView> = BTreeMap::new();
        for wallet in wallets {
            sorted.insert(wallet.name.clone(), wallet);
        }
        generation += 1;
        let fresh = Snapshot {
            tip: Some(tip),
            mempool_size: node.get_mempool_size(),
            connections: node.get_connection_count(),
            network_active: node.get_network_active(),
            wallets: sorted.into_values().collect(),
            shutdown_requested: node.shutdown_requested(),
            generation,
        };
        *lock(snapshot) = fresh;
        ctx.request_repaint();
    }
}

/// Waits on the selected wallet's changes (`Wallet::wait_changed`, half
/// a second at most) and refreshes its figures the moment one happens,
/// instead of at the next tip.
fn follow_wallet(
    snapshot: &Mutex<Snapshot>,
    selected: &Mutex<Option<String>>,
    stop: &AtomicBool,
    health: &Health,
    ctx: &egui::Context,
) {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    while !stop.load(Ordering::SeqCst) {
        let name = lock(selected).clone();
        let handle = name
            .as_ref()
            .and_then(|name| lock(snapshot).wallet(name).map(|w| w.handle.clone()));
        let (Some(name), Some(handle)) = (name, handle) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        if health.lost().is_some() {
            std::thread::sleep(Duration::from_millis(250));
            continue;
        }
        let last = seen.get(&name).copied().unwrap_or(u64::MAX);
        let now = handle.wait_changed(last, 500);
        if now == last {
            continue;
        }
        seen.insert(name.clone(), now);
        let balances = handle.get_balances();
        let (crypted, locked) = (handle.is_crypted(), handle.is_locked());
        if let Some(view) = lock(snapshot).wallets.iter_mut().find(|w| w.name == name) {
            view.balances = balances;
            view.crypted = crypted;
            view.locked = locked;
            view.revision = now;
        }
        ctx.request_repaint();
    }
}
