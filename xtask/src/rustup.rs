//! The Rust standard library for a HOST's target, installed with rustup
//! when missing, as missing Debian packages are.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// Whether `target` is installed; `None` outside a rustup toolchain.
fn installed(target: &str) -> Option<bool> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()?;
    Some(
        String::from_utf8_lossy(&installed.stdout)
            .lines()
            .any(|line| line.trim() == target),
    )
}

/// Fails naming the command when `target` is not installed; installs
/// nothing (an offline release).
pub fn require_target(target: &str) -> Result<()> {
    if installed(target) == Some(false) {
        bail!(
            "the Rust target {target} is not installed and --offline installs nothing: run \
             `rustup target add {target}` first, or run without --offline"
        );
    }
    Ok(())
}

/// Makes sure `target` is installed; installs it with rustup, or fails
/// naming the command.
pub fn ensure_target(target: &str) -> Result<()> {
    // Outside a rustup toolchain cargo says what is missing, if anything.
    if installed(target) != Some(false) {
        return Ok(());
    }
    eprintln!("installing the Rust target {target}: rustup target add {target}");
    let output = Command::new("rustup")
        .args(["target", "add", target])
        .output()
        .context("running rustup target add")?;
    if !output.status.success() {
        bail!(
            "the Rust target {target} is not installed and `rustup target add {target}` failed \
             ({}): {}\ninstall it by hand with `rustup target add {target}`, or use a toolchain \
             that has it",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_rustup_cannot_install_is_named_with_the_command() {
        if Command::new("rustup").arg("--version").output().is_err() {
            panic!("the tests run on a rustup toolchain, as the README says");
        }
        let err = ensure_target("no-such-arch-unknown-none")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the Rust target no-such-arch-unknown-none is not installed"),
            "{err}"
        );
        assert!(
            err.contains("rustup target add no-such-arch-unknown-none"),
            "{err}"
        );
    }
}
