//! The byte stream under a connection on unix: a unix or tcp socket on
//! the event loop, with its writes made directly and its wake-ups chosen
//! for the CPUs the process may use.
//!
//! A unix socket raises a writable edge on the sender each time the peer
//! *reads* a message, so a loop that watches writable edges (as tokio's
//! `UnixStream` does) is woken once per message for nothing. What that
//! costs depends on the CPUs (`cargo xtask bench ipc`, this VM):
//! - Confined to one CPU, each such wake-up is a pair of context switches
//!   on the CPU the call itself needs: a blocking Context call took 29 us
//!   with them and 22 us without. So there the socket is watched for
//!   readable edges only.
//! - On several CPUs the wake-up lands on an idle CPU while the peer works
//!   on the request, and leaves that CPU polling (not halted) when the
//!   reply arrives a few microseconds later: the same call took 60 us with
//!   it and 95-100 us without. So there writable edges are watched too.
//!
//! Writes go straight to the socket either way; only a write the kernel
//! refuses (a full buffer, rare for RPC-sized messages) waits for space,
//! through a writable watch on a duplicate descriptor that is dropped
//! again once the write has gone through.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

/// A non-blocking unix or tcp socket registered with the loop.
pub struct SocketStream {
    read: AsyncFd<OwnedFd>,
    /// Present only while a write waits for buffer space.
    write: Option<AsyncFd<OwnedFd>>,
}

impl SocketStream {
    /// Takes `socket` over (a `UnixStream` or `TcpStream`), switching it to
    /// non-blocking. Call on the loop.
    pub fn new(socket: impl Into<OwnedFd>) -> io::Result<SocketStream> {
        let socket: OwnedFd = socket.into();
        set_nonblocking(socket.as_raw_fd())?;
        Ok(SocketStream {
            read: watch(socket, wake_on())?,
            write: None,
        })
    }

    fn fd(&self) -> RawFd {
        self.read.get_ref().as_raw_fd()
    }
}

/// The edges the loop is woken by: see the module documentation.
fn wake_on() -> Interest {
    if allowed_cpus() == Some(1) {
        Interest::READABLE
    } else {
        Interest::READABLE.add(Interest::WRITABLE)
    }
}

/// How many CPUs this thread may run on (its affinity mask; a CPU quota
/// does not confine the threads to fewer CPUs, so it does not count).
fn allowed_cpus() -> Option<u32> {
    // SAFETY: a zeroed cpu_set_t is valid, and sched_getaffinity fills at
    // most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(libc::CPU_COUNT(&set) as u32)
    }
}

/// Registers `fd` with the loop's reactor for `interest`.
fn watch(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` stays open, and names the same description,
    // until the `AsyncFd` that owns it drops it.
    Ok(unsafe { AsyncFd::register_with_interest(fd, interest) }?)
}

/// What a byte-count-returning libc call gave: the count, or the error.
fn check(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with valid flags.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

impl AsyncRead for SocketStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.read.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let unfilled_len = unfilled.len();
            let received = guard.try_io(|fd| {
                // SAFETY: the buffer is valid for `len` bytes and ours.
                check(unsafe {
                    libc::recv(
                        fd.get_ref().as_raw_fd(),
                        unfilled.as_mut_ptr().cast(),
                        unfilled.len(),
                        0,
                    )
                })
            });
            match received {
                Ok(Ok(n)) => {
                    // A stream socket hands over all it holds: a short read
                    // means it is empty now, so wait for the next edge
                    // rather than spend a syscall learning so. (A message
                    // that arrived meanwhile raised a new edge, which
                    // this does not clear.)
                    if n > 0 && n < unfilled_len {
                        guard.clear_ready();
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                // Readiness was stale: cleared, wait for the next edge.
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for SocketStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            // MSG_NOSIGNAL: a peer that hung up is an error, not SIGPIPE.
            // SAFETY: `data` is valid for `len` bytes.
            let sent = check(unsafe {
                libc::send(
                    self.fd(),
                    data.as_ptr().cast(),
                    data.len(),
                    libc::MSG_NOSIGNAL,
                )
            });
            match sent {
                Ok(n) => {
                    // Space was found: stop watching for it.
                    self.write = None;
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
            if self.write.is_none() {
                let duplicate = self.read.get_ref().try_clone()?;
                self.write = Some(watch(duplicate, Interest::WRITABLE)?);
            }
            let watch = self.write.as_ref().expect("set just above");
            let mut guard = ready!(watch.poll_write_ready(cx))?;
            // Try once more; a refusal waits for the next edge.
            guard.clear_ready();
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered here.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // SAFETY: shutdown on a descriptor we own.
        let done = unsafe { libc::shutdown(self.fd(), libc::SHUT_WR) };
        Poll::Ready(if done == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// More than a socket buffer holds: the writer must wait for the
    /// reader, through the writable watch, and every byte must arrive.
    fn large_write_arrives_whole() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let data: Vec<u8> = (0..8 << 20).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let received = runtime.block_on(async move {
            let mut writer = SocketStream::new(a).unwrap();
            let mut reader = SocketStream::new(b).unwrap();
            let send = async move {
                writer.write_all(&data).await.unwrap();
                writer.shutdown().await.unwrap();
            };
            let receive = async move {
                let mut received = Vec::new();
                reader.read_to_end(&mut received).await.unwrap();
                received
            };
            tokio::join!(send, receive).1
        });
        assert!(
            received == expected,
            "the bytes arrived changed or cut short"
        );
    }

    #[test]
    fn a_write_larger_than_the_buffer_waits_for_the_reader() {
        large_write_arrives_whole();
    }

    /// The same on one CPU, where the socket is watched for reads only.
    #[test]
    fn confined_to_one_cpu_a_large_write_still_arrives() {
        std::thread::spawn(|| {
            // SAFETY: a zeroed cpu_set_t is valid; this thread is ours.
            unsafe {
                let cpu = libc::sched_getcpu().max(0) as usize;
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu, &mut set);
                assert_eq!(
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set),
                    0
                );
            }
            assert_eq!(allowed_cpus(), Some(1));
            assert_eq!(wake_on(), Interest::READABLE);
            large_write_arrives_whole();
        })
        .join()
        .unwrap();
    }
}
