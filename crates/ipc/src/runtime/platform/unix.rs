//! The IPC runtime's unix side: `socketpair(2)` and descriptor 3 for a
//! spawned child, SIGINT left to the parent, unix-domain sockets, `gettid`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

pub use std::os::unix::net::{UnixListener, UnixStream};

use crate::listen::AddressError;

/// The socket between a parent and a child it spawned.
pub type PairStream = UnixStream;

impl From<PairStream> for crate::listen::Stream {
    /// A pair's end as the stream `client::connect` takes.
    fn from(stream: PairStream) -> Self {
        crate::listen::Stream::Unix(stream)
    }
}

/// The descriptor number a child receives its end on.
const CHILD_FD: i32 = 3;

/// `sun_path` holds 108 bytes on Linux, the last one the terminating NUL.
pub const MAX_UNIX_PATH: usize = 107;

/// A connected pair of stream sockets, neither inherited by children.
pub fn socket_pair() -> std::io::Result<(PairStream, PairStream)> {
    UnixStream::pair()
}

/// tokio's own stream type for a pair's end: the baseline the IPC
/// benchmark measures [`super::SocketStream`] against. Call on the loop.
pub fn tokio_pair_stream(stream: PairStream) -> std::io::Result<tokio::net::UnixStream> {
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}

/// The child's end of a pair on its way into a [`Command`]: it becomes
/// descriptor 3 in the child, and every other inherited descriptor is
/// closed at exec, so the child talks to its parent through the socket
/// and nothing else. Drop it once the child is spawned.
pub struct Handoff {
    /// Kept open until the spawn (the child's pre-exec step duplicates it
    /// to fd 3), closed when this is dropped.
    _theirs: OwnedFd,
}

/// Marks every descriptor from `first` on close-on-exec, between fork and
/// exec (async-signal-safe calls only). close_range(2) does it at once
/// with CLOSE_RANGE_CLOEXEC, called by number: glibc wraps it only since
/// 2.34, newer than the releases' glibc 2.31 floor. Kernels before 5.11
/// (Debian 11 runs 5.10) refuse the flag: then each descriptor up to the
/// process's limit is marked in turn, closed ones failing harmlessly.
unsafe fn mark_close_on_exec_from(first: RawFd) {
    let all = libc::syscall(
        libc::SYS_close_range,
        first as libc::c_uint,
        libc::c_uint::MAX,
        libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
    );
    if all == 0 {
        return;
    }
    let limit = match libc::sysconf(libc::_SC_OPEN_MAX) {
        n if n > 0 => n.min(1 << 20) as RawFd,
        _ => 1024,
    };
    for fd in first..limit {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

impl Handoff {
    /// Arranges for `command`'s child to receive `theirs`.
    pub fn prepare(command: &mut Command, theirs: PairStream) -> std::io::Result<Handoff> {
        let theirs: OwnedFd = theirs.into();
        let fd = theirs.as_raw_fd();
        // SAFETY: between fork and exec this only calls async-signal-safe
        // functions (dup2, fcntl, close_range) on the child's descriptors.
        unsafe {
            command.pre_exec(move || {
                if fd == CHILD_FD {
                    // Already in place: only drop close-on-exec.
                    if libc::fcntl(CHILD_FD, libc::F_SETFD, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(fd, CHILD_FD) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                // Marked close-on-exec rather than closed now, so std's own
                // pipe that reports a failed exec keeps working.
                mark_close_on_exec_from(CHILD_FD + 1);
                Ok(())
            });
        }
        Ok(Handoff { _theirs: theirs })
    }

    /// The `-ipcfd` value the child finds its end by.
    pub fn ipcfd_value(&self) -> String {
        CHILD_FD.to_string()
    }

    /// The child is running with its end: ours closes.
    pub fn complete(self, _child: &std::process::Child) -> std::io::Result<()> {
        Ok(())
    }
}

/// Never resolves: on unix the kernel closes a dead parent's descriptors,
/// so its socket's close always reaches the child, which is what ends it.
pub async fn parent_exited() {
    std::future::pending().await
}

/// Takes up the socket a parent handed this process as `-ipcfd=<value>`:
/// the value must name an open socket. Kept from anything this process
/// runs later, which would hold the parent's connection open after we
/// exit. `Err` is the reason for the user.
pub fn adopt(value: &str) -> Result<PairStream, String> {
    let fd: i32 = value
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())?;
    if fd < 0 || !is_socket(fd) {
        return Err("not a socket".into());
    }
    // SAFETY: an open socket the parent handed us for our exclusive use.
    let stream = unsafe { UnixStream::from_raw_fd(fd) };
    // SAFETY: fcntl on a descriptor we own.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    Ok(stream)
}

/// Whether `fd` is an open socket, checked before taking ownership of it.
fn is_socket(fd: i32) -> bool {
    // SAFETY: fstat only writes into the zeroed struct we pass.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut stat) == 0 && (stat.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    }
}

/// Ctrl-C in a terminal reaches the whole process group; a spawned child
/// leaves stopping to its parent, which closes the socket. A handler (not
/// SIG_IGN) so that programs this process runs get the default back.
pub fn leave_interrupts_to_the_parent() {
    // SAFETY: the handler only calls write(2), which is async-signal-safe.
    unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
}

extern "C" fn on_sigint(_: libc::c_int) {
    // SAFETY: writing a static buffer to stdout.
    let message = crate::process::SIGINT_MESSAGE;
    unsafe { libc::write(1, message.as_ptr().cast(), message.len()) };
}

/// The kernel's id for the calling thread (`gettid`).
pub fn os_thread_id() -> i64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as i64 }
}

/// Binds a unix socket at `path`: parents created, a stale socket from a
/// previous run replaced (anything else at that path is left alone), and
/// the socket private to this user (mode 0600). The socket is bound under
/// a temporary name, made private, then renamed into place, so it is
/// never reachable with a laxer mode; if the temporary name would be too
/// long for `sun_path`, it is bound in place and made private at once.
pub fn bind_unix(path: &Path) -> Result<UnixListener, AddressError> {
    let io = |source| AddressError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {}
        Ok(_) => return Err(AddressError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    let private = |at: &Path| std::fs::set_permissions(at, std::fs::Permissions::from_mode(0o600));
    let temporary = path.with_file_name(format!(".ipc-{}.sock", std::process::id()));
    if temporary.as_os_str().len() <= MAX_UNIX_PATH {
        let _ = std::fs::remove_file(&temporary);
        let listener = UnixListener::bind(&temporary).map_err(io)?;
        let placed = private(&temporary).and_then(|()| std::fs::rename(&temporary, path));
        if let Err(error) = placed {
            let _ = std::fs::remove_file(&temporary);
            return Err(io(error));
        }
        return Ok(listener);
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).map_err(io)?;
    private(path).map_err(io)?;
    Ok(listener)
}

/// Connects to the unix socket at `path`.
pub fn connect_unix(path: &Path) -> std::io::Result<UnixStream> {
    UnixStream::connect(path)
}

/// The errors `-ipcconnect=auto` treats as "no server here".
pub fn nothing_listens(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ECONNREFUSED) | Some(libc::ENOENT) | Some(libc::ENOTDIR)
    )
}

/// A unix listener on the event loop.
pub struct UnixAcceptor(tokio::net::UnixListener);

impl UnixAcceptor {
    /// Registers `listener` with the loop. Call on the loop.
    pub fn new(listener: UnixListener) -> std::io::Result<UnixAcceptor> {
        listener.set_nonblocking(true)?;
        Ok(UnixAcceptor(tokio::net::UnixListener::from_std(listener)?))
    }

    /// The next connection, as a blocking-mode std socket for the
    /// transport to take over.
    pub async fn accept(&self) -> std::io::Result<UnixStream> {
        let (stream, _) = self.0.accept().await?;
        stream.into_std()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_replaces_stale_sockets_only_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/node.sock");
        drop(bind_unix(&path).unwrap());
        // The socket file outlives its listener; a new run replaces it.
        let listener = bind_unix(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Bound under a temporary name and renamed: nothing else is left.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["node.sock"]);
        drop(listener);
        let file = dir.path().join("precious");
        std::fs::write(&file, "data").unwrap();
        assert!(matches!(bind_unix(&file), Err(AddressError::NotASocket(_))));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
    }
}
