//! What the commit says about a release: its id, its time (the release's
//! `SOURCE_DATE_EPOCH`, unless the builder sets one), the tracked files
//! the source archive holds, and the tracked files changed since.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// A tracked file, as the source archive holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    pub path: String,
    pub executable: bool,
}

#[derive(Debug, Clone)]
pub struct SourceFacts {
    pub commit: String,
    pub epoch: u64,
    /// Tracked files whose work tree copy differs from the commit.
    pub changed: Vec<String>,
    pub files: Vec<TrackedFile>,
}

impl SourceFacts {
    pub fn read(root: &Path) -> Result<Self> {
        let commit = git(root, &["rev-parse", "HEAD"])?.trim().to_string();
        // Core's rule: the commit's author time, unless the builder says.
        let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(value) => value.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH=`{value}` is not a number of seconds since 1970")
            })?,
            Err(_) => {
                let text = git(root, &["log", "-1", "--format=%at", "HEAD"])?;
                text.trim()
                    .parse()
                    .with_context(|| format!("git log gave `{}` as HEAD's time", text.trim()))?
            }
        };
        let status = git(
            root,
            &["status", "--porcelain=v1", "-z", "--untracked-files=no"],
        )?;
        let changed = status
            .split('\0')
            .filter(|entry| entry.len() > 3)
            .map(|entry| entry[3..].to_string())
            .collect();
        let listing = git(root, &["ls-files", "--stage", "-z"])?;
        let mut files = Vec::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            // `<mode> <object> <stage>\t<path>`
            let (meta, path) = entry
                .split_once('\t')
                .with_context(|| format!("git ls-files gave `{entry}`"))?;
            let mode = meta.split(' ').next().unwrap_or("");
            let executable = match mode {
                "100644" => false,
                "100755" => true,
                "120000" => bail!("{path}: a symbolic link is tracked; the source archive holds regular files only"),
                "160000" => bail!("{path}: a submodule is tracked; the source archive cannot hold its files"),
                other => bail!("{path}: tracked with mode {other}, which the source archive cannot hold"),
            };
            // A tracked file deleted in the work tree (only with --allow-dirty).
            if root.join(path).is_file() {
                files.push(TrackedFile {
                    path: path.to_string(),
                    executable,
                });
            }
        }
        Ok(SourceFacts {
            commit,
            epoch,
            changed,
            files,
        })
    }
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .with_context(|| format!("running git {} in {}", args.join(" "), root.display()))?;
    if !output.status.success() {
        bail!(
            "git {} in {} failed: {}; a release is made from a git checkout",
            args.join(" "),
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("git printed a path that is not UTF-8")
}
