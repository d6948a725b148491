//! Spawning a child over a socket pair, and the child's side of it, as
//! libmultiprocess does: the child is `<exe> -ipcfd <N>` with exactly those
//! arguments, holds one end of a `socketpair(AF_UNIX, SOCK_STREAM)` and no
//! other inherited descriptor, ignores SIGINT (the parent decides when it
//! stops) and exits when the parent's end closes.

use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};

use crate::ipc_log;
use crate::log::Level;

/// The descriptor number the child receives its end on.
const CHILD_FD: i32 = 3;

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
    pub stream: UnixStream,
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

/// Starts `exe -ipcfd 3` with the other end of a new socket pair as fd 3.
pub fn spawn(exe: &Path) -> Result<Spawned, ProcessError> {
    spawn_with(exe, |_| {})
}

/// [`spawn`], letting `configure` adjust the command first (its
/// environment, say; the arguments are always exactly `-ipcfd 3`).
pub fn spawn_with(
    exe: &Path,
    configure: impl FnOnce(&mut Command),
) -> Result<Spawned, ProcessError> {
    let (ours, theirs) = UnixStream::pair()?;
    let theirs = theirs.into_raw_fd();
    let mut command = Command::new(exe);
    configure(&mut command);
    command.arg("-ipcfd").arg(CHILD_FD.to_string());
    // SAFETY: between fork and exec this only calls async-signal-safe
    // functions (dup2, fcntl, close_range) on the child's descriptors.
    unsafe {
        command.pre_exec(move || {
            if theirs == CHILD_FD {
                // Already in place: only drop close-on-exec.
                if libc::fcntl(CHILD_FD, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(theirs, CHILD_FD) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // Every other inherited descriptor goes at exec: the child talks
            // to its parent through the socket and nothing else. Marked
            // close-on-exec rather than closed now, so std's own pipe that
            // reports a failed exec keeps working.
            if libc::close_range(
                CHILD_FD as u32 + 1,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC as i32,
            ) == -1
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let spawned = command.spawn();
    // SAFETY: `theirs` came from into_raw_fd above and is closed once here.
    unsafe { libc::close(theirs) };
    let child = spawned.map_err(|source| ProcessError::Spawn {
        exe: exe.display().to_string(),
        source,
    })?;
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
pub fn spawned_socket(args: &[String]) -> Result<Option<UnixStream>, ProcessError> {
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
    let fd: i32 = value
        .parse()
        .map_err(|e: std::num::ParseIntError| invalid(e.to_string()))?;
    if fd < 0 || !is_socket(fd) {
        return Err(invalid("not a socket".into()));
    }
    // SAFETY: an open socket the parent handed us for our exclusive use.
    let stream = unsafe { UnixStream::from_raw_fd(fd) };
    // Keep it from leaking into anything this process runs later, which
    // would hold the parent's connection open after we exit.
    // SAFETY: fcntl on a descriptor we own.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
        return Err(std::io::Error::last_os_error().into());
    }
    // Ctrl-C in a terminal reaches the whole process group; the parent
    // decides when the child stops, by closing the socket. A handler (not
    // SIG_IGN) so that programs this process runs get the default back.
    // SAFETY: the handler only calls write(2), which is async-signal-safe.
    unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
    Ok(Some(stream))
}

extern "C" fn on_sigint(_: libc::c_int) {
    const MESSAGE: &[u8] = "SIGINT received \u{2014} waiting for parent to shut down.\n".as_bytes();
    // SAFETY: writing a static buffer to stdout.
    unsafe { libc::write(1, MESSAGE.as_ptr().cast(), MESSAGE.len()) };
}

/// Whether `fd` is an open socket, checked before taking ownership of it.
fn is_socket(fd: i32) -> bool {
    // SAFETY: fstat only writes into the zeroed struct we pass.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut stat) == 0 && (stat.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    }
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
        assert_eq!(err, "Invalid -ipcfd number '999' (not a socket)");
    }
}
