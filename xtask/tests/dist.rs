//! `cargo xtask dist` refusals and its two standalone commands, end to end
//! through the real binary: what fails before any build (a dirty work
//! tree, an unknown HOST, a stray word, `--offline` without the vendored
//! crates), what a killed run left cleared by the next, `dist check` on
//! binaries built to fail the policy, and `dist verify` on builders who
//! agree and who do not. A whole release takes minutes and runs in the
//! `dist` CI cells.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A clone of this repository's HEAD in a temporary folder.
fn clone() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("c1pzo");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(&repo)
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success());
    (dir, clone)
}

#[test]
fn a_dirty_work_tree_is_refused_naming_the_files_and_the_way_out() {
    let (_dir, clone) = clone();
    std::fs::write(clone.join("README.md"), "changed\n").unwrap();
    let root = clone.display().to_string();
    let out = xtask(&["dist", "--root", &root]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("uncommitted changes to tracked files (README.md)")
            && said.contains("--allow-dirty"),
        "{said}"
    );
    assert!(!clone.join("dist").exists(), "nothing is written");
}

#[test]
fn an_unknown_host_and_a_stray_word_are_refused_before_any_build() {
    let (_dir, clone) = clone();
    let root = clone.display().to_string();
    let out = xtask(&["dist", "HOST=sparc64-sun-solaris", "--root", &root]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("sparc64-sun-solaris") && said.contains("x86_64-w64-mingw32"),
        "the error lists the hosts there are: {said}"
    );
    let out = xtask(&["dist", "relase", "--root", &root]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("`relase` is neither a KEY=VALUE option nor `check` or `verify`"),
        "{}",
        text(&out)
    );
    assert!(!clone.join("dist").exists());
}

/// The version folder a release of `clone` goes in.
fn version_folder(clone: &Path) -> PathBuf {
    let manifest = std::fs::read_to_string(clone.join("crates/c1pzo/Cargo.toml")).unwrap();
    let manifest: toml::Value = toml::from_str(&manifest).unwrap();
    let version = manifest["package"]["version"].as_str().unwrap();
    clone.join("dist").join(version)
}

/// `dist --offline` with SOURCES_PATH `sources`, which stops (after
/// clearing a killed run's leftovers) before anything is built.
fn offline_dist(clone: &Path, sources: &Path) -> Output {
    xtask(&[
        "dist",
        "--offline",
        "HOST=x86_64-pc-linux-gnu",
        &format!("SOURCES_PATH={}", sources.display()),
        "--root",
        &clone.display().to_string(),
    ])
}

#[test]
fn offline_without_the_vendored_crates_stops_at_once_naming_them() {
    let (dir, clone) = clone();
    let sources = dir.path().join("sources");
    // One crate vendored and whole, one cut short: both are reported with
    // the rest, the whole one not.
    let lock = std::fs::read_to_string(clone.join("Cargo.lock")).unwrap();
    let crates = release::lockfile::locked_crates(&lock).unwrap();
    let (whole, cut) = (&crates[0], &crates[1]);
    let vendor = release::vendored::folder(&sources);
    let whole_dir = vendor.join(format!("{}-{}", whole.name, whole.version));
    std::fs::create_dir_all(&whole_dir).unwrap();
    std::fs::write(
        whole_dir.join(".cargo-checksum.json"),
        format!(
            r#"{{"files":{{}},"package":"{}"}}"#,
            whole.checksum.as_deref().unwrap()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(vendor.join(format!("{}-{}", cut.name, cut.version))).unwrap();

    let out = offline_dist(&clone, &sources);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "--offline: {} of the {} crates Cargo.lock needs are not vendored in {}",
            crates.len() - 1,
            crates.len(),
            vendor.display()
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "  {} {} is vendored without its .cargo-checksum.json",
            cut.name, cut.version
        )),
        "{said}"
    );
    let absent = &crates[2];
    assert!(
        said.contains(&format!(
            "  {} {} is not vendored ({}",
            absent.name,
            absent.version,
            vendor
                .join(format!("{}-{}", absent.name, absent.version))
                .display()
        )),
        "{said}"
    );
    assert!(
        !said.contains(&format!("  {} {} ", whole.name, whole.version)),
        "{said}"
    );
    assert!(
        said.contains("cargo xtask depends download"),
        "says how to vendor them: {said}"
    );
    assert!(
        !clone.join("target").exists()
            && !clone.join("depends").join("x86_64-pc-linux-gnu").exists(),
        "nothing was built"
    );
}

#[test]
fn the_next_run_starts_clean_after_a_killed_one() {
    let (dir, clone) = clone();
    let version = version_folder(&clone);
    // What a run killed while archiving leaves: its work folder, a
    // `.partial` archive, and the SHA256SUMS of an earlier release that no
    // longer covers what the run was replacing. Another host's finished
    // archive stays.
    let work = version.join(".work/x86_64-pc-linux-gnu");
    std::fs::create_dir_all(work.join("c1pzo/bin")).unwrap();
    std::fs::write(work.join("c1pzo/bin/c1pzod"), "half").unwrap();
    let partial = version.join("c1pzo-x86_64-pc-linux-gnu.tar.gz.partial");
    std::fs::write(&partial, "half").unwrap();
    std::fs::write(version.join("SHA256SUMS"), "stale\n").unwrap();
    let other_host = version.join("c1pzo-win64.zip");
    std::fs::write(&other_host, "finished").unwrap();

    // The run stops early (no vendored crates), after clearing.
    let out = offline_dist(&clone, &dir.path().join("sources"));
    assert!(!out.status.success());
    assert!(text(&out).contains("are not vendored"), "{}", text(&out));
    assert!(!work.join("c1pzo").exists(), "the work folder was emptied");
    assert!(!partial.exists());
    assert!(!version.join("SHA256SUMS").exists());
    assert!(other_host.exists());
}

#[test]
fn dist_check_fails_a_binary_built_to_break_the_policy_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("hello.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
    let binary = dir.path().join("no-pie");
    let status = Command::new("gcc")
        .arg(&source)
        .args(["-fno-PIE", "-no-pie", "-o"])
        .arg(&binary)
        .status()
        .unwrap();
    assert!(status.success());
    let path = binary.display().to_string();
    let out = xtask(&["dist", "check", &path]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains(&format!("{path}: failed ")), "{said}");
    assert!(
        said.contains(&format!(
            "{path}: PIE: not a position-independent executable"
        )),
        "{said}"
    );
    assert!(
        said.contains("1 of 1 files fail the release policy"),
        "{said}"
    );
    let out = xtask(&["dist", "check"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("dist check needs the binaries to check"));
}

#[test]
fn dist_verify_reports_agreement_per_file_and_fails_on_any_difference() {
    let dir = tempfile::tempdir().unwrap();
    let a = "a".repeat(64);
    let b = "b".repeat(64);
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let alice = write(
        "alice",
        format!("{a}  c1pzo-1.tar.gz\n{a}  c1pzo-1-win64.zip\n"),
    );
    let bob = write(
        "bob",
        format!("{a}  c1pzo-1.tar.gz\n{b}  c1pzo-1-win64.zip\n"),
    );
    let carol = write(
        "carol",
        format!("{a}  c1pzo-1-win64.zip\n{a}  c1pzo-1.tar.gz\n"),
    );

    let out = xtask(&["dist", "verify", &alice, &carol]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("all 2 files agree across 2 builders"));

    let out = xtask(&["dist", "verify", &alice, &bob, &carol]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("agree   c1pzo-1.tar.gz"), "{said}");
    assert!(
        said.contains(&format!(
            "DIFFER  c1pzo-1-win64.zip\n          {a}  {alice}\n          {b}  {bob}"
        )),
        "{said}"
    );
    assert!(
        said.contains("the builders disagree on c1pzo-1-win64.zip"),
        "{said}"
    );

    let broken = write("broken", "not a checksum\n".into());
    let out = xtask(&["dist", "verify", &alice, &broken]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!(
            "{broken}:1: expected `<64 hex digits>  <file name>`"
        )),
        "{}",
        text(&out)
    );

    let out = xtask(&["dist", "verify", &alice]);
    assert!(!out.status.success());
    assert!(text(&out).contains("give two or more SHA256SUMS files"));
}
