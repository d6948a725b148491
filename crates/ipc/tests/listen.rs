//! `-ipcbind=unix`-style listening: several peers on one event loop, and a
//! peer sending garbage loses only its own connection.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use ipc::proxy_capnp::thread_map;

/// Connects to `path` and returns what the server's Echo says to `message`.
fn echo_via(path: &std::path::Path, message: &str) -> String {
    let stream = UnixStream::connect(path).unwrap();
    stream.set_nonblocking(true).unwrap();
    let (runtime, local) = ipc::serve::event_loop().unwrap();
    let message = message.to_string();
    local.block_on(&runtime, async move {
        let stream = tokio::net::UnixStream::from_std(stream).unwrap();
        let (init, system) = ipc::connect::client_vat(stream);
        let disconnector = system.get_disconnector();
        tokio::task::spawn_local(system);
        let constructed = init.construct_request().send().promise.await.unwrap();
        let map: thread_map::Client = constructed.get().unwrap().get_thread_map().unwrap();
        let mut pool = map.make_pool_request();
        pool.get().set_count(1);
        pool.send().promise.await.unwrap();
        let made = init.make_echo_request().send().promise.await.unwrap();
        let echo = made.get().unwrap().get_result().unwrap();
        let mut request = echo.echo_request();
        request.get().set_echo(message.as_str());
        let reply = request.send().promise.await.unwrap();
        let text = reply
            .get()
            .unwrap()
            .get_result()
            .unwrap()
            .to_string()
            .unwrap();
        disconnector.await.unwrap();
        text
    })
}

#[test]
fn garbage_on_one_connection_does_not_disturb_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regtest/node.sock");
    let listener = ipc::listen::bind_unix(&path).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        ipc::serve::listen_blocking(listener, async {
            let _ = stopped.await;
        })
    });

    // A peer that keeps its connection open while others come and go.
    let mut idle = UnixStream::connect(&path).unwrap();
    assert_eq!(echo_via(&path, "first"), "first");

    // Not a Cap'n Proto message: a segment table claiming 2^32 segments.
    let mut bad = UnixStream::connect(&path).unwrap();
    bad.write_all(&[0xff; 64]).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may say why (an RPC abort) before it hangs up; either way
    // the connection must end, not wait for more.
    let mut answer = Vec::new();
    match bad.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("the server must drop a garbage connection, got {err}"),
    }

    assert_eq!(echo_via(&path, "still serving"), "still serving");
    idle.write_all(&[]).unwrap();
    drop(idle);
    stop.send(()).unwrap();
    server.join().unwrap().unwrap();
}
