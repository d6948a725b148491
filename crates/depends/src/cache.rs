//! BASE_CACHE: built packages as deterministic tarballs,
//! `<BASE_CACHE>/<triple>/<pkg>/<pkg>-<version>-<id>.tar.gz`, each with a
//! `.hash` (sha256sum format) and a `.json` record of how it was built.
//!
//! Several builds of one package are kept side by side (upstream keeps one),
//! so switching DEBUG or HOST back is free; `gc` prunes old ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::{self, ArchiveError};
use crate::build_id::{Preimage, SHORT_LEN};
use crate::fsutil::{is_temp_name, mtime_ns, sha256_file, temp_sibling, write_atomic};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A verified cached tarball.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedBuild {
    pub tarball: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// Lets a later run trust the tarball without re-hashing it while its
    /// size and mtime are unchanged.
    pub mtime_ns: u64,
}

impl CachedBuild {
    /// Whether the tarball on disk still has the size and mtime recorded.
    pub fn unchanged_on_disk(&self) -> bool {
        std::fs::metadata(&self.tarball)
            .is_ok_and(|m| m.len() == self.size && mtime_ns(&m) == self.mtime_ns)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Hit(CachedBuild),
    Missing,
    /// The tarball no longer matches its `.hash`; it has been removed.
    Corrupt {
        tarball: PathBuf,
        expected: String,
        actual: String,
    },
}

/// How a cached build was made, stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRecord {
    pub package: String,
    pub version: String,
    pub build_id: String,
    pub preimage: Preimage,
    /// Seconds per stage, in pipeline order.
    pub stages: Vec<(String, f64)>,
}

#[derive(Debug, Clone)]
pub struct BuiltCache {
    root: PathBuf,
}

impl BuiltCache {
    pub fn new(root: PathBuf) -> BuiltCache {
        BuiltCache { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn package_dir(&self, triple: &str, package: &str) -> PathBuf {
        self.root.join(triple).join(package)
    }

    /// `<pkg>-<version>-<short id>`, the stem of the tarball and its sidecars.
    pub fn stem(package: &str, version: &str, build_id: &str) -> String {
        format!(
            "{package}-{version}-{}",
            &build_id[..SHORT_LEN.min(build_id.len())]
        )
    }

    pub fn tarball_path(&self, triple: &str, package: &str, version: &str, id: &str) -> PathBuf {
        self.package_dir(triple, package)
            .join(format!("{}.tar.gz", Self::stem(package, version, id)))
    }

    /// Finds and fully verifies a cached build. A tarball without its
    /// `.hash` (a run killed between the two renames) counts as missing; one
    /// whose bytes no longer match is deleted and reported.
    pub fn lookup(
        &self,
        triple: &str,
        package: &str,
        version: &str,
        id: &str,
    ) -> Result<Lookup, CacheError> {
        self.verify(triple, package, version, id, true)
    }

    /// [`lookup`](Self::lookup) without deleting a damaged tarball, for
    /// read-only callers such as `plan`.
    pub fn peek(
        &self,
        triple: &str,
        package: &str,
        version: &str,
        id: &str,
    ) -> Result<Lookup, CacheError> {
        self.verify(triple, package, version, id, false)
    }

    fn verify(
        &self,
        triple: &str,
        package: &str,
        version: &str,
        id: &str,
        discard_corrupt: bool,
    ) -> Result<Lookup, CacheError> {
        let tarball = self.tarball_path(triple, package, version, id);
        let hash_file = sidecar(&tarball, "hash");
        let Ok(recorded) = std::fs::read_to_string(&hash_file) else {
            return Ok(Lookup::Missing);
        };
        let expected = recorded
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let (actual, size) = match sha256_file(&tarball) {
            Ok(found) => found,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Missing),
            Err(err) => return Err(io(&tarball)(err)),
        };
        if actual != expected {
            if discard_corrupt {
                self.discard(&tarball)?;
            }
            return Ok(Lookup::Corrupt {
                tarball,
                expected,
                actual,
            });
        }
        let meta = std::fs::metadata(&tarball).map_err(io(&tarball))?;
        Ok(Lookup::Hit(CachedBuild {
            tarball,
            sha256: actual,
            size,
            mtime_ns: mtime_ns(&meta),
        }))
    }

    /// Where to write a tarball before it is renamed into the cache: a
    /// temporary beside its final place, in a folder cleared of the
    /// temporaries killed runs left. Callers hold the package's lock.
    pub fn temp_tarball(
        &self,
        triple: &str,
        package: &str,
        version: &str,
        id: &str,
    ) -> Result<PathBuf, CacheError> {
        let tarball = self.tarball_path(triple, package, version, id);
        let dir = tarball.parent().unwrap_or(Path::new(".")).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        remove_stale_temporaries(&dir);
        Ok(temp_sibling(&tarball))
    }

    /// Packs `staged_root` into the cache. The tarball is written under a
    /// temporary name and renamed, then the record, then the `.hash`: a
    /// build only counts once its `.hash` exists.
    pub fn store(
        &self,
        triple: &str,
        record: &BuildRecord,
        staged_root: &Path,
    ) -> Result<CachedBuild, CacheError> {
        let tmp = self.temp_tarball(triple, &record.package, &record.version, &record.build_id)?;
        if let Err(err) = archive::pack_deterministic(staged_root, &tmp) {
            let _ = std::fs::remove_file(&tmp);
            return Err(err.into());
        }
        let (sha256, _) = sha256_file(&tmp).map_err(io(&tmp))?;
        let json = serde_json::to_vec_pretty(record).map_err(|e| io(&tmp)(e.into()))?;
        self.adopt(triple, record, &json, &tmp, &sha256)
    }

    /// Moves a finished tarball from [`temp_tarball`](Self::temp_tarball)
    /// into the cache, whose bytes the caller has checked to hash to
    /// `sha256`: rename, then `record_json`, then the `.hash`, as `store`.
    pub fn adopt(
        &self,
        triple: &str,
        record: &BuildRecord,
        record_json: &[u8],
        tmp: &Path,
        sha256: &str,
    ) -> Result<CachedBuild, CacheError> {
        let tarball = self.tarball_path(triple, &record.package, &record.version, &record.build_id);
        std::fs::rename(tmp, &tarball).map_err(io(&tarball))?;
        write_atomic(&sidecar(&tarball, "json"), record_json).map_err(io(&tarball))?;
        let file_name = tarball.file_name().unwrap_or_default().to_string_lossy();
        write_atomic(
            &sidecar(&tarball, "hash"),
            format!("{sha256}  {file_name}\n").as_bytes(),
        )
        .map_err(io(&tarball))?;
        let meta = std::fs::metadata(&tarball).map_err(io(&tarball))?;
        Ok(CachedBuild {
            tarball,
            sha256: sha256.to_string(),
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        })
    }

    /// Removes a cached build and its sidecars.
    pub fn discard(&self, tarball: &Path) -> Result<(), CacheError> {
        for path in [
            sidecar(tarball, "hash"),
            tarball.to_path_buf(),
            sidecar(tarball, "json"),
            sidecar(tarball, "log"),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(())
    }

    /// The record of the most recently built version of `package`, the
    /// baseline a plan compares against to say why it rebuilds.
    pub fn newest_record(&self, triple: &str, package: &str) -> Option<BuildRecord> {
        let dir = self.package_dir(triple, package);
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tar.gz.json"))
            .filter_map(|e| {
                let modified = e.metadata().ok()?.modified().ok()?;
                Some((modified, e.path()))
            })
            .max()
            .and_then(|(_, path)| serde_json::from_slice(&std::fs::read(path).ok()?).ok())
    }

    /// Keeps the `keep` newest builds of every package (and everything in
    /// `protect`), deleting the rest. Returns what was deleted.
    pub fn gc(&self, keep: usize, protect: &BTreeSet<PathBuf>) -> Result<Vec<PathBuf>, CacheError> {
        let mut by_package: BTreeMap<PathBuf, Vec<(std::time::SystemTime, PathBuf)>> =
            BTreeMap::new();
        for triple in read_dirs(&self.root) {
            for package in read_dirs(&triple) {
                let Ok(entries) = std::fs::read_dir(&package) else {
                    continue;
                };
                for entry in entries.filter_map(Result::ok) {
                    let path = entry.path();
                    if !path.to_string_lossy().ends_with(".tar.gz") {
                        continue;
                    }
                    let modified = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    by_package
                        .entry(package.clone())
                        .or_default()
                        .push((modified, path));
                }
            }
        }
        let mut removed = Vec::new();
        for (_, mut builds) in by_package {
            builds.sort_by_key(|b| std::cmp::Reverse(b.0));
            for (_, tarball) in builds.into_iter().skip(keep) {
                if !protect.contains(&tarball) {
                    self.discard(&tarball)?;
                    removed.push(tarball);
                }
            }
        }
        Ok(removed)
    }
}

/// `<tarball>.<ext>`: the `.hash`, `.json` and `.log` beside a tarball.
pub fn sidecar(tarball: &Path, ext: &str) -> PathBuf {
    let mut name = tarball.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes temporaries left by a run that was killed mid-write. Callers hold
/// the package's lock, so no live writer owns them.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        if is_temp_name(&entry.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> BuildRecord {
        BuildRecord {
            package: "foo".into(),
            version: "1.0".into(),
            build_id: id.into(),
            preimage: Preimage::from([("k".to_string(), id.to_string())]),
            stages: vec![("build".into(), 1.5)],
        }
    }

    #[test]
    fn store_lookup_corrupt_and_gc() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staged");
        std::fs::create_dir_all(staged.join("lib")).unwrap();
        std::fs::write(staged.join("lib/libfoo.a"), b"x").unwrap();
        let cache = BuiltCache::new(dir.path().join("built"));
        let id_a = "a".repeat(64);
        let id_b = "b".repeat(64);

        assert_eq!(
            cache.lookup("h", "foo", "1.0", &id_a).unwrap(),
            Lookup::Missing
        );
        let built = cache.store("h", &record(&id_a), &staged).unwrap();
        assert!(built.tarball.ends_with("h/foo/foo-1.0-aaaaaaaaaaa.tar.gz"));
        assert_eq!(
            cache.lookup("h", "foo", "1.0", &id_a).unwrap(),
            Lookup::Hit(built.clone())
        );
        assert!(built.unchanged_on_disk());
        assert_eq!(cache.newest_record("h", "foo").unwrap().build_id, id_a);

        // A tarball without its .hash (killed between renames) is not a hit.
        std::fs::remove_file(sidecar(&built.tarball, "hash")).unwrap();
        assert_eq!(
            cache.lookup("h", "foo", "1.0", &id_a).unwrap(),
            Lookup::Missing
        );

        let built = cache.store("h", &record(&id_a), &staged).unwrap();
        std::fs::write(&built.tarball, b"garbage").unwrap();
        assert!(!built.unchanged_on_disk());
        match cache.lookup("h", "foo", "1.0", &id_a).unwrap() {
            Lookup::Corrupt {
                expected, actual, ..
            } => {
                assert_eq!(expected, built.sha256);
                assert_ne!(actual, expected);
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert!(!built.tarball.exists(), "a corrupt tarball is removed");

        cache.store("h", &record(&id_a), &staged).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let newer = cache.store("h", &record(&id_b), &staged).unwrap();
        let removed = cache.gc(1, &BTreeSet::new()).unwrap();
        assert_eq!(removed.len(), 1);
        assert!(newer.tarball.exists());
    }
}
