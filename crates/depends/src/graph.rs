//! The recipe book (every file in `recipes/`) and the package graph the
//! options select from it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::options::Options;
use crate::recipe::{Recipe, RecipeError, ResolvedBuild, Target};

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    #[error("{dir}: cannot list recipes: {source}")]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: dependency `{dependency}` has no recipe (expected {expected})")]
    MissingDependency {
        file: PathBuf,
        dependency: String,
        expected: PathBuf,
    },
    #[error("{file}: dependency cycle: {}", cycle.join(" -> "))]
    Cycle { file: PathBuf, cycle: Vec<String> },
    #[error(
        "HOST={host}: its toolchain's [sysroot] names package `{package}`, which has no recipe \
         (expected {expected}); or build without it: NO_SYSROOT=1"
    )]
    MissingSysroot {
        host: String,
        package: String,
        expected: PathBuf,
    },
}

/// All recipes, validated as a whole: every dependency exists, no cycles.
#[derive(Debug, Clone)]
pub struct RecipeBook {
    recipes: BTreeMap<String, Recipe>,
}

/// A package chosen for this run, with its overrides applied.
#[derive(Debug, Clone)]
pub struct Selected {
    pub recipe: Recipe,
    pub resolved: ResolvedBuild,
    /// The host package whose build this native is taken from, instead of
    /// building it (set by [`share_natives`]).
    pub derived_from: Option<String>,
}

/// When HOST is the build machine, a native whose recipe names a host
/// package in `from_host_build` (native_capnp: capnp) is the same program
/// built for the same machine: build it once. The host package no longer
/// waits for the native (its build does not run it); the native is taken
/// from the host package's build and comes right after it in the order.
pub fn share_natives(selection: Vec<Selected>) -> Vec<Selected> {
    let names: BTreeSet<String> = selection.iter().map(|s| s.recipe.name.clone()).collect();
    let shared: BTreeMap<String, String> = selection
        .iter()
        .filter_map(|s| {
            let host = s.recipe.from_host_build.as_ref()?;
            names
                .contains(host)
                .then(|| (s.recipe.name.clone(), host.clone()))
        })
        .collect();
    if shared.is_empty() {
        return selection;
    }
    let changed: Vec<Selected> = selection
        .into_iter()
        .map(|mut selected| {
            if let Some(host) = shared.get(&selected.recipe.name) {
                selected.resolved.dependencies = vec![host.clone()];
                selected.derived_from = Some(host.clone());
            } else if shared.values().any(|h| *h == selected.recipe.name) {
                selected
                    .resolved
                    .dependencies
                    .retain(|d| !shared.contains_key(d));
            }
            selected
        })
        .collect();
    dependencies_first(changed)
}

/// The HOST's libc sysroot (the package its toolchain's `[sysroot]`
/// names) first, and every other host package depending on it, so each
/// builds against it in its private sysroot and its build id carries the
/// sysroot's. Natives run on the build machine and do not use it.
pub fn with_libc_sysroot(
    book: &RecipeBook,
    selection: Vec<Selected>,
    package: &str,
    host: Target,
    recipes_dir: &Path,
) -> Result<Vec<Selected>, GraphError> {
    let recipe = book
        .get(package)
        .ok_or_else(|| GraphError::MissingSysroot {
            host: host.triple.to_string(),
            package: package.to_string(),
            expected: recipes_dir.join(format!("{package}.toml")),
        })?;
    let mut order = vec![Selected {
        recipe: recipe.clone(),
        resolved: recipe.resolve(host),
        derived_from: None,
    }];
    for mut selected in selection {
        if selected.recipe.name == package {
            continue;
        }
        if !selected.recipe.is_native() {
            selected.resolved.dependencies.push(package.to_string());
        }
        order.push(selected);
    }
    Ok(order)
}

/// `selection` reordered so that every package comes after what it depends
/// on, keeping the given order where the dependencies allow.
fn dependencies_first(mut pending: Vec<Selected>) -> Vec<Selected> {
    let mut order: Vec<Selected> = Vec::with_capacity(pending.len());
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|s| s.resolved.dependencies.iter().all(|d| placed.contains(d)))
            .expect("the recipe book has no cycles, and sharing adds none");
        let selected = pending.remove(ready);
        placed.insert(selected.recipe.name.clone());
        order.push(selected);
    }
    order
}

impl RecipeBook {
    pub fn load(dir: &Path) -> Result<RecipeBook, GraphError> {
        let entries = std::fs::read_dir(dir).map_err(|source| GraphError::ReadDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        let recipes = paths
            .iter()
            .map(|p| Recipe::from_file(p).map(|r| (r.name.clone(), r)))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let book = RecipeBook { recipes };
        book.check_dependencies(dir)?;
        Ok(book)
    }

    pub fn get(&self, name: &str) -> Option<&Recipe> {
        self.recipes.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Recipe> {
        self.recipes.values()
    }

    fn check_dependencies(&self, dir: &Path) -> Result<(), GraphError> {
        for recipe in self.recipes.values() {
            for dep in recipe.all_dependencies() {
                if !self.recipes.contains_key(dep) {
                    return Err(GraphError::MissingDependency {
                        file: recipe.path.clone(),
                        dependency: dep.clone(),
                        expected: dir.join(format!("{dep}.toml")),
                    });
                }
            }
        }
        // Depth-first search over every edge any override could add, so a
        // cycle is reported whatever host happens to be selected.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Visiting,
            Done,
        }
        fn visit<'a>(
            book: &'a RecipeBook,
            name: &'a str,
            marks: &mut BTreeMap<&'a str, Mark>,
            path: &mut Vec<&'a str>,
        ) -> Result<(), GraphError> {
            match marks.get(name) {
                Some(Mark::Done) => return Ok(()),
                Some(Mark::Visiting) => {
                    let start = path.iter().position(|n| *n == name).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(name.to_string());
                    return Err(GraphError::Cycle {
                        file: book.recipes[name].path.clone(),
                        cycle,
                    });
                }
                None => {}
            }
            marks.insert(name, Mark::Visiting);
            path.push(name);
            for dep in book.recipes[name].all_dependencies() {
                visit(book, dep, marks, path)?;
            }
            path.pop();
            marks.insert(name, Mark::Done);
            Ok(())
        }
        let mut marks = BTreeMap::new();
        for name in self.recipes.keys() {
            visit(self, name, &mut marks, &mut Vec::new())?;
        }
        Ok(())
    }

    /// The packages `options` select, with their dependencies, ordered so
    /// that every package comes after what it depends on. Natives resolve
    /// against the build machine, the rest against the host.
    pub fn select(&self, options: &Options, host: Target, build: Target) -> Vec<Selected> {
        let roots: Vec<&str> = self
            .recipes
            .values()
            .filter(|r| r.group.is_some_and(|g| options.selects_group(g)))
            .map(|r| r.name.as_str())
            .collect();
        let mut order = Vec::new();
        let mut seen = BTreeSet::new();
        for root in roots {
            self.post_order(root, host, build, &mut seen, &mut order);
        }
        order
    }

    fn post_order(
        &self,
        name: &str,
        host: Target,
        build: Target,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<Selected>,
    ) {
        if !seen.insert(name.to_string()) {
            return;
        }
        let recipe = &self.recipes[name];
        let target = if recipe.is_native() { build } else { host };
        let resolved = recipe.resolve(target);
        for dep in &resolved.dependencies {
            self.post_order(dep, host, build, seen, order);
        }
        order.push(Selected {
            recipe: recipe.clone(),
            resolved,
            derived_from: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, deps: &[&str], group: Option<&str>) {
        let deps = deps
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let group = group
            .map(|g| format!("group = \"{g}\"\n"))
            .unwrap_or_default();
        let text = format!(
            "version = \"1\"\nfile_name = \"{name}.tar.gz\"\nsha256 = \"{}\"\nurls = [\"http://127.0.0.1/{name}\"]\n{group}dependencies = [{deps}]\n[build]\nbuilder = \"make\"\n",
            "a".repeat(64)
        );
        std::fs::write(dir.join(format!("{name}.toml")), text).unwrap();
    }

    fn target(debug: bool) -> Target<'static> {
        Target {
            triple: "x86_64-pc-linux-gnu",
            os: "linux",
            arch: "x86_64",
            debug,
        }
    }

    #[test]
    fn selection_follows_groups_and_orders_dependencies_first() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "native_tool", &[], Some("multiprocess"));
        write(
            dir.path(),
            "lib",
            &["native_tool", "helper"],
            Some("multiprocess"),
        );
        write(dir.path(), "helper", &[], None);
        write(dir.path(), "walletdb", &[], Some("wallet"));
        let book = RecipeBook::load(dir.path()).unwrap();
        let names = |opts: &Options| -> Vec<String> {
            book.select(opts, target(false), target(false))
                .into_iter()
                .map(|s| s.recipe.name)
                .collect()
        };
        let mut opts = Options {
            multiprocess: true,
            no_wallet: true,
            ..Options::default()
        };
        assert_eq!(names(&opts), ["native_tool", "helper", "lib"]);
        opts.multiprocess = false;
        assert!(names(&opts).is_empty());
        opts.no_wallet = false;
        assert_eq!(names(&opts), ["walletdb"]);
    }

    #[test]
    fn a_shared_native_comes_from_its_host_package_and_after_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "native_tool", &[], None);
        write(dir.path(), "lib", &["native_tool"], Some("multiprocess"));
        write(dir.path(), "user", &["native_tool"], Some("multiprocess"));
        let path = dir.path().join("native_tool.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("from_host_build = \"lib\"\n{text}")).unwrap();
        let book = RecipeBook::load(dir.path()).unwrap();
        let opts = Options {
            multiprocess: true,
            ..Options::default()
        };
        let selection = book.select(&opts, target(false), target(false));
        let before: Vec<&str> = selection.iter().map(|s| s.recipe.name.as_str()).collect();
        assert_eq!(before, ["native_tool", "lib", "user"]);
        let shared = share_natives(selection);
        let names: Vec<&str> = shared.iter().map(|s| s.recipe.name.as_str()).collect();
        assert_eq!(names, ["lib", "native_tool", "user"]);
        assert!(shared[0].resolved.dependencies.is_empty());
        assert_eq!(shared[1].resolved.dependencies, ["lib"]);
        assert_eq!(shared[1].derived_from.as_deref(), Some("lib"));
        // A package that used the native still depends on it, after it.
        assert_eq!(shared[2].resolved.dependencies, ["native_tool"]);
    }

    #[test]
    fn the_libc_sysroot_comes_first_and_host_packages_depend_on_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "native_tool", &[], None);
        write(dir.path(), "lib", &["native_tool"], Some("multiprocess"));
        write(dir.path(), "libc", &[], None);
        let book = RecipeBook::load(dir.path()).unwrap();
        let opts = Options {
            multiprocess: true,
            ..Options::default()
        };
        let selection = book.select(&opts, target(false), target(false));
        let with = with_libc_sysroot(&book, selection, "libc", target(false), dir.path()).unwrap();
        let names: Vec<&str> = with.iter().map(|s| s.recipe.name.as_str()).collect();
        assert_eq!(names, ["libc", "native_tool", "lib"]);
        assert!(
            with[1].resolved.dependencies.is_empty(),
            "natives do not use it"
        );
        assert_eq!(with[2].resolved.dependencies, ["native_tool", "libc"]);
        // Nothing else selected: the sysroot alone (cargo links against it).
        let alone =
            with_libc_sysroot(&book, Vec::new(), "libc", target(false), dir.path()).unwrap();
        assert_eq!(alone.len(), 1);
        let err = with_libc_sysroot(&book, Vec::new(), "glibc", target(false), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no recipe") && err.contains("NO_SYSROOT=1"),
            "{err}"
        );
    }

    #[test]
    fn only_natives_may_come_from_a_host_build() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "lib", &[], Some("base"));
        let path = dir.path().join("lib.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("from_host_build = \"x\"\n{text}")).unwrap();
        let err = RecipeBook::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("from_host_build") && err.contains("native"),
            "{err}"
        );
    }

    #[test]
    fn missing_dependency_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "lib", &["nothere"], Some("base"));
        let err = RecipeBook::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("lib.toml") && err.contains("`nothere` has no recipe"),
            "{err}"
        );
    }

    #[test]
    fn cycle_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a", &["b"], Some("base"));
        write(dir.path(), "b", &["c"], None);
        write(dir.path(), "c", &["a"], None);
        let err = RecipeBook::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("dependency cycle: a -> b -> c -> a"), "{err}");
        assert!(err.contains("a.toml"), "{err}");
    }
}
