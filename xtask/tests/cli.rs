//! `cargo xtask depends` end to end: the real binary, run against a
//! throwaway tree (`--root`) with its own SOURCES_PATH and BASE_CACHE, on
//! synthetic C packages served from 127.0.0.1. These cover what the
//! library tests cannot: argument errors as a user sees them, exit codes,
//! what lands on stdout, and runs killed from outside (kill -9, Ctrl-C)
//! mid-build and mid-download.
//!
//! Every run is its own process group, so a kill reaches make and the
//! compilers too, and a guard kills and reaps the group whatever happens.

#[path = "../../crates/depends/tests/support/http_server.rs"]
mod http_server;
#[path = "../../crates/depends/tests/support/packages.rs"]
mod packages;

use std::collections::BTreeMap;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_server::TestServer;
use packages::{files_under, sha256_hex, Package};
use serde_json::Value;

const HOST: &str = "x86_64-pc-linux-gnu";
/// Ample for building two tiny C libraries on a busy 2-core machine.
const RUN_LIMIT: Duration = Duration::from_secs(180);
/// How long a run may take to reach the build step we kill it in.
const REACH_LIMIT: Duration = Duration::from_secs(60);
/// How long a signalled process group may take to die.
const DEATH_LIMIT: Duration = Duration::from_secs(15);

/// A throwaway repository for `--root`, its caches, and a file server.
struct Tree {
    dir: tempfile::TempDir,
    server: TestServer,
    /// Numbers the output files of successive runs.
    runs: AtomicUsize,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("recipes")).unwrap();
        std::fs::create_dir_all(root.join("toolchains")).unwrap();
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../toolchains");
        for entry in std::fs::read_dir(real).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(
                entry.path(),
                root.join("toolchains").join(entry.file_name()),
            )
            .unwrap();
        }
        Tree {
            dir,
            server: TestServer::start(),
            runs: AtomicUsize::new(0),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn sources(&self) -> PathBuf {
        self.dir.path().join("sources")
    }

    fn base_cache(&self) -> PathBuf {
        self.dir.path().join("built")
    }

    fn prefix(&self) -> PathBuf {
        self.root().join("depends").join(HOST)
    }

    fn manifest(&self) -> PathBuf {
        self.prefix().join("manifest.json")
    }

    fn work(&self) -> PathBuf {
        self.root().join("depends/work")
    }

    fn url(&self, package: &Package) -> String {
        self.server.url(&format!("files/{}", package.file_name()))
    }

    /// Serves the package's tarball and writes its recipe (the format of
    /// the engine tests' fixture).
    fn add(&self, package: &Package) {
        let bytes = package.tarball();
        let sha = sha256_hex(&bytes);
        self.server
            .serve(&format!("files/{}", package.file_name()), bytes);
        let text = package.recipe(&sha, &self.url(package), "make");
        let path = self
            .root()
            .join("recipes")
            .join(format!("{}.toml", package.name));
        std::fs::write(path, text).unwrap();
    }

    /// `xtask depends --root <tree> SOURCES_PATH=.. BASE_CACHE=.. <args>`,
    /// shielded from the caller's environment: every option key is also
    /// read from the environment, so a CC or HOST exported by the person
    /// running the tests must not leak in, and the default cache folder
    /// points into the tree in case a path option is ever dropped.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("depends")
            .arg("--root")
            .arg(self.root())
            .arg(format!("SOURCES_PATH={}", self.sources().display()))
            .arg(format!("BASE_CACHE={}", self.base_cache().display()))
            .args(args);
        for key in depends::options::known_keys() {
            cmd.env_remove(key);
        }
        // The synthetic packages build against this machine's libc: the
        // tree has no glibc_sysroot recipe for the Linux toolchains'
        // [sysroot] (the engine's own tests cover the sysroot).
        cmd.env("NO_SYSROOT", "1")
            .env("C1PZO_NO_APT", "1")
            .env("C1PZO_CACHE_HOME", self.dir.path().join("cache-home"))
            .env_remove("XDG_CACHE_HOME")
            .stdin(Stdio::null());
        cmd
    }

    /// Starts a run in its own process group, output going to files (a
    /// pipe nobody reads could block it).
    fn start(&self, args: &[&str]) -> Running {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        let stdout = self.dir.path().join(format!("run{n}.stdout"));
        let stderr = self.dir.path().join(format!("run{n}.stderr"));
        let mut cmd = self.command(args);
        cmd.stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .process_group(0);
        // A test run started from a background job inherits SIGINT
        // ignored (the shell's rule for background jobs), and ignored
        // signals stay ignored across exec: give the run the default
        // disposition a terminal's foreground job has, so Ctrl-C means
        // what it does for a user.
        // SAFETY: signal(2) is async-signal-safe; nothing else runs
        // between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start xtask");
        Running {
            pgid: child.id(),
            child: Some(child),
            stdout,
            stderr,
        }
    }

    /// Runs to completion (bounded).
    fn run(&self, args: &[&str]) -> Finished {
        self.start(args).finish(RUN_LIMIT)
    }

    /// Runs with `--json`, requires success, and parses stdout whole: any
    /// stray line on stdout would make this fail.
    fn run_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let done = self.run(&all);
        assert!(done.status.success(), "{done}");
        serde_json::from_str(&done.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{done}"))
    }
}

/// A run in progress. Dropping it kills its whole process group and reaps
/// the xtask process, so a failing assertion leaves nothing behind.
struct Running {
    child: Option<Child>,
    pgid: u32,
    stdout: PathBuf,
    stderr: PathBuf,
}

struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status: {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// The words of `plan`'s line for `package` (name, version, id, action, ...).
fn plan_line<'a>(plan: &'a Finished, package: &str) -> Vec<&'a str> {
    plan.stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(package))
        .unwrap_or_else(|| panic!("no line for {package}: {plan}"))
        .split_whitespace()
        .collect()
}

/// The processes whose process group is `pgid`, with their state letter,
/// read from /proc (no libc needed).
fn group_members(pgid: u32) -> Vec<(u32, char)> {
    let mut members = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return members;
    };
    for entry in entries.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() < 3 || fields[2].parse::<u32>().ok() != Some(pgid) {
            continue;
        }
        let state = fields[0].chars().next().unwrap_or('?');
        members.push((pid, state));
    }
    members
}

/// Members that still run (zombies and dead tasks have stopped).
fn live_members(pgid: u32) -> Vec<u32> {
    group_members(pgid)
        .into_iter()
        .filter(|(_, state)| !matches!(state, 'Z' | 'X' | 'x'))
        .map(|(pid, _)| pid)
        .collect()
}

/// The program names (argv[0]) of the running members of group `pgid`.
fn group_programs(pgid: u32) -> Vec<String> {
    live_members(pgid)
        .into_iter()
        .filter_map(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).ok())
        .filter_map(|argv| {
            let first = argv.split(|&b| b == 0).next()?;
            let name = String::from_utf8_lossy(first);
            Some(name.rsplit('/').next().unwrap_or_default().to_string())
        })
        .collect()
}

/// Sends `signal` to every process of group `pgid`.
fn kill_group(signal: &str, pgid: u32) -> bool {
    assert!(pgid > 1, "never signal group {pgid}");
    Command::new("kill")
        .args(["-s", signal, "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Polls `cond` every 50 ms for at most `limit`.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Running {
    fn stderr_so_far(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends `signal` to the whole group, as a terminal's Ctrl-C does to
    /// its foreground job. The xtask process is not reaped yet, so the
    /// group id cannot have been reused.
    fn signal(&self, signal: &str) {
        assert!(
            kill_group(signal, self.pgid),
            "kill -s {signal} -{} failed; stderr so far:\n{}",
            self.pgid,
            self.stderr_so_far()
        );
    }

    /// Whether every process of the group (xtask, make, the shell, sleep)
    /// has exited within `limit`.
    fn group_gone_within(&self, limit: Duration) -> bool {
        wait_for(limit, || live_members(self.pgid).is_empty())
    }

    /// Waits (bounded) for the xtask process to exit, kills anything of its
    /// group still running, reaps it and collects its output.
    fn finish(mut self, limit: Duration) -> Finished {
        let pid = self.pgid;
        let exited = wait_for(limit, || {
            group_members(pid)
                .iter()
                .all(|&(p, state)| p != pid || matches!(state, 'Z' | 'X' | 'x'))
        });
        assert!(
            exited,
            "xtask did not exit within {limit:?}; stderr so far:\n{}",
            self.stderr_so_far()
        );
        // The leader is a zombie, not reaped: its id is still ours.
        if !live_members(pid).is_empty() {
            kill_group("KILL", pid);
        }
        let mut child = self.child.take().expect("running");
        let status = child.wait().expect("reap xtask");
        Finished {
            status,
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group("KILL", self.pgid);
            let _ = child.wait();
        }
    }
}

/// The `.hash` files of `package` in BASE_CACHE: a build counts as cached
/// exactly when its `.hash` exists.
fn hashes_of(tree: &Tree, package: &str) -> Vec<PathBuf> {
    files_under(&tree.base_cache().join(HOST).join(package))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".hash"))
        .collect()
}

/// `package -> status` from a `--json` report.
fn statuses(report: &Value) -> BTreeMap<String, String> {
    report["packages"]
        .as_array()
        .unwrap_or_else(|| panic!("no packages array: {report}"))
        .iter()
        .map(|p| {
            (
                p["package"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn is_short_id(text: &str) -> bool {
    text.len() == 11
        && text
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// A library whose build step touches `marker` and then, while `flag`
/// exists, sleeps 30 s: a window to kill the run in the middle of make.
fn slow_package(marker: &Path, flag: &Path) -> Package {
    let makefile = format!(
        "PREFIX ?= /usr/local\n\
         all: libslow.a\n\
         libslow.a: slow.c\n\
         \ttouch {marker}\n\
         \tif [ -e {flag} ]; then sleep 30; fi\n\
         \t$(CC) $(CPPFLAGS) $(CFLAGS) -c slow.c -o slow.o\n\
         \t$(AR) rc $@ slow.o\n\
         \t$(RANLIB) $@\n\
         install: all\n\
         \tmkdir -p $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include\n\
         \tcp libslow.a $(DESTDIR)$(PREFIX)/lib/\n\
         \tcp slow.h $(DESTDIR)$(PREFIX)/include/\n",
        marker = marker.display(),
        flag = flag.display(),
    );
    Package {
        name: "slow".into(),
        version: "1.0".into(),
        files: vec![
            ("Makefile".into(), makefile),
            (
                "slow.c".into(),
                "int slow_value(void) { return 7; }\n".into(),
            ),
            ("slow.h".into(), "int slow_value(void);\n".into()),
        ],
        dependencies: vec!["foo".into()],
        group: Some("base".into()),
        build_extra: String::new(),
    }
}

#[test]
fn unknown_options_and_actions_fail_with_what_is_valid() {
    let tree = Tree::new();
    tree.add(&Package::c_library("foo", &[], None));

    let done = tree.run(&["FOO=1"]);
    assert!(!done.status.success(), "{done}");
    assert!(done.stderr.contains("unknown option FOO"), "{done}");
    // The message lists the valid keys so the typo can be fixed.
    assert!(done.stderr.contains("MULTIPROCESS"), "{done}");
    assert!(done.stderr.contains("SOURCES_PATH"), "{done}");
    assert!(done.stdout.is_empty(), "{done}");
    // A typo must not start a build or a download.
    assert!(!tree.root().join("depends").exists(), "{done}");
    assert_eq!(tree.server.request_count("files/foo-1.0.tar.gz"), 0);

    let done = tree.run(&["biuld"]);
    assert!(!done.status.success(), "{done}");
    assert!(done.stderr.contains("unknown action `biuld`"), "{done}");
    assert!(
        done.stderr
            .contains("download, plan, print VAR, clean, clean-all, gc"),
        "the actions are listed: {done}"
    );
    assert!(!tree.root().join("depends").exists(), "{done}");

    let done = tree.run(&["plan", "gc"]);
    assert!(!done.status.success(), "{done}");
    assert!(done.stderr.contains("at most one action"), "{done}");
}

/// Kills a run while make is building `slow` (after `foo` was built) with
/// `signal`, then checks nothing half-done counts and a rerun recovers.
fn interrupted_build(signal: &str) {
    let tree = Tree::new();
    let marker = tree.dir.path().join("slow-build-started");
    let flag = tree.dir.path().join("slow-flag");
    std::fs::write(&flag, b"").unwrap();
    tree.add(&Package::c_library("foo", &[], None));
    tree.add(&slow_package(&marker, &flag));

    let running = tree.start(&[]);
    assert!(
        wait_for(REACH_LIMIT, || marker.exists()),
        "slow's build never started; stderr:\n{}",
        running.stderr_so_far()
    );
    // make and its sleep are in the run's process group, so the signal
    // reaches them and "the group is gone" below means something. (sleep
    // starts a moment after the marker: wait for it.)
    let in_group = |name: &str| group_programs(running.pgid).iter().any(|p| p == name);
    assert!(
        wait_for(REACH_LIMIT, || in_group("make") && in_group("sleep")),
        "make or sleep not in the group: {:?}",
        group_programs(running.pgid)
    );
    running.signal(signal);
    // Everything dies: xtask and, through the group, make and its sleep.
    assert!(
        running.group_gone_within(DEATH_LIMIT),
        "processes of the run survived SIGKILL/SIGINT: {:?}",
        group_members(running.pgid)
    );
    let done = running.finish(DEATH_LIMIT);
    assert!(!done.status.success(), "{done}");
    let expected = if signal == "KILL" { 9 } else { 2 };
    assert_eq!(done.status.signal(), Some(expected), "{done}");

    // The killed build never became a valid cache entry, and no prefix
    // was installed; foo, finished before the kill, stays cached.
    assert_eq!(hashes_of(&tree, "slow"), Vec::<PathBuf>::new());
    assert_eq!(hashes_of(&tree, "foo").len(), 1, "{done}");
    assert!(!tree.manifest().exists(), "{done}");
    assert!(!tree.prefix().join("lib/libslow.a").exists());

    std::fs::remove_file(&flag).unwrap();
    std::fs::remove_file(&marker).unwrap();
    let report = tree.run_json(&[]);
    assert_eq!(
        statuses(&report),
        pairs(&[("foo", "cached"), ("slow", "built")])
    );
    assert!(marker.exists(), "slow's build step really ran again");
    assert!(tree.prefix().join("lib/libslow.a").is_file());
    assert!(tree.prefix().join("lib/libfoo.a").is_file());
    assert!(tree.manifest().is_file());
    assert_eq!(hashes_of(&tree, "slow").len(), 1);
}

#[test]
fn kill_9_mid_build_caches_nothing_and_a_rerun_builds() {
    interrupted_build("KILL");
}

#[test]
fn ctrl_c_mid_build_stops_every_process_and_a_rerun_builds() {
    interrupted_build("INT");
}

#[test]
fn kill_9_mid_download_keeps_only_the_part_and_the_rerun_resumes() {
    let tree = Tree::new();
    let foo = Package::c_library("foo", &[], None);
    tree.add(&foo);
    let bytes = foo.tarball();
    let cut = bytes.len() / 2;
    // The first response sends half the body, then goes silent for longer
    // than the test lasts.
    tree.server.serve_stall_after(
        "files/foo-1.0.tar.gz",
        bytes.clone(),
        cut,
        1,
        Duration::from_secs(120),
    );
    let part = tree.sources().join("foo-1.0.tar.gz.part");
    let source = tree.sources().join("foo-1.0.tar.gz");

    let running = tree.start(&[]);
    assert!(
        wait_for(REACH_LIMIT, || {
            std::fs::metadata(&part).is_ok_and(|m| m.len() == cut as u64)
        }),
        "the first half never reached {}; stderr:\n{}",
        part.display(),
        running.stderr_so_far()
    );
    running.signal("KILL");
    assert!(running.group_gone_within(DEATH_LIMIT));
    let done = running.finish(DEATH_LIMIT);
    assert!(!done.status.success(), "{done}");

    // Only the partial download exists; it never got the final name.
    assert!(!source.exists(), "{done}");
    assert_eq!(std::fs::read(&part).unwrap(), bytes[..cut]);
    assert!(!tree.manifest().exists());

    tree.server.serve("files/foo-1.0.tar.gz", bytes.clone());
    let report = tree.run_json(&[]);
    assert_eq!(statuses(&report), pairs(&[("foo", "built")]));
    let requests = tree.server.requests("files/foo-1.0.tar.gz");
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].range, None);
    // The rerun continued where the killed one stopped.
    let expected = format!("bytes={cut}-");
    assert_eq!(requests[1].range.as_deref(), Some(expected.as_str()));
    assert_eq!(std::fs::read(&source).unwrap(), bytes);
    assert!(!part.exists());
    assert!(tree.prefix().join("lib/libfoo.a").is_file());
}

#[test]
fn json_reports_built_then_cached() {
    let tree = Tree::new();
    tree.add(&Package::c_library("foo", &[], None));
    tree.add(&Package::c_library("bar", &["foo"], None).depends_on(&["foo"]));

    let first = tree.run_json(&[]);
    assert_eq!(
        statuses(&first),
        pairs(&[("bar", "built"), ("foo", "built")])
    );
    assert_eq!(first["prefix_updated"], Value::Bool(true), "{first}");
    assert_eq!(first["host"], HOST, "{first}");
    let id = first["final_build_id"].as_str().unwrap().to_string();
    assert!(is_short_id(&id), "{first}");
    // The prefix named in the report is the one in the --root tree.
    assert_eq!(
        first["prefix"].as_str().map(PathBuf::from),
        Some(tree.prefix()),
        "{first}"
    );

    let second = tree.run_json(&[]);
    assert_eq!(
        statuses(&second),
        pairs(&[("bar", "cached"), ("foo", "cached")])
    );
    assert_eq!(second["prefix_updated"], Value::Bool(false), "{second}");
    assert_eq!(second["final_build_id"], id.as_str());
    // Cached packages point at the tarballs the first run built.
    for (a, b) in first["packages"]
        .as_array()
        .unwrap()
        .iter()
        .zip(second["packages"].as_array().unwrap())
    {
        assert_eq!(a["tarball"], b["tarball"]);
        assert_eq!(a["sha256"], b["sha256"]);
    }
    assert_eq!(tree.server.request_count("files/foo-1.0.tar.gz"), 1);
}

#[test]
fn print_plan_and_dry_run_build_nothing() {
    let tree = Tree::new();
    tree.add(&Package::c_library("foo", &[], None));

    let done = tree.run(&["print", "final_build_id"]);
    assert!(done.status.success(), "{done}");
    let line = done.stdout.trim_end_matches('\n');
    assert!(!line.contains('\n'), "one line: {done}");
    let id = line
        .strip_prefix("final_build_id=")
        .unwrap_or_else(|| panic!("{done}"));
    assert!(is_short_id(id), "{done}");

    let done = tree.run(&["print", "foo_build_id"]);
    assert!(done.status.success(), "{done}");
    let foo_id = done
        .stdout
        .trim()
        .strip_prefix("foo_build_id=")
        .unwrap_or_else(|| panic!("{done}"))
        .to_string();

    let plan = tree.run(&["plan"]);
    assert!(plan.status.success(), "{plan}");
    assert!(
        plan.stdout
            .lines()
            .next()
            .is_some_and(|l| l == format!("HOST={HOST} final_build_id={id}")),
        "the header agrees with print: {plan}"
    );
    let foo_line = plan_line(&plan, "foo");
    assert_eq!(
        &foo_line[..4],
        ["foo", "1.0", foo_id.as_str(), "build"],
        "{plan}"
    );
    assert!(plan.stdout.contains("because never built"), "{plan}");

    // --dry-run is `plan` under another name, and builds nothing.
    let dry = tree.run(&["--dry-run"]);
    assert!(dry.status.success(), "{dry}");
    assert_eq!(dry.stdout, plan.stdout);
    assert!(!tree.prefix().exists(), "{dry}");
    assert!(!tree.work().exists(), "{dry}");
    assert!(
        files_under(&tree.base_cache())
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".tar.gz")),
        "{:?}",
        files_under(&tree.base_cache())
    );
    assert_eq!(
        tree.server.request_count("files/foo-1.0.tar.gz"),
        0,
        "nothing downloaded"
    );

    let report = tree.run_json(&[]);
    assert_eq!(statuses(&report), pairs(&[("foo", "built")]));
    let plan = tree.run(&["plan"]);
    assert!(plan.status.success(), "{plan}");
    let foo_line = plan_line(&plan, "foo");
    assert_eq!(
        foo_line.as_slice(),
        ["foo", "1.0", foo_id.as_str(), "cached"],
        "{plan}"
    );
}

#[test]
fn clean_keeps_the_caches_and_clean_all_removes_them() {
    let tree = Tree::new();
    tree.add(&Package::c_library("foo", &[], None));
    let report = tree.run_json(&[]);
    assert_eq!(statuses(&report), pairs(&[("foo", "built")]));
    // What a killed build would leave in the work folder.
    std::fs::create_dir_all(tree.work().join(HOST)).unwrap();
    std::fs::write(tree.work().join(HOST).join("leftover.log"), b"x").unwrap();
    assert!(tree.manifest().is_file());

    let done = tree.run(&["clean"]);
    assert!(done.status.success(), "{done}");
    assert!(!tree.work().exists(), "{done}");
    assert!(!tree.prefix().exists(), "{done}");
    assert!(
        done.stderr
            .contains(&format!("removed {}", tree.prefix().display())),
        "{done}"
    );
    assert_eq!(
        hashes_of(&tree, "foo").len(),
        1,
        "BASE_CACHE is kept: {done}"
    );
    assert!(tree.sources().join("foo-1.0.tar.gz").is_file(), "{done}");

    // The kept cache is used: nothing rebuilt, nothing downloaded.
    let report = tree.run_json(&[]);
    assert_eq!(statuses(&report), pairs(&[("foo", "cached")]));
    assert_eq!(report["prefix_updated"], Value::Bool(true), "{report}");
    assert!(tree.prefix().join("lib/libfoo.a").is_file());
    assert_eq!(tree.server.request_count("files/foo-1.0.tar.gz"), 1);

    let done = tree.run(&["clean-all"]);
    assert!(done.status.success(), "{done}");
    assert!(!tree.prefix().exists(), "{done}");
    assert!(!tree.sources().exists(), "{done}");
    assert!(!tree.base_cache().exists(), "{done}");
    // The recipes and toolchains of the tree are not caches.
    assert!(tree.root().join("recipes/foo.toml").is_file());
    assert!(tree.root().join("toolchains").is_dir());
}
