//! Script and witness verification, by Bitcoin Core's own interpreter
//! (libbitcoinconsensus, built from Core's source by the `bitcoinconsensus`
//! crate) rather than one of our own.

use bitcoin::consensus::encode::serialize;
use bitcoin::{Transaction, TxOut};

use crate::error::TxError;

/// The rules every input is checked under: P2SH, strict DER, NULLDUMMY,
/// CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY and segwit, all active from
/// block 1 on regtest. libbitcoinconsensus cannot check taproot (it has no
/// access to every spent output), so version-1 witness programs pass
/// unchecked, as they would on a node from before taproot.
pub const BLOCK_FLAGS: u32 = VERIFY_P2SH
    | VERIFY_DERSIG
    | VERIFY_NULLDUMMY
    | VERIFY_CHECKLOCKTIMEVERIFY
    | VERIFY_CHECKSEQUENCEVERIFY
    | VERIFY_WITNESS;

// libbitcoinconsensus's flag bits (Core's SCRIPT_VERIFY_* values).
const VERIFY_P2SH: u32 = 1 << 0;
const VERIFY_DERSIG: u32 = 1 << 2;
const VERIFY_NULLDUMMY: u32 = 1 << 4;
const VERIFY_CHECKLOCKTIMEVERIFY: u32 = 1 << 9;
const VERIFY_CHECKSEQUENCEVERIFY: u32 = 1 << 10;
const VERIFY_WITNESS: u32 = 1 << 11;

/// Verifies every input of `tx`; `spent[i]` is the output input `i` spends.
pub fn verify_inputs(tx: &Transaction, spent: &[TxOut], flags: u32) -> Result<(), TxError> {
    let bytes = serialize(tx);
    for (index, output) in spent.iter().enumerate() {
        bitcoin::consensus::validation::verify_script_with_flags(
            &output.script_pubkey,
            index,
            output.value,
            &bytes,
            flags,
        )
        .map_err(|_| TxError::ScriptFailed)?;
    }
    Ok(())
}
