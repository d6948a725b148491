//! The commands of each build stage, per builder kind: what upstream's
//! `$(package)_autoconf`, `$(package)_cmake` and `*_cmds` expand to, as argv
//! lists with an explicit environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::recipe::{substitute, BuilderKind, ResolvedBuild};
use crate::toolchain::{which, Sysroot, SysrootSettings, Toolchain, SYSROOT_DIR};

/// Where one package's build happens.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// The package's work folder for this run, holding the four below.
    pub work: PathBuf,
    /// The fixed name the work folder is given in what compilers write
    /// (debug info, `__FILE__`): outputs then do not depend on where, or by
    /// which run, a package was built.
    pub work_as: String,
    /// Extracted (and patched) source.
    pub src: PathBuf,
    /// Out-of-tree build folder (CMake); autotools and make build in `src`.
    pub build: PathBuf,
    /// DESTDIR of the stage step.
    pub staging: PathBuf,
    /// This package's dependencies' outputs, natives under `native/`.
    pub sysroot: PathBuf,
}

/// A command to run: argv, working directory, extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
}

/// Everything a package's build commands are made from.
pub struct BuildSpec<'a> {
    pub resolved: &'a ResolvedBuild,
    pub toolchain: &'a Toolchain,
    pub native: bool,
    pub build_triple: &'a str,
    /// The `--prefix` (see `relocate::configured_prefix`).
    pub prefix: &'a str,
    pub dirs: &'a Dirs,
    pub jobs: usize,
    pub verbose: bool,
}

impl BuildSpec<'_> {
    /// Where this package's dependencies live inside the sysroot.
    fn deps_prefix(&self) -> PathBuf {
        if self.native {
            self.dirs.sysroot.join("native")
        } else {
            self.dirs.sysroot.clone()
        }
    }

    fn placeholder(&self, name: &str) -> Option<String> {
        let path = |p: &Path| Some(p.display().to_string());
        match name {
            "prefix" => Some(self.prefix.to_string()),
            "sysroot" => path(&self.dirs.sysroot),
            "native_prefix" => path(&self.dirs.sysroot.join("native")),
            "src_dir" => path(&self.dirs.src),
            "build_dir" => path(&self.dirs.build),
            "staging_dir" => path(&self.dirs.staging),
            "host" => Some(self.toolchain.triple.clone()),
            "build" => Some(self.build_triple.to_string()),
            "jobs" => Some(self.jobs.to_string()),
            _ => None,
        }
    }

    fn sub(&self, text: &str) -> String {
        substitute(text, &|name| self.placeholder(name))
    }

    fn subs(&self, texts: &[String]) -> Vec<String> {
        texts.iter().map(|t| self.sub(t)).collect()
    }

    /// The HOST's libc sysroot, and where its files are for this package
    /// (in its private sysroot), when the package depends on it: every host
    /// package but the sysroot itself does while the toolchain has one.
    fn libc_sysroot(&self) -> Option<(&Sysroot, PathBuf)> {
        let sysroot = self.toolchain.sysroot.as_ref()?;
        let uses = !self.native
            && self
                .resolved
                .dependencies
                .contains(&sysroot.settings.package);
        uses.then(|| (sysroot, self.dirs.sysroot.join(SYSROOT_DIR)))
    }

    /// One of the sysroot's flag templates, filled in for this package.
    fn sysroot_flags(&self, pick: fn(&SysrootSettings) -> &String) -> Option<String> {
        let (sysroot, root) = self.libc_sysroot()?;
        Some(sysroot.fill(pick(&sysroot.settings), &root))
    }

    /// `-ffile-prefix-map` from the work folder to its fixed name. It goes
    /// before the sysroot's flags: GCC and Clang use the last matching map,
    /// and the sysroot's own (inside the work folder) must win.
    fn work_prefix_map(&self) -> String {
        format!(
            "-ffile-prefix-map={}={}",
            self.dirs.work.display(),
            self.dirs.work_as
        )
    }

    /// The toolchain's flags, then `add` (the dependencies' folders and the
    /// work folder's map, so they come before the sysroot's), the
    /// sysroot's, the recipe's.
    fn flags(
        &self,
        base: &str,
        extra: &[String],
        add: Option<String>,
        sysroot: Option<String>,
    ) -> String {
        let mut parts: Vec<String> = base.split_whitespace().map(str::to_string).collect();
        parts.extend(add);
        parts.extend(sysroot);
        parts.extend(self.subs(extra));
        parts.join(" ")
    }

    pub fn cflags(&self) -> String {
        self.flags(
            &self.toolchain.flags.cflags,
            &self.resolved.settings.cflags,
            Some(self.work_prefix_map()),
            self.sysroot_flags(|s| &s.cflags),
        )
    }

    pub fn cxxflags(&self) -> String {
        self.flags(
            &self.toolchain.flags.cxxflags,
            &self.resolved.settings.cxxflags,
            Some(self.work_prefix_map()),
            self.sysroot_flags(|s| &s.cxxflags),
        )
    }

    pub fn cppflags(&self) -> String {
        let include = format!("-I{}", self.deps_prefix().join("include").display());
        self.flags(
            &self.toolchain.flags.cppflags,
            &self.resolved.settings.cppflags,
            Some(include),
            None,
        )
    }

    pub fn ldflags(&self) -> String {
        let lib = format!("-L{}", self.deps_prefix().join("lib").display());
        self.flags(
            &self.toolchain.flags.ldflags,
            &self.resolved.settings.ldflags,
            Some(lib),
            self.sysroot_flags(|s| &s.ldflags),
        )
    }

    /// The environment every command of the package runs with.
    pub fn env(&self) -> BTreeMap<String, String> {
        let deps = self.deps_prefix();
        let native_bin = self.dirs.sysroot.join("native/bin");
        let path = match std::env::var_os("PATH") {
            Some(p) => format!("{}:{}", native_bin.display(), p.to_string_lossy()),
            None => native_bin.display().to_string(),
        };
        let t = self.toolchain;
        let mut env = BTreeMap::from([
            ("PATH".to_string(), path),
            ("CC".into(), t.cc.join(" ")),
            ("CXX".into(), t.cxx.join(" ")),
            ("AR".into(), t.ar.join(" ")),
            ("RANLIB".into(), t.ranlib.join(" ")),
            ("STRIP".into(), t.strip.join(" ")),
            ("CFLAGS".into(), self.cflags()),
            ("CXXFLAGS".into(), self.cxxflags()),
            ("CPPFLAGS".into(), self.cppflags()),
            ("LDFLAGS".into(), self.ldflags()),
            (
                "PKG_CONFIG_LIBDIR".into(),
                deps.join("lib/pkgconfig").display().to_string(),
            ),
            (
                "PKG_CONFIG_PATH".into(),
                deps.join("share/pkgconfig").display().to_string(),
            ),
            ("PKG_CONFIG_SYSROOT_DIR".into(), "/".into()),
            // Reproducibility: tools that stamp dates or sort by locale
            // give the same output everywhere.
            (
                "SOURCE_DATE_EPOCH".into(),
                crate::archive::FIXED_MTIME.to_string(),
            ),
            ("TZ".into(), "UTC".into()),
            ("LC_ALL".into(), "C".into()),
        ]);
        for (key, value) in &self.resolved.settings.env {
            env.insert(key.clone(), self.sub(value));
        }
        env
    }

    fn tool_vars(&self) -> Vec<String> {
        let env = self.env();
        [
            "CC", "CXX", "AR", "RANLIB", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS",
        ]
        .iter()
        .map(|key| format!("{key}={}", env[*key]))
        .collect()
    }

    fn make(&self, cwd: &Path, args: Vec<String>) -> Step {
        let mut argv = vec!["make".to_string()];
        if self.verbose && self.resolved.builder != BuilderKind::Cmake {
            argv.push("V=1".into());
        }
        argv.extend(args);
        Step {
            argv,
            cwd: cwd.to_path_buf(),
        }
    }

    fn is_cross(&self) -> bool {
        self.toolchain.triple != self.build_triple
    }

    /// Resolves a tool to an absolute path for CMake, which wants one.
    fn absolute(argv: &[String]) -> String {
        let program = argv.first().map(String::as_str).unwrap_or_default();
        which(program).map_or_else(|| program.to_string(), |p| p.display().to_string())
    }

    pub fn configure(&self) -> Vec<Step> {
        let s = &self.resolved.settings;
        let src = &self.dirs.src;
        match self.resolved.builder {
            BuilderKind::Autotools => {
                let mut argv = vec![
                    src.join("configure").display().to_string(),
                    format!("--prefix={}", self.prefix),
                    format!("--build={}", self.build_triple),
                    format!("--host={}", self.toolchain.triple),
                ];
                argv.extend(self.subs(&s.config_opts));
                argv.extend(self.tool_vars());
                vec![Step {
                    argv,
                    cwd: src.clone(),
                }]
            }
            BuilderKind::Cmake => {
                let t = self.toolchain;
                let env = self.env();
                let mut argv = vec![
                    "cmake".to_string(),
                    "-S".into(),
                    src.display().to_string(),
                    "-B".into(),
                    self.dirs.build.display().to_string(),
                    "-G".into(),
                    "Unix Makefiles".into(),
                    format!("-DCMAKE_INSTALL_PREFIX={}", self.prefix),
                    "-DCMAKE_INSTALL_LIBDIR=lib".into(),
                    "-DCMAKE_POSITION_INDEPENDENT_CODE=ON".into(),
                    "-DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON".into(),
                    "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON".into(),
                    format!(
                        "-DCMAKE_VERBOSE_MAKEFILE={}",
                        if self.verbose { "ON" } else { "OFF" }
                    ),
                    // A list: the compiler, then arguments it always needs.
                    format!("-DCMAKE_C_COMPILER={}", t.cc.join(";")),
                    format!("-DCMAKE_CXX_COMPILER={}", t.cxx.join(";")),
                    format!("-DCMAKE_AR={}", Self::absolute(&t.ar)),
                    format!("-DCMAKE_RANLIB={}", Self::absolute(&t.ranlib)),
                    format!("-DCMAKE_STRIP={}", Self::absolute(&t.strip)),
                    format!("-DCMAKE_C_FLAGS={} {}", env["CPPFLAGS"], env["CFLAGS"]),
                    format!("-DCMAKE_CXX_FLAGS={} {}", env["CPPFLAGS"], env["CXXFLAGS"]),
                    format!("-DCMAKE_EXE_LINKER_FLAGS={}", env["LDFLAGS"]),
                    format!("-DCMAKE_SHARED_LINKER_FLAGS={}", env["LDFLAGS"]),
                    format!(
                        "-DCMAKE_PREFIX_PATH={};{}",
                        self.deps_prefix().display(),
                        self.dirs.sysroot.join("native").display()
                    ),
                ];
                if self.is_cross() {
                    argv.push(format!("-DCMAKE_SYSTEM_NAME={}", t.cmake_system_name));
                    argv.push(format!("-DCMAKE_SYSTEM_PROCESSOR={}", t.arch));
                }
                argv.extend(self.subs(&s.config_opts));
                vec![Step {
                    argv,
                    cwd: self.dirs.build.clone(),
                }]
            }
            BuilderKind::Make => Vec::new(),
            BuilderKind::Steps => self.explicit(&self.resolved.steps.configure),
        }
    }

    pub fn build(&self) -> Vec<Step> {
        let s = &self.resolved.settings;
        match self.resolved.builder {
            BuilderKind::Autotools => vec![self.make(&self.dirs.src, self.subs(&s.build_args))],
            BuilderKind::Cmake => vec![self.make(&self.dirs.build, self.subs(&s.build_args))],
            BuilderKind::Make => {
                let mut args = self.tool_vars();
                args.push(format!("PREFIX={}", self.prefix));
                args.extend(self.subs(&s.build_args));
                vec![self.make(&self.dirs.src, args)]
            }
            BuilderKind::Steps => self.explicit(&self.resolved.steps.build),
        }
    }

    pub fn stage(&self) -> Vec<Step> {
        let s = &self.resolved.settings;
        let mut args = vec![format!("DESTDIR={}", self.dirs.staging.display())];
        if s.stage_args.is_empty() {
            args.push("install".into());
        } else {
            args.extend(self.subs(&s.stage_args));
        }
        match self.resolved.builder {
            BuilderKind::Autotools => vec![self.make(&self.dirs.src, args)],
            BuilderKind::Cmake => vec![self.make(&self.dirs.build, args)],
            BuilderKind::Make => {
                let mut all = self.tool_vars();
                all.push(format!("PREFIX={}", self.prefix));
                all.extend(args);
                vec![self.make(&self.dirs.src, all)]
            }
            BuilderKind::Steps => self.explicit(&self.resolved.steps.stage),
        }
    }

    fn explicit(&self, argvs: &[Vec<String>]) -> Vec<Step> {
        argvs
            .iter()
            .map(|argv| Step {
                argv: self.subs(argv),
                cwd: self.dirs.src.clone(),
            })
            .collect()
    }

    /// Programs the stages will run, beyond the toolchain, for the preflight.
    pub fn required_programs(kind: BuilderKind) -> &'static [&'static str] {
        match kind {
            BuilderKind::Autotools | BuilderKind::Make => &["make"],
            BuilderKind::Cmake => &["cmake", "make"],
            BuilderKind::Steps => &[],
        }
    }
}

/// Deletes `patterns` (relative paths, `*` allowed in the last component)
/// under `root`. Returns the paths removed.
pub fn remove_matching(root: &Path, patterns: &[String]) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for pattern in patterns {
        let (dir, name) = match pattern.rsplit_once('/') {
            Some((dir, name)) => (root.join(dir), name),
            None => (root.to_path_buf(), pattern.as_str()),
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            if !wildcard_match(name, &entry.file_name().to_string_lossy()) {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
            removed.push(path);
        }
    }
    Ok(removed)
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| wildcard_match(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.la", "libfoo.la"));
        assert!(!wildcard_match("*.la", "libfoo.a"));
        assert!(wildcard_match("lib*.a", "libkj.a"));
        assert!(wildcard_match("bin", "bin"));
    }

    #[test]
    fn remove_matching_deletes_files_and_dirs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib/pkgconfig")).unwrap();
        std::fs::write(dir.path().join("lib/a.la"), "").unwrap();
        std::fs::write(dir.path().join("lib/a.a"), "").unwrap();
        let removed =
            remove_matching(dir.path(), &["lib/*.la".into(), "lib/pkgconfig".into()]).unwrap();
        assert_eq!(removed.len(), 2);
        assert!(dir.path().join("lib/a.a").exists());
        assert!(!dir.path().join("lib/pkgconfig").exists());
    }
}
