//! One package, from a verified source to a cached tarball: sysroot,
//! extract, patch, configure, build, stage, postprocess, cache. Every
//! command's output goes to the package's log; a failure reports the stage,
//! the log's path and its last lines.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::archive;
use crate::build_id::Preimage;
use crate::builder::{remove_matching, BuildSpec, Dirs, Step};
use crate::cache::{BuildRecord, BuiltCache, CachedBuild};
use crate::graph::Selected;
use crate::progress::{Reporter, Stage};
use crate::relocate::{configured_prefix, relocate};
use crate::toolchain::Toolchain;

/// Lines of the log shown when a build fails.
pub const LOG_TAIL_LINES: usize = 40;

#[derive(Debug, thiserror::Error)]
#[error("{package}: {stage} failed: {cause}\nlog: {}\n{}", log.display(), tail_text(.tail))]
pub struct BuildError {
    pub package: String,
    pub stage: Stage,
    pub cause: String,
    pub log: PathBuf,
    /// The last [`LOG_TAIL_LINES`] lines of the log.
    pub tail: Vec<String>,
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        return "(the log is empty)".into();
    }
    let mut text = format!("--- last {} lines of the log ---\n", tail.len());
    text.push_str(&tail.join("\n"));
    text
}

/// One package to build, with everything decided.
pub struct PackageBuild<'a> {
    pub selected: &'a Selected,
    pub toolchain: &'a Toolchain,
    pub build_triple: &'a str,
    /// The triple folder it is cached under (the build machine's for natives).
    pub cache_triple: &'a str,
    pub build_id: &'a str,
    pub preimage: &'a Preimage,
    /// Every package it depends on, directly or not: (cached build, native).
    pub dependencies: Vec<(CachedBuild, bool)>,
    /// The verified source files, in the recipe's order.
    pub sources: Vec<PathBuf>,
}

/// What is shared by all packages of a run.
pub struct PipelineContext<'a> {
    pub work_root: &'a Path,
    pub cache: &'a BuiltCache,
    pub jobs: usize,
    pub verbose: bool,
    /// `LOG=1`: keep the log beside the cached tarball and show it whole on
    /// failure.
    pub keep_log: bool,
    pub jobserver: &'a jobserver::Client,
    pub reporter: &'a dyn Reporter,
}

struct Runner<'a> {
    package: &'a str,
    log_path: PathBuf,
    log: File,
    ctx: &'a PipelineContext<'a>,
    stages: Vec<(String, f64)>,
}

impl Runner<'_> {
    fn fail(&self, stage: Stage, cause: impl ToString) -> BuildError {
        BuildError {
            package: self.package.to_string(),
            stage,
            cause: cause.to_string(),
            log: self.log_path.clone(),
            tail: last_lines(&self.log_path, LOG_TAIL_LINES),
        }
    }

    fn note(&mut self, text: &str) {
        use std::io::Write;
        let _ = writeln!(self.log, "{text}");
    }

    /// Runs one stage: `body` does the work, timed and reported.
    fn stage<T>(
        &mut self,
        stage: Stage,
        body: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, BuildError> {
        self.ctx.reporter.stage(self.package, stage);
        self.note(&format!("=== {stage}"));
        let started = Instant::now();
        let result = body(self).map_err(|cause| self.fail(stage, cause))?;
        self.stages
            .push((stage.to_string(), started.elapsed().as_secs_f64()));
        Ok(result)
    }

    fn run_steps(
        &mut self,
        steps: &[Step],
        env: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        for step in steps {
            let shown = step.argv.join(" ");
            self.note(&format!("+ (cd {}) {shown}", step.cwd.display()));
            if self.ctx.verbose {
                self.ctx.reporter.note(self.package, &format!("+ {shown}"));
            }
            std::fs::create_dir_all(&step.cwd)
                .map_err(|e| format!("{}: {e}", step.cwd.display()))?;
            let mut command = Command::new(&step.argv[0]);
            command
                .args(&step.argv[1..])
                .current_dir(&step.cwd)
                .stdin(Stdio::null())
                .stdout(self.log.try_clone().map_err(|e| e.to_string())?)
                .stderr(self.log.try_clone().map_err(|e| e.to_string())?);
            // Inherited make state would point children at someone else's
            // jobserver; ours is installed by configure_make below.
            for key in [
                "MAKEFLAGS",
                "MFLAGS",
                "MAKELEVEL",
                "CARGO_MAKEFLAGS",
                "DESTDIR",
            ] {
                command.env_remove(key);
            }
            command.envs(env);
            self.ctx.jobserver.configure_make(&mut command);
            let status = command
                .status()
                .map_err(|e| format!("cannot run `{}`: {e}", step.argv[0]))?;
            if !status.success() {
                return Err(format!("`{shown}` exited with {status}"));
            }
        }
        Ok(())
    }
}

/// Builds one package and stores it in the cache. The caller holds a
/// jobserver token for the duration (the implicit one of the package's
/// top-level make).
pub fn build_package(
    pkg: &PackageBuild,
    ctx: &PipelineContext,
) -> Result<(CachedBuild, BuildRecord), BuildError> {
    let recipe = &pkg.selected.recipe;
    let native = recipe.is_native();
    let stem = BuiltCache::stem(&recipe.name, &recipe.version, pkg.build_id);
    // Folders and logs are per run (per process). A build orphaned by a
    // killed run may still be writing into its own; ours never mixes with
    // it, and whatever it finishes is never cached (only we write .hash).
    let package_work = ctx.work_root.join(pkg.cache_triple).join(&recipe.name);
    let run = format!("{stem}.{}", std::process::id());
    let work = package_work.join(&run);
    let log_path = package_work.join(format!("{run}.log"));
    let setup_error = |cause: String| BuildError {
        package: recipe.name.clone(),
        stage: Stage::Sysroot,
        cause,
        log: log_path.clone(),
        tail: Vec::new(),
    };
    // Earlier runs' folders and logs are garbage now: we hold the
    // package's lock, so no live run owns them.
    if let Ok(entries) = std::fs::read_dir(&package_work) {
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
    std::fs::create_dir_all(&work).map_err(|e| setup_error(format!("{}: {e}", work.display())))?;
    let log =
        File::create(&log_path).map_err(|e| setup_error(format!("{}: {e}", log_path.display())))?;
    let mut runner = Runner {
        package: &recipe.name,
        log_path: log_path.clone(),
        log,
        ctx,
        stages: Vec::new(),
    };
    let dirs = Dirs {
        work: work.clone(),
        work_as: format!("/depends/{}-{}", recipe.name, recipe.version),
        src: work.join("src"),
        build: work.join("build"),
        staging: work.join("staging"),
        sysroot: work.join("sysroot"),
    };
    let prefix = configured_prefix(native);
    let spec = BuildSpec {
        resolved: &pkg.selected.resolved,
        toolchain: pkg.toolchain,
        native,
        build_triple: pkg.build_triple,
        prefix: &prefix,
        dirs: &dirs,
        jobs: ctx.jobs,
        verbose: ctx.verbose,
    };
    let env = spec.env();

    runner.stage(Stage::Sysroot, |_| {
        for (dep, dep_native) in &pkg.dependencies {
            let root = if *dep_native {
                dirs.sysroot.join("native")
            } else {
                dirs.sysroot.clone()
            };
            let files = archive::unpack(&dep.tarball, &root).map_err(|e| e.to_string())?;
            // Natives were configured for `<placeholder>/native`, so the
            // placeholder maps to the sysroot itself for both kinds.
            relocate(&root, &files, &dirs.sysroot).map_err(|e| e.to_string())?;
        }
        std::fs::create_dir_all(&dirs.sysroot).map_err(|e| e.to_string())
    })?;
    runner.stage(Stage::Extract, |r| {
        // Each into the same folder, in order: a tarball with its top
        // folder stripped, a .deb as the root it describes (its absolute
        // links made relative to that folder).
        for source in &pkg.sources {
            r.note(&format!("extracting {}", source.display()));
            archive::extract_source(source, &dirs.src).map_err(|e| e.to_string())?;
        }
        std::fs::create_dir_all(&dirs.src).map_err(|e| e.to_string())
    })?;
    if !recipe.patches.is_empty() {
        runner.stage(Stage::Patch, |r| {
            let steps: Vec<Step> = recipe
                .patches
                .iter()
                .map(|p| Step {
                    argv: vec![
                        "patch".into(),
                        "-p1".into(),
                        "-i".into(),
                        recipe.patch_path(p).display().to_string(),
                    ],
                    cwd: dirs.src.clone(),
                })
                .collect();
            r.run_steps(&steps, &env)
        })?;
    }
    runner.stage(Stage::Configure, |r| r.run_steps(&spec.configure(), &env))?;
    runner.stage(Stage::Build, |r| r.run_steps(&spec.build(), &env))?;
    runner.stage(Stage::Stage, |r| r.run_steps(&spec.stage(), &env))?;
    let staged_prefix = dirs.staging.join(prefix.trim_start_matches('/'));
    runner.stage(Stage::Postprocess, |r| {
        if !staged_prefix.is_dir() {
            return Err(format!(
                "the stage step installed nothing under {prefix} (looked in {})",
                staged_prefix.display()
            ));
        }
        let removed = remove_matching(&staged_prefix, &pkg.selected.resolved.settings.remove)
            .map_err(|e| e.to_string())?;
        for path in removed {
            r.note(&format!("removed {}", path.display()));
        }
        Ok(())
    })?;
    let mut record = BuildRecord {
        package: recipe.name.clone(),
        version: recipe.version.clone(),
        build_id: pkg.build_id.to_string(),
        preimage: pkg.preimage.clone(),
        stages: Vec::new(),
    };
    let cached = runner.stage(Stage::Cache, |r| {
        record.stages = r.stages.clone();
        ctx.cache
            .store(pkg.cache_triple, &record, &staged_prefix)
            .map_err(|e| e.to_string())
    })?;
    record.stages = runner.stages.clone();
    drop(runner);
    let _ = std::fs::remove_dir_all(&work);
    if ctx.keep_log {
        let mut kept = cached.tarball.clone().into_os_string();
        kept.push(".log");
        let _ = std::fs::rename(&log_path, kept);
    } else {
        let _ = std::fs::remove_file(&log_path);
    }
    Ok((cached, record))
}

/// Makes a native from its host package's build (`from_host_build`): the
/// host package's cached files, minus the native recipe's `remove` list,
/// cached as the native. Nothing is compiled.
pub fn derive_package(
    pkg: &PackageBuild,
    host_build: &CachedBuild,
    ctx: &PipelineContext,
) -> Result<(CachedBuild, BuildRecord), BuildError> {
    let recipe = &pkg.selected.recipe;
    let started = Instant::now();
    let stem = BuiltCache::stem(&recipe.name, &recipe.version, pkg.build_id);
    let work = ctx
        .work_root
        .join(pkg.cache_triple)
        .join(&recipe.name)
        .join(format!("{stem}.{}", std::process::id()));
    let fail = |cause: String| BuildError {
        package: recipe.name.clone(),
        stage: Stage::Stage,
        cause,
        log: work.clone(),
        tail: Vec::new(),
    };
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| fail(format!("{}: {e}", work.display())))?;
    archive::unpack(&host_build.tarball, &work).map_err(|e| {
        fail(format!(
            "unpacking {} (the build it is taken from): {e}",
            host_build.tarball.display()
        ))
    })?;
    remove_matching(&work, &pkg.selected.resolved.settings.remove)
        .map_err(|e| fail(e.to_string()))?;
    let mut record = BuildRecord {
        package: recipe.name.clone(),
        version: recipe.version.clone(),
        build_id: pkg.build_id.to_string(),
        preimage: pkg.preimage.clone(),
        stages: vec![("derive".into(), started.elapsed().as_secs_f64())],
    };
    let cached = ctx
        .cache
        .store(pkg.cache_triple, &record, &work)
        .map_err(|e| fail(e.to_string()))?;
    record.stages = vec![("derive".into(), started.elapsed().as_secs_f64())];
    let _ = std::fs::remove_dir_all(&work);
    Ok((cached, record))
}

/// The last `n` lines of a file (empty if unreadable).
pub fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    let mut lines: std::collections::VecDeque<String> =
        std::collections::VecDeque::with_capacity(n);
    for line in BufReader::new(file).split(b'\n').map_while(Result::ok) {
        if lines.len() == n {
            lines.pop_front();
        }
        lines.push_back(String::from_utf8_lossy(&line).into_owned());
    }
    lines.into()
}
