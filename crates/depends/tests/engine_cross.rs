//! Cross builds with the shipped toolchains: the host packages come out
//! for the host's architecture, natives for the build machine (and are
//! shared across HOSTs), and the aarch64 runner really runs the result.
//! Needs the Debian cross packages `.ci/run` installs.

mod support;

use support::packages::{elf_machine, pe_machine, Fixture, Package};

const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const PE_AMD64: u16 = 0x8664;

fn packages(fx: &Fixture) {
    fx.add(&Package::native_tool("native_gen"));
    fx.add(&Package::c_library("foo", &[], None).group(None));
    fx.add(&Package::c_library("bar", &["foo"], Some("gen")).depends_on(&["foo", "native_gen"]));
}

#[test]
fn aarch64_and_mingw_builds_use_their_cross_compilers_and_share_natives() {
    let fx = Fixture::new();
    packages(&fx);

    let (report, log) = fx.run(&["HOST=aarch64-linux-gnu"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let prefix = fx.prefix("aarch64-linux-gnu");
    assert_eq!(elf_machine(&prefix.join("bin/bar-hello")), Some(EM_AARCH64));
    assert_eq!(elf_machine(&prefix.join("native/bin/gen")), Some(EM_X86_64));
    let native = report
        .packages
        .iter()
        .find(|p| p.package == "native_gen")
        .unwrap();
    assert!(
        native
            .tarball
            .starts_with(fx.base_cache().join("x86_64-pc-linux-gnu")),
        "natives are cached under the build machine's triple: {}",
        native.tarball.display()
    );
    // The toolchain's runner (qemu-aarch64 with the aarch64 sysroot) runs it.
    let config = std::fs::read_to_string(prefix.join("cargo-config.toml")).unwrap();
    assert!(
        config.contains("runner = [\"qemu-aarch64\", \"-L\", \"/usr/aarch64-linux-gnu\"]"),
        "{config}"
    );
    assert!(
        config.contains("linker = \"aarch64-linux-gnu-gcc\""),
        "{config}"
    );
    assert!(
        config.contains("PKG_CONFIG_ALLOW_CROSS = \"1\""),
        "{config}"
    );
    let out = std::process::Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(prefix.join("bin/bar-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "bar 43\n");

    let (report, log) = fx.run(&["HOST=x86_64-w64-mingw32"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let prefix = fx.prefix("x86_64-w64-mingw32");
    assert_eq!(
        pe_machine(&prefix.join("bin/bar-hello.exe")),
        Some(PE_AMD64)
    );
    let native = report
        .packages
        .iter()
        .find(|p| p.package == "native_gen")
        .unwrap();
    assert_eq!(
        native.status.as_str(),
        "cached",
        "the native built for aarch64 is reused"
    );
    // The toolchain's cargo settings reach the config: static linking,
    // the extra environment, and preprocessor flags for crates' C only.
    let config = std::fs::read_to_string(prefix.join("cargo-config.toml")).unwrap();
    for expected in [
        "runner = [\"wine\"]",
        "rustflags = [\"-C\", \"target-feature=+crt-static\"]",
        "CXXSTDLIB_STATIC_x86_64_pc_windows_gnu = \"1\"",
        "CXXFLAGS_x86_64_pc_windows_gnu = \"-DSECP256K1_STATIC -DENABLE_MODULE_ELLSWIFT=1 ",
    ] {
        assert!(
            config.contains(expected),
            "{expected} missing from\n{config}"
        );
    }

    // Rust triples are accepted and mapped to the GNU ones.
    let engine = fx.engine(&["HOST=aarch64-unknown-linux-gnu"]).unwrap();
    assert_eq!(engine.host.triple, "aarch64-linux-gnu");
    assert!(engine
        .run(&support::packages::Recorder::default())
        .unwrap()
        .packages
        .iter()
        .all(|p| p.status.as_str() == "cached"));
}
