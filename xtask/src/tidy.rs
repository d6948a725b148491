//! Tidy checks that run under `cargo test` (`cargo test -p xtask tidy`):
//! rules of the house that a reviewer should not have to enforce by eye.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// The longest a source file may grow before it must be split.
const MAX_LINES: usize = 800;

/// Every Rust source file of the project (not target/, not depends/).
fn rust_sources(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in ["crates", "xtask", "tests"] {
        walk(&root.join(top), &mut files);
    }
    files.sort();
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "target" {
                walk(&path, files);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn tidy_every_module_says_what_it_is_for() {
    let root = crate::repo_root();
    let missing: Vec<String> = rust_sources(&root)
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            // build.rs scripts are not modules; everything else opens with
            // a `//!` line saying what the file is for.
            path.file_name() != Some("build.rs".as_ref())
                && !text.lines().next().is_some_and(|l| l.starts_with("//!"))
        })
        .map(|path| relative(&root, &path))
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` line saying what they are for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn tidy_no_source_file_is_past_800_lines() {
    let root = crate::repo_root();
    let long: Vec<String> = rust_sources(&root)
        .into_iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", relative(&root, &path)))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files past {MAX_LINES} lines, to split along a seam:\n{}",
        long.join("\n")
    );
}

#[test]
fn tidy_the_generated_workflow_is_fresh() {
    let root = crate::repo_root();
    let matrix = crate::ci::load(&root).unwrap();
    let path = crate::ci::workflow_path(&root);
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == crate::ci::workflow(&matrix),
        "{} is stale: it was not generated from the current {}; run `cargo xtask ci --write-workflow`",
        relative(&root, &path),
        crate::ci::MATRIX
    );
}

#[test]
fn tidy_every_xtask_command_and_option_is_in_the_readme() {
    let root = crate::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cli = crate::Cli::command();
    let mut missing = Vec::new();
    for command in cli.get_subcommands() {
        let name = command.get_name();
        if name == "help" {
            continue;
        }
        if !readme.contains(&format!("cargo xtask {name}")) {
            missing.push(format!("the command `cargo xtask {name}`"));
        }
        for arg in command.get_arguments() {
            if arg.is_hide_set() {
                continue;
            }
            if let Some(long) = arg.get_long() {
                if !readme.contains(&format!("--{long}")) {
                    missing.push(format!("`cargo xtask {name} --{long}`"));
                }
            }
        }
    }
    for key in depends::options::known_keys() {
        if !readme.contains(&format!("`{key}")) {
            missing.push(format!("the option `{key}`"));
        }
    }
    assert!(
        missing.is_empty(),
        "README.md does not mention:\n{}",
        missing.join("\n")
    );
}
