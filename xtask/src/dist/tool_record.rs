//! Which Debian packages hold the C/C++ tools a release is built with, and
//! a warning when this builder's differ from the ones the published
//! releases were made with (`ci/release-tools.toml`), or when rustc is not
//! the release `rust-toolchain.toml` pins. A difference is not an error:
//! the build may still match, and `--check-reproducible` or `dist verify`
//! says whether it does; the warning says where to look when it does not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use depends::toolchain::ToolchainFile;

/// The committed record, relative to the repository.
pub const RECORD: &str = "ci/release-tools.toml";

/// A Debian package and its installed version.
pub type Package = (String, String);

/// The packages owning the HOST's compilers, linker and binutils as
/// installed here, sorted by name, each once.
pub fn installed(host: &ToolchainFile) -> Result<Vec<Package>> {
    let commands = [
        &host.tools.cc.command,
        &host.tools.cxx.command,
        &host.cargo.linker,
        &host.tools.strip.command,
    ];
    let mut packages = BTreeMap::new();
    for command in commands {
        let program = command.split_whitespace().next().unwrap_or(command);
        let file = resolve(program)?;
        let package = owner(&file)?;
        let version = query(&["-W", "-f=${Version}", &package])?;
        packages.insert(package, version);
    }
    Ok(packages.into_iter().collect())
}

/// The real file `program` runs, through PATH and symbolic links
/// (`gcc` is `x86_64-linux-gnu-gcc-12`, owned by `gcc-12`).
fn resolve(program: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{program} is not on PATH"))?;
    std::fs::canonicalize(&found).with_context(|| format!("resolving {}", found.display()))
}

/// The Debian package that installed `file`.
fn owner(file: &Path) -> Result<String> {
    let line = query(&["-S", &file.display().to_string()])?;
    // `gcc-12:amd64: /usr/bin/x86_64-linux-gnu-gcc-12`
    let package = line.split(": ").next().unwrap_or(&line);
    Ok(package.split(':').next().unwrap_or(package).to_string())
}

fn query(args: &[&str]) -> Result<String> {
    let output = Command::new("dpkg-query")
        .args(args)
        .output()
        .context("running dpkg-query (a release is built on Debian)")?;
    if !output.status.success() {
        bail!(
            "dpkg-query {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Warnings for `host`: each package of `packages` whose version is not
/// the one `record` (the text of [`RECORD`]) has for it, or that it lacks.
pub fn differences(record: &str, host: &str, packages: &[Package]) -> Result<Vec<String>> {
    let record: toml::Value =
        toml::from_str(record).with_context(|| format!("parsing {RECORD}"))?;
    let recorded = record.get(host).and_then(toml::Value::as_table);
    let mut warnings = Vec::new();
    for (package, version) in packages {
        match recorded
            .and_then(|table| table.get(package))
            .and_then(toml::Value::as_str)
        {
            Some(expected) if expected == version => {}
            Some(expected) => warnings.push(format!(
                "{package} is {version} here, {expected} in {RECORD} [{host}]: the binaries may \
                 differ from the published ones; install {package}={expected}, or compare with \
                 `cargo xtask dist verify`"
            )),
            None => warnings.push(format!(
                "{package} {version} is not in {RECORD} [{host}]: no published release says \
                 which version it used; if this release is to be published, add \
                 `\"{package}\" = \"{version}\"` there"
            )),
        }
    }
    Ok(warnings)
}

/// A warning when `rustc_version` (`rustc -V`) is not the release
/// `rust-toolchain.toml` (the text `pin`) names.
pub fn rustc_difference(pin: &str, rustc_version: &str) -> Result<Option<String>> {
    let pin: toml::Value = toml::from_str(pin).context("parsing rust-toolchain.toml")?;
    let channel = pin
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(toml::Value::as_str)
        .context("rust-toolchain.toml has no [toolchain] channel")?;
    let running = rustc_version.split_whitespace().nth(1).unwrap_or("");
    Ok((running != channel).then(|| {
        format!(
            "rustc is {running} here, rust-toolchain.toml pins {channel}: the binaries will \
             differ from the published ones (is RUSTUP_TOOLCHAIN set, or is this not a rustup \
             toolchain?)"
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDED: &str = r#"
[x86_64-pc-linux-gnu]
gcc-12 = "12.2.0-14+deb12u1"
binutils-x86-64-linux-gnu = "2.40-2"
"#;

    #[test]
    fn a_package_of_another_version_or_unrecorded_is_a_warning_naming_both() {
        let here = [
            (
                "binutils-x86-64-linux-gnu".to_string(),
                "2.40-2".to_string(),
            ),
            ("gcc-12".to_string(), "12.2.0-14+deb12u2".to_string()),
            ("g++-12".to_string(), "12.2.0-14+deb12u2".to_string()),
        ];
        let warnings = differences(RECORDED, "x86_64-pc-linux-gnu", &here).unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "gcc-12 is 12.2.0-14+deb12u2 here, 12.2.0-14+deb12u1 in ci/release-tools.toml"
            ),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].contains("add `\"g++-12\" = \"12.2.0-14+deb12u2\"`"),
            "{}",
            warnings[1]
        );
        assert!(differences(RECORDED, "x86_64-pc-linux-gnu", &here[..1])
            .unwrap()
            .is_empty());
        assert!(differences("[x", "h", &here).is_err());
    }

    #[test]
    fn another_rustc_than_the_pinned_one_is_a_warning() {
        let pin = "[toolchain]\nchannel = \"1.95.0\"\n";
        assert_eq!(
            rustc_difference(pin, "rustc 1.95.0 (59807616e 2026-04-14)").unwrap(),
            None
        );
        let warning = rustc_difference(pin, "rustc 1.96.0-nightly (0123 2026-05-01)")
            .unwrap()
            .unwrap();
        assert!(
            warning.starts_with("rustc is 1.96.0-nightly here, rust-toolchain.toml pins 1.95.0"),
            "{warning}"
        );
    }

    #[test]
    fn this_machines_compiler_is_found_in_its_debian_package() {
        let toolchains = depends::toolchain::Toolchains::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../toolchains"),
        )
        .unwrap();
        let host = toolchains
            .lookup(depends::toolchain::build_triple())
            .unwrap();
        let packages = installed(host).unwrap();
        assert!(
            packages
                .iter()
                .any(|(name, version)| name.starts_with("gcc-") && !version.is_empty()),
            "{packages:?}"
        );
    }
}
