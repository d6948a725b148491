//! The release policy against real binaries: small C programs built by the
//! machine's compilers (the host's gcc, Debian's aarch64 and MinGW-w64
//! cross compilers, all in ci/debian-packages.txt), each with one flag that
//! breaks one rule. Every check must fail on its breaker, naming the check
//! and the file, and pass on the hardened build.

use std::path::{Path, PathBuf};
use std::process::Command;

use release::policy::{check_file, Check, Report};

const HELLO: &str = r#"
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
"#;

/// Compiles `source` (C) with `compiler` and `flags` into `dir`, returning
/// the output's path.
fn build(dir: &Path, compiler: &str, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let source_path = dir.join(format!("{name}.c"));
    std::fs::write(&source_path, source).unwrap();
    let out = dir.join(name);
    let status = Command::new(compiler)
        .arg("-O2")
        .arg(&source_path)
        .arg("-o")
        .arg(&out)
        .args(flags)
        .status()
        .unwrap_or_else(|e| {
            panic!("{compiler}: {e} (install ci/debian-packages.txt, or run `cargo xtask test`)")
        });
    assert!(status.success(), "{compiler} {flags:?} failed");
    out
}

/// The hardened flags a release build links with.
const HARDENED: &[&str] = &[
    "-fPIE",
    "-pie",
    "-Wl,-z,relro",
    "-Wl,-z,now",
    "-Wl,-z,noexecstack",
    "-Wl,-z,separate-code",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    HARDENED.iter().chain(extra).copied().collect()
}

/// The checks a report failed, and its text.
fn failed(report: &Report) -> (Vec<Check>, String) {
    (report.failed_checks(), report.to_string())
}

#[test]
fn each_elf_rule_fails_on_the_binary_built_to_break_it() {
    let dir = tempfile::tempdir().unwrap();
    let hardened = build(dir.path(), "gcc", "hardened", HELLO, HARDENED);
    let report = check_file(&hardened).unwrap();
    assert_eq!(report.kind, "ELF x86_64");
    // This machine's glibc is newer than the ceiling: every program it
    // links needs __libc_start_main@GLIBC_2.34. Everything else passes.
    let (checks, text) = failed(&report);
    assert_eq!(checks, [Check::ImportedSymbols], "{text}");
    assert!(text.contains("IMPORTED_SYMBOLS: needs GLIBC_2.34, newer than GLIBC_2.31 (build against the release sysroot): __libc_start_main"), "{text}");

    let breakers: &[(&str, Vec<&'static str>, Check, &str)] = &[
        (
            "no-pie",
            vec!["-fno-PIE", "-no-pie", "-Wl,-z,relro,-z,now,-z,noexecstack"],
            Check::Pie,
            "not a position-independent executable",
        ),
        (
            "execstack",
            with(&["-Wl,-z,execstack"]),
            Check::Nx,
            "PT_GNU_STACK is executable",
        ),
        (
            "norelro",
            with(&["-Wl,-z,norelro"]),
            Check::Relro,
            "no PT_GNU_RELRO segment",
        ),
        (
            "lazy",
            with(&["-Wl,-z,lazy"]),
            Check::Relro,
            "DT_FLAGS lacks BIND_NOW",
        ),
        (
            "rpath",
            with(&["-Wl,-rpath,/opt/c1pzo/lib", "-Wl,--disable-new-dtags"]),
            Check::Runpath,
            "DT_RPATH is `/opt/c1pzo/lib`",
        ),
        (
            "runpath",
            with(&["-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags"]),
            Check::Runpath,
            "DT_RUNPATH is `$ORIGIN/../lib`",
        ),
        (
            "loader",
            with(&["-Wl,--dynamic-linker=/lib/ld-elsewhere.so.2"]),
            Check::InterpreterName,
            "loader is /lib/ld-elsewhere.so.2, expected /lib64/ld-linux-x86-64.so.2",
        ),
        (
            "noseparate",
            with(&["-Wl,-z,noseparate-code"]),
            Check::SeparateCode,
            ".dynsym is mapped R-X, expected R--",
        ),
        (
            "exports",
            with(&["-rdynamic"]),
            Check::ExportedSymbols,
            "exports main",
        ),
    ];
    for (name, flags, check, detail) in breakers {
        let path = build(dir.path(), "gcc", name, HELLO, flags);
        let report = check_file(&path).unwrap();
        let (checks, text) = failed(&report);
        assert!(
            checks.contains(check),
            "{name}: {check} should fail: {text}"
        );
        assert!(
            text.starts_with(&format!("{}: failed ", path.display())),
            "{name}: the report names the file: {text}"
        );
        assert!(
            text.contains(&format!("{}: {check}: ", path.display())) && text.contains(detail),
            "{name}: {text}"
        );
        assert!(!report.passed.contains(check), "{name}");
    }
}

#[test]
fn a_symbol_from_a_newer_glibc_and_a_shared_libstdcxx_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // arc4random arrived in glibc 2.36.
    let random = build(
        dir.path(),
        "gcc",
        "random",
        "#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1); }\n",
        HARDENED,
    );
    let (_, text) = failed(&check_file(&random).unwrap());
    assert!(text.contains("needs GLIBC_2.36, newer than GLIBC_2.31 (build against the release sysroot): arc4random"), "{text}");

    let source = dir.path().join("cxx.cc");
    std::fs::write(
        &source,
        "#include <iostream>\nint main() { std::cout << \"hi\" << std::endl; }\n",
    )
    .unwrap();
    let cxx = dir.path().join("cxx");
    let status = Command::new("g++")
        .arg(&source)
        .arg("-o")
        .arg(&cxx)
        .args(HARDENED)
        .status()
        .unwrap();
    assert!(status.success());
    let (checks, text) = failed(&check_file(&cxx).unwrap());
    assert!(checks.contains(&Check::LibraryDependencies), "{text}");
    assert!(
        text.contains("needs libstdc++.so.6, which is not on the allowed list"),
        "{text}"
    );
    assert!(
        text.contains(
            "IMPORTED_SYMBOLS: GLIBCXX symbols, from a library that must be linked statically"
        ),
        "{text}"
    );
}

#[test]
fn an_aarch64_binary_is_checked_against_its_own_loader() {
    let dir = tempfile::tempdir().unwrap();
    let path = build(dir.path(), "aarch64-linux-gnu-gcc", "arm", HELLO, HARDENED);
    let report = check_file(&path).unwrap();
    assert_eq!(report.kind, "ELF aarch64");
    assert!(report.passed.contains(&Check::InterpreterName), "{report}");
    assert!(report.passed.contains(&Check::Relro), "{report}");
    let path = build(
        dir.path(),
        "aarch64-linux-gnu-gcc",
        "arm-exec",
        HELLO,
        &with(&["-Wl,-z,execstack"]),
    );
    assert!(check_file(&path)
        .unwrap()
        .failed_checks()
        .contains(&Check::Nx));
}

/// What a release links Windows executables with (Core's flags).
const PE_HARDENED: &[&str] = &[
    "-Wl,--dynamicbase",
    "-Wl,--high-entropy-va",
    "-Wl,--nxcompat",
    "-Wl,--enable-reloc-section",
    "-Wl,--major-subsystem-version,6",
    "-Wl,--minor-subsystem-version,2",
];

#[test]
fn each_pe_rule_fails_on_the_binary_built_to_break_it() {
    let dir = tempfile::tempdir().unwrap();
    let mingw = "x86_64-w64-mingw32-gcc";
    let hardened = build(dir.path(), mingw, "hardened.exe", HELLO, PE_HARDENED);
    let report = check_file(&hardened).unwrap();
    assert_eq!(report.kind, "PE x86_64");
    assert!(report.ok(), "{report}");
    for check in [
        Check::DynamicLibraries,
        Check::SubsystemVersion,
        Check::Pie,
        Check::DynamicBase,
        Check::HighEntropyVa,
        Check::Nx,
        Check::RelocSection,
    ] {
        assert!(report.passed.contains(&check), "{check}: {report}");
    }

    let pe_with = |extra: &[&'static str]| -> Vec<&'static str> {
        PE_HARDENED.iter().chain(extra).copied().collect()
    };
    let breakers: &[(&str, Vec<&'static str>, &str, Check, &str)] = &[
        ("nodynbase.exe", pe_with(&["-Wl,--disable-dynamicbase"]), HELLO, Check::DynamicBase, "DYNAMIC_BASE is not set"),
        ("nohighva.exe", pe_with(&["-Wl,--disable-high-entropy-va"]), HELLO, Check::HighEntropyVa, "HIGH_ENTROPY_VA is not set"),
        ("nonx.exe", pe_with(&["-Wl,--disable-nxcompat"]), HELLO, Check::Nx, "NX_COMPAT is not set"),
        ("noreloc.exe", pe_with(&["-Wl,--disable-reloc-section", "-Wl,--disable-dynamicbase"]), HELLO, Check::RelocSection, "no base relocations"),
        ("oldsubsystem.exe", vec!["-Wl,--major-subsystem-version,5", "-Wl,--minor-subsystem-version,2"], HELLO, Check::SubsystemVersion, "subsystem version 5.2, expected 6.2"),
        (
            "winmm.exe",
            pe_with(&["-lwinmm"]),
            "#include <windows.h>\n#include <mmsystem.h>\nint main(void) { return (int)(timeGetTime() & 1); }\n",
            Check::DynamicLibraries,
            "imports WINMM.dll, which is not on the allowed list",
        ),
    ];
    for (name, flags, source, check, detail) in breakers {
        let path = build(dir.path(), mingw, name, source, flags);
        let report = check_file(&path).unwrap();
        let (checks, text) = failed(&report);
        assert!(
            checks.contains(check),
            "{name}: {check} should fail: {text}"
        );
        assert!(
            text.contains(&format!("{}: {check}: ", path.display()))
                && text.to_lowercase().contains(&detail.to_lowercase()),
            "{name}: {text}"
        );
    }
}
