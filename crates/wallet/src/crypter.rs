//! Wallet encryption. As in Bitcoin Core, a random master key encrypts
//! the private keys, and the passphrase only encrypts the master key, so
//! changing the passphrase rewrites one record. Unlike Core (AES-256-CBC
//! with an unauthenticated key check), both layers use an AEAD
//! (ChaCha20-Poly1305): a wrong passphrase is detected by the tag, never
//! by decrypting garbage. The passphrase is stretched with
//! PBKDF2-HMAC-SHA512, Core's derivation family, at a fixed cost.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::Sha512;

/// PBKDF2 rounds: about 0.1 s on a 2020s core, Core's target.
pub const DERIVE_ROUNDS: u32 = 100_000;

/// The master key, encrypted with a passphrase (Core's `CMasterKey`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EncryptedMasterKey {
    pub salt: String,
    pub rounds: u32,
    /// Nonce followed by ciphertext and tag, hex.
    pub sealed: String,
}

/// A decrypted master key; zeroed when dropped.
pub struct MasterKey([u8; 32]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0 = [0; 32];
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error("The wallet passphrase entered was incorrect.")]
    WrongPassphrase,
    #[error("stored encrypted data is corrupt")]
    Corrupt,
    #[error("no randomness: {0}")]
    Random(#[from] std::io::Error),
}

fn stretch(passphrase: &str, salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut key = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(passphrase.as_bytes(), salt, rounds, &mut key);
    let mut out = [0u8; 32];
    out.copy_from_slice(&key[..32]);
    out
}

fn seal(key: &[u8; 32], plain: &[u8]) -> Result<Vec<u8>, CryptError> {
    let nonce = common::secret::random_bytes(12)?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let mut out = nonce.clone();
    out.extend(
        cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| CryptError::Corrupt)?,
    );
    Ok(out)
}

fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 {
        return None;
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .decrypt(Nonce::from_slice(&sealed[..12]), &sealed[12..])
        .ok()
}

impl MasterKey {
    pub fn generate() -> Result<MasterKey, CryptError> {
        let mut key = [0u8; 32];
        key.copy_from_slice(&common::secret::random_bytes(32)?);
        Ok(MasterKey(key))
    }

    /// This key, sealed under `passphrase`.
    pub fn encrypt_with(&self, passphrase: &str) -> Result<EncryptedMasterKey, CryptError> {
        let salt = common::secret::random_bytes(16)?;
        let key = stretch(passphrase, &salt, DERIVE_ROUNDS);
        Ok(EncryptedMasterKey {
            salt: hex::encode(salt),
            rounds: DERIVE_ROUNDS,
            sealed: hex::encode(seal(&key, &self.0)?),
        })
    }

    /// Opens `record` with `passphrase`.
    pub fn decrypt(record: &EncryptedMasterKey, passphrase: &str) -> Result<MasterKey, CryptError> {
        let salt = hex::decode(&record.salt).map_err(|_| CryptError::Corrupt)?;
        let sealed = hex::decode(&record.sealed).map_err(|_| CryptError::Corrupt)?;
        let key = stretch(passphrase, &salt, record.rounds);
        let plain = open(&key, &sealed).ok_or(CryptError::WrongPassphrase)?;
        let mut out = [0u8; 32];
        if plain.len() != 32 {
            return Err(CryptError::Corrupt);
        }
        out.copy_from_slice(&plain);
        Ok(MasterKey(out))
    }

    /// Encrypts a secret (a private descriptor) under this key, as hex.
    pub fn encrypt_secret(&self, secret: &str) -> Result<String, CryptError> {
        Ok(hex::encode(seal(&self.0, secret.as_bytes())?))
    }

    pub fn decrypt_secret(&self, sealed: &str) -> Result<String, CryptError> {
        let sealed = hex::decode(sealed).map_err(|_| CryptError::Corrupt)?;
        let plain = open(&self.0, &sealed).ok_or(CryptError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| CryptError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_passphrase_opens_the_master_key_and_a_wrong_one_is_refused() {
        let master = MasterKey::generate().unwrap();
        let sealed_secret = master.encrypt_secret("tprv-secret").unwrap();
        let record = master.encrypt_with("correct horse").unwrap();
        let opened = MasterKey::decrypt(&record, "correct horse").unwrap();
        assert_eq!(
            opened.decrypt_secret(&sealed_secret).unwrap(),
            "tprv-secret"
        );
        assert!(matches!(
            MasterKey::decrypt(&record, "wrong horse"),
            Err(CryptError::WrongPassphrase)
        ));
    }
}
