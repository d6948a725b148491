//! `cargo xtask ci`: the CI matrix (`ci/matrix.toml`) run here exactly as
//! CI runs it, and the GitHub Actions workflow generated from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

pub const MATRIX: &str = "ci/matrix.toml";
pub const WORKFLOW: &str = ".github/workflows/ci.yml";

#[derive(clap::Args, Debug)]
pub struct CiArgs {
    /// The cells to run, in order (see --list).
    #[arg(value_name = "CELL")]
    pub cells: Vec<String>,
    /// List the cells with their hosts, budgets and commands.
    #[arg(long)]
    pub list: bool,
    /// Write .github/workflows/ci.yml from ci/matrix.toml.
    #[arg(long)]
    pub write_workflow: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub cells: BTreeMap<String, Cell>,
    /// The Rust release `rust-toolchain.toml` pins, which each job
    /// installs (not read from the matrix file).
    #[serde(skip)]
    pub rust: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub description: String,
    pub host: String,
    pub options: Vec<String>,
    pub budget_minutes: u64,
    /// Needs a privileged container (binfmt_misc registration).
    #[serde(default)]
    pub privileged: bool,
    pub commands: Vec<String>,
}

pub fn load(root: &Path) -> Result<Matrix> {
    let path = root.join(MATRIX);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut matrix: Matrix =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if matrix.cells.is_empty() {
        bail!("{} defines no cell", path.display());
    }
    let pin_path = root.join("rust-toolchain.toml");
    let pin: toml::Value = toml::from_str(
        &std::fs::read_to_string(&pin_path)
            .with_context(|| format!("reading {}", pin_path.display()))?,
    )
    .with_context(|| format!("parsing {}", pin_path.display()))?;
    matrix.rust = pin
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(toml::Value::as_str)
        .with_context(|| format!("{}: no [toolchain] channel", pin_path.display()))?
        .to_string();
    Ok(matrix)
}

pub fn run(args: CiArgs) -> Result<()> {
    let root = crate::repo_root();
    let matrix = load(&root)?;
    if args.write_workflow {
        let path = workflow_path(&root);
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        std::fs::write(&path, workflow(&matrix))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {WORKFLOW} from {MATRIX}");
    }
    if args.list {
        for (name, cell) in &matrix.cells {
            println!(
                "{name:16} {:20} {:>3} min  {} [{}]",
                cell.host,
                cell.budget_minutes,
                cell.description,
                cell.options.join(" ")
            );
            for command in &cell.commands {
                println!("{:16} $ {command}", "");
            }
        }
    }
    if args.cells.is_empty() {
        if !args.list && !args.write_workflow {
            bail!(
                "name a cell to run ({}), or give --list or --write-workflow",
                names(&matrix)
            );
        }
        return Ok(());
    }
    let mut failed = Vec::new();
    let mut summary = Vec::new();
    for name in &args.cells {
        let cell = matrix.cells.get(name).with_context(|| {
            format!(
                "no cell `{name}` in {MATRIX}; the cells are: {}",
                names(&matrix)
            )
        })?;
        let (line, ok) = run_cell(&root, name, cell);
        eprintln!("{line}");
        summary.push(line);
        if !ok {
            failed.push(name.clone());
        }
    }
    if args.cells.len() > 1 {
        eprintln!("== summary ==");
        for line in &summary {
            eprintln!("{line}");
        }
    }
    if !failed.is_empty() {
        bail!("cells failed: {}", failed.join(", "));
    }
    Ok(())
}

fn names(matrix: &Matrix) -> String {
    matrix.cells.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// Runs a cell's commands in order, stopping at the first failure; the
/// summary line and whether it passed.
fn run_cell(root: &Path, name: &str, cell: &Cell) -> (String, bool) {
    let started = Instant::now();
    let scratch = match tempfile::Builder::new()
        .prefix(&format!("c1pzo-ci-{name}-"))
        .tempdir()
    {
        Ok(dir) => dir,
        Err(e) => return (format!("ci {name}: FAILED: no scratch folder: {e}"), false),
    };
    for command in &cell.commands {
        let command = command.replace("{scratch}", &scratch.path().display().to_string());
        eprintln!("== ci {name} $ {command}");
        let status = Command::new("bash")
            .args(["-c", &command])
            .current_dir(root)
            .status();
        let ok = status.as_ref().is_ok_and(|s| s.success());
        if !ok {
            let why = match status {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            };
            return (
                format!(
                    "ci {name}: FAILED in {:.0} s at `{command}` ({why})",
                    started.elapsed().as_secs_f64()
                ),
                false,
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let over = if seconds > (cell.budget_minutes * 60) as f64 {
        format!(", OVER its budget of {} min", cell.budget_minutes)
    } else {
        format!(" (budget {} min)", cell.budget_minutes)
    };
    (
        format!("ci {name}: passed in {seconds:.0} s{over} on {}", cell.host),
        true,
    )
}

/// The GitHub Actions workflow for `matrix`: one job per cell, each running
/// `cargo xtask ci <cell>` in a Debian 12 container, with the depends
/// caches (outside the clone) kept between runs.
pub fn workflow(matrix: &Matrix) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by `cargo xtask ci --write-workflow` from {MATRIX}; do not edit.\n\
         # A tidy test (`cargo test -p xtask tidy`) fails when this file is stale.\n\
         name: CI\n\
         on:\n  push:\n  pull_request:\n\
         env:\n  CARGO_TERM_COLOR: always\n  C1PZO_CACHE_HOME: /github/home/.cache/c1pzo\n\
         \x20 # A shared build cache (README: BASE_CACHE_URL), when the repository sets one;\n\
         \x20 # empty values leave it off. Push credentials come from secrets only.\n\
         \x20 BASE_CACHE_URL: ${{{{ vars.C1PZO_BASE_CACHE_URL }}}}\n\
         \x20 BASE_CACHE_PUSH: ${{{{ vars.C1PZO_BASE_CACHE_PUSH }}}}\n\
         \x20 BASE_CACHE_PUSH_TOKEN: ${{{{ secrets.C1PZO_BASE_CACHE_TOKEN }}}}\n\
         jobs:\n"
    ));
    for (name, cell) in &matrix.cells {
        let options = if cell.privileged {
            "\n      options: --privileged"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {name}:\n\
             \x20   name: \"{name} ({host}): {description}\"\n\
             \x20   runs-on: ubuntu-24.04\n\
             \x20   timeout-minutes: {budget}\n\
             \x20   container:\n      image: debian:12{options}\n\
             \x20   steps:\n\
             \x20     - name: tools the checkout and rustup need\n\
             \x20       run: apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates curl git\n\
             \x20     - uses: actions/checkout@v4\n\
             \x20     - uses: dtolnay/rust-toolchain@master\n\
             \x20       with:\n\
             \x20         toolchain: {rust}\n\
             \x20     - name: depends caches (sources and built packages)\n\
             \x20       uses: actions/cache@v4\n\
             \x20       with:\n\
             \x20         path: /github/home/.cache/c1pzo\n\
             \x20         key: c1pzo-{name}-${{{{ hashFiles('recipes/**', 'toolchains/**', 'Cargo.lock') }}}}\n\
             \x20         restore-keys: c1pzo-{name}-\n\
             \x20     - name: cargo xtask ci {name}\n\
             \x20       run: cargo xtask ci {name}\n",
            host = cell.host,
            description = cell.description.replace('"', "'"),
            budget = cell.budget_minutes,
            rust = matrix.rust,
        ));
    }
    out
}

/// The path of the generated workflow in `root`.
pub fn workflow_path(root: &Path) -> PathBuf {
    root.join(WORKFLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_has_the_cells_the_project_promises() {
        let matrix = load(&crate::repo_root()).unwrap();
        for cell in [
            "native",
            "aarch64",
            "mingw",
            "no-multiprocess",
            "depends-cold",
            "hermetic",
            "lint",
            "dist-x86_64",
            "dist-aarch64",
        ] {
            assert!(matrix.cells.contains_key(cell), "no cell {cell}");
        }
        // The native cell is exactly the README's test command.
        assert_eq!(matrix.cells["native"].commands, ["cargo xtask test"]);
    }

    #[test]
    fn an_unknown_cell_is_refused_naming_the_cells() {
        let err = run(CiArgs {
            cells: vec!["nativ".into()],
            list: false,
            write_workflow: false,
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("no cell `nativ`"), "{err}");
        assert!(
            err.contains("native, no-multiprocess") || err.contains("native"),
            "{err}"
        );
    }
}
