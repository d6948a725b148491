//! Bitcoin's v1 message frame: 4 bytes of network magic, a 12-byte
//! command, the payload's length and the first 4 bytes of its double
//! SHA-256, then the payload. Reading checks each field the way Bitcoin
//! Core's transport does, so a peer gets Core's reaction: a wrong magic or
//! an oversized length ends the connection, a wrong checksum only drops
//! that message.

use bitcoin::consensus::encode;
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::Magic;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest payload a peer may send (Core's `MAX_PROTOCOL_MESSAGE_LENGTH`).
pub const MAX_PAYLOAD: u32 = 4_000_000;

const HEADER_LEN: usize = 24;

/// A frame that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The connection ended or failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not our network: the stream cannot be trusted past this point.
    #[error("Wrong MessageStart {0} received")]
    WrongMagic(String),
    /// More than [`MAX_PAYLOAD`] announced.
    #[error("Size too large ({command}, {length} bytes)")]
    TooLarge { command: String, length: u32 },
}

/// One frame read off the wire.
pub enum Frame {
    /// A message whose checksum matched and whose payload decoded.
    Message {
        message: NetworkMessage,
        /// Payload bytes plus the header, for byte counters.
        size: usize,
        command: String,
    },
    /// The checksum did not match: Core drops the message and keeps the
    /// peer.
    BadChecksum {
        command: String,
        length: u32,
        expected: String,
        found: String,
    },
    /// Checksum fine, payload not a valid encoding of `command`: dropped,
    /// as Core drops a message whose processing throws.
    Malformed {
        command: String,
        length: u32,
        error: String,
    },
}

/// Reads one frame for the network `magic`.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    magic: Magic,
) -> Result<Frame, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    reader.read_exact(&mut header).await?;
    if header[..4] != magic.to_bytes() {
        return Err(FrameError::WrongMagic(hex::encode(&header[..4])));
    }
    let command = command_name(&header[4..16]);
    let length = u32::from_le_bytes(header[16..20].try_into().expect("4 bytes"));
    if length > MAX_PAYLOAD {
        return Err(FrameError::TooLarge { command, length });
    }
    let mut payload = vec![0u8; length as usize];
    reader.read_exact(&mut payload).await?;
    let checksum = sha256d::Hash::hash(&payload);
    if checksum[..4] != header[20..24] {
        return Ok(Frame::BadChecksum {
            command,
            length,
            expected: hex::encode(&checksum[..4]),
            found: hex::encode(&header[20..24]),
        });
    }
    // rust-bitcoin decodes the whole frame; it checks the checksum again,
    // which costs one hash of a payload already in cache.
    let mut whole = Vec::with_capacity(HEADER_LEN + payload.len());
    whole.extend_from_slice(&header);
    whole.extend_from_slice(&payload);
    match encode::deserialize::<RawNetworkMessage>(&whole) {
        Ok(raw) => Ok(Frame::Message {
            message: raw.into_payload(),
            size: whole.len(),
            command,
        }),
        Err(error) => Ok(Frame::Malformed {
            command,
            length,
            error: error.to_string(),
        }),
    }
}

/// `message` framed for the network `magic`.
pub fn encode_message(magic: Magic, message: NetworkMessage) -> Vec<u8> {
    encode::serialize(&RawNetworkMessage::new(magic, message))
}

/// The command field as text, NUL padding dropped and anything
/// unprintable escaped (it reaches the log).
fn command_name(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..end]
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(magic: [u8; 4], command: &str, payload: &[u8], checksum: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = magic.to_vec();
        let mut name = [0u8; 12];
        name[..command.len()].copy_from_slice(command.as_bytes());
        out.extend_from_slice(&name);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        let sum = sha256d::Hash::hash(payload);
        out.extend_from_slice(&checksum.unwrap_or([sum[0], sum[1], sum[2], sum[3]]));
        out.extend_from_slice(payload);
        out
    }

    async fn read(bytes: Vec<u8>) -> Result<Frame, FrameError> {
        read_frame(&mut bytes.as_slice(), Magic::REGTEST).await
    }

    #[tokio::test]
    async fn a_ping_round_trips() {
        let bytes = encode_message(Magic::REGTEST, NetworkMessage::Ping(42));
        match read(bytes).await.unwrap() {
            Frame::Message { message, size, .. } => {
                assert_eq!(message, NetworkMessage::Ping(42));
                assert_eq!(size, 32);
            }
            _ => panic!("not a message"),
        }
    }

    #[tokio::test]
    async fn faults_are_told_apart() {
        let regtest = Magic::REGTEST.to_bytes();
        let ping = 7u64.to_le_bytes();
        assert!(matches!(
            read(frame(Magic::BITCOIN.to_bytes(), "ping", &ping, None)).await,
            Err(FrameError::WrongMagic(m)) if m == "f9beb4d9"
        ));
        assert!(matches!(
            read(frame(regtest, "ping", &ping, Some([0; 4]))).await,
            Ok(Frame::BadChecksum { .. })
        ));
        assert!(matches!(
            read(frame(regtest, "ping", &[1, 2, 3], None)).await,
            Ok(Frame::Malformed { .. })
        ));
        let mut big = frame(regtest, "block", &[], None);
        big[16..20].copy_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
        assert!(matches!(
            read(big).await,
            Err(FrameError::TooLarge { length, .. }) if length == MAX_PAYLOAD + 1
        ));
        assert!(matches!(
            read(frame(regtest, "ping", &ping, None)[..30].to_vec()).await,
            Err(FrameError::Io(_))
        ));
    }
}
