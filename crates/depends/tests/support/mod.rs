//! Shared helpers of the depends engine tests: a local HTTP server with
//! injected faults and synthetic C packages.

pub mod http_server;
pub mod nginx;
pub mod packages;
