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
    match ipc::process::spawned_socket(&args) {
        Ok(Some(stream)) => {
            match ipc::serve::serve_parent_with(stream, ipc::testing::test_bootstrap) {
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
