//! Installing missing Debian packages, so the README's commands work on a
//! fresh Debian machine. Only as root (CI, containers); otherwise the error
//! names the `apt-get install` line to run.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// Of `packages`, those dpkg does not report as installed.
pub fn missing(packages: &[String]) -> Vec<String> {
    packages
        .iter()
        .filter(|pkg| {
            let status = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", pkg])
                .output();
            !status
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .cloned()
        .collect()
}

/// Whether this process may install packages itself: root, apt-get on PATH,
/// and not opted out with C1PZO_NO_APT=1.
pub fn can_install() -> bool {
    let opted_out = std::env::var("C1PZO_NO_APT").is_ok_and(|v| depends::options::is_truthy(&v));
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    !opted_out && root && depends::toolchain::which("apt-get").is_some()
}

pub fn install(packages: &[String]) -> Result<()> {
    eprintln!("installing missing Debian packages: {}", packages.join(" "));
    let update = Command::new("apt-get")
        .args(["update", "-qq"])
        .status()
        .context("running apt-get update")?;
    if !update.success() {
        bail!("apt-get update failed ({update})");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", packages.join(" "));
    }
    Ok(())
}

/// Makes sure `packages` are installed: installs them as root, otherwise
/// fails with the command to run.
pub fn ensure(packages: &[String]) -> Result<()> {
    let missing = missing(packages);
    if missing.is_empty() {
        return Ok(());
    }
    if can_install() {
        return install(&missing);
    }
    bail!(
        "missing Debian packages: {0}\ninstall them with: sudo apt-get install {0}",
        missing.join(" ")
    )
}

/// Fails naming the install command when any of `packages` is missing;
/// installs nothing (an offline release).
pub fn require(packages: &[String]) -> Result<()> {
    let missing = missing(packages);
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "missing Debian packages: {0}\n--offline installs nothing: install them first with \
         `apt-get install {0}` (from a local mirror), or run without --offline",
        missing.join(" ")
    )
}

/// The package list shared with `.ci/run`.
pub fn ci_packages() -> Result<Vec<String>> {
    let path = crate::repo_root().join("ci/debian-packages.txt");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}
