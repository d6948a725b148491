//! A depends run: options and files in, a planned package graph out, then
//! build what is missing and install the prefix. `xtask` is a thin CLI over
//! this.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::build_id::{self, explain_change, hash_entries, Preimage, ENGINE_VERSION, SHORT_LEN};
use crate::builder::BuildSpec;
use crate::cache::{BuiltCache, CachedBuild, Lookup};
use crate::fetch::{FetchError, Fetcher, RetryPolicy, SourceSpec};
use crate::fsutil::{sha256_file, FileLock};
use crate::graph::{RecipeBook, Selected};
use crate::install::{self, InstalledPackage, Manifest};
use crate::mirror::MirrorResolver;
use crate::options::Options;
use crate::pipeline::{self, BuildError, PackageBuild, PipelineContext};
use crate::probe::ProbeCache;
use crate::progress::{FetchProgress, Reporter, Stage};
use crate::recipe::Target;
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

/// One selected package with its id worked out.
#[derive(Debug, Clone)]
pub struct Planned {
    pub selected: Selected,
    pub native: bool,
    /// BASE_CACHE/<cache_triple>/: the build machine's for natives, which
    /// are therefore shared by every HOST.
    pub cache_triple: String,
    pub preimage: Preimage,
    pub build_id: String,
    /// Indices of direct dependencies in the plan.
    pub deps: Vec<usize>,
    /// Indices of all dependencies, nearest last.
    pub closure: Vec<usize>,
}

impl Planned {
    pub fn name(&self) -> &str {
        &self.selected.recipe.name
    }

    fn source_spec(&self) -> SourceSpec<'_> {
        let r = &self.selected.recipe;
        SourceSpec {
            package: &r.name,
            file_name: &r.file_name,
            sha256: &r.sha256,
            urls: &r.urls,
            mirrors: &r.mirrors,
        }
    }
}

/// What `plan` says about one package.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub package: String,
    pub version: String,
    pub native: bool,
    pub build_id: String,
    /// `cached`, `build` or `rebuild`.
    pub action: &'static str,
    /// Why it (re)builds: the preimage entries that changed since the
    /// newest cached build, or that there is none.
    pub reasons: Vec<String>,
    pub tarball: PathBuf,
    pub source: PathBuf,
    pub source_present: bool,
}

/// The result of one package in a run.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    pub package: String,
    pub version: String,
    pub native: bool,
    pub build_id: String,
    /// `cached` or `built`.
    pub status: &'static str,
    pub seconds: f64,
    pub stages: Vec<(String, f64)>,
    pub tarball: PathBuf,
    pub sha256: String,
}

/// Everything `--json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub host: String,
    pub final_build_id: String,
    pub prefix: PathBuf,
    pub prefix_updated: bool,
    pub packages: Vec<PackageReport>,
    pub seconds: f64,
    pub manifest: Manifest,
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
    cache: BuiltCache,
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
        let selection = book.select(&options, host_target, build_target);
        let packages = plan_ids(selection, &options, &host, &native)?;
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

    fn fetcher(&self) -> Result<Fetcher, Error> {
        Ok(Fetcher::new(
            self.layout.sources.clone(),
            self.options.fallback_download_path.clone(),
            self.mirrors.clone(),
            self.retry.clone(),
        )?)
    }

    /// What a run would do, and why.
    pub fn plan(&self) -> Result<Vec<PlanEntry>, Error> {
        let fetcher = self.fetcher()?;
        let mut entries = Vec::new();
        for p in &self.packages {
            let r = &p.selected.recipe;
            let tarball =
                self.cache
                    .tarball_path(&p.cache_triple, &r.name, &r.version, &p.build_id);
            let cached = matches!(
                self.cache
                    .lookup(&p.cache_triple, &r.name, &r.version, &p.build_id)?,
                Lookup::Hit(_)
            );
            let (action, reasons) = if cached {
                ("cached", Vec::new())
            } else {
                match self.cache.newest_record(&p.cache_triple, &r.name) {
                    Some(old) if old.build_id != p.build_id => {
                        ("rebuild", explain_change(&old.preimage, &p.preimage))
                    }
                    Some(_) => (
                        "build",
                        vec!["the cached tarball is missing or damaged".into()],
                    ),
                    None => (
                        "build",
                        vec!["never built with this engine and cache".into()],
                    ),
                }
            };
            let spec = p.source_spec();
            entries.push(PlanEntry {
                package: r.name.clone(),
                version: r.version.clone(),
                native: p.native,
                build_id: p.build_id.clone(),
                action,
                reasons,
                tarball,
                source: fetcher.path_of(&spec),
                source_present: fetcher.is_present(&spec),
            });
        }
        Ok(entries)
    }

    /// Fetches every source the selection needs (for an offline build
    /// later), in parallel.
    pub fn download(&self, reporter: &dyn Reporter) -> Result<Vec<PathBuf>, Error> {
        let fetcher = self.fetcher()?;
        let observer = FetchProgress(reporter);
        let results: Vec<Result<PathBuf, FetchError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .packages
                .iter()
                .map(|p| {
                    let (fetcher, observer) = (&fetcher, &observer);
                    scope.spawn(move || {
                        reporter.stage(p.name(), Stage::Fetch);
                        let result = fetcher.fetch(&p.source_spec(), observer);
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
        results
            .into_iter()
            .map(|r| r.map_err(Error::from))
            .collect()
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
        let todo: Vec<usize> = (0..self.packages.len())
            .filter(|&i| done[i].is_none())
            .collect();
        let mut reports: BTreeMap<usize, PackageReport> = BTreeMap::new();
        if !todo.is_empty() {
            self.preflight_builders(&todo)?;
            let fetcher = self.fetcher()?;
            if self.options.offline {
                self.check_offline(&fetcher, &todo)?;
            }
            reports = self.build_missing(&fetcher, done.clone(), &todo, reporter, &mut done)?;
        }

        let manifest = self.manifest(&prefix, &done);
        let prefix_updated = install::install(&prefix, &manifest, &self.host)?;
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

    fn up_to_date_report(&self, prefix: &Path, started: Instant) -> Option<RunReport> {
        let installed = install::read_manifest(prefix)?;
        let current = installed.final_build_id == self.final_build_id()
            && installed.prefix == prefix
            && installed.options == self.manifest_options()
            && installed.packages.len() == self.packages.len()
            && installed
                .packages
                .iter()
                .zip(&self.packages)
                .all(|(i, p)| i.build_id == p.build_id)
            && install::is_current(prefix, &installed);
        if !current {
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
            status: "cached",
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

    fn manifest(&self, prefix: &Path, done: &[Option<CachedBuild>]) -> Manifest {
        let options = self.manifest_options();
        Manifest {
            engine: ENGINE_VERSION.into(),
            host: self.host.triple.clone(),
            build: self.build_triple.clone(),
            rust_target: self.host.rust_target.clone(),
            prefix: prefix.to_path_buf(),
            final_build_id: self.final_build_id(),
            env: install::build_env(prefix, &self.host, &self.build_triple, &options),
            options,
            packages: self
                .packages
                .iter()
                .zip(done)
                .filter_map(|(p, cached)| {
                    Some(InstalledPackage {
                        name: p.name().to_string(),
                        version: p.selected.recipe.version.clone(),
                        native: p.native,
                        build_id: p.build_id.clone(),
                        cached: cached.clone()?,
                    })
                })
                .collect(),
        }
    }

    /// Checks the programs the builders of `todo` run, beyond compilers.
    fn preflight_builders(&self, todo: &[usize]) -> Result<(), Error> {
        let mut programs = BTreeSet::new();
        for &i in todo {
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
        let missing: Vec<String> = todo
            .iter()
            .map(|&i| &self.packages[i])
            .filter(|p| !fetcher.is_present(&p.source_spec()))
            .map(|p| {
                let r = &p.selected.recipe;
                let from = r
                    .urls
                    .first()
                    .or(r.mirrors.first())
                    .cloned()
                    .unwrap_or_default();
                format!(
                    "{} ({}, from {from})",
                    fetcher.path_of(&p.source_spec()).display(),
                    r.name
                )
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::Offline { missing })
        }
    }

    fn build_missing(
        &self,
        fetcher: &Fetcher,
        initial: Vec<Option<CachedBuild>>,
        todo: &[usize],
        reporter: &dyn Reporter,
        done: &mut [Option<CachedBuild>],
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
        let sources: Vec<std::sync::Mutex<Option<PathBuf>>> = self
            .packages
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        let deps: Vec<Vec<usize>> = self.packages.iter().map(|p| p.deps.clone()).collect();
        let built: std::sync::Mutex<BTreeMap<usize, PackageReport>> = Default::default();

        let outcomes = scheduler::run(
            &deps,
            initial,
            todo,
            |i| {
                let p = &self.packages[i];
                reporter.stage(p.name(), Stage::Fetch);
                let path = fetcher
                    .fetch(&p.source_spec(), &observer)
                    .map_err(Error::from)?;
                *sources[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(path);
                reporter.stage(p.name(), Stage::Wait);
                Ok(())
            },
            |i, results| {
                let (cached, report) = self.build_one(i, results, &sources[i], &ctx)?;
                let summary = match report.status {
                    "built" => format!("built in {:.1}s", report.seconds),
                    _ => "cached (built by another run)".to_string(),
                };
                reporter.finished(self.packages[i].name(), &summary);
                built
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(i, report);
                Ok(cached)
            },
        );

        let reports = built.into_inner().unwrap_or_else(|e| e.into_inner());
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
                Outcome::Skipped(dep) => {
                    reporter.finished(
                        p.name(),
                        &format!("skipped: {} failed", self.packages[dep].name()),
                    );
                }
            }
        }
        match failures.len() {
            0 => Ok(reports),
            1 => Err(failures.remove(0)),
            _ => Err(Error::Several(failures)),
        }
    }

    fn build_one(
        &self,
        i: usize,
        results: &[Option<CachedBuild>],
        source: &std::sync::Mutex<Option<PathBuf>>,
        ctx: &PipelineContext,
    ) -> Result<(CachedBuild, PackageReport), Error> {
        let p = &self.packages[i];
        let r = &p.selected.recipe;
        let started = Instant::now();
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
            let report = PackageReport {
                status: "cached",
                ..self.cached_report(p, Some(&cached))
            };
            return Ok((cached, report));
        }
        let _token = jobserver_token(ctx.jobserver)?;
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
        let source = source
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Error::Internal(format!("{}: source not fetched", p.name())))?;
        let toolchain = if p.native { &self.native } else { &self.host };
        let job = PackageBuild {
            selected: &p.selected,
            toolchain,
            build_triple: &self.build_triple,
            cache_triple: &p.cache_triple,
            build_id: &p.build_id,
            preimage: &p.preimage,
            dependencies,
            source,
        };
        let (cached, record) = pipeline::build_package(&job, ctx)?;
        let report = PackageReport {
            package: r.name.clone(),
            version: r.version.clone(),
            native: p.native,
            build_id: p.build_id.clone(),
            status: "built",
            seconds: started.elapsed().as_secs_f64(),
            stages: record.stages,
            tarball: cached.tarball.clone(),
            sha256: cached.sha256.clone(),
        };
        Ok((cached, report))
    }

    /// `print VAR`: upstream's `print-VAR` for the variables people script
    /// against, plus per-package `<pkg>_build_id`, `<pkg>_cached` and
    /// `<pkg>_build_id_long` (the preimage).
    pub fn print(&self, var: &str) -> Result<String, Error> {
        let value = match var {
            "final_build_id" => self.final_build_id(),
            "SOURCES_PATH" => self.layout.sources.display().to_string(),
            "BASE_CACHE" => self.layout.base_cache.display().to_string(),
            "HOST" => self.host.triple.clone(),
            "BUILD" => self.build_triple.clone(),
            "PREFIX" => self.prefix().display().to_string(),
            "JOBS" => self.options.jobs.to_string(),
            "RUST_TARGET" => self.host.rust_target.clone(),
            "packages" => self.packages.iter().map(|p| p.name()).collect::<Vec<_>>().join(" "),
            _ => self.print_package_var(var).ok_or_else(|| Error::UnknownVariable {
                name: var.into(),
                known: "final_build_id SOURCES_PATH BASE_CACHE HOST BUILD PREFIX JOBS RUST_TARGET packages <pkg>_build_id <pkg>_cached <pkg>_build_id_long".into(),
            })?,
        };
        Ok(format!("{var}={value}"))
    }

    fn print_package_var(&self, var: &str) -> Option<String> {
        self.packages.iter().find_map(|p| {
            let r = &p.selected.recipe;
            let rest = var.strip_prefix(r.name.as_str())?.strip_prefix('_')?;
            match rest {
                "build_id" => Some(p.build_id[..SHORT_LEN].to_string()),
                "cached" => Some(
                    self.cache
                        .tarball_path(&p.cache_triple, &r.name, &r.version, &p.build_id)
                        .display()
                        .to_string(),
                ),
                "build_id_long" => Some(
                    p.preimage
                        .iter()
                        .map(|(k, v)| format!("\n  {k} = {v}"))
                        .collect::<String>(),
                ),
                _ => None,
            }
        })
    }

    /// Prunes BASE_CACHE to `keep` builds per package, never touching what
    /// an installed prefix in this clone uses.
    pub fn gc(&self, keep: usize) -> Result<Vec<PathBuf>, Error> {
        let mut protect = BTreeSet::new();
        if let Ok(entries) = std::fs::read_dir(&self.layout.depends) {
            for entry in entries.filter_map(Result::ok) {
                if let Some(m) = install::read_manifest(&entry.path()) {
                    protect.extend(m.packages.into_iter().map(|p| p.cached.tarball));
                }
            }
        }
        Ok(self.cache.gc(keep, &protect)?)
    }
}

/// Acquires one jobserver token, released on drop.
fn jobserver_token(client: &jobserver::Client) -> Result<jobserver::Acquired, Error> {
    client
        .acquire()
        .map_err(|e| Error::Internal(format!("jobserver: {e}")))
}

/// Computes every package's preimage and id, dependencies first.
fn plan_ids(
    selection: Vec<Selected>,
    options: &Options,
    host: &Toolchain,
    native: &Toolchain,
) -> Result<Vec<Planned>, Error> {
    let index: BTreeMap<String, usize> = selection
        .iter()
        .enumerate()
        .map(|(i, s)| (s.recipe.name.clone(), i))
        .collect();
    let mut planned: Vec<Planned> = Vec::with_capacity(selection.len());
    for selected in selection {
        let recipe = &selected.recipe;
        let is_native = recipe.is_native();
        let toolchain = if is_native { native } else { host };
        let mut preimage = Preimage::new();
        preimage.insert("engine".into(), ENGINE_VERSION.into());
        preimage.insert("package".into(), recipe.name.clone());
        preimage.insert("version".into(), recipe.version.clone());
        preimage.insert(
            "recipe".into(),
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                recipe.canonical_json(),
            )),
        );
        preimage.insert("source sha256".into(), recipe.sha256.clone());
        for patch in &recipe.patches {
            let path = recipe.patches_dir().join(patch);
            let (sha, _) = sha256_file(&path).map_err(|e| Error::io(&path, e))?;
            preimage.insert(format!("patch {patch}"), sha);
        }
        for (key, value) in &toolchain.preimage {
            preimage.insert(format!("toolchain {key}"), value.clone());
        }
        if !is_native {
            preimage.insert("release_type".into(), options.release_type().into());
        }
        let deps: Vec<usize> = selected
            .resolved
            .dependencies
            .iter()
            .map(|d| index[d])
            .collect();
        let mut closure: Vec<usize> = Vec::new();
        for &d in &deps {
            for &t in planned[d].closure.iter().chain(std::iter::once(&d)) {
                if !closure.contains(&t) {
                    closure.push(t);
                }
            }
            preimage.insert(
                format!("dependency {}", planned[d].name()),
                planned[d].build_id.clone(),
            );
        }
        let build_id = build_id::hash_entries(&preimage);
        planned.push(Planned {
            native: is_native,
            cache_triple: toolchain.triple.clone(),
            preimage,
            build_id,
            deps,
            closure,
            selected,
        });
    }
    Ok(planned)
}

/// Removes this clone's work folder and installed prefixes (`clean`) and,
/// with `all`, SOURCES_PATH and BASE_CACHE too (`clean-all`). Returns what
/// was removed.
pub fn clean(layout: &Layout, all: bool) -> Result<Vec<PathBuf>, Error> {
    let mut targets = vec![layout.work()];
    if let Ok(entries) = std::fs::read_dir(&layout.depends) {
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_prefix = path.join(install::MANIFEST_FILE).is_file();
            let is_leftover =
                name.starts_with('.') && (name.contains(".tmp-") || name.contains(".old-"));
            if is_prefix || is_leftover {
                targets.push(path);
            }
        }
    }
    if all {
        targets.push(layout.sources.clone());
        targets.push(layout.base_cache.clone());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut removed = Vec::new();
    for target in targets {
        // Guard against SOURCES_PATH=/ or =$HOME typos.
        if target.parent().is_none() || Some(&target) == home.as_ref() {
            return Err(Error::Internal(format!(
                "refusing to delete {}",
                target.display()
            )));
        }
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            removed.push(target);
        }
    }
    Ok(removed)
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Error::Build(Box::new(e))
    }
}
