//! Making another host's executables run here: the binfmt_misc entry of its
//! emulator (Debian's, from `/usr/lib/binfmt.d`: qemu's for aarch64, wine's
//! for Windows) is registered with the kernel, so any process, not only
//! cargo's runner, can exec them. Product code never learns about the
//! emulator: `c1pzo-node` spawning an aarch64 `c1pzo-wallet` takes the same
//! path as on real hardware. The toolchain's `[test]` table adds the
//! environment every test process gets and a setup command run once.

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
    let cache = depends::engine::default_cache_home().display().to_string();
    let env = environment(test, &cache);
    if let Some(name) = &test.binfmt {
        register_once(host, name, test.binfmt_debian.as_deref())?;
    }
    create_parent_folders(test, Path::new(&cache))
        .with_context(|| format!("toolchains/{}.toml [test] env", host.triple))?;
    for command in &test.setup {
        let command: Vec<String> = command
            .iter()
            .map(|w| w.replace("{cache}", &cache))
            .collect();
        let Some((program, args)) = command.split_first() else {
            continue;
        };
        eprintln!(
            "preparing the {} test environment: {}",
            host.triple,
            command.join(" ")
        );
        let status = std::process::Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(crate::repo_root())
            .status()
            .with_context(|| {
                format!(
                    "running {program} (toolchains/{}.toml [test] setup)",
                    host.triple
                )
            })?;
        if !status.success() {
            bail!(
                "`{}` failed ({status}); it prepares the {} test environment \
                 (toolchains/{}.toml [test] setup)",
                command.join(" "),
                host.triple,
                host.triple
            );
        }
    }
    Ok(env)
}

/// Makes the folders above each path the environment names inside the
/// cache. The tool that owns such a path (wine, its prefix) makes only the
/// last level, and on a new machine nothing under the cache exists yet.
fn create_parent_folders(test: &depends::toolchain::TestSettings, cache: &Path) -> Result<()> {
    for (key, value) in &test.env {
        let Some(inside) = value.strip_prefix("{cache}/") else {
            continue;
        };
        let path = cache.join(inside);
        let parent = path.parent().unwrap_or(cache);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {} for {key}", parent.display()))?;
    }
    Ok(())
}

/// The `[test]` environment with `{cache}` made c1pzo's cache folder.
fn environment(test: &depends::toolchain::TestSettings, cache: &str) -> Vec<(String, String)> {
    test.env
        .iter()
        .map(|(key, value)| (key.clone(), value.replace("{cache}", cache)))
        .collect()
}

fn register_once(host: &ToolchainFile, name: &str, package: Option<&str>) -> Result<()> {
    if let Some(package) = package {
        apt::ensure(&[package.to_string()])?;
    }
    let entry = Path::new(BINFMT_DIR).join(name);
    if !enabled(&entry) {
        register(name, host).with_context(|| {
            format!(
                "the kernel cannot run {} executables here: binfmt_misc has no enabled `{name}` \
                 entry. Set it up as root with:\n  \
                 mount -t binfmt_misc binfmt_misc {BINFMT_DIR}  # if not mounted\n  \
                 echo '<the entry from {BINFMT_CONFIGS}/{name}.conf or {BINFMT_CONFIGS}/{name}>' > {BINFMT_DIR}/register",
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
    Ok(())
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
    let (config, line) = registration(name, host)?;
    std::fs::write(&register, line).with_context(|| {
        format!(
            "writing {}'s entry to {}",
            config.display(),
            register.display()
        )
    })
}

/// The registration line for `name`: systemd's `<name>.conf` holds it as
/// written; binfmt-support's `<name>` (wine's entry on Debian) holds
/// `interpreter` and `magic` fields it is made from.
fn registration(name: &str, host: &ToolchainFile) -> Result<(std::path::PathBuf, String)> {
    let systemd = Path::new(BINFMT_CONFIGS).join(format!("{name}.conf"));
    if let Ok(text) = std::fs::read_to_string(&systemd) {
        let line = text
            .lines()
            .find(|l| l.starts_with(':'))
            .with_context(|| format!("{} holds no `:name:type:...` line", systemd.display()))?;
        return Ok((systemd, line.to_string()));
    }
    let support = Path::new(BINFMT_CONFIGS).join(name);
    let text = std::fs::read_to_string(&support).with_context(|| {
        format!(
            "reading {} or {} (the binfmt entry for {}; its Debian package installs one)",
            systemd.display(),
            support.display(),
            host.triple
        )
    })?;
    Ok((
        support.clone(),
        binfmt_support_line(name, &text).with_context(|| {
            format!(
                "{} has no `interpreter` and `magic` lines",
                support.display()
            )
        })?,
    ))
}

/// `:<name>:M::<magic>::<interpreter>:` from binfmt-support's fields.
fn binfmt_support_line(name: &str, text: &str) -> Option<String> {
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
            .map(str::trim)
    };
    Some(format!(
        ":{name}:M::{}::{}:",
        field("magic")?,
        field("interpreter")?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_above_a_cache_path_exist_before_setup_runs() {
        let cache = tempfile::tempdir().unwrap();
        let test: depends::toolchain::TestSettings = toml::from_str(
            "env = { WINEPREFIX = \"{cache}/wine/x86_64-w64-mingw32\", WINEDEBUG = \"-all\" }",
        )
        .unwrap();
        create_parent_folders(&test, cache.path()).unwrap();
        assert!(cache.path().join("wine").is_dir());
        // The last level is left to the tool that owns it.
        assert!(!cache.path().join("wine/x86_64-w64-mingw32").exists());
    }

    #[test]
    fn a_binfmt_support_entry_becomes_a_registration_line() {
        let debian_wine = "package wine\ninterpreter /usr/bin/wine\nmagic MZ\n";
        assert_eq!(
            binfmt_support_line("wine", debian_wine).as_deref(),
            Some(":wine:M::MZ::/usr/bin/wine:")
        );
        assert_eq!(binfmt_support_line("wine", "package wine\n"), None);
    }
}
