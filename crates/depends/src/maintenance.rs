//! Housekeeping: `clean`, `clean-all` and `gc`. Both take `depends/.lock`,
//! so they never pull files from under a running build in this clone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::engine::{Engine, Layout};
use crate::fsutil::FileLock;
use crate::install;
use crate::Error;

fn lock_depends(layout: &Layout) -> Result<FileLock, Error> {
    let path = layout.depends.join(".lock");
    FileLock::acquire(&path, &|| {
        eprintln!(
            "waiting for another depends run to finish (it holds {})",
            path.display()
        )
    })
    .map_err(|e| Error::io(&path, e))
}

impl Engine {
    /// Prunes BASE_CACHE to the `keep` newest builds per package, never
    /// touching a build that an installed prefix of this clone uses. (Other
    /// clones sharing BASE_CACHE may rebuild what this removes.)
    pub fn gc(&self, keep: usize) -> Result<Vec<PathBuf>, Error> {
        let _lock = lock_depends(&self.layout)?;
        let mut protect = BTreeSet::new();
        if let Ok(entries) = std::fs::read_dir(&self.layout.depends) {
            for entry in entries.filter_map(Result::ok) {
                if let Some(m) = install::read_manifest(&entry.path()) {
                    protect.extend(m.packages.into_iter().map(|p| p.cached.tarball));
                }
            }
        }
        Ok(self.cache.gc(keep, &protect)?)
    }
}

/// Removes this clone's work folder and installed prefixes (`clean`) and,
/// with `all`, SOURCES_PATH and BASE_CACHE too (`clean-all`). Returns what
/// was removed.
pub fn clean(layout: &Layout, all: bool) -> Result<Vec<PathBuf>, Error> {
    let _lock = lock_depends(layout)?;
    let mut targets = vec![layout.work()];
    if let Ok(entries) = std::fs::read_dir(&layout.depends) {
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_prefix = path.join(install::MANIFEST_FILE).is_file();
            let is_leftover =
                name.starts_with('.') && (name.contains(".tmp-") || name.contains(".old-"));
            if is_prefix || is_leftover {
                targets.push(path);
            }
        }
    }
    if all {
        targets.push(layout.sources.clone());
        targets.push(layout.base_cache.clone());
    }
    let protected = protected_folders(layout);
    let mut removed = Vec::new();
    for target in targets {
        let Ok(resolved) = target.canonicalize() else {
            continue; // does not exist
        };
        if let Some(reason) = refuse(&resolved, &protected) {
            return Err(Error::Refused(format!(
                "not deleting {} ({reason}); check SOURCES_PATH and BASE_CACHE",
                target.display()
            )));
        }
        std::fs::remove_dir_all(&resolved).map_err(|e| Error::io(&target, e))?;
        removed.push(target);
    }
    Ok(removed)
}

/// Folders a typo in SOURCES_PATH or BASE_CACHE must never take with it:
/// the repository (and so everything above it) and the home folder.
fn protected_folders(layout: &Layout) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = [layout.recipes.parent(), Some(layout.depends.as_path())]
        .into_iter()
        .flatten()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    if let Some(home) = std::env::var_os("HOME").and_then(|h| PathBuf::from(h).canonicalize().ok())
    {
        folders.push(home);
    }
    folders
}

fn refuse(target: &Path, protected: &[PathBuf]) -> Option<String> {
    if target.components().count() <= 2 {
        return Some("too close to the filesystem root".into());
    }
    protected
        .iter()
        .find(|p| p.starts_with(target))
        .map(|p| format!("it contains {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_roots_and_folders_holding_the_repository() {
        let protected = vec![PathBuf::from("/work/main"), PathBuf::from("/root")];
        assert!(refuse(Path::new("/"), &protected).is_some());
        assert!(refuse(Path::new("/usr"), &protected).is_some());
        assert!(refuse(Path::new("/work/main"), &protected).is_some());
        assert!(refuse(Path::new("/work"), &protected).is_some());
        assert!(refuse(Path::new("/root"), &protected).is_some());
        assert!(refuse(Path::new("/root/.cache/c1pzo/sources"), &protected).is_none());
        assert!(refuse(Path::new("/work/main/depends/work"), &protected).is_none());
    }
}
