//! The real thing: the shipped glibc_sysroot recipe (Debian 11's .debs
//! from the machine's mirror) and the shipped [sysroot] flags. A C++
//! program with threads and exceptions, compiled and linked as depends
//! packages are, needs at most GLIBC_2.31 and runs under the sysroot's own
//! glibc 2.31 loader. Needs the network (or SOURCES_PATH holding the
//! .debs) and, for aarch64, the cross compilers; `#[ignore]`d for plain
//! `cargo test`, run by `cargo xtask test`.

use std::path::{Path, PathBuf};
use std::process::Command;

use depends::progress::PlainReporter;
use depends::toolchain::SYSROOT_DIR;
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

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The newest `GLIBC_x.y[.z]` an ELF file imports, as (x, y, z).
fn newest_glibc(file: &Path, objdump: &str) -> (u32, u32, u32) {
    let text = output(Command::new(objdump).arg("-T").arg(file));
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((
                parts.next()??,
                parts.next()??,
                parts.next().flatten().unwrap_or(0),
            ))
        })
        .max()
        .unwrap_or((0, 0, 0))
}

const PROGRAM: &str = r#"#include <iostream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
int main() {
    std::mutex m; int n = 0;
    std::thread t([&] { std::lock_guard<std::mutex> l(m); n += 41; });
    t.join();
    try { throw std::runtime_error("x"); } catch (const std::exception&) { n += 1; }
    std::random_device rd; (void)rd;
    std::cout << n << std::endl;
}
"#;

#[test]
#[ignore = "needs Debian 11's .debs (network or SOURCES_PATH); run by `cargo xtask test`"]
fn the_shipped_sysroot_gives_glibc_2_31_binaries() {
    for (host, triple, objdump) in [
        ("x86_64-pc-linux-gnu", "x86_64-linux-gnu", "objdump"),
        (
            "aarch64-linux-gnu",
            "aarch64-linux-gnu",
            "aarch64-linux-gnu-objdump",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let arg = format!("HOST={host}");
        let engine = engine(dir.path(), &[&arg]);
        let report = engine.run(&PlainReporter).unwrap();
        assert_eq!(report.packages[0].package, "glibc_sysroot");
        let prefix = dir.path().join(host);
        let root = prefix.join(SYSROOT_DIR);
        // What the fix is for: no absolute link left to resolve on this machine.
        let absolute = output(
            Command::new("find")
                .arg(&root)
                .args(["-type", "l", "-lname", "/*"]),
        );
        assert!(absolute.is_empty(), "{absolute}");

        let sysroot = engine
            .host
            .sysroot
            .as_ref()
            .expect("the toolchain has [sysroot]");
        let fill = |t: &str| sysroot.fill(t, &root);
        std::fs::write(dir.path().join("t.cpp"), PROGRAM).unwrap();
        let program = dir.path().join("t");
        let mut cmd = Command::new(&engine.host.cxx[0]);
        cmd.current_dir(dir.path())
            .args(fill(&sysroot.settings.cxxflags).split_whitespace())
            .args(["-std=c++17", "-O2", "-pthread", "t.cpp", "-o"])
            .arg(&program)
            .args(fill(&sysroot.settings.ldflags).split_whitespace())
            .args(["-static-libstdc++", "-static-libgcc"]);
        output(&mut cmd);
        let newest = newest_glibc(&program, objdump);
        assert!(newest <= (2, 31, 0), "{host}: needs GLIBC_{newest:?}");
        if host == "x86_64-pc-linux-gnu" {
            // Under glibc 2.31 itself (a binary with this machine's crt
            // files would crash here).
            let lib = root.join(format!("lib/{triple}"));
            let out = output(
                Command::new(lib.join("ld-2.31.so"))
                    .arg("--library-path")
                    .arg(&lib)
                    .arg(&program),
            );
            assert_eq!(out.trim(), "42");
        }
    }
}
