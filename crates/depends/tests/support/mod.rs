pub mod http_server;
pub mod nginx;
pub mod packages;
