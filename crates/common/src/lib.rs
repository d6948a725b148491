//! What every c1pzo executable shares, with Bitcoin Core's behaviour:
//!
//! * [`args`]: command-line options and `c1pzo.conf`, with Core's parsing
//!   and precedence rules and error messages;
//! * [`chainparams`]: the five chains, chain selection and each chain's
//!   parameters;
//! * [`datadir`]: the data directory layout;
//! * [`logging`]: a `debug.log` writer in Core's line format;
//! * [`init`]: the startup sequence tying these together (Core's
//!   `InitConfig`);
//! * [`secret`]: the cookie files, private and never half-written;
//! * [`platform`]: what differs per operating system (the default data
//!   directory, private files).
//!
//! The behaviour follows Bitcoin Core's documentation and observable
//! behaviour (option names, defaults, message texts); the code is our own.

pub mod args;
pub mod chainparams;
pub mod datadir;
pub mod init;
pub mod logging;
pub mod platform;
pub mod secret;

pub use args::{Args, ArgsError, OptionSpec};
pub use chainparams::{ChainParams, ChainType};
pub use logging::{LogCategory, LogLevel, Logger};
