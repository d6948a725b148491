//! Who may call: the cookie (`__cookie__:<secret>` in `<network dir>/.cookie`),
//! `-rpcuser`/`-rpcpassword`, and `-rpcauth=<user>:<salt>$<hmac>` entries,
//! checked in constant time as Bitcoin Core does.

use std::path::{Path, PathBuf};

use base64::Engine;
use bitcoin::hashes::{hmac, sha256, Hash, HashEngine};

pub const COOKIE_USER: &str = "__cookie__";

/// One accepted credential.
enum Credential {
    /// `user:password`, compared whole.
    Plain(String),
    /// `-rpcauth`: the user, the salt, and HMAC-SHA256(salt, password).
    Hashed {
        user: String,
        salt: String,
        hash: [u8; 32],
    },
}

#[derive(Default)]
pub struct Auth {
    credentials: Vec<Credential>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Invalid -rpcauth argument.")]
    BadRpcAuth,
    #[error("Unable to open cookie authentication file {path} for writing: {source}")]
    Cookie {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Auth {
    /// `rpcauth` values are `<user>:<salt>$<hex hmac>`.
    pub fn add_rpcauth(&mut self, value: &str) -> Result<(), AuthError> {
        let (user, rest) = value.split_once(':').ok_or(AuthError::BadRpcAuth)?;
        let (salt, hash) = rest.split_once('$').ok_or(AuthError::BadRpcAuth)?;
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or(AuthError::BadRpcAuth)?;
        self.credentials.push(Credential::Hashed {
            user: user.to_string(),
            salt: salt.to_string(),
            hash,
        });
        Ok(())
    }

    pub fn add_user(&mut self, user: &str, password: &str) {
        self.credentials
            .push(Credential::Plain(format!("{user}:{password}")));
    }

    /// Writes a fresh cookie to `path` (0600) and accepts it. The caller
    /// removes the file at shutdown.
    pub fn add_cookie(&mut self, path: &Path) -> Result<(), AuthError> {
        let io = |source| AuthError::Cookie {
            path: path.to_path_buf(),
            source,
        };
        let line = format!(
            "{COOKIE_USER}:{}",
            common::secret::random_hex(32).map_err(io)?
        );
        common::secret::write_private(path, &line).map_err(io)?;
        self.credentials.push(Credential::Plain(line));
        Ok(())
    }

    /// Checks an `Authorization` header value.
    pub fn check(&self, header: Option<&str>) -> bool {
        let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ")) else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Ok(presented) = String::from_utf8(decoded) else {
            return false;
        };
        self.credentials.iter().any(|credential| match credential {
            Credential::Plain(expected) => {
                constant_time_eq(presented.as_bytes(), expected.as_bytes())
            }
            Credential::Hashed { user, salt, hash } => {
                let Some((name, password)) = presented.split_once(':') else {
                    return false;
                };
                if name != user {
                    return false;
                }
                let mut engine = hmac::HmacEngine::<sha256::Hash>::new(salt.as_bytes());
                engine.input(password.as_bytes());
                let computed = hmac::Hmac::<sha256::Hash>::from_engine(engine);
                constant_time_eq(computed.as_byte_array(), hash)
            }
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(credentials: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }

    #[test]
    fn users_rpcauth_and_cookies_are_accepted_and_nothing_else() {
        let mut auth = Auth::default();
        auth.add_user("alice", "secret");
        // Generated with Core's share/rpcauth/rpcauth.py for bob / pw.
        let salt = "cb77f0957de88ff388cf817ddbc7273";
        let mut engine = hmac::HmacEngine::<sha256::Hash>::new(salt.as_bytes());
        engine.input(b"pw");
        let hash = hmac::Hmac::<sha256::Hash>::from_engine(engine);
        auth.add_rpcauth(&format!("bob:{salt}${}", hex::encode(hash.as_byte_array())))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cookie = dir.path().join(".cookie");
        auth.add_cookie(&cookie).unwrap();
        let line = std::fs::read_to_string(&cookie).unwrap();
        assert!(line.starts_with("__cookie__:"));

        assert!(auth.check(Some(&basic("alice:secret"))));
        assert!(auth.check(Some(&basic("bob:pw"))));
        assert!(auth.check(Some(&basic(&line))));
        assert!(!auth.check(Some(&basic("alice:wrong"))));
        assert!(!auth.check(Some(&basic("bob:wrong"))));
        assert!(!auth.check(None));
        assert!(!auth.check(Some("Bearer x")));
        assert!(matches!(
            auth.add_rpcauth("nonsense"),
            Err(AuthError::BadRpcAuth)
        ));
    }
}
