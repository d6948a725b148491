//! Downloading pinned source archives into `SOURCES_PATH`.
//!
//! Every source is identified by its sha256: nothing reaches its final name
//! in the sources directory unless the complete file hashes correctly.
//! Downloads go to `<file_name>.part` and resume with HTTP range requests,
//! both within a run (after a dropped connection) and across runs (after an
//! interrupted build), because the archives of a full depends build add up
//! to hundreds of megabytes over links that are not always reliable.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::fsutil::{sha256_file, FileLock};
use crate::mirror::{MirrorError, MirrorResolver};

pub(crate) const USER_AGENT: &str = concat!("c1pzo-depends/", env!("CARGO_PKG_VERSION"));

const HTML_HINT: &str =
    "the server sent an HTML page, not the archive (a login/error page or a mirror that lacks the file?)";

/// One pinned source archive of a recipe.
#[derive(Debug, Clone, Copy)]
pub struct SourceSpec<'a> {
    /// Package name, for messages.
    pub package: &'a str,
    /// Name of the file in the sources directory.
    pub file_name: &'a str,
    /// Expected sha256, hex.
    pub sha256: &'a str,
    /// The recipe's primary URLs (may contain `mirror://`).
    pub urls: &'a [String],
    /// The recipe's mirrors, tried after `FALLBACK_DOWNLOAD_PATH`.
    pub mirrors: &'a [String],
}

/// How hard to try each URL.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per URL (at least one is always made).
    pub attempts: u32,
    /// Pause before the second attempt; doubles after each further failure.
    pub first_backoff: Duration,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for waiting on the server: receiving no byte for this long fails the attempt.
    pub read_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// Receives progress and noteworthy events; may be called from several threads.
pub trait FetchObserver: Sync {
    /// `done` bytes of `total` (if known) are on disk.
    fn progress(&self, _package: &str, _done: u64, _total: Option<u64>) {}
    /// Something the user should know about (retries, discarded caches).
    fn note(&self, _package: &str, _message: &str) {}
}

impl FetchObserver for () {}

/// Why a source could not be fetched.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error(
        "could not fetch {file_name} for {package}; every source failed:{}\n\
         check the URLs above, or set FALLBACK_DOWNLOAD_PATH to a directory or URL holding {file_name}",
        list_attempts(.attempts)
    )]
    AllFailed {
        package: String,
        file_name: String,
        /// Every URL tried, in order, with why it failed.
        attempts: Vec<(String, String)>,
    },
    /// Every source answered that the file does not exist (404, 410, no
    /// such file in FALLBACK_DOWNLOAD_PATH) and the file is a Debian
    /// package: the mirror dropped the pinned version. Says which, and how
    /// to re-pin.
    #[error("{0}")]
    PinnedDebGone(Box<GoneDeb>),
    #[error("cannot access {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// Returned when no URL of the recipe could be resolved at all.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("the recipe of {package} has an invalid source: {reason}")]
    InvalidSpec { package: String, reason: String },
}

/// A pinned `.deb` that no source has any more (boxed in [`FetchError`],
/// which every engine result carries).
#[derive(Debug)]
pub struct GoneDeb {
    pub package: String,
    pub file_name: String,
    pub sha256: String,
    pub deb_package: String,
    pub deb_version: String,
    pub deb_arch: String,
    pub attempts: Vec<(String, String)>,
}

impl std::fmt::Display for GoneDeb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let GoneDeb {
            package,
            file_name,
            sha256,
            deb_package,
            deb_version,
            deb_arch,
            attempts,
        } = self;
        write!(
            f,
            "could not fetch {file_name} for {package}: the recipe pins Debian package {deb_package} \
             version {deb_version} ({deb_arch}), and no source has it any more:{}\n\
             A Debian mirror deletes a version from its pool when a point release or update replaces \
             it, and a whole release when it is archived.\n\
             Re-pin to what the mirror carries now: cargo xtask depends repin {package}\n  \
             (reads the suite's signed Packages index from the same mirror, prints the new \
             file_name/sha256/mirrors of each .deb of recipes/{package}.toml; add --write to apply)\n\
             Or keep this pin: put {file_name} (sha256 {sha256}) in FALLBACK_DOWNLOAD_PATH (a folder or \
             URL), or set C1PZO_MIRROR_DEBIAN to a mirror or archive that still has it",
            list_attempts(attempts)
        )
    }
}

fn list_attempts(attempts: &[(String, String)]) -> String {
    if attempts.is_empty() {
        return "\n  (the recipe lists no URL)".to_owned();
    }
    let mut out = String::new();
    for (url, why) in attempts {
        let _ = write!(out, "\n  {url}: {why}");
    }
    out
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Downloads sources into one directory.
#[derive(Debug)]
pub struct Fetcher {
    sources_dir: PathBuf,
    fallback: Option<String>,
    mirrors: MirrorResolver,
    retry: RetryPolicy,
    client: Client,
}

/// Where a candidate copy of the file lives.
enum Candidate {
    Http(String),
    Local(PathBuf),
}

/// How one attempt failed.
enum Failure {
    /// Worth trying the same URL again after a pause.
    Retry(String),
    /// The `.part` was unusable and has been removed: try again at once.
    RestartNow(String),
    /// This URL will not deliver the file; move on to the next.
    Skip(String),
    /// The server (or folder) says the file does not exist: 404, 410, or
    /// no such file. Moves on like `Skip`; when every source says so, the
    /// file is gone rather than unreachable.
    Gone(String),
    /// A local problem (disk full, permissions) no other URL can fix.
    Fatal(FetchError),
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Self {
        Failure::Fatal(error)
    }
}

/// The complete body of one download, not yet known to be right.
struct Downloaded {
    sha256: String,
    len: u64,
    html_content_type: bool,
    /// Whether the start of the file came from an earlier attempt.
    resumed: bool,
}

impl Fetcher {
    /// `fallback` is `FALLBACK_DOWNLOAD_PATH`: a URL or a local directory.
    pub fn new(
        sources_dir: PathBuf,
        fallback: Option<String>,
        mirrors: MirrorResolver,
        retry: RetryPolicy,
    ) -> Result<Self, FetchError> {
        // reqwest's blocking `timeout` bounds each wait separately (for the
        // response head, then for every `read` of the body), not the whole
        // transfer, so it is exactly a "no bytes for this long" limit. It
        // also covers connecting, hence the max.
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(retry.connect_timeout)
            .timeout(retry.read_timeout.max(retry.connect_timeout))
            .build()?;
        let fallback = fallback
            .map(|f| f.trim().trim_end_matches('/').to_owned())
            .filter(|f| !f.is_empty());
        Ok(Self {
            sources_dir,
            fallback,
            mirrors,
            retry,
            client,
        })
    }

    /// Path where the source lives once fetched.
    pub fn path_of(&self, spec: &SourceSpec) -> PathBuf {
        self.sources_dir.join(spec.file_name)
    }

    /// True if the file is present and its sha256 matches (reads the whole file).
    pub fn is_present(&self, spec: &SourceSpec) -> bool {
        sha256_file(&self.path_of(spec))
            .map(|(sha, _)| sha)
            .is_ok_and(|actual| actual == spec.sha256.to_ascii_lowercase())
    }

    /// Makes the source available and returns its verified path.
    ///
    /// A file already in place with the right hash costs no network access.
    pub fn fetch(
        &self,
        spec: &SourceSpec,
        observer: &dyn FetchObserver,
    ) -> Result<PathBuf, FetchError> {
        let expected = validate(spec)?;
        fs::create_dir_all(&self.sources_dir).map_err(io_error(&self.sources_dir))?;
        let final_path = self.path_of(spec);
        let part = self.sources_dir.join(format!("{}.part", spec.file_name));
        let lock_path = self.sources_dir.join(format!(".{}.lock", spec.file_name));
        // Two processes must never write the same `.part`.
        let _lock = FileLock::acquire_transient(&lock_path, &|| {
            observer.note(
                spec.package,
                &format!(
                    "waiting for another download of {} (this run or another) to finish",
                    spec.file_name
                ),
            )
        })
        .map_err(io_error(&lock_path))?;

        match sha256_file(&final_path).map(|(sha, _)| sha) {
            Ok(actual) if actual == expected => return Ok(final_path),
            Ok(actual) => {
                observer.note(
                    spec.package,
                    &format!(
                        "checksum mismatch for cached source {} (expected {expected}, actual {actual}): downloading again",
                        final_path.display()
                    ),
                );
                fs::remove_file(&final_path).map_err(io_error(&final_path))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&final_path)(e)),
        }

        let candidates = self.candidates(spec);
        if candidates.iter().all(|(_, c)| c.is_err()) {
            // Nothing to try at all: the mirror error says how to fix it.
            if let Some((_, Err(error))) = candidates.first() {
                return Err(FetchError::Mirror(error.clone()));
            }
        }
        let mut attempts = Vec::new();
        let mut gone_everywhere = true;
        for (label, candidate) in candidates {
            let result = match candidate {
                Ok(Candidate::Http(url)) => self.fetch_http(spec, &url, &expected, &part, observer),
                Ok(Candidate::Local(path)) => copy_local(spec, &path, &expected, &part, observer),
                // The error names the URL, which the report already shows.
                Err(error) => {
                    let text = error.to_string();
                    let why = text.strip_prefix(&format!("{label}: ")).unwrap_or(&text);
                    Err(Failure::Skip(why.to_owned()))
                }
            };
            match result {
                Ok(()) => {
                    install(&part, &final_path, &self.sources_dir)?;
                    return Ok(final_path);
                }
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Gone(why)) => attempts.push((label, why)),
                Err(Failure::Skip(why) | Failure::Retry(why) | Failure::RestartNow(why)) => {
                    gone_everywhere = false;
                    attempts.push((label, why));
                }
            }
        }
        if let (true, false, Some(deb)) = (
            gone_everywhere,
            attempts.is_empty(),
            crate::debian::DebName::parse(spec.file_name),
        ) {
            return Err(FetchError::PinnedDebGone(Box::new(GoneDeb {
                package: spec.package.to_owned(),
                file_name: spec.file_name.to_owned(),
                sha256: expected,
                deb_package: deb.package,
                deb_version: deb.version,
                deb_arch: deb.arch,
                attempts,
            })));
        }
        Err(FetchError::AllFailed {
            package: spec.package.to_owned(),
            file_name: spec.file_name.to_owned(),
            attempts,
        })
    }

    /// Everything to try, in order: primary URLs, fallback, mirrors. Each
    /// comes with the label used in messages; a URL that cannot be resolved
    /// stays in place as an error so the final report keeps the order.
    fn candidates(&self, spec: &SourceSpec) -> Vec<(String, Result<Candidate, MirrorError>)> {
        let mut candidates = Vec::new();
        let add = |url: &String, candidates: &mut Vec<_>| match self.mirrors.resolve(url) {
            Ok(urls) => candidates.extend(urls.into_iter().map(|u| {
                let candidate = candidate_for(&u);
                (u, Ok(candidate))
            })),
            Err(error) => candidates.push((url.clone(), Err(error))),
        };
        for url in spec.urls {
            add(url, &mut candidates);
        }
        if let Some(fallback) = &self.fallback {
            let location = format!("{fallback}/{}", spec.file_name);
            candidates.push((location.clone(), Ok(candidate_for(&location))));
        }
        for url in spec.mirrors {
            add(url, &mut candidates);
        }
        candidates
    }

    /// Downloads `url` into `part`, retrying and resuming per the policy.
    fn fetch_http(
        &self,
        spec: &SourceSpec,
        url: &str,
        expected: &str,
        part: &Path,
        observer: &dyn FetchObserver,
    ) -> Result<(), Failure> {
        let attempts = self.retry.attempts.max(1);
        let mut attempt = 1;
        let mut backoff = self.retry.first_backoff;
        let mut restarted_after_mismatch = false;
        loop {
            let why = match self.http_attempt(spec, url, expected, part, observer) {
                Ok(got) if got.sha256 == expected => return Ok(()),
                Ok(got) => {
                    let why = mismatch_reason(expected, &got, part);
                    remove_if_exists(part)?;
                    // A wrong result built on a `.part` left by an earlier
                    // attempt does not prove this URL wrong: fetch it whole once.
                    if got.resumed && !restarted_after_mismatch {
                        restarted_after_mismatch = true;
                        observer.note(
                            spec.package,
                            &format!("{url}: resumed download is corrupt ({why}); starting over"),
                        );
                        continue;
                    }
                    return Err(Failure::Skip(why));
                }
                Err(Failure::RestartNow(why)) => {
                    observer.note(spec.package, &format!("{url}: {why}; starting over"));
                    continue;
                }
                Err(Failure::Retry(why)) => why,
                Err(other) => return Err(other),
            };
            if attempt >= attempts {
                return Err(Failure::Skip(format!(
                    "{why} (gave up after {attempts} attempts)"
                )));
            }
            attempt += 1;
            observer.note(
                spec.package,
                &format!("{url}: {why}; retrying in {backoff:?} (attempt {attempt} of {attempts})"),
            );
            thread::sleep(backoff);
            backoff = backoff.saturating_mul(2);
        }
    }

    /// One HTTP request, continuing an existing `.part` with a range request.
    fn http_attempt(
        &self,
        spec: &SourceSpec,
        url: &str,
        expected: &str,
        part: &Path,
        observer: &dyn FetchObserver,
    ) -> Result<Downloaded, Failure> {
        let offset = match fs::metadata(part) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io_error(part)(e).into()),
        };
        let mut hasher = Sha256::new();
        if offset > 0 {
            // The hasher has to continue where the earlier download stopped.
            let mut file = File::open(part).map_err(io_error(part))?;
            io::copy(&mut file, &mut hasher).map_err(io_error(part))?;
            let sha256 = hex::encode(hasher.clone().finalize());
            if sha256 == expected {
                // Complete but never renamed (e.g. interrupted right before).
                return Ok(Downloaded {
                    sha256,
                    len: offset,
                    html_content_type: false,
                    resumed: true,
                });
            }
        }

        let mut request = self.client.get(url);
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let mut response = request.send().map_err(|e| {
            let why = describe(&e);
            if e.is_builder() {
                Failure::Skip(why)
            } else {
                Failure::Retry(why)
            }
        })?;
        let status = response.status();
        let (start, total) = match status.as_u16() {
            200 => (0, response.content_length()),
            206 => match parse_content_range(response.headers().get(CONTENT_RANGE)) {
                Some((start, total)) if start == offset => (start, total),
                _ if offset > 0 => {
                    remove_if_exists(part)?;
                    return Err(Failure::RestartNow(
                        "server answered the resume request with a different range".to_owned(),
                    ));
                }
                _ => {
                    return Err(Failure::Skip(format!(
                        "unexpected partial response ({status})"
                    )))
                }
            },
            416 if offset > 0 => {
                remove_if_exists(part)?;
                return Err(Failure::RestartNow(format!(
                    "server cannot resume at byte {offset} ({status})"
                )));
            }
            408 | 429 | 500..=599 => return Err(Failure::Retry(format!("HTTP {status}"))),
            404 | 410 => return Err(Failure::Gone(format!("HTTP {status}"))),
            _ => return Err(Failure::Skip(format!("HTTP {status}"))),
        };
        if start == 0 {
            hasher = Sha256::new();
        } else {
            observer.note(spec.package, &format!("{url}: resuming at byte {start}"));
        }
        let html_content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));

        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(start > 0)
            .truncate(start == 0)
            .open(part)
            .map_err(io_error(part))?;
        let progress = |done| observer.progress(spec.package, done, total);
        let done = match pump(&mut response, &mut file, part, &mut hasher, start, progress)? {
            Ok(done) => done,
            Err((done, e)) => {
                let why = self.describe_read_error(&e);
                return Err(Failure::Retry(format!(
                    "transfer interrupted after {done} bytes: {why}"
                )));
            }
        };
        if let Some(total) = total {
            if done < total {
                return Err(Failure::Retry(format!(
                    "connection closed after {done} of {total} bytes"
                )));
            }
        }
        Ok(Downloaded {
            sha256: hex::encode(hasher.finalize()),
            len: done,
            html_content_type,
            resumed: start > 0,
        })
    }

    fn describe_read_error(&self, error: &io::Error) -> String {
        let timed_out = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
        if timed_out {
            format!("no data received for {:?}", self.retry.read_timeout)
        } else {
            describe(error)
        }
    }
}

/// Checks the parts of `spec` that would otherwise fail confusingly; returns
/// the expected hash in lowercase.
fn validate(spec: &SourceSpec) -> Result<String, FetchError> {
    let invalid = |reason: String| FetchError::InvalidSpec {
        package: spec.package.to_owned(),
        reason,
    };
    let name = spec.file_name;
    // The name is joined to the sources directory: it must not escape it.
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(invalid(format!("`{name}` is not a plain file name")));
    }
    let sha256 = spec.sha256.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "sha256 of {name} is `{}`, not 64 hex digits",
            spec.sha256
        )));
    }
    Ok(sha256)
}

fn candidate_for(location: &str) -> Candidate {
    if let Some((scheme, rest)) = location.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") {
            // `file:///p` and `file://localhost/p` both mean `/p`.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            return Candidate::Local(PathBuf::from(path));
        }
        return Candidate::Http(location.to_owned());
    }
    Candidate::Local(PathBuf::from(location))
}

/// Copies a local file into `part`, verifying it like a download.
fn copy_local(
    spec: &SourceSpec,
    source: &Path,
    expected: &str,
    part: &Path,
    observer: &dyn FetchObserver,
) -> Result<(), Failure> {
    let mut input = File::open(source).map_err(|e| {
        let why = format!("cannot read it: {e}");
        if e.kind() == io::ErrorKind::NotFound {
            Failure::Gone(why)
        } else {
            Failure::Skip(why)
        }
    })?;
    let total = input.metadata().ok().map(|m| m.len());
    let mut output = File::create(part).map_err(io_error(part))?;
    let mut hasher = Sha256::new();
    let progress = |done| observer.progress(spec.package, done, total);
    let done = match pump(&mut input, &mut output, part, &mut hasher, 0, progress)? {
        Ok(done) => done,
        Err((done, e)) => {
            return Err(Failure::Skip(format!(
                "read failed after {done} bytes: {e}"
            )))
        }
    };
    let got = Downloaded {
        sha256: hex::encode(hasher.finalize()),
        len: done,
        html_content_type: false,
        resumed: false,
    };
    if got.sha256 == expected {
        return Ok(());
    }
    let why = mismatch_reason(expected, &got, part);
    remove_if_exists(part)?;
    Err(Failure::Skip(why))
}

/// Appends `input` to `output` from byte `done` on, hashing and reporting
/// progress. The inner error is a failed read (with the bytes reached so
/// far, which stay on disk); the outer one a failed local write.
fn pump(
    input: &mut impl Read,
    output: &mut File,
    part: &Path,
    hasher: &mut Sha256,
    mut done: u64,
    progress: impl Fn(u64),
) -> Result<Result<u64, (u64, io::Error)>, FetchError> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(Ok(done)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Ok(Err((done, e))),
        };
        output.write_all(&buf[..n]).map_err(io_error(part))?;
        hasher.update(&buf[..n]);
        done += n as u64;
        progress(done);
    }
}

/// Explains a hash mismatch; looks at the start of `part` to spot HTML.
fn mismatch_reason(expected: &str, got: &Downloaded, part: &Path) -> String {
    let mut why = format!(
        "sha256 mismatch: expected {expected}, got {} ({} bytes)",
        got.sha256, got.len
    );
    let mut head = Vec::new();
    if let Ok(file) = File::open(part) {
        let _ = file.take(1024).read_to_end(&mut head);
    }
    if got.html_content_type || looks_like_html(&head) {
        why.push_str("; ");
        why.push_str(HTML_HINT);
    }
    why
}

pub(crate) fn looks_like_html(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    let starts_with = |prefix: &[u8]| {
        head.len() >= prefix.len() && head[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    starts_with(b"<!doctype") || starts_with(b"<html")
}

/// Parses `bytes <start>-<end>/<total|*>` into the start and the total.
fn parse_content_range(value: Option<&reqwest::header::HeaderValue>) -> Option<(u64, Option<u64>)> {
    let value = value?.to_str().ok()?.trim();
    let range = value.strip_prefix("bytes")?.trim_start();
    let (span, total) = range.split_once('/')?;
    let (start, _end) = span.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

/// Makes a verified `.part` durable and gives it its final name.
fn install(part: &Path, final_path: &Path, dir: &Path) -> Result<(), FetchError> {
    File::open(part)
        .and_then(|f| f.sync_all())
        .map_err(io_error(part))?;
    fs::rename(part, final_path).map_err(io_error(final_path))?;
    // Persisting the rename itself is best effort: some systems cannot
    // open or sync directories, and the file content is already safe.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<(), FetchError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

/// An error with its causes; reqwest's own message omits the interesting part.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
