//! The release's folder as its archive holds it: `bin/` and `libexec/`
//! with the stripped executables, each with its debug info beside it as
//! `<name>.dbg` (for the `-debug` archive) and a `.gnu_debuglink` pointing
//! at it, and the documents at the top. Split as Core splits: the host's
//! objcopy keeps the debug sections, strip removes them and every symbol,
//! objcopy links the two.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use depends::toolchain::ToolchainFile;

/// What the staged folder holds.
pub struct Staged {
    /// The stripped executables, which the release policy checks.
    pub binaries: Vec<PathBuf>,
}

/// The executables of a release by folder, and the documents at its top.
pub struct Layout<'a> {
    pub bin: &'a [&'a str],
    pub libexec: &'a [&'a str],
    pub docs: &'a [&'a str],
}

/// Fills `top` (which must not exist) from the executables in `built`.
/// `epoch` dates what the tools write (binutils stamps a PE it rewrites
/// with the time, or with `SOURCE_DATE_EPOCH` when set).
pub fn stage(
    root: &Path,
    host: &ToolchainFile,
    built: &Path,
    top: &Path,
    layout: &Layout<'_>,
    epoch: u64,
) -> Result<Staged> {
    let suffix = if host.os == "mingw32" { ".exe" } else { "" };
    let mut binaries = Vec::new();
    for (folder, names) in [("bin", layout.bin), ("libexec", layout.libexec)] {
        let dir = top.join(folder);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for name in names {
            let file = format!("{name}{suffix}");
            let from = built.join(&file);
            let to = dir.join(&file);
            std::fs::copy(&from, &to).with_context(|| {
                format!(
                    "copying {} (the release build should have made it)",
                    from.display()
                )
            })?;
            split_debug(host, &dir, &file, epoch)?;
            binaries.push(to);
        }
    }
    for doc in layout.docs {
        let from = root.join(doc);
        std::fs::copy(&from, top.join(doc))
            .with_context(|| format!("copying {}", from.display()))?;
    }
    Ok(Staged { binaries })
}

/// The host's objcopy, beside its strip (`aarch64-linux-gnu-strip` →
/// `aarch64-linux-gnu-objcopy`, `llvm-strip` → `llvm-objcopy`).
pub fn objcopy_command(host: &ToolchainFile) -> String {
    let strip = &host.tools.strip.command;
    match strip.strip_suffix("strip") {
        Some(prefix) => format!("{prefix}objcopy"),
        None => "objcopy".to_string(),
    }
}

/// `dir/file` becomes stripped, with `dir/file.dbg` beside it holding its
/// debug info and named by its `.gnu_debuglink` (basename and CRC, so the
/// link is the same wherever the release is unpacked).
fn split_debug(host: &ToolchainFile, dir: &Path, file: &str, epoch: u64) -> Result<()> {
    let objcopy = objcopy_command(host);
    let strip = host.tools.strip.command.clone();
    let debug = format!("{file}.dbg");
    let link = format!("--add-gnu-debuglink={debug}");
    let steps: [(&str, Vec<&str>); 3] = [
        (&objcopy, vec!["--only-keep-debug", file, &debug]),
        (&strip, vec!["--strip-all", file]),
        (&objcopy, vec![&link, file]),
    ];
    for (program, args) in steps {
        let output = Command::new(program)
            .args(&args)
            .current_dir(dir)
            .env("SOURCE_DATE_EPOCH", epoch.to_string())
            .output()
            .with_context(|| format!("running {program} (the {} toolchain's)", host.triple))?;
        if !output.status.success() {
            bail!(
                "`{program} {}` in {} failed: {}",
                args.join(" "),
                dir.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
    }
    Ok(())
}
