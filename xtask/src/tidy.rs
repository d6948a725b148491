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

/// The IPC modules above the runtime: the generated glue (`client`,
/// `serve`, the proxies and what they share). `crates/ipc/src/runtime`
/// must not name them.
const IPC_GLUE: [&str; 10] = [
    "client",
    "serve",
    "proxy",
    "chain",
    "mining",
    "node",
    "wallet",
    "wallet_loader",
    "wire",
    "testing",
];

/// The `crate::<module>` paths a source text names, `use crate::{a, b}`
/// groups included.
fn crate_modules_named(text: &str) -> Vec<String> {
    let mut named = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            named.extend(group.split(',').map(|item| first_identifier(item.trim())));
        } else {
            named.push(first_identifier(rest));
        }
    }
    named.retain(|name| !name.is_empty());
    named
}

fn first_identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn tidy_the_ipc_runtime_never_imports_the_glue_above_it() {
    let root = crate::repo_root();
    let runtime = root.join("crates/ipc/src/runtime");
    let mut files = Vec::new();
    walk(&runtime, &mut files);
    assert!(!files.is_empty(), "no sources under {}", runtime.display());
    let mut offences = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for name in crate_modules_named(&text) {
            if IPC_GLUE.contains(&name.as_str()) {
                offences.push(format!("{} names crate::{name}", relative(&root, &path)));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the IPC runtime imports the glue above it (move what it needs down into \
         crates/ipc/src/runtime instead):\n{}",
        offences.join("\n")
    );
}

#[test]
fn tidy_crate_module_paths_are_read_as_written() {
    let text =
        "use crate::proxy_capnp::thread;\nuse crate::{serve, log::Level};\n crate::client::x()";
    assert_eq!(
        crate_modules_named(text),
        ["proxy_capnp", "serve", "log", "client"]
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
