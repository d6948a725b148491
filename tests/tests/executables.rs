//! The executables themselves, before any of them runs: programs for the
//! host under test that need nothing beyond what that system provides.
//! Windows: every import is a Windows system DLL (the list ARCHITECTURE
//! gives), so an unpacked folder runs on a bare Windows. Linux: the
//! dependency policy is the release checks' (Core's symbol-check).

use c1pzo_functional as harness;

use harness::{exe, windows_executables};

/// What Windows itself provides, lower-case: the only DLLs the
/// executables may import (ARCHITECTURE.md, "Windows").
const WINDOWS_SYSTEM_DLLS: [&str; 11] = [
    "kernel32.dll",
    "ntdll.dll",
    "advapi32.dll",
    "userenv.dll",
    "ws2_32.dll",
    "bcrypt.dll",
    "bcryptprimitives.dll",
    "combase.dll",
    "shell32.dll",
    "msvcrt.dll",
    "api-ms-win-core-synch-l1-2-0.dll",
];

/// The executables a build makes (c1pzo-node only with MULTIPROCESS=1).
fn executables() -> Vec<&'static str> {
    let mut names = vec!["c1pzod", "c1pzo-cli", "c1pzo-wallet", "c1pzo"];
    let node = harness::exe::bin_dir().join(format!("c1pzo-node{}", harness::exe::exe_suffix()));
    if node.is_file() {
        names.push("c1pzo-node");
    }
    names
}

#[test]
fn the_executables_import_only_system_libraries() {
    for name in executables() {
        let path = exe(name);
        let image = std::fs::read(&path).unwrap();
        if windows_executables() {
            let dlls = harness::pe::imported_dlls(&image)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                dlls.iter().any(|d| d.eq_ignore_ascii_case("kernel32.dll")),
                "{}: {dlls:?}",
                path.display()
            );
            let foreign: Vec<&String> = dlls
                .iter()
                .filter(|d| !WINDOWS_SYSTEM_DLLS.contains(&d.to_ascii_lowercase().as_str()))
                .collect();
            assert!(
                foreign.is_empty(),
                "{} imports {foreign:?}, which Windows does not provide: link it statically \
                 (toolchains/x86_64-w64-mingw32.toml [cargo])",
                path.display()
            );
        } else {
            assert_eq!(image.get(..4), Some(&b"\x7fELF"[..]), "{}", path.display());
        }
    }
}
