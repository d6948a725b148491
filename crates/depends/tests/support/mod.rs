pub mod http_server;
pub mod packages;
