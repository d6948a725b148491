//! The IPC benchmark behind `cargo xtask bench ipc`: per-call latency of a
//! raw socket-pair ping-pong (the floor), a plain capnp-rpc call, and
//! c1pzo's thread-dispatched `Echo.echo` with a `Context`, each between two
//! processes, pinned to one core and unpinned; calls/s with 64 in flight;
//! and spawn-to-first-reply. Writes `<out>/ipc.json` and `<out>/ipc.md`.
//!
//! `ipc_bench --out <dir>` runs everything; it reruns itself with
//! `--pinned` (pinned to CPU 0 before any thread or child exists, so all
//! inherit it) and prints that run's figures as JSON on stdout.
//! `ipc_bench --hosts` prints only spawn-to-first-reply and the `Context`
//! call's latency, as JSON: `cargo xtask bench hosts` runs it built for
//! each host (under wine or qemu for the others).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipc::client::{Construct, InitClient};
use ipc::event_loop::LoopHandle;
use ipc::ipc_test_capnp::{test_init, tester};
use ipc::listen::Stream;

/// Sequential calls per latency figure.
const CALLS: usize = 20_000;
/// Interleaved rounds the latency calls are split over.
const ROUNDS: usize = 5;
/// Calls per in-flight figure.
const IN_FLIGHT_CALLS: usize = 64 * 500;
const SPAWNS: usize = 30;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bins = bin_dir()?;
    // `--profile`: only the blocking Context call, many times over, for a
    // profiler to watch (`perf record -g -- ipc_bench --pinned --profile`).
    if args.iter().any(|a| a == "--profile") {
        if args.iter().any(|a| a == "--pinned") {
            pin_to_cpu0()?;
        }
        for _ in 0..10 {
            println!("{}", latency(context_call(&bins)?));
        }
        return Ok(());
    }
    if args.iter().any(|a| a == "--hosts") {
        let figures = serde_json::json!({
            "spawn_to_first_reply_ms": spawn_to_first_reply(&bins)?,
            "context_call_us": latency(context_call(&bins)?),
        });
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(());
    }
    if args.iter().any(|a| a == "--pinned") {
        pin_to_cpu0()?;
        let figures = measure(&bins)?;
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(());
    }
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .ok_or("usage: ipc_bench --out <dir>")?;

    eprintln!("measuring unpinned");
    let unpinned = measure(&bins)?;
    eprintln!("measuring pinned to CPU 0");
    let run = std::process::Command::new(std::env::current_exe()?)
        .arg("--pinned")
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !run.status.success() {
        return Err("the pinned run failed".into());
    }
    let pinned: serde_json::Value = serde_json::from_slice(&run.stdout)?;
    let figures = serde_json::json!({
        "machine_cpus": std::thread::available_parallelism()?.get(),
        "calls_per_latency_figure": CALLS,
        "pinned": pinned,
        "unpinned": unpinned,
    });
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("ipc.json"),
        serde_json::to_string_pretty(&figures)?,
    )?;
    let markdown = render(&figures);
    std::fs::write(out.join("ipc.md"), &markdown)?;
    print!("{markdown}");
    Ok(())
}

/// Where `c1pzo-echo` and `c1pzo-ipc-test` are: this example lives in
/// `<target>/<profile>/examples/`.
fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory")?;
    for bin in ["c1pzo-echo", "c1pzo-ipc-test"] {
        if !program(dir, bin).is_file() {
            return Err(format!(
                "{} is missing; build the crate's binaries first",
                program(dir, bin).display()
            )
            .into());
        }
    }
    Ok(dir.to_path_buf())
}

/// The path of executable `name` in `bins`, with this platform's suffix.
fn program(bins: &Path, name: &str) -> PathBuf {
    bins.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

#[cfg(not(target_os = "linux"))]
fn pin_to_cpu0() -> Result<()> {
    Err("the one-CPU rows pin with sched_setaffinity, which is Linux's".into())
}

#[cfg(target_os = "linux")]
fn pin_to_cpu0() -> Result<()> {
    // SAFETY: a zeroed cpu_set_t is valid, and CPU_SET/sched_setaffinity
    // only touch the set we pass for the calling (main) thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
    }
    Ok(())
}

fn measure(bins: &Path) -> Result<serde_json::Value> {
    // The latency figures are taken in interleaved rounds and pooled, so
    // a machine that drifts (a VM's neighbours) moves every row alike
    // instead of whichever ran last.
    let mut raw = Vec::new();
    let mut plain = Vec::new();
    let mut plain_c1pzo = Vec::new();
    let mut from_loop = Vec::new();
    let mut blocking = Vec::new();
    for _ in 0..ROUNDS {
        raw.extend(raw_ping_pong(bins)?);
        plain.extend(plain_capnp(bins, Transport::Tokio)?);
        plain_c1pzo.extend(plain_capnp(bins, Transport::C1pzo)?);
        from_loop.extend(context_from_loop(bins)?);
        blocking.extend(context_call(bins)?);
    }
    Ok(serde_json::json!({
        "raw_socketpair_us": latency(raw),
        "plain_capnp_rpc_us": latency(plain),
        "plain_capnp_rpc_c1pzo_transport_us": latency(plain_c1pzo),
        "context_call_from_loop_us": latency(from_loop),
        "context_call_us": latency(blocking),
        "plain_capnp_64_in_flight_calls_per_s": plain_in_flight(bins)?,
        "context_64_threads_calls_per_s": context_threads(bins)?,
        "spawn_to_first_reply_ms": spawn_to_first_reply(bins)?,
    }))
}

/// Median, p99 and mean of per-call times, in microseconds.
fn latency(mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let us = |d: Duration| (d.as_secs_f64() * 1e7).round() / 10.0;
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    serde_json::json!({
        "median": us(samples[samples.len() / 2]),
        "p99": us(samples[samples.len() * 99 / 100]),
        "mean": us(mean),
    })
}

fn timed(mut call: impl FnMut() -> Result<()>) -> Result<Vec<Duration>> {
    for _ in 0..CALLS / ROUNDS / 10 {
        call()?; // warm-up
    }
    let mut samples = Vec::with_capacity(CALLS / ROUNDS);
    for _ in 0..CALLS / ROUNDS {
        let start = Instant::now();
        call()?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}

fn raw_ping_pong(bins: &Path) -> Result<Vec<Duration>> {
    let mut spawned = ipc::process::spawn_with(&program(bins, "c1pzo-ipc-test"), |command| {
        command.env("C1PZO_IPC_TEST_ROLE", "raw");
    })?;
    let mut message = [7u8; 64];
    let samples = timed(|| {
        spawned.stream.write_all(&message)?;
        spawned.stream.read_exact(&mut message)?;
        Ok(())
    })?;
    spawned.reap("c1pzo-ipc-test")?;
    Ok(samples)
}

/// Which byte stream carries a plain capnp-rpc call, on both ends.
#[derive(Clone, Copy)]
enum Transport {
    /// tokio's own stream type, as a plain capnp-rpc program has it.
    Tokio,
    /// c1pzo's read-only-watched socket (`ipc::transport`).
    C1pzo,
}

/// A test peer's Tester, driven straight from this thread's event loop
/// (no hop to another thread on our side).
fn with_loop_tester<T>(
    bins: &Path,
    transport: Transport,
    body: impl AsyncFnOnce(tester::Client) -> Result<T>,
) -> Result<T> {
    let spawned = ipc::process::spawn_with(&program(bins, "c1pzo-ipc-test"), |command| {
        if let Transport::Tokio = transport {
            command.env("C1PZO_IPC_TEST_ROLE", "plain");
        }
    })?;
    let stream = spawned.stream.try_clone()?;
    let result = LoopHandle::block_on_here(|_loop| async move {
        let (connection, bootstrap) = match transport {
            Transport::Tokio => {
                ipc::connection::connect_stream(ipc::runtime::platform::tokio_pair_stream(stream)?)
            }
            Transport::C1pzo => {
                ipc::connection::connect_stream(ipc::transport::SocketStream::new(stream)?)
            }
        };
        let init: test_init::Client = capnp::capability::FromClientHook::cast_to(bootstrap);
        let map = init.construct(connection.thread_map());
        let mut make_thread = map.make_thread_request();
        make_thread.get().set_name("bench");
        let thread = make_thread.send().pipeline.get_result();
        let mut make = init.make_tester_request();
        make.get().init_context().set_thread(thread);
        let tester = make.send().promise.await?.get()?.get_result()?;
        let result = body(tester).await;
        connection.disconnect();
        result
    })?;
    spawned.reap("c1pzo-ipc-test")?;
    result
}

async fn timed_async(mut call: impl AsyncFnMut() -> Result<()>) -> Result<Vec<Duration>> {
    for _ in 0..CALLS / ROUNDS / 10 {
        call().await?;
    }
    let mut samples = Vec::with_capacity(CALLS / ROUNDS);
    for _ in 0..CALLS / ROUNDS {
        let start = Instant::now();
        call().await?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}

fn plain_capnp(bins: &Path, transport: Transport) -> Result<Vec<Duration>> {
    with_loop_tester(bins, transport, async |tester| {
        timed_async(async || {
            let mut request = tester.plain_echo_request();
            request.get().set_echo("ping");
            request.send().promise.await?;
            Ok(())
        })
        .await
    })
}

fn plain_in_flight(bins: &Path) -> Result<f64> {
    with_loop_tester(bins, Transport::Tokio, async |tester| {
        let start = Instant::now();
        let mut pending = futures::stream::FuturesUnordered::new();
        let mut sent = 0;
        let mut done = 0;
        use futures::StreamExt;
        while done < IN_FLIGHT_CALLS {
            while sent < IN_FLIGHT_CALLS && pending.len() < 64 {
                let mut request = tester.plain_echo_request();
                request.get().set_echo("ping");
                pending.push(request.send().promise);
                sent += 1;
            }
            if let Some(reply) = pending.next().await {
                reply?;
                done += 1;
            }
        }
        Ok((IN_FLIGHT_CALLS as f64 / start.elapsed().as_secs_f64()).round())
    })
}

/// `Echo.echo` with a Context, sent from the loop itself: the server-side
/// thread hop without the client-side one.
fn context_from_loop(bins: &Path) -> Result<Vec<Duration>> {
    let spawned = ipc::process::spawn(&program(bins, "c1pzo-echo"))?;
    let stream = spawned.stream.try_clone()?;
    let samples = LoopHandle::block_on_here(|_loop| async move {
        let stream = ipc::transport::SocketStream::new(stream)?;
        let (connection, bootstrap) = ipc::connection::connect_stream(stream);
        let init: ipc::init_capnp::init::Client =
            capnp::capability::FromClientHook::cast_to(bootstrap);
        let map = init.construct(connection.thread_map());
        let mut make_thread = map.make_thread_request();
        make_thread.get().set_name("bench");
        let thread = make_thread.send().pipeline.get_result();
        let mut make = init.make_echo_request();
        make.get().init_context().set_thread(thread.clone());
        let echo = make.send().promise.await?.get()?.get_result()?;
        let samples = timed_async(async || {
            let mut request = echo.echo_request();
            request.get().init_context().set_thread(thread.clone());
            request.get().set_echo("ping");
            request.send().promise.await?;
            Ok(())
        })
        .await;
        connection.disconnect();
        samples
    })??;
    spawned.reap("c1pzo-echo")?;
    Ok(samples)
}

/// The product path: a blocking `EchoClient` call from an ordinary thread.
fn context_call(bins: &Path) -> Result<Vec<Duration>> {
    let handle = LoopHandle::start()?;
    let spawned = ipc::process::spawn(&program(bins, "c1pzo-echo"))?;
    let init = InitClient::connect(&handle, Stream::from(spawned.stream.try_clone()?))?;
    let echo = init.make_echo()?;
    let samples = timed(|| {
        echo.echo("ping")?;
        Ok(())
    })?;
    drop((echo, init));
    spawned.reap("c1pzo-echo")?;
    Ok(samples)
}

fn context_threads(bins: &Path) -> Result<f64> {
    let handle = LoopHandle::start()?;
    let spawned = ipc::process::spawn(&program(bins, "c1pzo-echo"))?;
    let init = InitClient::connect(&handle, Stream::from(spawned.stream.try_clone()?))?;
    let echo = Arc::new(init.make_echo()?);
    let per_thread = IN_FLIGHT_CALLS / 64;
    // Warm up: every thread gets its server thread before timing starts.
    let barrier = Arc::new(std::sync::Barrier::new(65));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let (echo, barrier) = (echo.clone(), barrier.clone());
            std::thread::spawn(move || -> std::result::Result<(), ipc::IpcError> {
                echo.echo("warm")?;
                barrier.wait();
                for _ in 0..per_thread {
                    echo.echo("ping")?;
                }
                Ok(())
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for thread in threads {
        thread.join().map_err(|_| "a calling thread panicked")??;
    }
    let rate = (per_thread * 64) as f64 / start.elapsed().as_secs_f64();
    drop((echo, init));
    spawned.reap("c1pzo-echo")?;
    Ok(rate.round())
}

fn spawn_to_first_reply(bins: &Path) -> Result<serde_json::Value> {
    let handle = LoopHandle::start()?;
    let mut samples = Vec::new();
    for _ in 0..SPAWNS {
        let start = Instant::now();
        let spawned = ipc::process::spawn(&program(bins, "c1pzo-echo"))?;
        let init = InitClient::connect(&handle, Stream::from(spawned.stream.try_clone()?))?;
        init.make_echo()?.echo("first")?;
        samples.push(start.elapsed());
        drop(init);
        spawned.reap("c1pzo-echo")?;
    }
    samples.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    Ok(serde_json::json!({
        "median": ms(samples[SPAWNS / 2]),
        "max": ms(samples[SPAWNS - 1]),
    }))
}

fn render(f: &serde_json::Value) -> String {
    let row = |name: &str, key: &str| {
        format!(
            "| {name} | {} / {} | {} / {} |\n",
            f["pinned"][key]["median"],
            f["pinned"][key]["p99"],
            f["unpinned"][key]["median"],
            f["unpinned"][key]["p99"]
        )
    };
    let mut md = String::from("# cargo xtask bench ipc\n\n");
    md += "Per-call latency between two processes, microseconds, median / p99.\n\n";
    md += "| call | pinned to one core | unpinned |\n|---|---|---|\n";
    md += &row(
        "raw socketpair ping-pong, 64 bytes (floor)",
        "raw_socketpair_us",
    );
    md += &row(
        "plain capnp-rpc call (Tester.plainEcho), from the loop",
        "plain_capnp_rpc_us",
    );
    md += &row(
        "plain capnp-rpc call over c1pzo's socket transport",
        "plain_capnp_rpc_c1pzo_transport_us",
    );
    md += &row(
        "Echo.echo with Context, sent from the loop",
        "context_call_from_loop_us",
    );
    md += &row(
        "Echo.echo with Context, blocking EchoClient (c1pzo's path)",
        "context_call_us",
    );
    md += "| libmultiprocess Context call (issue's figure, same machine class) | 138 | 282 |\n";
    md += "| plain capnp-rpc (issue's figure) | 21 | 31 |\n\n";
    let ratio = |pin: &str| {
        let median = |key: &str| f[pin][key]["median"].as_f64().unwrap_or(f64::NAN);
        format!(
            "{:.2}x",
            median("context_call_us") / median("plain_capnp_rpc_us")
        )
    };
    md += &format!(
        "c1pzo's blocking Context call over plain capnp-rpc (medians; target 1.5x): \
         {} pinned, {} unpinned.\n\n",
        ratio("pinned"),
        ratio("unpinned"),
    );
    md += &format!(
        "Throughput, calls/s: plain capnp-rpc with 64 in flight: {} pinned, {} unpinned; \
         Echo.echo from 64 threads at once: {} pinned, {} unpinned.\n\n",
        f["pinned"]["plain_capnp_64_in_flight_calls_per_s"],
        f["unpinned"]["plain_capnp_64_in_flight_calls_per_s"],
        f["pinned"]["context_64_threads_calls_per_s"],
        f["unpinned"]["context_64_threads_calls_per_s"],
    );
    md += &format!(
        "Spawn to first Echo reply (spawn, connect, construct, makeEcho, echo), ms: \
         median {} / max {} pinned, median {} / max {} unpinned.\n",
        f["pinned"]["spawn_to_first_reply_ms"]["median"],
        f["pinned"]["spawn_to_first_reply_ms"]["max"],
        f["unpinned"]["spawn_to_first_reply_ms"]["median"],
        f["unpinned"]["spawn_to_first_reply_ms"]["max"],
    );
    md
}
