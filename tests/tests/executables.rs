//! The executables themselves, before any of them runs: programs for the
//! host under test that need nothing beyond what that system provides.
//! Windows: every import is a Windows system DLL (the release policy's
//! list, `release::policy::PE_ALLOWED_DLLS`, which ARCHITECTURE gives), so
//! an unpacked folder runs on a bare Windows. Linux: every build is linked
//! against the HOST toolchain's glibc 2.31 sysroot (depends' glibc_sysroot),
//! so every build needs at most GLIBC_2.31 and only glibc's libraries and
//! libgcc_s (libstdc++ static), plus the loader and the hardening rustc
//! gives every build; `cargo xtask dist` holds release builds to the whole
//! policy. A prefix made with NO_SYSROOT=1 fails this test, on purpose.

use c1pzo_functional as harness;

use harness::{exe, windows_executables};
use release::policy::{check_file, Check};

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
fn the_executables_need_only_what_the_system_provides() {
    for name in executables() {
        let path = exe(name);
        if windows_executables() {
            let report = check_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                report.passed.contains(&Check::DynamicLibraries),
                "{report}\nWindows does not provide those: link them statically \
                 (toolchains/x86_64-w64-mingw32.toml [cargo])"
            );
        } else {
            // The sysroot's glibc and GCC 10 runtime, and what rustc's
            // defaults give every Linux build: the machine's own loader, no
            // run paths, PIE, a non-executable stack, full RELRO.
            let report = check_file(&path).unwrap_or_else(|e| panic!("{e}"));
            for check in [
                Check::ImportedSymbols,
                Check::LibraryDependencies,
                Check::Abi,
                Check::InterpreterName,
                Check::Runpath,
                Check::Pie,
                Check::Nx,
                Check::Relro,
            ] {
                assert!(report.passed.contains(&check), "{check}: {report}");
            }
        }
    }
}
