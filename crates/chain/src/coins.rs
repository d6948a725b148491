//! Unspent outputs as the chainstate keeps them, and the undo data that
//! lets a block be disconnected: the coins it spent, in order.

use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut};

/// An unspent output and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    pub is_coinbase: bool,
}

impl Coin {
    /// `height` (4 bytes LE) | coinbase flag | value (8 bytes LE) | script.
    pub fn to_bytes(&self) -> Vec<u8> {
        let script = self.output.script_pubkey.as_bytes();
        let mut bytes = Vec::with_capacity(13 + script.len());
        bytes.extend_from_slice(&self.height.to_le_bytes());
        bytes.push(self.is_coinbase as u8);
        bytes.extend_from_slice(&self.output.value.to_sat().to_le_bytes());
        bytes.extend_from_slice(script);
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Coin> {
        if bytes.len() < 13 {
            return None;
        }
        let height = u32::from_le_bytes(bytes[0..4].try_into().ok()?);
        let is_coinbase = bytes[4] != 0;
        let value = u64::from_le_bytes(bytes[5..13].try_into().ok()?);
        Some(Coin {
            output: TxOut {
                value: Amount::from_sat(value),
                script_pubkey: ScriptBuf::from_bytes(bytes[13..].to_vec()),
            },
            height,
            is_coinbase,
        })
    }
}

/// The 36-byte key of an outpoint: txid then index, little-endian.
pub fn outpoint_key(outpoint: &OutPoint) -> [u8; 36] {
    let mut key = [0u8; 36];
    key[..32].copy_from_slice(bitcoin::hashes::Hash::as_byte_array(&outpoint.txid));
    key[32..].copy_from_slice(&outpoint.vout.to_le_bytes());
    key
}

/// What a connected block spent, so disconnecting it can put it back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockUndo {
    pub spent: Vec<(OutPoint, Coin)>,
}

impl BlockUndo {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(self.spent.len() as u32).to_le_bytes());
        for (outpoint, coin) in &self.spent {
            bytes.extend_from_slice(&outpoint_key(outpoint));
            let coin = coin.to_bytes();
            bytes.extend_from_slice(&(coin.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&coin);
        }
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<BlockUndo> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            if rest.len() < n {
                return None;
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Some(head)
        };
        let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
        let mut spent = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let key = take(36)?;
            let txid = bitcoin::Txid::from_slice_checked(&key[..32])?;
            let vout = u32::from_le_bytes(key[32..].try_into().ok()?);
            let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            let coin = Coin::from_bytes(take(len)?)?;
            spent.push((OutPoint { txid, vout }, coin));
        }
        Some(BlockUndo { spent })
    }
}

trait FromSliceChecked: Sized {
    fn from_slice_checked(bytes: &[u8]) -> Option<Self>;
}

impl FromSliceChecked for bitcoin::Txid {
    fn from_slice_checked(bytes: &[u8]) -> Option<Self> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(bitcoin::hashes::Hash::from_byte_array(array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_and_undo_round_trip() {
        let coin = Coin {
            output: TxOut {
                value: Amount::from_sat(5_000_000_000),
                script_pubkey: ScriptBuf::from_bytes(vec![0x51]),
            },
            height: 7,
            is_coinbase: true,
        };
        assert_eq!(Coin::from_bytes(&coin.to_bytes()), Some(coin.clone()));
        let undo = BlockUndo {
            spent: vec![(OutPoint::null(), coin.clone()), (OutPoint::null(), coin)],
        };
        assert_eq!(BlockUndo::from_bytes(&undo.to_bytes()), Some(undo));
        assert_eq!(BlockUndo::from_bytes(&[1, 0, 0, 0]), None, "truncated");
    }
}
