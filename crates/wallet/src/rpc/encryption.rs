//! encryptwallet, walletpassphrase, walletpassphrasechange, walletlock,
//! backupwallet.

use interfaces::rpc::params::{required, Kind};
use interfaces::rpc::{code, RpcError};
use serde_json::{json, Value};

use super::{invalid_parameter, rpc_error, WalletMethod};
use crate::error::WalletError;

pub static METHODS: &[&WalletMethod] = &[
    &ENCRYPTWALLET,
    &WALLETPASSPHRASE,
    &WALLETPASSPHRASECHANGE,
    &WALLETLOCK,
    &BACKUPWALLET,
];

/// Core caps `walletpassphrase`'s timeout at about three years.
const MAX_SLEEP_TIME: i64 = 100_000_000;

static ENCRYPTWALLET: WalletMethod = WalletMethod {
    name: "encryptwallet",
    args: &[required("passphrase", Kind::Str, "The pass phrase to encrypt the wallet with. It must be at least 1 character, but should be long.")],
    summary: "Encrypts the wallet with 'passphrase'. This is for first time encryption.",
    run: |call| {
        let wallet = call.wallet()?;
        let mut state = wallet.synced();
        if state.flags.disable_private_keys {
            return Err(RpcError::new(code::WALLET_ENCRYPTION_FAILED, "Error: wallet does not contain private keys, nothing to encrypt."));
        }
        if state.is_encrypted() {
            return Err(rpc_error(WalletError::AlreadyEncrypted));
        }
        let passphrase = call.params.str(0).unwrap_or_default().to_string();
        if passphrase.is_empty() {
            return Err(invalid_parameter("passphrase cannot be empty"));
        }
        wallet
            .commit_with(&mut state, |state, batch| state.encrypt(&passphrase, batch))
            .map_err(|e| RpcError::new(code::WALLET_ENCRYPTION_FAILED, format!("Error: Failed to encrypt the wallet. {e}")))?;
        Ok(json!("wallet encrypted; The keypool has been flushed and a new HD seed was generated (if you are using HD). You need to make a new backup."))
    },
};

static WALLETPASSPHRASE: WalletMethod = WalletMethod {
    name: "walletpassphrase",
    args: &[
        required("passphrase", Kind::Str, "The wallet passphrase"),
        required(
            "timeout",
            Kind::Num,
            "The time to keep the decryption key in seconds; capped at 100000000 (~3 years).",
        ),
    ],
    summary: "Stores the wallet decryption key in memory for 'timeout' seconds.",
    run: |call| {
        let wallet = call.wallet()?;
        let passphrase = call.params.str(0).unwrap_or_default().to_string();
        let timeout = call.params.i64_or(1, 0)?;
        let mut state = wallet.synced();
        if !state.is_encrypted() {
            return Err(RpcError::new(
                code::WALLET_WRONG_ENC_STATE,
                "Error: running with an unencrypted wallet, but walletpassphrase was called.",
            ));
        }
        if timeout < 0 {
            return Err(invalid_parameter("Timeout cannot be negative."));
        }
        if passphrase.is_empty() {
            return Err(invalid_parameter("passphrase cannot be empty"));
        }
        let until = wallet.chain.now() + timeout.min(MAX_SLEEP_TIME);
        state.unlock(&passphrase, until).map_err(rpc_error)?;
        Ok(Value::Null)
    },
};

static WALLETPASSPHRASECHANGE: WalletMethod = WalletMethod {
    name: "walletpassphrasechange",
    args: &[
        required("oldpassphrase", Kind::Str, "The current passphrase"),
        required("newpassphrase", Kind::Str, "The new passphrase"),
    ],
    summary: "Changes the wallet passphrase from 'oldpassphrase' to 'newpassphrase'.",
    run: |call| {
        let wallet = call.wallet()?;
        let old = call.params.str(0).unwrap_or_default().to_string();
        let new = call.params.str(1).unwrap_or_default().to_string();
        let mut state = wallet.synced();
        if !state.is_encrypted() {
            return Err(RpcError::new(
                code::WALLET_WRONG_ENC_STATE,
                "Error: running with an unencrypted wallet, but walletpassphrasechange was called.",
            ));
        }
        if old.is_empty() || new.is_empty() {
            return Err(invalid_parameter("passphrase cannot be empty"));
        }
        wallet
            .commit_with(&mut state, |state, batch| {
                state.change_passphrase(&old, &new, batch)
            })
            .map_err(rpc_error)?;
        Ok(Value::Null)
    },
};

static WALLETLOCK: WalletMethod = WalletMethod {
    name: "walletlock",
    args: &[],
    summary: "Removes the wallet encryption key from memory, locking the wallet.",
    run: |call| {
        let wallet = call.wallet()?;
        let mut state = wallet.synced();
        if !state.is_encrypted() {
            return Err(RpcError::new(
                code::WALLET_WRONG_ENC_STATE,
                "Error: running with an unencrypted wallet, but walletlock was called.",
            ));
        }
        state.lock();
        Ok(Value::Null)
    },
};

static BACKUPWALLET: WalletMethod = WalletMethod {
    name: "backupwallet",
    args: &[required("destination", Kind::Str, "The destination directory or file")],
    summary: "Safely copies the current wallet file to the specified destination, which can either be a directory or a path with a filename.",
    run: |call| {
        let wallet = call.wallet()?;
        let mut destination = std::path::PathBuf::from(call.params.str(0).unwrap_or_default());
        if destination.is_dir() {
            destination.push(format!("{}.redb", if wallet.name.is_empty() { "wallet" } else { &wallet.name }));
        }
        drop(wallet.synced());
        wallet
            .backup(&destination)
            .map_err(|_| RpcError::new(code::WALLET_ERROR, "Error: Wallet backup failed!"))?;
        Ok(Value::Null)
    },
};
