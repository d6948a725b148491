//! Shared helpers of the depends engine tests: a local HTTP server with
//! injected faults, synthetic C packages and synthetic Debian packages.

pub mod debs;
pub mod http_server;
pub mod nginx;
pub mod packages;
