//! `cargo xtask dist`: a release of the suite for one HOST, written into
//! `dist/<version>/` so that two builders with the same commit get the same
//! bytes: the binary archive, its `-debug` twin, the source archive,
//! `BUILDINFO`, the SBOM and `SHA256SUMS`. Every binary is held to the
//! release policy before anything is archived. `dist check <file>...` runs
//! that policy alone; `dist verify <SHA256SUMS>...` compares builders.
//!
//! The pieces: [`git`] (what the commit says: id, epoch, tracked files),
//! [`release_build`] (cargo with every path remapped and the epoch set),
//! [`stage`] (the archive's folder, debug info split off), [`smoke`] (the
//! archive unpacked and run), [`tool_record`] (the Debian packages of the
//! compilers, against the published releases'), [`reproduce`] (the
//! release made twice and compared), and the `release` crate, which
//! writes and checks everything.

mod git;
mod release_build;
pub(crate) mod reproduce;
mod smoke;
mod stage;
mod tool_record;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use depends::toolchain::{ToolchainFile, Toolchains};
use release::archive::{self, Tree};
use release::policy::{self, Report};
use release::record::{self, BuildInfo, DependsPackage, SourceFile};
use release::sums::{self, Sums};

use crate::depends_cmd::{self, DependsArgs};
use crate::{apt, rustup};

#[derive(clap::Args, Debug)]
pub struct DistArgs {
    /// KEY=VALUE options, as `depends` takes them (HOST, JOBS,
    /// SOURCES_PATH, BASE_CACHE, ...; MULTIPROCESS defaults to 1); or
    /// `check <file>...`, the release policy on any binaries; or
    /// `verify <SHA256SUMS> <SHA256SUMS>...`, builders' checksums compared.
    #[arg(value_name = "KEY=VALUE | check FILE... | verify SUMS...")]
    pub words: Vec<String>,
    /// Release a work tree with uncommitted changes (BUILDINFO then says
    /// `Dirty: yes`).
    #[arg(long)]
    pub allow_dirty: bool,
    /// The folder releases go in (default: dist/ in the repository).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Make the release twice, in two clones at different paths with
    /// different umask, time zone, locale and job count (the second with
    /// an empty depends build cache), and compare every file.
    #[arg(long)]
    pub check_reproducible: bool,
    /// Touch no network: crates from the folder `cargo xtask depends
    /// download` vendors them into (SOURCES_PATH/crates), depends sources
    /// already downloaded, nothing installed. A crate Cargo.lock needs that
    /// is not vendored stops the run before anything is built.
    #[arg(long)]
    pub offline: bool,
    /// Skip the smoke test of the unpacked archive (the second build of
    /// --check-reproducible: its archives are compared with the first's,
    /// which was tested).
    #[arg(long, hide = true)]
    pub no_smoke: bool,
    /// Release another checkout (tests).
    #[arg(long, hide = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn run(args: DistArgs) -> Result<()> {
    match args.words.first().map(String::as_str) {
        Some("check") => check(&args.words[1..]),
        Some("verify") => verify(&args.words[1..]),
        _ if args.check_reproducible => {
            let root = args.root.clone().unwrap_or_else(crate::repo_root);
            let timings = reproduce::run(&root, &args)?;
            eprintln!(
                "first build {:.0} s, second build {:.0} s",
                timings.first, timings.second
            );
            Ok(())
        }
        _ => {
            let root = args.root.clone().unwrap_or_else(crate::repo_root);
            let release = make(&root, &args)?;
            release.print();
            Ok(())
        }
    }
}

/// The executables a release ships, by folder: `bin/` for what users run,
/// `libexec/` for what only other executables start (Core's split).
const BIN: &[&str] = &["c1pzod", "c1pzo-cli", "c1pzo-wallet", "c1pzo"];
const LIBEXEC: &[&str] = &["c1pzo-node"];
/// Files from the repository at the top of every binary archive.
const DOCS: &[&str] = &["README.md", "COPYING"];

/// What one `dist` run made.
pub struct Release {
    pub dir: PathBuf,
    pub host: String,
    pub files: Vec<String>,
    pub reports: Vec<Report>,
}

impl Release {
    fn print(&self) {
        for report in &self.reports {
            eprintln!("{report}");
        }
        eprintln!("release for {} in {}:", self.host, self.dir.display());
        for name in &self.files {
            let size = std::fs::metadata(self.dir.join(name)).map_or(0, |m| m.len());
            eprintln!("  {name:50} {size:>12} bytes");
        }
    }
}

/// The options of a `dist` run, MULTIPROCESS on unless given.
fn dist_words(words: &[String]) -> Result<Vec<String>> {
    let mut words = words.to_vec();
    if let Some(word) = words.iter().find(|w| !w.contains('=')) {
        bail!("`{word}` is neither a KEY=VALUE option nor `check` or `verify`");
    }
    let given = |key: &str| {
        words.iter().any(|w| w.starts_with(&format!("{key}="))) || std::env::var_os(key).is_some()
    };
    if !given("MULTIPROCESS") {
        words.push("MULTIPROCESS=1".into());
    }
    Ok(words)
}

/// Makes the release for the HOST `args` name, in the repository at `root`.
pub fn make(root: &Path, args: &DistArgs) -> Result<Release> {
    let words = dist_words(&args.words)?;
    let options = depends::Options::parse(&words, &|key| std::env::var(key).ok())
        .context("cargo xtask dist takes the options `cargo xtask depends` takes")?;
    let source = git::SourceFacts::read(root)?;
    if !source.changed.is_empty() && !args.allow_dirty {
        let shown: Vec<&str> = source.changed.iter().take(5).map(String::as_str).collect();
        bail!(
            "{}: the work tree has uncommitted changes to tracked files ({}{}); a release is \
             made from a commit: commit them, or pass --allow-dirty (BUILDINFO then says \
             `Dirty: yes`)",
            root.display(),
            shown.join(", "),
            if source.changed.len() > 5 {
                ", ..."
            } else {
                ""
            }
        );
    }
    let toolchains = Toolchains::load(&root.join("toolchains"))?;
    let host_name = options
        .host
        .clone()
        .unwrap_or_else(|| depends::toolchain::build_triple().to_string());
    let host = toolchains.lookup(&host_name)?.clone();
    let version = workspace_version(root)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("dist"))
        .join(&version);
    let work = dir.join(".work").join(&host.triple);
    start_clean(&dir, &work)?;

    let vendored = if args.offline {
        Some(vendored_crates(root, &options)?)
    } else {
        None
    };
    let packages = apt::ci_packages()?;
    if args.offline {
        apt::require(&packages)?;
        rustup::require_target(&host.rust_target)?;
    } else {
        apt::ensure(&packages)?;
        rustup::ensure_target(&host.rust_target)?;
    }
    let mut depends_args = DependsArgs::with_options(&words);
    depends_args.offline = args.offline;
    let depends =
        depends_cmd::run_in(root, depends_args)?.context("depends did not install a prefix")?;
    if host.sysroot.is_some() && depends.manifest.options.get("NO_SYSROOT") == Some(&true) {
        bail!(
            "HOST={}: NO_SYSROOT=1 builds against this machine's glibc, which a release must not \
             need; make the release without it",
            host.triple
        );
    }

    let debian_packages = tool_record::installed(&host)?;
    for warning in builder_warnings(root, &host.triple, &debian_packages)? {
        eprintln!("warning: {warning}");
    }
    let built = release_build::build(root, &host, &depends, source.epoch, vendored.as_deref())?;
    let top = format!("c1pzo-{version}");
    let layout = stage::Layout {
        bin: BIN,
        libexec: LIBEXEC,
        docs: DOCS,
    };
    let staged = stage::stage(root, &host, &built, &work.join(&top), &layout, source.epoch)?;

    let reports = hold_to_policy(&staged.binaries)?;

    let names = ArchiveNames::new(&version, &host);
    let mut staged_tree = Tree::new();
    staged_tree.add_dir_contents(&work.join(&top), &top)?;
    let (main, debug) = split_debug(&staged_tree)?;
    let write = |tree: &Tree, name: &str| -> Result<()> {
        let out = dir.join(name);
        if host.os == "mingw32" {
            archive::write_zip(tree, source.epoch, &out)?;
        } else {
            archive::write_tar_gz(tree, source.epoch, &out)?;
        }
        Ok(())
    };
    write(&main, &names.binaries)?;
    write(&debug, &names.debug)?;
    if !args.no_smoke {
        smoke::run(
            root,
            &host,
            &dir.join(&names.binaries),
            &top,
            &work,
            &words,
            vendored.as_deref(),
        )?;
    }

    let mut source_tree = Tree::new();
    for file in &source.files {
        source_tree.add_file(
            &format!("{top}/{}", file.path),
            &root.join(&file.path),
            file.executable,
        )?;
    }
    archive::write_tar_gz(&source_tree, source.epoch, &dir.join(&names.source))?;

    let packages = depends_packages(root, &depends.manifest, &host.arch)?;
    let info = BuildInfo {
        version: version.clone(),
        commit: source.commit.clone(),
        dirty: !source.changed.is_empty(),
        source_date_epoch: source.epoch,
        host: host.triple.clone(),
        rust_target: host.rust_target.clone(),
        profile: release_build::PROFILE.to_string(),
        rustc: release_build::tool_output("rustc", &["-vV"])?,
        cargo: release_build::tool_output("cargo", &["-V"])?,
        tools: release_build::tool_versions(&host)?,
        debian_packages,
        depends_final_build_id: depends.final_build_id.clone(),
        depends_packages: packages.clone(),
    };
    write_text(&dir.join(&names.buildinfo), &info.render())?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let sbom = record::sbom(&version, &host.triple, source.epoch, &lock, &packages)?;
    write_text(&dir.join(&names.sbom), &sbom)?;

    // Every file of the version's folder, this host's and those of hosts
    // released before into it.
    let mut covered: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let plain = entry.file_type().ok()?.is_file()
                && !name.starts_with('.')
                && name != "SHA256SUMS"
                && !name.ends_with(".partial");
            plain.then_some(name)
        })
        .collect();
    covered.sort();
    let sums = Sums::of_files(&dir, covered.iter().map(String::as_str))?;
    write_text(&dir.join("SHA256SUMS"), &sums.render())?;
    std::fs::remove_dir_all(dir.join(".work")).ok();
    Ok(Release {
        dir,
        host: host.triple.clone(),
        files: names.all(),
        reports,
    })
}

/// Clears what a run killed before it finished left behind (its work
/// folder and `.partial` files), and the version folder's SHA256SUMS,
/// which no longer covers what this run replaces; it is written again only
/// once every check has passed, so a failed run leaves none.
fn start_clean(dir: &Path, work: &Path) -> Result<()> {
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    remove_if_present(&dir.join("SHA256SUMS"))?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "partial") {
            remove_if_present(&path)?;
        }
    }
    Ok(())
}

/// The folder of vendored crates an `--offline` release builds from,
/// once it is known to hold every crate of Cargo.lock as the lock pins it.
fn vendored_crates(root: &Path, options: &depends::Options) -> Result<PathBuf> {
    let layout = depends::Layout::for_repository(root, options);
    let folder = release::vendored::folder(&layout.sources);
    let lock_path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    let crates = release::lockfile::locked_crates(&lock)?;
    let gaps = release::vendored::gaps(&crates, &folder);
    if gaps.is_empty() {
        return Ok(folder);
    }
    const SHOWN: usize = 10;
    let mut lines: Vec<String> = gaps
        .iter()
        .take(SHOWN)
        .map(|gap| format!("  {gap}"))
        .collect();
    if gaps.len() > SHOWN {
        lines.push(format!("  ... and {} more", gaps.len() - SHOWN));
    }
    bail!(
        "--offline: {} of the {} crates Cargo.lock needs are not vendored in {} as it pins them:\n{}\n\
         vendor them where there is network, with the same SOURCES_PATH: cargo xtask depends download",
        gaps.len(),
        crates.len(),
        folder.display(),
        lines.join("\n")
    )
}

/// Where this builder's compilers differ from the published releases':
/// the Debian packages against `ci/release-tools.toml`, rustc against
/// `rust-toolchain.toml`.
fn builder_warnings(
    root: &Path,
    host: &str,
    packages: &[tool_record::Package],
) -> Result<Vec<String>> {
    let read = |name: &str| {
        let path = root.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let mut warnings = tool_record::differences(&read(tool_record::RECORD)?, host, packages)?;
    let rustc = release_build::tool_output("rustc", &["-V"])?;
    warnings.extend(tool_record::rustc_difference(
        &read("rust-toolchain.toml")?,
        &rustc,
    )?);
    Ok(warnings)
}

/// Every binary held to the release policy; fails naming each binary and
/// check that fails, before anything is archived.
fn hold_to_policy(binaries: &[PathBuf]) -> Result<Vec<Report>> {
    let mut reports = Vec::new();
    for binary in binaries {
        reports.push(policy::check_file(binary)?);
    }
    let failed: Vec<&Report> = reports.iter().filter(|r| !r.ok()).collect();
    if !failed.is_empty() {
        let text: Vec<String> = failed.iter().map(|r| r.to_string()).collect();
        bail!(
            "{} of {} binaries fail the release policy; nothing was archived and no SHA256SUMS \
             written:\n{}",
            failed.len(),
            reports.len(),
            text.join("\n")
        );
    }
    Ok(reports)
}

/// The file names of one host's release.
struct ArchiveNames {
    binaries: String,
    debug: String,
    source: String,
    buildinfo: String,
    sbom: String,
}

impl ArchiveNames {
    fn new(version: &str, host: &ToolchainFile) -> Self {
        // Core's names: the host triple, except `win64` for Windows.
        let (label, extension) = if host.os == "mingw32" {
            ("win64".to_string(), "zip")
        } else {
            (host.triple.clone(), "tar.gz")
        };
        ArchiveNames {
            binaries: format!("c1pzo-{version}-{label}.{extension}"),
            debug: format!("c1pzo-{version}-{label}-debug.{extension}"),
            source: format!("c1pzo-{version}.tar.gz"),
            buildinfo: format!("c1pzo-{version}-{label}.buildinfo"),
            sbom: format!("c1pzo-{version}-{label}.cdx.json"),
        }
    }

    fn all(&self) -> Vec<String> {
        vec![
            self.binaries.clone(),
            self.debug.clone(),
            self.source.clone(),
            self.buildinfo.clone(),
            self.sbom.clone(),
            "SHA256SUMS".to_string(),
        ]
    }
}

/// `tree` split in two: everything but the `.dbg` files, and those alone
/// (with the folders above them), the `-debug` archive.
fn split_debug(tree: &Tree) -> Result<(Tree, Tree)> {
    let (mut main, mut debug) = (Tree::new(), Tree::new());
    for (path, entry) in tree.entries() {
        match entry {
            archive::Entry::Dir => main.add_dir(path)?,
            archive::Entry::File { source, executable } if path.ends_with(".dbg") => {
                debug.add_file(path, source, *executable)?
            }
            archive::Entry::File { source, executable } => {
                main.add_file(path, source, *executable)?
            }
        }
    }
    Ok((main, debug))
}

/// The version every crate of the suite carries (crates/c1pzo's).
fn workspace_version(root: &Path) -> Result<String> {
    let path = root.join("crates/c1pzo/Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: toml::Value =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    manifest
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .with_context(|| format!("{}: no [package] version", path.display()))
}

/// Each installed depends package with the source files its recipe pins
/// for the host's `arch`.
fn depends_packages(
    root: &Path,
    manifest: &depends::install::Manifest,
    arch: &str,
) -> Result<Vec<DependsPackage>> {
    manifest
        .packages
        .iter()
        .map(|package| {
            let path = root.join("recipes").join(format!("{}.toml", package.name));
            let recipe = depends::recipe::Recipe::from_file(&path)?;
            let sources = recipe
                .sources_for(arch)
                .into_iter()
                .map(|source| SourceFile {
                    file_name: source.file_name,
                    sha256: source.sha256,
                })
                .collect();
            Ok(DependsPackage {
                name: package.name.clone(),
                version: package.version.clone(),
                sources,
                build_id: package.build_id.clone(),
            })
        })
        .collect()
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Writes `text` to `path` through a `.partial` file and a rename.
fn write_text(path: &Path, text: &str) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}

/// `dist check <file>...`: the release policy on each file; fails if any
/// file fails.
fn check(files: &[String]) -> Result<()> {
    if files.is_empty() {
        bail!("dist check needs the binaries to check: cargo xtask dist check <file>...");
    }
    let mut failed = 0;
    for file in files {
        let report = policy::check_file(Path::new(file))?;
        println!("{report}");
        if !report.ok() {
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files fail the release policy", files.len());
    }
    Ok(())
}

/// `dist verify <SHA256SUMS> <SHA256SUMS>...`: builders' checksum files
/// compared file by file; fails unless every file agrees.
fn verify(files: &[String]) -> Result<()> {
    if files.len() < 2 {
        bail!(
            "dist verify compares builders: give two or more SHA256SUMS files \
             (cargo xtask dist verify alice/SHA256SUMS bob/SHA256SUMS)"
        );
    }
    let builders = files
        .iter()
        .map(|file| Ok((file.clone(), Sums::read(Path::new(file))?)))
        .collect::<Result<Vec<_>>>()?;
    let comparison = sums::compare(&builders);
    println!("{comparison}");
    if !comparison.all_agree() {
        let differing: Vec<&str> = comparison.differing().collect();
        bail!("the builders disagree on {}", differing.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_that_fails_the_policy_stops_the_release_naming_file_and_check() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("hello.c");
        std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
        let binary = dir.path().join("execstack");
        let status = std::process::Command::new("gcc")
            .arg(&source)
            .args(["-fPIE", "-pie", "-Wl,-z,relro,-z,now,-z,execstack", "-o"])
            .arg(&binary)
            .status()
            .unwrap();
        assert!(status.success());
        let err = hold_to_policy(std::slice::from_ref(&binary))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "1 of 1 binaries fail the release policy; nothing was archived and no \
                 SHA256SUMS written"
            ),
            "{err}"
        );
        assert!(err.contains(&format!("{}: NX", binary.display())), "{err}");
    }
}
