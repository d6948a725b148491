//! Resolution of `mirror://<name>/<path>` source URLs.
//!
//! Recipes name archives that live in a distribution's pool (for example
//! `mirror://debian/pool/main/c/capnproto/capnproto_1.1.0.orig.tar.gz`)
//! without naming a host. The repository must never hard-code a mirror
//! host, so the base URLs come only from the machine's configuration: the
//! `C1PZO_MIRROR_DEBIAN` environment variable, or else the apt sources the
//! machine already trusts.

use std::fs;
use std::path::Path;

use thiserror::Error;

/// Environment variable holding whitespace-separated Debian mirror bases.
pub const DEBIAN_MIRROR_ENV: &str = "C1PZO_MIRROR_DEBIAN";

/// Where apt keeps its configuration on Debian-like systems.
const DEFAULT_APT_ETC: &str = "/etc/apt";

/// Why a source URL could not be turned into downloadable URLs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MirrorError {
    #[error("{url}: unknown mirror `{name}` (only `mirror://debian/...` is supported)")]
    UnknownScheme { name: String, url: String },
    #[error(
        "{url}: no Debian mirror is configured; set {DEBIAN_MIRROR_ENV} to one or more \
         base URLs (e.g. the `.../debian` URL of a mirror you trust) or configure apt \
         sources in /etc/apt"
    )]
    NoDebianMirror { url: String },
    #[error("{url}: unsupported URL (expected http://, https://, file:// or mirror://debian/...)")]
    Unsupported { url: String },
}

/// Maps `mirror://` URLs to concrete base URLs taken from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorResolver {
    debian: Vec<String>,
}

impl MirrorResolver {
    /// From `C1PZO_MIRROR_DEBIAN` if set and non-empty, else from `/etc/apt`.
    pub fn from_environment() -> Self {
        let env = std::env::var(DEBIAN_MIRROR_ENV).ok();
        Self::from_apt_dir(Path::new(DEFAULT_APT_ETC), env.as_deref())
    }

    /// Parses the apt sources under `apt_etc` (e.g. `/etc/apt`).
    ///
    /// `env_override` is the value of `C1PZO_MIRROR_DEBIAN`; when it holds at
    /// least one URL it is used exclusively and apt is not consulted, so a
    /// user can always steer downloads away from the system's mirrors.
    /// Unreadable files are skipped: a broken apt setup must not stop builds
    /// whose recipes never use a mirror.
    pub fn from_apt_dir(apt_etc: &Path, env_override: Option<&str>) -> Self {
        let from_env: Vec<String> = env_override
            .unwrap_or("")
            .split_whitespace()
            .map(|base| base.trim_end_matches('/').to_owned())
            .filter(|base| !base.is_empty())
            .collect();
        if !from_env.is_empty() {
            return Self::with_debian_bases(from_env);
        }

        let mut uris = Vec::new();
        if let Ok(text) = fs::read_to_string(apt_etc.join("sources.list")) {
            uris.extend(parse_one_line(&text));
        }
        for path in source_list_d_files(&apt_etc.join("sources.list.d")) {
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            match path.extension().and_then(|ext| ext.to_str()) {
                Some("list") => uris.extend(parse_one_line(&text)),
                Some("sources") => uris.extend(parse_deb822(&text)),
                _ => {}
            }
        }

        let mut bases: Vec<String> = Vec::new();
        for uri in uris {
            let uri = uri.trim_end_matches('/');
            if is_usable_uri(uri) && !bases.iter().any(|b| b == uri) {
                bases.push(uri.to_owned());
            }
        }
        // The main archive is the one holding `pool/` with the orig tarballs;
        // security and update archives mostly do not. Stable partition keeps
        // the user's order within each group.
        let (mut main, rest): (Vec<String>, Vec<String>) =
            bases.into_iter().partition(|b| b.ends_with("/debian"));
        main.extend(rest);
        Self::with_debian_bases(main)
    }

    /// Uses exactly `bases` (trailing `/` removed) for `mirror://debian`.
    pub fn with_debian_bases(bases: Vec<String>) -> Self {
        let debian = bases
            .into_iter()
            .map(|base| base.trim_end_matches('/').to_owned())
            .filter(|base| !base.is_empty())
            .collect();
        Self { debian }
    }

    /// The configured Debian bases, in the order they are tried.
    pub fn debian_bases(&self) -> &[String] {
        &self.debian
    }

    /// Expands `url` into the concrete URLs to try, in order.
    ///
    /// `mirror://debian/pool/x` becomes `<base>/pool/x` for every base; a
    /// plain http(s) or file URL is returned unchanged.
    pub fn resolve(&self, url: &str) -> Result<Vec<String>, MirrorError> {
        if let Some(rest) = strip_scheme(url, "mirror") {
            let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
            let path = path.trim_start_matches('/');
            if !name.eq_ignore_ascii_case("debian") {
                return Err(MirrorError::UnknownScheme {
                    name: name.to_owned(),
                    url: url.to_owned(),
                });
            }
            if path.is_empty() {
                return Err(MirrorError::Unsupported {
                    url: url.to_owned(),
                });
            }
            if self.debian.is_empty() {
                return Err(MirrorError::NoDebianMirror {
                    url: url.to_owned(),
                });
            }
            return Ok(self
                .debian
                .iter()
                .map(|base| format!("{base}/{path}"))
                .collect());
        }
        if is_usable_uri(url) {
            Ok(vec![url.to_owned()])
        } else {
            Err(MirrorError::Unsupported {
                url: url.to_owned(),
            })
        }
    }
}

/// Returns what follows `<scheme>://` when `url` uses `scheme` (any case).
fn strip_scheme<'u>(url: &'u str, scheme: &str) -> Option<&'u str> {
    let (head, rest) = url.split_once("://")?;
    head.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn is_usable_uri(uri: &str) -> bool {
    ["http", "https", "file"]
        .iter()
        .any(|scheme| strip_scheme(uri, scheme).is_some_and(|rest| !rest.is_empty()))
}

/// `.list` and `.sources` files of `sources.list.d`, in apt's (name) order.
fn source_list_d_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            // Anything else (`.disabled-by-farm`, `.save`, `.dpkg-old`) is
            // ignored by apt too.
            matches!(
                path.extension().and_then(|ext| ext.to_str()),
                Some("list" | "sources")
            ) && path.is_file()
        })
        .collect();
    files.sort();
    files
}

/// URIs of the one-line format: `deb [opt=val ...] URI suite [component...]`.
fn parse_one_line(text: &str) -> Vec<String> {
    let mut uris = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((kind, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        if kind != "deb" && kind != "deb-src" {
            continue;
        }
        let mut rest = rest.trim_start();
        // Options may contain spaces (`[ arch=amd64 signed-by=/k.gpg ]`).
        if let Some(options) = rest.strip_prefix('[') {
            let Some((_, after)) = options.split_once(']') else {
                continue;
            };
            rest = after.trim_start();
        }
        if let Some(uri) = rest.split_whitespace().next() {
            uris.push(uri.to_owned());
        }
    }
    uris
}

/// URIs of enabled `deb`/`deb-src` paragraphs of the deb822 format.
fn parse_deb822(text: &str) -> Vec<String> {
    let mut uris = Vec::new();
    let mut paragraph: Vec<(String, String)> = Vec::new();
    // A trailing empty line flushes the last paragraph.
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim_start().starts_with('#') {
            // Comments may appear inside a paragraph without ending it.
            continue;
        }
        if line.trim().is_empty() {
            uris.extend(deb822_paragraph_uris(&paragraph));
            paragraph.clear();
        } else if line.starts_with([' ', '\t']) {
            // Continuation of the previous field (multi-line values).
            if let Some((_, value)) = paragraph.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            paragraph.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    uris
}

fn deb822_paragraph_uris(paragraph: &[(String, String)]) -> Vec<String> {
    let field = |name: &str| {
        paragraph
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let enabled = field("enabled").is_none_or(|v| !v.eq_ignore_ascii_case("no"));
    let is_deb = field("types").is_some_and(|types| {
        types
            .split_whitespace()
            .any(|t| t == "deb" || t == "deb-src")
    });
    if !enabled || !is_deb {
        return Vec::new();
    }
    field("uris")
        .map(|uris| uris.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apt_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("sources.list.d")).expect("sources.list.d");
        dir
    }

    fn write(dir: &Path, name: &str, text: &str) {
        fs::write(dir.join(name), text).expect("write apt file");
    }

    #[test]
    fn deb822_main_archive_first_and_disabled_skipped() {
        let dir = apt_dir();
        write(
            dir.path(),
            "sources.list.d/debian.sources",
            "Types: deb\n\
             # a comment inside the paragraph\n\
             URIs: http://security.example.org/debian-security/\n\
             Suites: bookworm-security\n\
             Components: main\n\
             \n\
             types: deb deb-src\n\
             uris: http://a.example.org/debian/ https://b.example.org/debian\n\
             suites: bookworm\n\
             Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n xyz\n\
             \n\
             Types: deb\n\
             URIs: http://disabled.example.org/debian\n\
             Suites: bookworm\n\
             Enabled: no\n",
        );
        // Not a sources file: apt ignores it, so must we.
        write(
            dir.path(),
            "sources.list.d/other.sources.disabled-by-farm",
            "Types: deb\nURIs: http://ignored.example.org/debian\nSuites: x\n",
        );
        let resolver = MirrorResolver::from_apt_dir(dir.path(), None);
        assert_eq!(
            resolver.debian_bases(),
            [
                "http://a.example.org/debian",
                "https://b.example.org/debian",
                "http://security.example.org/debian-security",
            ]
        );
    }

    #[test]
    fn one_line_with_options_and_comments() {
        let dir = apt_dir();
        write(
            dir.path(),
            "sources.list",
            "# deb http://commented.example.org/debian bookworm main\n\
             deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://c.example.org/debian/ bookworm main # trailing\n\
             deb-src [ arch=amd64 ] http://c.example.org/debian bookworm main\n\
             deb cdrom:[Debian GNU/Linux]/ bookworm main\n\
             deb http://updates.example.org/ubuntu jammy main\n",
        );
        write(
            dir.path(),
            "sources.list.d/extra.list",
            "deb https://d.example.org/debian bookworm main\n",
        );
        let resolver = MirrorResolver::from_apt_dir(dir.path(), None);
        assert_eq!(
            resolver.debian_bases(),
            [
                "http://c.example.org/debian",
                "https://d.example.org/debian",
                "http://updates.example.org/ubuntu",
            ]
        );
        assert_eq!(
            resolver.resolve("mirror://debian/pool/main/c/capnproto/x.tar.gz"),
            Ok(vec![
                "http://c.example.org/debian/pool/main/c/capnproto/x.tar.gz".to_owned(),
                "https://d.example.org/debian/pool/main/c/capnproto/x.tar.gz".to_owned(),
                "http://updates.example.org/ubuntu/pool/main/c/capnproto/x.tar.gz".to_owned(),
            ])
        );
    }

    #[test]
    fn env_override_is_exclusive() {
        let dir = apt_dir();
        write(
            dir.path(),
            "sources.list",
            "deb http://apt.example.org/debian bookworm main\n",
        );
        let resolver = MirrorResolver::from_apt_dir(
            dir.path(),
            Some(" http://e.example.org/debian/\n file:///srv/m "),
        );
        assert_eq!(
            resolver.debian_bases(),
            ["http://e.example.org/debian", "file:///srv/m"]
        );
        // An empty override means "not set": fall back to apt.
        let resolver = MirrorResolver::from_apt_dir(dir.path(), Some("  "));
        assert_eq!(resolver.debian_bases(), ["http://apt.example.org/debian"]);
    }

    #[test]
    fn plain_urls_pass_through_and_unknown_schemes_fail() {
        let resolver =
            MirrorResolver::with_debian_bases(vec!["http://m.example.org/debian/".into()]);
        let url = "https://example.org/x.tar.gz";
        assert_eq!(resolver.resolve(url), Ok(vec![url.to_owned()]));
        assert_eq!(
            resolver.resolve("mirror://gnu/x.tar.gz"),
            Err(MirrorError::UnknownScheme {
                name: "gnu".into(),
                url: "mirror://gnu/x.tar.gz".into()
            })
        );
        assert!(matches!(
            resolver.resolve("ftp://example.org/x"),
            Err(MirrorError::Unsupported { .. })
        ));
        assert_eq!(
            resolver.resolve("mirror://debian/pool/x"),
            Ok(vec!["http://m.example.org/debian/pool/x".to_owned()])
        );
    }

    #[test]
    fn no_mirror_configured_says_how_to_fix_it() {
        let dir = apt_dir();
        let resolver = MirrorResolver::from_apt_dir(dir.path(), None);
        let err = resolver
            .resolve("mirror://debian/pool/x")
            .expect_err("no mirror configured");
        assert!(matches!(err, MirrorError::NoDebianMirror { .. }));
        let message = err.to_string();
        assert!(message.contains(DEBIAN_MIRROR_ENV), "{message}");
        assert!(message.contains("apt"), "{message}");
        // A missing apt directory behaves the same.
        let resolver = MirrorResolver::from_apt_dir(&dir.path().join("nope"), None);
        assert!(resolver.debian_bases().is_empty());
    }
}
