//! `c1pzo-wallet`: create and inspect wallet files without a node; with
//! `-ipcfd <N>` (multiprocess builds), the wallet process `c1pzo-node`
//! spawns.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    #[cfg(feature = "multiprocess")]
    match ipc::process::spawned_socket(&args) {
        Ok(Some(stream)) => {
            return match c1pzo::wallet_process::serve_node(stream) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("Error: {error}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        Ok(None) => {}
        Err(error) => {
            eprintln!("Error: {error}");
            return std::process::ExitCode::FAILURE;
        }
    }
    c1pzo::wallet_tool::main(&args)
}
