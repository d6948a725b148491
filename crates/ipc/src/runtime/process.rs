//! Spawning a child over a socket pair, and the child's side of it, as
//! libmultiprocess does: the child is `<exe> -ipcfd <N>` with exactly those
//! arguments, holds one end of a connected socket pair (what the pair is
//! and what `N` names is the [`platform`]'s business), ignores Ctrl-C (the
//! parent decides when it stops) and exits when the parent's end closes
//! (or, where the platform can tell it apart, when the parent exits:
//! [`platform::parent_exited`]).

use std::path::Path;
use std::process::{Child, Command, ExitStatus};

use crate::ipc_log;
use crate::log::Level;
use crate::runtime::platform::{self, Handoff, PairStream};

/// What a spawned child prints when a terminal's Ctrl-C reaches it.
pub(crate) const SIGINT_MESSAGE: &str =
    "SIGINT received \u{2014} waiting for parent to shut down.\n";

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot spawn {exe}: {source}")]
    Spawn { exe: String, source: std::io::Error },
    #[error("Invalid -ipcfd number '{value}' ({reason})")]
    InvalidFd { value: String, reason: String },
    #[error("The -ipcfd argument is not valid in combination with other arguments")]
    ExtraArguments,
    #[error("IPC: {0}")]
    Io(#[from] std::io::Error),
}

/// A spawned child and our end of its socket.
pub struct Spawned {
    pub child: Child,
    pub stream: PairStream,
}

impl Spawned {
    /// Waits for the child to exit (after our end is closed) and logs it
    /// the way Bitcoin Core does.
    pub fn reap(mut self, exe_name: &str) -> std::io::Result<ExitStatus> {
        drop(self.stream);
        let pid = self.child.id();
        let status = self.child.wait()?;
        let code = status.code().unwrap_or(-1);
        ipc_log!(
            Level::Debug,
            "Process {exe_name} pid {pid} exited with status {code}"
        );
        Ok(status)
    }
}

/// Starts `exe -ipcfd <N>` with the other end of a new socket pair as N.
pub fn spawn(exe: &Path) -> Result<Spawned, ProcessError> {
    spawn_with(exe, |_| {})
}

/// [`spawn`], letting `configure` adjust the command first (its
/// environment, say; the arguments are always exactly `-ipcfd <N>`).
pub fn spawn_with(
    exe: &Path,
    configure: impl FnOnce(&mut Command),
) -> Result<Spawned, ProcessError> {
    let (ours, theirs) = platform::socket_pair()?;
    let mut command = Command::new(exe);
    configure(&mut command);
    let handoff = Handoff::prepare(&mut command, theirs)?;
    command.arg("-ipcfd").arg(handoff.ipcfd_value());
    let spawned = command.spawn();
    let mut child = spawned.map_err(|source| ProcessError::Spawn {
        exe: exe.display().to_string(),
        source,
    })?;
    // Our copy of the child's end goes now: the child's exit must be the
    // socket's close.
    if let Err(error) = handoff.complete(&child) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ProcessError::Spawn {
            exe: exe.display().to_string(),
            source: error,
        });
    }
    ipc_log!(
        Level::Debug,
        "Process {} pid {} launched",
        exe.file_name().unwrap_or_default().to_string_lossy(),
        child.id()
    );
    Ok(Spawned {
        child,
        stream: ours,
    })
}

/// If `args` (without argv[0]) ask this process to serve a parent, returns
/// its socket. `None` means a normal start; `-ipcfd` with anything else is
/// an error, as in Bitcoin Core.
pub fn spawned_socket(args: &[String]) -> Result<Option<PairStream>, ProcessError> {
    let Some(position) = args
        .iter()
        .position(|a| a == "-ipcfd" || a.starts_with("-ipcfd="))
    else {
        return Ok(None);
    };
    let value = match args[position].strip_prefix("-ipcfd=") {
        Some(value) => value.to_string(),
        None => args.get(position + 1).cloned().unwrap_or_default(),
    };
    let expected = if args[position].contains('=') { 1 } else { 2 };
    if args.len() != expected {
        return Err(ProcessError::ExtraArguments);
    }
    let invalid = |reason: String| ProcessError::InvalidFd {
        value: value.clone(),
        reason,
    };
    let stream = platform::adopt(&value).map_err(invalid)?;
    platform::leave_interrupts_to_the_parent();
    Ok(Some(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ipcfd_must_come_alone_and_be_a_number() {
        assert!(spawned_socket(&args(&["-regtest"])).unwrap().is_none());
        let err = spawned_socket(&args(&["-ipcfd", "x"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Invalid -ipcfd number 'x' (invalid digit found in string)"
        );
        let err = spawned_socket(&args(&["-ipcfd", "3", "-regtest"])).unwrap_err();
        assert!(matches!(err, ProcessError::ExtraArguments));
        // A number that is not our socket is refused too.
        let err = spawned_socket(&args(&["-ipcfd=999"]))
            .unwrap_err()
            .to_string();
        // (Why it is not ours, per platform: not a socket, not a handle.)
        assert!(
            err.starts_with("Invalid -ipcfd number '999' (not a"),
            "{err}"
        );
    }
}
