//! Listening and connecting: `-ipcbind=unix` and `-ipcconnect` between two
//! real processes, tcp with and without the cookie, `-debug=ipc` lines from
//! the server, and a peer sending garbage losing only its own connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_c1pzo-echo");

/// A `c1pzo-echo -ipcbind=...` server; stops when dropped (stdin closes).
struct Server {
    child: Child,
    stderr: BufReader<ChildStderr>,
    address: String,
}

impl Server {
    fn start(datadir: &Path, binds: &[&str], extra: &[&str]) -> Server {
        let mut command = Command::new(EXE);
        command
            .arg(format!("-datadir={}", datadir.display()))
            .arg("-regtest")
            .args(extra);
        for bind in binds {
            command.arg(format!("-ipcbind={bind}"));
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("Listening for IPC requests on address ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Server {
            child,
            stderr,
            address,
        }
    }

    /// Stops the server and returns the rest of its stderr.
    fn stop(mut self) -> String {
        drop(self.child.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        rest
    }
}

fn client(datadir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(EXE)
        .arg(format!("-datadir={}", datadir.display()))
        .arg("-regtest")
        .args(args)
        .output()
        .unwrap()
}

#[test]
#[cfg(unix)] // unix-domain sockets: refused on Windows (platform/windows.rs)
fn a_second_process_echoes_through_the_default_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["unix"], &["-debug=ipc"]);
    let socket = dir.path().join("regtest/node.sock");
    assert_eq!(server.address, format!("unix:{}", socket.display()));
    let out = client(dir.path(), &["-ipcconnect=unix", "hello", "neighbour"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello neighbour\n");
    // `auto` finds the same socket.
    let out = client(dir.path(), &["-ipcconnect=auto", "again"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "again\n");

    let log = server.stop();
    // The server's side, in libmultiprocess's words.
    assert!(log.contains("} IPC server: socket connected."), "{log}");
    assert!(log.contains("} IPC server recv request  #"), "{log}");
    assert!(log.contains(" Echo.echo$Params"), "{log}");
    assert!(log.contains("} IPC server post request  #"), "{log}");
    assert!(log.contains(" (from c1pzo-echo-"), "{log}");
    assert!(log.contains("} IPC server send response #"), "{log}");
    assert!(log.contains("} IPC server: socket disconnected."), "{log}");
}

#[test]
fn auto_falls_back_when_nothing_listens_and_unix_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let out = client(dir.path(), &["-ipcconnect=auto", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing listens for IPC at auto"));
    let out = client(dir.path(), &["-ipcconnect=unix", "x"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let socket = dir.path().join("regtest").join("node.sock");
    assert!(stderr.contains(&socket.display().to_string()), "{stderr}");
    if cfg!(windows) {
        // Named for what it is, with what to use instead.
        assert!(
            stderr.contains("unix sockets are not supported on Windows"),
            "{stderr}"
        );
        assert!(stderr.contains("-ipcconnect=tcp:"), "{stderr}");
    }
    assert!(ipc::listen::connect("0", dir.path()).unwrap().is_none());
    assert!(ipc::listen::connect("auto", dir.path()).unwrap().is_none());
}

#[test]
#[cfg(unix)] // unix-domain sockets: refused on Windows (platform/windows.rs)
fn several_binds_and_relative_paths_with_parents_created() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["unix:ipc/one.sock", "unix:two.sock"], &[]);
    assert!(
        server.address.ends_with("regtest/ipc/one.sock"),
        "{}",
        server.address
    );
    for path in ["unix:ipc/one.sock", "unix:two.sock"] {
        let out = client(dir.path(), &[&format!("-ipcconnect={path}"), path]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{path}\n"));
    }
    server.stop();
}

#[test]
fn tcp_needs_the_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["tcp:127.0.0.1:0"], &[]);
    let addr = server.address.strip_prefix("tcp:").unwrap().to_string();
    let cookie_path = dir.path().join("regtest/.ipccookie");
    let cookie = std::fs::read(&cookie_path).unwrap();
    assert_eq!(cookie.len(), 64);
    assert!(common::platform::is_private(&cookie_path).unwrap());

    // With the cookie: a second process echoes.
    let out = client(
        dir.path(),
        &[&format!("-ipcconnect=tcp:{addr}"), "over", "tcp"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "over tcp\n");

    // A wrong cookie is refused before any Cap'n Proto is spoken.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let err = ipc::listen::present_cookie(&mut stream, &[b'0'; 64], &addr).unwrap_err();
    assert!(
        matches!(err, ipc::listen::AddressError::CookieRejected(_)),
        "{err}"
    );

    // No cookie at all: a client speaking Cap'n Proto straight away gets
    // the connection closed, not an Init.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let bootstrap = [0u8; 64];
    stream.write_all(&bootstrap).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.is_empty(), "the server answered {answer:?}");

    // A client without the cookie file says which file it needs.
    let other = tempfile::tempdir().unwrap();
    let out = client(other.path(), &[&format!("-ipcconnect=tcp:{addr}"), "x"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(".ipccookie"), "{stderr}");

    server.stop();
    assert!(!cookie_path.exists(), "the cookie goes with the listener");
}

#[test]
fn tcp_refuses_non_loopback_addresses_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(EXE)
        .arg(format!("-datadir={}", dir.path().display()))
        .arg("-ipcbind=tcp:0.0.0.0:0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Unable to bind to IPC address 'tcp:0.0.0.0:0'. refusing to listen for IPC on non-loopback address 0.0.0.0:0"),
        "{stderr}"
    );
    let server = Server::start(dir.path(), &["tcp:0.0.0.0:0"], &["-ipcallowremote"]);
    assert!(
        server.address.starts_with("tcp:0.0.0.0:"),
        "{}",
        server.address
    );
    server.stop();
}

#[test]
fn bad_addresses_are_refused_with_core_messages() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("-ipcbind=unix:{}", "x".repeat(120));
    for (arg, expected) in [
        (
            "-ipcbind=invalid",
            "Unable to bind to IPC address 'invalid'. Unrecognized address 'invalid'",
        ),
        (long.as_str(), "exceeded maximum socket path length"),
    ] {
        let out = Command::new(EXE)
            .arg(format!("-datadir={}", dir.path().display()))
            .arg(arg)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
#[cfg(unix)] // unix-domain sockets: refused on Windows (platform/windows.rs)
fn garbage_on_one_connection_does_not_disturb_the_others() {
    use ipc::client::InitClient;
    use ipc::event_loop::LoopHandle;
    use ipc::listen::Stream;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regtest/node.sock");
    let listener = ipc::listen::bind_unix(&path).unwrap();
    let path_for_server = path.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        ipc::serve::listen_blocking(
            vec![ipc::listen::Listener::Unix(listener, path_for_server)],
            async {
                let _ = stopped.await;
            },
        )
    });
    let handle = LoopHandle::start().unwrap();
    let echo_via = |message: &str| {
        let stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let init = InitClient::connect(&handle, Stream::Unix(stream)).unwrap();
        init.make_echo().unwrap().echo(message).unwrap()
    };

    // A peer that keeps its connection open while others come and go.
    let idle = InitClient::connect(
        &handle,
        Stream::Unix(std::os::unix::net::UnixStream::connect(&path).unwrap()),
    )
    .unwrap();
    let idle_echo = idle.make_echo().unwrap();
    assert_eq!(echo_via("first"), "first");

    // Not a Cap'n Proto message: a segment table claiming 2^32 segments.
    let mut bad = std::os::unix::net::UnixStream::connect(&path).unwrap();
    bad.write_all(&[0xff; 64]).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may say why (an RPC abort) before it hangs up; either way
    // the connection must end, not wait for more.
    let mut answer = Vec::new();
    match bad.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("the server must drop a garbage connection, got {err}"),
    }

    assert_eq!(echo_via("still serving"), "still serving");
    assert_eq!(idle_echo.echo("idle one too").unwrap(), "idle one too");
    drop(idle_echo);
    drop(idle);
    stop.send(()).unwrap();
    server.join().unwrap().unwrap();
}
