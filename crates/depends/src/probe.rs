//! Tool version probes, cached by the tool binary's identity.
//!
//! Toolchain ids hash each tool's `--version` output. Running five tools on
//! every no-op run would cost more than the rest of the run, so outputs are
//! cached keyed by the resolved binary's path, size and mtime, as cargo does
//! for `rustc -vV`. Upgrading a compiler replaces its binary, which misses
//! the cache and changes the id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::toolchain::which;

#[derive(Debug, Default)]
pub struct ProbeCache {
    path: Option<PathBuf>,
    entries: BTreeMap<String, String>,
    dirty: bool,
}

impl ProbeCache {
    /// Loads the cache file; a missing or unreadable one starts empty.
    pub fn load(path: &Path) -> ProbeCache {
        let entries = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        ProbeCache {
            path: Some(path.to_path_buf()),
            entries,
            dirty: false,
        }
    }

    pub fn in_memory() -> ProbeCache {
        ProbeCache::default()
    }

    /// A one-line summary of `argv --version` (first line plus a hash of the
    /// whole output), or `None` when the program is not on PATH.
    pub fn version(&mut self, argv: &[String]) -> Option<String> {
        let program = which(argv.first()?)?;
        let key = cache_key(&argv.join(" "), &program)?;
        if let Some(hit) = self.entries.get(&key) {
            return Some(hit.clone());
        }
        let output = Command::new(&program)
            .args(&argv[1..])
            .arg("--version")
            .env("LC_ALL", "C")
            .output()
            .ok()?;
        let mut all = output.stdout.clone();
        all.extend_from_slice(&output.stderr);
        let text = String::from_utf8_lossy(&all);
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        // A tool that fails `--version` still gets a stable id: failing the
        // same way twice is the same toolchain.
        let status = if output.status.success() {
            String::new()
        } else {
            format!(" (exit {})", output.status)
        };
        let digest = hex::encode(Sha256::digest(&all));
        let summary = format!("{}{status} [{}]", first.trim(), &digest[..12]);
        self.entries.insert(key, summary.clone());
        self.dirty = true;
        Some(summary)
    }

    /// The first line of `argv <arg>`'s standard output when it succeeds
    /// (`gcc -print-file-name=include`), cached like [`Self::version`].
    pub fn output(&mut self, argv: &[String], arg: &str) -> Option<String> {
        let program = which(argv.first()?)?;
        let key = cache_key(&format!("{} {arg}", argv.join(" ")), &program)?;
        if let Some(hit) = self.entries.get(&key) {
            return Some(hit.clone());
        }
        let output = Command::new(&program)
            .args(&argv[1..])
            .arg(arg)
            .env("LC_ALL", "C")
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let first = text.lines().next().unwrap_or("").trim().to_string();
        self.entries.insert(key, first.clone());
        self.dirty = true;
        Some(first)
    }

    /// Writes the cache back if it changed. Failure only costs speed, so it
    /// is reported to the caller to log, not to abort on.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let bytes = serde_json::to_vec_pretty(&self.entries).map_err(std::io::Error::other)?;
        crate::fsutil::write_atomic(path, &bytes)?;
        self.dirty = false;
        Ok(())
    }
}

/// The cache key of running `command` with `program` (the file it
/// resolves to): the command, the file, its size and its modification
/// time, so a replaced tool is asked again.
fn cache_key(command: &str, program: &std::path::Path) -> Option<String> {
    let meta = program.metadata().ok()?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Some(format!(
        "{command}|{}|{}|{mtime}",
        program.display(),
        meta.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_cached_and_missing_tools_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probes.json");
        let mut cache = ProbeCache::load(&path);
        let version = cache.version(&["cc".to_string()]).expect("cc is installed");
        assert!(version.contains('['), "{version}");
        assert!(cache.version(&["c1pzo-not-a-tool".to_string()]).is_none());
        cache.save().unwrap();
        let reloaded = ProbeCache::load(&path);
        assert_eq!(reloaded.entries.len(), 1);
        assert_eq!(reloaded.entries.values().next(), Some(&version));
    }
}
