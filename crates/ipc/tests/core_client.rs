//! The proof of wire compatibility: a client built from Bitcoin Core's
//! schemas by a third party (`bitcoin-capnp-types`, its own capnp and
//! capnp-rpc) drives our `Init` over a socket pair the way Core's clients do.

use std::future::Future;

use bitcoin_capnp_types as core;
use core::capnp_rpc::rpc_twoparty_capnp::Side;
use core::capnp_rpc::twoparty::VatNetwork;
use core::capnp_rpc::RpcSystem;
use core::init_capnp::init;
use core::proxy_capnp::{thread, thread_map};
use futures::io::{BufReader, BufWriter};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

/// Serves our Init on one end of a socket pair (on its own thread, as a
/// separate process would) and runs `f` with Core's client on the other.
fn with_core_client<F, Fut>(f: F)
where
    F: FnOnce(init::Client) -> Fut,
    Fut: Future<Output = ()>,
{
    let (ours, theirs) = ipc::runtime::platform::socket_pair().unwrap();
    let server = std::thread::spawn(move || ipc::serve::serve_parent(ours));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let stream = ipc::runtime::platform::tokio_pair_stream(theirs).unwrap();
        let (reader, writer) = stream.into_split();
        let network = VatNetwork::new(
            BufReader::new(reader.compat()),
            BufWriter::new(writer.compat_write()),
            Side::Client,
            Default::default(),
        );
        let mut system = RpcSystem::new(Box::new(network), None);
        let init: init::Client = system.bootstrap(Side::Server);
        let disconnector = system.get_disconnector();
        tokio::task::spawn_local(system);
        f(init).await;
        disconnector.await.unwrap();
    });
    // The server's loop ends once we hang up.
    server.join().unwrap().unwrap();
}

async fn make_thread(init: &init::Client, name: &str) -> thread::Client {
    let constructed = init.construct_request().send().promise.await.unwrap();
    let map: thread_map::Client = constructed.get().unwrap().get_thread_map().unwrap();
    let mut request = map.make_thread_request();
    request.get().set_name(name);
    let made = request.send().promise.await.unwrap();
    made.get().unwrap().get_result().unwrap()
}

/// The server names the threads it makes libmultiprocess's way:
/// `<exe>-<pid>/<tid> (from <client's name>)`, in this (test) process.
async fn assert_server_thread_for(thread: &thread::Client, client: &str) {
    let name = thread.get_name_request().send().promise.await.unwrap();
    let name = name
        .get()
        .unwrap()
        .get_result()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(name.ends_with(&format!(" (from {client})")), "{name}");
    assert!(
        name.contains(&format!("-{}/", std::process::id())),
        "{name}"
    );
}

#[test]
fn echo_on_an_explicit_thread() {
    with_core_client(|init| async move {
        let thread = make_thread(&init, "core-client").await;
        assert_server_thread_for(&thread, "core-client").await;

        let mut make_echo = init.make_echo_request();
        make_echo.get().init_context().set_thread(thread.clone());
        let made = make_echo.send().promise.await.unwrap();
        let echo = made.get().unwrap().get_result().unwrap();

        // Several calls in flight on one thread all come back right.
        let replies: Vec<_> = (0..16)
            .map(|i| {
                let mut request = echo.echo_request();
                request.get().init_context().set_thread(thread.clone());
                request.get().set_echo(format!("message {i}").as_str());
                request.send().promise
            })
            .collect();
        for (i, reply) in replies.into_iter().enumerate() {
            let reply = reply.await.unwrap();
            assert_eq!(
                reply.get().unwrap().get_result().unwrap().to_str().unwrap(),
                format!("message {i}")
            );
        }
        let mut destroy = echo.destroy_request();
        destroy.get().init_context().set_thread(thread);
        destroy.send().promise.await.unwrap();
    });
}

#[test]
fn echo_on_a_pool_without_a_thread() {
    with_core_client(|init| async move {
        let constructed = init.construct_request().send().promise.await.unwrap();
        let map: thread_map::Client = constructed.get().unwrap().get_thread_map().unwrap();
        let mut pool = map.make_pool_request();
        pool.get().set_count(2);
        pool.send().promise.await.unwrap();

        let made = init.make_echo_request().send().promise.await.unwrap();
        let echo = made.get().unwrap().get_result().unwrap();
        let mut request = echo.echo_request();
        request.get().set_echo("pooled");
        let reply = request.send().promise.await.unwrap();
        assert_eq!(
            reply.get().unwrap().get_result().unwrap().to_str().unwrap(),
            "pooled"
        );
    });
}

#[test]
fn no_thread_and_no_pool_is_refused_as_core_refuses_it() {
    with_core_client(|init| async move {
        init.construct_request().send().promise.await.unwrap();
        let err = match init.make_echo_request().send().promise.await {
            Ok(_) => panic!("makeEcho without a thread or pool must fail"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains(ipc::threads::NO_THREAD), "{err}");
    });
}

#[test]
fn the_retired_mining_ordinal_tells_the_client_to_update() {
    with_core_client(|init| async move {
        let err = match init.make_mining_old2_request().send().promise.await {
            Ok(_) => panic!("makeMiningOld2 must fail"),
            Err(err) => err.to_string(),
        };
        // Core's clients see `remote exception: std::exception: Old mining...`.
        assert!(
            err.ends_with(&format!("remote exception: {}", ipc::serve::MINING_OLD2)),
            "{err}"
        );
    });
}

#[test]
fn a_thread_name_with_a_nul_does_not_crash_the_server() {
    with_core_client(|init| async move {
        let thread = make_thread(&init, "a\0b").await;
        assert_server_thread_for(&thread, "ab").await;
        // The server is still there.
        init.construct_request().send().promise.await.unwrap();
    });
}

#[test]
fn a_pool_request_past_the_limit_is_refused() {
    with_core_client(|init| async move {
        let constructed = init.construct_request().send().promise.await.unwrap();
        let map: thread_map::Client = constructed.get().unwrap().get_thread_map().unwrap();
        let mut pool = map.make_pool_request();
        pool.get().set_count(100_000);
        let err = match pool.send().promise.await {
            Ok(_) => panic!("a pool of 100000 threads must be refused"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("at most 64 allowed"), "{err}");
    });
}

#[test]
fn a_peer_cannot_make_threads_without_bound() {
    with_core_client(|init| async move {
        let constructed = init.construct_request().send().promise.await.unwrap();
        let map: thread_map::Client = constructed.get().unwrap().get_thread_map().unwrap();
        let make = |name: String| {
            let mut request = map.make_thread_request();
            request.get().set_name(&name[..]);
            request.send().promise
        };
        let mut threads = Vec::new();
        for i in 0..ipc::threads::MAX_THREADS {
            threads.push(make(format!("t{i}")));
        }
        let made = futures::future::try_join_all(threads).await.unwrap();
        let err = match make("one too many".into()).await {
            Ok(_) => panic!("thread {} must be refused", ipc::threads::MAX_THREADS + 1),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("already has 1024 threads"), "{err}");
        // Releasing threads makes room again.
        drop(made);
        let mut again = None;
        for _ in 0..100 {
            if let Ok(thread) = make("after release".into()).await {
                again = Some(thread);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(again.is_some(), "released threads must free their slots");
    });
}
