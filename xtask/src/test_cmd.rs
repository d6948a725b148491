//! `cargo xtask test`: the one command that runs every test, the same here
//! and in CI (`.ci/run` calls it).

use anyhow::Result;

use crate::apt;

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Arguments passed to the test binaries (after `--`), e.g. a filter.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(args: TestArgs) -> Result<()> {
    apt::ensure(&apt::ci_packages()?)?;
    let root = crate::repo_root();
    let sh = xshell::Shell::new()?;
    sh.change_dir(&root);
    let extra = &args.args;
    // Slow tests (a real Cap'n Proto build) are #[ignore]d so a plain
    // `cargo test` stays quick; this command runs them too.
    xshell::cmd!(
        sh,
        "cargo test --workspace --locked -- --include-ignored {extra...}"
    )
    .run()?;
    Ok(())
}
