//! placeholder
use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    pub area: String,
}

pub fn run(_args: BenchArgs) -> Result<()> {
    anyhow::bail!("not yet")
}
