//! Honest build ids: a builder tool installed by the run itself is probed
//! again before anything is built, so the build id names the tool the build
//! really used, and the next command computes the same id and does nothing.
//!
//! The machine's PATH is mirrored into a folder without `make`, and the
//! `apt-get` there is a small script that installs `make` into that folder
//! (a link to the real one), as Debian's would put it on PATH; everything
//! else on the way is the real xtask, engine, compiler and make.

#[path = "../../crates/depends/tests/support/http_server.rs"]
mod http_server;
#[path = "../../crates/depends/tests/support/packages.rs"]
mod packages;

use std::path::{Path, PathBuf};
use std::process::Command;

use packages::{sha256_hex, Package};

/// A folder with a link to every program on PATH but `make`, and a fake
/// `apt-get` that links `make` in when asked to install it.
fn path_without_make(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for folder in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name == "make" || name == "apt-get" || bin.join(&name).exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(entry.path(), bin.join(&name));
        }
    }
    let real_make = std::env::split_paths(&path)
        .map(|d| d.join("make"))
        .find(|p| p.exists())
        .expect("make on PATH");
    let script = format!(
        "#!/bin/sh\n\
         # Stands in for apt-get: `install make` puts make on this PATH.\n\
         echo \"apt-get $*\" >> '{log}'\n\
         case \"$1\" in\n\
         update) exit 0 ;;\n\
         install) for p in \"$@\"; do [ \"$p\" = make ] && ln -sf '{make}' '{bin}/make'; done; exit 0 ;;\n\
         esac\n\
         exit 1\n",
        log = dir.join("apt.log").display(),
        make = real_make.display(),
        bin = bin.display()
    );
    let apt = bin.join("apt-get");
    std::fs::write(&apt, script).unwrap();
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&apt)
        .status()
        .unwrap();
    bin
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn a_tool_installed_by_the_run_is_in_the_build_id_and_the_next_run_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("recipes")).unwrap();
    let toolchains = Path::new(env!("CARGO_MANIFEST_DIR")).join("../toolchains");
    std::fs::create_dir_all(root.join("toolchains")).unwrap();
    for entry in std::fs::read_dir(toolchains).unwrap().flatten() {
        std::fs::copy(
            entry.path(),
            root.join("toolchains").join(entry.file_name()),
        )
        .unwrap();
    }
    // The source is already in SOURCES_PATH: nothing is downloaded.
    let package = Package::c_library("alpha", &[], None);
    let bytes = package.tarball();
    let sources = dir.path().join("sources");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(sources.join(package.file_name()), &bytes).unwrap();
    std::fs::write(
        root.join("recipes/alpha.toml"),
        package.recipe(
            &sha256_hex(&bytes),
            "http://127.0.0.1:9/unreachable",
            "make",
        ),
    )
    .unwrap();
    let bin = path_without_make(dir.path());
    let base_cache = dir.path().join("built");
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .arg("depends")
            .arg("--root")
            .arg(&root)
            .arg(format!("SOURCES_PATH={}", sources.display()))
            .arg(format!("BASE_CACHE={}", base_cache.display()))
            .arg("--json");
        for key in depends::options::known_keys() {
            command.env_remove(key);
        }
        command
            // The synthetic package builds against this machine's libc
            // (the tree has no glibc_sysroot recipe).
            .env("NO_SYSROOT", "1")
            .env("PATH", &bin)
            .env_remove("C1PZO_NO_APT")
            .env("C1PZO_CACHE_HOME", dir.path().join("cache-home"));
        command.output().unwrap()
    };

    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    if !is_root() {
        // Only root installs packages: the run names the command instead.
        assert!(!first.status.success());
        assert!(stderr.contains("apt-get install make"), "{stderr}");
        return;
    }
    assert!(first.status.success(), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("apt.log")).unwrap();
    assert!(log.contains("install") && log.contains("make"), "{log}");
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["packages"][0]["status"], "built", "{report}");
    // The record beside the cached tarball names the make that built it.
    let record = std::fs::read_dir(base_cache.join("x86_64-pc-linux-gnu/alpha"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a .json record");
    let record = std::fs::read_to_string(record).unwrap();
    assert!(!record.contains("not installed"), "{record}");
    assert!(record.contains("GNU Make"), "{record}");

    // The next command computes the same ids: nothing to build.
    let second = run();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["packages"][0]["status"], "cached", "{report}");
    assert_eq!(report["prefix_updated"], false, "{report}");
}
