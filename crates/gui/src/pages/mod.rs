//! One module per page or window part; each owns its state and draws
//! itself from the model's snapshot.

pub mod console;
pub mod overview;
pub mod receive;
