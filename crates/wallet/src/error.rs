//! What can go wrong in the wallet, each with Bitcoin Core's message.

use crate::crypter::CryptError;
use crate::descriptors::DescriptorError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("Insufficient funds")]
    InsufficientFunds,
    #[error("Transaction amount too small")]
    AmountTooSmall,
    #[error("The transaction amount is too small to pay the fee")]
    AmountTooSmallForFee,
    #[error("The transaction amount is too small to send after the fee has been deducted")]
    AmountTooSmallAfterFee,
    #[error("Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")]
    FeeTooHigh,
    #[error(
        "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee."
    )]
    NoFeeRate,
    #[error("Fee rate ({0}) is lower than the minimum fee rate setting ({1})")]
    FeeRateTooLow(String, String),
    #[error("Error: Please enter the wallet passphrase with walletpassphrase first.")]
    Locked,
    #[error("Error: Private keys are disabled for this wallet")]
    PrivateKeysDisabled,
    #[error("Error: This wallet has no available keys")]
    NoKeys,
    #[error("Error: The wallet passphrase entered was incorrect.")]
    WrongPassphrase,
    #[error("Error: running with an unencrypted wallet, but walletpassphrase was called.")]
    NotEncrypted,
    #[error("Error: running with an encrypted wallet, but encryptwallet was called.")]
    AlreadyEncrypted,
    #[error("Signing transaction failed")]
    SigningFailed,
    #[error("{0}")]
    Broadcast(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Descriptor(#[from] DescriptorError),
}

impl From<CryptError> for WalletError {
    fn from(error: CryptError) -> WalletError {
        match error {
            CryptError::WrongPassphrase => WalletError::WrongPassphrase,
            other => WalletError::Invalid(other.to_string()),
        }
    }
}
