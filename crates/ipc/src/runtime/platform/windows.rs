//! The IPC runtime's Windows side. A parent and its child talk over a
//! connected loopback TCP pair, the child's end an inherited socket
//! handle whose number `-ipcfd` carries. Not AF_UNIX: Windows has it since
//! 10 1803 but without `socketpair` or handle inheritance for it, and wine
//! (where the suite runs in CI) has no AF_UNIX at all; a loopback pair
//! works on both. `-ipcbind=unix` is refused here with a message naming
//! `tcp:`, which works everywhere.

use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::windows::io::{AsRawSocket, FromRawSocket, OwnedSocket, RawSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE, HANDLE_FLAG_INHERIT};
use windows_sys::Win32::Networking::WinSock::{
    getsockopt, WSAStartup, SOCKET, SOCK_STREAM, SOL_SOCKET, SO_TYPE, WSADATA,
};
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT};
use windows_sys::Win32::System::Threading::GetCurrentThreadId;

use crate::listen::AddressError;

/// The socket between a parent and a child it spawned.
pub type PairStream = TcpStream;

impl From<PairStream> for crate::listen::Stream {
    /// A pair's end as the stream `client::connect` takes.
    fn from(stream: PairStream) -> Self {
        crate::listen::Stream::Tcp(stream)
    }
}

/// Windows' `sun_path` holds 108 bytes too.
pub const MAX_UNIX_PATH: usize = 107;

/// A connected pair of loopback TCP sockets, neither inherited by children
/// (std creates sockets with `WSA_FLAG_NO_HANDLE_INHERIT`). Nagle's delay
/// is off: IPC messages are small and each waits for its answer.
pub fn socket_pair() -> io::Result<(PairStream, PairStream)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let ours = TcpStream::connect(listener.local_addr()?)?;
    let ours_address = ours.local_addr()?;
    // Another local process may connect to the port between bind and our
    // connect: only the connection that comes from our own socket is the
    // pair; anything else is dropped unheard.
    let theirs = loop {
        let (stream, peer) = listener.accept()?;
        if peer == ours_address {
            break stream;
        }
    };
    ours.set_nodelay(true)?;
    theirs.set_nodelay(true)?;
    Ok((ours, theirs))
}

/// tokio's own stream type for a pair's end: the baseline the IPC
/// benchmark measures [`super::SocketStream`] against. Call on the loop.
pub fn tokio_pair_stream(stream: PairStream) -> std::io::Result<tokio::net::TcpStream> {
    stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(stream)
}

/// Only one child end is inheritable at a time, so two spawns at once
/// never hand each other's sockets to the wrong child.
static HANDOFF: Mutex<()> = Mutex::new(());

/// The child's end of a pair on its way into a [`Command`]: made
/// inheritable until the child is spawned (std's `CreateProcessW` passes
/// inheritable handles on), closed in the parent when this is dropped.
pub struct Handoff {
    theirs: TcpStream,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Handoff {
    /// Arranges for `command`'s child to receive `theirs`.
    pub fn prepare(_command: &mut Command, theirs: PairStream) -> io::Result<Handoff> {
        let guard = HANDOFF
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        set_inheritable(theirs.as_raw_socket(), true)?;
        Ok(Handoff {
            theirs,
            _one_at_a_time: guard,
        })
    }

    /// The `-ipcfd` value the child finds its end by: the handle number,
    /// which an inherited handle keeps in the child.
    pub fn ipcfd_value(&self) -> String {
        self.theirs.as_raw_socket().to_string()
    }
}

/// Whether children spawned from now on inherit `socket`.
fn set_inheritable(socket: RawSocket, inherit: bool) -> io::Result<()> {
    let flags = if inherit { HANDLE_FLAG_INHERIT } else { 0 };
    // SAFETY: a socket handle we own; the call changes only its flags.
    if unsafe { SetHandleInformation(socket as HANDLE, HANDLE_FLAG_INHERIT, flags) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes up the socket a parent handed this process as `-ipcfd=<value>`:
/// the value must be the handle of an open stream socket. Made
/// uninheritable again, so nothing this process runs later holds the
/// parent's connection open after we exit. `Err` is the reason for the
/// user.
pub fn adopt(value: &str) -> Result<PairStream, String> {
    let socket: RawSocket = value
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())?;
    start_winsock()?;
    let mut kind: i32 = 0;
    let mut length = std::mem::size_of::<i32>() as i32;
    // SAFETY: getsockopt writes at most `length` bytes into `kind`; a
    // handle that is not a socket makes it fail, nothing more.
    let asked = unsafe {
        getsockopt(
            socket as SOCKET,
            SOL_SOCKET,
            SO_TYPE,
            (&mut kind as *mut i32).cast(),
            &mut length,
        )
    };
    if asked != 0 || kind != SOCK_STREAM as i32 {
        return Err("not a socket".into());
    }
    // SAFETY: an open stream socket the parent handed us for our use only.
    let stream = unsafe { TcpStream::from_raw_socket(socket) };
    set_inheritable(socket, false).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Winsock must be started before a handle from elsewhere can be asked
/// anything; std starts it only when it makes a socket itself.
fn start_winsock() -> Result<(), String> {
    // SAFETY: WSADATA is plain data that WSAStartup fills; the start is
    // counted and lasts for the process, as std's own does.
    let mut data: WSADATA = unsafe { std::mem::zeroed() };
    match unsafe { WSAStartup(0x0202, &mut data) } {
        0 => Ok(()),
        code => Err(format!("Winsock did not start (error {code})")),
    }
}

/// A console's Ctrl-C and Ctrl-Break reach every process attached to it;
/// a spawned child leaves stopping to its parent, which closes the socket.
pub fn leave_interrupts_to_the_parent() {
    // SAFETY: registers a handler that lives as long as the process.
    unsafe { SetConsoleCtrlHandler(Some(on_console_interrupt), 1) };
}

unsafe extern "system" fn on_console_interrupt(event: u32) -> i32 {
    match event {
        CTRL_C_EVENT | CTRL_BREAK_EVENT => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(crate::process::SIGINT_MESSAGE.as_bytes());
            1
        }
        // Closing the console, logoff, shutdown: the default (exit).
        _ => 0,
    }
}

/// Windows' id for the calling thread.
pub fn os_thread_id() -> i64 {
    // SAFETY: no preconditions.
    i64::from(unsafe { GetCurrentThreadId() })
}

/// Never made on Windows: `-ipcbind=unix` is refused before a listener
/// exists (see the module documentation).
pub enum UnixListener {}

/// Never made on Windows, as [`UnixListener`].
pub enum UnixStream {}

impl From<UnixStream> for OwnedSocket {
    fn from(stream: UnixStream) -> OwnedSocket {
        match stream {}
    }
}

/// Refuses: see the module documentation.
pub fn bind_unix(path: &Path) -> Result<UnixListener, AddressError> {
    Err(AddressError::UnixUnsupported(PathBuf::from(path)))
}

/// Refuses: see the module documentation.
pub fn connect_unix(_path: &Path) -> io::Result<UnixStream> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "unix sockets are not supported on Windows; use -ipcconnect=tcp:<host>:<port>",
    ))
}

/// The errors `-ipcconnect=auto` treats as "no server here": on Windows,
/// where no unix socket is tried, every one.
pub fn nothing_listens(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Unsupported
}

/// Never made on Windows, as [`UnixListener`].
pub struct UnixAcceptor(UnixListener);

impl UnixAcceptor {
    pub fn new(listener: UnixListener) -> io::Result<UnixAcceptor> {
        match listener {}
    }

    pub async fn accept(&self) -> io::Result<UnixStream> {
        match self.0 {}
    }
}
