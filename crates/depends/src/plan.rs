//! The plan of a run: every selected package with its build id, and what
//! `plan` / `print` say about them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::build_id::{self, explain_change, Preimage, ENGINE_VERSION, SHORT_LEN};
use crate::builder::BuildSpec;
use crate::cache::Lookup;
use crate::engine::Engine;
use crate::fetch::SourceSpec;
use crate::fsutil::sha256_file;
use crate::graph::Selected;
use crate::options::Options;
use crate::toolchain::Toolchain;
use crate::Error;

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

    /// What to fetch for this package, in extraction order: one file, or
    /// the `[[source]]` tables for its HOST's arch.
    pub(crate) fn source_specs(&self) -> Vec<SourceSpec<'_>> {
        let r = &self.selected.recipe;
        self.selected
            .resolved
            .sources
            .iter()
            .map(|s| SourceSpec {
                package: &r.name,
                file_name: &s.file_name,
                sha256: &s.sha256,
                urls: &s.urls,
                mirrors: &s.mirrors,
            })
            .collect()
    }
}

/// What `plan` says about one package.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub package: String,
    pub version: String,
    pub native: bool,
    pub build_id: String,
    pub action: PlanAction,
    /// Why it (re)builds: the preimage entries that changed since the
    /// newest cached build, or that there is none.
    pub reasons: Vec<String>,
    pub tarball: PathBuf,
    /// The first source (the only one, but for `[[source]]` recipes).
    pub source: PathBuf,
    /// Every source, in order.
    pub sources: Vec<PathBuf>,
    /// Whether all of them are present and verified.
    pub source_present: bool,
}

/// What a run would do with a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanAction {
    Cached,
    Build,
    Rebuild,
}

impl PlanAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanAction::Cached => "cached",
            PlanAction::Build => "build",
            PlanAction::Rebuild => "rebuild",
        }
    }
}

impl Engine {
    /// What a run would do, and why.
    pub fn plan(&self) -> Result<Vec<PlanEntry>, Error> {
        let fetcher = self.fetcher()?;
        let mut entries = Vec::new();
        for p in &self.packages {
            let r = &p.selected.recipe;
            let tarball =
                self.cache
                    .tarball_path(&p.cache_triple, &r.name, &r.version, &p.build_id);
            // Read-only: a plan must not change BASE_CACHE, even to drop a
            // damaged tarball.
            let cached = matches!(
                self.cache
                    .peek(&p.cache_triple, &r.name, &r.version, &p.build_id)?,
                Lookup::Hit(_)
            );
            let (action, reasons) = if cached {
                (PlanAction::Cached, Vec::new())
            } else {
                match self.cache.newest_record(&p.cache_triple, &r.name) {
                    Some(old) if old.build_id != p.build_id => (
                        PlanAction::Rebuild,
                        explain_change(&old.preimage, &p.preimage),
                    ),
                    Some(_) => (
                        PlanAction::Build,
                        vec!["the cached tarball is missing or damaged".into()],
                    ),
                    None => (
                        PlanAction::Build,
                        vec!["never built with this engine and cache".into()],
                    ),
                }
            };
            let specs = p.source_specs();
            let sources: Vec<PathBuf> = specs.iter().map(|s| fetcher.path_of(s)).collect();
            entries.push(PlanEntry {
                package: r.name.clone(),
                version: r.version.clone(),
                native: p.native,
                build_id: p.build_id.clone(),
                action,
                reasons,
                tarball,
                source: sources.first().cloned().unwrap_or_default(),
                source_present: specs.iter().all(|s| fetcher.is_present(s)),
                sources,
            });
        }
        Ok(entries)
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
}

/// Computes every package's preimage and id, dependencies first.
pub(crate) fn plan_ids(
    selection: Vec<Selected>,
    options: &Options,
    host: &Toolchain,
    native: &Toolchain,
    builder_versions: &BTreeMap<String, String>,
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
        // A native taken from a host package's build is made of that build
        // (its id, below, as a dependency) and its own recipe's removals:
        // no source, toolchain or builder of its own.
        let derived = selected.derived_from.is_some();
        if let Some(host) = &selected.derived_from {
            preimage.insert("derived from".into(), host.clone());
        }
        let sources = &selected.resolved.sources;
        if !derived {
            match sources.as_slice() {
                [] => {
                    return Err(Error::Refused(format!(
                        "{}: no [[source]] is for arch {} (HOST {}); add one, or leave this package out of that HOST",
                        recipe.path.display(),
                        toolchain.arch,
                        toolchain.triple
                    )))
                }
                // The key one-source recipes always had: their ids stay.
                [only] => {
                    preimage.insert("source sha256".into(), only.sha256.clone());
                }
                several => {
                    for s in several {
                        preimage.insert(format!("source {}", s.file_name), s.sha256.clone());
                    }
                }
            }
        }
        for patch in recipe.patches.iter().filter(|_| !derived) {
            let path = recipe.patch_path(patch);
            let (sha, _) = sha256_file(&path).map_err(|e| Error::io(&path, e))?;
            preimage.insert(format!("patch {patch}"), sha);
        }
        for (key, value) in toolchain.preimage.iter().filter(|_| !derived) {
            preimage.insert(format!("toolchain {key}"), value.clone());
        }
        if !is_native {
            preimage.insert("release_type".into(), options.release_type().into());
        }
        let mut programs: Vec<&str> = if derived {
            Vec::new()
        } else {
            BuildSpec::required_programs(selected.resolved.builder).to_vec()
        };
        if !recipe.patches.is_empty() && !derived {
            programs.push("patch");
        }
        for program in programs {
            let version = builder_versions.get(program).cloned().unwrap_or_default();
            preimage.insert(format!("builder {program}"), version);
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
