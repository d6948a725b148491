//! Release archives whose bytes depend only on what is in them: entries in
//! byte order of their paths, owner 0 without names, modes 0755 or 0644,
//! every time the release's `SOURCE_DATE_EPOCH`, gzip without a name or a
//! time, zip without extra fields. Both compressors are pure Rust
//! (`miniz_oxide` behind flate2), so the bytes do not depend on the
//! builder's zlib either.
//!
//! An archive is written beside its final name and renamed into place once
//! complete: a killed run leaves a `.partial` file, never a short archive
//! under a name that `SHA256SUMS` could cover.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: a symbolic link; release archives hold only folders and regular files")]
    Symlink { path: PathBuf },
    #[error("`{entry}`: not a relative path of plain names separated by `/`")]
    BadEntryPath { entry: String },
    #[error("{out}: zip holds times from 1980 to 2107; SOURCE_DATE_EPOCH {epoch} is outside")]
    ZipTime { out: PathBuf, epoch: u64 },
    #[error("{out}: {source}")]
    Zip {
        out: PathBuf,
        source: zip::result::ZipError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What one archive entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir,
    /// A regular file, its bytes read from `source` when written.
    File {
        source: PathBuf,
        executable: bool,
    },
}

/// The entries of an archive, by their path inside it (`/`-separated,
/// relative). A `BTreeMap` of `String`s orders them by bytes, which is the
/// order they are written in.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    entries: BTreeMap<String, Entry>,
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file at `path`, and every folder above it.
    pub fn add_file(
        &mut self,
        path: &str,
        source: &Path,
        executable: bool,
    ) -> Result<(), ArchiveError> {
        check_entry_path(path)?;
        self.add_parents(path);
        self.entries.insert(
            path.to_string(),
            Entry::File {
                source: source.to_path_buf(),
                executable,
            },
        );
        Ok(())
    }

    /// Adds a folder at `path`, and every folder above it.
    pub fn add_dir(&mut self, path: &str) -> Result<(), ArchiveError> {
        check_entry_path(path)?;
        self.add_parents(path);
        self.entries.insert(path.to_string(), Entry::Dir);
        Ok(())
    }

    /// Adds everything under `root` below the folder `prefix` of the
    /// archive. Symbolic links are refused: a release carries none, and
    /// following one would put a file from outside `root` in.
    pub fn add_dir_contents(&mut self, root: &Path, prefix: &str) -> Result<(), ArchiveError> {
        self.add_dir(prefix)?;
        let mut children: Vec<_> = std::fs::read_dir(root)
            .map_err(io(root))?
            .collect::<Result<_, _>>()
            .map_err(io(root))?;
        children.sort_by_key(|entry| entry.file_name());
        for child in children {
            let path = child.path();
            let name = child.file_name();
            let Some(name) = name.to_str() else {
                return Err(ArchiveError::BadEntryPath {
                    entry: path.display().to_string(),
                });
            };
            let entry = format!("{prefix}/{name}");
            let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            if meta.file_type().is_symlink() {
                return Err(ArchiveError::Symlink { path });
            } else if meta.is_dir() {
                self.add_dir_contents(&path, &entry)?;
            } else {
                self.add_file(&entry, &path, is_executable(&meta))?;
            }
        }
        Ok(())
    }

    /// Every entry, in the order an archive holds them.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries
            .iter()
            .map(|(path, entry)| (path.as_str(), entry))
    }

    fn add_parents(&mut self, path: &str) {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            self.entries
                .entry(path[..end].to_string())
                .or_insert(Entry::Dir);
            end += 1;
        }
    }
}

fn check_entry_path(path: &str) -> Result<(), ArchiveError> {
    let plain = |name: &str| !name.is_empty() && name != "." && name != "..";
    if path.split('/').all(plain) && !path.contains('\\') {
        Ok(())
    } else {
        Err(ArchiveError::BadEntryPath {
            entry: path.to_string(),
        })
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

fn mode(entry: &Entry) -> u32 {
    match entry {
        Entry::Dir
        | Entry::File {
            executable: true, ..
        } => 0o755,
        Entry::File {
            executable: false, ..
        } => 0o644,
    }
}

/// Writes `tree` as a gzip-compressed GNU tar at `out`, every entry dated
/// `epoch` (seconds since 1970, the release's `SOURCE_DATE_EPOCH`).
pub fn write_tar_gz(tree: &Tree, epoch: u64, out: &Path) -> Result<(), ArchiveError> {
    write_atomically(out, |file| {
        let gz = GzBuilder::new()
            .mtime(0)
            .operating_system(3)
            .write(BufWriter::new(file), Compression::best());
        let mut tar = tar::Builder::new(gz);
        for (path, entry) in tree.entries() {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(epoch);
            header.set_uid(0);
            header.set_gid(0);
            header.set_username("").map_err(io(out))?;
            header.set_groupname("").map_err(io(out))?;
            header.set_mode(mode(entry));
            match entry {
                Entry::Dir => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    tar.append_data(&mut header, path, std::io::empty())
                        .map_err(io(out))?;
                }
                Entry::File { source, .. } => {
                    let data = File::open(source).map_err(io(source))?;
                    let length = data.metadata().map_err(io(source))?.len();
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(length);
                    tar.append_data(&mut header, path, BufReader::new(data))
                        .map_err(io(source))?;
                }
            }
        }
        let gz = tar.into_inner().map_err(io(out))?;
        let writer = gz.finish().map_err(io(out))?;
        writer.into_inner().map_err(|e| io(out)(e.into_error()))
    })
}

/// Writes `tree` as a zip at `out`, deflated at level 9, every entry dated
/// `epoch` in UTC (zip keeps local times with two-second steps and no zone;
/// UTC is what every builder agrees on).
pub fn write_zip(tree: &Tree, epoch: u64, out: &Path) -> Result<(), ArchiveError> {
    let time = zip_time(epoch).ok_or_else(|| ArchiveError::ZipTime {
        out: out.to_path_buf(),
        epoch,
    })?;
    let zip_error = |source| ArchiveError::Zip {
        out: out.to_path_buf(),
        source,
    };
    write_atomically(out, |file| {
        let mut zip = zip::ZipWriter::new(BufWriter::new(file));
        for (path, entry) in tree.entries() {
            let options = zip::write::SimpleFileOptions::default()
                .system(zip::System::Unix)
                .last_modified_time(time)
                .unix_permissions(mode(entry));
            match entry {
                Entry::Dir => zip.add_directory(path, options).map_err(zip_error)?,
                Entry::File { source, .. } => {
                    let options = options
                        .compression_method(zip::CompressionMethod::Deflated)
                        .compression_level(Some(9));
                    zip.start_file(path, options).map_err(zip_error)?;
                    let mut data = File::open(source).map_err(io(source))?;
                    std::io::copy(&mut data, &mut zip).map_err(io(source))?;
                }
            }
        }
        let writer = zip.finish().map_err(zip_error)?;
        writer.into_inner().map_err(|e| io(out)(e.into_error()))
    })
}

/// Unpacks a release archive (`.tar.gz` or `.zip`) into `dest`, keeping
/// the executables' modes: what a user does with a download, and what the
/// smoke tests run from.
pub fn unpack(archive: &Path, dest: &Path) -> Result<(), ArchiveError> {
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let file = File::open(archive).map_err(io(archive))?;
    if archive.extension().is_some_and(|e| e == "zip") {
        let mut zip =
            zip::ZipArchive::new(BufReader::new(file)).map_err(|source| ArchiveError::Zip {
                out: archive.to_path_buf(),
                source,
            })?;
        zip.extract(dest).map_err(|source| ArchiveError::Zip {
            out: archive.to_path_buf(),
            source,
        })
    } else {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
        tar.set_preserve_permissions(true);
        tar.unpack(dest).map_err(io(archive))
    }
}

/// Writes through `write` into `<out>.partial`, flushes it to disk and
/// renames it to `out`.
fn write_atomically(
    out: &Path,
    write: impl FnOnce(File) -> Result<File, ArchiveError>,
) -> Result<(), ArchiveError> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = File::create(&partial).map_err(io(&partial))?;
    let mut file = write(file)?;
    file.flush().map_err(io(&partial))?;
    file.sync_all().map_err(io(&partial))?;
    std::fs::rename(&partial, out).map_err(io(out))
}

/// `epoch` as a zip date and time (UTC), if zip can hold it.
fn zip_time(epoch: u64) -> Option<zip::DateTime> {
    let time = crate::utc::UtcTime::from_epoch(epoch);
    zip::DateTime::from_date_and_time(
        u16::try_from(time.year).ok()?,
        time.month,
        time.day,
        time.hour,
        time.minute,
        time.second,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(root: &Path) -> Tree {
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/c1pzod"), b"\x7fELF pretend").unwrap();
        std::fs::write(root.join("README.md"), "hello\n").unwrap();
        let mut tree = Tree::new();
        tree.add_file("c1pzo-1.0/bin/c1pzod", &root.join("bin/c1pzod"), true)
            .unwrap();
        tree.add_file("c1pzo-1.0/README.md", &root.join("README.md"), false)
            .unwrap();
        tree
    }

    #[test]
    fn entries_come_in_byte_order_with_their_folders() {
        let dir = tempfile::tempdir().unwrap();
        let tree = sample(dir.path());
        let paths: Vec<_> = tree.entries().map(|(path, _)| path).collect();
        assert_eq!(
            paths,
            [
                "c1pzo-1.0",
                "c1pzo-1.0/README.md",
                "c1pzo-1.0/bin",
                "c1pzo-1.0/bin/c1pzod"
            ]
        );
    }

    #[test]
    fn the_same_tree_gives_the_same_bytes_whatever_the_files_metadata() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let a = sample(first.path());
        let b = sample(second.path());
        // Different times and modes on the second copy's files.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options()
            .write(true)
            .open(second.path().join("README.md"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        type Writer = fn(&Tree, u64, &Path) -> Result<(), ArchiveError>;
        let writers: [(&str, Writer); 2] = [("tar.gz", write_tar_gz), ("zip", write_zip)];
        for (name, write) in writers {
            let out_a = first.path().join(format!("out.{name}"));
            let out_b = second.path().join(format!("out.{name}"));
            write(&a, 1_700_000_000, &out_a).unwrap();
            write(&b, 1_700_000_000, &out_b).unwrap();
            assert_eq!(
                std::fs::read(&out_a).unwrap(),
                std::fs::read(&out_b).unwrap(),
                "{name}"
            );
            assert!(!first.path().join(format!("out.{name}.partial")).exists());
        }
    }

    #[test]
    fn a_tar_gz_has_fixed_owner_modes_and_times_and_no_gzip_time() {
        let dir = tempfile::tempdir().unwrap();
        let tree = sample(dir.path());
        let out = dir.path().join("out.tar.gz");
        write_tar_gz(&tree, 1_700_000_000, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        // gzip header: magic, deflate, no flags (no name), mtime 0, OS unix.
        assert_eq!(bytes[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            assert_eq!(header.mtime().unwrap(), 1_700_000_000);
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
            assert_eq!(header.username().unwrap(), Some(""));
            let path = entry.path().unwrap().display().to_string();
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            seen.push((path, header.mode().unwrap(), body.len()));
        }
        assert_eq!(
            seen,
            [
                ("c1pzo-1.0".to_string(), 0o755, 0),
                ("c1pzo-1.0/README.md".to_string(), 0o644, 6),
                ("c1pzo-1.0/bin".to_string(), 0o755, 0),
                ("c1pzo-1.0/bin/c1pzod".to_string(), 0o755, 12),
            ]
        );
    }

    #[test]
    fn a_zip_keeps_modes_and_the_epoch_as_utc() {
        let dir = tempfile::tempdir().unwrap();
        let tree = sample(dir.path());
        let out = dir.path().join("out.zip");
        // 2023-11-14 22:13:20 UTC.
        write_zip(&tree, 1_700_000_000, &out).unwrap();
        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        let file = zip.by_name("c1pzo-1.0/bin/c1pzod").unwrap();
        assert_eq!(file.unix_mode().unwrap() & 0o777, 0o755);
        let time = file.last_modified().unwrap();
        assert_eq!(
            (time.year(), time.month(), time.day()),
            (2023, 11, 14),
            "{time:?}"
        );
        assert_eq!((time.hour(), time.minute(), time.second()), (22, 13, 20));
    }

    #[test]
    fn an_archive_unpacks_to_its_files_with_their_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tree = sample(dir.path());
        for name in ["out.tar.gz", "out.zip"] {
            let out = dir.path().join(name);
            if name.ends_with("zip") {
                write_zip(&tree, 1_700_000_000, &out).unwrap();
            } else {
                write_tar_gz(&tree, 1_700_000_000, &out).unwrap();
            }
            let dest = dir.path().join(format!("unpacked-{name}"));
            unpack(&out, &dest).unwrap();
            let exe = dest.join("c1pzo-1.0/bin/c1pzod");
            assert_eq!(std::fs::read(&exe).unwrap(), b"\x7fELF pretend", "{name}");
            let mode = std::fs::metadata(&exe).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0o111, "{name}: {mode:o}");
            assert_eq!(
                std::fs::read_to_string(dest.join("c1pzo-1.0/README.md")).unwrap(),
                "hello\n"
            );
        }
    }

    #[test]
    fn zip_cannot_date_before_1980() {
        assert!(zip_time(0).is_none());
        assert!(zip_time(1_700_000_000).is_some());
    }

    #[test]
    fn bad_paths_and_symlinks_are_refused() {
        let mut tree = Tree::new();
        for bad in ["", "/abs", "a//b", "a/../b", "a\\b", "./a"] {
            assert!(
                matches!(tree.add_dir(bad), Err(ArchiveError::BadEntryPath { .. })),
                "{bad:?}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let err = tree.add_dir_contents(dir.path(), "top").unwrap_err();
        assert!(err.to_string().contains("link: a symbolic link"), "{err}");
    }

    #[test]
    fn a_failed_write_leaves_no_archive_under_the_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut tree = Tree::new();
        tree.add_file("top/gone", &dir.path().join("missing"), false)
            .unwrap();
        let out = dir.path().join("out.tar.gz");
        let err = write_tar_gz(&tree, 1_700_000_000, &out).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        assert!(!out.exists());
    }
}
