//! The executables' mains, kept in a library so the multiprocess twins
//! (`c1pzo-node`, later) start the same way: [`daemon`] for `c1pzod`,
//! [`cli_main`] for `c1pzo-cli`.

pub mod cli_main;
pub mod daemon;
pub mod wallet_tool;

/// The version string every executable prints.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
