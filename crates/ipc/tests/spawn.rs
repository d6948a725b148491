//! Real processes: the example binary spawns itself over a socket pair.

use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_c1pzo-echo");

#[test]
fn a_spawned_child_echoes_and_exits_with_its_parent() {
    let out = Command::new(EXE)
        .args(["-debug=ipc", "hello over a socket pair"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over a socket pair\n"
    );
    // libmultiprocess's client lines, tagged with the calling thread.
    let pid = out_pid(&stderr);
    let tag = format!("{{c1pzo-echo-{pid}/c1pzo-echo-");
    assert!(stderr.contains(&tag), "{stderr}");
    assert!(
        stderr.contains("} IPC client send Echo.echo$Params"),
        "{stderr}"
    );
    assert!(
        stderr.contains("} IPC client recv Echo.echo$Results"),
        "{stderr}"
    );
    assert!(stderr.contains("} Process c1pzo-echo pid "), "{stderr}");
    assert!(stderr.contains(" launched"), "{stderr}");
    assert!(stderr.contains("exited with status 0"), "{stderr}");
}

/// The parent's pid, from its first log line's tag.
fn out_pid(stderr: &str) -> u32 {
    let start = stderr.find("{c1pzo-echo-").expect("a tagged line") + "{c1pzo-echo-".len();
    let end = start + stderr[start..].find('/').unwrap();
    stderr[start..end].parse().unwrap()
}

#[test]
fn ipcfd_with_other_arguments_or_a_bad_number_is_refused() {
    let out = Command::new(EXE).args(["-ipcfd", "x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Invalid -ipcfd number 'x' (invalid digit found in string)"));
    let out = Command::new(EXE)
        .args(["-ipcfd", "3", "-regtest"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid in combination"));
}

#[test]
fn a_missing_executable_is_a_spawn_error() {
    let err = match ipc::process::spawn(std::path::Path::new("/nonexistent/c1pzo-nothing")) {
        Ok(_) => panic!("spawning a missing file must fail"),
        Err(err) => err.to_string(),
    };
    assert!(
        err.starts_with("cannot spawn /nonexistent/c1pzo-nothing"),
        "{err}"
    );
}
