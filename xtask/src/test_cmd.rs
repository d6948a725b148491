//! `cargo xtask test`: the one command that runs every test, the same here
//! and in CI (`.ci/run` calls it).

use anyhow::{Context, Result};

use crate::apt;
use crate::depends_cmd::{self, DependsArgs};

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Arguments passed to the test binaries (after `--`), e.g. a filter.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(args: TestArgs) -> Result<()> {
    apt::ensure(&apt::ci_packages()?)?;
    let root = crate::repo_root();
    let sh = shell_with_depends(&root)?;
    let extra = &args.args;
    // Slow tests (a real Cap'n Proto build) are #[ignore]d so a plain
    // `cargo test` stays quick; this command runs them too. The
    // multiprocess executables are built (the prefix has Cap'n Proto).
    eprintln!("== every test; functional tests against c1pzod ==");
    xshell::cmd!(
        sh,
        "cargo test --workspace --locked --features c1pzo/multiprocess -- --include-ignored {extra...}"
    )
    .run()?;
    // The functional suite again, against the multiprocess node: the
    // same tests must pass when the wallet lives in its own process.
    // Selected by target name with the same workspace-wide flags, so
    // nothing is rebuilt.
    eprintln!("== functional tests again, against c1pzo-node (C1PZOD=c1pzo-node) ==");
    let targets = functional_tests(&root)?;
    xshell::cmd!(
        sh,
        "cargo test --workspace --locked --features c1pzo/multiprocess {targets...} -- --include-ignored {extra...}"
    )
    .env("C1PZOD", "c1pzo-node")
    .run()?;
    Ok(())
}

/// `--test <name>` for each functional test file in crates/c1pzo/tests.
fn functional_tests(root: &std::path::Path) -> Result<Vec<String>> {
    let dir = root.join("crates/c1pzo/tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".rs").map(str::to_string))
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .flat_map(|name| ["--test".to_string(), name])
        .collect())
}

/// Runs `depends MULTIPROCESS=1` and returns a shell in `root` whose PATH
/// starts with the prefix's build-machine tools.
pub fn shell_with_depends(root: &std::path::Path) -> Result<xshell::Shell> {
    // crates/ipc compiles its schemas with the Cap'n Proto compiler from the
    // depends prefix (cached after the first run), and so does the
    // third-party crate its wire-compatibility test builds against, which
    // finds `capnp` on PATH.
    let depends = DependsArgs {
        words: vec!["MULTIPROCESS=1".into()],
        dry_run: false,
        offline: false,
        json: false,
        jobs: None,
        keep: 3,
        root: None,
    };
    let report = depends_cmd::run_in(root, depends)?.context("depends did not install")?;
    let sh = xshell::Shell::new()?;
    sh.change_dir(root);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![report.prefix.join("native/bin")];
    dirs.extend(std::env::split_paths(&path));
    sh.set_var("PATH", std::env::join_paths(dirs)?);
    Ok(sh)
}
