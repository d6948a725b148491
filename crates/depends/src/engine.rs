//! A depends run: options and files in, a planned package graph out, then
//! build what is missing and install the prefix. `xtask` is a thin CLI over
//! this.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::build_id::{hash_entries, Preimage, ENGINE_VERSION, SHORT_LEN};
use crate::builder::BuildSpec;
use crate::cache::{BuiltCache, CachedBuild, Lookup};
use crate::fetch::{FetchError, Fetcher, RetryPolicy};
use crate::fsutil::FileLock;
use crate::graph::RecipeBook;
use crate::install::{self, InstalledPackage, Manifest};
use crate::mirror::MirrorResolver;
use crate::options::Options;
use crate::pipeline::{self, BuildError, PackageBuild, PipelineContext};
use crate::plan::{plan_ids, Planned};
use crate::probe::ProbeCache;
use crate::progress::{FetchProgress, Reporter, Stage};
use crate::recipe::Target;
use crate::remote_cache::RemoteCache;
use crate::report::{PackageReport, PackageStatus, RunReport};
use crate::scheduler::{self, Outcome};
use crate::toolchain::{
    self, builder_tool, MissingTool, Role, Toolchain, ToolchainError, Toolchains,
};
use crate::Error;

/// Where the engine reads and writes.
#[derive(Debug, Clone)]
pub struct Layout {
    pub recipes: PathBuf,
    pub toolchains: PathBuf,
    /// `depends/`: prefixes, `work/`, the run lock.
    pub depends: PathBuf,
    pub sources: PathBuf,
    pub base_cache: PathBuf,
}

impl Layout {
    /// The repository's layout, with SOURCES_PATH and BASE_CACHE from the
    /// options or, by default, under the user's cache folder so that every
    /// clone (and CI rerun) shares them.
    pub fn for_repository(root: &Path, options: &Options) -> Layout {
        let cache_home = default_cache_home();
        Layout {
            recipes: root.join("recipes"),
            toolchains: root.join("toolchains"),
            depends: root.join("depends"),
            sources: options
                .sources_path
                .clone()
                .unwrap_or_else(|| cache_home.join("sources")),
            base_cache: options
                .base_cache
                .clone()
                .unwrap_or_else(|| cache_home.join("built")),
        }
    }

    pub fn work(&self) -> PathBuf {
        self.depends.join("work")
    }
}

/// `$C1PZO_CACHE_HOME`, else `$XDG_CACHE_HOME/c1pzo`, else `~/.cache/c1pzo`.
pub fn default_cache_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("C1PZO_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("c1pzo");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/c1pzo")
}

/// A planned run, ready to show, download or build.
pub struct Engine {
    pub options: Options,
    pub layout: Layout,
    pub host: Toolchain,
    pub native: Toolchain,
    pub build_triple: String,
    pub packages: Vec<Planned>,
    /// Download retries and timeouts (tests shorten them).
    pub retry: RetryPolicy,
    /// Where `mirror://` URLs point.
    pub mirrors: MirrorResolver,
    pub(crate) cache: BuiltCache,
}

impl Engine {
    /// Loads recipes and toolchains, resolves the tools (reporting every
    /// missing one at once) and computes every package's build id.
    pub fn new(layout: Layout, options: Options) -> Result<Engine, Error> {
        let book = RecipeBook::load(&layout.recipes)?;
        let toolchains = Toolchains::load(&layout.toolchains)?;
        let build_triple = toolchain::build_triple().to_string();
        let host_name = options.host.clone().unwrap_or_else(|| build_triple.clone());
        let host_file = toolchains.lookup(&host_name)?.clone();
        let build_file = toolchains.lookup(&build_triple)?.clone();

        let mut probes = ProbeCache::load(&layout.base_cache.join(".tool-probes.json"));
        let native = Toolchain::resolve(&build_file, Role::Native, &options, &mut probes);
        let host = Toolchain::resolve(&host_file, Role::Host, &options, &mut probes);
        // Builder programs shape outputs too (cmake's generated rules,
        // make's behaviour): their versions go into every id that uses them.
        let builder_versions: BTreeMap<String, String> = ["make", "cmake", "patch"]
            .into_iter()
            .map(|tool| {
                let version = probes.version(&[tool.to_string()]);
                (
                    tool.to_string(),
                    version.unwrap_or_else(|| "not installed".into()),
                )
            })
            .collect();
        let _ = probes.save();
        let (native, host) = match (native, host) {
            (Ok(n), Ok(h)) => (n, h),
            (Err(ToolchainError::MissingTools(mut a)), Err(ToolchainError::MissingTools(b))) => {
                for tool in b {
                    if !a.contains(&tool) {
                        a.push(tool);
                    }
                }
                return Err(ToolchainError::MissingTools(a).into());
            }
            (Err(e), _) | (_, Err(e)) => return Err(e.into()),
        };

        let host_target = Target {
            triple: &host.triple,
            os: &host.os,
            arch: &host.arch,
            debug: options.debug,
        };
        let build_target = Target {
            triple: &native.triple,
            os: &native.os,
            arch: &native.arch,
            debug: false,
        };
        let mut selection = book.select(&options, host_target, build_target);
        if shares_natives(&options, &host, &native) {
            selection = crate::graph::share_natives(selection);
        }
        // A HOST whose toolchain names a libc sysroot (toolchains/*.toml
        // [sysroot], unless NO_SYSROOT=1): that package comes first, and
        // every host package builds against it. Selected even when nothing
        // else is: the Rust build links against it.
        if let Some(sysroot) = &host.sysroot {
            selection = crate::graph::with_libc_sysroot(
                &book,
                selection,
                &sysroot.settings.package,
                host_target,
                &layout.recipes,
            )?;
        }
        let packages = plan_ids(selection, &options, &host, &native, &builder_versions)?;
        let cache = BuiltCache::new(layout.base_cache.clone());
        Ok(Engine {
            options,
            layout,
            host,
            native,
            build_triple,
            packages,
            retry: RetryPolicy::default(),
            mirrors: MirrorResolver::from_environment(),
            cache,
        })
    }

    /// Whether building `p` needs its source (a native taken from a host
    /// package's build does not).
    fn needs_source(p: &Planned) -> bool {
        p.selected.derived_from.is_none()
    }

    pub fn prefix(&self) -> PathBuf {
        self.layout.depends.join(&self.host.triple)
    }

    /// Identifies the whole selection: every package id plus the engine.
    /// Suitable as a CI cache key for BASE_CACHE.
    pub fn final_build_id(&self) -> String {
        let mut entries = Preimage::new();
        entries.insert("engine".into(), ENGINE_VERSION.into());
        entries.insert("host".into(), self.host.triple.clone());
        for p in &self.packages {
            entries.insert(format!("package {}", p.name()), p.build_id.clone());
        }
        hash_entries(&entries)[..SHORT_LEN].to_string()
    }

    pub(crate) fn fetcher(&self) -> Result<Fetcher, Error> {
        Ok(Fetcher::new(
            self.layout.sources.clone(),
            self.options.fallback_download_path.clone(),
            self.mirrors.clone(),
            self.retry.clone(),
        )?)
    }

    /// Fetches every source the selection needs (for an offline build
    /// later), in parallel.
    pub fn download(&self, reporter: &dyn Reporter) -> Result<Vec<PathBuf>, Error> {
        if self.options.offline {
            return Err(Error::Refused(
                "`download` fetches from the network; it cannot run with --offline".into(),
            ));
        }
        let fetcher = self.fetcher()?;
        let observer = FetchProgress(reporter);
        let results: Vec<Result<Vec<PathBuf>, FetchError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .packages
                .iter()
                .map(|p| {
                    let (fetcher, observer) = (&fetcher, &observer);
                    scope.spawn(move || {
                        reporter.stage(p.name(), Stage::Fetch);
                        let result: Result<Vec<PathBuf>, FetchError> = p
                            .source_specs()
                            .iter()
                            .map(|spec| fetcher.fetch(spec, observer))
                            .collect();
                        if result.is_ok() {
                            reporter.finished(p.name(), "source ready");
                        }
                        result
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(FetchError::Io {
                            path: PathBuf::new(),
                            source: std::io::Error::other("download thread panicked"),
                        })
                    })
                })
                .collect()
        });
        let mut paths = Vec::new();
        for result in results {
            paths.extend(result?);
        }
        Ok(paths)
    }

    /// Builds what is missing and installs the prefix.
    pub fn run(&self, reporter: &dyn Reporter) -> Result<RunReport, Error> {
        let started = Instant::now();
        let _lock = FileLock::acquire(&self.layout.depends.join(".lock"), &|| {
            reporter.note(
                "depends",
                "waiting for another depends run to finish (it holds depends/.lock)",
            )
        })
        .map_err(|e| Error::io(&self.layout.depends, e))?;
        let prefix = self.prefix();

        // Fast path: the installed prefix records exactly these builds and
        // their tarballs have not changed since. Nothing is hashed or read.
        if let Some(report) = self.up_to_date_report(&prefix, started) {
            return Ok(report);
        }

        let mut done: Vec<Option<CachedBuild>> = Vec::with_capacity(self.packages.len());
        for p in &self.packages {
            let r = &p.selected.recipe;
            match self
                .cache
                .lookup(&p.cache_triple, &r.name, &r.version, &p.build_id)?
            {
                Lookup::Hit(cached) => done.push(Some(cached)),
                Lookup::Missing => done.push(None),
                Lookup::Corrupt {
                    tarball,
                    expected,
                    actual,
                } => {
                    reporter.note(
                        p.name(),
                        &format!(
                            "cached tarball {} no longer matches its .hash (expected {expected}, found {actual}): rebuilding",
                            tarball.display()
                        ),
                    );
                    done.push(None);
                }
            }
        }
        let mut reports: BTreeMap<usize, PackageReport> = BTreeMap::new();
        // BASE_CACHE_URL, between the local cache and building: what it
        // serves needs no sources and no compilers.
        let remote = RemoteCache::from_options(&self.options, &self.retry)?;
        if let Some(remote) = &remote {
            for (i, p) in self.packages.iter().enumerate() {
                if done[i].is_some() {
                    continue;
                }
                let started = Instant::now();
                let Some(cached) = remote.restore(&self.cache, p, reporter) else {
                    continue;
                };
                let mut report = self.cached_report(p, Some(&cached));
                report.status = PackageStatus::Downloaded;
                report.seconds = started.elapsed().as_secs_f64();
                reports.insert(i, report);
                done[i] = Some(cached);
            }
        }
        let todo: Vec<usize> = (0..self.packages.len())
            .filter(|&i| done[i].is_none())
            .collect();
        if !todo.is_empty() {
            self.preflight_builders(&todo)?;
            let fetcher = self.fetcher()?;
            if self.options.offline {
                self.check_offline(&fetcher, &todo)?;
            }
            let built =
                self.build_missing(&fetcher, &mut done, &todo, remote.as_ref(), reporter)?;
            reports.extend(built);
        }

        let manifest = self.manifest(&prefix, &done)?;
        let prefix_updated = install::install(&prefix, &manifest)?;
        let packages = self
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                reports
                    .remove(&i)
                    .unwrap_or_else(|| self.cached_report(p, done[i].as_ref()))
            })
            .collect();
        Ok(RunReport {
            host: self.host.triple.clone(),
            final_build_id: manifest.final_build_id.clone(),
            prefix,
            prefix_updated,
            packages,
            seconds: started.elapsed().as_secs_f64(),
            manifest,
        })
    }

    /// The report of a run with nothing to do: the installed manifest is
    /// exactly the one this run would write (same builds, options, env and
    /// cargo settings) and its tarballs are unchanged on disk.
    fn up_to_date_report(&self, prefix: &Path, started: Instant) -> Option<RunReport> {
        let installed = install::read_manifest(prefix)?;
        let same_builds = installed.packages.len() == self.packages.len()
            && installed
                .packages
                .iter()
                .zip(&self.packages)
                .all(|(i, p)| i.name == p.name() && i.build_id == p.build_id);
        if !same_builds {
            return None;
        }
        let cached: Vec<Option<CachedBuild>> = installed
            .packages
            .iter()
            .map(|p| Some(p.cached.clone()))
            .collect();
        let expected = self.manifest(prefix, &cached).ok()?;
        if expected != installed || !install::is_current(prefix, &installed) {
            return None;
        }
        let packages = self
            .packages
            .iter()
            .zip(&installed.packages)
            .map(|(p, i)| self.cached_report(p, Some(&i.cached)))
            .collect();
        Some(RunReport {
            host: self.host.triple.clone(),
            final_build_id: installed.final_build_id.clone(),
            prefix: prefix.to_path_buf(),
            prefix_updated: false,
            packages,
            seconds: started.elapsed().as_secs_f64(),
            manifest: installed,
        })
    }

    fn cached_report(&self, p: &Planned, cached: Option<&CachedBuild>) -> PackageReport {
        PackageReport {
            package: p.name().to_string(),
            version: p.selected.recipe.version.clone(),
            native: p.native,
            build_id: p.build_id.clone(),
            status: PackageStatus::Cached,
            seconds: 0.0,
            stages: Vec::new(),
            tarball: cached.map(|c| c.tarball.clone()).unwrap_or_default(),
            sha256: cached.map(|c| c.sha256.clone()).unwrap_or_default(),
        }
    }

    fn manifest_options(&self) -> BTreeMap<String, bool> {
        self.options
            .manifest_view()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// The manifest of a prefix holding `done` (every package must have
    /// its cached build by now).
    fn manifest(&self, prefix: &Path, done: &[Option<CachedBuild>]) -> Result<Manifest, Error> {
        let options = self.manifest_options();
        let packages = self
            .packages
            .iter()
            .zip(done)
            .map(|(p, cached)| {
                let cached = cached.clone().ok_or_else(|| {
                    Error::Internal(format!("{} has no cached build to install", p.name()))
                })?;
                Ok(InstalledPackage {
                    name: p.name().to_string(),
                    version: p.selected.recipe.version.clone(),
                    native: p.native,
                    build_id: p.build_id.clone(),
                    cached,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Manifest {
            format: install::INSTALL_FORMAT,
            engine: ENGINE_VERSION.into(),
            host: self.host.triple.clone(),
            build: self.build_triple.clone(),
            rust_target: self.host.rust_target.clone(),
            prefix: prefix.to_path_buf(),
            final_build_id: self.final_build_id(),
            env: install::build_env(prefix, &self.host, &self.build_triple, &options),
            cargo: install::cargo_settings(prefix, &self.host),
            options,
            packages,
        })
    }

    /// Checks the programs the builders of `todo` run, beyond compilers.
    fn preflight_builders(&self, todo: &[usize]) -> Result<(), Error> {
        let mut programs = BTreeSet::new();
        for &i in todo
            .iter()
            .filter(|&&i| Self::needs_source(&self.packages[i]))
        {
            let selected = &self.packages[i].selected;
            programs.extend(BuildSpec::required_programs(selected.resolved.builder));
            if !selected.recipe.patches.is_empty() {
                programs.insert("patch");
            }
        }
        let missing: Vec<MissingTool> = programs
            .into_iter()
            .filter(|p| toolchain::which(p).is_none())
            .map(|p| MissingTool {
                needed_for: "package builds".into(),
                ..builder_tool(p)
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ToolchainError::MissingTools(missing).into())
        }
    }

    fn check_offline(&self, fetcher: &Fetcher, todo: &[usize]) -> Result<(), Error> {
        let mut missing = Vec::new();
        let mut damaged = Vec::new();
        for p in todo
            .iter()
            .map(|&i| &self.packages[i])
            .filter(|p| Self::needs_source(p))
        {
            for spec in p.source_specs() {
                if fetcher.is_present(&spec) {
                    continue;
                }
                let path = fetcher.path_of(&spec);
                match crate::fsutil::sha256_file(&path) {
                    Ok((actual, _)) => damaged.push(format!(
                        "{} ({}): sha256 {actual}, expected {}",
                        path.display(),
                        spec.package,
                        spec.sha256
                    )),
                    Err(_) => {
                        let from = spec
                            .urls
                            .first()
                            .or(spec.mirrors.first())
                            .cloned()
                            .unwrap_or_default();
                        missing.push(format!(
                            "{} ({}, from {from})",
                            path.display(),
                            spec.package
                        ));
                    }
                }
            }
        }
        if missing.is_empty() && damaged.is_empty() {
            Ok(())
        } else {
            Err(Error::Offline { missing, damaged })
        }
    }

    /// Builds the packages `todo`, filling their slots in `done`.
    fn build_missing(
        &self,
        fetcher: &Fetcher,
        done: &mut [Option<CachedBuild>],
        todo: &[usize],
        remote: Option<&RemoteCache>,
        reporter: &dyn Reporter,
    ) -> Result<BTreeMap<usize, PackageReport>, Error> {
        let jobserver = jobserver::Client::new(self.options.jobs)
            .map_err(|e| Error::io(&self.layout.depends, e))?;
        let work_root = self.layout.work();
        let ctx = PipelineContext {
            work_root: &work_root,
            cache: &self.cache,
            jobs: self.options.jobs,
            verbose: self.options.verbose,
            keep_log: self.options.log,
            jobserver: &jobserver,
            reporter,
        };
        let observer = FetchProgress(reporter);
        let deps: Vec<Vec<usize>> = self.packages.iter().map(|p| p.deps.clone()).collect();
        let reports: std::sync::Mutex<BTreeMap<usize, PackageReport>> = Default::default();

        let outcomes = scheduler::run(
            &deps,
            done.to_vec(),
            todo,
            |i| {
                let p = &self.packages[i];
                if !Self::needs_source(p) {
                    return Ok(Vec::new());
                }
                reporter.stage(p.name(), Stage::Fetch);
                let mut sources = Vec::new();
                for spec in p.source_specs() {
                    sources.push(fetcher.fetch(&spec, &observer)?);
                }
                reporter.stage(p.name(), Stage::Wait);
                Ok::<_, Error>(sources)
            },
            |i, sources, results| {
                let (cached, report) = self.build_one(i, sources, results, &ctx)?;
                let summary = match report.status {
                    PackageStatus::Built => format!("built in {:.1}s", report.seconds),
                    PackageStatus::Cached | PackageStatus::Downloaded => {
                        "cached (built by another run)".to_string()
                    }
                };
                if let (Some(remote), PackageStatus::Built) = (remote, report.status) {
                    remote.push(&self.packages[i], &cached, reporter);
                }
                reporter.finished(self.packages[i].name(), &summary);
                reports
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(i, report);
                Ok(cached)
            },
        );

        let mut failures = Vec::new();
        for (i, outcome) in outcomes {
            let p = &self.packages[i];
            match outcome {
                Outcome::Done(cached) => done[i] = Some(cached),
                Outcome::Failed(err) => {
                    reporter.finished(p.name(), "FAILED");
                    if let (Error::Build(build), true) = (&err, self.options.log) {
                        if let Ok(log) = std::fs::read_to_string(&build.log) {
                            reporter.note(
                                p.name(),
                                &format!("full log ({}):\n{log}", build.log.display()),
                            );
                        }
                    }
                    failures.push(err);
                }
                Outcome::Skipped(dep) => reporter.finished(
                    p.name(),
                    &format!("skipped: {} failed", self.packages[dep].name()),
                ),
                Outcome::Panicked(message) => {
                    reporter.finished(p.name(), "FAILED");
                    failures.push(Error::Internal(format!("{}: {message}", p.name())));
                }
            }
        }
        match failures.len() {
            0 => Ok(reports.into_inner().unwrap_or_else(|e| e.into_inner())),
            1 => Err(failures.remove(0)),
            _ => Err(Error::Several(failures)),
        }
    }

    fn build_one(
        &self,
        i: usize,
        sources: Vec<PathBuf>,
        results: &[Option<CachedBuild>],
        ctx: &PipelineContext,
    ) -> Result<(CachedBuild, PackageReport), Error> {
        let p = &self.packages[i];
        let r = &p.selected.recipe;
        // Another process sharing BASE_CACHE may be building the same
        // package: take its lock, then look again before building.
        let lock_path = self
            .cache
            .package_dir(&p.cache_triple, &r.name)
            .join(".lock");
        let _lock = FileLock::acquire(&lock_path, &|| {
            ctx.reporter
                .note(p.name(), "waiting for another run building this package")
        })
        .map_err(|e| Error::io(&lock_path, e))?;
        if let Lookup::Hit(cached) =
            self.cache
                .lookup(&p.cache_triple, &r.name, &r.version, &p.build_id)?
        {
            let report = self.cached_report(p, Some(&cached));
            return Ok((cached, report));
        }
        let _token = jobserver_token(ctx.jobserver)?;
        // Timed from here: waiting for dependencies, locks and a job slot
        // is not building.
        let started = Instant::now();
        let dependencies = p
            .closure
            .iter()
            .map(|&d| {
                results[d]
                    .clone()
                    .map(|c| (c, self.packages[d].native))
                    .ok_or_else(|| {
                        Error::Internal(format!("{} built before its dependency", p.name()))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let toolchain = if p.native { &self.native } else { &self.host };
        let derived_from = p
            .deps
            .iter()
            .find(|&&d| p.selected.derived_from.as_deref() == Some(self.packages[d].name()))
            .and_then(|&d| results[d].clone());
        let job = PackageBuild {
            selected: &p.selected,
            toolchain,
            build_triple: &self.build_triple,
            cache_triple: &p.cache_triple,
            build_id: &p.build_id,
            preimage: &p.preimage,
            dependencies,
            sources,
        };
        let (cached, record) = match derived_from {
            Some(host_build) => pipeline::derive_package(&job, &host_build, ctx)?,
            None => pipeline::build_package(&job, ctx)?,
        };
        let report = PackageReport {
            package: r.name.clone(),
            version: r.version.clone(),
            native: p.native,
            build_id: p.build_id.clone(),
            status: PackageStatus::Built,
            seconds: started.elapsed().as_secs_f64(),
            stages: record.stages,
            tarball: cached.tarball.clone(),
            sha256: cached.sha256.clone(),
        };
        Ok((cached, report))
    }
}

/// Whether natives may come from host packages' builds in this run: HOST is
/// the build machine and its packages are built the way natives are (a
/// release build with the toolchain's own compilers and flags). DEBUG=1,
/// LTO=1 or a CC/CFLAGS override makes the host build something a native
/// tool should not be.
fn shares_natives(options: &Options, host: &Toolchain, native: &Toolchain) -> bool {
    host.triple == native.triple
        && !options.debug
        && !options.lto
        && options.tool_overrides.is_empty()
        && options.flag_overrides.is_empty()
}

/// Acquires one jobserver token, released on drop.
fn jobserver_token(client: &jobserver::Client) -> Result<jobserver::Acquired, Error> {
    client
        .acquire()
        .map_err(|e| Error::Internal(format!("jobserver: {e}")))
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Error::Build(Box::new(e))
    }
}
