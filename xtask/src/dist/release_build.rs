//! The release build: cargo with the `dist` profile against the HOST's
//! depends prefix, every absolute path the output could carry remapped
//! (the workspace, CARGO_HOME, the crates' sources; Rust's own sources are
//! already `/rustc/<commit>`), in Rust and in the C/C++ build scripts
//! compile, and
//! the hardening and reproducibility flags of Core's releases: full RELRO,
//! a non-executable stack, separate code on Linux; ASLR, DEP, relocations,
//! Core's subsystem version and no link timestamp on Windows.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use depends::report::RunReport;
use depends::toolchain::ToolchainFile;

/// The cargo profile (Cargo.toml's `[profile.dist]`).
pub const PROFILE: &str = "dist";

/// Where the workspace, CARGO_HOME and the crates' sources appear in the
/// output instead of their real places. The crates are one place whether
/// cargo unpacked them from the registry or `--offline` reads them
/// vendored, so the two builds give the same bytes.
const WORKSPACE_AS: &str = "/c1pzo";
const CARGO_HOME_AS: &str = "/cargo";
const CRATES_AS: &str = "/crates";

/// The name `--offline` gives the vendored folder in cargo's source
/// replacement.
const VENDORED_SOURCE: &str = "c1pzo-vendored";

/// Builds every shipped executable, with the crates from `vendored` when
/// given (and no network); returns the folder holding them.
pub fn build(
    root: &Path,
    host: &ToolchainFile,
    depends: &RunReport,
    epoch: u64,
    vendored: Option<&Path>,
) -> Result<PathBuf> {
    let config = depends.prefix.join(depends::install::CARGO_CONFIG_FILE);
    let target_dir = root.join("target").join("dist");
    let cargo_home = cargo_home()?;
    // Both rustc and GCC let the last matching map win: the crates'
    // folders, inside CARGO_HOME, come after it.
    let mut maps = vec![
        (root.to_path_buf(), WORKSPACE_AS),
        (cargo_home.clone(), CARGO_HOME_AS),
    ];
    match vendored {
        Some(folder) => maps.push((folder.to_path_buf(), CRATES_AS)),
        None => maps.extend(
            registry_sources(&cargo_home)
                .into_iter()
                .map(|dir| (dir, CRATES_AS)),
        ),
    }
    let mut rustflags: Vec<String> = maps
        .iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
        .collect();
    for arg in link_args(host) {
        rustflags.push(format!("-Clink-arg={arg}"));
    }
    let rustflags_config = format!(
        "target.{}.rustflags={}",
        host.rust_target,
        serde_json::to_string(&rustflags)?
    );
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args(["build", "--locked", "--profile", PROFILE, "--workspace"])
        .args(["--exclude", "xtask", "--exclude", "c1pzo-depends"])
        .args([
            "--exclude",
            "c1pzo-functional",
            "--exclude",
            "c1pzo-release",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--config")
        .arg(&rustflags_config)
        .args(vendored.map_or_else(Vec::new, vendored_source_args))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .env("CARGO_INCREMENTAL", "0");
    if crate::depends_cmd::multiprocess_prefix(&depends.prefix)? {
        command.args(["--features", "c1pzo/multiprocess"]);
    }
    // The C and C++ the build scripts compile (bitcoinconsensus) get the
    // same remapping; the prefix's flags come first, as in its config.
    let underscored = host.rust_target.replace('-', "_");
    let prefix_maps: Vec<String> = maps
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect();
    for key in ["CFLAGS", "CXXFLAGS"] {
        let key = format!("{key}_{underscored}");
        let mut flags = depends.manifest.env.get(&key).cloned().unwrap_or_default();
        for map in &prefix_maps {
            flags.push(' ');
            flags.push_str(map);
        }
        command.env(&key, flags.trim());
    }
    // libstdc++ into the executables, not beside them (Core's
    // `-static-libstdc++`; the cc crate's switch).
    command.env(format!("CXXSTDLIB_STATIC_{underscored}"), "1");
    let tools = depends.prefix.join("native/bin");
    let path = std::env::join_paths(std::iter::once(tools).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))?;
    command.env("PATH", path);
    eprintln!(
        "== release build for {} (cargo build --profile {PROFILE}, SOURCE_DATE_EPOCH={epoch}) ==",
        host.triple
    );
    let status = command.status().context("running cargo build")?;
    if !status.success() {
        bail!("the release build for {} failed ({status})", host.triple);
    }
    Ok(target_dir.join(&host.rust_target).join(PROFILE))
}

/// Linker flags for the release binaries (Core's, where Rust's defaults
/// do not already give them).
fn link_args(host: &ToolchainFile) -> Vec<&'static str> {
    if host.os == "mingw32" {
        vec![
            "-Wl,--no-insert-timestamp",
            "-Wl,--dynamicbase",
            "-Wl,--high-entropy-va",
            "-Wl,--nxcompat",
            "-Wl,--enable-reloc-section",
            "-Wl,--major-subsystem-version,6",
            "-Wl,--minor-subsystem-version,2",
        ]
    } else {
        vec!["-Wl,-z,relro,-z,now,-z,noexecstack,-z,separate-code"]
    }
}

/// cargo's options to take every crates.io crate from `folder` and never
/// the network.
pub fn vendored_source_args(folder: &Path) -> Vec<String> {
    vec![
        "--offline".into(),
        "--config".into(),
        format!("source.crates-io.replace-with={VENDORED_SOURCE:?}"),
        "--config".into(),
        format!(
            "source.{VENDORED_SOURCE}.directory={}",
            serde_json::Value::String(folder.display().to_string())
        ),
    ]
}

/// The folders cargo unpacks registry crates into
/// (`CARGO_HOME/registry/src/<registry>-<hash>/`).
fn registry_sources(cargo_home: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry").join("src"))
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn cargo_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Ok(PathBuf::from(home));
    }
    let home = std::env::var_os("HOME").context("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

/// A tool's output, for BUILDINFO.
pub fn tool_output(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program} {}", args.join(" ")))?;
    if !output.status.success() {
        bail!("{program} {} failed ({})", args.join(" "), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The first `--version` line of each C/C++ tool of the HOST's toolchain.
pub fn tool_versions(host: &ToolchainFile) -> Result<Vec<(String, String)>> {
    let tools = [
        ("cc", host.tools.cc.command.clone()),
        ("cxx", host.tools.cxx.command.clone()),
        ("linker", host.cargo.linker.clone()),
        ("objcopy", super::stage::objcopy_command(host)),
        ("strip", host.tools.strip.command.clone()),
    ];
    tools
        .into_iter()
        .map(|(name, command)| {
            let program = command
                .split_whitespace()
                .next()
                .unwrap_or(&command)
                .to_string();
            let text = tool_output(&program, &["--version"])?;
            Ok((
                name.to_string(),
                text.lines().next().unwrap_or("").to_string(),
            ))
        })
        .collect()
}
