//! `-ipcbind` and `-ipcconnect` addresses and the sockets behind them.
//! `unix` and `unix:<path>` are Bitcoin Core's, with its spellings and
//! messages. `tcp:<host>:<port>` is c1pzo's own: it binds loopback
//! addresses only unless the caller allows others, and a client must send
//! the secret from `<network dir>/.ipccookie` before it gets `Init`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};

pub use crate::runtime::platform::bind_unix;
use crate::runtime::platform::{self, UnixListener, UnixStream, MAX_UNIX_PATH};

/// The cookie file a tcp listener writes next to the chain's data.
pub const COOKIE_FILE: &str = ".ipccookie";

/// Cookie length on the wire: 32 random bytes as hex.
const COOKIE_LEN: usize = 64;

/// What the server answers a correct cookie with, before Cap'n Proto
/// starts; a wrong one gets the connection closed instead.
const COOKIE_ACCEPTED: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("Unrecognized address '{0}'")]
    Unrecognized(String),
    #[error("Unix address path \"{path}\" exceeded maximum socket path length", path = .0.display())]
    TooLong(PathBuf),
    #[error("{path} exists and is not a socket; not replacing it", path = .0.display())]
    NotASocket(PathBuf),
    #[error("unix:{path}: unix sockets are not supported on this platform; use tcp:<host>:<port> (with the cookie) instead", path = .0.display())]
    UnixUnsupported(PathBuf),
    #[error("refusing to listen for IPC on non-loopback address {0}: IPC gives full control of the process; bind to 127.0.0.1 or ::1, or allow remote addresses explicitly")]
    NotLoopback(SocketAddr),
    #[error("the IPC server at {0} refused the cookie; check that {COOKIE_FILE} is the server's current one")]
    CookieRejected(String),
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{address}: {source}")]
    Net {
        address: String,
        source: std::io::Error,
    },
}

/// A resolved IPC address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
            Address::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// Resolves an address value: `unix` is `<network_dir>/node.sock`,
/// `unix:<path>` is relative to `network_dir`, `tcp:<host>:<port>` is
/// the first address `host` resolves to.
pub fn parse_address(value: &str, network_dir: &Path) -> Result<Address, AddressError> {
    if let Some(rest) = value.strip_prefix("tcp:") {
        let mut resolved = rest
            .to_socket_addrs()
            .map_err(|_| AddressError::Unrecognized(value.into()))?;
        return resolved
            .next()
            .map(Address::Tcp)
            .ok_or_else(|| AddressError::Unrecognized(value.into()));
    }
    unix_path(value, network_dir).map(Address::Unix)
}

/// Resolves a `unix` or `unix:<path>` value to a socket path.
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

/// A bound socket, ready for the event loop to accept on.
pub enum Listener {
    /// A unix socket and the path it listens at.
    Unix(UnixListener, PathBuf),
    /// A tcp socket and the cookie its clients must present. The cookie
    /// file is removed when the listener goes.
    Tcp {
        listener: TcpListener,
        cookie: Cookie,
    },
}

/// The secret a tcp client presents, and the file it was published in.
pub struct Cookie {
    secret: String,
    path: PathBuf,
}

impl Cookie {
    /// Whether `presented` is the secret, compared in constant time so a
    /// local attacker cannot learn it byte by byte.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let secret = self.secret.as_bytes();
        presented.len() == secret.len()
            && presented
                .iter()
                .zip(secret)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

impl Drop for Cookie {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds `address` and listens. Unix sockets: parents created, a stale
/// socket replaced (anything else at the path is left alone), mode 0600.
/// Tcp: loopback only unless `allow_remote`, and a fresh cookie is written
/// to `<network_dir>/.ipccookie` (mode 0600).
pub fn bind(
    address: &Address,
    network_dir: &Path,
    allow_remote: bool,
) -> Result<Listener, AddressError> {
    match address {
        Address::Unix(path) => {
            bind_unix(path).map(|listener| Listener::Unix(listener, path.clone()))
        }
        Address::Tcp(addr) => {
            if !addr.ip().is_loopback() && !allow_remote {
                return Err(AddressError::NotLoopback(*addr));
            }
            let listener = TcpListener::bind(addr).map_err(|source| AddressError::Net {
                address: address.to_string(),
                source,
            })?;
            let cookie = write_cookie(network_dir)?;
            Ok(Listener::Tcp { listener, cookie })
        }
    }
}

impl Listener {
    /// The address clients connect to (the real port if 0 was asked for).
    pub fn local_address(&self) -> std::io::Result<Address> {
        match self {
            // The path it was placed at (bound under a temporary name).
            Listener::Unix(_, path) => Ok(Address::Unix(path.clone())),
            Listener::Tcp { listener, .. } => Ok(Address::Tcp(listener.local_addr()?)),
        }
    }
}

fn write_cookie(network_dir: &Path) -> Result<Cookie, AddressError> {
    let path = network_dir.join(COOKIE_FILE);
    let io = |source| AddressError::Io {
        path: path.clone(),
        source,
    };
    let secret = common::secret::random_hex(COOKIE_LEN / 2).map_err(io)?;
    std::fs::create_dir_all(network_dir).map_err(io)?;
    common::secret::write_private(&path, &secret).map_err(io)?;
    Ok(Cookie { secret, path })
}

/// A connected IPC socket, before Cap'n Proto starts on it.
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// Connects for `-ipcconnect=<value>`. `0` or empty means "do not use
/// IPC" (`Ok(None)`); `auto` tries the default unix socket and gives
/// `Ok(None)` when nothing listens there, so the caller can fall back;
/// anything else must connect or fail. Tcp clients present the cookie
/// from `<network_dir>/.ipccookie`.
pub fn connect(value: &str, network_dir: &Path) -> Result<Option<Stream>, AddressError> {
    if value.is_empty() || value == "0" {
        return Ok(None);
    }
    if value == "auto" {
        let path = match unix_path("unix", network_dir) {
            Ok(path) => path,
            Err(AddressError::TooLong(_)) => return Ok(None),
            Err(err) => return Err(err),
        };
        return match platform::connect_unix(&path) {
            Ok(stream) => Ok(Some(Stream::Unix(stream))),
            Err(err) if platform::nothing_listens(&err) => Ok(None),
            Err(source) => Err(AddressError::Io { path, source }),
        };
    }
    match parse_address(value, network_dir)? {
        Address::Unix(path) => platform::connect_unix(&path)
            .map(|stream| Some(Stream::Unix(stream)))
            .map_err(|source| AddressError::Io { path, source }),
        Address::Tcp(addr) => {
            let net = |source| AddressError::Net {
                address: value.to_string(),
                source,
            };
            let cookie_path = network_dir.join(COOKIE_FILE);
            let cookie = std::fs::read(&cookie_path).map_err(|source| AddressError::Io {
                path: cookie_path,
                source,
            })?;
            let mut stream = TcpStream::connect(addr).map_err(net)?;
            stream.set_nodelay(true).map_err(net)?;
            present_cookie(&mut stream, &cookie, value)?;
            Ok(Some(Stream::Tcp(stream)))
        }
    }
}

/// Sends the cookie and waits for the server to accept it.
pub fn present_cookie(
    stream: &mut TcpStream,
    cookie: &[u8],
    address: &str,
) -> Result<(), AddressError> {
    let net = |source| AddressError::Net {
        address: address.to_string(),
        source,
    };
    stream.write_all(cookie).map_err(net)?;
    let mut answer = [0u8; 1];
    match stream.read(&mut answer) {
        Ok(1) if answer[0] == COOKIE_ACCEPTED => Ok(()),
        Ok(_) => Err(AddressError::CookieRejected(address.to_string())),
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {
            Err(AddressError::CookieRejected(address.to_string()))
        }
        Err(source) => Err(net(source)),
    }
}

/// Reads a tcp client's cookie (bounded in time and size) and answers it;
/// `false` means the connection must be dropped.
pub async fn check_cookie(stream: &mut tokio::net::TcpStream, cookie: &Cookie) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut presented = [0u8; COOKIE_LEN];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_exact(&mut presented),
    )
    .await;
    if !matches!(read, Ok(Ok(_))) || !cookie.matches(&presented) {
        return false;
    }
    stream.write_all(&[COOKIE_ACCEPTED]).await.is_ok()
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
        let start = format!("Unix address path \"{}", dir.join("xxx").display());
        assert!(err.starts_with(&start), "{err}");
        assert!(
            err.ends_with("x\" exceeded maximum socket path length"),
            "{err}"
        );
    }
}
