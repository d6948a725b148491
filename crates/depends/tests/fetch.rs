//! Integration tests of `depends::fetch` against a local fault-injecting server.

#[path = "support/http_server.rs"]
mod http_server;

use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use depends::fetch::{FetchError, FetchObserver, Fetcher, RetryPolicy, SourceSpec};
use depends::mirror::MirrorResolver;
use http_server::TestServer;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const FILE: &str = "pkg-1.0.tar.gz";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic, non-repeating-looking content big enough to span many reads.
fn archive(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect()
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
    }
}

fn fetcher(dir: &Path, fallback: Option<String>) -> Fetcher {
    fetcher_with(
        dir,
        fallback,
        MirrorResolver::with_debian_bases(Vec::new()),
        policy(),
    )
}

fn fetcher_with(
    dir: &Path,
    fallback: Option<String>,
    mirrors: MirrorResolver,
    retry: RetryPolicy,
) -> Fetcher {
    Fetcher::new(dir.to_owned(), fallback, mirrors, retry).expect("build fetcher")
}

fn spec<'a>(sha: &'a str, urls: &'a [String], mirrors: &'a [String]) -> SourceSpec<'a> {
    SourceSpec {
        package: "pkg",
        file_name: FILE,
        sha256: sha,
        urls,
        mirrors,
    }
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read sources dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Records notes so tests can check what the user was told.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl FetchObserver for Notes {
    fn note(&self, _package: &str, message: &str) {
        self.0.lock().expect("notes").push(message.to_owned());
    }
}

impl Notes {
    fn all(&self) -> Vec<String> {
        self.0.lock().expect("notes").clone()
    }
}

#[test]
fn downloads_then_uses_the_cache() {
    let server = TestServer::start();
    let body = archive(300_000);
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];

    let path = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("fetch");
    assert_eq!(path, sources.path().join(FILE));
    assert_eq!(fs::read(&path).expect("read"), body);
    assert_eq!(
        dir_entries(sources.path()),
        [FILE],
        "no .part or lock left behind"
    );
    assert_eq!(server.request_count("pkg.tgz"), 1);

    let again = fetcher(sources.path(), None);
    assert!(again.is_present(&spec(&sha, &urls, &[])));
    again
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("cached fetch");
    assert_eq!(
        server.request_count("pkg.tgz"),
        1,
        "a cache hit must not touch the network"
    );
}

#[test]
fn hash_mismatch_is_explained_and_leaves_nothing() {
    let server = TestServer::start();
    let body = archive(1000);
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    let wrong = sha256(b"something else");
    let urls = [server.url("pkg.tgz")];

    let err = fetcher(sources.path(), None)
        .fetch(&spec(&wrong, &urls, &[]), &())
        .expect_err("mismatch must fail");
    let message = err.to_string();
    assert!(matches!(err, FetchError::AllFailed { .. }), "{message}");
    assert!(message.contains(&urls[0]), "{message}");
    assert!(message.contains(&wrong), "{message}");
    assert!(message.contains(&sha256(&body)), "{message}");
    assert!(message.contains("1000 bytes"), "{message}");
    assert!(!message.contains("HTML"), "{message}");
    assert!(
        dir_entries(sources.path()).is_empty(),
        "{:?}",
        dir_entries(sources.path())
    );
    assert_eq!(
        server.request_count("pkg.tgz"),
        1,
        "a complete but wrong file is not retried"
    );
}

#[test]
fn html_page_gets_a_hint() {
    let server = TestServer::start();
    server.serve_html("pkg.tgz");
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(b"the real archive");
    let urls = [server.url("pkg.tgz")];

    let err = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect_err("HTML is not the archive");
    let message = err.to_string();
    assert!(
        message.contains("the server sent an HTML page, not the archive (a login/error page or a mirror that lacks the file?)"),
        "{message}"
    );
    assert!(dir_entries(sources.path()).is_empty());
}

#[test]
fn dropped_connection_resumes_with_range() {
    let server = TestServer::start();
    let body = archive(400_000);
    let cut = 150_000;
    server.serve_drop_after("pkg.tgz", body.clone(), cut, 1);
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];
    let notes = Notes::default();

    let path = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &notes)
        .expect("fetch");
    assert_eq!(fs::read(path).expect("read"), body);
    let requests = server.requests("pkg.tgz");
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].range, None);
    assert_eq!(
        requests[1].range.as_deref(),
        Some(&*format!("bytes={cut}-"))
    );
    assert!(
        notes.all().iter().any(|n| n.contains("retrying")),
        "{:?}",
        notes.all()
    );
}

#[test]
fn stalled_body_times_out_and_resumes() {
    let server = TestServer::start();
    let body = archive(200_000);
    let cut = 50_000;
    server.serve_stall_after("pkg.tgz", body.clone(), cut, 1, Duration::from_secs(20));
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];
    let retry = RetryPolicy {
        read_timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        ..policy()
    };
    let fetcher = fetcher_with(sources.path(), None, MirrorResolver::default(), retry);

    let started = Instant::now();
    let path = fetcher.fetch(&spec(&sha, &urls, &[]), &()).expect("fetch");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fs::read(path).expect("read"), body);
    let requests = server.requests("pkg.tgz");
    assert_eq!(
        requests[1].range.as_deref(),
        Some(&*format!("bytes={cut}-"))
    );
}

#[test]
fn resumes_a_part_left_by_an_earlier_run() {
    let server = TestServer::start();
    let body = archive(100_000);
    let half = body.len() / 2;
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    fs::write(sources.path().join(format!("{FILE}.part")), &body[..half]).expect("write .part");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];

    let path = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("fetch");
    assert_eq!(fs::read(path).expect("read"), body);
    let requests = server.requests("pkg.tgz");
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].range.as_deref(),
        Some(&*format!("bytes={half}-"))
    );
    assert_eq!(dir_entries(sources.path()), [FILE]);
}

#[test]
fn corrupt_part_is_never_installed() {
    let server = TestServer::start();
    let body = archive(100_000);
    let half = body.len() / 2;
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    fs::write(
        sources.path().join(format!("{FILE}.part")),
        vec![0xAA; half],
    )
    .expect("write .part");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];

    let path = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("fetch");
    assert_eq!(
        fs::read(path).expect("read"),
        body,
        "corrupt prefix must not survive"
    );
    let ranges: Vec<_> = server
        .requests("pkg.tgz")
        .into_iter()
        .map(|r| r.range)
        .collect();
    assert_eq!(
        ranges,
        [Some(format!("bytes={half}-")), None],
        "resume, detect, start over"
    );
}

#[test]
fn full_answer_to_a_range_request_replaces_the_part() {
    let server = TestServer::start();
    let body = archive(100_000);
    server.serve_ignoring_range("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    fs::write(
        sources.path().join(format!("{FILE}.part")),
        vec![0x55; 30_000],
    )
    .expect("write .part");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];

    let path = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("fetch");
    assert_eq!(fs::read(path).expect("read"), body);
    let requests = server.requests("pkg.tgz");
    assert_eq!(
        requests.len(),
        1,
        "a 200 must truncate, not append: {requests:?}"
    );
    assert_eq!(requests[0].range.as_deref(), Some("bytes=30000-"));
}

#[test]
fn concurrent_fetches_of_one_file_download_once() {
    let server = TestServer::start();
    let body = archive(2_000_000);
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];
    let fetcher = fetcher(sources.path(), None);

    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| fetcher.fetch(&spec(&sha, &urls, &[]), &())))
            .collect();
        for worker in workers {
            let path = worker.join().expect("no panic").expect("fetch");
            assert_eq!(fs::read(path).expect("read"), body);
        }
    });
    assert_eq!(
        server.request_count("pkg.tgz"),
        1,
        "the lock serialises downloads"
    );
    assert_eq!(dir_entries(sources.path()), [FILE]);
}

#[test]
fn oversized_part_restarts_after_416() {
    let server = TestServer::start();
    let body = archive(10_000);
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    fs::write(sources.path().join(format!("{FILE}.part")), vec![1; 20_000]).expect("write .part");
    let sha = sha256(&body);
    let urls = [server.url("pkg.tgz")];

    let path = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("fetch");
    assert_eq!(fs::read(path).expect("read"), body);
    assert_eq!(server.request_count("pkg.tgz"), 2);
}

#[test]
fn fallback_after_missing_or_wrong_primary() {
    let server = TestServer::start();
    let body = archive(5_000);
    let sha = sha256(&body);
    server.serve(&format!("fallback/{FILE}"), body.clone());
    server.serve("bad.tgz", archive(4_000));
    let fallback = Some(format!("{}/", server.url("fallback")));

    // Primary is missing: 404 is final, so one request and on to the fallback.
    let sources = TempDir::new().expect("temp dir");
    let urls = [server.url("missing.tgz")];
    let path = fetcher(sources.path(), fallback.clone())
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect("fetch from fallback");
    assert_eq!(fs::read(path).expect("read"), body);
    assert_eq!(server.request_count("missing.tgz"), 1);
    assert_eq!(server.request_count(&format!("fallback/{FILE}")), 1);

    // Primary serves the wrong bytes.
    let sources = TempDir::new().expect("temp dir");
    let urls = [server.url("bad.tgz")];
    let mirrors = [server.url("never-reached.tgz")];
    let path = fetcher(sources.path(), fallback)
        .fetch(&spec(&sha, &urls, &mirrors), &())
        .expect("fetch from fallback");
    assert_eq!(fs::read(path).expect("read"), body);
    assert_eq!(server.request_count("bad.tgz"), 1);
    assert_eq!(
        server.request_count("never-reached.tgz"),
        0,
        "mirrors come after the fallback"
    );
}

#[test]
fn server_errors_are_retried_client_errors_are_not() {
    let server = TestServer::start();
    server.serve_status("busy.tgz", 503);
    server.serve_status("forbidden.tgz", 403);
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(b"x");
    let urls = [server.url("busy.tgz"), server.url("forbidden.tgz")];

    let err = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &urls, &[]), &())
        .expect_err("nothing serves the file");
    assert_eq!(server.request_count("busy.tgz"), 3);
    assert_eq!(server.request_count("forbidden.tgz"), 1);
    let message = err.to_string();
    assert!(
        message.contains("503") && message.contains("403"),
        "{message}"
    );
}

#[test]
fn debian_mirror_urls_are_resolved() {
    let server = TestServer::start();
    let body = archive(2_000);
    let sha = sha256(&body);
    server.serve("debian/pool/main/p/pkg/pkg_1.0.orig.tar.gz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    let urls = [server.url("gone.tgz")];
    let mirrors = ["mirror://debian/pool/main/p/pkg/pkg_1.0.orig.tar.gz".to_owned()];
    let resolver = MirrorResolver::with_debian_bases(vec![server.url("debian")]);

    let path = fetcher_with(sources.path(), None, resolver, policy())
        .fetch(&spec(&sha, &urls, &mirrors), &())
        .expect("fetch via mirror");
    assert_eq!(fs::read(path).expect("read"), body);
    assert_eq!(
        server.request_count("debian/pool/main/p/pkg/pkg_1.0.orig.tar.gz"),
        1
    );

    // Only unresolvable URLs: the mirror error says what to configure.
    let sources = TempDir::new().expect("temp dir");
    let err = fetcher(sources.path(), None)
        .fetch(&spec(&sha, &mirrors, &[]), &())
        .expect_err("no mirror configured");
    assert!(matches!(err, FetchError::Mirror(_)), "{err}");
    assert!(err.to_string().contains("C1PZO_MIRROR_DEBIAN"), "{err}");
}

#[test]
fn corrupted_cache_is_downloaded_again_with_a_note() {
    let server = TestServer::start();
    let body = archive(3_000);
    let sha = sha256(&body);
    server.serve("pkg.tgz", body.clone());
    let sources = TempDir::new().expect("temp dir");
    fs::write(sources.path().join(FILE), b"bit rot").expect("write corrupt cache");
    let urls = [server.url("pkg.tgz")];
    let notes = Notes::default();

    let fetcher = fetcher(sources.path(), None);
    assert!(!fetcher.is_present(&spec(&sha, &urls, &[])));
    let path = fetcher
        .fetch(&spec(&sha, &urls, &[]), &notes)
        .expect("fetch");
    assert_eq!(fs::read(path).expect("read"), body);
    assert_eq!(server.request_count("pkg.tgz"), 1);
    let notes = notes.all();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("checksum mismatch for cached source") && n.contains(&sha)),
        "{notes:?}"
    );
}

#[test]
fn local_fallback_directories_work() {
    let body = archive(4_096);
    let sha = sha256(&body);
    let store = TempDir::new().expect("temp dir");
    fs::write(store.path().join(FILE), &body).expect("write fallback file");
    let urls = ["http://127.0.0.1:9/unreachable.tgz".to_owned()];
    let retry = RetryPolicy {
        attempts: 1,
        ..policy()
    };

    for fallback in [
        format!("file://{}", store.path().display()),
        store.path().display().to_string(),
    ] {
        let sources = TempDir::new().expect("temp dir");
        let path = fetcher_with(
            sources.path(),
            Some(fallback.clone()),
            MirrorResolver::default(),
            retry.clone(),
        )
        .fetch(&spec(&sha, &urls, &[]), &())
        .unwrap_or_else(|e| panic!("fetch from {fallback}: {e}"));
        assert_eq!(fs::read(path).expect("read"), body);
    }

    // A local copy is verified like a download.
    let sources = TempDir::new().expect("temp dir");
    let wrong = sha256(b"other");
    let fallback = format!("file://{}", store.path().display());
    let err = fetcher_with(
        sources.path(),
        Some(fallback),
        MirrorResolver::default(),
        retry,
    )
    .fetch(&spec(&wrong, &urls, &[]), &())
    .expect_err("wrong hash");
    assert!(err.to_string().contains("sha256 mismatch"), "{err}");
    assert!(dir_entries(sources.path()).is_empty());
}

#[test]
fn all_failures_name_every_url() {
    let server = TestServer::start();
    server.serve_status("a.tgz", 404);
    server.serve_html("b.tgz");
    let sources = TempDir::new().expect("temp dir");
    let sha = sha256(b"x");
    let urls = [server.url("a.tgz")];
    let mirrors = [server.url("b.tgz"), "mirror://debian/pool/x.tgz".to_owned()];
    let fallback = Some(server.url("fb"));

    let err = fetcher(sources.path(), fallback)
        .fetch(&spec(&sha, &urls, &mirrors), &())
        .expect_err("everything fails");
    let FetchError::AllFailed { attempts, .. } = &err else {
        panic!("expected AllFailed, got {err}");
    };
    let tried: Vec<&str> = attempts.iter().map(|(url, _)| url.as_str()).collect();
    let fallback_url = format!("{}/{FILE}", server.url("fb"));
    assert_eq!(
        tried,
        [
            &urls[0],
            &fallback_url,
            &mirrors[0],
            "mirror://debian/pool/x.tgz"
        ]
    );
    let message = err.to_string();
    for url in &tried {
        assert!(message.contains(url), "{url} missing from: {message}");
    }
    assert!(message.contains("404"), "{message}");
    assert!(message.contains("C1PZO_MIRROR_DEBIAN"), "{message}");
}

#[test]
fn invalid_specs_are_rejected_before_any_io() {
    let sources = TempDir::new().expect("temp dir");
    let urls = ["http://127.0.0.1:9/x".to_owned()];
    let sha = sha256(b"x");
    let fetcher = fetcher(sources.path(), None);
    let escaping = SourceSpec {
        file_name: "../evil.tgz",
        ..spec(&sha, &urls, &[])
    };
    assert!(matches!(
        fetcher.fetch(&escaping, &()),
        Err(FetchError::InvalidSpec { .. })
    ));
    assert!(matches!(
        fetcher.fetch(&spec("not-a-hash", &urls, &[]), &()),
        Err(FetchError::InvalidSpec { .. })
    ));
}
