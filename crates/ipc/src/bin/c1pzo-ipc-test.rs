//! The peer the runtime tests and the IPC benchmark spawn: serves the test
//! interface (`schema/ipc_test.capnp`) to its parent over `-ipcfd`.

use std::process::ExitCode;
use std::sync::Arc;

use ipc::runtime::platform::PairStream;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if std::env::var_os("C1PZO_IPC_TEST_DEBUG").is_some() {
        ipc::log::init(
            "c1pzo-ipc-test",
            ipc::log::Level::Debug,
            Arc::new(|_, line| eprintln!("[ipc] {line}")),
        );
    }
    let role = std::env::var("C1PZO_IPC_TEST_ROLE").unwrap_or_default();
    match ipc::process::spawned_socket(&args) {
        Ok(Some(stream)) => {
            let served = match role.as_str() {
                // The benchmark's floor: bytes straight back, no Cap'n Proto.
                "raw" => bounce(stream),
                // The benchmark's baseline: tokio's own stream type under
                // capnp-rpc, as a plain capnp-rpc program would have it.
                "plain" => serve_on_tokio_stream(stream),
                _ => ipc::serve::serve_parent_with(stream, ipc::testing::test_bootstrap),
            };
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("Error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Ok(None) => {
            eprintln!(
                "Error: c1pzo-ipc-test is only run by its parent, as `c1pzo-ipc-test -ipcfd <N>`"
            );
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn serve_on_tokio_stream(stream: PairStream) -> std::io::Result<()> {
    ipc::event_loop::LoopHandle::block_on_here(|_loop| async move {
        let stream = ipc::runtime::platform::tokio_pair_stream(stream)?;
        ipc::connection::serve_stream(stream, ipc::testing::test_bootstrap).await;
        Ok(())
    })?
}

/// Writes back whatever arrives until the parent hangs up.
fn bounce(mut stream: PairStream) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..n])?;
    }
}
