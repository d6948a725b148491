//! `cargo xtask test [KEY=VALUE ...] [-- <test args>]`: every test of the
//! suite for one HOST, the same here and in CI (`.ci/run` calls it).
//!
//! The product crates' unit tests run as HOST binaries (through the
//! toolchain's runner when HOST is not this machine); xtask, the depends
//! engine and the functional harness run natively and drive the HOST
//! executables, which the machine's binfmt_misc registration lets start
//! one another as they would on real hardware.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use depends::toolchain::{ToolchainFile, Toolchains};
use depends::Options;

use crate::cargo_run::{CargoTest, Tally};
use crate::depends_cmd::{self, DependsArgs};
use crate::{apt, emulator, rustup};

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// KEY=VALUE options, as `depends` takes them (HOST, MULTIPROCESS, ...;
    /// MULTIPROCESS defaults to 1 here).
    #[arg(value_name = "KEY=VALUE")]
    pub words: Vec<String>,
    /// Arguments for the test binaries, after `--` (a name filter, `--exact`, ...).
    #[arg(last = true, value_name = "TEST ARGS")]
    pub test_args: Vec<String>,
}

/// Crates that run on the build machine whatever HOST is: they drive the
/// build or the executables rather than ship in them.
const BUILD_MACHINE_CRATES: &[&str] = &[
    "xtask",
    "c1pzo-depends",
    "c1pzo-functional",
    "c1pzo-release",
];
/// Crates that need Cap'n Proto, left out with MULTIPROCESS=0.
const IPC_CRATES: &[&str] = &["c1pzo-ipc"];
/// What NO_QT=1 leaves out.
const GUI_CRATES: &[&str] = &["c1pzo-gui"];
/// Functional test files that need the multiprocess executables.
const IPC_FUNCTIONAL_TESTS: &[&str] = &["front_end", "multiprocess"];

/// The parsed options of a test run.
struct Selection {
    words: Vec<String>,
    options: Options,
}

fn select(words: &[String]) -> Result<Selection> {
    let mut words = words.to_vec();
    for word in &words {
        if !word.contains('=') {
            bail!(
                "`{word}` is not a KEY=VALUE option; to run only matching tests, pass the filter \
                 after `--`: cargo xtask test -- {word}"
            );
        }
    }
    // The whole suite is the default: the multiprocess executables too.
    let given = |key: &str| {
        words.iter().any(|w| w.starts_with(&format!("{key}="))) || std::env::var_os(key).is_some()
    };
    if !given("MULTIPROCESS") {
        words.push("MULTIPROCESS=1".into());
    }
    let options = Options::parse(&words, &|key| std::env::var(key).ok())
        .context("cargo xtask test takes the options `cargo xtask depends` takes")?;
    Ok(Selection { words, options })
}

pub fn run(args: TestArgs) -> Result<()> {
    let selection = select(&args.words)?;
    apt::ensure(&apt::ci_packages()?)?;
    let root = crate::repo_root();
    let host = host_toolchain(&root, &selection.options)?;
    let native = host.triple == depends::toolchain::build_triple();
    let test_env = if native {
        Vec::new()
    } else {
        emulator::prepare(&host)?
    };
    rustup::ensure_target(&host.rust_target)?;
    let depends = DependsArgs::with_options(&selection.words);
    let report = depends_cmd::run_in(&root, depends)?.context("depends did not install")?;
    let config = report.prefix.join(depends::install::CARGO_CONFIG_FILE);
    // The build-machine crates build against the build machine's own
    // prefix, into the same target folder as a native run: a cross run
    // after a native one compiles none of them again.
    let native_config = if native {
        config.clone()
    } else {
        let mut words: Vec<String> = selection
            .words
            .iter()
            .filter(|w| !w.starts_with("HOST="))
            .cloned()
            .collect();
        words.push(format!("HOST={}", depends::toolchain::build_triple()));
        let native_report = depends_cmd::run_in(&root, DependsArgs::with_options(&words))?
            .context("depends did not install")?;
        native_report
            .prefix
            .join(depends::install::CARGO_CONFIG_FILE)
    };
    let multiprocess = selection.options.multiprocess;
    let bin_dir = root.join("target").join(&host.rust_target).join("debug");

    let mut cargo = CargoTest::new(&root, &report.prefix.join("native/bin"), &args.test_args);
    for (key, value) in &test_env {
        cargo.env(key, value);
    }
    cargo.env("C1PZO_BIN_DIR", &bin_dir.display().to_string());
    let gui = !selection.options.no_qt;
    let product_features = &depends_cmd::product_features(multiprocess, gui);
    let mut excluded: Vec<&str> = Vec::new();
    if !multiprocess {
        excluded.extend(IPC_CRATES);
    }
    if !gui {
        excluded.extend(GUI_CRATES);
    }
    let mut tally = Tally::default();

    eprintln!("== building the executables for {} ==", host.triple);
    let product_excludes: Vec<&str> = excluded
        .iter()
        .chain(BUILD_MACHINE_CRATES)
        .copied()
        .collect();
    cargo.build(&config, &product_excludes, product_features)?;

    if native {
        // One invocation, one feature set: nothing is compiled twice.
        eprintln!("== every test; functional tests against c1pzod ==");
        let features = join_features(product_features, multiprocess);
        tally += cargo.test(Some(&config), &excluded, &[], &features, &[])?;
    } else {
        eprintln!(
            "== the product crates' tests as {} binaries (under {}) ==",
            host.triple,
            host.cargo.runner.join(" ")
        );
        tally += cargo.test(Some(&config), &product_excludes, &[], product_features, &[])?;
        eprintln!(
            "== build-machine crates and the functional suite, driving the {} executables ==",
            host.triple
        );
        let features = if multiprocess {
            "c1pzo-functional/multiprocess"
        } else {
            ""
        };
        tally += cargo.test(
            Some(&native_config),
            &[],
            BUILD_MACHINE_CRATES,
            features,
            &[],
        )?;
    }

    // The functional suite again, against the multiprocess node: the same
    // tests must pass when the wallet lives in its own process. Selected
    // by target name with the same flags as above, so nothing is rebuilt.
    if multiprocess {
        eprintln!("== functional tests again, against c1pzo-node (C1PZOD=c1pzo-node) ==");
        let targets = functional_tests(&root, multiprocess)?;
        let mut again = cargo.clone();
        again.env("C1PZOD", "c1pzo-node");
        tally += if native {
            let features = join_features(product_features, multiprocess);
            again.test(Some(&config), &excluded, &[], &features, &targets)?
        } else {
            again.test(
                Some(&native_config),
                &[],
                BUILD_MACHINE_CRATES,
                "c1pzo-functional/multiprocess",
                &targets,
            )?
        };
    }

    let left_out = if multiprocess {
        String::new()
    } else {
        format!(
            "; left out with MULTIPROCESS=0: crates {}, functional tests {}, c1pzo-node",
            IPC_CRATES.join(", "),
            IPC_FUNCTIONAL_TESTS.join(", ")
        )
    };
    eprintln!(
        "test summary for {}: {} passed, {} failed, {} ignored{left_out}",
        host.triple, tally.passed, tally.failed, tally.ignored
    );
    if tally.passed + tally.failed == 0 {
        bail!(
            "no test ran{}: a test command that runs nothing proves nothing",
            match args.test_args.first() {
                Some(filter) => format!(" (the filter `{filter}` matched no test)"),
                None => String::new(),
            }
        );
    }
    Ok(())
}

fn join_features(product: &str, multiprocess: bool) -> String {
    if multiprocess {
        format!("{product},c1pzo-functional/multiprocess")
    } else {
        product.to_string()
    }
}

/// The toolchain file of the selected HOST (the build machine's by
/// default), refusing hosts whose executables cannot run here.
fn host_toolchain(root: &Path, options: &Options) -> Result<ToolchainFile> {
    let toolchains = Toolchains::load(&root.join("toolchains"))?;
    let build = depends::toolchain::build_triple();
    let name = options.host.clone().unwrap_or_else(|| build.to_string());
    let file = toolchains.lookup(&name)?.clone();
    if file.triple != build && file.test.as_ref().and_then(|t| t.binfmt.as_ref()).is_none() {
        bail!(
            "HOST={name}: toolchains/{}.toml names no way to run its executables on this {build} \
             machine (no [test] binfmt entry), so its tests cannot run here; build it with \
             `cargo xtask build HOST={name}` and test it on a {} machine",
            file.triple,
            file.triple
        );
    }
    Ok(file)
}

/// `--test <name>` for each functional test file in tests/tests, without
/// those that need the multiprocess executables when they are not built.
fn functional_tests(root: &Path, multiprocess: bool) -> Result<Vec<String>> {
    let dir = root.join("tests/tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".rs").map(str::to_string))
        .filter(|name| multiprocess || !IPC_FUNCTIONAL_TESTS.contains(&name.as_str()))
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .flat_map(|name| ["--test".to_string(), name])
        .collect())
}

/// Runs `depends MULTIPROCESS=1` and returns a shell in `root` whose PATH
/// starts with the prefix's build-machine tools (for the benchmarks).
pub fn shell_with_depends(root: &Path) -> Result<xshell::Shell> {
    let report = depends_cmd::run_in(root, DependsArgs::with_options(&["MULTIPROCESS=1".into()]))?
        .context("depends did not install")?;
    let sh = xshell::Shell::new()?;
    sh.change_dir(root);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = vec![report.prefix.join("native/bin")];
    dirs.extend(std::env::split_paths(&path));
    sh.set_var("PATH", std::env::join_paths(dirs)?);
    Ok(sh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_bare_word_is_refused_with_the_way_to_filter() {
        let err = select(&words(&["wallet"])).err().unwrap().to_string();
        assert!(err.contains("`wallet` is not a KEY=VALUE option"), "{err}");
        assert!(err.contains("cargo xtask test -- wallet"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused_listing_the_valid_ones() {
        let err = format!(
            "{:#}",
            select(&words(&["HOTS=aarch64-linux-gnu"])).err().unwrap()
        );
        assert!(err.contains("HOTS"), "{err}");
        assert!(
            err.contains("HOST") && err.contains("MULTIPROCESS"),
            "{err}"
        );
    }

    #[test]
    fn multiprocess_is_on_unless_turned_off() {
        if std::env::var_os("MULTIPROCESS").is_some() {
            return;
        }
        assert!(select(&[]).unwrap().options.multiprocess);
        assert!(
            !select(&words(&["MULTIPROCESS=0"]))
                .unwrap()
                .options
                .multiprocess
        );
        let host = select(&words(&["HOST=aarch64-linux-gnu"])).unwrap();
        assert_eq!(host.options.host.as_deref(), Some("aarch64-linux-gnu"));
    }

    #[test]
    fn a_host_without_a_way_to_run_its_tests_is_refused() {
        // macOS executables have no emulator on Linux.
        let options = Options {
            host: Some("arm64-apple-darwin".into()),
            ..Options::default()
        };
        let err = host_toolchain(&crate::repo_root(), &options)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("HOST=arm64-apple-darwin"), "{err}");
        assert!(err.contains("no [test] binfmt entry"), "{err}");
    }
}
