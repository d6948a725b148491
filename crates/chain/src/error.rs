//! Why a block or transaction was refused. Each variant displays as
//! Bitcoin Core's reject reason, which RPC results and logs repeat.

/// A refused block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("high-hash")]
    HighHash,
    #[error("bad-diffbits")]
    BadDiffBits,
    #[error("time-too-old")]
    TimeTooOld,
    #[error("time-too-new")]
    TimeTooNew,
    #[error("bad-version(0x{0:08x})")]
    BadVersion(i32),
    #[error("prev-blk-not-found")]
    PrevNotFound,
    #[error("bad-prevblk")]
    BadPrevBlock,
    #[error("duplicate")]
    Duplicate,
    #[error("duplicate-invalid")]
    DuplicateInvalid,
    #[error("bad-txnmrklroot")]
    BadMerkleRoot,
    #[error("bad-txns-duplicate")]
    MutatedMerkle,
    #[error("bad-blk-length")]
    BadLength,
    #[error("bad-blk-weight")]
    BadWeight,
    #[error("bad-blk-sigops")]
    TooManySigops,
    #[error("bad-cb-missing")]
    CoinbaseMissing,
    #[error("bad-cb-multiple")]
    CoinbaseMultiple,
    #[error("bad-cb-height")]
    CoinbaseHeight,
    #[error("bad-cb-amount")]
    CoinbaseAmount,
    #[error("bad-witness-nonce-size")]
    WitnessNonceSize,
    #[error("bad-witness-merkle-match")]
    WitnessMerkleMatch,
    #[error("unexpected-witness")]
    UnexpectedWitness,
    /// A transaction in the block is invalid.
    #[error("{0}")]
    Transaction(#[from] TxError),
    /// The block could not be stored or read.
    #[error("{0}")]
    Store(String),
}

/// A refused transaction (in a block or, later, for the mempool).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("bad-txns-vin-empty")]
    NoInputs,
    #[error("bad-txns-vout-empty")]
    NoOutputs,
    #[error("bad-txns-oversize")]
    Oversize,
    #[error("bad-txns-vout-toolarge")]
    OutputTooLarge,
    #[error("bad-txns-txouttotal-toolarge")]
    OutputTotalTooLarge,
    #[error("bad-txns-inputs-duplicate")]
    DuplicateInputs,
    #[error("bad-cb-length")]
    CoinbaseLength,
    #[error("bad-txns-prevout-null")]
    NullPrevout,
    #[error("bad-txns-nonfinal")]
    NonFinal,
    #[error("bad-txns-inputs-missingorspent")]
    MissingOrSpent,
    #[error("bad-txns-premature-spend-of-coinbase")]
    PrematureCoinbaseSpend,
    #[error("bad-txns-inputvalues-outofrange")]
    InputValuesOutOfRange,
    #[error("bad-txns-in-belowout")]
    InBelowOut,
    /// An input's script or witness does not satisfy the output it spends
    /// (libbitcoinconsensus gives no finer reason).
    #[error("mandatory-script-verify-flag-failed (Script failed)")]
    ScriptFailed,
}
