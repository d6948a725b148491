//! `c1pzo-node`: `c1pzod` with its wallets in a separate `c1pzo-wallet`
//! process, talking Cap'n Proto over a socket pair.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    c1pzo::daemon::main_with(&args, c1pzo::daemon::Executable::Multiprocess)
}
