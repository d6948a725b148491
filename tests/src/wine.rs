//! One wine session for the whole test process. Under wine, the first
//! Windows process of a session starts `wineserver` and Windows' own
//! services (services.exe, explorer.exe, ...), and they inherit its file
//! descriptors. Were that first process one a test runs with
//! `Command::output()`, the services would hold its stdout pipe open and
//! the test would wait for an end of file that comes only when the session
//! ends. So before any executable runs, this process starts a session of
//! its own: `wine cmd` reading from a pipe only this process writes to,
//! and answering down one only this process reads (kept open, never read
//! to its end). It keeps the session up while tests come and go, and
//! leaves by itself when this process exits and the pipe closes; wine then
//! ends the session once no other Windows process runs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;

use crate::exe::windows_executables;
use crate::timeouts::scaled;

/// What the keeper echoes once its session is up (after cmd's prompt).
const READY: &str = "c1pzo-wine-session-ready";

/// The keeper and its output, held for the life of this process.
type Keeper = (Child, BufReader<ChildStdout>);

/// Starts this process's keeper of the wine session, once; does nothing
/// when the executables under test are not Windows ones.
pub fn keep_session() {
    static KEEPER: OnceLock<Option<Keeper>> = OnceLock::new();
    KEEPER.get_or_init(|| windows_executables().then(start));
}

fn start() -> Keeper {
    let prefix = std::env::var_os("WINEPREFIX").unwrap_or_else(|| {
        panic!(
            "the executables under test are Windows ones, but WINEPREFIX is not set: run them \
             through `cargo xtask test HOST=x86_64-w64-mingw32`, which prepares the wine prefix \
             in c1pzo's cache folder and sets it (or set it to a prefix of your own)"
        )
    });
    let mut keeper = Command::new("wine")
        .arg("cmd")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wine runs (the executables under test are Windows ones)");
    keeper
        .stdin
        .as_mut()
        .expect("piped")
        .write_all(format!("echo {READY}\r\n").as_bytes())
        .expect("the wine session keeper reads its input");
    // Wait until the session is up, so that no test's process can be the
    // one that starts it; a first start of a prefix takes a while.
    let mut output = BufReader::new(keeper.stdout.take().expect("piped"));
    let (ready_tx, ready_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            match output.read_line(&mut line) {
                Ok(0) | Err(_) => return (false, output),
                Ok(_) if line.trim_end().ends_with(READY) => {
                    let _ = ready_tx.send(());
                    return (true, output);
                }
                Ok(_) => {}
            }
        }
    });
    let limit = scaled(60);
    if ready_rx.recv_timeout(limit).is_err() {
        let _ = keeper.kill();
        panic!(
            "`wine cmd` (WINEPREFIX={}) exited or did not answer within {limit:?}: the wine \
             session every Windows test runs in is not up; try `wine cmd /c ver` with that \
             WINEPREFIX",
            prefix.to_string_lossy()
        );
    }
    let (_, output) = reader.join().expect("the reader thread");
    (keeper, output)
}
