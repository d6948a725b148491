//! What an IPC call can fail with, as the caller sees it.

/// A failed IPC call. The messages for disconnects are libmultiprocess's,
/// so logs and error reports read the same as Bitcoin Core's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpcError {
    /// The server's method failed; this is its message.
    #[error("{0}")]
    Remote(String),
    /// The connection was already gone when the call was made.
    #[error("IPC client method called after disconnect.")]
    Disconnected,
    /// The connection went away while the call was in flight.
    #[error("IPC client method call interrupted by disconnect.")]
    Interrupted,
    /// This process's event loop is no longer running.
    #[error("IPC event loop has stopped")]
    LoopStopped,
    /// Anything else Cap'n Proto reports (a malformed message, say).
    #[error("IPC protocol error: {0}")]
    Protocol(String),
}

impl IpcError {
    /// Classifies an error from a call that was sent on a live connection.
    pub fn from_call(error: capnp::Error) -> IpcError {
        match error.kind {
            capnp::ErrorKind::Disconnected => IpcError::Interrupted,
            capnp::ErrorKind::Failed | capnp::ErrorKind::Unimplemented => {
                match error.extra.strip_prefix("remote exception: ") {
                    Some(message) => IpcError::Remote(message.to_string()),
                    None => IpcError::Protocol(error.extra),
                }
            }
            _ => IpcError::Protocol(error.to_string()),
        }
    }
}

impl From<capnp::Error> for IpcError {
    fn from(error: capnp::Error) -> IpcError {
        IpcError::from_call(error)
    }
}
