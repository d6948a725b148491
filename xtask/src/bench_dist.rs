//! `cargo xtask bench dist`: what a release costs, per host. `dist` from
//! an empty target folder and again warm (nothing changed: what is left is
//! staging, the policy checks, archiving and the records), the sizes of
//! the archive and of its `-debug` twin; and, without `--quick`, the two
//! builds of `--check-reproducible` and the share the second one (one
//! job, an empty depends cache, offline) takes. The smoke test is left
//! out of the timed runs: it measures the suite, not the release.

use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::dist::{self, DistArgs};

/// Every host `dist` releases for.
const HOSTS: [&str; 3] = [
    "x86_64-pc-linux-gnu",
    "aarch64-linux-gnu",
    "x86_64-w64-mingw32",
];

pub fn run(hosts: &[String], quick: bool) -> Result<()> {
    let root = crate::repo_root();
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let hosts: Vec<String> = if hosts.is_empty() {
        HOSTS.iter().map(|h| h.to_string()).collect()
    } else {
        hosts.to_vec()
    };
    let scratch = tempfile::Builder::new()
        .prefix("c1pzo-bench-dist-")
        .tempdir()
        .context("creating the scratch folder")?;
    let mut figures = serde_json::Map::new();
    for host in &hosts {
        let args = DistArgs {
            words: vec![format!("HOST={host}")],
            // Sizes and times do not depend on the tree being committed.
            allow_dirty: true,
            out: Some(scratch.path().join(host)),
            check_reproducible: false,
            offline: false,
            no_smoke: true,
            root: None,
        };
        let release_target = root.join("target").join("dist");
        eprintln!("== {host}: dist from an empty target folder ==");
        if release_target.exists() {
            std::fs::remove_dir_all(&release_target)
                .with_context(|| format!("removing {}", release_target.display()))?;
        }
        let started = Instant::now();
        dist::make(&root, &args)?;
        let cold = started.elapsed().as_secs_f64();
        eprintln!("== {host}: dist again, warm ==");
        let started = Instant::now();
        let release = dist::make(&root, &args)?;
        let warm = started.elapsed().as_secs_f64();
        let size = |name: &str| std::fs::metadata(release.dir.join(name)).map_or(0, |m| m.len());
        let mut host_figures = json!({
            "cold_s": cold,
            "warm_s": warm,
            "archive_bytes": size(&release.files[0]),
            "debug_archive_bytes": size(&release.files[1]),
            "archive": release.files[0],
        });
        if !quick {
            eprintln!("== {host}: --check-reproducible ==");
            let timings = dist::reproduce::run(
                &root,
                &DistArgs {
                    check_reproducible: true,
                    out: None,
                    allow_dirty: false,
                    ..args
                },
            )?;
            host_figures["reproducible"] = json!({
                "first_s": timings.first,
                "second_s": timings.second,
                "second_share": timings.second / (timings.first + timings.second),
            });
        }
        figures.insert(host.clone(), host_figures);
    }
    let figures = json!({
        "machine": { "cores": std::thread::available_parallelism().map_or(1, |n| n.get()) },
        "hosts": figures,
    });
    crate::bench::write_figures(&out_dir, "dist", &figures, &render(&figures))
}

fn render(figures: &Value) -> String {
    let mut text = String::from(
        "# cargo xtask bench dist\n\n\
         | host | dist cold (s) | dist warm (s) | archive (MB) | debug archive (MB) | reproducible: 1st / 2nd build (s) | 2nd's share |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mb = |v: &Value| v.as_f64().unwrap_or(0.0) / 1e6;
    if let Some(hosts) = figures["hosts"].as_object() {
        for (host, f) in hosts {
            let reproducible = &f["reproducible"];
            let (builds, share) = if reproducible.is_null() {
                ("(--quick)".to_string(), "".to_string())
            } else {
                (
                    format!(
                        "{:.0} / {:.0}",
                        reproducible["first_s"].as_f64().unwrap_or(0.0),
                        reproducible["second_s"].as_f64().unwrap_or(0.0)
                    ),
                    format!(
                        "{:.0} %",
                        100.0 * reproducible["second_share"].as_f64().unwrap_or(0.0)
                    ),
                )
            };
            text.push_str(&format!(
                "| {host} | {:.0} | {:.1} | {:.1} | {:.1} | {builds} | {share} |\n",
                f["cold_s"].as_f64().unwrap_or(0.0),
                f["warm_s"].as_f64().unwrap_or(0.0),
                mb(&f["archive_bytes"]),
                mb(&f["debug_archive_bytes"]),
            ));
        }
    }
    text
}
