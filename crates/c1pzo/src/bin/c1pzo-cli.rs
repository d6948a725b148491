//! `c1pzo-cli`: send commands to a running c1pzod over JSON-RPC.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    c1pzo::cli_main::main(&args)
}
