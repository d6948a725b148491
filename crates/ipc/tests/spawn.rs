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
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Invalid -ipcfd number 'x' (invalid digit found in string)"));
    let out = Command::new(EXE)
        .args(["-ipcfd", "3", "-regtest"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid in combination"));
}

mod with_a_child {
    use std::time::{Duration, Instant};

    /// Waits up to `limit` for the child to exit.
    fn exited_within(child: &mut std::process::Child, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn the_child_exits_when_its_parent_hangs_up() {
        let mut spawned = ipc::process::spawn(std::path::Path::new(super::EXE)).unwrap();
        drop(spawned.stream);
        let exited = exited_within(&mut spawned.child, Duration::from_secs(5));
        if !exited {
            let _ = spawned.child.kill();
        }
        assert!(exited, "the child must leave when the socket closes");
        assert!(spawned.child.wait().unwrap().success());
    }

    #[test]
    fn a_call_to_a_killed_child_fails_at_once_and_the_parent_carries_on() {
        let mut spawned = ipc::process::spawn(std::path::Path::new(super::EXE)).unwrap();
        let stream = spawned.stream.try_clone().unwrap();
        stream.set_nonblocking(true).unwrap();
        let (runtime, local) = ipc::serve::event_loop().unwrap();
        let child = &mut spawned.child;
        local.block_on(&runtime, async move {
            let stream = tokio::net::UnixStream::from_std(stream).unwrap();
            let (init, system) = ipc::connect::client_vat(stream);
            tokio::task::spawn_local(system);
            init.construct_request().send().promise.await.unwrap();

            child.kill().unwrap();
            child.wait().unwrap();
            let started = Instant::now();
            let call = init.construct_request().send().promise;
            let result = tokio::time::timeout(Duration::from_secs(5), call)
                .await
                .expect("a call to a dead peer must fail, not hang");
            let err = match result {
                Ok(_) => panic!("the child is dead"),
                Err(err) => err,
            };
            assert_eq!(err.kind, capnp::ErrorKind::Disconnected, "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{:?}",
                started.elapsed()
            );
        });
    }
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
