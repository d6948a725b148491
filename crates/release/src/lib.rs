//! What `cargo xtask dist` needs beyond cargo: release archives whose bytes
//! depend only on their contents ([`archive`]), the `SHA256SUMS` file and
//! the comparison of several builders' files ([`sums`]), `BUILDINFO` and
//! the SBOM ([`record`]), and the policy
//! every shipped binary must meet ([`policy`]), Bitcoin Core's
//! `symbol-check` and `security-check` rules for ELF and PE; and what an
//! offline release needs from the crates vendored for it ([`lockfile`],
//! [`vendored`]).
//!
//! Nothing here runs a build or knows the workspace: xtask decides what
//! goes into a release, this crate writes and checks it.

pub mod archive;
pub mod compare;
pub mod lockfile;
pub mod policy;
pub mod record;
pub mod sums;
pub mod utc;
pub mod vendored;
