//! Making another host's executables run here: the binfmt_misc entry of its
//! emulator (Debian's, from `/usr/lib/binfmt.d`) is registered with the
//! kernel, so any process, not only cargo's runner, can exec them. Product
//! code never learns about the emulator: `c1pzo-node` spawning an aarch64
//! `c1pzo-wallet` takes the same path as on real hardware.

use std::path::Path;

use anyhow::{bail, Context, Result};
use depends::toolchain::ToolchainFile;

use crate::apt;

const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";
const BINFMT_CONFIGS: &str = "/usr/lib/binfmt.d";

/// Registers the host's emulator when needed (as root; otherwise fails
/// with the commands that would) and returns the environment every
/// process of the test run needs.
pub fn prepare(host: &ToolchainFile) -> Result<Vec<(String, String)>> {
    let Some(test) = &host.test else {
        return Ok(Vec::new());
    };
    let Some(name) = &test.binfmt else {
        return Ok(test.env.clone().into_iter().collect());
    };
    if let Some(package) = &test.binfmt_debian {
        apt::ensure(std::slice::from_ref(package))?;
    }
    let entry = Path::new(BINFMT_DIR).join(name);
    if !enabled(&entry) {
        register(name, host).with_context(|| {
            format!(
                "the kernel cannot run {} executables here: binfmt_misc has no enabled `{name}` \
                 entry. Set it up as root with:\n  \
                 mount -t binfmt_misc binfmt_misc {BINFMT_DIR}  # if not mounted\n  \
                 cat {BINFMT_CONFIGS}/{name}.conf > {BINFMT_DIR}/register",
                host.triple
            )
        })?;
        if !enabled(&entry) {
            bail!(
                "registered {name} with binfmt_misc, but {} does not say `enabled`",
                entry.display()
            );
        }
        eprintln!("registered {name} with binfmt_misc ({})", entry.display());
    }
    Ok(test.env.clone().into_iter().collect())
}

fn enabled(entry: &Path) -> bool {
    std::fs::read_to_string(entry).is_ok_and(|text| text.lines().next() == Some("enabled"))
}

fn register(name: &str, host: &ToolchainFile) -> Result<()> {
    let register = Path::new(BINFMT_DIR).join("register");
    if !register.exists() {
        let status = std::process::Command::new("mount")
            .args(["-t", "binfmt_misc", "binfmt_misc", BINFMT_DIR])
            .status()
            .context("running mount")?;
        if !status.success() {
            bail!("mounting binfmt_misc on {BINFMT_DIR} failed ({status}); are we root?");
        }
    }
    let config = Path::new(BINFMT_CONFIGS).join(format!("{name}.conf"));
    let line = std::fs::read_to_string(&config).with_context(|| {
        format!(
            "reading {} (the binfmt entry for {}; Debian's qemu-user-binfmt installs it)",
            config.display(),
            host.triple
        )
    })?;
    let line = line
        .lines()
        .find(|l| l.starts_with(':'))
        .with_context(|| format!("{} holds no `:name:type:...` line", config.display()))?;
    std::fs::write(&register, line).with_context(|| {
        format!(
            "writing {}'s entry to {}",
            config.display(),
            register.display()
        )
    })
}
