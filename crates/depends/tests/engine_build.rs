//! The engine end to end on synthetic packages: build, install, no-op,
//! caching across options, parallelism under the jobserver, reproducibility.

mod support;

use std::path::Path;

use support::packages::{Fixture, Package};

const HOST: &str = "x86_64-pc-linux-gnu";

/// native_gen (a tool) <- bar (runs it, links foo) <- foo.
fn three_packages(fx: &Fixture) {
    fx.add(&Package::native_tool("native_gen"));
    fx.add(&Package::c_library("foo", &[], None).group(None));
    fx.add(&Package::c_library("bar", &["foo"], Some("gen")).depends_on(&["foo", "native_gen"]));
}

#[test]
fn builds_installs_and_then_does_nothing() {
    let fx = Fixture::new();
    three_packages(&fx);
    let (report, log) = fx.run(&[]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let built: Vec<(&str, &str)> = report
        .packages
        .iter()
        .map(|p| (p.package.as_str(), p.status.as_str()))
        .collect();
    // Dependencies come first, in the order bar lists them.
    assert_eq!(
        built,
        [("foo", "built"), ("native_gen", "built"), ("bar", "built")]
    );
    assert!(report.prefix_updated);

    let prefix = fx.prefix(HOST);
    for file in [
        "lib/libfoo.a",
        "lib/libbar.a",
        "include/bar.h",
        "native/bin/gen",
        "bin/bar-hello",
    ] {
        assert!(prefix.join(file).is_file(), "missing {file}");
    }
    // bar's value is gen's 41 + 1 + foo's (0 + 1): the native tool ran and
    // foo's header and library came from bar's private sysroot.
    let out = std::process::Command::new(prefix.join("bin/bar-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "bar 43\n");
    // pkg-config files name the real prefix, not the build-time placeholder.
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/foo.pc")).unwrap();
    assert!(
        pc.starts_with(&format!("prefix={}\n", prefix.display())),
        "{pc}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(prefix.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["packages"].as_array().unwrap().len(), 3);
    let config = std::fs::read_to_string(prefix.join("cargo-config.toml")).unwrap();
    assert!(
        config.contains("target = \"x86_64-unknown-linux-gnu\""),
        "{config}"
    );
    assert!(
        config.contains(&format!(
            "PKG_CONFIG_PATH_x86_64_unknown_linux_gnu = \"{}/lib/pkgconfig\"",
            prefix.display()
        )),
        "{config}"
    );
    assert!(prefix.join("env").is_file());
    assert!(prefix
        .join(format!(".stamp_{}", report.final_build_id))
        .is_file());
    // Work folders are gone after success.
    assert_eq!(
        std::fs::read_dir(fx.root().join("depends/work/x86_64-pc-linux-gnu/foo"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );

    let requests = fx.server.request_count("files/foo-1.0.tar.gz");
    let stray = prefix.join("stray-file");
    std::fs::write(&stray, "x").unwrap();
    let (again, _) = fx.run(&[]);
    let again = again.unwrap();
    assert!(!again.prefix_updated, "a no-op run leaves the prefix alone");
    assert!(again.packages.iter().all(|p| p.status.as_str() == "cached"));
    assert!(stray.exists(), "the prefix was not rewritten");
    assert_eq!(
        fx.server.request_count("files/foo-1.0.tar.gz"),
        requests,
        "a cache hit needs no network"
    );
}

#[test]
fn a_cache_hit_needs_no_sources_at_all() {
    let fx = Fixture::new();
    three_packages(&fx);
    fx.run(&[]).0.unwrap();
    std::fs::remove_dir_all(fx.sources()).unwrap();
    std::fs::remove_dir_all(fx.prefix(HOST)).unwrap();
    let (report, _) = fx.run(&[]);
    let report = report.unwrap();
    assert!(report.prefix_updated);
    assert!(report
        .packages
        .iter()
        .all(|p| p.status.as_str() == "cached"));
}

#[test]
fn switching_debug_back_and_forth_reuses_both_builds() {
    let fx = Fixture::new();
    three_packages(&fx);
    fx.run(&[]).0.unwrap();
    let debug = fx.run(&["DEBUG=1"]).0.unwrap();
    let statuses: Vec<(&str, &str)> = debug
        .packages
        .iter()
        .map(|p| (p.package.as_str(), p.status.as_str()))
        .collect();
    // Natives do not depend on DEBUG; host packages do.
    assert_eq!(
        statuses,
        [("foo", "built"), ("native_gen", "cached"), ("bar", "built")]
    );
    let release = fx.run(&["DEBUG=0"]).0.unwrap();
    assert!(release.prefix_updated);
    assert!(
        release
            .packages
            .iter()
            .all(|p| p.status.as_str() == "cached"),
        "the release builds were kept"
    );
}

#[test]
fn plan_says_why_a_package_rebuilds() {
    let fx = Fixture::new();
    three_packages(&fx);
    fx.run(&[]).0.unwrap();
    let plan = fx.engine(&["DEBUG=1"]).unwrap().plan().unwrap();
    let foo = plan.iter().find(|e| e.package == "foo").unwrap();
    assert_eq!(foo.action.as_str(), "rebuild");
    assert!(
        foo.reasons
            .iter()
            .any(|r| r == "release_type: release -> debug"),
        "{:?}",
        foo.reasons
    );
    let bar = plan.iter().find(|e| e.package == "bar").unwrap();
    assert!(
        bar.reasons
            .iter()
            .any(|r| r.starts_with("dependency foo: ")),
        "{:?}",
        bar.reasons
    );
    let gen = plan.iter().find(|e| e.package == "native_gen").unwrap();
    assert_eq!(gen.action.as_str(), "cached");

    let salted = fx.engine(&["HOST_ID_SALT=other"]).unwrap().plan().unwrap();
    let foo = salted.iter().find(|e| e.package == "foo").unwrap();
    assert!(
        foo.reasons
            .iter()
            .any(|r| r == "toolchain salt: salt -> other"),
        "{:?}",
        foo.reasons
    );

    let fresh = Fixture::new();
    three_packages(&fresh);
    let plan = fresh.engine(&[]).unwrap().plan().unwrap();
    assert!(plan
        .iter()
        .all(|e| e.action.as_str() == "build" && !e.source_present));
}

#[test]
fn cached_tarballs_are_reproducible() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let first = fx.run(&[]).0.unwrap();
    std::fs::remove_dir_all(fx.base_cache()).unwrap();
    let second = fx.run(&[]).0.unwrap();
    assert_eq!(second.packages[0].status.as_str(), "built");
    assert_eq!(first.packages[0].sha256, second.packages[0].sha256);
}

#[test]
fn builds_do_not_depend_on_where_they_ran() {
    // Two checkouts at different paths, with debug info (which records the
    // compiler's working folder and include paths): every package, natives
    // and those built against another's headers too, must come out the same.
    let (one, two) = (Fixture::new(), Fixture::new());
    three_packages(&one);
    three_packages(&two);
    let first = one.run(&["DEBUG=1"]).0.unwrap();
    let second = two.run(&["DEBUG=1"]).0.unwrap();
    assert_ne!(one.root(), two.root());
    let sums = |report: &depends::report::RunReport| -> Vec<(String, String)> {
        report
            .packages
            .iter()
            .map(|p| (p.package.clone(), p.sha256.clone()))
            .collect()
    };
    assert_eq!(sums(&first), sums(&second));
}

/// Two independent packages each wait (up to a limit) for the other to
/// start. Under JOBS=2 they meet; under JOBS=1 the jobserver keeps the
/// second from starting until the first is done, so the first waits alone.
fn meeting_package(name: &str, other: &str, dir: &Path, patience_s: u32) -> Package {
    let mut p = Package::c_library(name, &[], None);
    let mark = dir.display();
    let makefile = format!(
        "all:\n\ttouch {mark}/started-{name}\n\tfor i in $$(seq 1 {ticks}); do test -e {mark}/started-{other} && break; sleep 0.1; done\n\tif test -e {mark}/started-{other}; then echo met > {mark}/result-{name}; else echo alone > {mark}/result-{name}; fi\ninstall:\n\tmkdir -p $(DESTDIR)$(PREFIX)/share\n\ttouch $(DESTDIR)$(PREFIX)/share/{name}\n",
        ticks = patience_s * 10
    );
    p.files = vec![("Makefile".into(), makefile)];
    p
}

#[test]
fn independent_packages_build_concurrently_within_jobs() {
    for (jobs, expected) in [("JOBS=2", "met"), ("JOBS=1", "alone")] {
        let fx = Fixture::new();
        let marks = fx.dir.path().join("marks");
        std::fs::create_dir_all(&marks).unwrap();
        fx.add(&meeting_package("left", "right", &marks, 3));
        fx.add(&meeting_package("right", "left", &marks, 3));
        let mut engine = fx.engine(&[jobs]).unwrap();
        engine.options.jobs = if jobs == "JOBS=1" { 1 } else { 2 };
        engine.run(&support::packages::Recorder::default()).unwrap();
        let first = std::fs::read_to_string(marks.join("result-left")).unwrap();
        let second = std::fs::read_to_string(marks.join("result-right")).unwrap();
        let results = [first.trim(), second.trim()];
        assert!(results.contains(&expected), "{jobs}: {results:?}");
        if expected == "met" {
            assert_eq!(results, ["met", "met"]);
        }
    }
}

#[test]
fn log_1_keeps_the_log_beside_the_tarball() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let report = fx.run(&["LOG=1"]).0.unwrap();
    let mut log = report.packages[0].tarball.clone().into_os_string();
    log.push(".log");
    let text = std::fs::read_to_string(log).unwrap();
    assert!(
        text.contains("=== build") && text.contains("foo.c"),
        "{text}"
    );
}

#[test]
fn print_reports_ids_paths_and_preimages() {
    let fx = Fixture::new();
    three_packages(&fx);
    let engine = fx.engine(&[]).unwrap();
    let id = engine.print("final_build_id").unwrap();
    assert!(
        id.starts_with("final_build_id=") && id.len() == "final_build_id=".len() + 11,
        "{id}"
    );
    assert_eq!(engine.print("HOST").unwrap(), "HOST=x86_64-pc-linux-gnu");
    assert_eq!(
        engine.print("BASE_CACHE").unwrap(),
        format!("BASE_CACHE={}", fx.base_cache().display())
    );
    assert!(engine
        .print("foo_build_id_long")
        .unwrap()
        .contains("release_type = release"));
    assert!(engine.print("foo_cached").unwrap().ends_with(".tar.gz"));
    let err = engine.print("nope").unwrap_err().to_string();
    assert!(err.contains("unknown variable `nope`"), "{err}");
    // The id is stable across engines and changes with the selection.
    assert_eq!(fx.engine(&[]).unwrap().print("final_build_id").unwrap(), id);
    assert_ne!(
        fx.engine(&["DEBUG=1"])
            .unwrap()
            .print("final_build_id")
            .unwrap(),
        id
    );
}

#[test]
fn groups_follow_the_options() {
    let fx = Fixture::new();
    fx.add(&Package::native_tool("native_gen").group(Some("multiprocess")));
    fx.add(&Package::c_library("foo", &[], None).group(Some("wallet")));
    let names = |args: &[&str]| -> Vec<String> {
        fx.engine(args)
            .unwrap()
            .packages
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    };
    assert_eq!(names(&[]), ["foo"]);
    assert_eq!(names(&["MULTIPROCESS=1"]), ["foo", "native_gen"]);
    assert_eq!(names(&["MULTIPROCESS=1", "NO_WALLET=1"]), ["native_gen"]);
    assert!(names(&["MULTIPROCESS=0", "NO_WALLET=1"]).is_empty());
}

#[test]
fn gc_keeps_what_the_prefix_uses_and_the_newest_builds() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let release = fx.run(&[]).0.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let debug = fx.run(&["DEBUG=1"]).0.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let salted = fx.run(&["HOST_ID_SALT=x"]).0.unwrap();
    // Keep the two newest: the release build, the oldest, goes.
    let removed = fx.engine(&[]).unwrap().gc(2).unwrap();
    assert_eq!(removed, [release.packages[0].tarball.clone()]);
    assert!(debug.packages[0].tarball.exists() && salted.packages[0].tarball.exists());
    // Reinstall the release build, then keep only one: the newest (salted)
    // stays, and so does the one the prefix uses, whatever its age.
    std::fs::remove_dir_all(fx.base_cache().join("x86_64-pc-linux-gnu/foo")).unwrap();
    let release = fx.run(&[]).0.unwrap();
    let removed = fx.engine(&[]).unwrap().gc(0).unwrap();
    assert!(removed.is_empty(), "{removed:?}");
    assert!(
        release.packages[0].tarball.exists(),
        "the installed build is protected"
    );
}

#[test]
fn v_1_echoes_every_command() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let (report, log) = fx.run(&["V=1"]);
    report.unwrap();
    assert!(
        log.text().contains("[foo] note + make V=1 CC=gcc"),
        "{}",
        log.text()
    );
}

/// Each job of these Makefiles records how many jobs (of both packages) run
/// at that moment. The count may under-read a little, never over-read, so
/// a count above JOBS would mean the jobserver was bypassed.
fn busy_package(name: &str, slots: &Path) -> Package {
    let mut p = Package::c_library(name, &[], None);
    let dir = slots.display();
    let makefile = format!(
        "all: j1 j2 j3 j4\nj%:\n\t@touch {dir}/{name}-$@; ls {dir} | wc -l >> {dir}/../counts; sleep 0.4; rm {dir}/{name}-$@\ninstall:\n\tmkdir -p $(DESTDIR)$(PREFIX)/share\n\ttouch $(DESTDIR)$(PREFIX)/share/{name}\n"
    );
    p.files = vec![("Makefile".into(), makefile)];
    p
}

#[test]
fn total_jobs_across_packages_never_exceed_jobs() {
    for jobs in [2usize, 4] {
        let fx = Fixture::new();
        let slots = fx.dir.path().join("marks/slots");
        std::fs::create_dir_all(&slots).unwrap();
        fx.add(&busy_package("left", &slots));
        fx.add(&busy_package("right", &slots));
        let mut engine = fx.engine(&[]).unwrap();
        engine.options.jobs = jobs;
        engine.run(&support::packages::Recorder::default()).unwrap();
        let counts = std::fs::read_to_string(fx.dir.path().join("marks/counts")).unwrap();
        let most = counts
            .lines()
            .filter_map(|l| l.trim().parse::<usize>().ok())
            .max()
            .unwrap();
        assert!(most <= jobs, "JOBS={jobs} but {most} jobs ran at once");
        // With room to spare, make really does run several jobs at once,
        // so the check above can fail.
        if jobs == 4 {
            assert!(most > 2, "JOBS=4 but at most {most} jobs ran at once");
        }
    }
}

#[test]
fn a_changed_toolchain_rewrites_the_cargo_config() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    fx.run(&[]).0.unwrap();
    let path = fx.root().join("toolchains/x86_64-pc-linux-gnu.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("linker = \"gcc\"", "linker = \"cc\"")).unwrap();
    let report = fx.run(&[]).0.unwrap();
    assert!(
        report.prefix_updated,
        "the linker changed, so the config must be rewritten"
    );
    let config = std::fs::read_to_string(fx.prefix(HOST).join("cargo-config.toml")).unwrap();
    assert!(config.contains("linker = \"cc\""), "{config}");
    assert_eq!(
        report.packages[0].status.as_str(),
        "cached",
        "no package depends on the linker"
    );
}

#[test]
fn the_env_file_puts_the_native_tools_first_on_path() {
    let fx = Fixture::new();
    fx.add(&Package::native_tool("native_gen").group(Some("base")));
    fx.run(&[]).0.unwrap();
    let env = fx.prefix(HOST).join("env");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(". '{}' && command -v gen", env.display()))
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        found.trim(),
        fx.prefix(HOST).join("native/bin/gen").display().to_string()
    );
}
