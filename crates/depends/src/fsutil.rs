//! Small filesystem helpers shared by the cache, the installer and probes:
//! atomic writes and exclusive locks.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to a temporary sibling, syncs it and renames it over
/// `path`, so a reader (or a run killed halfway) sees the old file or the
/// new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `<dir>/.<name>.tmp-<pid>`: hidden, unique per process, and recognisable
/// as garbage by later runs.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Whether `name` is a temporary left by [`temp_sibling`].
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// An exclusive lock on a file, released on drop (or when the process dies,
/// so a kill -9 never leaves a stale lock behind).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    /// Removed on release, for locks that should not litter their folder.
    transient: Option<PathBuf>,
}

impl FileLock {
    /// Takes the lock, calling `waiting` once if another process holds it.
    pub fn acquire(path: &Path, waiting: &dyn Fn()) -> std::io::Result<FileLock> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(err),
        }
        Ok(FileLock {
            file,
            transient: None,
        })
    }

    /// Like [`acquire`](Self::acquire), but the lock file is deleted on
    /// release. That is only safe because, after locking, we check that the
    /// path still names the file we locked: otherwise a waiter could hold a
    /// lock on an unlinked file while a newcomer locks a fresh one.
    pub fn acquire_transient(path: &Path, waiting: &dyn Fn()) -> std::io::Result<FileLock> {
        loop {
            let mut lock = FileLock::acquire(path, waiting)?;
            if still_names(path, &lock.file) {
                lock.transient = Some(path.to_path_buf());
                return Ok(lock);
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still held; the lock itself goes when `file` closes.
        if let Some(path) = &self.transient {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn still_names(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(on_disk), Ok(held)) => on_disk.dev() == held.dev() && on_disk.ino() == held.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_names(path: &Path, _file: &File) -> bool {
    path.exists()
}

/// sha256 (hex) and length of a file, read in large blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// Modification time in nanoseconds since the epoch (0 if unknown).
pub fn mtime_ns(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
