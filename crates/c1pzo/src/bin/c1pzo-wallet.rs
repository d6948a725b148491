//! `c1pzo-wallet`: create and inspect wallet files without a node; with
//! `-ipcfd <N>` (multiprocess builds), the wallet process `c1pzo-node`
//! spawns; with `-ipcconnect=<address>`, a wallet process that connects
//! to a running `c1pzo-node -ipcbind=...` by itself.

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
        Ok(None) => {
            if args.iter().any(|a| a.starts_with("-ipcconnect=")) {
                return match c1pzo::wallet_process::connect_to_node(&args) {
                    Ok(()) => std::process::ExitCode::SUCCESS,
                    Err(error) => {
                        eprintln!("Error: {error}");
                        std::process::ExitCode::FAILURE
                    }
                };
            }
        }
        Err(error) => {
            eprintln!("Error: {error}");
            return std::process::ExitCode::FAILURE;
        }
    }
    c1pzo::wallet_tool::main(&args)
}
