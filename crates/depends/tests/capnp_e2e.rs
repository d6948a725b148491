//! The real thing: `MULTIPROCESS=1` builds Cap'n Proto 1.1.0 from the
//! shipped recipes with the shipped toolchains. Slow when BASE_CACHE is cold
//! (minutes), so `#[ignore]`d for plain `cargo test`; `cargo xtask test`
//! runs it. It shares SOURCES_PATH and BASE_CACHE with the user (from the
//! environment, or ~/.cache/c1pzo), but installs into its own prefix.

use std::path::{Path, PathBuf};
use std::process::Command;

use depends::progress::PlainReporter;
use depends::{Engine, Layout, Options};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn engine(depends_dir: &Path, args: &[&str]) -> Engine {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let options = Options::parse(&args, &|key| std::env::var(key).ok()).unwrap();
    let layout = Layout {
        depends: depends_dir.to_path_buf(),
        ..Layout::for_repository(&repo(), &options)
    };
    Engine::new(layout, options).unwrap()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "slow: builds Cap'n Proto when BASE_CACHE is cold; run by `cargo xtask test`"]
fn multiprocess_builds_capnp_for_the_build_machine() {
    let dir = tempfile::tempdir().unwrap();
    let report = engine(dir.path(), &["MULTIPROCESS=1"])
        .run(&PlainReporter)
        .unwrap();
    let prefix = dir.path().join("x86_64-pc-linux-gnu");
    let names: Vec<&str> = report.packages.iter().map(|p| p.package.as_str()).collect();
    // One Cap'n Proto build: on the build machine, the compiler is taken
    // from the host package's build (from_host_build), not built again.
    // Both after the glibc sysroot capnp is built against.
    assert_eq!(names, ["glibc_sysroot", "capnp", "native_capnp"]);
    // The record beside the cached tarball says so (the build may be a
    // cache hit from an earlier run, so its stages are not looked at).
    let mut record = report.packages[2].tarball.clone().into_os_string();
    record.push(".json");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(record["preimage"]["derived from"], "capnp", "{record}");
    assert!(
        record["preimage"].get("source sha256").is_none(),
        "{record}"
    );

    let version = run(Command::new(prefix.join("native/bin/capnp")).arg("--version"));
    assert_eq!(version.trim(), "Cap'n Proto version 1.1.0");
    for file in [
        "lib/libcapnp.a",
        "lib/libkj.a",
        "lib/libcapnp-rpc.a",
        "include/capnp/message.h",
        "native/bin/capnpc-c++",
    ] {
        assert!(prefix.join(file).exists(), "missing {file}");
    }
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/capnp.pc")).unwrap();
    assert!(pc.contains(&format!("prefix={}", prefix.display())), "{pc}");
    let config = std::fs::read_to_string(prefix.join("cargo-config.toml")).unwrap();
    assert!(
        config.contains(&format!(
            "CAPNP = \"{}/native/bin/capnp\"",
            prefix.display()
        )),
        "{config}"
    );
    assert!(config.contains("C1PZO_MULTIPROCESS = \"1\""), "{config}");

    // The libraries and compiler work together: compile a schema with the
    // native compiler, build a program against the host libraries found by
    // pkg-config, run it.
    let work = dir.path().join("check");
    std::fs::create_dir_all(&work).unwrap();
    // The schema imports a standard import, which the relocated compiler
    // must find by itself (recipes/patches/native_capnp): no -I given.
    std::fs::write(
        work.join("point.capnp"),
        "@0xd0a5f3a6b8a7c1e3;\nusing Cxx = import \"/capnp/c++.capnp\";\n$Cxx.namespace(\"check\");\n\
         struct Point { x @0 :Int32; y @1 :Int32; }\n",
    )
    .unwrap();
    std::fs::write(
        work.join("main.c++"),
        "#include \"point.capnp.h\"\n#include <capnp/message.h>\n#include <iostream>\n\
         int main() { capnp::MallocMessageBuilder m; auto p = m.initRoot<check::Point>(); p.setX(3); p.setY(4);\n\
         std::cout << p.asReader().getX() * p.asReader().getY() << std::endl; }\n",
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        prefix.join("native/bin").display(),
        std::env::var("PATH").unwrap()
    );
    run(Command::new(prefix.join("native/bin/capnp"))
        .args(["compile", "-oc++", "point.capnp"])
        .current_dir(&work)
        .env("PATH", &path));
    let flags = run(Command::new("pkg-config")
        .args(["--static", "--cflags", "--libs", "capnp"])
        .env("PKG_CONFIG_LIBDIR", prefix.join("lib/pkgconfig")));
    let mut compile = Command::new("g++");
    compile
        .args(["-std=c++20", "main.c++", "point.capnp.c++", "-o", "point"])
        .current_dir(&work);
    compile.args(flags.split_whitespace());
    run(&mut compile);
    assert_eq!(run(&mut Command::new(work.join("point"))).trim(), "12");

    let again = engine(dir.path(), &["MULTIPROCESS=1"])
        .run(&PlainReporter)
        .unwrap();
    assert!(!again.prefix_updated, "a second run is a no-op");
    assert!(again.packages.iter().all(|p| p.status.as_str() == "cached"));
}

/// `file`'s description of the first object inside a static library.
fn first_object_kind(archive: &Path, tmp: &Path) -> String {
    let members = run(Command::new("ar").arg("t").arg(archive));
    let first = members.lines().next().expect("empty archive").to_string();
    run(Command::new("ar")
        .arg("x")
        .arg(archive)
        .arg(&first)
        .current_dir(tmp));
    run(Command::new("file").arg("-b").arg(tmp.join(&first)))
}

#[test]
#[ignore = "slow: cross-builds Cap'n Proto twice when BASE_CACHE is cold; run by `cargo xtask test`"]
fn multiprocess_cross_builds_capnp_for_aarch64_and_windows() {
    for (host, expected) in [
        ("aarch64-linux-gnu", "ARM aarch64"),
        ("x86_64-w64-mingw32", "amd64 COFF"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let arg = format!("HOST={host}");
        let report = engine(dir.path(), &["MULTIPROCESS=1", &arg])
            .run(&PlainReporter)
            .unwrap();
        let native = report
            .packages
            .iter()
            .find(|p| p.package == "native_capnp")
            .unwrap();
        assert!(native
            .tarball
            .to_string_lossy()
            .contains("/x86_64-pc-linux-gnu/native_capnp/"));
        let prefix = dir.path().join(host);
        let kind = first_object_kind(&prefix.join("lib/libcapnp.a"), dir.path());
        assert!(kind.contains(expected), "{host}: {kind}");
        let version = run(Command::new(prefix.join("native/bin/capnp")).arg("--version"));
        assert_eq!(version.trim(), "Cap'n Proto version 1.1.0");
        assert!(prefix.join("lib/pkgconfig/capnp.pc").is_file());
    }
}
