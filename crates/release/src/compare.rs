//! Where two builds of one release file part: for an archive, the first
//! entry whose name, metadata or bytes differ and the offset inside it;
//! for anything else, the first differing byte. What `dist
//! --check-reproducible` reports for each file that is not identical.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// How two versions of one file differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Not the same length; the shorter is a prefix of the longer or they
    /// part at `first`.
    Bytes { first: u64, sizes: (u64, u64) },
    /// An archive holds different entries at position `index`.
    EntryNames {
        index: usize,
        names: (Option<String>, Option<String>),
    },
    /// The entry `name` has other metadata (mode, time, owner, size).
    EntryHeader { name: String, what: String },
    /// The entry `name` has other bytes, from `first` on.
    EntryBytes { name: String, first: u64 },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Bytes { first, sizes } => write!(
                f,
                "bytes differ from offset {first:#x} (sizes {} and {})",
                sizes.0, sizes.1
            ),
            Difference::EntryNames { index, names } => write!(
                f,
                "entry {index} is {} in one and {} in the other",
                names.0.as_deref().unwrap_or("(none)"),
                names.1.as_deref().unwrap_or("(none)")
            ),
            Difference::EntryHeader { name, what } => write!(f, "{name}: {what}"),
            Difference::EntryBytes { name, first } => {
                write!(f, "{name}: contents differ from offset {first:#x}")
            }
        }
    }
}

/// The first difference between `a` and `b`, or `None` if they are the
/// same bytes. Archives (`.tar.gz`, `.zip`) are opened and compared entry
/// by entry; if their entries all agree, the compressed bytes are compared.
pub fn first_difference(a: &Path, b: &Path) -> std::io::Result<Option<Difference>> {
    let (left, right) = (std::fs::read(a)?, std::fs::read(b)?);
    if left == right {
        return Ok(None);
    }
    let name = a.to_string_lossy();
    let inner = if name.ends_with(".tar.gz") {
        tar_difference(&left, &right)?
    } else if name.ends_with(".zip") {
        zip_difference(&left, &right)?
    } else {
        None
    };
    Ok(Some(inner.unwrap_or_else(|| Difference::Bytes {
        first: first_differing(&left, &right),
        sizes: (left.len() as u64, right.len() as u64),
    })))
}

fn first_differing(a: &[u8], b: &[u8]) -> u64 {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len())) as u64
}

/// One archive entry, as compared.
struct Entry {
    name: String,
    header: String,
    bytes: Vec<u8>,
}

fn compare_entries(left: Vec<Entry>, right: Vec<Entry>) -> Option<Difference> {
    let count = left.len().max(right.len());
    for index in 0..count {
        match (left.get(index), right.get(index)) {
            (Some(a), Some(b)) if a.name != b.name => {
                return Some(Difference::EntryNames {
                    index,
                    names: (Some(a.name.clone()), Some(b.name.clone())),
                })
            }
            (Some(a), Some(b)) if a.header != b.header => {
                return Some(Difference::EntryHeader {
                    name: a.name.clone(),
                    what: format!("{} against {}", a.header, b.header),
                })
            }
            (Some(a), Some(b)) if a.bytes != b.bytes => {
                return Some(Difference::EntryBytes {
                    name: a.name.clone(),
                    first: first_differing(&a.bytes, &b.bytes),
                })
            }
            (Some(_), Some(_)) => {}
            (a, b) => {
                return Some(Difference::EntryNames {
                    index,
                    names: (a.map(|e| e.name.clone()), b.map(|e| e.name.clone())),
                })
            }
        }
    }
    None
}

fn tar_entries(data: &[u8]) -> std::io::Result<Vec<Entry>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(data));
    let mut entries = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let header = entry.header();
        let header = format!(
            "mode {:o}, mtime {}, owner {}:{}, size {}",
            header.mode()?,
            header.mtime()?,
            header.uid()?,
            header.gid()?,
            header.size()?
        );
        let name = entry.path()?.display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        entries.push(Entry {
            name,
            header,
            bytes,
        });
    }
    Ok(entries)
}

fn tar_difference(a: &[u8], b: &[u8]) -> std::io::Result<Option<Difference>> {
    match (tar_entries(a), tar_entries(b)) {
        (Ok(left), Ok(right)) => Ok(compare_entries(left, right)),
        // Not readable as archives: compare bytes.
        _ => Ok(None),
    }
}

fn zip_entries(data: &[u8]) -> zip::result::ZipResult<Vec<Entry>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(data))?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        let header = format!(
            "mode {:o}, time {:?}, size {}",
            file.unix_mode().unwrap_or(0),
            file.last_modified(),
            file.size()
        );
        let name = file.name()?.to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        entries.push(Entry {
            name,
            header,
            bytes,
        });
    }
    Ok(entries)
}

fn zip_difference(a: &[u8], b: &[u8]) -> std::io::Result<Option<Difference>> {
    match (zip_entries(a), zip_entries(b)) {
        (Ok(left), Ok(right)) => Ok(compare_entries(left, right)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{write_tar_gz, write_zip, Tree};

    #[test]
    fn plain_files_part_at_their_first_differing_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            dir.path().join("a.buildinfo"),
            dir.path().join("b.buildinfo"),
        );
        std::fs::write(&a, "Version: 1\nCommit: aa\n").unwrap();
        std::fs::write(&b, "Version: 1\nCommit: ab\n").unwrap();
        assert_eq!(
            first_difference(&a, &b).unwrap(),
            Some(Difference::Bytes {
                first: 20,
                sizes: (22, 22)
            })
        );
        assert_eq!(first_difference(&a, &a).unwrap(), None);
    }

    #[test]
    fn archives_name_the_entry_and_the_offset_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (one, two) = (file("one", "abcdef"), file("two", "abcXef"));
        let readme = file("readme", "hello");
        for extension in ["tar.gz", "zip"] {
            let mut left = Tree::new();
            left.add_file("top/README", &readme, false).unwrap();
            left.add_file("top/bin/c1pzod", &one, true).unwrap();
            let mut right = Tree::new();
            right.add_file("top/README", &readme, false).unwrap();
            right.add_file("top/bin/c1pzod", &two, true).unwrap();
            let (a, b) = (
                dir.path().join(format!("a.{extension}")),
                dir.path().join(format!("b.{extension}")),
            );
            let write = if extension == "zip" {
                write_zip
            } else {
                write_tar_gz
            };
            write(&left, 1_700_000_000, &a).unwrap();
            write(&right, 1_700_000_000, &b).unwrap();
            let difference = first_difference(&a, &b).unwrap().unwrap();
            assert_eq!(
                difference.to_string(),
                "top/bin/c1pzod: contents differ from offset 0x3",
                "{extension}"
            );
            // Another time: the first entry's header says so.
            write(&left, 1_700_000_100, &b).unwrap();
            let difference = first_difference(&a, &b).unwrap().unwrap();
            assert!(
                matches!(&difference, Difference::EntryHeader { name, .. } if name.trim_end_matches('/') == "top"),
                "{extension}: {difference}"
            );
        }
    }
}
