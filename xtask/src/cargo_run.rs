//! Running cargo for `xtask test`: one place that spells the build and test
//! commands, streams their output, and counts the tests that ran (from the
//! test binaries' `test result:` lines), so a run that tested nothing can
//! fail instead of passing.

use std::io::{BufRead, BufReader};
use std::ops::AddAssign;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Tests counted over one or more `cargo test` runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

impl Tally {
    /// Adds a libtest summary line (`test result: ok. 3 passed; 0 failed;
    /// 1 ignored; ...`); other lines are ignored.
    pub fn count_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(kind), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = number.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

/// The cargo commands of one test run: the repository, extra PATH entries,
/// environment, and the arguments for the test binaries.
#[derive(Debug, Clone)]
pub struct CargoTest {
    root: PathBuf,
    path: std::ffi::OsString,
    env: Vec<(String, String)>,
    test_args: Vec<String>,
}

impl CargoTest {
    /// `tools` goes first on PATH (the depends prefix's capnp).
    pub fn new(root: &Path, tools: &Path, test_args: &[String]) -> CargoTest {
        let mut dirs = vec![tools.to_path_buf()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        CargoTest {
            root: root.to_path_buf(),
            path: std::env::join_paths(dirs).unwrap_or_default(),
            env: Vec::new(),
            test_args: test_args.to_vec(),
        }
    }

    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    fn command(&self, subcommand: &str, config: Option<&Path>) -> Command {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command
            .current_dir(&self.root)
            .env("PATH", &self.path)
            .args([subcommand, "--locked"]);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// `cargo build` of the workspace without `excluded`.
    pub fn build(&self, config: &Path, excluded: &[&str], features: &str) -> Result<()> {
        let mut command = self.command("build", Some(config));
        select(&mut command, excluded, &[], features);
        run_status(command)
    }

    /// `cargo test --no-run` of `package`: compiles its tests without
    /// running them (benchmarks time the run alone).
    pub fn build_tests(&self, config: &Path, package: &str, features: &str) -> Result<()> {
        let mut command = self.command("test", Some(config));
        select(&mut command, &[], &[package], features);
        command.arg("--no-run");
        run_status(command)
    }

    /// `cargo test` of `packages` (or the workspace without `excluded`),
    /// only `targets` if given, ignored tests included; the tests counted.
    pub fn test(
        &self,
        config: Option<&Path>,
        excluded: &[&str],
        packages: &[&str],
        features: &str,
        targets: &[String],
    ) -> Result<Tally> {
        let mut command = self.command("test", config);
        select(&mut command, excluded, packages, features);
        // Every failure of a run at once, not only the first test binary's.
        command
            .arg("--no-fail-fast")
            .args(targets)
            .args(["--", "--include-ignored"])
            .args(&self.test_args)
            .stdout(Stdio::piped());
        let shown = shown(&command);
        eprintln!("$ {shown}");
        let mut child = command
            .spawn()
            .with_context(|| format!("running {shown}"))?;
        let mut tally = Tally::default();
        let stdout = child.stdout.take().context("cargo's stdout")?;
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading cargo's output")?;
            println!("{line}");
            tally.count_line(&line);
        }
        let status = child
            .wait()
            .with_context(|| format!("waiting for {shown}"))?;
        if !status.success() {
            bail!("{shown} failed ({status})");
        }
        Ok(tally)
    }
}

/// Runs `command` (its output goes straight to ours); fails naming it.
fn run_status(mut command: Command) -> Result<()> {
    let shown = shown(&command);
    eprintln!("$ {shown}");
    let status = command
        .status()
        .with_context(|| format!("running {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn select(command: &mut Command, excluded: &[&str], packages: &[&str], features: &str) {
    if packages.is_empty() {
        command.arg("--workspace");
        for name in excluded {
            command.args(["--exclude", name]);
        }
    } else {
        for name in packages {
            command.args(["-p", name]);
        }
    }
    if !features.is_empty() {
        command.args(["--features", features]);
    }
}

/// The command as a user would type it, for logs and errors.
fn shown(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_are_counted_and_others_ignored() {
        let mut tally = Tally::default();
        tally.count_line("test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; 5 filtered out; finished in 0.20s");
        tally.count_line(
            "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        tally.count_line("test foo ... ok");
        tally.count_line("running 12 tests");
        assert_eq!(
            tally,
            Tally {
                passed: 13,
                failed: 2,
                ignored: 3
            }
        );
    }
}
