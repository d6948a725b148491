//! The release policy every shipped binary must meet: what Bitcoin Core's
//! `symbol-check` and `security-check` ask of its release binaries, for
//! ELF (Linux) and PE (Windows), read with the `object` crate. The rules
//! are chosen by the binary's own format and machine, so a file is checked
//! without being told its host.
//!
//! Where c1pzo's rule differs from Core's, the constant says why. Core's
//! checks that a Rust program cannot meet today (stack canaries, CET's
//! `endbr64` at `main`, `_FORTIFY_SOURCE`, an embedded Windows manifest)
//! are not run; ARCHITECTURE.md lists them.

mod elf;
mod pe;

use std::fmt;
use std::path::{Path, PathBuf};

/// The newest glibc symbol version a Linux binary may need: 2.31, Debian
/// 11's and Ubuntu 20.04's, the ceiling Core's releases promise.
pub const GLIBC_CEILING: (u32, u32, u32) = (2, 31, 0);

/// The newest libgcc_s symbol version a Linux binary may need. Core allows
/// no `GCC_` imports at all, because it links libgcc statically; Rust's
/// standard library always unwinds through the shared `libgcc_s.so.1`
/// (there is no static libgcc_eh option on stable), so c1pzo allows it at
/// the version every glibc 2.31 system's libgcc_s provides (Core's own
/// ceiling before 2023).
pub const GCC_CEILING: (u32, u32, u32) = (7, 0, 0);

/// The shared libraries a Linux binary may need: glibc's, the dynamic
/// loaders, and `libgcc_s.so.1` (see [`GCC_CEILING`]). No libstdc++: the
/// C++ the node compiles is linked statically.
pub const ELF_ALLOWED_LIBRARIES: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

/// The DLLs a Windows binary may import, lower-case: what every Windows 10
/// provides. Core's list is longer (its GUI) and names `msvcrt.dll` too;
/// `bcryptprimitives.dll` and the `api-ms-win-core-synch` set are what
/// Rust's standard library asks for (`ProcessPrng`, `WaitOnAddress`).
pub const PE_ALLOWED_DLLS: &[&str] = &[
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

/// One rule, named as Core's scripts print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// ELF: every versioned import under its ceiling; GLIBCXX, CXXABI and
    /// unknown families refused.
    ImportedSymbols,
    /// ELF: nothing exported from `.dynsym` but stdio's three streams.
    ExportedSymbols,
    /// ELF: every DT_NEEDED in [`ELF_ALLOWED_LIBRARIES`].
    LibraryDependencies,
    /// ELF: PT_INTERP is the machine's standard loader.
    InterpreterName,
    /// ELF: the ABI note asks for no kernel newer than glibc 2.31's own
    /// minimum allows (3.17.0).
    Abi,
    /// ELF: no DT_RPATH or DT_RUNPATH.
    Runpath,
    /// ELF: position-independent executable. PE: DYNAMIC_BASE.
    Pie,
    /// ELF: a non-executable stack (PT_GNU_STACK without PF_X). PE:
    /// NX_COMPAT.
    Nx,
    /// ELF: PT_GNU_RELRO and BIND_NOW in DT_FLAGS.
    Relro,
    /// ELF: code, read-only data and writable data in separate segments.
    SeparateCode,
    /// PE: every imported DLL in [`PE_ALLOWED_DLLS`].
    DynamicLibraries,
    /// PE: subsystem version 6.2, Core's.
    SubsystemVersion,
    /// PE: DYNAMIC_BASE in DllCharacteristics.
    DynamicBase,
    /// PE: HIGH_ENTROPY_VA in DllCharacteristics.
    HighEntropyVa,
    /// PE: a base relocation table, so ASLR can move the image.
    RelocSection,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::ImportedSymbols => "IMPORTED_SYMBOLS",
            Check::ExportedSymbols => "EXPORTED_SYMBOLS",
            Check::LibraryDependencies => "LIBRARY_DEPENDENCIES",
            Check::InterpreterName => "INTERPRETER_NAME",
            Check::Abi => "ABI",
            Check::Runpath => "RUNPATH",
            Check::Pie => "PIE",
            Check::Nx => "NX",
            Check::Relro => "RELRO",
            Check::SeparateCode => "SEPARATE_CODE",
            Check::DynamicLibraries => "DYNAMIC_LIBRARIES",
            Check::SubsystemVersion => "SUBSYSTEM_VERSION",
            Check::DynamicBase => "DYNAMIC_BASE",
            Check::HighEntropyVa => "HIGH_ENTROPY_VA",
            Check::RelocSection => "RELOC_SECTION",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why one check failed: what was expected and what the file has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub check: Check,
    pub detail: String,
}

/// The outcome of checking one file.
#[derive(Debug, Clone)]
pub struct Report {
    pub file: PathBuf,
    /// "ELF x86_64", "PE x86_64", ...
    pub kind: String,
    pub passed: Vec<Check>,
    pub failures: Vec<Failure>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    pub fn failed_checks(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = self.failures.iter().map(|f| f.check).collect();
        checks.dedup();
        checks
    }
}

/// Core's shape: `<file>: failed NAME NAME`, then one line per problem.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        if self.ok() {
            let names: Vec<&str> = self.passed.iter().map(|c| c.name()).collect();
            return write!(f, "{file}: ok ({}: {})", self.kind, names.join(" "));
        }
        let names: Vec<&str> = self.failed_checks().iter().map(|c| c.name()).collect();
        write!(f, "{file}: failed {}", names.join(" "))?;
        for failure in &self.failures {
            write!(f, "\n  {file}: {}: {}", failure.check, failure.detail)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a binary the release policy covers ({what}); expected an ELF for x86_64 or aarch64 Linux or a 64-bit PE")]
    Unsupported { path: PathBuf, what: String },
    #[error("{path}: cannot be read as {format}: {reason}")]
    Malformed {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
}

/// Checks the binary at `path` against the policy for its format.
pub fn check_file(path: &Path) -> Result<Report, PolicyError> {
    let data = std::fs::read(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    check_bytes(path, &data)
}

/// Checks `data`, the contents of `path`.
pub fn check_bytes(path: &Path, data: &[u8]) -> Result<Report, PolicyError> {
    match object::FileKind::parse(data) {
        Ok(object::FileKind::Elf64) => elf::check(path, data),
        Ok(object::FileKind::Pe64) => pe::check(path, data),
        Ok(kind) => Err(PolicyError::Unsupported {
            path: path.to_path_buf(),
            what: format!("{kind:?}"),
        }),
        Err(error) => Err(PolicyError::Unsupported {
            path: path.to_path_buf(),
            what: error.to_string(),
        }),
    }
}

/// Collects a report: each check runs and either passes or adds failures.
struct Checker {
    passed: Vec<Check>,
    failures: Vec<Failure>,
}

impl Checker {
    fn new() -> Self {
        Self {
            passed: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Records `check` with the problems found (none: passed).
    fn record(&mut self, check: Check, problems: Vec<String>) {
        if problems.is_empty() {
            self.passed.push(check);
        }
        self.failures
            .extend(problems.into_iter().map(|detail| Failure { check, detail }));
    }

    fn report(self, path: &Path, kind: String) -> Report {
        Report {
            file: path.to_path_buf(),
            kind,
            passed: self.passed,
            failures: self.failures,
        }
    }
}

/// `"2.31"` or `"3.0.0"` as a version triple; `None` if it is not one.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(str::parse::<u32>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    parts.next().is_none().then_some((major, minor, patch))
}

fn version_text((major, minor, patch): (u32, u32, u32)) -> String {
    if patch == 0 {
        format!("{major}.{minor}")
    } else {
        format!("{major}.{minor}.{patch}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(parse_version("2.31"), Some((2, 31, 0)));
        assert_eq!(parse_version("2.3.4"), Some((2, 3, 4)));
        assert!(parse_version("2.3.4").unwrap() < parse_version("2.31").unwrap());
        assert!(parse_version("2.32").unwrap() > GLIBC_CEILING);
        assert_eq!(parse_version("PRIVATE"), None);
        assert_eq!(version_text((4, 2, 0)), "4.2");
    }

    #[test]
    fn text_that_is_no_binary_is_refused_by_name() {
        let err = check_bytes(Path::new("README.md"), b"# c1pzo\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("README.md: not a binary the release policy covers"),
            "{err}"
        );
    }
}
