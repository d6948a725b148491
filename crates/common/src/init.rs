//! The shared start of every executable after the command line is parsed:
//! find the data directory, read the config file, pick the chain, create
//! the chain's directory (Core's `InitConfig`). The error type carries
//! Core's full messages; executables print them after `Error: `.

use std::io;
use std::path::PathBuf;

use crate::args::{Args, ArgsError, UnknownKeys};
use crate::chainparams::{ChainError, ChainType, UnsupportedChain};
use crate::datadir::{self, DataDirError};

/// Why startup configuration failed. `Display` is the text Core prints
/// after `Error: `.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The command line could not be parsed (not produced by
    /// [`init_config`]; for the executables' own use).
    #[error("Error parsing command line arguments: {0}")]
    CommandLine(ArgsError),
    /// `-datadir` names no usable directory.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The config file could not be read.
    #[error("Error reading configuration file: {0}")]
    ConfigFile(ArgsError),
    /// The chain options contradict each other or name no chain.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The chain is not one c1pzo runs on yet.
    #[error(transparent)]
    Unsupported(#[from] UnsupportedChain),
    /// The data directory could not be created.
    #[error("Could not create data directory {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl From<ArgsError> for InitError {
    /// Chain errors met while reading the config keep their bare message,
    /// as in Core; everything else is a config file error.
    fn from(error: ArgsError) -> Self {
        match error {
            ArgsError::Chain(chain) => InitError::Chain(chain),
            other => InitError::ConfigFile(other),
        }
    }
}

/// Where a started executable keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirs {
    /// The chain selected by the options.
    pub chain: ChainType,
    /// The base data directory (`-datadir` or `~/.c1pzo`).
    pub base: PathBuf,
    /// The chain's directory (e.g. `<base>/regtest`), created if missing.
    pub network: PathBuf,
}

/// Runs Core's startup configuration on parsed command-line `args`:
///
/// 1. checks `-datadir` (`Specified data directory "<dir>" does not exist.`);
/// 2. reads `c1pzo.conf` and its includes, skipping unknown keys with a
///    warning in [`Args::warnings`] as `bitcoind` does;
/// 3. selects the chain and makes its config section apply;
/// 4. refuses chains c1pzo cannot run on yet;
/// 5. creates the data directories.
pub fn init_config(args: &mut Args) -> Result<DataDirs, InitError> {
    let base = datadir::base_datadir(args)?;
    args.read_config_files(&base, UnknownKeys::Ignore)?;
    let chain = ChainType::from_args(args)?;
    args.select_network(chain);
    chain.ensure_supported_for_running()?;
    // The config file may have moved the data directory.
    let base = datadir::base_datadir(args)?;
    let network =
        datadir::ensure_network_dir(&base, chain).map_err(|source| InitError::CreateDir {
            path: base.clone(),
            source,
        })?;
    Ok(DataDirs {
        chain,
        base,
        network,
    })
}

/// Network-only options set only in the config file's top level, which do
/// not apply on a test chain. Core refuses to start with these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .lines.join("\n"))]
pub struct SectionOnlyError {
    /// One `Config setting for -x only applied on <chain> network when in
    /// [<chain>] section.` line per option.
    pub lines: Vec<String>,
}

/// Checks for network-only options that were given only at the config
/// file's top level (Core does this right after logging starts). Call after
/// [`init_config`].
pub fn check_section_only_args(args: &Args) -> Result<(), SectionOnlyError> {
    let chain = args.network_section();
    let lines: Vec<String> = args
        .unsuitable_section_only_args()
        .into_iter()
        .map(|arg| format!("Config setting for {arg} only applied on {chain} network when in [{chain}] section."))
        .collect();
    if lines.is_empty() {
        Ok(())
    } else {
        Err(SectionOnlyError { lines })
    }
}
