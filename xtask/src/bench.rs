//! `cargo xtask bench depends`: the figures the depends issue asks for,
//! written to target/bench/depends.{json,md}. Speed is measured here, never
//! asserted in tests.
//!
//! - no-op: a warm `MULTIPROCESS=1` run, in-process (the engine itself) and
//!   as a whole process (this binary), against upstream's measured 0.73-0.80 s;
//! - cold: `MULTIPROCESS=1` into an empty BASE_CACHE: wall time, CPU time of
//!   the builds and utilisation of the cores, per-package stage times;
//! - builders: native_capnp built with the cmake recipe (cold run above) and
//!   with an autotools variant of it, to justify the recipe's choice.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use depends::progress::QuietReporter;
use depends::report::PackageStatus;
use depends::{Engine, Layout, Options};
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The area to measure: `depends`, `ipc`, `node`, `wallet`,
    /// `multiprocess`, `p2p`, `hosts` or `dist`.
    pub area: String,
    /// `depends`: only the no-op figures (skips the cold builds, which
    /// take minutes). `dist`: skips `--check-reproducible`.
    #[arg(long)]
    pub quick: bool,
    /// `dist`: only this host (repeatable; default: every host).
    #[arg(long = "host", value_name = "TRIPLE")]
    pub hosts: Vec<String>,
    /// No-op iterations.
    #[arg(long, default_value_t = 30)]
    pub iterations: usize,
}

/// Upstream's cache-hit run on this class of machine (shared/reference/measured.md).
const UPSTREAM_NOOP_SECONDS: [f64; 3] = [0.73, 0.80, 0.77];
/// Upstream's cold native_capnp + capnp build, make -j2 (same source).
const UPSTREAM_COLD_SECONDS: f64 = 89.0;

pub fn run(args: BenchArgs) -> Result<()> {
    match args.area.as_str() {
        "depends" => {}
        "ipc" => return ipc(),
        "node" => return example("node_bench", "node"),
        "wallet" => return example("wallet_bench", "wallet"),
        "multiprocess" => return multiprocess(),
        "p2p" => return example("p2p_bench", "p2p"),
        "hosts" => return crate::bench_hosts::run(),
        "dist" => return crate::bench_dist::run(&args.hosts, args.quick),
        other => {
            bail!(
                "unknown bench area `{other}`; areas: depends, ipc, node, wallet, multiprocess, p2p, hosts, dist"
            )
        }
    }
    let root = crate::repo_root();
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let options = Options::parse(&["MULTIPROCESS=1".to_string()], &|k| std::env::var(k).ok())?;
    let layout = Layout::for_repository(&root, &options);

    eprintln!("warming up: cargo xtask depends MULTIPROCESS=1");
    Engine::new(layout.clone(), options.clone())?.run(&depends::progress::PlainReporter)?;
    let noop_engine = time_n(args.iterations, || {
        let engine = Engine::new(layout.clone(), options.clone())?;
        let report = engine.run(&QuietReporter)?;
        if report.prefix_updated
            || report
                .packages
                .iter()
                .any(|p| p.status != PackageStatus::Cached)
        {
            bail!("the warm run was not a no-op");
        }
        Ok(())
    })?;
    let exe = std::env::current_exe()?;
    let noop_process = time_n(args.iterations.min(15), || {
        let status = Command::new(&exe)
            .args(["depends", "MULTIPROCESS=1"])
            .stderr(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            bail!("xtask depends failed");
        }
        Ok(())
    })?;
    let mut figures = json!({
        "machine": { "cores": std::thread::available_parallelism().map_or(1, |n| n.get()) },
        "noop": {
            "engine_in_process_ms": summary_ms(&noop_engine),
            "whole_process_ms": summary_ms(&noop_process),
            "upstream_make_cache_hit_ms": UPSTREAM_NOOP_SECONDS.map(|s| s * 1000.0),
            "target_ms": 50.0,
        },
    });

    if !args.quick {
        let cold = cold_build(&root, &options)?;
        figures["cold"] = cold;
        let autotools = autotools_native_capnp(&root, &options)?;
        let bare = bare_cmake_native_capnp(&options)?;
        figures["builders"] = json!({
            "native_capnp_cmake_s": figures["cold"]["packages"]["native_capnp"]["seconds"],
            "native_capnp_autotools_s": autotools,
            "native_capnp_bare_cmake_make_s": bare,
        });
        figures["cold"]["upstream_make_cold_s"] = json!(UPSTREAM_COLD_SECONDS);
    }
    write_figures(&out_dir, "depends", &figures, &render(&figures))
}

/// Writes `<area>.json` and `<area>.md` under `out_dir` and prints the
/// markdown.
pub(crate) fn write_figures(
    out_dir: &Path,
    area: &str,
    figures: &serde_json::Value,
    markdown: &str,
) -> Result<()> {
    std::fs::write(
        out_dir.join(format!("{area}.json")),
        serde_json::to_string_pretty(figures)?,
    )?;
    std::fs::write(out_dir.join(format!("{area}.md")), markdown)?;
    println!("{markdown}");
    eprintln!(
        "written: {}",
        out_dir.join(format!("{area}.{{json,md}}")).display()
    );
    Ok(())
}

/// `cargo xtask bench ipc`: builds the IPC crate's binaries and its
/// benchmark in release mode and runs it; the figures land in
/// target/bench/ipc.{json,md}.
fn ipc() -> Result<()> {
    let root = crate::repo_root();
    let sh = crate::test_cmd::shell_with_depends(&root)?;
    xshell::cmd!(
        sh,
        "cargo build --release --locked -p c1pzo-ipc --bins --examples"
    )
    .run()?;
    let out = root.join("target/bench");
    let bench = root.join("target/release/examples/ipc_bench");
    xshell::cmd!(sh, "{bench} --out {out}").run()?;
    eprintln!("written: {}", out.join("ipc.{json,md}").display());
    Ok(())
}

/// `cargo xtask bench node|wallet|p2p`: builds the release executables and
/// the benchmark example, runs it against them; the figures land in
/// target/bench/<area>.{json,md}.
fn example(example: &str, area: &str) -> Result<()> {
    let root = crate::repo_root();
    let sh = crate::test_cmd::shell_with_depends(&root)?;
    xshell::cmd!(
        sh,
        "cargo build --release --locked -p c1pzo --bins --examples"
    )
    .run()?;
    let out = root.join("target/bench");
    let bench = root.join("target/release/examples").join(example);
    xshell::cmd!(sh, "{bench} --out {out}").run()?;
    eprintln!(
        "written: {}",
        out.join(format!("{area}.{{json,md}}")).display()
    );
    Ok(())
}

/// `cargo xtask bench multiprocess`: the functional suite's wall time
/// against c1pzod and against c1pzo-node (built first, so only the tests
/// are timed), then the example's side-by-side wallet calls and memory;
/// the figures land in target/bench/multiprocess.{json,md}.
fn multiprocess() -> Result<()> {
    let root = crate::repo_root();
    let sh = crate::test_cmd::shell_with_depends(&root)?;
    // The executables and the suite, built first so only the tests are
    // timed; the suite finds the executables beside its own output.
    xshell::cmd!(
        sh,
        "cargo build --locked -p c1pzo --features multiprocess --bins"
    )
    .run()?;
    xshell::cmd!(
        sh,
        "cargo test --locked -p c1pzo-functional --features multiprocess --tests --no-run"
    )
    .run()?;
    let mut suites = Vec::new();
    for exe in ["c1pzod", "c1pzo-node"] {
        let started = Instant::now();
        xshell::cmd!(
            sh,
            "cargo test --locked -p c1pzo-functional --features multiprocess --tests"
        )
        .env("C1PZOD", exe)
        .quiet()
        .ignore_stdout()
        .run()?;
        suites.push(format!("{exe}={:.2}", started.elapsed().as_secs_f64()));
    }
    xshell::cmd!(
        sh,
        "cargo build --release --locked -p c1pzo --features multiprocess --bins --examples"
    )
    .run()?;
    let out = root.join("target/bench");
    let bench = root.join("target/release/examples/multiprocess_bench");
    let suite_args: Vec<String> = suites
        .iter()
        .flat_map(|s| ["--suite".to_string(), s.clone()])
        .collect();
    xshell::cmd!(sh, "{bench} --out {out} {suite_args...}").run()?;
    eprintln!("written: {}", out.join("multiprocess.{json,md}").display());
    Ok(())
}

fn time_n(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times)
}

fn summary_ms(sorted: &[Duration]) -> serde_json::Value {
    let ms = |d: &Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    let at = |q: f64| ms(&sorted[((sorted.len() - 1) as f64 * q).round() as usize]);
    json!({ "min": at(0.0), "median": at(0.5), "p90": at(0.9), "max": at(1.0), "runs": sorted.len() })
}

/// CPU seconds (user + system) of this process's waited-for children,
/// from /proc/self/stat (cutime, cstime; USER_HZ is 100 on Linux).
fn children_cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(')').context("parsing /proc/self/stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, cutime 16, cstime 17.
    let ticks = |i: usize| -> Result<f64> { Ok(fields[i - 3].parse::<f64>()?) };
    Ok((ticks(16)? + ticks(17)?) / 100.0)
}

fn cold_build(root: &Path, options: &Options) -> Result<serde_json::Value> {
    let tmp = tempfile::tempdir()?;
    let layout = Layout {
        depends: tmp.path().join("depends"),
        base_cache: tmp.path().join("built"),
        ..Layout::for_repository(root, options)
    };
    eprintln!("cold build: MULTIPROCESS=1 into an empty BASE_CACHE (sources already fetched)");
    let engine = Engine::new(layout, options.clone())?;
    engine.download(&QuietReporter)?;
    let cpu_before = children_cpu_seconds()?;
    let start = Instant::now();
    let report = engine.run(&depends::progress::PlainReporter)?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds()? - cpu_before;
    let cores = options.jobs as f64;
    let packages: serde_json::Map<String, serde_json::Value> = report
        .packages
        .iter()
        .map(|p| {
            (
                p.package.clone(),
                json!({ "seconds": p.seconds, "stages": p.stages }),
            )
        })
        .collect();
    Ok(json!({
        "wall_s": wall,
        "cpu_s": cpu,
        "jobs": options.jobs,
        "utilisation": cpu / (wall * cores),
        "packages": packages,
    }))
}

/// Builds native_capnp with an autotools variant of its recipe.
fn autotools_native_capnp(root: &Path, options: &Options) -> Result<f64> {
    let tmp = tempfile::tempdir()?;
    let recipes = tmp.path().join("recipes");
    std::fs::create_dir_all(&recipes)?;
    let cmake = std::fs::read_to_string(root.join("recipes/native_capnp.toml"))?;
    let head = cmake
        .split("[build]")
        .next()
        .context("recipe without [build]")?;
    let text = format!(
        "{head}[build]\nbuilder = \"autotools\"\nconfig_opts = [\"--disable-shared\", \"--without-openssl\", \"--without-zlib\"]\nremove = [\"lib/pkgconfig\"]\n"
    );
    std::fs::write(recipes.join("native_capnp.toml"), text)?;
    let layout = Layout {
        recipes,
        depends: tmp.path().join("depends"),
        base_cache: tmp.path().join("built"),
        ..Layout::for_repository(root, options)
    };
    eprintln!("builder comparison: native_capnp with autotools");
    let engine = Engine::new(layout, options.clone())?;
    let report = engine.run(&depends::progress::PlainReporter)?;
    let package = report
        .packages
        .iter()
        .find(|p| p.package == "native_capnp")
        .context("native_capnp not built")?;
    Ok(package.seconds)
}

/// The floor for the engine's native_capnp build: the same source, options
/// and flags, configured and built by hand with `cmake` and `make -jJOBS`,
/// no engine around it (no sysroot, staging, packing or hashing).
pub(crate) fn bare_cmake_native_capnp(options: &Options) -> Result<f64> {
    let tmp = tempfile::tempdir()?;
    let sources = options
        .sources_path
        .clone()
        .unwrap_or_else(|| depends::engine::default_cache_home().join("sources"));
    let tarball = sources.join("capnproto-cxx-1.1.0.tar.gz");
    let src = tmp.path().join("src");
    depends::archive::extract_source(&tarball, &src)?;
    // The flags the depends build compiles with (the build machine's
    // toolchain file, release), so the two builds do the same work: an
    // unoptimised by-hand build would be a baseline nobody ships.
    let toolchains = depends::toolchain::Toolchains::load(&crate::repo_root().join("toolchains"))?;
    let build = toolchains.lookup(depends::toolchain::build_triple())?;
    let cflags = format!("{} {}", build.flags.cflags, build.release.cflags);
    let cxxflags = format!("{} {}", build.flags.cxxflags, build.release.cxxflags);
    eprintln!(
        "baseline: Cap'n Proto with bare cmake + make -j{} (CXXFLAGS={cxxflags})",
        options.jobs
    );
    let start = Instant::now();
    let configure = Command::new("cmake")
        .args([
            "-S",
            "src",
            "-B",
            "build",
            "-DBUILD_TESTING=OFF",
            "-DWITH_OPENSSL=OFF",
            "-DWITH_ZLIB=OFF",
        ])
        .arg(format!("-DCMAKE_C_FLAGS={cflags}"))
        .arg(format!("-DCMAKE_CXX_FLAGS={cxxflags}"))
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::null())
        .status()?;
    let build = Command::new("make")
        .arg(format!("-j{}", options.jobs))
        .current_dir(tmp.path().join("build"))
        .stdout(std::process::Stdio::null())
        .status()?;
    if !configure.success() || !build.success() {
        bail!("the bare cmake build of capnp failed");
    }
    Ok(start.elapsed().as_secs_f64())
}

fn render(f: &serde_json::Value) -> String {
    let mut md = String::from("# cargo xtask bench depends\n\n");
    let noop = &f["noop"];
    md.push_str(&format!(
        "No-op `MULTIPROCESS=1` run (everything cached, prefix current), {} runs:\n\n\
         | what | min | median | p90 |\n|---|---|---|---|\n\
         | engine in-process | {} ms | {} ms | {} ms |\n\
         | whole `xtask depends` process | {} ms | {} ms | {} ms |\n\
         | upstream `make -C depends` (measured.md) | 730 ms | 770 ms | 800 ms |\n\n",
        noop["engine_in_process_ms"]["runs"],
        noop["engine_in_process_ms"]["min"],
        noop["engine_in_process_ms"]["median"],
        noop["engine_in_process_ms"]["p90"],
        noop["whole_process_ms"]["min"],
        noop["whole_process_ms"]["median"],
        noop["whole_process_ms"]["p90"],
    ));
    if let Some(cold) = f.get("cold") {
        md.push_str(&format!(
            "Cold `MULTIPROCESS=1` build (native_capnp + capnp, JOBS={}): {:.1} s wall, {:.1} s CPU, utilisation {:.0}% (upstream: {} s wall, make -j2, serial packages).\n\n",
            cold["jobs"],
            cold["wall_s"].as_f64().unwrap_or(0.0),
            cold["cpu_s"].as_f64().unwrap_or(0.0),
            cold["utilisation"].as_f64().unwrap_or(0.0) * 100.0,
            cold["upstream_make_cold_s"],
        ));
        if let Some(packages) = cold["packages"].as_object() {
            md.push_str("| package | seconds | stages |\n|---|---|---|\n");
            for (name, p) in packages {
                let stages: Vec<String> = p["stages"]
                    .as_array()
                    .map(|s| {
                        s.iter()
                            .map(|st| {
                                format!(
                                    "{} {:.1}",
                                    st[0].as_str().unwrap_or(""),
                                    st[1].as_f64().unwrap_or(0.0)
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                md.push_str(&format!(
                    "| {name} | {:.1} | {} |\n",
                    p["seconds"].as_f64().unwrap_or(0.0),
                    stages.join(", ")
                ));
            }
            md.push('\n');
        }
        let b = &f["builders"];
        md.push_str(&format!(
            "native_capnp: engine with the cmake recipe {:.1} s; engine with an autotools recipe {:.1} s; \
             bare `cmake` + `make -jJOBS` of the same source and flags, no engine (the floor) {:.1} s.\n",
            b["native_capnp_cmake_s"].as_f64().unwrap_or(0.0),
            b["native_capnp_autotools_s"].as_f64().unwrap_or(0.0),
            b["native_capnp_bare_cmake_make_s"].as_f64().unwrap_or(0.0),
        ));
    }
    md
}
