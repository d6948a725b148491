//! The archives work: the binary archive unpacked as a user unpacks it,
//! and the functional suite's smoke test (`tests/tests/smoke.rs`) run
//! against what came out, once with `bin/c1pzod` and once with the
//! multiprocess `libexec/c1pzo-node` (which must find `bin/c1pzo-wallet`),
//! through the host's emulator when it is not this machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use depends::toolchain::ToolchainFile;

use crate::depends_cmd::{self, DependsArgs};

/// Unpacks `archive` under `work` and runs the smoke test against it.
/// `words` are the release's options (SOURCES_PATH, BASE_CACHE, ...), for
/// the build machine's prefix the harness needs; with `vendored`, the
/// harness too is built offline from the vendored crates.
pub fn run(
    root: &Path,
    host: &ToolchainFile,
    archive: &Path,
    top: &str,
    work: &Path,
    words: &[String],
    vendored: Option<&Path>,
) -> Result<()> {
    let unpacked = work.join("unpacked");
    release::archive::unpack(archive, &unpacked)?;
    let tree = unpacked.join(top);
    let native = host.triple == depends::toolchain::build_triple();
    let emulator_env = if native {
        Vec::new()
    } else {
        crate::emulator::prepare(host)?
    };
    // The harness runs here: built for this machine, against its prefix.
    let mut words: Vec<String> = words
        .iter()
        .filter(|w| !w.starts_with("HOST=") && !w.starts_with("MULTIPROCESS="))
        .cloned()
        .collect();
    words.push("MULTIPROCESS=1".to_string());
    words.push(format!("HOST={}", depends::toolchain::build_triple()));
    let mut depends_args = DependsArgs::with_options(&words);
    depends_args.offline = vendored.is_some();
    let native_prefix = depends_cmd::run_in(root, depends_args)?
        .context("depends did not install the build machine's prefix")?
        .prefix;
    let config = native_prefix.join(depends::install::CARGO_CONFIG_FILE);
    let path = std::env::join_paths(std::iter::once(native_prefix.join("native/bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    let suffix = if host.os == "mingw32" { ".exe" } else { "" };
    let node: PathBuf = tree.join("libexec").join(format!("c1pzo-node{suffix}"));
    for (label, node) in [("c1pzod", None), ("c1pzo-node", Some(&node))] {
        eprintln!(
            "== smoke test of {} ({label}) ==",
            archive.file_name().unwrap_or_default().to_string_lossy()
        );
        let mut command = Command::new("cargo");
        command
            .current_dir(root)
            .args(["test", "--locked", "-p", "c1pzo-functional"])
            .args(["--features", "multiprocess", "--test", "smoke", "--config"])
            .arg(&config)
            .args(vendored.map_or_else(Vec::new, super::release_build::vendored_source_args))
            .env("PATH", &path)
            .env("C1PZO_BIN_DIR", tree.join("bin"))
            .env("C1PZO_ALLOW_OLD_BINARIES", "1")
            .envs(emulator_env.iter().map(|(k, v)| (k, v)));
        if let Some(node) = node {
            command.env("C1PZOD", node);
        }
        let status = command.status().context("running cargo test")?;
        if !status.success() {
            bail!(
                "the smoke test failed against the unpacked {} ({label}, {status}); the \
                 unpacked tree is {}",
                archive.display(),
                tree.display()
            );
        }
    }
    Ok(())
}
