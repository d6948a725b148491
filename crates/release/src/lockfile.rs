//! The crates a `Cargo.lock` pins: what the SBOM lists and what an
//! offline release needs vendored.

/// One `[[package]]` of a lock file that comes from outside the
/// workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedCrate {
    pub name: String,
    pub version: String,
    /// `registry+<url>` or `git+<url>#<commit>`.
    pub source: String,
    /// The registry's sha256 of the `.crate` file; git sources have none.
    pub checksum: Option<String>,
}

impl LockedCrate {
    pub fn from_registry(&self) -> bool {
        self.source.starts_with("registry+") || self.source.starts_with("sparse+")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("Cargo.lock: {0}")]
pub struct LockfileError(String);

/// The crates of `text` (a lock file) that have a source, in the file's
/// order; workspace members, which have none, are the release itself.
pub fn locked_crates(text: &str) -> Result<Vec<LockedCrate>, LockfileError> {
    let lock: toml::Value = toml::from_str(text).map_err(|e| LockfileError(e.to_string()))?;
    let packages = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .ok_or_else(|| LockfileError("no [[package]] entries".into()))?;
    let mut crates = Vec::new();
    for package in packages {
        let field = |key: &str| package.get(key).and_then(toml::Value::as_str);
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            return Err(LockfileError(format!(
                "a [[package]] without a name or version: {package}"
            )));
        };
        let Some(source) = field("source") else {
            continue;
        };
        crates.push(LockedCrate {
            name: name.to_string(),
            version: version.to_string(),
            source: source.to_string(),
            checksum: field("checksum").map(str::to_string),
        });
    }
    Ok(crates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_left_out_and_git_crates_have_no_checksum() {
        let text = r#"
version = 4

[[package]]
name = "c1pzo"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.219"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "5f0e2c6ed6606019b4e29e69dbaba95b11854410e5347d525002456dbbb786b6"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://example.invalid/forked#0123456789abcdef"
"#;
        let crates = locked_crates(text).unwrap();
        assert_eq!(crates.len(), 2);
        assert_eq!(crates[0].name, "serde");
        assert!(crates[0].from_registry());
        assert_eq!(crates[1].checksum, None);
        assert!(!crates[1].from_registry());
    }

    #[test]
    fn a_package_without_a_version_is_an_error_naming_it() {
        let err = locked_crates("[[package]]\nname = \"x\"\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Cargo.lock: a [[package]] without"),
            "{err}"
        );
        assert!(locked_crates("version = 4\n").is_err());
    }
}
