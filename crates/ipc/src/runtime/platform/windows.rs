//! The IPC runtime's Windows side. A parent and its child talk over a
//! connected loopback TCP pair. Not AF_UNIX: Windows has it since 10 1803
//! but without `socketpair`, and wine (where the suite runs in CI) has no
//! AF_UNIX at all; a loopback pair works on both. `-ipcbind=unix` is
//! refused here with a message naming `tcp:`, which works everywhere.
//!
//! The child's end travels as Microsoft documents for sockets: the parent
//! calls `WSADuplicateSocketW` for the child's pid and sends the
//! resulting `WSAPROTOCOL_INFOW` down an anonymous pipe whose read end the
//! child inherits; `-ipcfd` carries that pipe handle's number, and the
//! child makes its socket with `WSASocketW(FROM_PROTOCOL_INFO)`. An
//! inherited socket handle would be simpler, and works on Windows with
//! the base providers (Microsoft warns it may not with layered ones), but
//! not under wine 8: the child's copy of the handle is valid and yet no
//! socket to its Winsock (`WSAENOTSOCK`, the same for `DuplicateHandle`).
//!
//! After the socket's description the pipe carries a handle to the parent
//! process that the parent put into the child's handle table, which the
//! child waits on ([`parent_exited`]): a killed parent must end its child
//! even where the socket's close never arrives. Under wine 8 it sometimes
//! does not (the orphan's read stays pending in wineserver after the
//! parent's kill -9); on Windows the process handle is the documented way
//! to watch another process anyway.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::windows::io::AsRawHandle;
use std::os::windows::io::{AsRawSocket, FromRawHandle, FromRawSocket, OwnedSocket, RawSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard, OnceLock};

use windows_sys::Win32::Foundation::{
    DuplicateHandle, GetHandleInformation, GetLastError, SetHandleInformation, HANDLE,
    HANDLE_FLAG_INHERIT, WAIT_OBJECT_0,
};
use windows_sys::Win32::Networking::WinSock::{
    WSADuplicateSocketW, WSAGetLastError, WSASocketW, WSAStartup, FROM_PROTOCOL_INFO,
    INVALID_SOCKET, WSADATA, WSAPROTOCOL_INFOW, WSA_FLAG_NO_HANDLE_INHERIT, WSA_FLAG_OVERLAPPED,
};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::Storage::FileSystem::{GetFileType, FILE_TYPE_PIPE};
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT};
use windows_sys::Win32::System::Pipes::CreatePipe;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentThreadId, WaitForSingleObject, INFINITE, PROCESS_SYNCHRONIZE,
};

use crate::ipc_log;
use crate::listen::AddressError;
use crate::log::Level;

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

/// Only one hand-off pipe is inheritable at a time, so two spawns at once
/// never give a child the other's pipe.
static HANDOFF: Mutex<()> = Mutex::new(());

/// The child's end of a pair on its way into a [`Command`]: an anonymous
/// pipe whose read end the child inherits (its number is the `-ipcfd`
/// value), and, once the child exists, the socket duplicated for its pid
/// and written down the pipe ([`Handoff::complete`]). Our copies of the
/// child's end and of the pipe close when this is dropped.
pub struct Handoff {
    theirs: TcpStream,
    /// The child's end of the pipe: inheritable, ours closed after spawn.
    read: File,
    /// Our end of the pipe.
    write: File,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Handoff {
    /// Arranges for `command`'s child to receive `theirs`.
    pub fn prepare(_command: &mut Command, theirs: PairStream) -> io::Result<Handoff> {
        let guard = HANDOFF
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let inheritable = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: std::ptr::null_mut(),
            bInheritHandle: 1,
        };
        let (mut read, mut write): (HANDLE, HANDLE) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: out-pointers to two handles; both are owned by Files below.
        if unsafe { CreatePipe(&mut read, &mut write, &inheritable, 0) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: handles CreatePipe just made, owned from here on.
        let (read, write) = unsafe { (File::from_raw_handle(read), File::from_raw_handle(write)) };
        set_inheritable(&write, false)?;
        Ok(Handoff {
            theirs,
            read,
            write,
            _one_at_a_time: guard,
        })
    }

    /// The `-ipcfd` value the child finds its end by: the number of the
    /// pipe handle it inherits.
    pub fn ipcfd_value(&self) -> String {
        (self.read.as_raw_handle() as usize).to_string()
    }

    /// Duplicates the socket for the spawned `child` and sends it the
    /// description, then a handle to this process in the child's table,
    /// and closes our copies.
    pub fn complete(mut self, child: &Child) -> io::Result<()> {
        // SAFETY: WSAPROTOCOL_INFOW is plain data the call fills in.
        let mut info: WSAPROTOCOL_INFOW = unsafe { std::mem::zeroed() };
        // SAFETY: a socket we own and an out-pointer to `info`.
        if unsafe { WSADuplicateSocketW(self.theirs.as_raw_socket() as _, child.id(), &mut info) }
            != 0
        {
            return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
        }
        let mut ours_in_theirs: HANDLE = std::ptr::null_mut();
        // SAFETY: the pseudo-handle of this process, duplicated (wait
        // access only, not inheritable) into the child's handle table; the
        // child owns the copy, whose number it reads below.
        if unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                GetCurrentProcess(),
                child.as_raw_handle(),
                &mut ours_in_theirs,
                PROCESS_SYNCHRONIZE,
                0,
                0,
            )
        } == 0
        {
            return Err(io::Error::last_os_error());
        }
        let mut message = plain_bytes(&info).to_vec();
        message.extend_from_slice(&(ours_in_theirs as u64).to_le_bytes());
        self.write.write_all(&message)
    }
}

/// The bytes of a plain-data Windows structure.
fn plain_bytes<T>(value: &T) -> &[u8] {
    // SAFETY: only called with plain-data structures (no padding that
    // matters, no pointers the reader follows), read as their bytes.
    unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
    }
}

/// Whether children spawned from now on inherit `handle`.
fn set_inheritable(
    handle: &impl std::os::windows::io::AsRawHandle,
    inherit: bool,
) -> io::Result<()> {
    let flags = if inherit { HANDLE_FLAG_INHERIT } else { 0 };
    // SAFETY: a handle we own; the call changes only its flags.
    if unsafe { SetHandleInformation(handle.as_raw_handle(), HANDLE_FLAG_INHERIT, flags) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes up the socket a parent handed this process as `-ipcfd=<value>`:
/// the value must be the number of an inherited pipe handle, down which
/// the parent sends the socket's description. The pipe is closed after.
/// `Err` is the reason for the user.
pub fn adopt(value: &str) -> Result<PairStream, String> {
    let handle: usize = value
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())?;
    let mut flags = 0;
    // SAFETY: asks about a handle number; an invalid one makes it fail.
    if handle == 0 || unsafe { GetHandleInformation(handle as HANDLE, &mut flags) } == 0 {
        return Err("not a handle this process inherited".into());
    }
    // A valid handle that is not a pipe (a console, a file) is not ours to
    // read from, or to close.
    // SAFETY: asks about a valid handle.
    if unsafe { GetFileType(handle as HANDLE) } != FILE_TYPE_PIPE {
        return Err("not the pipe a parent hands a socket down".into());
    }
    // SAFETY: an inherited pipe handle the parent gave us for this use.
    let mut pipe = unsafe { File::from_raw_handle(handle as HANDLE) };
    // SAFETY: WSAPROTOCOL_INFOW is plain data; every bit pattern is valid.
    let mut info: WSAPROTOCOL_INFOW = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is exactly `info`'s bytes.
    let buffer = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut info as *mut WSAPROTOCOL_INFOW).cast::<u8>(),
            std::mem::size_of::<WSAPROTOCOL_INFOW>(),
        )
    };
    pipe.read_exact(buffer)
        .map_err(|e| format!("no socket came from the parent on that handle: {e}"))?;
    let mut parent = [0u8; 8];
    pipe.read_exact(&mut parent)
        .map_err(|e| format!("no parent handle came after the socket: {e}"))?;
    drop(pipe);
    watch_parent(u64::from_le_bytes(parent) as usize as HANDLE);
    start_winsock()?;
    // SAFETY: `info` is what WSADuplicateSocketW wrote for this process.
    let socket = unsafe {
        WSASocketW(
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            FROM_PROTOCOL_INFO,
            &info,
            0,
            WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT,
        )
    };
    if socket == INVALID_SOCKET {
        // SAFETY: no preconditions.
        let code = unsafe { WSAGetLastError() };
        return Err(format!(
            "the parent's socket could not be taken up: Winsock error {code}"
        ));
    }
    // SAFETY: a socket just made for this process, owned from here on.
    Ok(unsafe { TcpStream::from_raw_socket(socket as RawSocket) })
}

/// Set by [`adopt`]: turns true when the parent this process serves exits.
static PARENT_EXITED: OnceLock<tokio::sync::watch::Receiver<bool>> = OnceLock::new();

/// Watches `parent` (a process handle the parent put in our table) for
/// [`parent_exited`]. Without a watcher the socket's close alone ends the
/// connection, as on unix.
fn watch_parent(parent: HANDLE) {
    if let Ok(receiver) = watch_process(parent) {
        let _ = PARENT_EXITED.set(receiver);
    }
}

/// A receiver that turns true when `process` (a handle with wait access,
/// never closed from here on) has exited, from a thread that waits on it.
/// If the wait itself fails the sender is dropped: the receiver then never
/// turns true, rather than report an exit that did not happen.
fn watch_process(process: HANDLE) -> io::Result<tokio::sync::watch::Receiver<bool>> {
    let (exited, receiver) = tokio::sync::watch::channel(false);
    let process = process as usize;
    std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(move || {
            // SAFETY: a process handle this process owns and never closes.
            match unsafe { WaitForSingleObject(process as HANDLE, INFINITE) } {
                WAIT_OBJECT_0 => {
                    let _ = exited.send(true);
                }
                _ => {
                    // SAFETY: no preconditions.
                    let code = unsafe { GetLastError() };
                    ipc_log!(
                        Level::Warning,
                        "IPC: cannot wait on the parent process (error {code}); its socket's close alone will end this process."
                    );
                }
            }
        })?;
    Ok(receiver)
}

/// Resolves when the parent process that spawned this one has exited;
/// never, in a process that was not spawned with a hand-off.
pub async fn parent_exited() {
    match PARENT_EXITED.get() {
        Some(receiver) => exited(receiver.clone()).await,
        None => std::future::pending().await,
    }
}

/// Resolves once `receiver` turns true; never, if its watcher gave up.
async fn exited(mut receiver: tokio::sync::watch::Receiver<bool>) {
    if receiver.wait_for(|exited| *exited).await.is_err() {
        std::future::pending::<()>().await;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A process handle of our own for `child`, with wait access.
    fn wait_handle(child: &Child) -> HANDLE {
        let mut ours: HANDLE = std::ptr::null_mut();
        // SAFETY: duplicates the child's handle within this process.
        let done = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                child.as_raw_handle(),
                GetCurrentProcess(),
                &mut ours,
                PROCESS_SYNCHRONIZE,
                0,
                0,
            )
        };
        assert_ne!(done, 0, "{}", io::Error::last_os_error());
        ours
    }

    fn block_on(future: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(60), future)
                    .await
                    .expect("the watcher reports the exit")
            });
    }

    #[test]
    fn a_watched_process_that_exits_is_reported() {
        // This test binary listing its tests: a child that exits at once.
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let receiver = watch_process(wait_handle(&child)).unwrap();
        child.wait().unwrap();
        block_on(exited(receiver));
    }

    #[test]
    fn a_handle_that_cannot_be_waited_on_is_never_reported_as_an_exit() {
        // Not a handle at all: the wait fails, and the receiver must not
        // say the parent exited.
        let mut receiver = watch_process(0xDEAD_BEE0_usize as HANDLE).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let changed = runtime.block_on(receiver.changed());
        assert!(changed.is_err(), "the sender was dropped without a value");
        assert!(!*receiver.borrow());
    }
}
