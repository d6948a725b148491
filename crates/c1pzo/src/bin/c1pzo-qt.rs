//! `c1pzo-qt`: the node, its wallet and the GUI in one process.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    c1pzo::qt_main::main(&args)
}
