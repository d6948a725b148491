//! The engine behind `cargo xtask depends`: Bitcoin Core's `make -C depends`
//! rebuilt as a library. Recipes and toolchains are data (`recipes/*.toml`,
//! `toolchains/*.toml`); [`engine::Engine`] plans a run from them, builds
//! what its cache lacks, and installs a per-host prefix for the Rust build.
//! ARCHITECTURE.md has the map.

use std::path::{Path, PathBuf};

pub mod archive;
pub mod build_id;
pub mod builder;
pub mod cache;
pub mod debian;
pub mod engine;
pub mod fetch;
pub mod fsutil;
pub mod graph;
pub mod install;
pub mod maintenance;
pub mod mirror;
pub mod options;
pub mod pipeline;
pub mod placeholders;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod recipe;
pub mod relocate;
pub mod remote_cache;
pub mod report;
pub mod scheduler;
pub mod toolchain;

pub use engine::{Engine, Layout};
pub use options::Options;

/// Every way a depends run can fail, each with what the user needs to act.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Options(#[from] options::OptionsError),
    #[error(transparent)]
    Graph(#[from] graph::GraphError),
    #[error(transparent)]
    Toolchain(#[from] toolchain::ToolchainError),
    #[error(transparent)]
    Fetch(#[from] fetch::FetchError),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error(transparent)]
    Install(#[from] install::InstallError),
    #[error(transparent)]
    RemoteCache(#[from] remote_cache::RemoteCacheError),
    #[error(transparent)]
    Build(Box<pipeline::BuildError>),
    #[error("{}", offline_message(missing, damaged))]
    Offline {
        missing: Vec<String>,
        /// Sources that are there but whose sha256 is not the recipe's.
        damaged: Vec<String>,
    },
    #[error("unknown variable `{name}`; known: {known}")]
    UnknownVariable { name: String, known: String },
    #[error("{} packages failed:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n\n"))]
    Several(Vec<Error>),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Debian packages that would fix this error, for callers that offer
    /// to install them.
    pub fn missing_debian_packages(&self) -> Vec<String> {
        match self {
            Error::Toolchain(toolchain::ToolchainError::MissingTools(missing)) => {
                toolchain::debian_packages(missing)
            }
            _ => Vec::new(),
        }
    }
}

fn offline_message(missing: &[String], damaged: &[String]) -> String {
    let mut parts = Vec::new();
    if !damaged.is_empty() {
        parts.push(format!(
            "offline: these sources are present but damaged (their sha256 is not the one the recipe pins); \
             delete them and run `cargo xtask depends download` with network, or put the right file in their place:\n  {}",
            damaged.join("\n  ")
        ));
    }
    if !missing.is_empty() {
        parts.push(format!(
            "offline: these sources are missing (run `cargo xtask depends download` with network first):\n  {}",
            missing.join("\n  ")
        ));
    }
    parts.join("\n")
}
