//! The runtime across real processes: blocking calls from several threads,
//! callbacks from server to client during a call, typed server errors,
//! object lifetimes, and a peer killed mid-call. The peer is
//! `c1pzo-ipc-test`, serving the test interface over `-ipcfd`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipc::event_loop::LoopHandle;
use ipc::listen::Stream;
use ipc::process::Spawned;
use ipc::testing::{TestInitClient, TesterClient};
use ipc::IpcError;

const PEER: &str = env!("CARGO_BIN_EXE_c1pzo-ipc-test");

struct Peer {
    init: TestInitClient,
    spawned: Spawned,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.spawned.child.kill();
        let _ = self.spawned.child.wait();
    }
}

fn spawn_peer(handle: &LoopHandle) -> Peer {
    let spawned = ipc::process::spawn(Path::new(PEER)).unwrap();
    let stream = spawned.stream.try_clone().unwrap();
    let init = TestInitClient::connect(handle, Stream::from(stream)).unwrap();
    Peer { init, spawned }
}

/// Polls `f` until it holds or `limit` passes; capability releases travel
/// as messages, so their effect is seen a moment later.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn concurrent_callers_each_get_their_own_server_thread_in_order() {
    let handle = LoopHandle::start().unwrap();
    let peer = spawn_peer(&handle);
    let tester = Arc::new(peer.init.make_tester().unwrap());
    let threads: Vec<_> = (0..6i64)
        .map(|t| {
            let tester = tester.clone();
            std::thread::Builder::new()
                .name(format!("caller{t}"))
                .spawn(move || {
                    let first = tester.thread_name().unwrap();
                    for i in 0..50 {
                        assert_eq!(tester.add(t * 1000, i).unwrap(), t * 1000 + i);
                    }
                    // Same client thread, same server thread, every time.
                    assert_eq!(tester.thread_name().unwrap(), first);
                    first
                })
                .unwrap()
        })
        .collect();
    let names: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (t, name) in names.iter().enumerate() {
        // `<exe>-<pid>/<tid> (from <client exe>-<pid>/caller<t>-<tid>)`.
        assert!(name.starts_with("c1pzo-ipc-test-"), "{name}");
        assert!(name.contains(&format!("/caller{t}-")), "{name}");
    }
    let mut distinct = names.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), names.len(), "{names:?}");
}

#[test]
fn a_callback_during_a_call_runs_on_the_calling_thread() {
    let handle = LoopHandle::start().unwrap();
    let peer = spawn_peer(&handle);
    let tester = peer.init.make_tester().unwrap();
    let me = std::thread::current().id();
    let ran_on = Arc::new(std::sync::Mutex::new(None));
    let seen = ran_on.clone();
    let answer = tester
        .call_back(41, move |value| {
            *seen.lock().unwrap() = Some(std::thread::current().id());
            value * 2
        })
        .unwrap();
    assert_eq!(
        answer, 83,
        "the server adds one to what the callback returns"
    );
    assert_eq!(*ran_on.lock().unwrap(), Some(me));
    // A second thread gets its callbacks too, on itself.
    let other = std::thread::spawn(move || {
        let id = std::thread::current().id();
        tester
            .call_back(1, move |v| {
                assert_eq!(std::thread::current().id(), id);
                v + 10
            })
            .unwrap()
    });
    assert_eq!(other.join().unwrap(), 12);
}

#[test]
fn a_server_error_reaches_the_client_with_its_message() {
    let handle = LoopHandle::start().unwrap();
    let peer = spawn_peer(&handle);
    let tester = peer.init.make_tester().unwrap();
    let err = tester.fail("wallet is locked").unwrap_err();
    assert_eq!(err, IpcError::Remote("wallet is locked".into()));
    // The connection is fine afterwards.
    assert_eq!(tester.add(2, 2).unwrap(), 4);
}

#[test]
fn destroying_or_releasing_a_proxy_drops_the_server_object() {
    let handle = LoopHandle::start().unwrap();
    let peer = spawn_peer(&handle);
    let live = || peer.init.live_testers().unwrap();
    let first = peer.init.make_tester().unwrap();
    let second = peer.init.make_tester().unwrap();
    assert_eq!(live(), 2);
    first.destroy().unwrap();
    assert!(eventually(Duration::from_secs(5), || live() == 1));
    drop(second);
    assert!(eventually(Duration::from_secs(5), || live() == 0));
}

#[test]
fn disconnecting_drops_every_server_object_on_the_connection() {
    // In-process server on a socket pair, so its objects can be counted
    // after the connection is gone.
    let (ours, theirs) = ipc::runtime::platform::socket_pair().unwrap();
    let server = std::thread::spawn(move || {
        ipc::serve::serve_parent_with(theirs, ipc::testing::test_bootstrap)
    });
    let handle = LoopHandle::start().unwrap();
    let init = TestInitClient::connect(&handle, Stream::from(ours)).unwrap();
    let testers: Vec<TesterClient> = (0..3).map(|_| init.make_tester().unwrap()).collect();
    assert_eq!(ipc::testing::live_testers(), 3);
    drop(init);
    drop(testers);
    // The server's loop ends when the connection does, objects and all.
    server.join().unwrap().unwrap();
    assert_eq!(ipc::testing::live_testers(), 0);
}

#[test]
fn kill_9_during_a_call_fails_it_quickly_and_the_parent_carries_on() {
    let handle = LoopHandle::start().unwrap();
    let mut peer = spawn_peer(&handle);
    let tester = Arc::new(peer.init.make_tester().unwrap());
    let blocked = {
        let tester = tester.clone();
        std::thread::spawn(move || {
            let result = tester.sleep(30_000);
            (result, Instant::now())
        })
    };
    // Let the call reach the server thread, then kill the peer outright.
    std::thread::sleep(Duration::from_millis(300));
    peer.spawned.child.kill().unwrap();
    let killed = Instant::now();
    peer.spawned.child.wait().unwrap();
    let (result, failed_at) = blocked.join().unwrap();
    assert_eq!(result, Err(IpcError::Interrupted));
    let after = failed_at.saturating_duration_since(killed);
    assert!(
        after < Duration::from_secs(1),
        "failed {after:?} after the kill"
    );
    // Later calls fail at once with the "after disconnect" error.
    assert!(eventually(Duration::from_secs(5), || tester.add(1, 1)
        == Err(IpcError::Disconnected)));
    // And this process still works: a new peer answers.
    let again = spawn_peer(&handle);
    assert_eq!(again.init.make_tester().unwrap().add(20, 22).unwrap(), 42);
}

#[test]
fn the_child_exits_when_its_parent_hangs_up() {
    let handle = LoopHandle::start().unwrap();
    let Spawned { mut child, stream } = ipc::process::spawn(Path::new(PEER)).unwrap();
    let init = TestInitClient::connect(&handle, Stream::from(stream.try_clone().unwrap())).unwrap();
    assert_eq!(init.make_tester().unwrap().add(1, 2).unwrap(), 3);
    drop(init);
    drop(stream);
    let exited = eventually(Duration::from_secs(5), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    assert!(exited, "the child must leave when the socket closes");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_plain_call_without_context_is_answered_on_the_peers_loop() {
    let handle = LoopHandle::start().unwrap();
    let peer = spawn_peer(&handle);
    let tester = peer.init.make_tester().unwrap();
    assert_eq!(tester.plain_echo("plain").unwrap(), "plain");
}

#[test]
#[cfg(target_os = "linux")] // counts the peer's threads in /proc
fn threads_that_exit_have_their_peer_threads_released() {
    let handle = LoopHandle::start().unwrap();
    let peer = spawn_peer(&handle);
    let tester = Arc::new(peer.init.make_tester().unwrap());
    let task_count = || {
        std::fs::read_dir(format!("/proc/{}/task", peer.spawned.child.id()))
            .unwrap()
            .count()
    };
    tester.add(0, 0).unwrap();
    let before = task_count();
    // Eight callers alive at once: eight server threads.
    let called = Arc::new(std::sync::Barrier::new(9));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (tester, called) = (tester.clone(), called.clone());
            std::thread::spawn(move || {
                tester.add(1, 1).unwrap();
                called.wait();
            })
        })
        .collect();
    called.wait();
    assert_eq!(task_count(), before + 8, "one server thread per caller");
    for caller in callers {
        caller.join().unwrap();
    }
    // The next new caller prunes the exited ones; their server threads end.
    let tester2 = tester.clone();
    std::thread::spawn(move || tester2.add(1, 1).unwrap())
        .join()
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || task_count() <= before + 1),
        "{} threads left, {before} before",
        task_count()
    );
}
