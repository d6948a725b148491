//! `cargo xtask dist --check-reproducible`: the release made twice from
//! the same commit by two builders as unlike as one machine allows (other
//! absolute paths of different lengths, umask, time zone, locale and job
//! count, the second with an empty depends build cache so Cap'n Proto and
//! the rest are rebuilt too, and offline, from the crates `depends
//! download` vendors), then compared file by file. A file that
//! differs is named with where it parts (the archive entry and offset),
//! and diffoscope is run on it when installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use release::compare::first_difference;

use super::DistArgs;

/// One of the two builds: how it differs from the other.
struct Builder {
    label: &'static str,
    /// Folders between the scratch folder and the clone, so the two
    /// workspaces' paths differ in length too.
    depth: &'static str,
    umask: &'static str,
    tz: &'static str,
    locale: &'static str,
    jobs: usize,
    fresh_build_cache: bool,
    /// Vendor the crates with `depends download`, then build `--offline`.
    offline: bool,
    /// The first build's archives are smoke-tested; the second's are
    /// compared with them byte for byte instead.
    smoke: bool,
}

const BUILDERS: [Builder; 2] = [
    Builder {
        label: "first",
        depth: "a",
        umask: "022",
        tz: "UTC",
        locale: "C.UTF-8",
        jobs: 2,
        fresh_build_cache: false,
        offline: false,
        smoke: true,
    },
    Builder {
        label: "second",
        depth: "b/deeper/still",
        umask: "077",
        tz: "Pacific/Kiritimati",
        locale: "POSIX",
        jobs: 1,
        fresh_build_cache: true,
        offline: true,
        smoke: false,
    },
];

/// The seconds each build took, for `bench dist`.
pub struct Timings {
    pub first: f64,
    pub second: f64,
}

pub fn run(root: &Path, args: &DistArgs) -> Result<Timings> {
    let status = Command::new("git")
        .args(["status", "--porcelain=v1", "--untracked-files=no"])
        .current_dir(root)
        .output()
        .context("running git status")?;
    if !status.stdout.is_empty() {
        bail!(
            "{}: uncommitted changes to tracked files; --check-reproducible builds the commit \
             in two fresh clones, so commit them first",
            root.display()
        );
    }
    // Both builders build this commit, even if the branch moves on while
    // the first one runs (a run takes half an hour).
    let commit = head_commit(root)?;
    let scratch = tempfile::Builder::new()
        .prefix("c1pzo-reproduce-")
        .tempdir()
        .context("creating the scratch folder")?;
    let mut outs = Vec::new();
    let mut seconds = Vec::new();
    for builder in &BUILDERS {
        let clone = scratch.path().join(builder.depth).join("c1pzo");
        let out = scratch.path().join(format!("{}-out", builder.label));
        clone_at(root, &commit, &clone)?;
        eprintln!(
            "== --check-reproducible: {} build of {commit} in {} (umask {}, TZ={}, LC_ALL={}, {} jobs{}) ==",
            builder.label,
            clone.display(),
            builder.umask,
            builder.tz,
            builder.locale,
            builder.jobs,
            match (builder.fresh_build_cache, builder.offline) {
                (true, true) => ", empty depends build cache, offline",
                (true, false) => ", empty depends build cache",
                (false, true) => ", offline",
                (false, false) => "",
            }
        );
        let mut words: Vec<String> = args.words.clone();
        words.push(format!("JOBS={}", builder.jobs));
        if builder.fresh_build_cache {
            words.push(format!(
                "BASE_CACHE={}",
                scratch.path().join("built").display()
            ));
        }
        let words = words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ");
        // `--check-reproducible --offline` builds both offline and
        // downloads nothing.
        let offline = builder.offline || args.offline;
        let download = builder.offline && !args.offline;
        let script = format!(
            "umask {} && {}exec cargo xtask dist --out \"$1\"{}{} {words}",
            builder.umask,
            if download {
                format!("cargo xtask depends download {words} && ")
            } else {
                String::new()
            },
            if offline { " --offline" } else { "" },
            if builder.smoke && !args.no_smoke {
                ""
            } else {
                " --no-smoke"
            },
        );
        let started = Instant::now();
        let status = Command::new("sh")
            .args(["-c", &script, "sh"])
            .arg(&out)
            .current_dir(&clone)
            .env("TZ", builder.tz)
            .env("LC_ALL", builder.locale)
            .env("CARGO_BUILD_JOBS", builder.jobs.to_string())
            .env_remove("SOURCE_DATE_EPOCH")
            .status()
            .context("running cargo xtask dist in the clone")?;
        if !status.success() {
            bail!(
                "the {} build failed ({status}); its clone is {}",
                builder.label,
                clone.display()
            );
        }
        seconds.push(started.elapsed().as_secs_f64());
        outs.push(only_version_folder(&out)?);
    }
    let mut differing = compare_folders(&outs[0], &outs[1])?;
    differing.extend(compare_depends(
        &scratch.path().join(BUILDERS[0].depth).join("c1pzo"),
        &scratch.path().join(BUILDERS[1].depth).join("c1pzo"),
    )?);
    if !differing.is_empty() {
        // Kept for a look: the scratch folder is not removed.
        let kept = scratch.keep();
        bail!(
            "the two builds differ in {} file(s): {}; both builds are kept in {}",
            differing.len(),
            differing.join(", "),
            kept.display()
        );
    }
    eprintln!(
        "reproducible: every file of {} is identical in both builds",
        outs[0].display()
    );
    Ok(Timings {
        first: seconds[0],
        second: seconds[1],
    })
}

fn head_commit(root: &Path) -> Result<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--verify", "HEAD"])
        .current_dir(root)
        .output()
        .context("running git rev-parse HEAD")?;
    if !out.status.success() {
        bail!(
            "{}: git rev-parse HEAD failed: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A clone of `root` at `commit` in `clone`, sharing no files with it.
fn clone_at(root: &Path, commit: &str, clone: &Path) -> Result<()> {
    std::fs::create_dir_all(clone.parent().unwrap_or(clone))?;
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks", "--no-checkout"])
        .arg(root)
        .arg(clone)
        .status()
        .context("running git clone")?;
    if !status.success() {
        bail!(
            "git clone {} {} failed ({status})",
            root.display(),
            clone.display()
        );
    }
    let checkout = Command::new("git")
        .args(["checkout", "--quiet", "--detach", commit])
        .current_dir(clone)
        .output()
        .context("running git checkout")?;
    if !checkout.status.success() {
        bail!(
            "{}: commit {commit}, HEAD when --check-reproducible started, is no longer on any \
             branch, so the second builder cannot build it ({}); run --check-reproducible again",
            root.display(),
            String::from_utf8_lossy(&checkout.stderr).trim()
        );
    }
    Ok(())
}

/// The single `<version>` folder a dist run wrote under `out`.
fn only_version_folder(out: &Path) -> Result<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    match (folders.pop(), folders.is_empty()) {
        (Some(folder), true) => Ok(folder),
        _ => bail!("{}: expected one release folder", out.display()),
    }
}

/// Compares every file of the two folders; prints each difference and
/// returns the names that differ.
fn compare_folders(a: &Path, b: &Path) -> Result<Vec<String>> {
    let names = |dir: &Path| -> Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        Ok(names)
    };
    let (left, right) = (names(a)?, names(b)?);
    let mut differing = Vec::new();
    for name in left
        .iter()
        .chain(right.iter().filter(|n| !left.contains(n)))
    {
        let (x, y) = (a.join(name), b.join(name));
        if !x.exists() || !y.exists() {
            eprintln!("DIFFER  {name}: made by one build only");
            differing.push(name.clone());
            continue;
        }
        match first_difference(&x, &y)? {
            None => eprintln!("same    {name}"),
            Some(difference) => {
                eprintln!("DIFFER  {name}: {difference}");
                diffoscope(&x, &y);
                differing.push(name.clone());
            }
        }
    }
    Ok(differing)
}

/// The depends packages each clone built or took from a cache, compared by
/// their cached tarballs' hashes (the second build made its own from an
/// empty build cache); returns the packages that differ.
fn compare_depends(a: &Path, b: &Path) -> Result<Vec<String>> {
    let packages = |clone: &Path| -> Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(clone.join("depends"))? {
            let manifest = entry?.path().join("manifest.json");
            if !manifest.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&manifest)?;
            let manifest: depends::install::Manifest = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", manifest.display()))?;
            for package in manifest.packages {
                found.push((
                    format!("{}/{}", manifest.host, package.name),
                    package.cached.sha256,
                ));
            }
        }
        found.sort();
        Ok(found)
    };
    let (first, second) = (packages(a)?, packages(b)?);
    let mut differing = Vec::new();
    for (name, hash) in &first {
        match second.iter().find(|(other, _)| other == name) {
            Some((_, other)) if other == hash => eprintln!("same    depends {name}"),
            Some((_, other)) => {
                eprintln!("DIFFER  depends {name}: built tarballs {hash} and {other}");
                differing.push(format!("depends {name}"));
            }
            None => {}
        }
    }
    Ok(differing)
}

/// diffoscope's report on the two files, when it is installed.
fn diffoscope(a: &Path, b: &Path) {
    match Command::new("diffoscope").arg(a).arg(b).status() {
        Ok(_) => {}
        Err(_) => eprintln!("        (install diffoscope for a full report of the difference)"),
    }
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn clones_the_commit_it_started_with_after_the_branch_moves_on() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir(&root).unwrap();
        git(&root, &["init", "--quiet"]);
        std::fs::write(root.join("file"), "first").unwrap();
        git(&root, &["add", "file"]);
        git(&root, &["commit", "--quiet", "-m", "first"]);
        let first = head_commit(&root).unwrap();
        std::fs::write(root.join("file"), "second").unwrap();
        git(&root, &["commit", "--quiet", "-am", "second"]);

        let clone = dir.path().join("b/c1pzo");
        clone_at(&root, &first, &clone).unwrap();
        assert_eq!(
            std::fs::read_to_string(clone.join("file")).unwrap(),
            "first"
        );

        // Rewritten away: named, with what to do.
        git(&root, &["reset", "--quiet", "--hard", "HEAD~1"]);
        git(&root, &["commit", "--quiet", "--amend", "-m", "rewritten"]);
        git(&root, &["reflog", "expire", "--expire=now", "--all"]);
        git(&root, &["gc", "--quiet", "--prune=now"]);
        let gone = clone_at(&root, &first, &dir.path().join("c/c1pzo")).unwrap_err();
        let text = format!("{gone:#}");
        assert!(
            text.contains(&first) && text.contains("run --check-reproducible again"),
            "{text}"
        );
    }
}
