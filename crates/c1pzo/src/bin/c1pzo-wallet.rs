//! `c1pzo-wallet`: create and inspect wallet files without a node.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    c1pzo::wallet_tool::main(&args)
}
