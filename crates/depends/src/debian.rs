//! Debian specifics of `.deb` sources: what a pool file name says
//! (package, version, arch), the suite's signed package index, and
//! re-pinning a recipe's `[[source]]` tables to what the mirror carries
//! now (`cargo xtask depends repin <package>`).
//!
//! Trust: new pins come from the suite's `InRelease`, checked with `gpgv`
//! against the machine's Debian archive keyring, which names the sha256 of
//! `Packages.xz`, which names the sha256 of each `.deb`. Nothing is taken
//! from a mirror on its word. The output is printed (or written with
//! `--write`) for review; it changes the sysroot's build id like any pin.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::fetch::USER_AGENT;
use crate::mirror::MirrorResolver;
use crate::recipe::Recipe;

/// Debian's archive keyring, shipped by `debian-archive-keyring` (bookworm's
/// holds the bullseye keys too).
pub const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// `libc6_2.31-13+deb11u11_amd64.deb`: package, version, Debian arch. The
/// pool name leaves out a version's epoch (`1:4.4.18-4`), the index has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebName {
    pub package: String,
    pub version: String,
    pub arch: String,
}

impl DebName {
    /// `None` for anything that is not a `<package>_<version>_<arch>.deb`.
    pub fn parse(file_name: &str) -> Option<DebName> {
        let stem = file_name.strip_suffix(".deb")?;
        let mut parts = stem.split('_');
        let (package, version, arch) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || [package, version, arch].iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(DebName {
            package: package.into(),
            version: version.into(),
            arch: arch.into(),
        })
    }
}

/// One stanza of a `Packages` index, the fields re-pinning needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// Pool path from the archive root: `pool/main/g/glibc/libc6_..._amd64.deb`.
    pub filename: String,
    pub size: u64,
    pub sha256: String,
}

impl IndexEntry {
    pub fn file_name(&self) -> &str {
        self.filename.rsplit('/').next().unwrap_or(&self.filename)
    }
}

/// Parses a `Packages` file (deb822 stanzas separated by blank lines).
pub fn parse_packages(text: &str) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                continue; // continuation of a multi-line field
            }
            if let Some((key, value)) = line.split_once(':') {
                fields.insert(key, value.trim());
            }
        }
        let get = |k: &str| fields.get(k).map(|v| v.to_string());
        if let (Some(package), Some(version), Some(architecture), Some(filename), Some(sha256)) = (
            get("Package"),
            get("Version"),
            get("Architecture"),
            get("Filename"),
            get("SHA256"),
        ) {
            out.push(IndexEntry {
                package,
                version,
                architecture,
                filename,
                size: get("Size").and_then(|s| s.parse().ok()).unwrap_or(0),
                sha256,
            });
        }
    }
    out
}

/// What re-pinning does to one `[[source]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repin {
    /// The recipe's `arch` selector of the table, kept as it is.
    pub arch: Option<String>,
    pub old_file_name: String,
    pub old_sha256: String,
    pub old_mirror: Option<String>,
    pub deb: DebName,
    /// `None`: the index has no such package for that arch any more.
    pub new: Option<IndexEntry>,
}

impl Repin {
    pub fn changed(&self) -> bool {
        self.new
            .as_ref()
            .is_some_and(|n| n.sha256 != self.old_sha256 || n.file_name() != self.old_file_name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RepinError {
    #[error(
        "{recipe}: no `debian_suite` (the suite its .debs are pinned from, e.g. \"bullseye\")"
    )]
    NoSuite { recipe: PathBuf },
    #[error("{recipe}: `{file_name}` is not a Debian package file name (<package>_<version>_<arch>.deb)")]
    NotADeb { recipe: PathBuf, file_name: String },
    #[error(
        "no Debian mirror answered for dists/{suite}:{}\n\
         if the mirror has dropped {suite} (archived releases move to the Debian archive), set \
         C1PZO_MIRROR_DEBIAN to a mirror or archive that has it",
        attempts.iter().map(|(u, w)| format!("\n  {u}: {w}")).collect::<String>()
    )]
    NoIndex {
        suite: String,
        attempts: Vec<(String, String)>,
    },
    #[error("{url}: signature check failed (gpgv --keyring {DEBIAN_KEYRING}): {why}")]
    BadSignature { url: String, why: String },
    #[error("{url}: sha256 {actual}, but the signed InRelease says {expected}")]
    IndexMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Mirror(#[from] crate::mirror::MirrorError),
    #[error("{0}")]
    Io(String),
}

/// Reads the suite's index for each Debian arch of `recipe`'s `.deb`
/// sources (every arch, not just the HOST's) and pairs each source with
/// the package's entry now.
pub fn repin(
    recipe: &Recipe,
    mirrors: &MirrorResolver,
    work: &Path,
) -> Result<Vec<Repin>, RepinError> {
    let suite = recipe
        .debian_suite
        .clone()
        .ok_or_else(|| RepinError::NoSuite {
            recipe: recipe.path.clone(),
        })?;
    let mut plan = Vec::new();
    for source in &recipe.sources {
        let deb = DebName::parse(&source.file_name).ok_or_else(|| RepinError::NotADeb {
            recipe: recipe.path.clone(),
            file_name: source.file_name.clone(),
        })?;
        plan.push(Repin {
            arch: source.arch.clone(),
            old_file_name: source.file_name.clone(),
            old_sha256: source.sha256.clone(),
            old_mirror: source.mirrors.first().cloned(),
            deb,
            new: None,
        });
    }
    let client = reqwest::blocking::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| RepinError::Io(e.to_string()))?;
    let arches: std::collections::BTreeSet<String> = plan
        .iter()
        .map(|r| r.deb.arch.clone())
        .filter(|a| a != "all")
        .collect();
    let release = signed_release(&client, mirrors, &suite, work)?;
    for arch in arches {
        let index = packages_index(&client, mirrors, &suite, &arch, &release)?;
        for r in plan
            .iter_mut()
            .filter(|r| r.deb.arch == arch || r.deb.arch == "all")
        {
            // Main suites carry one version per package; take the last if not.
            r.new = index
                .iter()
                .rfind(|e| {
                    e.package == r.deb.package
                        && (e.architecture == arch || e.architecture == "all")
                })
                .cloned();
        }
    }
    Ok(plan)
}

/// The verified text of `dists/<suite>/InRelease`.
fn signed_release(
    client: &reqwest::blocking::Client,
    mirrors: &MirrorResolver,
    suite: &str,
    work: &Path,
) -> Result<(String, String), RepinError> {
    let (url, bytes) = first_answer(client, mirrors, suite, &format!("dists/{suite}/InRelease"))?;
    std::fs::create_dir_all(work)
        .map_err(|e| RepinError::Io(format!("{}: {e}", work.display())))?;
    let signed = work.join("InRelease");
    let verified = work.join("InRelease.verified");
    std::fs::write(&signed, &bytes).map_err(|e| RepinError::Io(e.to_string()))?;
    let _ = std::fs::remove_file(&verified);
    let out = Command::new("gpgv")
        .args(["--keyring", DEBIAN_KEYRING, "--output"])
        .arg(&verified)
        .arg(&signed)
        .output()
        .map_err(|e| RepinError::BadSignature {
            url: url.clone(),
            why: format!("cannot run gpgv (Debian package gpgv): {e}"),
        })?;
    if !out.status.success() {
        return Err(RepinError::BadSignature {
            url,
            why: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let text = std::fs::read_to_string(&verified).map_err(|e| RepinError::Io(e.to_string()))?;
    Ok((url, text))
}

/// `dists/<suite>/main/binary-<arch>/Packages.xz`, checked against the
/// signed release's SHA256 list, decompressed and parsed.
fn packages_index(
    client: &reqwest::blocking::Client,
    mirrors: &MirrorResolver,
    suite: &str,
    arch: &str,
    (_, release): &(String, String),
) -> Result<Vec<IndexEntry>, RepinError> {
    let member = format!("main/binary-{arch}/Packages.xz");
    let expected = release
        .split("\nSHA256:")
        .nth(1)
        .and_then(|list| {
            list.lines()
                .skip(1) // the rest of the `SHA256:` line itself
                .take_while(|l| l.starts_with(' '))
                .find_map(|l| {
                    let mut f = l.split_whitespace();
                    let (sha, _size, name) = (f.next()?, f.next()?, f.next()?);
                    (name == member).then(|| sha.to_string())
                })
        })
        .ok_or_else(|| {
            RepinError::Io(format!(
                "the signed InRelease of {suite} does not list {member}"
            ))
        })?;
    let (url, bytes) = first_answer(client, mirrors, suite, &format!("dists/{suite}/{member}"))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != expected {
        return Err(RepinError::IndexMismatch {
            url,
            expected,
            actual,
        });
    }
    let mut text = String::new();
    xz2::read::XzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .map_err(|e| RepinError::Io(format!("{url}: {e}")))?;
    Ok(parse_packages(&text))
}

/// GET `mirror://debian/<path>` from the first mirror that answers 200.
fn first_answer(
    client: &reqwest::blocking::Client,
    mirrors: &MirrorResolver,
    suite: &str,
    path: &str,
) -> Result<(String, Vec<u8>), RepinError> {
    let mut attempts = Vec::new();
    for url in mirrors.resolve(&format!("mirror://debian/{path}"))? {
        match client.get(&url).send() {
            Ok(r) if r.status().is_success() => match r.bytes() {
                Ok(b) => return Ok((url, b.to_vec())),
                Err(e) => attempts.push((url, crate::fetch::describe(&e))),
            },
            Ok(r) => attempts.push((url, format!("HTTP {}", r.status()))),
            Err(e) => attempts.push((url, crate::fetch::describe(&e))),
        }
    }
    Err(RepinError::NoIndex {
        suite: suite.to_string(),
        attempts,
    })
}

/// The plan as text to read: per source, old -> new, then the tables.
pub fn render(plan: &[Repin]) -> String {
    let mut out = String::new();
    for r in plan {
        let what = match &r.new {
            None => format!("NOT IN THE INDEX any more (was {})", r.deb.version),
            Some(n) if r.changed() => format!("{} -> {}", r.deb.version, n.version),
            Some(_) => format!("{} (unchanged)", r.deb.version),
        };
        out.push_str(&format!("# {} ({}): {what}\n", r.deb.package, r.deb.arch));
    }
    for r in plan {
        let Some(n) = &r.new else { continue };
        out.push_str("\n[[source]]\n");
        if let Some(arch) = &r.arch {
            out.push_str(&format!("arch = \"{arch}\"\n"));
        }
        out.push_str(&format!(
            "file_name = \"{}\"\nsha256 = \"{}\"\nmirrors = [\"mirror://debian/{}\"]\n",
            n.file_name(),
            n.sha256,
            n.filename
        ));
    }
    out
}

/// `recipe_text` with each changed source's mirror URL, sha256 and file
/// name replaced in place (comments and layout kept). Each old value is
/// unique in a recipe (file names are checked to be; hashes are).
pub fn apply(recipe_text: &str, plan: &[Repin]) -> String {
    let mut text = recipe_text.to_string();
    for r in plan.iter().filter(|r| r.changed()) {
        let n = r.new.as_ref().expect("changed implies new");
        if let Some(old) = &r.old_mirror {
            text = text.replace(old.as_str(), &format!("mirror://debian/{}", n.filename));
        }
        text = text.replace(&r.old_sha256, &n.sha256);
        text = text.replace(&r.old_file_name, n.file_name());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_file_names_are_read() {
        assert_eq!(
            DebName::parse("libc6_2.31-13+deb11u11_amd64.deb"),
            Some(DebName {
                package: "libc6".into(),
                version: "2.31-13+deb11u11".into(),
                arch: "amd64".into()
            })
        );
        assert_eq!(
            DebName::parse("libstdc++-10-dev_10.2.1-6_arm64.deb")
                .unwrap()
                .package,
            "libstdc++-10-dev"
        );
        assert!(DebName::parse("capnproto-cxx-1.1.0.tar.gz").is_none());
        assert!(DebName::parse("a_b.deb").is_none());
    }

    const INDEX: &str = "Package: libc6\nSource: glibc\nVersion: 2.31-13+deb11u12\nArchitecture: amd64\n\
Description: GNU C Library\n multi-line\nFilename: pool/main/g/glibc/libc6_2.31-13+deb11u12_amd64.deb\n\
Size: 2822000\nSHA256: 1111111111111111111111111111111111111111111111111111111111111111\n\n\
Package: libgcc-s1\nVersion: 10.2.1-6\nArchitecture: amd64\nFilename: pool/main/g/gcc-10/libgcc-s1_10.2.1-6_amd64.deb\n\
Size: 41400\nSHA256: e478f2709d8474165bb664de42e16950c391f30eaa55bc9b3573281d83a29daf\n";

    #[test]
    fn the_index_gives_new_pins_and_apply_keeps_the_rest_of_the_file() {
        let index = parse_packages(INDEX);
        assert_eq!(index.len(), 2);
        assert_eq!(index[0].file_name(), "libc6_2.31-13+deb11u12_amd64.deb");
        let old = "libc6_2.31-13+deb11u11_amd64.deb";
        let old_sha = "05f7264da867b37f4c5ce49266b558ea1e81e05a9464f623152fca70f3550282";
        let old_mirror = format!("mirror://debian/pool/main/g/glibc/{old}");
        let plan = vec![Repin {
            arch: Some("x86_64".into()),
            old_file_name: old.into(),
            old_sha256: old_sha.into(),
            old_mirror: Some(old_mirror.clone()),
            deb: DebName::parse(old).unwrap(),
            new: Some(index[0].clone()),
        }];
        let text = format!(
            "# glibc, the C library\n[[source]]\narch = \"x86_64\"\nfile_name = \"{old}\"\nsha256 = \"{old_sha}\"\nmirrors = [\"{old_mirror}\"]\n"
        );
        let new = apply(&text, &plan);
        assert!(new.starts_with("# glibc, the C library\n"), "{new}");
        assert!(
            new.contains("file_name = \"libc6_2.31-13+deb11u12_amd64.deb\""),
            "{new}"
        );
        assert!(new.contains("mirrors = [\"mirror://debian/pool/main/g/glibc/libc6_2.31-13+deb11u12_amd64.deb\"]"), "{new}");
        assert!(!new.contains(old_sha) && !new.contains("deb11u11"), "{new}");
        assert!(render(&plan).contains("# libc6 (amd64): 2.31-13+deb11u11 -> 2.31-13+deb11u12"));
    }
}
