//! The byte stream under a connection on Windows: a socket (a tcp client,
//! or the loopback pair to a child) as tokio's `TcpStream`, which waits
//! through the loop's completion port. The unix side's hand-tuned wake-ups
//! answer how a unix socket raises edges; nothing here has measured a
//! reason to do the same on Windows.

use std::io;
use std::os::windows::io::OwnedSocket;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A non-blocking socket registered with the loop.
pub struct SocketStream(tokio::net::TcpStream);

impl SocketStream {
    /// Takes `socket` over, switching it to non-blocking. Call on the loop.
    pub fn new(socket: impl Into<OwnedSocket>) -> io::Result<SocketStream> {
        let socket = std::net::TcpStream::from(socket.into());
        socket.set_nonblocking(true)?;
        Ok(SocketStream(tokio::net::TcpStream::from_std(socket)?))
    }
}

impl AsyncRead for SocketStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SocketStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
