//! Compiles `schema/*.capnp` into Rust with capnpc. The C++ `capnp` compiler
//! comes from the depends prefix (`cargo xtask depends MULTIPROCESS=1`), or
//! from `$CAPNP`, or from PATH.

use std::path::{Path, PathBuf};

const SCHEMAS: &[&str] = &[
    "proxy",
    "common",
    "echo",
    "mining",
    "rpc",
    "handler",
    "chain",
    "wallet",
    "wallet_loader",
    "node",
    "init",
    "ipc_test",
];

fn main() {
    println!("cargo:rerun-if-changed=schema");
    println!("cargo:rerun-if-env-changed=CAPNP");
    let capnp = find_capnp().unwrap_or_else(|| {
        panic!(
            "the Cap'n Proto compiler `capnp` was not found (looked at $CAPNP, \
             depends/*/native/bin/capnp and PATH); run `cargo xtask depends MULTIPROCESS=1` first"
        )
    });
    let mut command = capnpc::CompilerCommand::new();
    command.capnp_executable(&capnp).src_prefix("schema");
    for schema in SCHEMAS {
        command.file(format!("schema/{schema}.capnp"));
    }
    if let Err(err) = command.run() {
        panic!(
            "compiling the schemas with {} failed: {err}",
            capnp.display()
        );
    }
}

fn find_capnp() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CAPNP").map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    // Every host prefix carries the same build-machine tools in native/.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut prefixed: Vec<PathBuf> = std::fs::read_dir(workspace.join("depends"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("native/bin/capnp"))
        .filter(|path| path.is_file())
        .collect();
    prefixed.sort();
    if let Some(path) = prefixed.into_iter().next() {
        return Some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("capnp"))
        .find(|path| path.is_file())
}
