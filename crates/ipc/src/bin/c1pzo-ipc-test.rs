//! The peer the runtime tests and the IPC benchmark spawn: serves the test
//! interface (`schema/ipc_test.capnp`) to its parent over `-ipcfd`.

use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if std::env::var_os("C1PZO_IPC_TEST_DEBUG").is_some() {
        ipc::log::init(
            "c1pzo-ipc-test",
            ipc::log::Level::Debug,
            Arc::new(|_, line| eprintln!("[ipc] {line}")),
        );
    }
    // The benchmark's floor: bytes straight back, no Cap'n Proto.
    let raw = std::env::var("C1PZO_IPC_TEST_ROLE").as_deref() == Ok("raw");
    match ipc::process::spawned_socket(&args) {
        Ok(Some(stream)) => {
            let served = if raw {
                bounce(stream)
            } else {
                ipc::serve::serve_parent_with(stream, ipc::testing::test_bootstrap)
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

/// Writes back whatever arrives until the parent hangs up.
fn bounce(mut stream: std::os::unix::net::UnixStream) -> std::io::Result<()> {
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
