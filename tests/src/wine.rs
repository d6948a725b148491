//! One wine session for the whole test process. Under wine, the first
//! Windows process of a session starts `wineserver` and Windows' own
//! services (services.exe, explorer.exe, ...), and they inherit its file
//! descriptors. Were that first process one a test runs with
//! `Command::output()`, the services would hold its stdout pipe open and
//! the test would wait for an end of file that comes only when the session
//! ends. So before any executable runs, this process starts a session of
//! its own: `wine cmd` reading from a pipe only this process writes to,
//! and answering down one only this process reads (and never to its end).
//! It keeps the session up while tests come and go, and leaves by itself
//! when this process exits and the pipe closes; wine then ends the session
//! once no other Windows process runs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// What the keeper echoes once its session is up (after cmd's prompt).
const READY: &str = "c1pzo-wine-session-ready";

use crate::exe::windows_executables;

/// Starts this process's keeper of the wine session, once; does nothing
/// when the executables under test are not Windows ones.
pub fn keep_session() {
    static KEEPER: OnceLock<Mutex<Option<Child>>> = OnceLock::new();
    KEEPER.get_or_init(|| {
        if !windows_executables() {
            return Mutex::new(None);
        }
        let mut keeper = Command::new("wine")
            .arg("cmd")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wine runs (the executables under test are Windows ones)");
        // Wait until the session is up, so that no test's process can be
        // the one that starts it.
        let stdin = keeper.stdin.as_mut().expect("piped");
        stdin
            .write_all(format!("echo {READY}\r\n").as_bytes())
            .expect("the wine session keeper reads its input");
        let stdout = keeper.stdout.take().expect("piped");
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.trim_end().ends_with(READY));
        assert!(ready, "`wine cmd` exited before its session was up");
        Mutex::new(Some(keeper))
    });
}
