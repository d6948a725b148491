//! A HOST toolchain with a libc sysroot (`[sysroot]`), on synthetic
//! Debian packages served as a mirror: the sysroot package is fetched per
//! arch, unpacked with its links made relative, built first; every host
//! package builds against it; the cargo config links against it; a new pin
//! rebuilds what was built against the old one. The shipped flags (which
//! need the real Debian 11 files) are replaced by ones that need only what
//! the synthetic packages hold; the real set is `glibc_sysroot_e2e.rs`'s.

mod support;

use support::debs::{add_sysroot, deb, static_library, Item, ServedDeb};
use support::packages::{Fixture, Package, Recorder};

const HOST: &str = "x86_64-pc-linux-gnu";

/// What the synthetic sysroot asks of a compiler: its headers and
/// libraries first. `{gcc_include}` is probed but not needed here.
const TABLE: &str = r#"package = "glibc_sysroot"
cflags = "-isystem {target_sysroot}/usr/include"
ldflags = "-L{target_sysroot}/usr/lib/x86_64-linux-gnu"
rustflags = ["-L", "native={target_sysroot}/usr/lib/x86_64-linux-gnu"]
env = { SYSROOT_MARK = "{target_sysroot}" }
"#;

/// Two amd64 packages (a header with an absolute link beside it; a
/// library) and one arm64 package that an x86_64 run must never fetch.
fn debs(fx: &Fixture, value: i32) -> Vec<ServedDeb> {
    let lib = static_library(fx.dir.path(), "marker", value);
    vec![
        ServedDeb {
            arch: "x86_64",
            file_name: "marker-dev_1.0_amd64.deb".into(),
            bytes: deb(&[
                (
                    "usr/include/marker.h",
                    Item::File(b"int marker_value(void);\n"),
                ),
                (
                    "lib/x86_64-linux-gnu/libother.so.1",
                    Item::File(b"not linked"),
                ),
                (
                    "usr/lib/x86_64-linux-gnu/libother.so",
                    Item::Link("/lib/x86_64-linux-gnu/libother.so.1"),
                ),
                ("usr/share/doc/marker-dev/copyright", Item::File(b"free")),
            ]),
        },
        ServedDeb {
            arch: "x86_64",
            file_name: "libmarker_1.0_amd64.deb".into(),
            bytes: deb(&[("usr/lib/x86_64-linux-gnu/libmarker.a", Item::File(&lib))]),
        },
        ServedDeb {
            arch: "aarch64",
            file_name: "libmarker_1.0_arm64.deb".into(),
            bytes: deb(&[("usr/include/arm64-only.h", Item::File(b""))]),
        },
    ]
}

/// foo includes <marker.h> and links -lmarker, neither of which it names
/// as a dependency: they come from the sysroot or nowhere.
fn fixture(value: i32) -> (Fixture, Vec<ServedDeb>) {
    let fx = Fixture::new();
    fx.set_sysroot_table(HOST, TABLE);
    let debs = debs(&fx, value);
    add_sysroot(&fx, &debs);
    fx.add(&Package::c_library("foo", &["marker"], None));
    (fx, debs)
}

fn run(fx: &Fixture, args: &[&str]) -> depends::report::RunReport {
    let mut engine = fx.engine(args).unwrap();
    fx.use_test_mirror(&mut engine);
    let log = Recorder::default();
    engine
        .run(&log)
        .unwrap_or_else(|e| panic!("{e}\n{}", log.text()))
}

#[test]
fn host_packages_and_the_cargo_config_use_the_sysroot() {
    let (fx, debs) = fixture(41);
    let report = run(&fx, &["NO_SYSROOT=0"]);
    let names: Vec<&str> = report.packages.iter().map(|p| p.package.as_str()).collect();
    assert_eq!(names, ["glibc_sysroot", "foo"]);

    let prefix = fx.prefix(HOST);
    // foo found the sysroot's header and library: 0 + 1 + 41.
    let out = std::process::Command::new(prefix.join("bin/foo-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "foo 42\n");

    // The root is in sysroot/, its absolute link made relative, docs gone.
    let sysroot = prefix.join("sysroot");
    let link = sysroot.join("usr/lib/x86_64-linux-gnu/libother.so");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        std::path::Path::new("../../../lib/x86_64-linux-gnu/libother.so.1")
    );
    assert_eq!(std::fs::read(&link).unwrap(), b"not linked");
    assert!(!sysroot.join("usr/share").exists());
    // Only the HOST's arch was fetched.
    assert!(fx
        .server
        .requests(&format!("debian/{}", debs[2].pool_path()))
        .is_empty());
    assert!(!sysroot.join("usr/include/arm64-only.h").exists());

    // cargo gets the flags with the prefix's sysroot filled in.
    let config = std::fs::read_to_string(prefix.join("cargo-config.toml")).unwrap();
    let root = sysroot.display().to_string();
    for expected in [
        format!("\"native={root}/usr/lib/x86_64-linux-gnu\""),
        format!("SYSROOT_MARK = \"{root}\""),
        format!("CFLAGS_x86_64_unknown_linux_gnu = \"-isystem {root}/usr/include -pipe -O2\""),
        "C1PZO_NO_SYSROOT = \"0\"".to_string(),
    ] {
        assert!(config.contains(&expected), "{expected}\n{config}");
    }

    // The ids say what foo was built against; the second run does nothing.
    let engine = fx.engine(&["NO_SYSROOT=0"]).unwrap();
    let foo = engine.packages.iter().find(|p| p.name() == "foo").unwrap();
    assert!(
        foo.preimage.contains_key("dependency glibc_sysroot"),
        "{:?}",
        foo.preimage
    );
    assert!(
        foo.preimage.contains_key("toolchain sysroot CFLAGS"),
        "{:?}",
        foo.preimage
    );
    let sysroot_pkg = &engine.packages[0];
    assert!(sysroot_pkg
        .preimage
        .contains_key("source libmarker_1.0_amd64.deb"));
    assert!(!sysroot_pkg
        .preimage
        .contains_key("source libmarker_1.0_arm64.deb"));
    assert!(!run(&fx, &["NO_SYSROOT=0"]).prefix_updated);

    // NO_SYSROOT=1: no sysroot package, ids of the plain toolchain.
    let plain = fx.engine(&["NO_SYSROOT=1"]).unwrap();
    let names: Vec<&str> = plain.packages.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["foo"]);
}

#[test]
fn a_new_pin_rebuilds_the_sysroot_and_what_was_built_against_it() {
    let (fx, _) = fixture(41);
    run(&fx, &["NO_SYSROOT=0"]);
    // The same file name with other bytes: a re-pin.
    let debs = debs(&fx, 99);
    add_sysroot(&fx, &debs);
    let plan = fx.engine(&["NO_SYSROOT=0"]).unwrap().plan().unwrap();
    let sysroot = &plan[0];
    assert_eq!(sysroot.action.as_str(), "rebuild");
    assert!(
        sysroot
            .reasons
            .iter()
            .any(|r| r.starts_with("source libmarker_1.0_amd64.deb: ")),
        "{:?}",
        sysroot.reasons
    );
    assert_eq!(sysroot.sources.len(), 2, "the HOST's two .debs");
    let foo = &plan[1];
    assert!(
        foo.reasons
            .iter()
            .any(|r| r.starts_with("dependency glibc_sysroot: ")),
        "{:?}",
        foo.reasons
    );
    run(&fx, &["NO_SYSROOT=0"]);
    let out = std::process::Command::new(fx.prefix(HOST).join("bin/foo-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "foo 100\n");
}

#[test]
fn a_host_with_a_sysroot_but_no_recipe_for_it_says_what_to_do() {
    let fx = Fixture::new();
    fx.set_sysroot_table(HOST, TABLE);
    fx.add(&Package::c_library("foo", &[], None));
    let err = fx.engine(&["NO_SYSROOT=0"]).err().unwrap().to_string();
    assert!(
        err.contains("`glibc_sysroot`, which has no recipe") && err.contains("NO_SYSROOT=1"),
        "{err}"
    );
}

#[test]
fn a_sysroot_without_sources_for_the_hosts_arch_is_refused() {
    let fx = Fixture::new();
    fx.set_sysroot_table(HOST, TABLE);
    let mut debs = debs(&fx, 41);
    debs.retain(|d| d.arch == "aarch64");
    add_sysroot(&fx, &debs);
    let err = fx.engine(&["NO_SYSROOT=0"]).err().unwrap().to_string();
    assert!(err.contains("no [[source]] is for arch x86_64"), "{err}");
}
