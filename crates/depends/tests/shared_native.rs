//! One program, one build: a native that names a host package in
//! `from_host_build` is taken from that package's build when HOST is the
//! build machine, and built on its own for other HOSTs.

mod support;

use support::packages::{Fixture, Package};

const BUILD: &str = "x86_64-pc-linux-gnu";

/// `tool` for the host (group base) and `native_tool`, the same program
/// for the build machine, taken from the host build when they are one.
fn tool_and_its_native(fx: &Fixture) {
    let host = Package::c_library("tool", &[], None);
    fx.add(&host);
    let mut native = Package::c_library("tool", &[], None);
    native.name = "native_tool".into();
    let bytes = host.tarball();
    let url = fx.server.url(&format!("files/{}", host.file_name()));
    let sha = support::packages::sha256_hex(&bytes);
    // The native recipe points at the same source file; its build would
    // compile the same program. It drops the static library on the way,
    // as native_capnp drops lib/pkgconfig.
    let text = host
        .recipe(&sha, &url, "make")
        .replace("group = \"base\"\n", "from_host_build = \"tool\"\n")
        .replace("[build]\n", "[build]\nremove = [\"lib/libtool.a\"]\n");
    fx.write_recipe_text(&native.name, &text);
    // `tool` depends on its native, as capnp does on native_capnp.
    let with_dep = host.depends_on(&["native_tool"]);
    fx.write_recipe(&with_dep, &sha, "make");
}

#[test]
fn on_the_build_machine_the_native_is_the_host_build() {
    let fx = Fixture::new();
    tool_and_its_native(&fx);
    let (report, log) = fx.run(&[]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let order: Vec<(&str, &str)> = report
        .packages
        .iter()
        .map(|p| (p.package.as_str(), p.status.as_str()))
        .collect();
    assert_eq!(order, [("tool", "built"), ("native_tool", "built")]);
    let native = &report.packages[1];
    let stages: Vec<&str> = native.stages.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(stages, ["derive"], "nothing compiled for the native");
    // Fetched once: the native needs no source of its own.
    assert_eq!(fx.server.request_count("files/tool-1.0.tar.gz"), 1);

    let prefix = fx.prefix(BUILD);
    let out = std::process::Command::new(prefix.join("native/bin/tool-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "tool 1\n");
    assert!(prefix.join("lib/libtool.a").is_file());
    assert!(
        !prefix.join("native/lib/libtool.a").exists(),
        "the native's own remove list applies"
    );

    // And the next run does nothing.
    let (again, _) = fx.run(&[]);
    let again = again.unwrap();
    assert!(again.packages.iter().all(|p| p.status.as_str() == "cached"));
    assert!(!again.prefix_updated);
}

#[test]
fn a_debug_host_build_does_not_serve_as_the_native() {
    let fx = Fixture::new();
    tool_and_its_native(&fx);
    let (report, log) = fx.run(&["DEBUG=1"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let native = report
        .packages
        .iter()
        .find(|p| p.package == "native_tool")
        .unwrap();
    assert!(
        native.stages.iter().any(|(s, _)| s == "build"),
        "a DEBUG=1 host build is not a native tool: {:?}",
        native.stages
    );
}

#[test]
fn another_host_builds_the_native_on_its_own() {
    let fx = Fixture::new();
    tool_and_its_native(&fx);
    // Planning only: the aarch64 cross compilers are probed, not run.
    let engine = fx
        .engine(&["HOST=aarch64-linux-gnu"])
        .unwrap_or_else(|e| panic!("{e}"));
    let native = engine
        .packages
        .iter()
        .find(|p| p.name() == "native_tool")
        .unwrap();
    assert!(native.selected.derived_from.is_none());
    assert!(native.preimage.contains_key("source sha256"));
    let host = engine.packages.iter().find(|p| p.name() == "tool").unwrap();
    assert!(host
        .deps
        .iter()
        .any(|&d| engine.packages[d].name() == "native_tool"));
}
