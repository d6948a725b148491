//! Every fault the depends issue names, each a test: bad downloads, bad
//! recipes, unknown hosts and missing compilers, failing builds, killed
//! runs and damaged caches. Each checks the error says what to do and that
//! nothing is lost or half-installed.

mod support;

use support::packages::{files_under, sha256_hex, Fixture, Package};

const HOST: &str = "x86_64-pc-linux-gnu";

#[test]
fn sha256_mismatch_names_url_hashes_and_size_and_leaves_nothing() {
    let fx = Fixture::new();
    let foo = Package::c_library("foo", &[], None);
    let wrong = "0".repeat(64);
    fx.add_with(&foo, Some(&wrong), "make");
    let (result, _) = fx.run(&[]);
    let err = result.unwrap_err().to_string();
    let actual = sha256_hex(&foo.tarball());
    assert!(
        err.contains(&fx.server.url("files/foo-1.0.tar.gz")),
        "{err}"
    );
    assert!(err.contains(&wrong) && err.contains(&actual), "{err}");
    assert!(
        err.contains(&format!("{} bytes", foo.tarball().len())),
        "{err}"
    );
    assert!(
        files_under(&fx.sources()).is_empty(),
        "{:?}",
        files_under(&fx.sources())
    );
    assert!(!fx.prefix(HOST).exists(), "nothing is installed");
    assert!(files_under(&fx.base_cache())
        .iter()
        .all(|f| !f.to_string_lossy().ends_with(".tar.gz")));
}

#[test]
fn an_html_page_instead_of_the_archive_gets_a_hint() {
    let fx = Fixture::new();
    let foo = Package::c_library("foo", &[], None);
    fx.add(&foo);
    fx.server.serve_html("files/foo-1.0.tar.gz");
    let err = fx.run(&[]).0.unwrap_err().to_string();
    assert!(err.contains("HTML page"), "{err}");
}

#[test]
fn a_dropped_connection_is_resumed_and_a_partial_file_never_used() {
    let fx = Fixture::new();
    let foo = Package::c_library("foo", &[], None);
    fx.add(&foo);
    let bytes = foo.tarball();
    let cut = bytes.len() / 2;
    fx.server
        .serve_drop_after("files/foo-1.0.tar.gz", bytes, cut, 1);
    let report = fx.run(&[]).0.unwrap();
    assert_eq!(report.packages[0].status.as_str(), "built");
    let requests = fx.server.requests("files/foo-1.0.tar.gz");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].range.as_deref(),
        Some(format!("bytes={cut}-").as_str())
    );
}

#[test]
fn broken_recipes_are_errors_naming_file_and_problem() {
    let cases: [(&str, &str, &str); 4] = [
        ("syntax", "version = \"1\nfile_name = 3", "syntax.toml:1:"),
        (
            "unknown",
            "version = \"1\"\nfile_name = \"a.tar.gz\"\nsha256 = \"%SHA%\"\nurls = [\"http://127.0.0.1/a\"]\ncolour = \"red\"\n[build]\nbuilder = \"make\"\n",
            "unknown.toml:5: unknown field `colour`",
        ),
        (
            "lonely",
            "version = \"1\"\nfile_name = \"a.tar.gz\"\nsha256 = \"%SHA%\"\nurls = [\"http://127.0.0.1/a\"]\ndependencies = [\"ghost\"]\n[build]\nbuilder = \"make\"\n",
            "lonely.toml: dependency `ghost` has no recipe",
        ),
        (
            "chicken",
            "version = \"1\"\nfile_name = \"a.tar.gz\"\nsha256 = \"%SHA%\"\nurls = [\"http://127.0.0.1/a\"]\ndependencies = [\"egg\"]\n[build]\nbuilder = \"make\"\n",
            "dependency cycle: chicken -> egg -> chicken",
        ),
    ];
    for (name, text, expected) in cases {
        let fx = Fixture::new();
        fx.write_recipe_text(name, &text.replace("%SHA%", &"a".repeat(64)));
        if name == "chicken" {
            let egg = text
                .replace("%SHA%", &"a".repeat(64))
                .replace("\"egg\"", "\"chicken\"");
            fx.write_recipe_text("egg", &egg);
        }
        let err = fx.engine(&[]).err().expect("must fail").to_string();
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.toml")),
            "{name}: error must name the file: {err}"
        );
    }
}

#[test]
fn unknown_host_and_missing_cross_compiler_say_what_to_do() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let err = fx
        .engine(&["HOST=sparc-sun-solaris"])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown HOST `sparc-sun-solaris`"), "{err}");
    assert!(
        err.contains(
            "aarch64-linux-gnu, arm64-apple-darwin, x86_64-pc-linux-gnu, x86_64-w64-mingw32"
        ),
        "{err}"
    );

    let path = fx.root().join("toolchains/aarch64-linux-gnu.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"aarch64-linux-gnu-g++\"", "\"c1pzo-missing-g++\""),
    )
    .unwrap();
    let err = fx.engine(&["HOST=aarch64-linux-gnu"]).err().unwrap();
    let text = err.to_string();
    assert!(
        text.contains("c1pzo-missing-g++ (C++ compiler for aarch64-linux-gnu)"),
        "{text}"
    );
    assert!(
        text.contains("apt-get install g++-aarch64-linux-gnu"),
        "{text}"
    );
    assert_eq!(err.missing_debian_packages(), ["g++-aarch64-linux-gnu"]);

    let err = fx
        .engine(&["HOST=arm64-apple-darwin"])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("needs a macOS SDK: set SDK_PATH"), "{err}");
}

#[test]
fn a_failing_build_reports_stage_log_and_tail_and_keeps_the_rest() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    fx.add(&Package::failing("broken", 60));
    let (result, _) = fx.run(&[]);
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("broken: build failed"), "{text}");
    assert!(text.contains("log: ") && text.contains(".log"), "{text}");
    assert!(text.contains("compile line 60"), "{text}");
    assert!(
        !text.contains("compile line 5\n"),
        "only the last lines: {text}"
    );
    let depends::Error::Build(build) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(build.tail.len(), 40);
    assert!(build.log.is_file(), "the log is kept for reading");
    assert!(!fx.prefix(HOST).exists(), "a failed run installs nothing");

    // foo was built and cached; fixing `broken` continues from there.
    fx.add(&Package::c_library("broken", &[], None));
    let report = fx.run(&[]).0.unwrap();
    let statuses: Vec<(&str, &str)> = report
        .packages
        .iter()
        .map(|p| (p.package.as_str(), p.status.as_str()))
        .collect();
    assert_eq!(statuses, [("broken", "built"), ("foo", "cached")]);
}

#[test]
fn a_dependency_failure_skips_dependents() {
    let fx = Fixture::new();
    fx.add(&Package::failing("broken", 3).group(None));
    fx.add(&Package::c_library("foo", &[], None).depends_on(&["broken"]));
    let (result, log) = fx.run(&[]);
    assert!(result.is_err());
    assert!(
        log.text().contains("[foo] finished skipped: broken failed"),
        "{}",
        log.text()
    );
}

#[test]
fn a_damaged_cached_tarball_is_rebuilt_with_a_message() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let first = fx.run(&[]).0.unwrap();
    let tarball = &first.packages[0].tarball;
    let mut bytes = std::fs::read(tarball).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(tarball, bytes).unwrap();

    let (second, log) = fx.run(&[]);
    let second = second.unwrap();
    assert!(
        log.text().contains("no longer matches its .hash"),
        "{}",
        log.text()
    );
    assert_eq!(second.packages[0].status.as_str(), "built");
    assert_eq!(
        second.packages[0].sha256, first.packages[0].sha256,
        "rebuilt identically"
    );
    assert!(second.prefix_updated);
}

#[test]
fn leftovers_of_a_killed_run_are_never_taken_as_valid() {
    let fx = Fixture::new();
    let foo = Package::c_library("foo", &[], None);
    fx.add(&foo);
    let engine = fx.engine(&[]).unwrap();
    let planned = &engine.packages[0];
    let cache_dir = fx.base_cache().join(HOST).join("foo");
    std::fs::create_dir_all(&cache_dir).unwrap();
    std::fs::create_dir_all(fx.sources()).unwrap();
    // A truncated download, a tarball renamed into place without its
    // .hash, a temporary tarball, and a half-assembled prefix.
    let bytes = foo.tarball();
    std::fs::write(
        fx.sources().join("foo-1.0.tar.gz.part"),
        &bytes[..bytes.len() / 3],
    )
    .unwrap();
    let stem = format!("foo-1.0-{}", &planned.build_id[..11]);
    std::fs::write(cache_dir.join(format!("{stem}.tar.gz")), b"half a tarball").unwrap();
    std::fs::write(cache_dir.join(format!(".{stem}.tar.gz.tmp-999")), b"junk").unwrap();
    std::fs::create_dir_all(fx.root().join(format!("depends/.{HOST}.tmp-999/lib"))).unwrap();
    drop(engine);

    let report = fx.run(&[]).0.unwrap();
    assert_eq!(report.packages[0].status.as_str(), "built");
    let prefix = fx.prefix(HOST);
    assert!(prefix.join("lib/libfoo.a").is_file());
    assert!(!fx.root().join(format!("depends/.{HOST}.tmp-999")).exists());
    assert!(!cache_dir.join(format!(".{stem}.tar.gz.tmp-999")).exists());
    let out = std::process::Command::new(prefix.join("bin/foo-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "foo 1\n");
}

#[test]
fn offline_fails_fast_listing_missing_sources() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    fx.add(&Package::c_library("bar", &[], None));
    let mut engine = fx.engine(&[]).unwrap();
    engine.options.offline = true;
    let err = engine
        .run(&support::packages::Recorder::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("offline: these sources are missing"), "{err}");
    assert!(
        err.contains("foo-1.0.tar.gz (foo") && err.contains("bar-1.0.tar.gz (bar"),
        "{err}"
    );
    assert_eq!(
        fx.server.request_count("files/foo-1.0.tar.gz"),
        0,
        "offline means no network"
    );

    // `download` needs the network; after it, offline works.
    let err = engine
        .download(&support::packages::Recorder::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot run with --offline"),
        "{err}"
    );
    engine.options.offline = false;
    engine
        .download(&support::packages::Recorder::default())
        .unwrap();
    engine.options.offline = true;
    engine.run(&support::packages::Recorder::default()).unwrap();
}

#[test]
fn offline_names_a_damaged_source_with_both_hashes_and_keeps_it() {
    let fx = Fixture::new();
    let package = Package::c_library("foo", &[], None);
    fx.add(&package);
    let expected = support::packages::sha256_hex(&package.tarball());
    std::fs::create_dir_all(fx.sources()).unwrap();
    let path = fx.sources().join(package.file_name());
    std::fs::write(&path, b"not the archive").unwrap();
    let actual = support::packages::sha256_hex(b"not the archive");
    let mut engine = fx.engine(&[]).unwrap();
    engine.options.offline = true;
    let err = engine
        .run(&support::packages::Recorder::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("present but damaged"), "{err}");
    assert!(!err.contains("missing"), "the file is there: {err}");
    assert!(
        err.contains(&format!("sha256 {actual}, expected {expected}")),
        "{err}"
    );
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"not the archive",
        "nothing is lost"
    );
    assert_eq!(fx.server.request_count("files/foo-1.0.tar.gz"), 0);
}

#[test]
fn two_runs_at_once_build_each_package_once() {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    let reports: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| fx.run(&[]).0.unwrap());
        let b = s.spawn(|| fx.run(&[]).0.unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let built = reports
        .iter()
        .filter(|r| r.packages[0].status.as_str() == "built")
        .count();
    assert_eq!(
        built, 1,
        "the second run waits for the lock and finds the build cached"
    );
    assert!(fx.prefix(HOST).join("lib/libfoo.a").is_file());
}

/// The glibc sysroot's .debs come from a Debian mirror, which deletes a
/// version when a newer one replaces it: the error names the Debian
/// package and the pinned version, and says how to re-pin or keep the pin.
#[test]
fn a_pinned_deb_gone_from_the_mirror_names_package_version_and_how_to_repin() {
    use support::debs::{add_sysroot, deb, Item, ServedDeb};
    let fx = Fixture::new();
    fx.set_sysroot_table(
        HOST,
        "package = \"glibc_sysroot\"\ncflags = \"-isystem {target_sysroot}/usr/include\"\n",
    );
    let debs = vec![
        ServedDeb {
            arch: "x86_64",
            file_name: "libc6_2.31-13+deb11u11_amd64.deb".into(),
            bytes: deb(&[("usr/include/a.h", Item::File(b""))]),
        },
        ServedDeb {
            arch: "x86_64",
            file_name: "libgcc-s1_10.2.1-6_amd64.deb".into(),
            bytes: deb(&[("usr/include/b.h", Item::File(b""))]),
        },
    ];
    add_sysroot(&fx, &debs);
    // The mirror moved on: the pinned libc6 is gone (404), the rest is there.
    let gone = format!("debian/{}", debs[0].pool_path());
    fx.server.serve_status(&gone, 404);
    fx.add(&Package::c_library("foo", &[], None));
    let mut engine = fx.engine(&["NO_SYSROOT=0"]).unwrap();
    fx.use_test_mirror(&mut engine);
    let log = support::packages::Recorder::default();
    let err = engine.run(&log).unwrap_err().to_string();
    for expected in [
        "could not fetch libc6_2.31-13+deb11u11_amd64.deb for glibc_sysroot",
        "the recipe pins Debian package libc6 version 2.31-13+deb11u11 (amd64)",
        "HTTP 404",
        "cargo xtask depends repin glibc_sysroot",
        "FALLBACK_DOWNLOAD_PATH",
        &sha256_hex(&debs[0].bytes),
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert!(err.contains(&fx.server.url(&gone)), "{err}");
    assert!(!fx.prefix(HOST).exists(), "nothing is installed");

    // A mirror that fails (5xx) has not dropped anything: the plain
    // message, no advice to re-pin.
    fx.server.serve_status(&gone, 503);
    let mut engine = fx.engine(&["NO_SYSROOT=0"]).unwrap();
    fx.use_test_mirror(&mut engine);
    let err = engine.run(&log).unwrap_err().to_string();
    assert!(
        err.contains("every source failed") && err.contains("HTTP 503"),
        "{err}"
    );
    assert!(!err.contains("repin"), "{err}");
}
