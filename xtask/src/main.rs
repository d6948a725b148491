//! `cargo xtask`: c1pzo's orchestration CLI. It parses arguments, calls the
//! libraries that do the work (the depends engine, the release crate), and
//! runs cargo. Keep it
//! thin: logic that deserves tests belongs in a crate.

mod apt;
mod bench;
mod bench_dist;
mod bench_hosts;
mod cargo_run;
mod ci;
mod depends_cmd;
mod dist;
mod emulator;
mod hermetic;
// The engine tests' nginx runner (a real nginx with WebDAV on 127.0.0.1),
// shared with `bench hosts` rather than copied.
#[path = "../../crates/depends/tests/support/nginx.rs"]
mod nginx;
mod rustup;
mod test_cmd;
#[cfg(test)]
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build and test c1pzo for every host, and run its CI cells",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch, build and install the C/C++ dependencies for a HOST
    /// (`make -C depends`, reimplemented).
    Depends(depends_cmd::DependsArgs),
    /// Run depends, then build the workspace against its prefix.
    Build(depends_cmd::DependsArgs),
    /// Run every test (installs missing Debian packages first when root).
    Test(test_cmd::TestArgs),
    /// Make a reproducible release for a HOST, check binaries against the
    /// release policy, or compare builders' SHA256SUMS.
    Dist(dist::DistArgs),
    /// Measure an area and write the figures under target/bench/.
    Bench(bench::BenchArgs),
    /// Run CI cells from ci/matrix.toml here, list them, or write the workflow.
    Ci(ci::CiArgs),
    /// The `hermetic` cell: two test runs at once in two clones, beside a
    /// node on the default ports.
    Hermetic(hermetic::HermeticArgs),
}

/// The repository root: xtask lives in `<root>/xtask`.
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), |p| p.to_path_buf())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Depends(args) => depends_cmd::run(args),
        Command::Build(args) => depends_cmd::build(args),
        Command::Test(args) => test_cmd::run(args),
        Command::Dist(args) => dist::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Ci(args) => ci::run(args),
        Command::Hermetic(args) => hermetic::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
