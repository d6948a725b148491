//! `cargo xtask bench hosts`: what every host costs, measured in one run.
//! Per host: depends from an empty build cache (sources kept), the same
//! with a remote cache that holds the packages, a warm workspace build
//! (nothing changed, then one source file touched), and the functional
//! suite's wall time against that host's executables (native, under
//! qemu-user, or under wine), and two IPC figures between two of the
//! host's processes: spawn to first reply and a call's round trip. Under
//! an emulator these measure the emulator as much as the host. And the ratio of the build machine's cold depends to one
//! by-hand cmake + make build of Cap'n Proto, the same sources, the same run.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use depends::progress::QuietReporter;
use depends::{Engine, Layout, Options};
use serde_json::{json, Value};

use crate::cargo_run::CargoTest;
use depends::toolchain::ToolchainFile;

/// An emulator's environment for the processes of a test run.
type Env = Vec<(String, String)>;

const HOSTS: [&str; 3] = [
    "x86_64-pc-linux-gnu",
    "aarch64-linux-gnu",
    "x86_64-w64-mingw32",
];

pub fn run() -> Result<()> {
    let root = crate::repo_root();
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    // What the test command needs, this needs too (nginx for the remote
    // cache, the cross toolchains, qemu): a fresh machine gets them here.
    crate::apt::ensure(&crate::apt::ci_packages()?)?;
    let server = crate::nginx::Nginx::start();
    let mut hosts = serde_json::Map::new();
    for host in HOSTS {
        eprintln!("== {host}: depends ==");
        let mut figures = depends_times(&root, host, &server.url())?;
        eprintln!("== {host}: the workspace and the functional suite ==");
        let toolchains = depends::toolchain::Toolchains::load(&root.join("toolchains"))?;
        let file = toolchains.lookup(host)?.clone();
        let env = if file.triple == depends::toolchain::build_triple() {
            Vec::new()
        } else {
            crate::emulator::prepare(&file)?
        };
        let (build, suite) = workspace_times(&root, &file, &env)?;
        figures["workspace_build"] = build;
        figures["functional_suite_s"] = json!(suite);
        figures["emulator"] = json!(file.test.as_ref().and_then(|t| t.binfmt.clone()));
        eprintln!("== {host}: IPC ==");
        figures["ipc"] = ipc_times(&root, &file, &env)?;
        hosts.insert(host.to_string(), figures);
    }
    let options = Options::parse(&["MULTIPROCESS=1".into()], &|k| std::env::var(k).ok())?;
    let by_hand = crate::bench::bare_cmake_native_capnp(&options)?;
    let cold = hosts[HOSTS[0]]["depends_cold_s"].as_f64().unwrap_or(0.0);
    let figures = json!({
        "machine": { "cores": std::thread::available_parallelism().map_or(1, |n| n.get()) },
        "hosts": hosts,
        "capnp_by_hand_s": by_hand,
        "native_cold_over_by_hand": cold / by_hand,
        "target_ratio": 1.15,
    });
    crate::bench::write_figures(&out_dir, "hosts", &figures, &render(&figures))
}

/// Cold depends for `host` into an empty BASE_CACHE, pushing to the remote
/// cache at `url`; then again from another empty BASE_CACHE that only
/// downloads from it.
fn depends_times(root: &Path, host: &str, url: &str) -> Result<Value> {
    let tmp = tempfile::tempdir()?;
    let run = |cache: &str, extra: &[&str]| -> Result<(f64, Vec<String>)> {
        let mut words = vec!["MULTIPROCESS=1".to_string(), format!("HOST={host}")];
        words.extend(extra.iter().map(|w| w.to_string()));
        let options = Options::parse(&words, &|k| std::env::var(k).ok())?;
        let layout = Layout {
            depends: tmp.path().join(format!("depends-{cache}")),
            base_cache: tmp.path().join(cache),
            ..Layout::for_repository(root, &options)
        };
        let engine = Engine::new(layout, options)?;
        engine.download(&QuietReporter)?;
        let started = Instant::now();
        let report = engine.run(&depends::progress::PlainReporter)?;
        let seconds = started.elapsed().as_secs_f64();
        let statuses = report
            .packages
            .iter()
            .map(|p| format!("{} {}", p.package, p.status.as_str()))
            .collect();
        Ok((seconds, statuses))
    };
    let (cold, built) = run(
        "cold",
        &[&format!("BASE_CACHE_URL={url}"), "BASE_CACHE_PUSH=1"],
    )?;
    let (remote, fetched) = run("remote", &[&format!("BASE_CACHE_URL={url}")])?;
    if fetched.iter().any(|s| s.ends_with(" built")) {
        bail!("{host}: the run with a full remote cache still built: {fetched:?}");
    }
    Ok(json!({
        "depends_cold_s": cold,
        "depends_cold_packages": built,
        "depends_remote_cache_s": remote,
        "depends_remote_cache_packages": fetched,
    }))
}

/// A no-op and a one-file-touched workspace build for `file`'s host, and
/// the functional suite's wall time against its executables.
fn workspace_times(root: &Path, file: &ToolchainFile, env: &Env) -> Result<(Value, f64)> {
    let host = &file.triple;
    let build = |touch: bool| -> Result<f64> {
        if touch {
            let file = root.join("crates/common/src/lib.rs");
            let text = std::fs::read(&file)?;
            std::fs::write(&file, text).with_context(|| format!("touching {}", file.display()))?;
        }
        let started = Instant::now();
        let status = Command::new(std::env::current_exe()?)
            .args(["build", "MULTIPROCESS=1", &format!("HOST={host}")])
            .current_dir(root)
            .status()?;
        if !status.success() {
            bail!("cargo xtask build HOST={host} failed ({status})");
        }
        Ok(started.elapsed().as_secs_f64())
    };
    build(false)?;
    let noop = build(false)?;
    let touched = build(true)?;
    let suite = functional_suite(root, file, env)?;
    Ok((
        json!({ "noop_s": noop, "one_file_touched_s": touched }),
        suite,
    ))
}

/// The functional suite (c1pzod pass) against `file`'s executables, built
/// first so only the tests are timed; emulated hosts through binfmt_misc,
/// with the emulator's environment `env`, as `cargo xtask test` runs them.
fn functional_suite(root: &Path, file: &ToolchainFile, env: &Env) -> Result<f64> {
    let host = &file.triple;
    let build = depends::toolchain::build_triple();
    let native_prefix = root.join("depends").join(build);
    let config = native_prefix.join(depends::install::CARGO_CONFIG_FILE);
    let mut cargo = CargoTest::new(root, &native_prefix.join("native/bin"), &[]);
    for (key, value) in env {
        cargo.env(key, value);
    }
    let bin_dir = root.join("target").join(&file.rust_target).join("debug");
    cargo.env("C1PZO_BIN_DIR", &bin_dir.display().to_string());
    let features = "c1pzo-functional/multiprocess";
    cargo.build_tests(&config, "c1pzo-functional", features)?;
    let started = Instant::now();
    let tally = cargo.test(Some(&config), &[], &["c1pzo-functional"], features, &[])?;
    let seconds = started.elapsed().as_secs_f64();
    if tally.failed > 0 || tally.passed == 0 {
        bail!("the functional suite against {host}: {tally:?}");
    }
    Ok(seconds)
}

/// `ipc_bench --hosts` built (release) for `file`'s host and run as its
/// tests are: spawn to first reply and the `Context` call's latency
/// between two of the host's processes.
fn ipc_times(root: &Path, file: &ToolchainFile, env: &Env) -> Result<Value> {
    let host = &file.triple;
    let build = depends::toolchain::build_triple();
    let config = root
        .join("depends")
        .join(&file.triple)
        .join(depends::install::CARGO_CONFIG_FILE);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![root.join("depends").join(build).join("native/bin")];
    dirs.extend(std::env::split_paths(&path));
    let status = Command::new("cargo")
        .args(["build", "--release", "--locked", "--config"])
        .arg(&config)
        .args(["-p", "c1pzo-ipc", "--bins", "--examples"])
        .env("PATH", std::env::join_paths(dirs)?)
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("building ipc_bench for {host} failed ({status})");
    }
    let suffix = if file.rust_target.contains("windows") {
        ".exe"
    } else {
        ""
    };
    let bench = root
        .join("target")
        .join(&file.rust_target)
        .join("release/examples")
        .join(format!("ipc_bench{suffix}"));
    // Its output goes to a file, not a pipe: were it the first process of
    // a wine session, wine's services would inherit a pipe and hold it.
    let out_file = tempfile::NamedTempFile::new()?;
    let status = Command::new(&bench)
        .arg("--hosts")
        .current_dir(root)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(out_file.reopen()?)
        .status()
        .with_context(|| format!("running {}", bench.display()))?;
    if !status.success() {
        bail!("{} --hosts failed ({status})", bench.display());
    }
    // The last line is the figures; wine may print before it.
    let text = std::fs::read_to_string(out_file.path())?;
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("ipc_bench --hosts printed {text:?}"))
}

fn render(f: &Value) -> String {
    let mut md = String::from("# cargo xtask bench hosts\n\n");
    md.push_str(
        "| host | depends cold | depends, remote cache full | build no-op | build, one file touched | functional suite | spawn to first IPC reply | IPC call (median) |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for host in HOSTS {
        let h = &f["hosts"][host];
        md.push_str(&format!(
            "| {host} | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.0} s | {} ms | {} µs |\n",
            h["depends_cold_s"].as_f64().unwrap_or(0.0),
            h["depends_remote_cache_s"].as_f64().unwrap_or(0.0),
            h["workspace_build"]["noop_s"].as_f64().unwrap_or(0.0),
            h["workspace_build"]["one_file_touched_s"]
                .as_f64()
                .unwrap_or(0.0),
            h["functional_suite_s"].as_f64().unwrap_or(0.0),
            figure(&h["ipc"]["spawn_to_first_reply_ms"]["median"]),
            figure(&h["ipc"]["context_call_us"]["median"]),
        ));
    }
    let suite = |host: &str| f["hosts"][host]["functional_suite_s"].as_f64();
    if let Some(native) = suite(HOSTS[0]).filter(|s| *s > 0.0) {
        md.push_str("\nThe functional suite against native:");
        for host in &HOSTS[1..] {
            if let Some(seconds) = suite(host) {
                let emulator = f["hosts"][host]["emulator"].as_str().unwrap_or("native");
                md.push_str(&format!(" {host} ({emulator}) {:.1}x;", seconds / native));
            }
        }
        md.push_str(" an emulator's cost, not the host's.\n");
    }
    md.push_str(&format!(
        "\nCold `MULTIPROCESS=1` for the build machine against one by-hand cmake + make build of \
         Cap'n Proto 1.1.0 ({:.1} s): **{:.2}x** (target {:.2}x).\n",
        f["capnp_by_hand_s"].as_f64().unwrap_or(0.0),
        f["native_cold_over_by_hand"].as_f64().unwrap_or(0.0),
        f["target_ratio"].as_f64().unwrap_or(0.0),
    ));
    md
}

/// A measured figure, or a dash where the run has none.
fn figure(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "–".to_string(), |v| v.to_string())
}
