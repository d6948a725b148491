//! `c1pzo`: runs the suite's executables by command (`node`, `wallet`,
//! `rpc`, `gui`).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    c1pzo::wrapper::main(&args)
}
