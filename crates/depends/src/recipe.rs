//! One recipe file, `recipes/<name>.toml`: what a package is and how to
//! build it. Parsing is strict: an unknown field is an error with its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::options::Group;
use crate::placeholders::placeholders_in;
pub use crate::placeholders::substitute;

#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{file}: cannot read: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Invalid { file: PathBuf, message: String },
}

/// How a package is configured, built and staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuilderKind {
    /// `./configure --prefix --host ...`, `make`, `make install`.
    Autotools,
    /// `cmake -S -B` with the toolchain's compilers, `make`, `make install`.
    Cmake,
    /// No configure step; the tools and flags are passed to `make`.
    Make,
    /// Explicit argv lists for each stage.
    Steps,
}

/// The argv lists of a `steps` builder. Each entry is one command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    #[serde(default)]
    pub configure: Vec<Vec<String>>,
    #[serde(default)]
    pub build: Vec<Vec<String>>,
    #[serde(default)]
    pub stage: Vec<Vec<String>>,
}

/// The parts of a build that overrides may extend. Lists append, `env`
/// entries replace by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildSettings {
    pub config_opts: Vec<String>,
    pub cflags: Vec<String>,
    pub cxxflags: Vec<String>,
    pub cppflags: Vec<String>,
    pub ldflags: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Extra arguments to the build step's `make`.
    pub build_args: Vec<String>,
    /// Arguments to the stage step's `make` (default: `install`).
    pub stage_args: Vec<String>,
    /// Paths (relative to the staged prefix, `*` allowed in the last part)
    /// deleted before the package is cached.
    pub remove: Vec<String>,
}

impl BuildSettings {
    fn extend(&mut self, other: BuildSettings) {
        self.config_opts.extend(other.config_opts);
        self.cflags.extend(other.cflags);
        self.cxxflags.extend(other.cxxflags);
        self.cppflags.extend(other.cppflags);
        self.ldflags.extend(other.ldflags);
        self.env.extend(other.env);
        self.build_args.extend(other.build_args);
        self.stage_args.extend(other.stage_args);
        self.remove.extend(other.remove);
    }
}

/// `[build]` and `[[override]]` tables share the settings fields. serde's
/// `flatten` would lose `deny_unknown_fields` and the line numbers of
/// errors, so the fields are written out once here and stamped into both.
macro_rules! with_build_settings {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            #[serde(default)]
            pub config_opts: Vec<String>,
            #[serde(default)]
            pub cflags: Vec<String>,
            #[serde(default)]
            pub cxxflags: Vec<String>,
            #[serde(default)]
            pub cppflags: Vec<String>,
            #[serde(default)]
            pub ldflags: Vec<String>,
            #[serde(default)]
            pub env: BTreeMap<String, String>,
            #[serde(default)]
            pub build_args: Vec<String>,
            #[serde(default)]
            pub stage_args: Vec<String>,
            #[serde(default)]
            pub remove: Vec<String>,
        }

        impl $name {
            pub fn settings(&self) -> BuildSettings {
                BuildSettings {
                    config_opts: self.config_opts.clone(),
                    cflags: self.cflags.clone(),
                    cxxflags: self.cxxflags.clone(),
                    cppflags: self.cppflags.clone(),
                    ldflags: self.ldflags.clone(),
                    env: self.env.clone(),
                    build_args: self.build_args.clone(),
                    stage_args: self.stage_args.clone(),
                    remove: self.remove.clone(),
                }
            }
        }
    };
}

with_build_settings! {
    #[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct Build {
        pub builder: BuilderKind,
        /// Argv lists, required by (and only allowed with) `builder = "steps"`.
        #[serde(default)]
        pub steps: Option<Steps>,
    }
}

with_build_settings! {
    /// Extra settings for some hosts, OSes or release types. Every selector
    /// given must match; the rest of the table is appended to the recipe.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct Override {
        #[serde(default)]
        pub host: Option<String>,
        #[serde(default)]
        pub os: Option<String>,
        #[serde(default)]
        pub arch: Option<String>,
        #[serde(default)]
        pub debug: Option<bool>,
        #[serde(default)]
        pub dependencies: Vec<String>,
    }
}

/// One pinned source file. A recipe has one, given by its top-level
/// `file_name`, `sha256`, `urls` and `mirrors`, or several, given as
/// `[[source]]` tables (the `.deb`s of a sysroot), each of which may be
/// limited to one architecture.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Only for HOSTs of this toolchain `arch` (`x86_64`, `aarch64`), as
    /// in `[[override]]`; none: every HOST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub file_name: String,
    pub sha256: String,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default)]
    pub mirrors: Vec<String>,
}

/// The file as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    version: String,
    /// The name the source is stored under in SOURCES_PATH (upstream's
    /// `file_name`); lets two packages share one download. Absent when the
    /// recipe lists `[[source]]` tables instead.
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    sha256: Option<String>,
    /// Primary download URLs, tried in order.
    #[serde(default)]
    urls: Vec<String>,
    /// Tried after the URLs and FALLBACK_DOWNLOAD_PATH. `mirror://debian/...`
    /// is resolved from the machine's apt sources.
    #[serde(default)]
    mirrors: Vec<String>,
    /// Several pinned files instead of the one above, each fetched, checked
    /// and extracted (in order) like it.
    #[serde(default, rename = "source")]
    sources: Vec<Source>,
    /// The Debian suite the `.deb` sources were pinned from (`bullseye`):
    /// what `cargo xtask depends repin <package>` reads new pins from.
    #[serde(default)]
    debian_suite: Option<String>,
    /// The option that selects this package; none means "only as a
    /// dependency of a selected package".
    #[serde(default)]
    group: Option<Group>,
    #[serde(default)]
    dependencies: Vec<String>,
    /// Files in `recipes/patches/<name>/`, applied in order with `patch -p1`.
    #[serde(default)]
    patches: Vec<String>,
    /// Natives only: the host package that is this same program built for
    /// the same machine when HOST is the build machine. Then this package
    /// is not built on its own but taken from that build (see
    /// `graph::share_natives`).
    #[serde(default)]
    from_host_build: Option<String>,
    build: Build,
    #[serde(default, rename = "override")]
    overrides: Vec<Override>,
}

/// A validated recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipe {
    pub name: String,
    #[serde(skip)]
    pub path: PathBuf,
    pub version: String,
    /// The one-source form (`None` with `[[source]]`). An `Option` of a
    /// string serializes as the string, so the canonical JSON (and the
    /// build id) of every one-source recipe is what it was.
    pub file_name: Option<String>,
    pub sha256: Option<String>,
    pub urls: Vec<String>,
    pub mirrors: Vec<String>,
    pub group: Option<Group>,
    pub dependencies: Vec<String>,
    pub patches: Vec<String>,
    pub from_host_build: Option<String>,
    pub build: Build,
    pub overrides: Vec<Override>,
    /// `[[source]]`, every arch's. Left out of the canonical JSON when
    /// empty (ids of existing recipes unchanged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debian_suite: Option<String>,
}

/// What an override is matched against.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub triple: &'a str,
    pub os: &'a str,
    pub arch: &'a str,
    pub debug: bool,
}

/// A recipe with the overrides for one target folded in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedBuild {
    /// The source files for this target, in order: the one-source form's
    /// file, or the `[[source]]` tables whose `arch` matches.
    pub sources: Vec<Source>,
    pub builder: BuilderKind,
    pub steps: Steps,
    pub settings: BuildSettings,
    pub dependencies: Vec<String>,
}

/// Placeholders a recipe may use in options, flags, env and steps.
pub const PLACEHOLDERS: &[&str] = &[
    "prefix",
    "sysroot",
    "native_prefix",
    "src_dir",
    "build_dir",
    "staging_dir",
    "host",
    "build",
    "jobs",
];

impl Recipe {
    /// Reads and validates `path`; the package name is the file stem.
    pub fn from_file(path: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        Recipe::from_toml(&name, path, &text)
    }

    pub fn from_toml(name: &str, path: &Path, text: &str) -> Result<Recipe, RecipeError> {
        let file: RecipeFile = toml::from_str(text).map_err(|err| RecipeError::Syntax {
            file: path.to_path_buf(),
            line: err.span().map_or(1, |span| line_of(text, span.start)),
            message: err.message().to_string(),
        })?;
        let invalid = |message: String| RecipeError::Invalid {
            file: path.to_path_buf(),
            message,
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(invalid(format!(
                "package name `{name}` (the file name) must be lowercase letters, digits and `_`"
            )));
        }
        let one_source = file.file_name.is_some()
            || file.sha256.is_some()
            || !file.urls.is_empty()
            || !file.mirrors.is_empty();
        match (one_source, file.sources.is_empty()) {
            (true, false) => {
                return Err(invalid(
                    "give the source either as file_name/sha256/urls/mirrors or as [[source]] tables, not both".into(),
                ))
            }
            (false, true) => {
                return Err(invalid(
                    "no source: give file_name, sha256 and urls or mirrors, or [[source]] tables".into(),
                ))
            }
            (true, true) => {
                let (Some(file_name), Some(sha256)) = (&file.file_name, &file.sha256) else {
                    return Err(invalid("the source needs both `file_name` and `sha256`".into()));
                };
                check_source(file_name, sha256, &file.urls, &file.mirrors).map_err(invalid)?;
            }
            (false, false) => {
                let mut names = std::collections::BTreeSet::new();
                for (i, source) in file.sources.iter().enumerate() {
                    check_source(&source.file_name, &source.sha256, &source.urls, &source.mirrors)
                        .map_err(|m| invalid(format!("[[source]] {}: {m}", i + 1)))?;
                    if !names.insert(source.file_name.as_str()) {
                        return Err(invalid(format!(
                            "[[source]] {}: file_name `{}` is listed twice",
                            i + 1,
                            source.file_name
                        )));
                    }
                }
            }
        }
        match (file.build.builder, &file.build.steps) {
            (BuilderKind::Steps, None) => {
                return Err(invalid(
                    "builder \"steps\" needs a [build.steps] table".into(),
                ))
            }
            (kind, Some(_)) if kind != BuilderKind::Steps => {
                return Err(invalid(format!(
                    "[build.steps] is only used with builder = \"steps\", not {kind:?}"
                )))
            }
            _ => {}
        }
        if let Some(steps) = &file.build.steps {
            let all = steps
                .configure
                .iter()
                .chain(&steps.build)
                .chain(&steps.stage);
            if all.into_iter().any(|argv| argv.is_empty()) {
                return Err(invalid("[build.steps] has an empty command".into()));
            }
        }
        let native = name.starts_with("native_");
        let patches_dir = patches_dir(path, name);
        for patch in &file.patches {
            if !patch_path(&patches_dir, patch).is_file() {
                return Err(invalid(format!(
                    "patch `{patch}` not found in {}",
                    patches_dir.display()
                )));
            }
        }
        let recipe = Recipe {
            name: name.to_string(),
            path: path.to_path_buf(),
            version: file.version,
            file_name: file.file_name,
            sha256: file.sha256.map(|s| s.to_ascii_lowercase()),
            urls: file.urls,
            mirrors: file.mirrors,
            group: file.group,
            dependencies: file.dependencies,
            patches: file.patches,
            from_host_build: file.from_host_build,
            build: file.build,
            overrides: file.overrides,
            sources: file
                .sources
                .into_iter()
                .map(|s| Source {
                    sha256: s.sha256.to_ascii_lowercase(),
                    ..s
                })
                .collect(),
            debian_suite: file.debian_suite,
        };
        for dep in recipe.all_dependencies() {
            if native && !dep.starts_with("native_") {
                return Err(invalid(format!(
                    "native package depends on host package `{dep}`; natives run on the build machine"
                )));
            }
        }
        if let (Some(host), false) = (&recipe.from_host_build, native) {
            return Err(invalid(format!(
                "from_host_build = \"{host}\" is for native packages (named native_*), which it lets come from a host build"
            )));
        }
        if let Some(bad) = recipe.unknown_placeholder() {
            return Err(invalid(format!(
                "unknown placeholder `{{{bad}}}`; known: {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )));
        }
        Ok(recipe)
    }

    /// Native packages run on the build machine (`native_capnp`).
    pub fn is_native(&self) -> bool {
        self.name.starts_with("native_")
    }

    pub fn patches_dir(&self) -> PathBuf {
        patches_dir(&self.path, &self.name)
    }

    /// Where one of `patches` is: in the recipe's patches folder, or where
    /// a relative path from there leads (`../native_capnp/x.patch`, a patch
    /// two packages share), without needing this recipe's own folder.
    pub fn patch_path(&self, patch: &str) -> PathBuf {
        patch_path(&self.patches_dir(), patch)
    }

    /// The source files a HOST of `arch` needs, in order (empty when no
    /// `[[source]]` is for it: `plan_ids` refuses that).
    pub fn sources_for(&self, arch: &str) -> Vec<Source> {
        if self.sources.is_empty() {
            return vec![Source {
                arch: None,
                file_name: self.file_name.clone().unwrap_or_default(),
                sha256: self.sha256.clone().unwrap_or_default(),
                urls: self.urls.clone(),
                mirrors: self.mirrors.clone(),
            }];
        }
        self.sources
            .iter()
            .filter(|s| s.arch.as_deref().is_none_or(|a| a == arch))
            .cloned()
            .collect()
    }

    /// Dependencies in the base recipe and in every override, for graph checks.
    pub fn all_dependencies(&self) -> impl Iterator<Item = &String> {
        self.dependencies
            .iter()
            .chain(self.overrides.iter().flat_map(|o| o.dependencies.iter()))
    }

    /// The recipe as it applies to `target`.
    pub fn resolve(&self, target: Target) -> ResolvedBuild {
        let mut settings = self.build.settings();
        let mut dependencies = self.dependencies.clone();
        for o in &self.overrides {
            let matches = o.host.as_deref().is_none_or(|h| h == target.triple)
                && o.os.as_deref().is_none_or(|os| os == target.os)
                && o.arch.as_deref().is_none_or(|a| a == target.arch)
                && o.debug.is_none_or(|d| d == target.debug);
            if matches {
                settings.extend(o.settings());
                dependencies.extend(o.dependencies.iter().cloned());
            }
        }
        ResolvedBuild {
            sources: self.sources_for(target.arch),
            builder: self.build.builder,
            steps: self.build.steps.clone().unwrap_or_default(),
            settings,
            dependencies,
        }
    }

    /// The canonical form hashed into build ids: independent of comments,
    /// key order and whitespace in the file.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn unknown_placeholder(&self) -> Option<String> {
        let mut texts: Vec<String> = Vec::new();
        let sections = std::iter::once(self.build.settings())
            .chain(self.overrides.iter().map(Override::settings));
        for s in sections {
            texts.extend(s.config_opts);
            texts.extend(s.cflags);
            texts.extend(s.cxxflags);
            texts.extend(s.cppflags);
            texts.extend(s.ldflags);
            texts.extend(s.env.into_values());
            texts.extend(s.build_args);
            texts.extend(s.stage_args);
        }
        if let Some(steps) = &self.build.steps {
            for argv in steps
                .configure
                .iter()
                .chain(&steps.build)
                .chain(&steps.stage)
            {
                texts.extend(argv.iter().cloned());
            }
        }
        texts.iter().find_map(|text| {
            placeholders_in(text)
                .find(|p| !PLACEHOLDERS.contains(p))
                .map(str::to_string)
        })
    }
}

/// The checks every source gets, one-source form or `[[source]]`.
fn check_source(
    file_name: &str,
    sha256: &str,
    urls: &[String],
    mirrors: &[String],
) -> Result<(), String> {
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("sha256 `{sha256}` is not 64 hex digits"));
    }
    if urls.is_empty() && mirrors.is_empty() {
        return Err("no `urls` or `mirrors` to fetch the source from".into());
    }
    if file_name.contains('/') || file_name.is_empty() {
        return Err(format!("file_name `{file_name}` must be a plain file name"));
    }
    Ok(())
}

fn patch_path(patches_dir: &Path, patch: &str) -> PathBuf {
    let mut path = patches_dir.to_path_buf();
    for part in Path::new(patch).components() {
        match part {
            std::path::Component::ParentDir => {
                path.pop();
            }
            other => path.push(other),
        }
    }
    path
}

fn patches_dir(recipe_path: &Path, name: &str) -> PathBuf {
    recipe_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("patches")
        .join(name)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version = "1.0"
file_name = "foo-1.0.tar.gz"
sha256 = "07167580e563f5e821e3b2af1c238c16ec7181612650c5901330fa9a0da50939"
urls = ["http://example.invalid/foo-1.0.tar.gz"]

[build]
builder = "make"
cflags = ["-DFOO"]

[[override]]
os = "mingw32"
cflags = ["-DWIN"]
dependencies = ["bar"]

[[override]]
debug = true
cflags = ["-DDEBUG_FOO"]
"#;

    fn parse(text: &str) -> Result<Recipe, RecipeError> {
        Recipe::from_toml("foo", Path::new("recipes/foo.toml"), text)
    }

    #[test]
    fn overrides_apply_only_where_they_match() {
        let recipe = parse(GOOD).unwrap();
        let linux = Target {
            triple: "x86_64-pc-linux-gnu",
            os: "linux",
            arch: "x86_64",
            debug: false,
        };
        let win = Target {
            triple: "x86_64-w64-mingw32",
            os: "mingw32",
            arch: "x86_64",
            debug: true,
        };
        let r = recipe.resolve(linux);
        assert_eq!(r.settings.cflags, ["-DFOO"]);
        assert!(r.dependencies.is_empty());
        let r = recipe.resolve(win);
        assert_eq!(r.settings.cflags, ["-DFOO", "-DWIN", "-DDEBUG_FOO"]);
        assert_eq!(r.dependencies, ["bar"]);
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let text = GOOD.replace(
            "cflags = [\"-DFOO\"]",
            "cflags = [\"-DFOO\"]\ncflagz = [\"x\"]",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("recipes/foo.toml:10:"), "{err}");
        assert!(err.contains("cflagz"), "{err}");
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let text = GOOD.replace("version = \"1.0\"", "version = \"1.0");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("recipes/foo.toml:2:"), "{err}");
    }

    #[test]
    fn bad_hash_steps_mismatch_and_placeholders_are_rejected() {
        let err = parse(&GOOD.replace("07167580", "zz"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not 64 hex digits"), "{err}");
        let err = parse(&GOOD.replace("builder = \"make\"", "builder = \"steps\"")).unwrap_err();
        assert!(err.to_string().contains("needs a [build.steps]"), "{err}");
        let err = parse(&GOOD.replace("-DFOO\"", "-DFOO={prefx}\"")).unwrap_err();
        assert!(
            err.to_string().contains("unknown placeholder `{prefx}`"),
            "{err}"
        );
    }

    #[test]
    fn natives_cannot_depend_on_host_packages() {
        let err = Recipe::from_toml("native_foo", Path::new("native_foo.toml"), GOOD).unwrap_err();
        assert!(
            err.to_string().contains("depends on host package `bar`"),
            "{err}"
        );
    }

    #[test]
    fn canonical_form_ignores_comments_and_order() {
        let a = parse(GOOD).unwrap();
        let b = parse(&format!("# a comment\n{GOOD}")).unwrap();
        assert_eq!(a.canonical_json(), b.canonical_json());
        let c = parse(&GOOD.replace("-DWIN", "-DWIN2")).unwrap();
        assert_ne!(a.canonical_json(), c.canonical_json());
    }

    const DEBS: &str = r#"
version = "2.31"
debian_suite = "bullseye"

[[source]]
arch = "x86_64"
file_name = "libc6_2.31_amd64.deb"
sha256 = "05f7264da867b37f4c5ce49266b558ea1e81e05a9464f623152fca70f3550282"
mirrors = ["mirror://debian/pool/main/g/glibc/libc6_2.31_amd64.deb"]

[[source]]
arch = "aarch64"
file_name = "libc6_2.31_arm64.deb"
sha256 = "BAAA9AA184E2F21738C5819055E6740CC5B22F198E3F416E33F82B40FF6933D8"
mirrors = ["mirror://debian/pool/main/g/glibc/libc6_2.31_arm64.deb"]

[[source]]
file_name = "common_1.0_all.deb"
sha256 = "e3be603bd12377bb90fcfb0f2048ca3a81c886e49d6f09945b82159d1c54f7b2"
mirrors = ["mirror://debian/pool/main/c/common/common_1.0_all.deb"]

[build]
builder = "steps"
[build.steps]
stage = [["cp", "-a", "{src_dir}", "{staging_dir}{prefix}/sysroot"]]
"#;

    #[test]
    fn sources_are_chosen_per_arch_in_order() {
        let recipe = parse(DEBS).unwrap();
        let names = |arch: &str| -> Vec<String> {
            recipe
                .sources_for(arch)
                .into_iter()
                .map(|s| s.file_name)
                .collect()
        };
        assert_eq!(
            names("x86_64"),
            ["libc6_2.31_amd64.deb", "common_1.0_all.deb"]
        );
        assert_eq!(
            names("aarch64"),
            ["libc6_2.31_arm64.deb", "common_1.0_all.deb"]
        );
        assert_eq!(names("riscv64"), ["common_1.0_all.deb"]);
        // Hashes are compared in lowercase, as the one-source form's.
        assert!(recipe.sources[1].sha256.starts_with("baaa9aa1"));
        let one = parse(GOOD).unwrap().sources_for("x86_64");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].file_name, "foo-1.0.tar.gz");
    }

    #[test]
    fn one_source_recipes_keep_their_canonical_form() {
        // The build id hashes this JSON: adding [[source]] support must not
        // rebuild every existing package.
        let json = parse(GOOD).unwrap().canonical_json();
        assert!(
            json.contains(r#""file_name":"foo-1.0.tar.gz","sha256":"07167580"#),
            "{json}"
        );
        assert!(
            !json.contains("sources") && !json.contains("debian_suite"),
            "{json}"
        );
    }

    #[test]
    fn both_source_forms_or_none_are_rejected() {
        let both = DEBS.replace(
            "version = \"2.31\"",
            "version = \"2.31\"\nfile_name = \"x.tar.gz\"",
        );
        let err = parse(&both).unwrap_err().to_string();
        assert!(err.contains("not both"), "{err}");
        let twice = DEBS.replace(
            "libc6_2.31_arm64.deb\"\nsha256",
            "libc6_2.31_amd64.deb\"\nsha256",
        );
        let err = parse(&twice).unwrap_err().to_string();
        assert!(
            err.contains("[[source]] 2: file_name `libc6_2.31_amd64.deb` is listed twice"),
            "{err}"
        );
        let bad = DEBS.replace("BAAA9AA1", "zz");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("[[source]] 2: sha256"), "{err}");
    }
}
