//! The executables' mains, kept in a library so the multiprocess twins
//! start the same way: [`daemon`] for `c1pzod` and `c1pzo-node`,
//! [`cli_main`] for `c1pzo-cli`, [`wallet_tool`] for `c1pzo-wallet` (and,
//! with the `multiprocess` feature, [`wallet_process`] for its `-ipcfd`
//! role), [`qt_main`] for `c1pzo-qt` (with the `gui` feature).

pub mod cli_main;
pub mod daemon;
pub mod install_layout;
pub mod platform;
#[cfg(feature = "gui")]
pub mod qt_main;
pub mod rpc_setup;
#[cfg(feature = "multiprocess")]
pub mod wallet_process;
pub mod wallet_tool;
pub mod wrapper;

/// The version string every executable prints.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
