//! Script and witness verification, by Bitcoin Core's own interpreter
//! (libbitcoinconsensus from Core 26, built from Core's source by the
//! `bitcoinconsensus` crate) rather than one of our own. Taproot is
//! checked too: the library is given every output the transaction spends.

use bitcoin::consensus::encode::serialize;
use bitcoin::{Transaction, TxOut};

use crate::error::TxError;

/// The rules every input is checked under: P2SH, strict DER, NULLDUMMY,
/// CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY, segwit and taproot, all
/// active from block 1 on regtest (Core's block flags).
pub const BLOCK_FLAGS: u32 =
    bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT | bitcoinconsensus::VERIFY_TAPROOT;

/// Verifies every input of `tx`; `spent[i]` is the output input `i` spends.
pub fn verify_inputs(tx: &Transaction, spent: &[TxOut], flags: u32) -> Result<(), TxError> {
    let bytes = serialize(tx);
    // The library reads these through raw pointers into `spent`, which
    // outlives every call below.
    let utxos: Vec<bitcoinconsensus::Utxo> = spent
        .iter()
        .map(|output| bitcoinconsensus::Utxo {
            script_pubkey: output.script_pubkey.as_bytes().as_ptr(),
            script_pubkey_len: output.script_pubkey.len() as u32,
            value: output.value.to_sat() as i64,
        })
        .collect();
    for (index, output) in spent.iter().enumerate() {
        bitcoinconsensus::verify_with_flags(
            output.script_pubkey.as_bytes(),
            output.value.to_sat(),
            &bytes,
            Some(&utxos),
            index,
            flags,
        )
        .map_err(|_| TxError::ScriptFailed)?;
    }
    Ok(())
}
