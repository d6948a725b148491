//! BASE_CACHE_URL and BASE_CACHE_PUSH against a real nginx (its dav
//! module) started per test: a pushing runner feeds a second one that only
//! downloads, and every way a remote entry can be wrong falls back to a
//! local build with exactly one warning.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use depends::report::RunReport;
use support::http_server::TestServer;
use support::nginx::{Nginx, NginxConfig};
use support::packages::{files_under, sha256_hex, Fixture, Package, Recorder};

const HOST: &str = "x86_64-pc-linux-gnu";
const TOKEN: &str = "tok-3f9a-never-print-me";

fn url_arg(url: &str) -> String {
    format!("BASE_CACHE_URL={url}")
}

/// native_gen (a tool) <- bar (runs it, links foo) <- foo.
fn three_packages() -> Fixture {
    let fx = Fixture::new();
    fx.add(&Package::native_tool("native_gen"));
    fx.add(&Package::c_library("foo", &[], None).group(None));
    fx.add(&Package::c_library("bar", &["foo"], Some("gen")).depends_on(&["foo", "native_gen"]));
    fx
}

fn one_package() -> Fixture {
    let fx = Fixture::new();
    fx.add(&Package::c_library("foo", &[], None));
    fx
}

/// Another machine: a fresh tree with `first`'s recipes (so the same build
/// ids), an empty BASE_CACHE, no sources and no work folders.
fn second_runner(first: &Fixture) -> Fixture {
    let fx = Fixture::new();
    for entry in std::fs::read_dir(first.root().join("recipes")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            fx.root().join("recipes").join(entry.file_name()),
        )
        .unwrap();
    }
    fx
}

fn statuses(report: &RunReport) -> Vec<(String, String)> {
    report
        .packages
        .iter()
        .map(|p| (p.package.clone(), p.status.as_str().to_string()))
        .collect()
}

fn notes(log: &Recorder) -> Vec<String> {
    log.lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("] note "))
        .cloned()
        .collect()
}

/// The one file of the server's entry for `package` ending in `suffix`.
fn server_file(nginx: &Nginx, package: &str, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = files_under(&nginx.cache_dir())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(&format!("/{package}/")))
        .filter(|f| f.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{suffix} of {package}: {found:?}");
    found[0].clone()
}

/// A runner that built foo and pushed it to `nginx`.
fn pushed_foo(nginx: &Nginx) -> Fixture {
    let fx = one_package();
    let (report, log) = fx.run(&[&url_arg(&nginx.url()), "BASE_CACHE_PUSH=1"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert_eq!(statuses(&report), [("foo".into(), "built".into())]);
    server_file(nginx, "foo", ".tar.gz.hash");
    fx
}

/// A fresh runner against `url` builds foo itself, says why in exactly
/// one line, and installs a working prefix. Returns that line.
fn falls_back_to_building(first: &Fixture, url: &str) -> String {
    let fx = second_runner(first);
    let (report, log) = fx.run(&[&url_arg(url)]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert_eq!(statuses(&report), [("foo".into(), "built".into())]);
    let notes = notes(&log);
    assert_eq!(notes.len(), 1, "exactly one warning: {notes:#?}");
    assert!(
        notes[0].starts_with("[foo] note remote cache: "),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].contains(url),
        "the warning names the URL: {}",
        notes[0]
    );
    assert!(notes[0].ends_with("building it here"), "{}", notes[0]);
    let out = std::process::Command::new(fx.prefix(HOST).join("bin/foo-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "foo 1\n");
    // What the remote sent never stays in BASE_CACHE: the entry there is
    // the local build, whose .hash matches.
    let hash =
        std::fs::read_to_string(format!("{}.hash", report.packages[0].tarball.display())).unwrap();
    assert!(hash.starts_with(&report.packages[0].sha256), "{hash}");
    notes[0].clone()
}

/// `bytes` with every `from` replaced by `to`.
fn replace_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn relative_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_under(dir)
        .into_iter()
        .map(|f| f.strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

#[test]
fn a_pushed_build_is_only_downloaded_by_a_second_runner() {
    // Without create_full_put_path, nginx creates no folders on PUT: the
    // push has to MKCOL each level, as on a strict WebDAV server.
    let nginx = Nginx::start_with(NginxConfig {
        create_full_put_path: false,
        ..NginxConfig::default()
    });
    let url = url_arg(&nginx.url());
    let first = three_packages();
    let (report, log) = first.run(&[&url, "BASE_CACHE_PUSH=1"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert!(report.packages.iter().all(|p| p.status.as_str() == "built"));
    for p in &report.packages {
        let hash =
            std::fs::read_to_string(server_file(&nginx, &p.package, ".tar.gz.hash")).unwrap();
        assert!(hash.starts_with(&p.sha256), "{}: {hash}", p.package);
    }
    assert!(
        nginx
            .access_log()
            .iter()
            .any(|l| l.starts_with("MKCOL /cache/ 201")),
        "{:#?}",
        nginx.access_log()
    );

    let second = second_runner(&first);
    let source_requests = first.server.request_count("files/foo-1.0.tar.gz");
    let (again, log) = second.run(&[&url]);
    let again = again.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert_eq!(
        statuses(&again),
        [
            ("foo".into(), "downloaded".into()),
            ("native_gen".into(), "downloaded".into()),
            ("bar".into(), "downloaded".into()),
        ]
    );
    assert!(notes(&log).is_empty(), "{:#?}", notes(&log));
    assert!(
        log.text()
            .contains("[bar] finished downloaded from BASE_CACHE_URL"),
        "{}",
        log.text()
    );
    // Nothing was built or fetched: no sources, no work folders.
    assert!(files_under(&second.sources()).is_empty());
    assert_eq!(
        first.server.request_count("files/foo-1.0.tar.gz"),
        source_requests
    );
    assert!(files_under(&second.root().join("depends/work")).is_empty());

    // The installed prefixes are the same, but for the prefix's own path
    // in the files that record it, and the cache's paths and mtimes in the
    // manifest.
    let (a, b) = (first.prefix(HOST), second.prefix(HOST));
    assert_eq!(relative_files(&a), relative_files(&b));
    for file in relative_files(&a) {
        if file == Path::new("manifest.json") {
            continue;
        }
        let left = std::fs::read(a.join(&file)).unwrap();
        let right = std::fs::read(b.join(&file)).unwrap();
        let left = replace_bytes(
            &left,
            a.to_string_lossy().as_bytes(),
            b.to_string_lossy().as_bytes(),
        );
        assert!(left == right, "{} differs", file.display());
    }
    for (x, y) in report.packages.iter().zip(&again.packages) {
        assert_eq!(
            (&x.package, &x.build_id, &x.sha256),
            (&y.package, &y.build_id, &y.sha256)
        );
    }
    let out = std::process::Command::new(b.join("bin/bar-hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "bar 43\n");

    // Downloaded builds are ordinary local cache entries from now on.
    std::fs::remove_dir_all(&b).unwrap();
    let requests = nginx.access_log().len();
    let third = second.run(&[&url]).0.unwrap();
    assert!(third.packages.iter().all(|p| p.status.as_str() == "cached"));
    assert_eq!(
        nginx.access_log().len(),
        requests,
        "a local hit asks no server"
    );
}

#[test]
fn a_push_sends_the_hash_last_and_it_matches_the_tarball() {
    let nginx = Nginx::start();
    let fx = pushed_foo(&nginx);
    let tarball = server_file(&nginx, "foo", ".tar.gz");
    let hash = std::fs::read_to_string(server_file(&nginx, "foo", ".tar.gz.hash")).unwrap();
    let file_name = tarball.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(
        hash,
        format!(
            "{}  {file_name}\n",
            sha256_hex(&std::fs::read(&tarball).unwrap())
        )
    );
    let local = fx.base_cache().join(HOST).join("foo").join(&file_name);
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(&tarball).unwrap()
    );

    let log = nginx.access_log();
    let position = |prefix: &str| {
        log.iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in {log:#?}"))
    };
    let dir = format!("/cache/{HOST}/foo");
    let mkcol = position(&format!("MKCOL {dir}/ "));
    let put_tarball = position(&format!("PUT {dir}/{file_name} 201"));
    let put_json = position(&format!("PUT {dir}/{file_name}.json 201"));
    let put_hash = position(&format!("PUT {dir}/{file_name}.hash 201"));
    assert!(
        mkcol < put_tarball && put_tarball < put_json && put_json < put_hash,
        "{log:#?}"
    );
}

#[test]
fn an_empty_server_404_falls_back_to_building() {
    let nginx = Nginx::start();
    let first = one_package();
    let warning = falls_back_to_building(&first, &nginx.url());
    assert!(
        warning
            .contains(".tar.gz.hash answered HTTP 404 Not Found (no build with this id there yet)"),
        "{warning}"
    );
}

#[test]
fn an_html_page_instead_of_the_tarball_falls_back_to_building() {
    let nginx = Nginx::start();
    let first = pushed_foo(&nginx);
    let tarball = server_file(&nginx, "foo", ".tar.gz");
    let expected = sha256_hex(&std::fs::read(&tarball).unwrap());
    let page = b"<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n";
    std::fs::write(&tarball, page).unwrap();
    let warning = falls_back_to_building(&first, &nginx.url());
    assert!(
        warning.contains(&format!("expected {expected}")),
        "{warning}"
    );
    assert!(
        warning.contains(&format!("actual {}", sha256_hex(page))),
        "{warning}"
    );
    assert!(warning.contains("HTML page"), "{warning}");
}

#[test]
fn a_truncated_tarball_falls_back_to_building() {
    let nginx = Nginx::start();
    let first = pushed_foo(&nginx);
    let tarball = server_file(&nginx, "foo", ".tar.gz");
    let bytes = std::fs::read(&tarball).unwrap();
    let expected = sha256_hex(&bytes);
    let half = &bytes[..bytes.len() / 2];
    std::fs::write(&tarball, half).unwrap();
    let warning = falls_back_to_building(&first, &nginx.url());
    assert!(
        warning.contains(&format!(
            "expected {expected} (its .hash), actual {} ({} bytes)",
            sha256_hex(half),
            half.len()
        )),
        "{warning}"
    );
}

#[test]
fn a_corrupt_tarball_falls_back_to_building() {
    let nginx = Nginx::start();
    let first = pushed_foo(&nginx);
    let tarball = server_file(&nginx, "foo", ".tar.gz");
    let mut bytes = std::fs::read(&tarball).unwrap();
    let expected = sha256_hex(&bytes);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&tarball, &bytes).unwrap();
    let warning = falls_back_to_building(&first, &nginx.url());
    assert!(warning.contains(&tarball.file_name().unwrap().to_string_lossy().to_string()));
    assert!(
        warning.contains(&format!(
            "expected {expected} (its .hash), actual {}",
            sha256_hex(&bytes)
        )),
        "{warning}"
    );
}

#[test]
fn a_tarball_matching_its_hash_that_is_no_tarball_falls_back_to_building() {
    // Someone who can PUT replaced both: the hash matches, but the bytes
    // must still be a tarball before they enter BASE_CACHE.
    let nginx = Nginx::start();
    let first = pushed_foo(&nginx);
    let tarball = server_file(&nginx, "foo", ".tar.gz");
    let junk = b"not a tarball at all".repeat(10);
    std::fs::write(&tarball, &junk).unwrap();
    let name = tarball.file_name().unwrap().to_string_lossy().to_string();
    std::fs::write(
        server_file(&nginx, "foo", ".tar.gz.hash"),
        format!("{}  {name}\n", sha256_hex(&junk)),
    )
    .unwrap();
    let warning = falls_back_to_building(&first, &nginx.url());
    assert!(
        warning.contains("is not a readable tarball: invalid gzip header"),
        "{warning}"
    );
}

#[test]
fn a_record_with_another_build_id_falls_back_to_building() {
    let nginx = Nginx::start();
    let first = pushed_foo(&nginx);
    let json_path = server_file(&nginx, "foo", ".tar.gz.json");
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let expected = record["build_id"].as_str().unwrap().to_string();
    let other = "f".repeat(64);
    record["build_id"] = other.clone().into();
    std::fs::write(&json_path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
    let warning = falls_back_to_building(&first, &nginx.url());
    assert!(
        warning.contains(&format!("records build id {other}, expected {expected}")),
        "{warning}"
    );
}

#[test]
fn a_server_that_drops_the_connection_mid_download_falls_back_to_building() {
    // nginx would send the whole file; the test's own server announces
    // the full length and closes after half, on every attempt.
    let nginx = Nginx::start();
    let first = pushed_foo(&nginx);
    let server = TestServer::start();
    let relative = |path: &Path| {
        path.strip_prefix(nginx.cache_dir())
            .unwrap()
            .to_string_lossy()
            .to_string()
    };
    for suffix in [".tar.gz.hash", ".tar.gz.json"] {
        let path = server_file(&nginx, "foo", suffix);
        server.serve(
            &format!("cache/{}", relative(&path)),
            std::fs::read(&path).unwrap(),
        );
    }
    let tarball = server_file(&nginx, "foo", ".tar.gz");
    let bytes = std::fs::read(&tarball).unwrap();
    let tarball_path = format!("cache/{}", relative(&tarball));
    let total = bytes.len();
    server.serve_drop_after(&tarball_path, bytes, total / 2, 100);
    let url = server.url("cache");
    let warning = falls_back_to_building(&first, &url);
    assert!(warning.contains(&server.url(&tarball_path)), "{warning}");
    assert!(warning.contains(&format!("of {total} bytes")), "{warning}");
    assert!(warning.contains("gave up after 2 attempts"), "{warning}");
    assert_eq!(server.request_count(&tarball_path), 2, "one retry, no more");
}

#[test]
fn an_unreachable_server_costs_one_warning_and_no_wait() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/cache");
    let fx = three_packages();
    let started = Instant::now();
    let (report, log) = fx.run(&[&url_arg(&url), "BASE_CACHE_PUSH=1"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert!(report.packages.iter().all(|p| p.status.as_str() == "built"));
    let notes = notes(&log);
    assert_eq!(notes.len(), 1, "one warning for the run: {notes:#?}");
    assert!(notes[0].contains(&url), "{}", notes[0]);
    assert!(
        notes[0].contains("not asked again this run"),
        "{}",
        notes[0]
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_refused_push_still_succeeds_with_one_warning() {
    let nginx = Nginx::start_with(NginxConfig {
        read_only: true,
        ..NginxConfig::default()
    });
    let fx = one_package();
    let (report, log) = fx.run(&[&url_arg(&nginx.url()), "BASE_CACHE_PUSH=1"]);
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert_eq!(statuses(&report), [("foo".into(), "built".into())]);
    assert!(fx.prefix(HOST).join("lib/libfoo.a").is_file());
    let pushes: Vec<String> = notes(&log)
        .into_iter()
        .filter(|n| n.contains("could not push"))
        .collect();
    assert_eq!(pushes.len(), 1, "{pushes:#?}");
    assert!(
        pushes[0].contains("answered HTTP 403 Forbidden"),
        "{}",
        pushes[0]
    );
    assert!(
        pushes[0].contains("allows PUT"),
        "says what to check: {}",
        pushes[0]
    );
    assert!(pushes[0].contains(&nginx.url()), "{}", pushes[0]);
    assert!(files_under(&nginx.cache_dir()).is_empty());
}

#[test]
fn credentials_are_sent_but_never_printed() {
    let nginx = Nginx::start_with(NginxConfig {
        read_only: true,
        ..NginxConfig::default()
    });
    let fx = one_package();
    let args = [url_arg(&nginx.url()), "BASE_CACHE_PUSH=1".to_string()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("BASE_CACHE_PUSH_TOKEN", TOKEN)];
    let engine = fx.engine_env(&args, &env).unwrap();
    assert!(!format!("{:?}", engine.options).contains(TOKEN));
    let (report, log) = fx.run_env(&args, &env);
    report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert!(log.text().contains("could not push"), "{}", log.text());
    assert!(!log.text().contains(TOKEN), "{}", log.text());
    assert!(
        nginx
            .access_log()
            .iter()
            .any(|l| l.starts_with("PUT ") && l.contains(&format!("\"Bearer {TOKEN}\""))),
        "the token was sent: {:#?}",
        nginx.access_log()
    );

    // Basic auth, against a server that accepts the push.
    let nginx = Nginx::start();
    let fx = one_package();
    let args = [url_arg(&nginx.url()), "BASE_CACHE_PUSH=1".to_string()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("BASE_CACHE_USER", "ci"), ("BASE_CACHE_PASSWORD", TOKEN)];
    let (report, log) = fx.run_env(&args, &env);
    report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert!(!log.text().contains(TOKEN), "{}", log.text());
    let puts: Vec<String> = nginx
        .access_log()
        .into_iter()
        .filter(|l| l.starts_with("PUT "))
        .collect();
    assert_eq!(puts.len(), 3, "{puts:#?}");
    assert!(puts.iter().all(|l| l.ends_with("\"ci\"")), "{puts:#?}");

    // And with no server at all.
    nginx.stop();
    let fx = one_package();
    let (report, log) = fx.run_env(&args, &[("BASE_CACHE_PUSH_TOKEN", TOKEN)]);
    report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert_eq!(notes(&log).len(), 1, "{}", log.text());
    assert!(!log.text().contains(TOKEN), "{}", log.text());
}
