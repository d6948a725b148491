//! `-ipcbind` addresses and the unix sockets behind them, with Bitcoin
//! Core's spellings and messages: `unix` (the default path under the data
//! dir) and `unix:<path>` (relative to the network data dir).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// `sun_path` holds 108 bytes on Linux, the last one the terminating NUL.
const MAX_UNIX_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("Unrecognized address '{0}'")]
    Unrecognized(String),
    #[error("Unix address path \"{path}\" exceeded maximum socket path length", path = .0.display())]
    TooLong(PathBuf),
    #[error("{path} exists and is not a socket; not replacing it", path = .0.display())]
    NotASocket(PathBuf),
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Resolves an `-ipcbind` value to a socket path: `unix` is
/// `<network_dir>/node.sock`, `unix:<path>` is relative to `network_dir`.
pub fn unix_path(address: &str, network_dir: &Path) -> Result<PathBuf, AddressError> {
    let path = match address.strip_prefix("unix") {
        Some("") => network_dir.join("node.sock"),
        Some(rest) => match rest.strip_prefix(':') {
            Some("") => network_dir.join("node.sock"),
            Some(path) => network_dir.join(path),
            None => return Err(AddressError::Unrecognized(address.into())),
        },
        None => return Err(AddressError::Unrecognized(address.into())),
    };
    if path.as_os_str().len() > MAX_UNIX_PATH {
        return Err(AddressError::TooLong(path));
    }
    Ok(path)
}

/// Binds a unix socket at `path`: parents created, a stale socket from a
/// previous run replaced (anything else at that path is left alone), and
/// the socket made private to this user (mode 0600).
pub fn bind_unix(path: &Path) -> Result<UnixListener, AddressError> {
    let io = |source| AddressError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path).map_err(io)?,
        Ok(_) => return Err(AddressError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_resolve_as_in_bitcoin_core() {
        let dir = Path::new("/data/regtest");
        assert_eq!(unix_path("unix", dir).unwrap(), dir.join("node.sock"));
        assert_eq!(unix_path("unix:", dir).unwrap(), dir.join("node.sock"));
        assert_eq!(
            unix_path("unix:ipc/a.sock", dir).unwrap(),
            dir.join("ipc/a.sock")
        );
        assert_eq!(
            unix_path("unix:/tmp/b.sock", dir).unwrap(),
            Path::new("/tmp/b.sock")
        );
        let err = unix_path("invalid", dir).unwrap_err().to_string();
        assert_eq!(err, "Unrecognized address 'invalid'");
        let err = unix_path(&format!("unix:{}", "x".repeat(120)), dir)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Unix address path \"/data/regtest/xxx"),
            "{err}"
        );
        assert!(
            err.ends_with("x\" exceeded maximum socket path length"),
            "{err}"
        );
    }

    #[test]
    fn binding_replaces_stale_sockets_only_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/node.sock");
        drop(bind_unix(&path).unwrap());
        // The socket file outlives its listener; a new run replaces it.
        let listener = bind_unix(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(listener);
        let file = dir.path().join("precious");
        std::fs::write(&file, "data").unwrap();
        assert!(matches!(bind_unix(&file), Err(AddressError::NotASocket(_))));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
    }
}
