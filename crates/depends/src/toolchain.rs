//! Toolchains, one file per host in `toolchains/`: the compilers, binutils
//! and flags a host's packages are built with, and what cargo needs to link
//! and run for it. Its id hashes the tools' own version output, so a
//! compiler upgrade rebuilds what it built.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::options::Options;
use crate::probe::ProbeCache;

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown HOST `{host}`; known hosts: {}. Add toolchains/{host}.toml to support it", known.join(", "))]
    UnknownHost { host: String, known: Vec<String> },
    #[error("HOST={host} needs a macOS SDK: set SDK_PATH to the folder that holds {hint}")]
    SdkRequired { host: String, hint: String },
    #[error("SDK_PATH {path} is not a directory (HOST={host} needs {hint} in it)")]
    SdkMissing {
        host: String,
        path: PathBuf,
        hint: String,
    },
    #[error("{}", missing_message(.0))]
    MissingTools(Vec<MissingTool>),
    #[error(
        "HOST={host}: `{cc} -print-file-name=include` gave `{got}`, not the compiler's header folder, \
         which the [sysroot] flags need ({{gcc_include}}); or build without the sysroot: NO_SYSROOT=1"
    )]
    SysrootProbe {
        host: String,
        cc: String,
        got: String,
    },
}

/// A program the run needs and could not find on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTool {
    pub program: String,
    /// Which role needs it, e.g. "C compiler for aarch64-linux-gnu".
    pub needed_for: String,
    /// The Debian package that provides it, when known.
    pub debian: Option<String>,
}

fn missing_message(missing: &[MissingTool]) -> String {
    let mut text = String::from("missing tools:");
    for tool in missing {
        text.push_str(&format!("\n  {} ({})", tool.program, tool.needed_for));
    }
    let packages = debian_packages(missing);
    if !packages.is_empty() {
        text.push_str(&format!(
            "\ninstall them with: apt-get install {}",
            packages.join(" ")
        ));
    }
    text
}

/// The Debian packages that provide `missing`, deduplicated, in order.
pub fn debian_packages(missing: &[MissingTool]) -> Vec<String> {
    let mut packages: Vec<String> = Vec::new();
    for pkg in missing.iter().filter_map(|t| t.debian.clone()) {
        if !packages.contains(&pkg) {
            packages.push(pkg);
        }
    }
    packages
}

fn syntax_error(file: &Path, text: &str, err: toml::de::Error) -> ToolchainError {
    let line = err.span().map_or(1, |s| {
        text[..s.start.min(text.len())].matches('\n').count() + 1
    });
    ToolchainError::Syntax {
        file: file.to_path_buf(),
        line,
        message: err.message().to_string(),
    }
}

/// A command (split on whitespace, `{sdk}` substituted) and the Debian
/// package that provides it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub command: String,
    #[serde(default)]
    pub debian: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tools {
    pub cc: Tool,
    pub cxx: Tool,
    pub ar: Tool,
    pub ranlib: Tool,
    pub strip: Tool,
    /// Used instead of `ar`/`ranlib` with `LTO=1`, as upstream does.
    #[serde(default)]
    pub lto_ar: Option<Tool>,
    #[serde(default)]
    pub lto_ranlib: Option<Tool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    #[serde(default)]
    pub cflags: String,
    #[serde(default)]
    pub cxxflags: String,
    #[serde(default)]
    pub cppflags: String,
    #[serde(default)]
    pub ldflags: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CargoSettings {
    /// `target.<rust_target>.linker`.
    pub linker: String,
    /// `target.<rust_target>.runner`; empty runs binaries directly.
    #[serde(default)]
    pub runner: Vec<String>,
    /// Debian package providing the runner, for the preflight of test runs.
    #[serde(default)]
    pub runner_debian: Option<String>,
    /// Preprocessor flags added for the C and C++ that crates' build
    /// scripts compile for this host (`CFLAGS_<target>`,
    /// `CXXFLAGS_<target>`), and for nothing depends builds: outside
    /// every build id.
    #[serde(default)]
    pub cppflags: String,
    /// `target.<rust_target>.rustflags` (Windows: a static C runtime and
    /// libstdc++, so the executables import only system DLLs).
    #[serde(default)]
    pub rustflags: Vec<String>,
    /// More `[env]` entries for cargo builds of this host.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Where the sysroot package's files are, under a prefix or a private
/// sysroot: `depends/<HOST>/sysroot/`.
pub const SYSROOT_DIR: &str = "sysroot";

/// `[sysroot]`: the C library (and C++ runtime) this HOST's programs are
/// compiled and linked against instead of the build machine's, so that
/// they run on older systems (Linux: at most GLIBC_2.31, Bitcoin Core's
/// floor). A depends package provides the files (`package`, installed in
/// [`SYSROOT_DIR`]); every other host package depends on it and gets these
/// flags, and the cargo config passes them on to rustc and the cc crate.
/// In the flags, `{target_sysroot}` is where that package's files are (a
/// package's private sysroot while depends builds it, the prefix's
/// `sysroot/` for cargo) and `{gcc_include}` the compiler's own header
/// folder (`$CC -print-file-name=include`), which `-nostdinc` drops. Off
/// with NO_SYSROOT=1.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SysrootSettings {
    pub package: String,
    /// Compiling C (`CFLAGS`, `CFLAGS_<target>`).
    #[serde(default)]
    pub cflags: String,
    /// Compiling C++ (`CXXFLAGS`, `CXXFLAGS_<target>`).
    #[serde(default)]
    pub cxxflags: String,
    /// Linking C/C++ built by depends (`LDFLAGS`).
    #[serde(default)]
    pub ldflags: String,
    /// Added to `[cargo] rustflags` (rustc links the executables).
    #[serde(default)]
    pub rustflags: Vec<String>,
    /// Added to the cargo config's `[env]` (`CXXSTDLIB_STATIC_<target>`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// A HOST's sysroot in use: the settings and the probed header folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysroot {
    pub settings: SysrootSettings,
    pub gcc_include: String,
}

impl Sysroot {
    /// `text` with `{target_sysroot}` = `root` and `{gcc_include}` filled in.
    pub fn fill(&self, text: &str, root: &Path) -> String {
        crate::recipe::substitute(text, &|name| match name {
            "target_sysroot" => Some(root.display().to_string()),
            "gcc_include" => Some(self.gcc_include.clone()),
            _ => None,
        })
    }
}

/// How tests run this host's executables on the build machine when they
/// cannot run natively. Outside every build id: it changes nothing built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestSettings {
    /// The binfmt_misc entry that lets the kernel exec this host's
    /// binaries through an emulator (`/usr/lib/binfmt.d/<name>.conf` in
    /// systemd's format, or `<name>` in binfmt-support's), so a process
    /// under test can start others, as on real hardware.
    #[serde(default)]
    pub binfmt: Option<String>,
    /// Debian package providing that entry.
    #[serde(default)]
    pub binfmt_debian: Option<String>,
    /// Environment for every process of a test run (the emulator's
    /// library prefix, e.g. `QEMU_LD_PREFIX`). `{cache}` in a value is
    /// c1pzo's cache folder (outside the clone), for state an emulator
    /// keeps between runs (wine's prefix).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Commands run in order, with that environment and from the
    /// repository root, before any test (wine building its prefix, which
    /// many first runs at once would race on). `{cache}` as in `env`.
    #[serde(default)]
    pub setup: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SdkRequirement {
    /// What SDK_PATH must contain, for the error message.
    pub hint: String,
}

/// `toolchains/<triple>.toml` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToolchainFile {
    /// The GNU triple, spelled as Bitcoin Core spells it.
    pub triple: String,
    /// Other spellings accepted for HOST (Rust triples among them).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub rust_target: String,
    /// `linux`, `mingw32` or `darwin`, as upstream's `host_os`.
    pub os: String,
    pub arch: String,
    /// `CMAKE_SYSTEM_NAME` when cross-compiling.
    pub cmake_system_name: String,
    #[serde(default)]
    pub sdk: Option<SdkRequirement>,
    pub tools: Tools,
    /// Flags for every package of this host.
    #[serde(default)]
    pub flags: Flags,
    /// Added for release builds (the default).
    #[serde(default)]
    pub release: Flags,
    /// Added with `DEBUG=1` instead of `release`.
    #[serde(default)]
    pub debug: Flags,
    pub cargo: CargoSettings,
    /// How tests run this host's executables here; absent for hosts that
    /// run natively.
    #[serde(default)]
    pub test: Option<TestSettings>,
    /// The libc sysroot its host packages and executables are built
    /// against; absent: the build machine's own headers and libraries.
    #[serde(default)]
    pub sysroot: Option<SysrootSettings>,
}

/// Every toolchain file, by triple and alias.
#[derive(Debug, Clone)]
pub struct Toolchains {
    files: BTreeMap<String, (PathBuf, ToolchainFile)>,
}

impl Toolchains {
    pub fn load(dir: &Path) -> Result<Toolchains, ToolchainError> {
        let io = |source| ToolchainError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| ToolchainError::Io {
                path: path.clone(),
                source,
            })?;
            let file: ToolchainFile =
                toml::from_str(&text).map_err(|e| syntax_error(&path, &text, e))?;
            files.insert(file.triple.clone(), (path, file));
        }
        Ok(Toolchains { files })
    }

    /// Finds the toolchain for `host` by triple or alias.
    pub fn lookup(&self, host: &str) -> Result<&ToolchainFile, ToolchainError> {
        self.files
            .values()
            .map(|(_, f)| f)
            .find(|f| f.triple == host || f.aliases.iter().any(|a| a == host))
            .ok_or_else(|| ToolchainError::UnknownHost {
                host: host.to_string(),
                known: self.files.keys().cloned().collect(),
            })
    }

    pub fn triples(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

/// The build machine's triple, as upstream's `config.guess` spells it.
pub fn build_triple() -> &'static str {
    match (std::env::consts::ARCH, std::env::consts::OS) {
        ("x86_64", "linux") => "x86_64-pc-linux-gnu",
        ("aarch64", "linux") => "aarch64-linux-gnu",
        ("aarch64", "macos") => "arm64-apple-darwin",
        ("x86_64", "macos") => "x86_64-apple-darwin",
        _ => "unknown",
    }
}

/// What a toolchain is used for: natives run on the build machine and are
/// built with its tools and plain flags; host packages get the host's tools,
/// its release/debug flags and the user's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Native,
    Host,
}

/// A toolchain ready to use: commands resolved, flags chosen, id computed.
#[derive(Debug, Clone, Serialize)]
pub struct Toolchain {
    pub triple: String,
    pub rust_target: String,
    pub os: String,
    pub arch: String,
    pub cmake_system_name: String,
    pub cc: Vec<String>,
    pub cxx: Vec<String>,
    pub ar: Vec<String>,
    pub ranlib: Vec<String>,
    pub strip: Vec<String>,
    pub flags: Flags,
    pub cargo: CargoSettings,
    pub test: Option<TestSettings>,
    /// Host role only, and not with NO_SYSROOT=1.
    pub sysroot: Option<Sysroot>,
    /// sha256 over `preimage`.
    pub id: String,
    /// What the id hashes, entry by entry, so a plan can say what changed.
    pub preimage: BTreeMap<String, String>,
}

impl Toolchain {
    /// Resolves `file` for `role` under `options`, probing each tool. All
    /// missing tools are reported together, with the Debian packages to
    /// install.
    pub fn resolve(
        file: &ToolchainFile,
        role: Role,
        options: &Options,
        probes: &mut ProbeCache,
    ) -> Result<Toolchain, ToolchainError> {
        let sdk = match (&file.sdk, role) {
            (Some(req), Role::Host) => {
                let path = options
                    .sdk_path
                    .clone()
                    .ok_or_else(|| ToolchainError::SdkRequired {
                        host: file.triple.clone(),
                        hint: req.hint.clone(),
                    })?;
                if !path.is_dir() {
                    return Err(ToolchainError::SdkMissing {
                        host: file.triple.clone(),
                        path,
                        hint: req.hint.clone(),
                    });
                }
                path.display().to_string()
            }
            _ => String::new(),
        };
        let overrides = |key: &str| match role {
            Role::Host => options.tool_overrides.get(key).cloned(),
            Role::Native => None,
        };
        let lto = role == Role::Host && options.lto;
        let pick = |key: &str, tool: &Tool, lto_tool: Option<&Tool>| -> (Vec<String>, Tool) {
            let chosen = match (overrides(key), lto.then_some(lto_tool).flatten()) {
                (Some(command), _) => Tool {
                    command,
                    debian: None,
                },
                (None, Some(lto_tool)) => lto_tool.clone(),
                (None, None) => tool.clone(),
            };
            let argv = chosen
                .command
                .replace("{sdk}", &sdk)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            (argv, chosen)
        };
        let t = &file.tools;
        let named = [
            ("CC", pick("CC", &t.cc, None), "C compiler"),
            ("CXX", pick("CXX", &t.cxx, None), "C++ compiler"),
            ("AR", pick("AR", &t.ar, t.lto_ar.as_ref()), "archiver"),
            (
                "RANLIB",
                pick("RANLIB", &t.ranlib, t.lto_ranlib.as_ref()),
                "ranlib",
            ),
            ("STRIP", pick("STRIP", &t.strip, None), "strip"),
        ];

        let mut preimage = BTreeMap::new();
        let mut missing = Vec::new();
        for (key, (argv, tool), what) in &named {
            match probes.version(argv) {
                Some(version) => {
                    // The whole command, not just the program: `gcc -m32`
                    // and `gcc` report the same version.
                    preimage.insert(
                        format!("tool {key}"),
                        format!("`{}` {version}", argv.join(" ")),
                    );
                }
                None => missing.push(MissingTool {
                    program: argv.first().cloned().unwrap_or_default(),
                    needed_for: format!("{what} for {}", file.triple),
                    debian: tool.debian.clone(),
                }),
            }
        }
        if !missing.is_empty() {
            return Err(ToolchainError::MissingTools(missing));
        }

        let flags = match role {
            Role::Native => file.flags.clone(),
            Role::Host => {
                let extra = if options.debug {
                    &file.debug
                } else {
                    &file.release
                };
                let user = |key: &str, own: &str, extra: &str| {
                    options
                        .flag_overrides
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| join_flags(own, extra))
                };
                Flags {
                    cflags: user("CFLAGS", &file.flags.cflags, &extra.cflags),
                    cxxflags: user("CXXFLAGS", &file.flags.cxxflags, &extra.cxxflags),
                    cppflags: user("CPPFLAGS", &file.flags.cppflags, &extra.cppflags),
                    ldflags: user("LDFLAGS", &file.flags.ldflags, &extra.ldflags),
                }
            }
        };
        preimage.insert("triple".into(), file.triple.clone());
        preimage.insert("role".into(), format!("{role:?}").to_lowercase());
        preimage.insert("CFLAGS".into(), flags.cflags.clone());
        preimage.insert("CXXFLAGS".into(), flags.cxxflags.clone());
        preimage.insert("CPPFLAGS".into(), flags.cppflags.clone());
        preimage.insert("LDFLAGS".into(), flags.ldflags.clone());
        preimage.insert("cmake_system_name".into(), file.cmake_system_name.clone());
        if !sdk.is_empty() {
            preimage.insert("SDK_PATH".into(), sdk.clone());
        }
        let salt = match role {
            Role::Native => &options.build_id_salt,
            Role::Host => &options.host_id_salt,
        };
        preimage.insert("salt".into(), salt.clone());
        if role == Role::Host {
            preimage.insert("LTO".into(), options.lto.to_string());
        }
        // Natives run here and use the machine's own libc.
        let sysroot = match (&file.sysroot, role, options.no_sysroot) {
            (Some(settings), Role::Host, false) => {
                let (_, (cc, _), _) = &named[0];
                let got = probes
                    .output(cc, "-print-file-name=include")
                    .unwrap_or_default();
                if !Path::new(&got).is_absolute() {
                    return Err(ToolchainError::SysrootProbe {
                        host: file.triple.clone(),
                        cc: cc.join(" "),
                        got,
                    });
                }
                // The templates, not filled-in paths: a private sysroot's
                // path differs per run and must not reach the id. The
                // sysroot's own files enter through its build id, as a
                // dependency of every host package.
                preimage.insert("sysroot package".into(), settings.package.clone());
                preimage.insert("sysroot CFLAGS".into(), settings.cflags.clone());
                preimage.insert("sysroot CXXFLAGS".into(), settings.cxxflags.clone());
                preimage.insert("sysroot LDFLAGS".into(), settings.ldflags.clone());
                preimage.insert("sysroot gcc_include".into(), got.clone());
                Some(Sysroot {
                    settings: settings.clone(),
                    gcc_include: got,
                })
            }
            _ => None,
        };
        let id = crate::build_id::hash_entries(&preimage);

        let [cc, cxx, ar, ranlib, strip] = named.map(|(_, (argv, _), _)| argv);
        Ok(Toolchain {
            triple: file.triple.clone(),
            rust_target: file.rust_target.clone(),
            os: file.os.clone(),
            arch: file.arch.clone(),
            cmake_system_name: file.cmake_system_name.clone(),
            cc,
            cxx,
            ar,
            ranlib,
            strip,
            flags,
            cargo: file.cargo.clone(),
            test: file.test.clone(),
            sysroot,
            id,
            preimage,
        })
    }
}

fn join_flags(a: &str, b: &str) -> String {
    [a.trim(), b.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds `program` on PATH (or checks it, if it has a slash).
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Tools a builder needs besides the compilers, with their Debian packages.
pub fn builder_tool(program: &str) -> MissingTool {
    let debian = match program {
        "make" => Some("make"),
        "cmake" => Some("cmake"),
        "patch" => Some("patch"),
        _ => None,
    };
    MissingTool {
        program: program.to_string(),
        needed_for: String::new(),
        debian: debian.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolchains() -> Toolchains {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../toolchains");
        Toolchains::load(&dir).unwrap()
    }

    #[test]
    fn shipped_toolchains_parse_and_rust_triples_map() {
        let t = toolchains();
        assert_eq!(
            t.lookup("x86_64-unknown-linux-gnu").unwrap().triple,
            "x86_64-pc-linux-gnu"
        );
        assert_eq!(
            t.lookup("aarch64-unknown-linux-gnu").unwrap().triple,
            "aarch64-linux-gnu"
        );
        assert_eq!(
            t.lookup("x86_64-pc-windows-gnu").unwrap().triple,
            "x86_64-w64-mingw32"
        );
        assert_eq!(
            t.lookup("aarch64-apple-darwin").unwrap().triple,
            "arm64-apple-darwin"
        );
    }

    #[test]
    fn unknown_host_lists_known_ones() {
        let err = toolchains()
            .lookup("riscv64-linux-gnu")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown HOST `riscv64-linux-gnu`"), "{err}");
        assert!(
            err.contains("aarch64-linux-gnu") && err.contains("x86_64-w64-mingw32"),
            "{err}"
        );
    }

    #[test]
    fn darwin_requires_sdk_path() {
        let t = toolchains();
        let file = t.lookup("arm64-apple-darwin").unwrap();
        let mut probes = ProbeCache::in_memory();
        let err = Toolchain::resolve(file, Role::Host, &Options::default(), &mut probes)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HOST=arm64-apple-darwin needs a macOS SDK: set SDK_PATH"),
            "{err}"
        );
    }

    #[test]
    fn missing_compiler_names_the_debian_package() {
        let mut file = toolchains().lookup("aarch64-linux-gnu").unwrap().clone();
        file.tools.cc.command = "c1pzo-no-such-gcc".into();
        let mut probes = ProbeCache::in_memory();
        let err = Toolchain::resolve(&file, Role::Host, &Options::default(), &mut probes)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c1pzo-no-such-gcc (C compiler for aarch64-linux-gnu)"),
            "{err}"
        );
        assert!(
            err.contains("apt-get install gcc-aarch64-linux-gnu"),
            "{err}"
        );
    }

    #[test]
    fn a_compiler_with_arguments_is_a_different_toolchain() {
        let t = toolchains();
        let file = t.lookup("x86_64-pc-linux-gnu").unwrap();
        let mut probes = ProbeCache::in_memory();
        let plain = Toolchain::resolve(file, Role::Host, &Options::default(), &mut probes).unwrap();
        let mut options = Options::default();
        options
            .tool_overrides
            .insert("CC".into(), "gcc -m64".into());
        let with_args = Toolchain::resolve(file, Role::Host, &options, &mut probes).unwrap();
        assert_eq!(with_args.cc, ["gcc", "-m64"]);
        assert_ne!(plain.id, with_args.id);
    }

    #[test]
    fn user_flags_replace_and_change_the_id() {
        let t = toolchains();
        let file = t.lookup("x86_64-pc-linux-gnu").unwrap();
        let mut probes = ProbeCache::in_memory();
        let plain = Toolchain::resolve(file, Role::Host, &Options::default(), &mut probes).unwrap();
        assert!(plain.flags.cflags.contains("-O2"), "{:?}", plain.flags);
        let mut options = Options::default();
        options.flag_overrides.insert("CFLAGS".into(), "-O3".into());
        let user = Toolchain::resolve(file, Role::Host, &options, &mut probes).unwrap();
        assert_eq!(user.flags.cflags, "-O3");
        assert_ne!(plain.id, user.id);
        let native = Toolchain::resolve(file, Role::Native, &options, &mut probes).unwrap();
        assert!(
            !native.flags.cflags.contains("-O"),
            "natives ignore user and release flags"
        );
    }
}
