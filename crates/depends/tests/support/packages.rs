//! Synthetic packages for the engine's tests: small C libraries with a
//! Makefile the test writes, packed into tarballs, served by [`TestServer`]
//! and described by recipes in a throwaway repository layout.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use depends::progress::{Reporter, Stage};
use depends::report::RunReport;
use depends::{Engine, Error, Layout, Options};
use sha2::{Digest, Sha256};

use super::http_server::TestServer;

/// A package's files, by path inside its top folder.
pub struct Package {
    pub name: String,
    pub version: String,
    pub files: Vec<(String, String)>,
    pub dependencies: Vec<String>,
    pub group: Option<String>,
    /// Extra TOML lines for `[build]`.
    pub build_extra: String,
}

impl Package {
    /// `lib<name>.a`, `<name>.h` and a `<name>-hello` program, built by a
    /// Makefile that honours CC, AR, RANLIB, the flags, PREFIX and DESTDIR.
    /// `uses` are libraries (built by other packages) it includes and links;
    /// `tool` is a native program it runs to generate a header.
    pub fn c_library(name: &str, uses: &[&str], tool: Option<&str>) -> Package {
        let includes: String = uses.iter().map(|u| format!("#include <{u}.h>\n")).collect();
        let calls: String = uses.iter().map(|u| format!(" + {u}_value()")).collect();
        let libs: String = uses.iter().map(|u| format!(" -l{u}")).collect();
        let (gen_rule, gen_include, gen_dep) = match tool {
            Some(tool) => (
                format!("generated.h:\n\t{tool} > generated.h\n"),
                "#include \"generated.h\"\n".to_string(),
                " generated.h".to_string(),
            ),
            None => (String::new(), "#define GENERATED 0\n".into(), String::new()),
        };
        let makefile = format!(
            "PREFIX ?= /usr/local\n\
             all: lib{name}.a {name}-hello\n\
             {gen_rule}\
             {name}.o: {name}.c{gen_dep}\n\t$(CC) $(CPPFLAGS) $(CFLAGS) -c {name}.c -o {name}.o\n\
             lib{name}.a: {name}.o\n\t$(AR) rc $@ {name}.o\n\t$(RANLIB) $@\n\
             hello.o: hello.c\n\t$(CC) $(CPPFLAGS) $(CFLAGS) -c hello.c -o hello.o\n\
             {name}-hello: hello.o lib{name}.a\n\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ hello.o lib{name}.a{libs}\n\
             install: all\n\
             \tmkdir -p $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin\n\
             \tcp lib{name}.a $(DESTDIR)$(PREFIX)/lib/\n\
             \tcp {name}.h $(DESTDIR)$(PREFIX)/include/\n\
             \tcp {name}-hello* $(DESTDIR)$(PREFIX)/bin/\n\
             \tprintf 'prefix=%s\\nlibdir=$${{prefix}}/lib\\nincludedir=$${{prefix}}/include\\n\\nName: {name}\\nDescription: test\\nVersion: 1.0\\nLibs: -L$${{libdir}} -l{name}\\nCflags: -I$${{includedir}}\\n' '$(PREFIX)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/{name}.pc\n"
        );
        let source = format!(
            "{includes}{gen_include}#include \"{name}.h\"\nint {name}_value(void) {{ return GENERATED + 1{calls}; }}\n"
        );
        let hello = format!(
            "#include <stdio.h>\n#include \"{name}.h\"\nint main(void) {{ printf(\"{name} %d\\n\", {name}_value()); return 0; }}\n"
        );
        Package {
            name: name.into(),
            version: "1.0".into(),
            files: vec![
                ("Makefile".into(), makefile),
                (format!("{name}.c"), source),
                (format!("{name}.h"), format!("int {name}_value(void);\n")),
                ("hello.c".into(), hello),
            ],
            dependencies: Vec::new(),
            group: Some("base".into()),
            build_extra: String::new(),
        }
    }

    /// A native tool `<name without native_>` that prints a C header. It is
    /// compiled by absolute path, as CMake does, and names its source in
    /// what it prints: `__FILE__` is then a path in the work folder.
    pub fn native_tool(name: &str) -> Package {
        let tool = name.trim_start_matches("native_");
        let makefile = format!(
            "PREFIX ?= /usr/local\n\
             {tool}: {tool}.c\n\t$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o {tool} $(CURDIR)/{tool}.c\n\
             install: {tool}\n\tmkdir -p $(DESTDIR)$(PREFIX)/bin\n\tcp {tool} $(DESTDIR)$(PREFIX)/bin/\n"
        );
        let source =
            "#include <stdio.h>\nint main(void) { printf(\"/* by %s */\\n#define GENERATED 41\\n\", __FILE__); return 0; }\n";
        Package {
            name: name.into(),
            version: "2.0".into(),
            files: vec![
                ("Makefile".into(), makefile),
                (format!("{tool}.c"), source.into()),
            ],
            dependencies: Vec::new(),
            group: None,
            build_extra: String::new(),
        }
    }

    /// A package whose build prints `lines` numbered lines and fails.
    pub fn failing(name: &str, lines: usize) -> Package {
        let makefile = format!(
            "all:\n\t@for i in $$(seq 1 {lines}); do echo \"compile line $$i\"; done; exit 1\ninstall:\n"
        );
        Package {
            name: name.into(),
            version: "1.0".into(),
            files: vec![("Makefile".into(), makefile)],
            dependencies: Vec::new(),
            group: Some("base".into()),
            build_extra: String::new(),
        }
    }

    pub fn depends_on(mut self, deps: &[&str]) -> Package {
        self.dependencies = deps.iter().map(|d| d.to_string()).collect();
        self
    }

    pub fn group(mut self, group: Option<&str>) -> Package {
        self.group = group.map(str::to_string);
        self
    }

    /// The package's recipe: its source at `url` with `sha`, built by
    /// `builder`.
    pub fn recipe(&self, sha: &str, url: &str, builder: &str) -> String {
        let deps: Vec<String> = self
            .dependencies
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect();
        let group = self
            .group
            .as_ref()
            .map(|g| format!("group = \"{g}\"\n"))
            .unwrap_or_default();
        format!(
            "version = \"{}\"\nfile_name = \"{}\"\nsha256 = \"{sha}\"\nurls = [\"{url}\"]\n{group}dependencies = [{}]\n\n[build]\nbuilder = \"{builder}\"\n{}\n",
            self.version,
            self.file_name(),
            deps.join(", "),
            self.build_extra,
        )
    }

    pub fn file_name(&self) -> String {
        format!("{}-{}.tar.gz", self.name, self.version)
    }

    /// The source tarball, with a `<name>-<version>/` top folder.
    pub fn tarball(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            for (path, text) in &self.files {
                let mut header = tar::Header::new_gnu();
                header.set_size(text.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(1_600_000_000);
                tar.append_data(
                    &mut header,
                    format!("{}-{}/{path}", self.name, self.version),
                    text.as_bytes(),
                )
                .unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
        }
        out
    }
}

/// Every file below `dir`, recursively (empty if it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A throwaway repository (recipes/, toolchains/ copied from the real one,
/// depends/) with its own SOURCES_PATH and BASE_CACHE, and a server.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("recipes")).unwrap();
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../toolchains");
        std::fs::create_dir_all(root.join("toolchains")).unwrap();
        for entry in std::fs::read_dir(real).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(
                entry.path(),
                root.join("toolchains").join(entry.file_name()),
            )
            .unwrap();
        }
        Fixture {
            dir,
            server: TestServer::start(),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn sources(&self) -> PathBuf {
        self.dir.path().join("sources")
    }

    pub fn base_cache(&self) -> PathBuf {
        self.dir.path().join("built")
    }

    pub fn layout(&self) -> Layout {
        let root = self.root();
        Layout {
            recipes: root.join("recipes"),
            toolchains: root.join("toolchains"),
            depends: root.join("depends"),
            sources: self.sources(),
            base_cache: self.base_cache(),
        }
    }

    /// Serves the package's tarball and writes a recipe whose sha256 is
    /// right (or `sha256` if given).
    pub fn add(&self, package: &Package) {
        self.add_with(package, None, "make");
    }

    pub fn add_with(&self, package: &Package, sha256: Option<&str>, builder: &str) {
        let bytes = package.tarball();
        let sha = sha256.map_or_else(|| sha256_hex(&bytes), str::to_string);
        self.server
            .serve(&format!("files/{}", package.file_name()), bytes);
        self.write_recipe(package, &sha, builder);
    }

    pub fn write_recipe(&self, package: &Package, sha: &str, builder: &str) {
        let url = self.server.url(&format!("files/{}", package.file_name()));
        self.write_recipe_text(&package.name, &package.recipe(sha, &url, builder));
    }

    pub fn write_recipe_text(&self, name: &str, text: &str) {
        std::fs::write(
            self.root().join("recipes").join(format!("{name}.toml")),
            text,
        )
        .unwrap();
    }

    pub fn options(args: &[&str]) -> Options {
        Self::options_env(args, &[])
    }

    /// Options from `args`, with `env` standing in for the environment.
    /// The shipped Linux toolchains build against the glibc sysroot, whose
    /// .debs these tests do not serve: off, unless a test gives NO_SYSROOT.
    pub fn options_env(args: &[&str], env: &[(&str, &str)]) -> Options {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !args.iter().any(|a| a.starts_with("NO_SYSROOT=")) {
            args.push("NO_SYSROOT=1".into());
        }
        let lookup = |key: &str| {
            env.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        };
        let mut options = Options::parse(&args, &lookup).unwrap();
        options.jobs = options.jobs.max(2);
        options
    }

    pub fn engine(&self, args: &[&str]) -> Result<Engine, Error> {
        self.engine_env(args, &[])
    }

    pub fn engine_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Engine, Error> {
        let mut engine = Engine::new(self.layout(), Self::options_env(args, env))?;
        engine.retry.first_backoff = std::time::Duration::from_millis(10);
        engine.retry.connect_timeout = std::time::Duration::from_secs(5);
        engine.retry.read_timeout = std::time::Duration::from_secs(5);
        Ok(engine)
    }

    pub fn run(&self, args: &[&str]) -> (Result<RunReport, Error>, Recorder) {
        self.run_env(args, &[])
    }

    pub fn run_env(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (Result<RunReport, Error>, Recorder) {
        let recorder = Recorder::default();
        let result = self.engine_env(args, env).and_then(|e| e.run(&recorder));
        (result, recorder)
    }

    /// Replaces the `[sysroot]` table of the copied toolchain of `host`
    /// (the last table of the shipped Linux ones) with `table`.
    pub fn set_sysroot_table(&self, host: &str, table: &str) {
        let path = self.root().join("toolchains").join(format!("{host}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let kept = text.split("\n[sysroot]").next().unwrap();
        // Comments just above the table go too; harmless.
        std::fs::write(&path, format!("{kept}\n[sysroot]\n{table}")).unwrap();
    }

    /// Points `mirror://debian/...` of `engine` at this fixture's server,
    /// under `debian/`.
    pub fn use_test_mirror(&self, engine: &mut Engine) {
        engine.mirrors =
            depends::mirror::MirrorResolver::with_debian_bases(vec![self.server.url("debian")]);
    }

    pub fn prefix(&self, host: &str) -> PathBuf {
        self.root().join("depends").join(host)
    }
}

/// A reporter that remembers everything, for assertions.
#[derive(Default)]
pub struct Recorder {
    pub lines: Mutex<Vec<String>>,
}

impl Recorder {
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

impl Reporter for Recorder {
    fn stage(&self, package: &str, stage: Stage) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("[{package}] stage {stage}"));
    }
    fn note(&self, package: &str, message: &str) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("[{package}] note {message}"));
    }
    fn finished(&self, package: &str, summary: &str) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("[{package}] finished {summary}"));
    }
}

/// The ELF `e_machine` of a file, or `None` if it is not ELF.
pub fn elf_machine(path: &Path) -> Option<u16> {
    let bytes = std::fs::read(path).ok()?;
    (bytes.get(..4)? == b"\x7fELF").then(|| u16::from_le_bytes([bytes[18], bytes[19]]))
}

/// The COFF machine of a PE executable, or `None`.
pub fn pe_machine(path: &Path) -> Option<u16> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(..2)? != b"MZ" {
        return None;
    }
    let offset = u32::from_le_bytes(bytes.get(0x3c..0x40)?.try_into().ok()?) as usize;
    (bytes.get(offset..offset + 4)? == b"PE\0\0")
        .then(|| u16::from_le_bytes([bytes[offset + 4], bytes[offset + 5]]))
}
