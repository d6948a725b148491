//! `cargo xtask hermetic <scratch>`: the `hermetic` CI cell. Two clones of
//! this repository run the README's test command at the same time, beside a
//! node that a user might have running: `c1pzod -regtest` on the default
//! ports with its own data directory. Both runs must pass, and the user's
//! node must come out untouched (still running, its chain unchanged).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

#[derive(clap::Args, Debug)]
pub struct HermeticArgs {
    /// A folder outside the clone for the two clones and the user's node.
    pub scratch: PathBuf,
}

/// Regtest's default RPC and P2P ports.
const DEFAULT_PORTS: [u16; 2] = [18443, 18444];

pub fn run(args: HermeticArgs) -> Result<()> {
    let root = crate::repo_root();
    let scratch = &args.scratch;
    std::fs::create_dir_all(scratch).with_context(|| format!("creating {}", scratch.display()))?;
    eprintln!("== the user's node: c1pzod -regtest on the default ports ==");
    run_ok(
        Command::new("cargo")
            .args(["xtask", "build", "MULTIPROCESS=1"])
            .current_dir(&root),
    )?;
    let c1pzod = root.join("target/x86_64-unknown-linux-gnu/debug/c1pzod");
    let user_dir = scratch.join("users-node");
    std::fs::create_dir_all(&user_dir)?;
    let mut user_node = UserNode::start(&c1pzod, &user_dir)?;

    let mut runs = Vec::new();
    for name in ["a", "b"] {
        let clone = scratch.join(format!("clone-{name}"));
        eprintln!("== clone {name}: {} ==", clone.display());
        run_ok(
            Command::new("git")
                .args(["clone", "--quiet"])
                .arg(&root)
                .arg(&clone),
        )?;
        // The crates.io dependencies compiled once already: seed each
        // clone's target folder so only the workspace rebuilds.
        seed_target(&root.join("target"), &clone.join("target"))?;
        runs.push((name, clone));
    }
    let started = Instant::now();
    let mut children: Vec<(&str, PathBuf, Child)> = Vec::new();
    for (name, clone) in &runs {
        let log = scratch.join(format!("clone-{name}.log"));
        let file = std::fs::File::create(&log)?;
        let child = Command::new(clone.join(".ci/run"))
            .current_dir(clone)
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {}/.ci/run", clone.display()))?;
        eprintln!(
            "started the test run in clone {name}, logging to {}",
            log.display()
        );
        children.push((name, log, child));
    }
    let mut failed = Vec::new();
    for (name, log, mut child) in children {
        let status = child.wait()?;
        let summary = last_lines(&log, 3);
        eprintln!(
            "clone {name}: {status} after {:.0} s\n{summary}",
            started.elapsed().as_secs_f64()
        );
        if !status.success() {
            eprintln!(
                "--- clone {name}'s log tail ({}) ---\n{}",
                log.display(),
                last_lines(&log, 60)
            );
            failed.push(name);
        }
    }
    user_node.check_untouched()?;
    if !failed.is_empty() {
        bail!(
            "the test runs in clone(s) {} failed beside each other",
            failed.join(", ")
        );
    }
    eprintln!("hermetic: both runs passed at once, and the node on the default ports is untouched");
    Ok(())
}

fn run_ok(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

/// Copies the build machine's own output folders (xtask's and the
/// native target's), not the cross builds or benchmarks beside them.
fn seed_target(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for sub in ["debug", "x86_64-unknown-linux-gnu"] {
        let source = from.join(sub);
        if source.exists() {
            run_ok(Command::new("cp").arg("-a").arg(&source).arg(to.join(sub)))?;
        }
    }
    Ok(())
}

fn last_lines(path: &Path, count: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// A node as a user runs it: default ports, its own data directory.
struct UserNode {
    child: Child,
    datadir: PathBuf,
    exe: PathBuf,
}

impl UserNode {
    fn start(exe: &Path, datadir: &Path) -> Result<UserNode> {
        for port in DEFAULT_PORTS {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                bail!("something already listens on 127.0.0.1:{port}; the hermetic cell needs the default regtest ports for its own node");
            }
        }
        let child = Command::new(exe)
            .args(["-regtest", "-printtoconsole=0"])
            .arg(format!("-datadir={}", datadir.display()))
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let node = UserNode {
            child,
            datadir: datadir.to_path_buf(),
            exe: exe.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while node.cli(&["getblockcount"]).is_err() {
            if Instant::now() > deadline {
                bail!("the user's node did not answer on the default RPC port within 60 s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        for port in DEFAULT_PORTS {
            if TcpStream::connect(("127.0.0.1", port)).is_err() {
                bail!("the user's node does not listen on 127.0.0.1:{port}");
            }
        }
        // A chain of its own, so a test that reached it would show.
        node.cli(&[
            "generatetoaddress",
            "3",
            "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85",
        ])?;
        Ok(node)
    }

    fn cli(&self, args: &[&str]) -> Result<String> {
        let output = Command::new(self.exe.with_file_name("c1pzo-cli"))
            .args(["-regtest"])
            .arg(format!("-datadir={}", self.datadir.display()))
            .args(args)
            .output()?;
        if !output.status.success() {
            bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    fn check_untouched(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the user's node on the default ports exited during the test runs ({status})");
        }
        let height = self.cli(&["getblockcount"])?;
        if height != "3" {
            bail!(
                "the user's node's chain changed during the test runs: height {height}, expected 3"
            );
        }
        let peers = self.cli(&["getconnectioncount"])?;
        if peers != "0" {
            bail!("a test connected to the user's node: getconnectioncount = {peers}");
        }
        Ok(())
    }
}

impl Drop for UserNode {
    fn drop(&mut self) {
        let _ = self.cli(&["stop"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
