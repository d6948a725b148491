//! What the node's and wallet's shared code does differently per
//! operating system, behind one API so that no other module carries a
//! `#[cfg]`: where the data directory lives by default
//! ([`default_datadir`]) and how a file only its owner may read is made
//! ([`create_new_private`]: mode 0600 on unix, a protected ACL naming only the
//! current user on Windows, where modes do not exist).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;
