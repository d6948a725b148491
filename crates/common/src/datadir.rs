//! Where c1pzo keeps its data, following Bitcoin Core's layout.
//!
//! * The base data directory is `-datadir` (made absolute against the
//!   current directory) or the platform's default: `$HOME/.c1pzo` (Core:
//!   `~/.bitcoin`), `%LOCALAPPDATA%\C1pzo` on Windows
//!   ([`crate::platform::default_datadir_in`]).
//! * A `-datadir` that is not an existing directory is an error; c1pzo, like
//!   Core, never creates a directory the user named.
//! * Each chain keeps its data in a network directory: the base itself for
//!   main, `testnet3`, `testnet4`, `signet` or `regtest` below it otherwise.
//!   It is created on demand, with a `wallets` subdirectory as Core does.

use std::io::{self, ErrorKind};
use std::path::{Component, Path, PathBuf};

use crate::args::Args;
use crate::chainparams::ChainType;

/// `-datadir` names no directory c1pzo can use. Carries the value as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataDirError {
    /// Nothing is there, or something other than a directory: Core's
    /// message, which scripts match.
    #[error("Specified data directory \"{0}\" does not exist.")]
    Missing(String),
    /// The system refuses the path itself: on Windows a name with one of
    /// `<>:"|?*` or a reserved device name, anywhere a name too long or a
    /// folder this user may not enter. Core says "does not exist" here
    /// too, which sends the user looking for a folder they cannot create.
    #[error(
        "Specified data directory \"{dir}\" cannot be used: {reason}. Give -datadir the path \
         of an existing folder this user can open."
    )]
    Refused { dir: String, reason: String },
}

/// The platform's default base data directory, from this process's
/// environment.
pub fn default_datadir() -> PathBuf {
    crate::platform::default_datadir_in(&|key| std::env::var_os(key))
}

/// The base data directory the options select: an absolute `-datadir`,
/// which must exist, or [`default_datadir`], which need not exist yet.
pub fn base_datadir(args: &Args) -> Result<PathBuf, DataDirError> {
    let Some(datadir) = args.get_path("datadir") else {
        return Ok(default_datadir());
    };
    let datadir = absolute(&datadir);
    let given = || args.get("datadir").unwrap_or_default();
    match std::fs::metadata(&datadir) {
        Ok(found) if found.is_dir() => Ok(datadir),
        Ok(_) => Err(DataDirError::Missing(given())),
        Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            Err(DataDirError::Missing(given()))
        }
        Err(err) => Err(DataDirError::Refused {
            dir: given(),
            reason: err.to_string(),
        }),
    }
}

/// The network directory of `chain` below `base`.
pub fn network_dir(base: &Path, chain: ChainType) -> PathBuf {
    match chain.data_subdir() {
        "" => base.to_owned(),
        subdir => base.join(subdir),
    }
}

/// Creates the base and network directories if missing and returns the
/// network directory. A newly created directory gets a `wallets`
/// subdirectory, so that wallets never mix with node files (Core's rule).
pub fn ensure_network_dir(base: &Path, chain: ChainType) -> io::Result<PathBuf> {
    if !base.exists() {
        std::fs::create_dir_all(base.join("wallets"))?;
    }
    let network = network_dir(base, chain);
    if !network.exists() {
        std::fs::create_dir_all(network.join("wallets"))?;
    }
    Ok(network)
}

/// `path` if absolute, else `path` inside `dir`: how Core resolves relative
/// paths given in options (`-pid`, `-debuglogfile`, `-rpccookiefile`, ...).
pub fn resolve_in(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        dir.join(path)
    }
}

/// `path` made absolute against the current directory (unchanged if that
/// cannot be determined).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Lexical normalisation as Core applies to path options: `.` dropped,
/// `dir/..` folded, repeated and trailing slashes removed. Nothing touches
/// the file system, so symlinks are not resolved.
pub fn lexically_normal(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return if path.as_os_str().is_empty() {
            PathBuf::new()
        } else {
            PathBuf::from(".")
        };
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_dirs_follow_core_names() {
        let base = Path::new("/data");
        assert_eq!(network_dir(base, ChainType::Main), Path::new("/data"));
        assert_eq!(
            network_dir(base, ChainType::Testnet),
            Path::new("/data/testnet3")
        );
        assert_eq!(
            network_dir(base, ChainType::Testnet4),
            Path::new("/data/testnet4")
        );
        assert_eq!(
            network_dir(base, ChainType::Signet),
            Path::new("/data/signet")
        );
        assert_eq!(
            network_dir(base, ChainType::Regtest),
            Path::new("/data/regtest")
        );
    }

    #[test]
    fn lexical_normalisation() {
        assert_eq!(lexically_normal(Path::new("/a/b/")), Path::new("/a/b"));
        assert_eq!(
            lexically_normal(Path::new("/a/./b//c")),
            Path::new("/a/b/c")
        );
        assert_eq!(lexically_normal(Path::new("a/../b")), Path::new("b"));
        assert_eq!(lexically_normal(Path::new("../a")), Path::new("../a"));
        assert_eq!(lexically_normal(Path::new("/..")), Path::new("/"));
        assert_eq!(lexically_normal(Path::new("a/..")), Path::new("."));
        assert_eq!(lexically_normal(Path::new("")), Path::new(""));
    }

    #[test]
    fn resolve_in_keeps_absolute_paths() {
        assert_eq!(
            resolve_in(Path::new("/d"), Path::new("/x/y")),
            Path::new("/x/y")
        );
        assert_eq!(
            resolve_in(Path::new("/d"), Path::new("x")),
            Path::new("/d/x")
        );
    }
}
