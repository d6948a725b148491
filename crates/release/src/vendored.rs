//! The crates of an offline release, vendored by `cargo vendor
//! --versioned-dirs`: each in `<name>-<version>/`, with a
//! `.cargo-checksum.json` whose `package` is the sha256 of the `.crate`
//! file, the lock file's `checksum`. Checked before a build starts, so a
//! crate that is not there is named at once, not by cargo halfway through.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::lockfile::LockedCrate;

/// A crate of the lock file the vendor folder cannot supply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub name: String,
    pub version: String,
    /// Where the crate should be.
    pub folder: PathBuf,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No folder for it.
    Missing,
    /// The folder without its `.cargo-checksum.json` (a copy cut short).
    NoChecksumFile,
    /// Not a registry crate (a git or path source): only crates.io is
    /// replaced by the vendored folder.
    NotFromRegistry(String),
    /// The checksum file cannot be read as cargo writes it.
    Unreadable(String),
    /// Another release of the crate under the same version (a vendor
    /// folder from another registry, or tampered with).
    OtherChecksum { vendored: String, locked: String },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.name, self.version)?;
        match &self.problem {
            Problem::Missing => write!(f, "is not vendored ({} missing)", self.folder.display()),
            Problem::NoChecksumFile => write!(
                f,
                "is vendored without its {} (a copy cut short?): {}",
                CHECKSUM_FILE,
                self.folder.display()
            ),
            Problem::NotFromRegistry(source) => write!(
                f,
                "comes from {source}, which an offline release cannot take from the vendored \
                 folder (only crates.io crates are vendored for it)"
            ),
            Problem::Unreadable(reason) => write!(
                f,
                "has an unreadable {}: {reason}",
                self.folder.join(CHECKSUM_FILE).display()
            ),
            Problem::OtherChecksum { vendored, locked } => write!(
                f,
                "is vendored with checksum {vendored}, Cargo.lock pins {locked} ({})",
                self.folder.display()
            ),
        }
    }
}

const CHECKSUM_FILE: &str = ".cargo-checksum.json";

/// Where `cargo xtask depends download` vendors the crates: `crates/` in
/// the depends sources folder (SOURCES_PATH), outside the repository;
/// absolute, so that cargo, run elsewhere, and the path remapping see the
/// folder this process checked.
pub fn folder(sources: &Path) -> PathBuf {
    let folder = sources.join("crates");
    std::path::absolute(&folder).unwrap_or(folder)
}

/// Every crate of `crates` that `dir` does not hold as the lock pins it,
/// in the lock file's order. A crate from anywhere but a registry is a gap
/// too: the offline build replaces crates.io only.
pub fn gaps(crates: &[LockedCrate], dir: &Path) -> Vec<Gap> {
    crates
        .iter()
        .filter_map(|locked| {
            let folder = dir.join(format!("{}-{}", locked.name, locked.version));
            let problem = problem(locked, &folder)?;
            Some(Gap {
                name: locked.name.clone(),
                version: locked.version.clone(),
                folder,
                problem,
            })
        })
        .collect()
}

fn problem(locked: &LockedCrate, folder: &Path) -> Option<Problem> {
    if !locked.from_registry() {
        return Some(Problem::NotFromRegistry(locked.source.clone()));
    }
    let text = match std::fs::read_to_string(folder.join(CHECKSUM_FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && folder.is_dir() => {
            return Some(Problem::NoChecksumFile)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Problem::Missing),
        Err(e) => return Some(Problem::Unreadable(e.to_string())),
    };
    let Some(locked_sum) = &locked.checksum else {
        return Some(Problem::Unreadable(
            "Cargo.lock has no checksum for this registry crate".into(),
        ));
    };
    let vendored: serde_json::Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(e) => return Some(Problem::Unreadable(e.to_string())),
    };
    match vendored.get("package").and_then(serde_json::Value::as_str) {
        Some(sum) if sum == locked_sum => None,
        Some(sum) => Some(Problem::OtherChecksum {
            vendored: sum.to_string(),
            locked: locked_sum.clone(),
        }),
        None => Some(Problem::Unreadable("no \"package\" checksum".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(name: &str, version: &str, checksum: Option<&str>) -> LockedCrate {
        LockedCrate {
            name: name.into(),
            version: version.into(),
            source: "registry+https://github.com/rust-lang/crates.io-index".into(),
            checksum: checksum.map(str::to_string),
        }
    }

    /// A crate folder as `cargo vendor` writes it.
    fn vendor(dir: &Path, name: &str, version: &str, checksum_file: &str) {
        let folder = dir.join(format!("{name}-{version}"));
        std::fs::create_dir_all(folder.join("src")).unwrap();
        std::fs::write(folder.join("src/lib.rs"), "").unwrap();
        std::fs::write(folder.join(CHECKSUM_FILE), checksum_file).unwrap();
    }

    #[test]
    fn each_gap_is_named_with_its_folder_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        vendor(
            dir.path(),
            "good",
            "1.0.0",
            r#"{"files":{},"package":"aa"}"#,
        );
        vendor(
            dir.path(),
            "other",
            "2.0.0",
            r#"{"files":{},"package":"bb"}"#,
        );
        vendor(dir.path(), "broken", "0.1.0", "{\"files\":");
        // A copy cut short: the folder without its checksum file.
        std::fs::create_dir_all(dir.path().join("cut-0.3.0/src")).unwrap();
        let crates = [
            locked("good", "1.0.0", Some("aa")),
            locked("other", "2.0.0", Some("cc")),
            locked("broken", "0.1.0", Some("dd")),
            locked("absent", "5.0.0", Some("ee")),
            locked("cut", "0.3.0", Some("ff")),
        ];
        let gaps = gaps(&crates, dir.path());
        let names: Vec<&str> = gaps.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["other", "broken", "absent", "cut"]);
        assert_eq!(
            gaps[0].problem,
            Problem::OtherChecksum {
                vendored: "bb".into(),
                locked: "cc".into()
            }
        );
        assert!(matches!(gaps[1].problem, Problem::Unreadable(_)));
        assert_eq!(gaps[2].problem, Problem::Missing);
        assert_eq!(gaps[3].problem, Problem::NoChecksumFile);
        assert!(
            gaps[3]
                .to_string()
                .contains("without its .cargo-checksum.json"),
            "{}",
            gaps[3]
        );
        let said = gaps[2].to_string();
        assert!(
            said.starts_with("absent 5.0.0 is not vendored (")
                && said.contains(&dir.path().join("absent-5.0.0").display().to_string()),
            "{said}"
        );
        assert!(
            gaps[0].to_string().contains("Cargo.lock pins cc"),
            "{}",
            gaps[0]
        );
    }

    #[test]
    fn a_git_crate_is_a_gap_even_when_vendored() {
        let dir = tempfile::tempdir().unwrap();
        vendor(
            dir.path(),
            "forked",
            "0.2.0",
            r#"{"files":{},"package":null}"#,
        );
        let mut forked = locked("forked", "0.2.0", None);
        forked.source = "git+https://example.invalid/forked#0123".into();
        let gaps = gaps(&[forked], dir.path());
        assert_eq!(
            gaps[0].problem,
            Problem::NotFromRegistry("git+https://example.invalid/forked#0123".into())
        );
    }

    #[test]
    fn the_folder_is_absolute_even_for_a_relative_sources_path() {
        assert!(folder(Path::new("relative/sources")).is_absolute());
    }
}
