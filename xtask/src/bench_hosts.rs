//! `cargo xtask bench hosts`: what every host costs, measured in one run.
//! Per host: depends from an empty build cache (sources kept), the same
//! with a remote cache that holds the packages, a warm workspace build
//! (nothing changed, then one source file touched), and the functional
//! suite's wall time against that host's executables (native, or under
//! qemu-user). And the ratio of the build machine's cold depends to one
//! by-hand cmake + make build of Cap'n Proto, the same sources, the same run.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use depends::progress::QuietReporter;
use depends::{Engine, Layout, Options};
use serde_json::{json, Value};

use crate::cargo_run::CargoTest;

const HOSTS: [&str; 2] = ["x86_64-pc-linux-gnu", "aarch64-linux-gnu"];

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
        let (build, suite) = workspace_times(&root, host)?;
        figures["workspace_build"] = build;
        figures["functional_suite_s"] = json!(suite);
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

/// A no-op and a one-file-touched workspace build for `host`, and the
/// functional suite's wall time against its executables.
fn workspace_times(root: &Path, host: &str) -> Result<(Value, f64)> {
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
    let suite = functional_suite(root, host)?;
    Ok((
        json!({ "noop_s": noop, "one_file_touched_s": touched }),
        suite,
    ))
}

/// The functional suite (c1pzod pass) against `host`'s executables, built
/// first so only the tests are timed; emulated hosts through binfmt_misc,
/// as `cargo xtask test` runs them.
fn functional_suite(root: &Path, host: &str) -> Result<f64> {
    let toolchains = depends::toolchain::Toolchains::load(&root.join("toolchains"))?;
    let file = toolchains.lookup(host)?.clone();
    let build = depends::toolchain::build_triple();
    let native_prefix = root.join("depends").join(build);
    let config = native_prefix.join(depends::install::CARGO_CONFIG_FILE);
    let mut cargo = CargoTest::new(root, &native_prefix.join("native/bin"), &[]);
    if file.triple != build {
        for (key, value) in crate::emulator::prepare(&file)? {
            cargo.env(&key, &value);
        }
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

fn render(f: &Value) -> String {
    let mut md = String::from("# cargo xtask bench hosts\n\n");
    md.push_str(
        "| host | depends cold | depends, remote cache full | build no-op | build, one file touched | functional suite |\n\
         |---|---|---|---|---|---|\n",
    );
    for host in HOSTS {
        let h = &f["hosts"][host];
        md.push_str(&format!(
            "| {host} | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.0} s |\n",
            h["depends_cold_s"].as_f64().unwrap_or(0.0),
            h["depends_remote_cache_s"].as_f64().unwrap_or(0.0),
            h["workspace_build"]["noop_s"].as_f64().unwrap_or(0.0),
            h["workspace_build"]["one_file_touched_s"]
                .as_f64()
                .unwrap_or(0.0),
            h["functional_suite_s"].as_f64().unwrap_or(0.0),
        ));
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
