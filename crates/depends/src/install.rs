//! The per-host prefix `depends/<HOST>/`: the selected packages' outputs,
//! a manifest, and the configs the Rust build reads (a cargo `--config`
//! file and a shell env file).
//!
//! The prefix is assembled in a temporary sibling and swapped in, and only
//! when the manifest changed: a no-op run does not touch it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::{self, ArchiveError};
use crate::cache::CachedBuild;
use crate::fsutil::write_atomic;
use crate::relocate::relocate;
use crate::toolchain::{CargoSettings, Toolchain, SYSROOT_DIR};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const CARGO_CONFIG_FILE: &str = "cargo-config.toml";
pub const ENV_FILE: &str = "env";

/// Version of what `install` writes besides the packages (the manifest
/// fields, `cargo-config.toml`, `env`). Bumping it rewrites every prefix on
/// the next run without rebuilding any package.
pub const INSTALL_FORMAT: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub name: String,
    pub version: String,
    pub native: bool,
    pub build_id: String,
    #[serde(flatten)]
    pub cached: CachedBuild,
}

/// What a prefix holds and how it was made. Equal manifests mean an equal
/// prefix, which is how a no-op run knows to leave it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`INSTALL_FORMAT`] of the writer.
    pub format: u32,
    pub engine: String,
    pub host: String,
    pub build: String,
    pub rust_target: String,
    pub prefix: PathBuf,
    pub final_build_id: String,
    /// MULTIPROCESS, NO_QT, NO_WALLET, NO_ZMQ, NO_SYSROOT, DEBUG, LTO.
    pub options: BTreeMap<String, bool>,
    pub packages: Vec<InstalledPackage>,
    /// The host tools and flags, as written into the cargo config.
    pub env: BTreeMap<String, String>,
    /// The host's cargo linker and runner.
    pub cargo: CargoSettings,
}

pub fn read_manifest(prefix: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(prefix.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Flag strings joined with one space, empty ones left out.
fn join_flags(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The environment for the Rust build, in the spellings the `cc` and
/// `pkg-config` crates read (`CC_<target>`, `PKG_CONFIG_PATH_<target>`...).
pub fn build_env(
    prefix: &Path,
    host: &Toolchain,
    build_triple: &str,
    options: &BTreeMap<String, bool>,
) -> BTreeMap<String, String> {
    let target = host.rust_target.replace('-', "_");
    let pkgconfig = prefix.join("lib/pkgconfig").display().to_string();
    // The libc sysroot's compile flags come first: every -sys crate's C
    // and C++ (bitcoinconsensus) must see its headers, not this machine's.
    let sysroot = host.sysroot.as_ref();
    let root = prefix.join(SYSROOT_DIR);
    let sysroot_cflags = sysroot.map_or(String::new(), |s| s.fill(&s.settings.cflags, &root));
    let sysroot_cxxflags = sysroot.map_or(String::new(), |s| s.fill(&s.settings.cxxflags, &root));
    let mut env = BTreeMap::from([
        (
            "C1PZO_DEPENDS_PREFIX".to_string(),
            prefix.display().to_string(),
        ),
        (format!("CC_{target}"), host.cc.join(" ")),
        (format!("CXX_{target}"), host.cxx.join(" ")),
        (format!("AR_{target}"), host.ar.join(" ")),
        (
            format!("CFLAGS_{target}"),
            join_flags(&[
                &sysroot_cflags,
                &host.flags.cppflags,
                &host.cargo.cppflags,
                &host.flags.cflags,
            ]),
        ),
        (
            format!("CXXFLAGS_{target}"),
            join_flags(&[
                &sysroot_cxxflags,
                &host.flags.cppflags,
                &host.cargo.cppflags,
                &host.flags.cxxflags,
            ]),
        ),
        (format!("PKG_CONFIG_PATH_{target}"), pkgconfig.clone()),
        (format!("PKG_CONFIG_LIBDIR_{target}"), pkgconfig),
        ("PKG_CONFIG_ALL_STATIC".to_string(), "1".to_string()),
    ]);
    if host.triple != build_triple {
        env.insert("PKG_CONFIG_ALLOW_CROSS".into(), "1".into());
    }
    let capnp = prefix.join("native/bin/capnp");
    if options.get("MULTIPROCESS").copied().unwrap_or(false) {
        env.insert("CAPNP".into(), capnp.display().to_string());
        // The native compiler finds its standard imports next to itself
        // (recipes/patches/native_capnp); the host schemas are here, for
        // builds that pass import paths explicitly.
        env.insert(
            "CAPNP_INCLUDE_DIR".into(),
            prefix.join("include").display().to_string(),
        );
    }
    for (key, on) in options {
        env.insert(format!("C1PZO_{key}"), if *on { "1" } else { "0" }.into());
    }
    if let Some(s) = sysroot {
        for (key, value) in &s.settings.env {
            env.insert(key.clone(), s.fill(value, &root));
        }
        // For scripts and tests that look at the sysroot itself (e.g. to
        // run a program under its glibc).
        env.insert("C1PZO_SYSROOT".into(), root.display().to_string());
    }
    env
}

/// The HOST's cargo settings as the prefix's cargo config writes them: the
/// toolchain's, plus the libc sysroot's rustflags (the link against it).
pub fn cargo_settings(prefix: &Path, host: &Toolchain) -> CargoSettings {
    let mut cargo = host.cargo.clone();
    if let Some(s) = &host.sysroot {
        let root = prefix.join(SYSROOT_DIR);
        cargo
            .rustflags
            .extend(s.settings.rustflags.iter().map(|f| s.fill(f, &root)));
    }
    cargo
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

fn cargo_config(manifest: &Manifest) -> String {
    let target = &manifest.rust_target;
    let mut text = format!(
        "# Generated by `cargo xtask depends` for HOST={}; rewritten when the prefix changes.\n\
         # Use it as: cargo build --config depends/{}/{CARGO_CONFIG_FILE}\n\n\
         [build]\ntarget = {}\n\n[target.{target}]\nlinker = {}\n",
        manifest.host,
        manifest.host,
        toml_string(target),
        toml_string(&manifest.cargo.linker),
    );
    for (key, words) in [
        ("runner", &manifest.cargo.runner),
        ("rustflags", &manifest.cargo.rustflags),
    ] {
        if !words.is_empty() {
            let words: Vec<String> = words.iter().map(|w| toml_string(w)).collect();
            text.push_str(&format!("{key} = [{}]\n", words.join(", ")));
        }
    }
    text.push_str("\n[env]\n");
    let extra = manifest
        .cargo
        .env
        .iter()
        .filter(|(key, _)| !manifest.env.contains_key(*key));
    for (key, value) in manifest.env.iter().chain(extra) {
        text.push_str(&format!("{key} = {}\n", toml_string(value)));
    }
    text
}

fn env_file(manifest: &Manifest) -> String {
    let mut text = format!(
        "# Generated by `cargo xtask depends` for HOST={}. Source it: . depends/{}/{ENV_FILE}\n",
        manifest.host, manifest.host
    );
    text.push_str(&format!(
        "export C1PZO_CARGO_TARGET='{}'\n",
        manifest.rust_target
    ));
    // The build-machine tools (capnp) first on PATH, for build scripts that
    // look for them there.
    text.push_str(&format!(
        "export PATH='{}':\"$PATH\"\n",
        manifest.prefix.join("native/bin").display()
    ));
    for (key, value) in &manifest.env {
        text.push_str(&format!(
            "export {key}='{}'\n",
            value.replace('\'', "'\\''")
        ));
    }
    text
}

/// Makes `prefix` hold exactly the packages of `manifest`. Returns false
/// (and touches nothing) when the installed manifest is already equal and
/// its tarballs are unchanged on disk.
pub fn install(prefix: &Path, manifest: &Manifest) -> Result<bool, InstallError> {
    if is_current(prefix, manifest) {
        return Ok(false);
    }
    let parent = prefix.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = prefix
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    remove_leftovers(parent, &name);
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;

    for package in &manifest.packages {
        let root = if package.native {
            staging.join("native")
        } else {
            staging.clone()
        };
        let files = archive::unpack(&package.cached.tarball, &root)?;
        // Paths inside must name the final prefix, not the staging folder.
        relocate(&root, &files, prefix).map_err(io(&root))?;
    }
    write_atomic(
        &staging.join(CARGO_CONFIG_FILE),
        cargo_config(manifest).as_bytes(),
    )
    .map_err(io(&staging))?;
    write_atomic(&staging.join(ENV_FILE), env_file(manifest).as_bytes()).map_err(io(&staging))?;
    write_atomic(
        &staging.join(format!(".stamp_{}", manifest.final_build_id)),
        b"",
    )
    .map_err(io(&staging))?;
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| io(&staging)(e.into()))?;
    // The manifest goes last: a prefix without one is never taken as current.
    write_atomic(&staging.join(MANIFEST_FILE), &json).map_err(io(&staging))?;

    if prefix.exists() {
        std::fs::rename(prefix, &old).map_err(io(prefix))?;
    }
    std::fs::rename(&staging, prefix).map_err(io(prefix))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(true)
}

/// The installed prefix has this manifest and its tarballs still look the
/// way they did when installed.
pub fn is_current(prefix: &Path, manifest: &Manifest) -> bool {
    read_manifest(prefix).is_some_and(|installed| &installed == manifest)
        && manifest
            .packages
            .iter()
            .all(|p| p.cached.unchanged_on_disk())
}

/// Removes staging and old folders left by runs killed mid-install.
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let ours = file.starts_with(&format!(".{name}.tmp-"))
            || file.starts_with(&format!(".{name}.old-"));
        if ours {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
