//! `SHA256SUMS`, the file builders attest a release by: one
//! `<64 lowercase hex>  <name>` line per file (what `sha256sum` writes and
//! `sha256sum -c` reads), sorted by name. And the comparison of several
//! builders' files, file by file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum SumsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `<64 hex digits>  <file name>`, found `{text}`")]
    BadLine {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("{path}:{line}: `{name}` is listed twice")]
    Duplicate {
        path: PathBuf,
        line: usize,
        name: String,
    },
}

/// File name to lowercase hex SHA-256, in name order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sums {
    by_name: BTreeMap<String, String>,
}

impl Sums {
    /// Hashes each of `names`, files in `dir`.
    pub fn of_files<'a>(
        dir: &Path,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, SumsError> {
        let mut by_name = BTreeMap::new();
        for name in names {
            let path = dir.join(name);
            let hash = sha256_file(&path).map_err(|source| SumsError::Io { path, source })?;
            by_name.insert(name.to_string(), hash);
        }
        Ok(Self { by_name })
    }

    /// Reads a `SHA256SUMS` file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, SumsError> {
        let mut by_name = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            if line.trim().is_empty() {
                continue;
            }
            let bad = || SumsError::BadLine {
                path: origin.to_path_buf(),
                line: line_number,
                text: line.to_string(),
            };
            // `sha256sum` marks binary mode with `*` before the name.
            let (hash, name) = line
                .split_once("  ")
                .or_else(|| line.split_once(" *"))
                .ok_or_else(bad)?;
            let valid_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid_hash || name.is_empty() {
                return Err(bad());
            }
            if by_name
                .insert(name.to_string(), hash.to_ascii_lowercase())
                .is_some()
            {
                return Err(SumsError::Duplicate {
                    path: origin.to_path_buf(),
                    line: line_number,
                    name: name.to_string(),
                });
            }
        }
        Ok(Self { by_name })
    }

    pub fn read(path: &Path) -> Result<Self, SumsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SumsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The file's text, lines sorted by name.
    pub fn render(&self) -> String {
        self.by_name
            .iter()
            .map(|(name, hash)| format!("{hash}  {name}\n"))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(String::as_str)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The lowercase hex SHA-256 of the file at `path`.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// One file's verdict across builders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every builder lists it with this hash.
    Agree(String),
    /// Builders differ: each builder's hash, `None` where it does not list
    /// the file.
    Differ(Vec<Option<String>>),
}

/// Several builders' `SHA256SUMS` compared file by file.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub builders: Vec<String>,
    pub files: BTreeMap<String, Verdict>,
}

impl Comparison {
    pub fn all_agree(&self) -> bool {
        self.files.values().all(|v| matches!(v, Verdict::Agree(_)))
    }

    pub fn differing(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|(_, verdict)| matches!(verdict, Verdict::Differ(_)))
            .map(|(name, _)| name.as_str())
    }
}

/// Compares `builders`, each a label (the file it came from) and its sums.
pub fn compare(builders: &[(String, Sums)]) -> Comparison {
    let names: BTreeSet<&str> = builders.iter().flat_map(|(_, sums)| sums.names()).collect();
    let files = names
        .into_iter()
        .map(|name| {
            let hashes: Vec<Option<String>> = builders
                .iter()
                .map(|(_, sums)| sums.get(name).map(str::to_string))
                .collect();
            let verdict = match hashes.first() {
                Some(Some(first)) if hashes.iter().all(|h| h.as_ref() == Some(first)) => {
                    Verdict::Agree(first.clone())
                }
                _ => Verdict::Differ(hashes),
            };
            (name.to_string(), verdict)
        })
        .collect();
    Comparison {
        builders: builders.iter().map(|(label, _)| label.clone()).collect(),
        files,
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, verdict) in &self.files {
            match verdict {
                Verdict::Agree(hash) => writeln!(
                    f,
                    "agree   {name}  {hash} ({} builders)",
                    self.builders.len()
                )?,
                Verdict::Differ(hashes) => {
                    writeln!(f, "DIFFER  {name}")?;
                    for (builder, hash) in self.builders.iter().zip(hashes) {
                        let hash = hash.as_deref().unwrap_or("(not listed)");
                        writeln!(f, "          {hash}  {builder}")?;
                    }
                }
            }
        }
        let differing = self.differing().count();
        if differing == 0 {
            write!(
                f,
                "all {} files agree across {} builders",
                self.files.len(),
                self.builders.len()
            )
        } else {
            write!(
                f,
                "{differing} of {} files differ across {} builders",
                self.files.len(),
                self.builders.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a9993e364706816aba3e25717850c26c9cd0d89d0000000000000000000000aa";
    const B: &str = "b9993e364706816aba3e25717850c26c9cd0d89d0000000000000000000000bb";

    #[test]
    fn hashes_are_sha256sum_lines_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("z.tar.gz"), "abc").unwrap();
        std::fs::write(dir.path().join("a.zip"), "").unwrap();
        let sums = Sums::of_files(dir.path(), ["z.tar.gz", "a.zip"]).unwrap();
        assert_eq!(
            sums.render(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.zip\n\
             ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  z.tar.gz\n"
        );
        assert_eq!(Sums::parse(&sums.render(), Path::new("S")).unwrap(), sums);
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        let err = Sums::parse(
            &format!("{A}  x\nnot a sum\n"),
            Path::new("their/SHA256SUMS"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "their/SHA256SUMS:2: expected `<64 hex digits>  <file name>`, found `not a sum`"
        );
        let err = Sums::parse(&format!("{A}  x\n{B}  x\n"), Path::new("S")).unwrap_err();
        assert_eq!(err.to_string(), "S:2: `x` is listed twice");
        // Binary-mode marks are read.
        let sums = Sums::parse(&format!("{A} *x\n"), Path::new("S")).unwrap();
        assert_eq!(sums.get("x"), Some(A));
    }

    #[test]
    fn builders_agree_or_differ_per_file() {
        let one = Sums::parse(
            &format!("{A}  same\n{A}  changed\n{A}  only-one\n"),
            Path::new("1"),
        )
        .unwrap();
        let two = Sums::parse(&format!("{A}  same\n{B}  changed\n"), Path::new("2")).unwrap();
        let comparison = compare(&[("one".into(), one.clone()), ("two".into(), two)]);
        assert!(!comparison.all_agree());
        assert_eq!(
            comparison.differing().collect::<Vec<_>>(),
            ["changed", "only-one"]
        );
        let text = comparison.to_string();
        assert!(
            text.contains(&format!("agree   same  {A} (2 builders)")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "DIFFER  changed\n          {A}  one\n          {B}  two"
            )),
            "{text}"
        );
        assert!(text.contains("(not listed)  two"), "{text}");
        assert!(
            text.ends_with("2 of 3 files differ across 2 builders"),
            "{text}"
        );
        let alike = compare(&[("one".into(), one.clone()), ("copy".into(), one)]);
        assert!(alike.all_agree());
        assert!(alike
            .to_string()
            .ends_with("all 3 files agree across 2 builders"));
    }
}
