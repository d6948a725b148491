//! Real processes: the example binary spawns itself over a socket pair.

use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_c1pzo-echo");

#[test]
fn a_spawned_child_echoes_and_exits_with_its_parent() {
    let out = Command::new(EXE)
        .arg("hello over a socket pair")
        .env("C1PZO_IPC_DEBUG", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over a socket pair\n"
    );
    assert!(stderr.contains("Process c1pzo-echo pid "), "{stderr}");
    assert!(stderr.contains("exited with status 0"), "{stderr}");
}

#[test]
fn ipcfd_with_other_arguments_or_a_bad_number_is_refused() {
    let out = Command::new(EXE).args(["-ipcfd", "x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Invalid -ipcfd number 'x'"));
    let out = Command::new(EXE)
        .args(["-ipcfd", "3", "-regtest"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid in combination"));
}
