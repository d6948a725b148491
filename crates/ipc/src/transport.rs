//! The byte stream under a connection: a unix or tcp socket watched by the
//! event loop for reading only.
//!
//! Why not tokio's `UnixStream`: it asks epoll for both readable and
//! writable edges, and on a unix socket every message the peer *reads*
//! raises a writable edge on the sender's side. So each request and each
//! reply wakes the other process's event loop once for nothing: an extra
//! pair of context switches per call, the largest single cost left in a
//! pinned IPC call. Writes here go straight to the socket; only a write
//! the kernel refuses (a full buffer, rare for RPC-sized messages) sets up
//! a writable watch, on a duplicate descriptor that is dropped again once
//! the write has gone through.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

/// A non-blocking unix or tcp socket registered for readability only.
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
            read: watch(socket, Interest::READABLE)?,
            write: None,
        })
    }

    fn fd(&self) -> RawFd {
        self.read.get_ref().as_raw_fd()
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
    #[test]
    fn a_write_larger_than_the_buffer_waits_for_the_reader() {
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
}
