//! What a release records about how it was made: `BUILDINFO` (the commit,
//! the epoch, the toolchain and every depends input, as `Key: value`
//! lines a person and `diff` read) and the SBOM (CycloneDX 1.5 JSON: every
//! crate in Cargo.lock and every depends package, with their hashes).
//! Neither holds an absolute path, a host name or a clock reading: two
//! builders with the same inputs write the same bytes.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::lockfile::{locked_crates, LockfileError};
use crate::utc::UtcTime;

/// A depends package that went into the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsPackage {
    pub name: String,
    pub version: String,
    /// Its pinned source files for this host (one archive, or the `.deb`s
    /// of a sysroot), as the recipe pins them.
    pub sources: Vec<SourceFile>,
    /// Its build id (the hash of every input of its build).
    pub build_id: String,
}

/// One pinned source file of a depends package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub file_name: String,
    pub sha256: String,
}

/// Everything `BUILDINFO` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    pub commit: String,
    /// Built from a work tree with uncommitted changes (`--allow-dirty`).
    pub dirty: bool,
    pub source_date_epoch: u64,
    pub host: String,
    pub rust_target: String,
    pub profile: String,
    /// `rustc -vV`, whole.
    pub rustc: String,
    /// `cargo -V`.
    pub cargo: String,
    /// Each C/C++ tool's name and the first line of its `--version`.
    pub tools: Vec<(String, String)>,
    /// The Debian packages holding those tools, with their versions.
    pub debian_packages: Vec<(String, String)>,
    pub depends_final_build_id: String,
    pub depends_packages: Vec<DependsPackage>,
}

impl BuildInfo {
    pub fn render(&self) -> String {
        let mut lines = vec![
            "Format: c1pzo-buildinfo-1".to_string(),
            format!("Version: {}", self.version),
            format!("Commit: {}", self.commit),
            format!("Dirty: {}", if self.dirty { "yes" } else { "no" }),
            format!("Source-Date-Epoch: {}", self.source_date_epoch),
            format!("Host: {}", self.host),
            format!("Rust-Target: {}", self.rust_target),
            format!("Profile: {}", self.profile),
            format!("Cargo: {}", self.cargo.trim()),
        ];
        for line in self.rustc.lines().filter(|l| !l.trim().is_empty()) {
            lines.push(format!("Rustc: {}", line.trim()));
        }
        for (tool, version) in &self.tools {
            lines.push(format!("Tool: {tool}: {}", version.trim()));
        }
        for (package, version) in &self.debian_packages {
            lines.push(format!("Debian-Package: {package} {version}"));
        }
        lines.push(format!(
            "Depends-Final-Build-Id: {}",
            self.depends_final_build_id
        ));
        let mut packages = self.depends_packages.clone();
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        for package in packages {
            lines.push(format!(
                "Depends-Package: {} {} build-id={}",
                package.name, package.version, package.build_id
            ));
            for source in &package.sources {
                lines.push(format!(
                    "Depends-Source: {} {} sha256={}",
                    package.name, source.file_name, source.sha256
                ));
            }
        }
        lines.join("\n") + "\n"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    #[error("the SBOM: {0}")]
    Json(#[from] serde_json::Error),
}

/// The CycloneDX 1.5 document for release `version` of `host`: the crates
/// of `cargo_lock` (the lock file's text) that come from a registry, with
/// their checksums, and the depends packages with their sources' sha256.
pub fn sbom(
    version: &str,
    host: &str,
    epoch: u64,
    cargo_lock: &str,
    depends: &[DependsPackage],
) -> Result<String, SbomError> {
    let crates = locked_crates(cargo_lock)?;
    let mut components = Vec::new();
    for locked in &crates {
        let purl = format!("pkg:cargo/{}@{}", locked.name, locked.version);
        let mut component = json!({
            "type": "library",
            "bom-ref": purl,
            "name": locked.name,
            "version": locked.version,
            "purl": purl,
        });
        match &locked.checksum {
            Some(checksum) => {
                component["hashes"] = json!([{ "alg": "SHA-256", "content": checksum }]);
            }
            // A git dependency: its commit is in the source URL.
            None => {
                component["externalReferences"] = json!([{ "type": "vcs", "url": locked.source }]);
            }
        }
        components.push(component);
    }
    let mut depends: Vec<&DependsPackage> = depends.iter().collect();
    depends.sort_by(|a, b| a.name.cmp(&b.name));
    for package in depends {
        let properties = json!([
            { "name": "c1pzo:depends:package", "value": package.name },
            { "name": "c1pzo:depends:build-id", "value": package.build_id },
        ]);
        for source in &package.sources {
            // A Debian package names itself: `<package>_<version>_<arch>.deb`.
            let deb = source.file_name.strip_suffix(".deb").and_then(|stem| {
                let mut parts = stem.splitn(3, '_');
                Some((parts.next()?, parts.next()?, parts.next()?))
            });
            let (name, version, purl) = match deb {
                Some((name, version, arch)) => (
                    name.to_string(),
                    version.to_string(),
                    format!("pkg:deb/debian/{name}@{version}?arch={arch}"),
                ),
                None => (
                    package.name.clone(),
                    package.version.clone(),
                    format!("pkg:generic/{}@{}", package.name, package.version),
                ),
            };
            components.push(json!({
                "type": "library",
                "bom-ref": purl,
                "name": name,
                "version": version,
                "purl": purl,
                "hashes": [{ "alg": "SHA-256", "content": source.sha256 }],
                "properties": properties,
            }));
        }
    }
    let mut document = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": UtcTime::from_epoch(epoch).rfc3339(),
            "component": {
                "type": "application",
                "bom-ref": format!("c1pzo@{version}"),
                "name": "c1pzo",
                "version": version,
                "properties": [{ "name": "c1pzo:host", "value": host }],
            },
        },
        "components": components,
    });
    // The serial number names this document's contents, so the same
    // inputs give the same file (a random UUID would not).
    let digest = Sha256::digest(document.to_string().as_bytes());
    document["serialNumber"] = Value::String(format!("urn:uuid:{}", uuid_from(&digest)));
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    Ok(text)
}

/// An RFC 9562 version 8 (custom) UUID from the first 16 bytes of `hash`.
fn uuid_from(hash: &[u8]) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "c1pzo"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.219"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "5f0e2c6ed6606019b4e29e69dbaba95b11854410e5347d525002456dbbb786b6"
"#;

    fn capnp() -> DependsPackage {
        DependsPackage {
            name: "capnp".into(),
            version: "1.1.0".into(),
            sources: vec![SourceFile {
                file_name: "capnproto-cxx-1.1.0.tar.gz".into(),
                sha256: "07167580e563f5e821e3b2af1c238c16ec7181612650c5901330fa9a0da50939".into(),
            }],
            build_id: "b69e81334d9b".into(),
        }
    }

    fn sysroot() -> DependsPackage {
        DependsPackage {
            name: "glibc_sysroot".into(),
            version: "2.31".into(),
            sources: vec![SourceFile {
                file_name: "libc6_2.31-13+deb11u11_amd64.deb".into(),
                sha256: "05f7264da867b37f4c5ce49266b558ea1e81e05a9464f623152fca70f3550282".into(),
            }],
            build_id: "0a1b2c".into(),
        }
    }

    #[test]
    fn the_sbom_lists_registry_crates_and_depends_packages_with_hashes() {
        let text = sbom(
            "0.1.0",
            "x86_64-pc-linux-gnu",
            1_700_000_000,
            LOCK,
            &[capnp(), sysroot()],
        )
        .unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["bomFormat"], "CycloneDX");
        assert_eq!(document["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
        let components = document["components"].as_array().unwrap();
        assert_eq!(
            components.len(),
            3,
            "the workspace member is left out: {text}"
        );
        assert_eq!(components[0]["purl"], "pkg:cargo/serde@1.0.219");
        assert_eq!(
            components[0]["hashes"][0]["content"],
            "5f0e2c6ed6606019b4e29e69dbaba95b11854410e5347d525002456dbbb786b6"
        );
        assert_eq!(components[1]["purl"], "pkg:generic/capnp@1.1.0");
        assert_eq!(
            components[2]["purl"],
            "pkg:deb/debian/libc6@2.31-13+deb11u11?arch=amd64"
        );
        assert_eq!(components[2]["properties"][0]["value"], "glibc_sysroot");
        // Same inputs, same bytes; another epoch, another serial number.
        assert_eq!(
            text,
            sbom(
                "0.1.0",
                "x86_64-pc-linux-gnu",
                1_700_000_000,
                LOCK,
                &[capnp(), sysroot()]
            )
            .unwrap()
        );
        let later: Value = serde_json::from_str(
            &sbom(
                "0.1.0",
                "x86_64-pc-linux-gnu",
                1_700_000_001,
                LOCK,
                &[capnp(), sysroot()],
            )
            .unwrap(),
        )
        .unwrap();
        assert_ne!(later["serialNumber"], document["serialNumber"]);
        let serial = document["serialNumber"].as_str().unwrap();
        assert_eq!(serial.len(), "urn:uuid:".len() + 36, "{serial}");
        assert_eq!(
            &serial["urn:uuid:".len() + 14..][..1],
            "8",
            "version 8: {serial}"
        );
    }

    #[test]
    fn a_broken_lock_file_is_an_error() {
        let err = sbom("0.1.0", "h", 0, "[[package]]\nname = 3\n", &[]).unwrap_err();
        assert!(err.to_string().starts_with("Cargo.lock: "), "{err}");
    }

    #[test]
    fn buildinfo_is_key_value_lines_without_paths() {
        let info = BuildInfo {
            version: "0.1.0".into(),
            commit: "0123abc".into(),
            dirty: true,
            source_date_epoch: 1_700_000_000,
            host: "aarch64-linux-gnu".into(),
            rust_target: "aarch64-unknown-linux-gnu".into(),
            profile: "dist".into(),
            rustc: "rustc 1.95.0\nbinary: rustc\n".into(),
            cargo: "cargo 1.95.0\n".into(),
            tools: vec![(
                "cc".into(),
                "aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0".into(),
            )],
            debian_packages: vec![("gcc-12-aarch64-linux-gnu".into(), "12.2.0-14cross1".into())],
            depends_final_build_id: "da73dc588d6".into(),
            depends_packages: vec![capnp()],
        };
        let text = info.render();
        assert!(text.contains("\nDirty: yes\n"), "{text}");
        assert!(text.contains("\nRustc: binary: rustc\n"), "{text}");
        assert!(
            text.contains("\nTool: cc: aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0\n")
                && text.contains("\nDebian-Package: gcc-12-aarch64-linux-gnu 12.2.0-14cross1\n"),
            "{text}"
        );
        assert!(text.ends_with(
            "Depends-Package: capnp 1.1.0 build-id=b69e81334d9b\nDepends-Source: capnp capnproto-cxx-1.1.0.tar.gz sha256=07167580e563f5e821e3b2af1c238c16ec7181612650c5901330fa9a0da50939\n"
        ), "{text}");
    }
}
