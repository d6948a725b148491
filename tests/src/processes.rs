//! The processes a test's node starts, looked at from outside through
//! Linux's `/proc`: which wallet processes it has, whether one is alive,
//! which files it holds open, and killing one with no chance to clean up.
//!
//! Pids here are always this machine's. Windows executables run under
//! wine are Linux processes too, but wine starts a child through a double
//! fork, so its parent is not the node; what ties the two together is the
//! process group, which [`TestNode`] makes the node's own.

use std::path::Path;

use crate::exe::{exe_suffix, windows_executables};
use crate::TestNode;

/// The wallet processes `node` started: the processes in the node's
/// process group whose executable is `c1pzo-wallet`.
pub fn wallet_processes(node: &TestNode) -> Vec<u32> {
    assert!(node.pid().is_some(), "the node is running");
    wallet_processes_in(node)
}

/// The one wallet process `node` started, or a panic that says what ran.
pub fn the_wallet_process(node: &TestNode) -> u32 {
    let pids = wallet_processes(node);
    assert_eq!(
        pids.len(),
        1,
        "one wallet process in the node's process group {:?}, not {pids:?}\n{}",
        node.group(),
        node.log_tail()
    );
    pids[0]
}

/// [`wallet_processes`], also after the node has exited.
pub fn wallet_processes_in(node: &TestNode) -> Vec<u32> {
    let Some(group) = node.group() else {
        return Vec::new();
    };
    in_group_running(group, &format!("c1pzo-wallet{}", exe_suffix()))
}

/// The pids (zombies left out) in process group `group` running the
/// executable `file_name`: by its kernel name (cut to 15 bytes), or by an
/// argument that names it. Natively the first argument is the path; wine
/// shows a Windows process's whole command line there, as Windows writes
/// it (`Z:\...\c1pzo-wallet.exe -ipcfd 148`, the program perhaps quoted),
/// so the name may end at a space or a quote.
pub fn in_group_running(group: u32, file_name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Some(stat) = Stat::read(pid) else {
            continue;
        };
        if stat.group != group || stat.state == 'Z' {
            continue;
        }
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        // qemu-user through binfmt_misc puts its own path and options
        // before the program's; its comm is the program's, though (wine's
        // comm may be the main thread's name instead).
        let names_it = stat.comm == file_name[..file_name.len().min(15)]
            || cmdline
                .split(|&b| b == 0)
                .take(4)
                .any(|arg| names_program(&String::from_utf8_lossy(arg), file_name));
        if names_it {
            found.push(pid);
        }
    }
    found
}

/// Whether `first_arg` starts a program called `file_name`: the name
/// after a path separator (or a quote, or nothing), before a space, a quote
/// or the end.
fn names_program(first_arg: &str, file_name: &str) -> bool {
    first_arg.match_indices(file_name).any(|(at, _)| {
        let before = first_arg[..at].chars().next_back();
        let after = first_arg[at + file_name.len()..].chars().next();
        matches!(before, None | Some('/' | '\\' | '"')) && matches!(after, None | Some(' ' | '"'))
    })
}

/// Whether `pid` runs (a zombie, reaped by no one yet, counts as gone).
pub fn alive(pid: u32) -> bool {
    Stat::read(pid).is_some_and(|stat| stat.state != 'Z')
}

/// What `pid` is doing, for a failure message: each thread's name, state
/// and kernel wait channel, and what its descriptors point at.
pub fn describe(pid: u32) -> String {
    let mut text = format!("process {pid}:");
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    for task in tasks.flatten() {
        let path = task.path();
        let read = |name: &str| std::fs::read_to_string(path.join(name)).unwrap_or_default();
        let state = read("stat");
        let state = state.rsplit_once(") ").map_or("", |(_, rest)| &rest[..1]);
        text.push_str(&format!(
            "\n  thread {} ({}) {state} in {}",
            task.file_name().to_string_lossy(),
            read("comm").trim(),
            read("wchan")
        ));
    }
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten();
    for fd in fds.flatten() {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            text.push_str(&format!(
                "\n  fd {} -> {}",
                fd.file_name().to_string_lossy(),
                target.display()
            ));
        }
    }
    text
}

/// Whether process `pid` has `file` open.
pub fn holds_open(pid: u32, file: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|target| target == file)
}

/// Sends `signal` to `pid`, a process this test started or its node did.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) takes any pid and signal; the worst is an error.
    unsafe { libc::kill(pid as i32, signal) };
}

/// Sends `signal` to every process in process group `group`.
pub fn signal_group(group: u32, signal: i32) {
    // 0 and 1 would mean this process's own group and every process.
    assert!(group > 1, "no process group {group}");
    // SAFETY: kill(2) with a negative pid signals that group; the worst is
    // an error (no such group once everything in it has exited).
    unsafe { libc::kill(-(group as i32), signal) };
}

/// Kills the wallet process `node` started, with no chance to clean up:
/// SIGKILL, or for Windows executables `TerminateProcess`, through wine's
/// `taskkill /F`, by the Windows pid the node logged. Returns its pid.
pub fn kill_wallet_process(node: &TestNode) -> u32 {
    let pid = the_wallet_process(node);
    if !windows_executables() {
        signal(pid, libc::SIGKILL);
        return pid;
    }
    let windows_pid = logged_wallet_pid(node);
    let status = std::process::Command::new("wine")
        .args(["taskkill", "/F", "/PID", &windows_pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("wine runs taskkill");
    assert!(status.success(), "taskkill /F /PID {windows_pid}: {status}");
    pid
}

/// The pid the node logged for the wallet process it started last
/// (`Wallet process c1pzo-wallet pid <pid> started`): the Linux pid
/// natively, the Windows one under wine.
pub fn logged_wallet_pid(node: &TestNode) -> u32 {
    node.debug_log()
        .lines()
        .rev()
        .find_map(|line| {
            let rest = line.split("Wallet process c1pzo-wallet pid ").nth(1)?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("the node logged no wallet process\n{}", node.log_tail()))
}

/// The fields of `/proc/<pid>/stat` the tests use.
struct Stat {
    comm: String,
    state: char,
    group: u32,
}

impl Stat {
    fn read(pid: u32) -> Option<Stat> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid pgrp ...: comm may hold anything, so
        // split after its last parenthesis.
        let (head, rest) = stat.rsplit_once(") ")?;
        let comm = head.split_once('(')?.1.to_string();
        let mut fields = rest.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let group = fields.nth(1)?.parse().ok()?;
        Some(Stat { comm, state, group })
    }
}

#[cfg(test)]
mod tests {
    use super::names_program;

    #[test]
    fn a_program_is_named_by_its_last_path_component_in_either_form() {
        let name = "c1pzo-wallet.exe";
        for first in [
            "/a b/c1pzo-wallet.exe",
            "Z:\\a b\\c1pzo-wallet.exe -ipcfd 148",
            "\"Z:\\a b\\c1pzo-wallet.exe\" -ipcfd 148",
            "c1pzo-wallet.exe",
        ] {
            assert!(names_program(first, name), "{first}");
        }
        for first in [
            "/a/c1pzo-wallet.exe.old",
            "/a/my-c1pzo-wallet.exe",
            "/a/c1pzo-node.exe",
        ] {
            assert!(!names_program(first, name), "{first}");
        }
    }
}
