//! One module per page or window part; each owns its state and draws
//! itself from the model's snapshot.

pub mod console;
pub mod overview;
pub mod peers;
pub mod receive;
pub mod send;
pub mod transactions;
pub mod wallets;
