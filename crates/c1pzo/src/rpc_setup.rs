//! The RPC server's doors, from the options: who may call (`-rpcauth`,
//! `-rpcuser`/`-rpcpassword`, else a cookie) and where it listens
//! (`-rpcbind` with `-rpcallowip`, else localhost on `-rpcport`).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};

use common::args::{Args, DEFAULT_RPC_COOKIE_FILE};
use common::logging::{LogCategory, Logger};
use node::rpc::auth::Auth;

use crate::daemon::Fatal;

/// Who may call: `-rpcpassword` (with `-rpcuser`) replaces the cookie, as
/// in Core; `-rpcauth` entries are added either way. Returns the cookie
/// file to remove at shutdown.
pub fn rpc_auth(args: &Args, network_dir: &Path) -> Result<(Auth, Option<PathBuf>), Fatal> {
    let mut auth = Auth::default();
    for entry in args.get_all("rpcauth") {
        auth.add_rpcauth(&entry)?;
    }
    match args.get("rpcpassword").filter(|p| !p.is_empty()) {
        Some(password) => {
            auth.add_user(&args.get("rpcuser").unwrap_or_default(), &password);
            Ok((auth, None))
        }
        None => {
            let path = common::datadir::resolve_in(
                network_dir,
                &args
                    .get_path("rpccookiefile")
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_RPC_COOKIE_FILE)),
            );
            auth.add_cookie(&path)?;
            Ok((auth, Some(path)))
        }
    }
}

/// `-rpcbind` addresses (`host` or `host:port`), else 127.0.0.1 and ::1 on
/// `-rpcport`. Startup fails only if nothing could be bound.
pub fn rpc_listeners(
    args: &Args,
    default_port: u16,
    logger: &Logger,
) -> Result<Vec<TcpListener>, Fatal> {
    let port = u16::try_from(args.get_int("rpcport", i64::from(default_port))).map_err(|_| {
        Fatal(format!(
            "Invalid port specified in -rpcport: '{}'",
            args.get("rpcport").unwrap_or_default()
        ))
    })?;
    // As in Core: -rpcbind counts only together with -rpcallowip, so a
    // typo cannot open the RPC server to everyone.
    let mut binds = args.get_all("rpcbind");
    if !binds.is_empty() && !args.is_set("rpcallowip") {
        logger.warning(format_args!(
            "Option -rpcbind was ignored because -rpcallowip was not specified, refusing to allow everyone to connect"
        ));
        binds.clear();
    }
    if binds.is_empty() && args.is_set("rpcallowip") {
        logger.warning(format_args!(
            "Option -rpcallowip was specified without -rpcbind; this doesn't usually make sense"
        ));
    }
    let mut addresses: Vec<SocketAddr> = Vec::new();
    if binds.is_empty() {
        addresses.push(SocketAddr::from(([127, 0, 0, 1], port)));
        addresses.push(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)));
    } else {
        for bind in binds {
            let with_port = if bind.parse::<SocketAddr>().is_ok()
                || bind
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.contains(':') && p.parse::<u16>().is_ok())
            {
                bind.clone()
            } else if bind.contains(':') {
                format!("[{bind}]:{port}")
            } else {
                format!("{bind}:{port}")
            };
            let resolved = with_port
                .to_socket_addrs()
                .map_err(|_| Fatal(format!("Invalid -rpcbind address '{bind}'")))?;
            addresses.extend(resolved);
        }
    }
    let mut listeners = Vec::new();
    for address in addresses {
        match TcpListener::bind(address) {
            Ok(listener) => {
                logger.debug(
                    LogCategory::Http,
                    format_args!("Binding RPC on address {address}"),
                );
                listeners.push(listener);
            }
            Err(error) => logger.warning(format_args!(
                "Binding RPC on address {address} failed: {error}"
            )),
        }
    }
    if listeners.is_empty() {
        return Err(Fatal(format!(
            "Unable to bind to 127.0.0.1:{port} on this computer. c1pzo is probably already running."
        )));
    }
    Ok(listeners)
}
