//! `c1pzod`: the c1pzo node daemon.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    c1pzo::daemon::main(&args)
}
