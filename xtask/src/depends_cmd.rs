//! `cargo xtask depends [KEY=VALUE ...] [flags] [ACTION]`, make-style.

use std::path::Path;

use anyhow::{bail, Context, Result};
use depends::build_id::SHORT_LEN;
use depends::maintenance;
use depends::plan::{PlanAction, PlanEntry};
use depends::progress::{self, QuietReporter, Reporter};
use depends::report::{PackageStatus, RunReport};
use depends::{Engine, Layout, Options};

use crate::apt;

#[derive(clap::Args, Debug)]
pub struct DependsArgs {
    /// KEY=VALUE options (HOST, MULTIPROCESS, NO_QT, NO_WALLET, NO_ZMQ, NO_SYSROOT, DEBUG,
    /// LTO, JOBS, V, LOG, SOURCES_PATH, BASE_CACHE, BASE_CACHE_URL,
    /// BASE_CACHE_PUSH, FALLBACK_DOWNLOAD_PATH, SDK_PATH, HOST_ID_SALT,
    /// BUILD_ID_SALT, CC, CXX, AR, RANLIB, STRIP, CFLAGS, CXXFLAGS, CPPFLAGS,
    /// LDFLAGS; each also read from the environment; BASE_CACHE_PUSH_TOKEN,
    /// BASE_CACHE_USER and BASE_CACHE_PASSWORD from the environment only)
    /// and at most one action: download, plan, print VAR, clean, clean-all,
    /// gc, repin PACKAGE.
    #[arg(value_name = "KEY=VALUE|ACTION")]
    pub words: Vec<String>,
    /// Show what would be built and why, build nothing (same as `plan`).
    #[arg(long)]
    pub dry_run: bool,
    /// Never download: fail at once, listing missing sources.
    #[arg(long)]
    pub offline: bool,
    /// Print a machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
    /// Parallel jobs (the same as JOBS=N).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// With `repin`: rewrite the recipe's pins in place (else print them).
    #[arg(long)]
    pub write: bool,
    /// Builds kept per package by `gc`.
    #[arg(long, default_value_t = 3)]
    pub keep: usize,
    /// Use the recipes/, toolchains/ and depends/ of another tree (tests).
    #[arg(long, hide = true, value_name = "DIR")]
    pub root: Option<std::path::PathBuf>,
}

impl DependsArgs {
    /// A plain install run with these `KEY=VALUE` options, as `build`,
    /// `test` and `dist` run depends before cargo.
    pub fn with_options(words: &[String]) -> DependsArgs {
        DependsArgs {
            words: words.to_vec(),
            dry_run: false,
            offline: false,
            json: false,
            jobs: None,
            write: false,
            keep: 3,
            root: None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Action {
    Install,
    Download,
    Plan,
    Print(String),
    Clean,
    CleanAll,
    Gc,
    Repin(String),
}

const ACTIONS: &str = "download, plan, print VAR, clean, clean-all, gc, repin PACKAGE";

fn split_words(words: &[String]) -> Result<(Vec<String>, Action)> {
    let mut options = Vec::new();
    let mut action = None;
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if word.contains('=') {
            options.push(word.clone());
            continue;
        }
        let next = match word.as_str() {
            "download" => Action::Download,
            "plan" => Action::Plan,
            "clean" => Action::Clean,
            "clean-all" => Action::CleanAll,
            "gc" => Action::Gc,
            "repin" => Action::Repin(
                iter.next()
                    .context("`repin` needs a package, e.g. repin glibc_sysroot")?
                    .clone(),
            ),
            "print" => Action::Print(
                iter.next()
                    .context("`print` needs a variable name, e.g. print final_build_id")?
                    .clone(),
            ),
            other => match other.strip_prefix("print-") {
                Some(var) => Action::Print(var.to_string()),
                None => {
                    bail!("unknown action `{other}`; actions: {ACTIONS} (options are KEY=VALUE)")
                }
            },
        };
        if action.replace(next).is_some() {
            bail!("give at most one action ({ACTIONS})");
        }
    }
    Ok((options, action.unwrap_or(Action::Install)))
}

fn options_from(args: &DependsArgs, words: &[String]) -> Result<Options> {
    let mut options = Options::parse(words, &|key| std::env::var(key).ok())?;
    options.offline = args.offline;
    if let Some(jobs) = args.jobs {
        if jobs == 0 {
            bail!("-j needs a positive number");
        }
        options.jobs = jobs;
    }
    Ok(options)
}

/// Plans the run; when only Debian packages are missing and we may install
/// them, installs them and plans again.
fn engine(layout: &Layout, options: &Options) -> Result<Engine> {
    match Engine::new(layout.clone(), options.clone()) {
        Err(err) if !err.missing_debian_packages().is_empty() && apt::can_install() => {
            eprintln!("{err}");
            apt::install(&err.missing_debian_packages())?;
            Ok(Engine::new(layout.clone(), options.clone())?)
        }
        other => Ok(other?),
    }
}

/// Runs the build, installing missing builder tools (cmake, ...) once.
/// After an install the run is planned again: the tools' versions are
/// part of every build id, and an id computed while cmake was missing
/// would name a build that did not happen ("cmake: not installed") and
/// differ from the next command's.
fn run_engine(engine: Engine, reporter: &dyn Reporter) -> Result<(Engine, RunReport)> {
    run_engine_with(engine, reporter, &|packages| {
        if !apt::can_install() {
            return Ok(false);
        }
        apt::install(packages)?;
        Ok(true)
    })
}

/// [`run_engine`] with the installer given: it returns whether it
/// installed `packages`.
fn run_engine_with(
    engine: Engine,
    reporter: &dyn Reporter,
    install: &dyn Fn(&[String]) -> Result<bool>,
) -> Result<(Engine, RunReport)> {
    match engine.run(reporter) {
        Err(err) if !err.missing_debian_packages().is_empty() => {
            if !install(&err.missing_debian_packages())? {
                return Err(err.into());
            }
            eprintln!("{err}");
            let replanned = Engine::new(engine.layout.clone(), engine.options.clone())?;
            let report = replanned.run(reporter)?;
            Ok((replanned, report))
        }
        Err(err) => Err(err.into()),
        Ok(report) => Ok((engine, report)),
    }
}

pub fn run(args: DependsArgs) -> Result<()> {
    let root = args.root.clone().unwrap_or_else(crate::repo_root);
    let json = args.json;
    let result = run_in(&root, args).map(|_| ());
    if let (Err(err), true) = (&result, json) {
        // Machine readers get the failure on stdout too, not only stderr.
        let report = serde_json::json!({ "error": format!("{err:#}") });
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    result
}

/// Runs depends for the repository at `root`; returns the report of an
/// install run.
pub fn run_in(root: &Path, args: DependsArgs) -> Result<Option<RunReport>> {
    let (words, mut action) = split_words(&args.words)?;
    if args.dry_run {
        action = Action::Plan;
    }
    let options = options_from(&args, &words)?;
    let layout = Layout::for_repository(root, &options);
    match action {
        Action::Clean | Action::CleanAll => {
            for path in maintenance::clean(&layout, action == Action::CleanAll)? {
                eprintln!("removed {}", path.display());
            }
            return Ok(None);
        }
        // Needs no toolchain: the recipe, the mirror and gpgv.
        Action::Repin(package) => {
            repin(&layout, &package, args.write)?;
            return Ok(None);
        }
        _ => {}
    }
    let engine = engine(&layout, &options)?;
    let quiet = QuietReporter;
    let terminal = progress::for_terminal();
    let reporter: &dyn Reporter = if args.json { &quiet } else { terminal.as_ref() };
    match action {
        Action::Print(var) => println!("{}", engine.print(&var)?),
        Action::Plan => {
            let plan = engine.plan()?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print_plan(&engine, &plan);
            }
        }
        Action::Download => {
            let paths = engine.download(reporter)?;
            for path in &paths {
                eprintln!("source ready: {}", path.display());
            }
            // The crate graph is this repository's, whatever tree --root
            // names; vendored beside the depends sources, for
            // `cargo xtask dist --offline`.
            let vendor = release::vendored::folder(&layout.sources);
            eprintln!("vendoring the crate graph into {}", vendor.display());
            let sh = xshell::Shell::new()?;
            sh.change_dir(crate::repo_root());
            xshell::cmd!(
                sh,
                "cargo vendor --locked --versioned-dirs --no-delete --quiet {vendor}"
            )
            .ignore_stdout()
            .run()?;
        }
        Action::Gc => {
            for path in engine.gc(args.keep)? {
                eprintln!("removed {}", path.display());
            }
        }
        Action::Install => {
            let (_, report) = run_engine(engine, reporter)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_summary(&report, root);
            }
            return Ok(Some(report));
        }
        Action::Clean | Action::CleanAll | Action::Repin(_) => unreachable!("handled above"),
    }
    Ok(None)
}

/// `repin PACKAGE`: the recipe's .deb pins as the suite's signed index has
/// them now; printed, or written into the recipe with --write.
fn repin(layout: &Layout, package: &str, write: bool) -> Result<()> {
    let path = layout.recipes.join(format!("{package}.toml"));
    let recipe = depends::recipe::Recipe::from_file(&path)?;
    let mirrors = depends::mirror::MirrorResolver::from_environment();
    let work = layout.work().join("repin");
    let plan = depends::debian::repin(&recipe, &mirrors, &work)?;
    print!("{}", depends::debian::render(&plan));
    if let Some(gone) = plan.iter().find(|r| r.new.is_none()) {
        bail!(
            "{} ({}) is not in the {} index any more: the recipe needs another package or suite",
            gone.deb.package,
            gone.deb.arch,
            recipe.debian_suite.as_deref().unwrap_or("?")
        );
    }
    if !plan.iter().any(|r| r.changed()) {
        eprintln!("{}: every pin is current", path.display());
    } else if write {
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, depends::debian::apply(&text, &plan))?;
        // What was written must still be a valid recipe.
        depends::recipe::Recipe::from_file(&path)?;
        eprintln!(
            "{} re-pinned; `cargo xtask depends` fetches and checks the new files, and rebuilds what was built against them",
            path.display()
        );
    } else {
        eprintln!("run again with --write to apply to {}", path.display());
    }
    Ok(())
}

fn print_plan(engine: &Engine, plan: &[PlanEntry]) {
    println!(
        "HOST={} final_build_id={}",
        engine.host.triple,
        engine.final_build_id()
    );
    let width = plan.iter().map(|e| e.package.len()).max().unwrap_or(0);
    for entry in plan {
        let source = if entry.source_present {
            "source present"
        } else {
            "source to download"
        };
        let note = if entry.action == PlanAction::Cached {
            ""
        } else {
            source
        };
        println!(
            "{:width$}  {:8}  {}  {:7}  {note}",
            entry.package,
            entry.version,
            &entry.build_id[..SHORT_LEN],
            entry.action.as_str()
        );
        for reason in &entry.reasons {
            println!("{:width$}    because {reason}", "");
        }
    }
}

fn print_summary(report: &RunReport, root: &Path) {
    let width = report
        .packages
        .iter()
        .map(|p| p.package.len())
        .max()
        .unwrap_or(0);
    for p in &report.packages {
        let time = if matches!(p.status, PackageStatus::Built | PackageStatus::Downloaded) {
            format!("{:.1}s", p.seconds)
        } else {
            String::new()
        };
        eprintln!(
            "  {:width$}  {:8}  {:10}  {time}",
            p.package,
            p.version,
            p.status.as_str()
        );
    }
    let prefix = report.prefix.strip_prefix(root).unwrap_or(&report.prefix);
    let state = if report.prefix_updated {
        "installed"
    } else {
        "up to date"
    };
    eprintln!(
        "{} {state} in {:.2}s (final_build_id {})",
        prefix.display(),
        report.seconds,
        report.final_build_id
    );
    eprintln!(
        "build against it with: cargo build --config {}/{}",
        prefix.display(),
        depends::install::CARGO_CONFIG_FILE
    );
}

/// `cargo xtask build`: depends, then the workspace against the prefix.
pub fn build(args: DependsArgs) -> Result<()> {
    let root = crate::repo_root();
    let report = run_in(&root, args)?.context("`cargo xtask build` takes options, not actions")?;
    let config = report.prefix.join(depends::install::CARGO_CONFIG_FILE);
    let toolchains = depends::toolchain::Toolchains::load(&root.join("toolchains"))?;
    crate::rustup::ensure_target(&toolchains.lookup(&report.host)?.rust_target)?;
    let sh = xshell::Shell::new()?;
    sh.change_dir(&root);
    // A prefix made with MULTIPROCESS=1 (its manifest says so) builds the
    // multiprocess executables too. The build-machine crates (the engine,
    // the functional suite) are left out, exactly as `xtask test` leaves
    // them out of its build step, so that step finds nothing to do.
    let options = prefix_options(&report.prefix)?;
    let features = product_features(options.multiprocess, options.gui);
    let mut extra = Vec::new();
    if !features.is_empty() {
        extra.extend(["--features".to_string(), features]);
    }
    if !options.gui {
        extra.extend(["--exclude".to_string(), "c1pzo-gui".to_string()]);
    }
    xshell::cmd!(
        sh,
        "cargo build --workspace --exclude xtask --exclude c1pzo-depends --exclude c1pzo-functional --exclude c1pzo-release --config {config} {extra...}"
    )
    .run()?;
    Ok(())
}

/// The product's cargo features for a build: the multiprocess executables
/// (MULTIPROCESS=1) and the GUI ones (unless NO_QT=1), comma-separated.
pub fn product_features(multiprocess: bool, gui: bool) -> String {
    let mut features = Vec::new();
    if multiprocess {
        features.push("c1pzo/multiprocess");
    }
    if gui {
        features.push("c1pzo/gui");
    }
    features.join(",")
}

/// What a prefix's manifest says about the executables to build.
pub struct PrefixOptions {
    pub multiprocess: bool,
    pub gui: bool,
}

pub fn prefix_options(prefix: &std::path::Path) -> Result<PrefixOptions> {
    let path = prefix.join("manifest.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let flag = |key: &str| manifest["options"][key].as_bool().unwrap_or(false);
    Ok(PrefixOptions {
        multiprocess: flag("MULTIPROCESS"),
        gui: !flag("NO_QT"),
    })
}

/// Whether the prefix's manifest records `MULTIPROCESS` on.
pub fn multiprocess_prefix(prefix: &std::path::Path) -> Result<bool> {
    Ok(prefix_options(prefix)?.multiprocess)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_split_into_options_and_one_action() {
        let (opts, action) = split_words(&words(&["MULTIPROCESS=1", "print", "HOST"])).unwrap();
        assert_eq!(opts, ["MULTIPROCESS=1"]);
        assert_eq!(action, Action::Print("HOST".into()));
        assert_eq!(
            split_words(&words(&["print-final_build_id"])).unwrap().1,
            Action::Print("final_build_id".into())
        );
        assert_eq!(split_words(&words(&[])).unwrap().1, Action::Install);
        let err = split_words(&words(&["biuld"])).unwrap_err().to_string();
        assert!(err.contains("unknown action `biuld`"), "{err}");
        assert!(split_words(&words(&["plan", "gc"])).is_err());
    }
}
