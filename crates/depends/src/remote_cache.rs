//! BASE_CACHE_URL: a BASE_CACHE shared over plain HTTP, consulted when the local one misses.
//!
//! The server holds the local cache's own layout,
//! `<url>/<triple>/<pkg>/<pkg>-<version>-<id>.tar.gz` with its `.json` and
//! `.hash`. Reading is GET; pushing (`BASE_CACHE_PUSH=1`) is MKCOL for each
//! folder, then PUT of the tarball, the `.json` and, last, the `.hash`: what
//! nginx's dav module, Bazel's HTTP cache and sccache's WebDAV backend
//! speak. A reader treats a missing `.hash` as a miss, so it never sees a
//! half-pushed entry.
//!
//! A download is used only if the tarball hashes to the `.hash` fetched with
//! it, unpacks, and its record names the package, version and build id
//! computed here. Anything else costs one warning and a local build, never
//! a failed run. The `.hash` proves integrity, not origin: ARCHITECTURE.md
//! states the trust model.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::{Body, Client, RequestBuilder, Response};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest, Sha256};

use crate::archive;
use crate::cache::{self, BuildRecord, BuiltCache, CacheError, CachedBuild, Lookup};
use crate::fetch::{describe, looks_like_html, RetryPolicy, USER_AGENT};
use crate::fsutil::FileLock;
use crate::options::Options;
use crate::plan::Planned;
use crate::progress::{Reporter, Stage};

/// Attempts per request: one retry rides out a dropped connection or a
/// restarting server without letting a dead one hold the run up.
const ATTEMPTS: u32 = 2;
/// Caps on the download policy's timeouts: the cache only saves time, so it
/// gives up sooner than a source download, which has no alternative.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A `.hash` is one line and a `.json` a few kilobytes; a much larger answer
/// is not what was asked for.
const MAX_HASH_BYTES: u64 = 4 * 1024;
const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;

/// How requests to BASE_CACHE_URL authenticate. `Debug` hides the secret,
/// so options can be printed.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `BASE_CACHE_PUSH_TOKEN`, sent as `Authorization: Bearer`.
    Bearer(String),
    /// `BASE_CACHE_USER` and `BASE_CACHE_PASSWORD`, sent as basic auth.
    Basic { user: String, password: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user:?}, <redacted>)"),
        }
    }
}

impl Credentials {
    fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Credentials::Bearer(token) => request.bearer_auth(token),
            Credentials::Basic { user, password } => request.basic_auth(user, Some(password)),
        }
    }

    fn secret(&self) -> &str {
        match self {
            Credentials::Bearer(token) => token,
            Credentials::Basic { password, .. } => password,
        }
    }
}

/// Why the remote cache could not serve or take a build.
#[derive(Debug, thiserror::Error)]
pub enum RemoteCacheError {
    #[error("cannot set up the HTTP client for BASE_CACHE_URL: {0}")]
    Client(String),
    /// The request never got an answer: the server is down, unreachable or
    /// silent. Later requests of the run skip it.
    #[error("{url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url} answered HTTP {status}{hint}")]
    Status {
        url: String,
        status: StatusCode,
        /// What a status means here, or empty.
        hint: &'static str,
    },
    #[error("{url}: {why}")]
    Transfer { url: String, why: String },
    #[error("{url} does not hold a sha256 line: `{found}`")]
    BadHashFile { url: String, found: String },
    #[error("{url} is not a build record: {why}")]
    BadRecord { url: String, why: String },
    #[error("{url} records {field} {actual}, expected {expected}: a build of other inputs, or the server's entry was replaced")]
    WrongRecord {
        url: String,
        field: &'static str,
        expected: String,
        actual: String,
    },
    #[error("{url}: sha256 mismatch: expected {expected} (its .hash), actual {actual} ({size} bytes){hint}")]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
        size: u64,
        hint: &'static str,
    },
    #[error("{url} is not a readable tarball: {why}")]
    BadTarball { url: String, why: String },
    #[error("{}: {source}", path.display())]
    Local { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

fn local(path: &Path) -> impl FnOnce(io::Error) -> RemoteCacheError + '_ {
    move |source| RemoteCacheError::Local {
        path: path.to_path_buf(),
        source,
    }
}

/// How one attempt failed: worth repeating once, or final.
enum Failed {
    Retry(RemoteCacheError),
    Final(RemoteCacheError),
}

impl From<RemoteCacheError> for Failed {
    fn from(error: RemoteCacheError) -> Self {
        Failed::Final(error)
    }
}

/// Checks a BASE_CACHE_URL and returns it without a trailing `/`; the error
/// says what is wrong with it.
pub fn normalize_url(value: &str) -> Result<String, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "has scheme `{}`; the remote cache speaks http:// and https://",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "carries credentials, which would show in every message naming it: \
                    set BASE_CACHE_USER and BASE_CACHE_PASSWORD, or BASE_CACHE_PUSH_TOKEN, \
                    in the environment instead"
                .into(),
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("has a query or fragment; give the folder that holds the cache".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// `value` with any `user:password@` replaced by `***@`, for messages about
/// a URL that should not have carried them.
pub fn without_userinfo(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => value.to_string(),
    }
}

/// The server behind BASE_CACHE_URL, for one run.
pub struct RemoteCache {
    base: Url,
    push: bool,
    credentials: Option<Credentials>,
    client: Client,
    first_backoff: Duration,
    read_timeout: Duration,
    /// Set when a request got no answer at all: the remaining packages skip
    /// the server instead of each waiting out the same timeouts.
    unreachable: AtomicBool,
}

impl RemoteCache {
    /// The remote cache the options ask for; none without BASE_CACHE_URL or
    /// with `--offline`. Timeouts follow `retry`, capped.
    pub fn from_options(
        options: &Options,
        retry: &RetryPolicy,
    ) -> Result<Option<RemoteCache>, RemoteCacheError> {
        let Some(base) = options.base_cache_url.as_deref() else {
            return Ok(None);
        };
        if options.offline {
            return Ok(None);
        }
        let base = normalize_url(base)
            .and_then(|b| Url::parse(&b).map_err(|e| e.to_string()))
            .map_err(|why| RemoteCacheError::Client(format!("BASE_CACHE_URL {why}")))?;
        let connect_timeout = retry.connect_timeout.min(MAX_CONNECT_TIMEOUT);
        let read_timeout = retry.read_timeout.min(MAX_READ_TIMEOUT);
        // As in fetch.rs: the blocking client's timeout bounds each wait
        // (the response head, every read of the body), not the transfer.
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(connect_timeout)
            .timeout(read_timeout.max(connect_timeout))
            .build()
            .map_err(|e| RemoteCacheError::Client(describe(&e.without_url())))?;
        Ok(Some(RemoteCache {
            base,
            push: options.base_cache_push,
            credentials: options.base_cache_credentials.clone(),
            client,
            first_backoff: retry.first_backoff,
            read_timeout,
            unreachable: AtomicBool::new(false),
        }))
    }

    /// Downloads `p`'s build into `cache` if the server has a good one.
    /// Otherwise says why in one line through `reporter` and returns
    /// `None`: the caller builds the package.
    pub fn restore(
        &self,
        cache: &BuiltCache,
        p: &Planned,
        reporter: &dyn Reporter,
    ) -> Option<CachedBuild> {
        if self.unreachable.load(Ordering::Relaxed) {
            return None;
        }
        let r = &p.selected.recipe;
        // The lock `build_one` takes: a run building this package now
        // finishes first, and no two runs write the same temporary.
        let lock_path = cache.package_dir(&p.cache_triple, &r.name).join(".lock");
        let lock = FileLock::acquire(&lock_path, &|| {
            reporter.note(p.name(), "waiting for another run building this package")
        });
        let _lock = match lock {
            Ok(lock) => lock,
            Err(e) => {
                self.warn_fetch(p, reporter, &local(&lock_path)(e));
                return None;
            }
        };
        // Made by another run meanwhile: the build step finds it there.
        if let Ok(Lookup::Hit(_)) = cache.lookup(&p.cache_triple, &r.name, &r.version, &p.build_id)
        {
            return None;
        }
        reporter.stage(p.name(), Stage::Fetch);
        let started = Instant::now();
        match self.download(cache, p, reporter) {
            Ok(cached) => {
                reporter.finished(
                    p.name(),
                    &format!(
                        "downloaded from BASE_CACHE_URL in {:.1}s",
                        started.elapsed().as_secs_f64()
                    ),
                );
                Some(cached)
            }
            Err(err) => {
                self.warn_fetch(p, reporter, &err);
                None
            }
        }
    }

    /// With BASE_CACHE_PUSH=1, uploads a build this run made: the tarball,
    /// its `.json`, then its `.hash`. A refusal or an unreachable server
    /// costs one warning; the build stands either way.
    pub fn push(&self, p: &Planned, cached: &CachedBuild, reporter: &dyn Reporter) {
        if !self.push || self.unreachable.load(Ordering::Relaxed) {
            return;
        }
        if let Err(err) = self.upload(p, cached) {
            let message = format!(
                "could not push to the remote cache: {err}; the build is kept in the local BASE_CACHE only{}",
                self.give_up_note(&err)
            );
            reporter.note(p.name(), &self.scrub(message));
        }
    }

    fn warn_fetch(&self, p: &Planned, reporter: &dyn Reporter, err: &RemoteCacheError) {
        let message = format!(
            "remote cache: {err}; building it here{}",
            self.give_up_note(err)
        );
        reporter.note(p.name(), &self.scrub(message));
    }

    /// Marks the server unreachable after `err` if it says so, and tells.
    fn give_up_note(&self, err: &RemoteCacheError) -> &'static str {
        if matches!(err, RemoteCacheError::Unreachable { .. }) {
            self.unreachable.store(true, Ordering::Relaxed);
            " (BASE_CACHE_URL is not asked again this run)"
        } else {
            ""
        }
    }

    /// Removes the secret from a message. reqwest's errors carry no
    /// headers today; this keeps a future one that did from printing it.
    fn scrub(&self, text: String) -> String {
        match self.credentials.as_ref().map(Credentials::secret) {
            Some(secret) if !secret.is_empty() => text.replace(secret, "<redacted>"),
            _ => text,
        }
    }

    fn entry_url(&self, p: &Planned, ext: &str) -> String {
        let r = &p.selected.recipe;
        format!(
            "{}/{}/{}/{}.{ext}",
            self.base.as_str().trim_end_matches('/'),
            p.cache_triple,
            r.name,
            BuiltCache::stem(&r.name, &r.version, &p.build_id)
        )
    }

    /// `.hash`, `.json`, then the tarball, each checked before the next is
    /// asked for; the verified build is moved into `cache`.
    fn download(
        &self,
        cache: &BuiltCache,
        p: &Planned,
        reporter: &dyn Reporter,
    ) -> Result<CachedBuild, RemoteCacheError> {
        let r = &p.selected.recipe;
        let hash_url = self.entry_url(p, "tar.gz.hash");
        let hash_line = self.get_small(&hash_url, MAX_HASH_BYTES)?;
        let expected =
            parse_hash_line(&hash_line).ok_or_else(|| RemoteCacheError::BadHashFile {
                url: hash_url.clone(),
                found: String::from_utf8_lossy(&hash_line)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(80)
                    .collect(),
            })?;

        let json_url = self.entry_url(p, "tar.gz.json");
        let json = self.get_small(&json_url, MAX_RECORD_BYTES)?;
        let record: BuildRecord =
            serde_json::from_slice(&json).map_err(|e| RemoteCacheError::BadRecord {
                url: json_url.clone(),
                why: if looks_like_html(&json) {
                    "the server sent an HTML page".into()
                } else {
                    e.to_string()
                },
            })?;
        for (field, expected, actual) in [
            ("package", &r.name, &record.package),
            ("version", &r.version, &record.version),
            ("build id", &p.build_id, &record.build_id),
        ] {
            if expected != actual {
                return Err(RemoteCacheError::WrongRecord {
                    url: json_url,
                    field,
                    expected: expected.clone(),
                    actual: actual.clone(),
                });
            }
        }

        let tarball_url = self.entry_url(p, "tar.gz");
        let tmp = cache.temp_tarball(&p.cache_triple, &r.name, &r.version, &p.build_id)?;
        let result = self
            .get_tarball(&tarball_url, &tmp, &expected, p.name(), reporter)
            .and_then(|()| {
                archive::check_readable(&tmp).map_err(|e| RemoteCacheError::BadTarball {
                    url: tarball_url.clone(),
                    // The temporary's path would only distract.
                    why: match e {
                        archive::ArchiveError::Io { source, .. } => source.to_string(),
                        other => other.to_string(),
                    },
                })?;
                Ok(cache.adopt(&p.cache_triple, &record, &json, &tmp, &expected)?)
            });
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// GETs a sidecar of at most `limit` bytes.
    fn get_small(&self, url: &str, limit: u64) -> Result<Vec<u8>, RemoteCacheError> {
        self.with_retries(|| {
            let response = self.send(self.client.get(url), url)?;
            let mut body = Vec::new();
            response
                .take(limit + 1)
                .read_to_end(&mut body)
                .map_err(|e| self.interrupted(url, body.len() as u64, None, &e))?;
            if body.len() as u64 > limit {
                return Err(Failed::Final(RemoteCacheError::Transfer {
                    url: url.to_string(),
                    why: format!(
                        "the answer is larger than {limit} bytes, too large for a sidecar"
                    ),
                }));
            }
            Ok(body)
        })
    }

    /// GETs the tarball into `tmp`, hashing as it arrives; succeeds only if
    /// it hashes to `expected`.
    fn get_tarball(
        &self,
        url: &str,
        tmp: &Path,
        expected: &str,
        package: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), RemoteCacheError> {
        self.with_retries(|| {
            let mut response = self.send(self.client.get(url), url)?;
            let total = response.content_length();
            let html_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
            let mut file = File::create(tmp).map_err(local(tmp))?;
            let mut hasher = Sha256::new();
            let mut head = Vec::new();
            let mut done = 0u64;
            let mut buf = vec![0; 64 * 1024];
            loop {
                let n = match response.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.interrupted(url, done, total, &e)),
                };
                file.write_all(&buf[..n]).map_err(local(tmp))?;
                hasher.update(&buf[..n]);
                if head.len() < 1024 {
                    head.extend_from_slice(&buf[..n.min(1024 - head.len())]);
                }
                done += n as u64;
                reporter.download(package, done, total);
            }
            if let Some(total) = total.filter(|&t| done < t) {
                return Err(Failed::Retry(RemoteCacheError::Transfer {
                    url: url.to_string(),
                    why: format!("connection closed after {done} of {total} bytes"),
                }));
            }
            file.sync_all().map_err(local(tmp))?;
            let actual = hex::encode(hasher.finalize());
            if actual != expected {
                return Err(Failed::Final(RemoteCacheError::HashMismatch {
                    url: url.to_string(),
                    expected: expected.to_string(),
                    actual,
                    size: done,
                    hint: if html_type || looks_like_html(&head) {
                        "; the server sent an HTML page, not the tarball"
                    } else {
                        ""
                    },
                }));
            }
            Ok(())
        })
    }

    fn upload(&self, p: &Planned, cached: &CachedBuild) -> Result<(), RemoteCacheError> {
        let json_path = cache::sidecar(&cached.tarball, "json");
        let hash_path = cache::sidecar(&cached.tarball, "hash");
        let json = fs::read(&json_path).map_err(local(&json_path))?;
        let hash = fs::read(&hash_path).map_err(local(&hash_path))?;
        self.make_folders(p)?;
        let url = self.entry_url(p, "tar.gz");
        self.with_retries(|| {
            let file = File::open(&cached.tarball).map_err(local(&cached.tarball))?;
            let request = self.client.put(&url).body(Body::sized(file, cached.size));
            self.send(request, &url).map(drop)
        })?;
        // The .hash last: until it is there, readers see no entry at all.
        for (ext, bytes) in [("tar.gz.json", json), ("tar.gz.hash", hash)] {
            let url = self.entry_url(p, ext);
            self.with_retries(|| {
                let request = self.client.put(&url).body(bytes.clone());
                self.send(request, &url).map(drop)
            })?;
        }
        Ok(())
    }

    /// MKCOL for every folder from the URL's own path down to the
    /// package's, as nginx's dav module needs (it does not create parents
    /// on PUT unless `create_full_put_path on`). Answers other than "no
    /// answer" are ignored: 405 means the folder exists, and on a server
    /// that has no MKCOL or makes folders itself the PUT's answer is the
    /// one that counts.
    fn make_folders(&self, p: &Planned) -> Result<(), RemoteCacheError> {
        let mut folders: Vec<String> = self
            .base
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        folders.push(p.cache_triple.clone());
        folders.push(p.selected.recipe.name.clone());
        let mkcol = Method::from_bytes(b"MKCOL").expect("MKCOL is a valid method token");
        for depth in 1..=folders.len() {
            let mut url = self.base.clone();
            url.set_path(&format!("/{}/", folders[..depth].join("/")));
            let request = self.client.request(mkcol.clone(), url.clone());
            if let Err(Failed::Retry(err @ RemoteCacheError::Unreachable { .. })) =
                self.send(request, url.as_str())
            {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Runs `attempt` up to [`ATTEMPTS`] times while it fails in a way
    /// worth repeating, pausing in between.
    fn with_retries<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, Failed>,
    ) -> Result<T, RemoteCacheError> {
        let mut backoff = self.first_backoff;
        for n in 1.. {
            match attempt() {
                Ok(value) => return Ok(value),
                Err(Failed::Final(err)) => return Err(err),
                Err(Failed::Retry(err)) if n >= ATTEMPTS => return Err(gave_up(err)),
                Err(Failed::Retry(_)) => {
                    thread::sleep(backoff);
                    backoff = backoff.saturating_mul(2);
                }
            }
        }
        unreachable!("the loop returns")
    }

    /// Sends a request with the credentials. Only a 2xx is `Ok`; server
    /// errors and no answer are worth one more try.
    fn send(&self, request: RequestBuilder, url: &str) -> Result<Response, Failed> {
        let request = match &self.credentials {
            Some(credentials) => credentials.apply(request),
            None => request,
        };
        let (client, request) = request.build_split();
        let request = request.map_err(|e| {
            Failed::Final(RemoteCacheError::Transfer {
                url: url.to_string(),
                why: describe(&e.without_url()),
            })
        })?;
        let request_method = request.method().clone();
        let response = client.execute(request).map_err(|e| {
            let why = if e.is_timeout() {
                format!("no answer within {:?}", self.read_timeout)
            } else {
                describe(&e.without_url())
            };
            Failed::Retry(RemoteCacheError::Unreachable {
                url: url.to_string(),
                why,
            })
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let hint = match (request_method, status.as_u16()) {
            (Method::GET, 404) => " (no build with this id there yet)",
            (Method::GET, 401 | 403) => {
                " (the server wants credentials: BASE_CACHE_PUSH_TOKEN or BASE_CACHE_USER/BASE_CACHE_PASSWORD)"
            }
            (Method::PUT, 401 | 403) => {
                "; check BASE_CACHE_PUSH_TOKEN or BASE_CACHE_USER/BASE_CACHE_PASSWORD, and that the server allows PUT"
            }
            (Method::PUT, 404 | 405 | 409) => {
                "; the server may not accept uploads (nginx: dav_methods PUT MKCOL)"
            }
            _ => "",
        };
        let err = RemoteCacheError::Status {
            url: url.to_string(),
            status,
            hint,
        };
        let transient = status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS;
        Err(if transient {
            Failed::Retry(err)
        } else {
            Failed::Final(err)
        })
    }

    fn interrupted(&self, url: &str, done: u64, total: Option<u64>, error: &io::Error) -> Failed {
        let timed_out = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
        let why = if timed_out {
            format!("no data received for {:?}", self.read_timeout)
        } else {
            describe(error)
        };
        let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
        Failed::Retry(RemoteCacheError::Transfer {
            url: url.to_string(),
            why: format!("transfer interrupted after {done}{of} bytes: {why}"),
        })
    }
}

/// Notes on a transient failure that it outlasted every attempt.
fn gave_up(err: RemoteCacheError) -> RemoteCacheError {
    match err {
        RemoteCacheError::Unreachable { url, why } => RemoteCacheError::Unreachable {
            url,
            why: format!("{why} (gave up after {ATTEMPTS} attempts)"),
        },
        RemoteCacheError::Transfer { url, why } => RemoteCacheError::Transfer {
            url,
            why: format!("{why} (gave up after {ATTEMPTS} attempts)"),
        },
        other => other,
    }
}

/// The sha256 of a sha256sum-format line, lowercased, if it is one.
fn parse_hash_line(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let sha = text.split_whitespace().next()?.to_ascii_lowercase();
    (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_userinfo_is_hidden() {
        assert_eq!(
            normalize_url("http://127.0.0.1:8080/cache//").as_deref(),
            Ok("http://127.0.0.1:8080/cache")
        );
        assert_eq!(
            normalize_url("https://cache.example").as_deref(),
            Ok("https://cache.example")
        );
        assert!(normalize_url("file:///srv/cache").is_err());
        assert!(normalize_url("cache.example/x").is_err());
        assert!(normalize_url("https://cache.example/x?token=1").is_err());
        let err = normalize_url("https://u:p@cache.example/").unwrap_err();
        assert!(err.contains("BASE_CACHE_PUSH_TOKEN"), "{err}");
        assert_eq!(
            without_userinfo("https://user:hunter2@cache.example/c?x=@"),
            "https://***@cache.example/c?x=@"
        );
        assert_eq!(without_userinfo("http://h/a@b"), "http://h/a@b");
    }

    #[test]
    fn hash_lines_are_parsed_strictly() {
        let sha = "ab".repeat(32);
        assert_eq!(
            parse_hash_line(format!("{sha}  foo.tar.gz\n").as_bytes()),
            Some(sha.clone())
        );
        assert_eq!(parse_hash_line(sha.to_uppercase().as_bytes()), Some(sha));
        assert_eq!(parse_hash_line(b"<!DOCTYPE html>"), None);
        assert_eq!(parse_hash_line(b""), None);
    }

    #[test]
    fn debug_hides_secrets() {
        let basic = Credentials::Basic {
            user: "ci".into(),
            password: "hunter2".into(),
        };
        let text = format!("{basic:?} {:?}", Credentials::Bearer("tok3n".into()));
        assert!(
            !text.contains("hunter2") && !text.contains("tok3n"),
            "{text}"
        );
        assert!(text.contains("ci"), "{text}");
    }
}
