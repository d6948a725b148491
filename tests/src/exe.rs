//! The executables under test: found in one folder, `C1PZO_BIN_DIR`, so the
//! same suite checks a native build, a cross build (run through the
//! machine's binfmt_misc registration of an emulator) or an unpacked
//! release archive. Executables older than the sources they are built
//! from are refused: a suite that silently tests yesterday's binaries
//! proves nothing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The folder of executables: `$C1PZO_BIN_DIR`, else the cargo output
/// folder this test binary was built into (`<target>/<profile>`, the
/// parent of its `deps/`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("C1PZO_BIN_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let me = std::env::current_exe().expect("the test binary's path");
    let deps = me.parent().expect("the test binary's folder");
    deps.parent().unwrap_or(deps).to_path_buf()
}

/// The path of executable `name` in [`bin_dir`], checked once per process:
/// it exists and is not older than the sources.
pub fn exe(name: &str) -> PathBuf {
    crate::wine::keep_session();
    let path = bin_dir().join(format!("{name}{}", exe_suffix()));
    if let Err(problem) = check(&path) {
        panic!("{problem}");
    }
    path
}

/// The executables' file name ending: `.exe` when [`bin_dir`] holds
/// Windows executables (run here under wine through binfmt_misc), else
/// this machine's.
pub fn exe_suffix() -> &'static str {
    static SUFFIX: OnceLock<&'static str> = OnceLock::new();
    SUFFIX.get_or_init(|| {
        let dir = bin_dir();
        if !dir.join("c1pzod").is_file() && dir.join("c1pzod.exe").is_file() {
            ".exe"
        } else {
            std::env::consts::EXE_SUFFIX
        }
    })
}

/// Whether the executables under test are Windows ones (run here under
/// wine): where Windows differs from unix (no SIGTERM, no `-daemon`, no
/// unix-domain IPC sockets), tests ask this.
pub fn windows_executables() -> bool {
    exe_suffix() == ".exe"
}

/// `path` as the executables under test print it: itself, or for Windows
/// executables under wine, the Windows path wine gives it (`/` is drive
/// `Z:`, wine's default mapping of the unix root).
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    if windows_executables() && text.starts_with('/') {
        format!("Z:{}", text.replace('/', "\\"))
    } else {
        text
    }
}

/// The node executable under test: `$C1PZOD` (a bare name is looked up in
/// [`bin_dir`], so `C1PZOD=c1pzo-node` runs the suite on the multiprocess
/// node), else `c1pzod`.
pub fn node_exe() -> PathBuf {
    crate::wine::keep_session();
    match std::env::var_os("C1PZOD") {
        None => exe("c1pzod"),
        Some(value) => {
            let path = PathBuf::from(&value);
            if path.components().count() == 1 {
                exe(&value.to_string_lossy())
            } else {
                path
            }
        }
    }
}

pub fn cli_exe() -> PathBuf {
    exe("c1pzo-cli")
}

fn check(path: &Path) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let built = match std::fs::metadata(path).and_then(|m| m.modified()) {
        Ok(time) => time,
        Err(_) => {
            return Err(format!(
                "{} is missing from {} (C1PZO_BIN_DIR): build the executables first with \
                 `cargo xtask build MULTIPROCESS=1`, or point C1PZO_BIN_DIR at a folder that has them",
                path.file_name().unwrap_or_default().to_string_lossy(),
                dir.display()
            ))
        }
    };
    if std::env::var_os("C1PZO_ALLOW_OLD_BINARIES").is_some_and(|v| v == "1") {
        return Ok(());
    }
    if let Some((source, changed)) = newest_source() {
        if changed > built {
            return Err(format!(
                "{} in {} (C1PZO_BIN_DIR) is older than the sources ({} changed after it was \
                 built): rebuild with `cargo xtask build MULTIPROCESS=1` (or `cargo xtask test`, \
                 which builds first), or set C1PZO_ALLOW_OLD_BINARIES=1 to test these \
                 executables anyway (an unpacked release archive)",
                path.file_name().unwrap_or_default().to_string_lossy(),
                dir.display(),
                source.display()
            ));
        }
    }
    Ok(())
}

/// The most recently changed file the executables are compiled from: Rust
/// sources, manifests and schemas under `crates/`, except the depends
/// engine's (no executable links it) and each crate's own tests, examples
/// and benches. `None` when the source tree is not here (a suite run
/// elsewhere).
fn newest_source() -> Option<(PathBuf, SystemTime)> {
    static NEWEST: OnceLock<Option<(PathBuf, SystemTime)>> = OnceLock::new();
    NEWEST
        .get_or_init(|| {
            let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
            let mut newest = None;
            for entry in std::fs::read_dir(&crates).ok()?.flatten() {
                if entry.file_name() == "depends" {
                    continue;
                }
                walk(&entry.path(), &mut newest);
            }
            newest
        })
        .clone()
}

fn walk(dir: &Path, newest: &mut Option<(PathBuf, SystemTime)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            if !matches!(
                name.to_str(),
                Some("tests" | "examples" | "benches" | "target")
            ) {
                walk(&path, newest);
            }
            continue;
        }
        let compiled = path
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "capnp");
        let Ok(modified) = meta.modified() else {
            continue;
        };
        if compiled && newest.as_ref().is_none_or(|(_, t)| modified > *t) {
            *newest = Some((path, modified));
        }
    }
}

/// Whether the executables under test are for another machine than this
/// test binary (run under an emulator): read from c1pzod's header, an ELF
/// for another machine or a Windows PE on a machine that is not Windows.
pub fn emulated() -> bool {
    static EMULATED: OnceLock<bool> = OnceLock::new();
    *EMULATED.get_or_init(|| {
        let path = bin_dir().join(format!("c1pzod{}", exe_suffix()));
        let Ok(bytes) = std::fs::read(&path).map(|b| b.get(..20).map(<[u8]>::to_vec)) else {
            return false;
        };
        let Some(header) = bytes else { return false };
        if header.starts_with(b"MZ") {
            return std::env::consts::OS != "windows";
        }
        if &header[..4] != b"\x7fELF" {
            return false;
        }
        let machine = u16::from_le_bytes([header[18], header[19]]);
        let native = match std::env::consts::ARCH {
            "x86_64" => 62,
            "aarch64" => 183,
            _ => return false,
        };
        machine != native
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_missing_executable_names_the_folder_and_the_build_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(&dir.path().join("c1pzod")).unwrap_err();
        assert!(err.contains("c1pzod is missing from"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains("cargo xtask build"), "{err}");
    }

    #[test]
    fn executables_older_than_the_sources_are_refused() {
        let Some((source, _)) = newest_source() else {
            panic!("the suite runs from its source tree, so there are sources to compare with");
        };
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("c1pzod");
        let file = std::fs::File::create(&exe).unwrap();
        file.set_modified(UNIX_EPOCH + Duration::from_secs(1_000_000))
            .unwrap();
        let err = check(&exe).unwrap_err();
        assert!(err.contains("older than the sources"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains(&source.display().to_string()), "{err}");
        // A fresh one passes.
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(60))
            .unwrap();
        assert_eq!(check(&exe), Ok(()));
    }
}
