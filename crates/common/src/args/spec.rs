//! What an option is: its name, how it takes a value, where its help goes,
//! and the handful of Bitcoin Core flags that change how it is parsed.
//!
//! Executables describe the options they accept as a list of [`OptionSpec`]
//! values and hand that list to [`crate::args::Args`]. Anything not on the
//! list is rejected on the command line and ignored (or rejected, on
//! request) in the config file.

/// Help-output group an option belongs to. The order of the variants is the
/// order the groups appear in `-help`, as in Bitcoin Core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// General options.
    Options,
    /// Peer-to-peer connection options.
    Connection,
    /// Wallet options.
    Wallet,
    /// Wallet options meant for testing; shown only with `-help-debug`.
    WalletDebug,
    /// ZeroMQ notification options.
    Zmq,
    /// Debugging, logging and testing options.
    Debug,
    /// Chain selection options.
    Chain,
    /// Transaction relay policy options.
    NodeRelay,
    /// Block template options.
    BlockCreation,
    /// JSON-RPC server (or client) options.
    Rpc,
    /// GUI options.
    Gui,
    /// Commands of a multi-command tool (the wallet tool, for example).
    Commands,
    /// Modes of the RPC client (`-getinfo`, `-netinfo`, ...).
    CliCommands,
    /// Multiprocess IPC options.
    Ipc,
    /// Accepted but never listed in `-help` (`-h`, `-?`).
    Hidden,
}

impl Category {
    /// The group heading printed by `-help`, or `None` for hidden options.
    /// Headings are the same words Bitcoin Core prints so that tooling which
    /// scrapes help output keeps working.
    pub fn heading(self) -> Option<&'static str> {
        Some(match self {
            Category::Options => "Options:",
            Category::Connection => "Connection options:",
            Category::Wallet => "Wallet options:",
            Category::WalletDebug => "Wallet debugging/testing options:",
            Category::Zmq => "ZeroMQ notification options:",
            Category::Debug => "Debugging/Testing options:",
            Category::Chain => "Chain selection options:",
            Category::NodeRelay => "Node relay options:",
            Category::BlockCreation => "Block creation options:",
            Category::Rpc => "RPC server options:",
            Category::Gui => "UI Options:",
            Category::Commands => "Commands:",
            Category::CliCommands => "CLI Commands:",
            Category::Ipc => "IPC interprocess connection options:",
            Category::Hidden => return None,
        })
    }
}

/// How an option takes its value. Parsing treats all kinds alike (Core
/// accepts `-printtoconsole=abc` too); the kind drives the help text and
/// tells callers which getter makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// A switch: `-name` turns it on, `-noname` off, `-name=0|1` explicitly.
    Flag,
    /// Takes a value; the hint is shown in help as `-name=<hint>`.
    Value(&'static str),
    /// Takes a file-system path; read it with [`crate::args::Args::get_path`].
    Path(&'static str),
}

impl ValueKind {
    /// The text after the option name in help output, e.g. `=<dir>`.
    pub fn help_suffix(self) -> String {
        match self {
            ValueKind::Flag => String::new(),
            ValueKind::Value(hint) | ValueKind::Path(hint) => format!("={hint}"),
        }
    }
}

/// One accepted option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionSpec {
    /// Name without the leading dash, e.g. `"datadir"`.
    pub name: &'static str,
    /// One-paragraph help text.
    pub help: &'static str,
    /// Help group.
    pub category: Category,
    /// How the value is taken.
    pub kind: ValueKind,
    /// Listed only by `-help-debug`.
    pub debug_only: bool,
    /// Core's NETWORK_ONLY: on any chain but main, a value in the top-level
    /// section of the config file is ignored; it must sit in the chain's own
    /// section (or on the command line).
    pub network_only: bool,
    /// Core's DISALLOW_NEGATION: `-noname` is an error.
    pub disallow_negation: bool,
    /// Core's DISALLOW_ELISION: `-name` without `=value` is an error.
    pub disallow_elision: bool,
    /// The value is a secret: logged as `****`.
    pub sensitive: bool,
}

impl OptionSpec {
    const fn new(
        name: &'static str,
        kind: ValueKind,
        category: Category,
        help: &'static str,
    ) -> Self {
        OptionSpec {
            name,
            help,
            category,
            kind,
            debug_only: false,
            network_only: false,
            disallow_negation: false,
            disallow_elision: false,
            sensitive: false,
        }
    }

    /// A switch such as `-server`.
    pub const fn flag(name: &'static str, category: Category, help: &'static str) -> Self {
        Self::new(name, ValueKind::Flag, category, help)
    }

    /// An option taking a value, such as `-rpcport=<port>`.
    pub const fn value(
        name: &'static str,
        hint: &'static str,
        category: Category,
        help: &'static str,
    ) -> Self {
        Self::new(name, ValueKind::Value(hint), category, help)
    }

    /// An option taking a path, such as `-datadir=<dir>`.
    pub const fn path(
        name: &'static str,
        hint: &'static str,
        category: Category,
        help: &'static str,
    ) -> Self {
        Self::new(name, ValueKind::Path(hint), category, help)
    }

    /// An option that is accepted but never shown in help (`-h`, `-?`).
    pub const fn hidden(name: &'static str) -> Self {
        Self::new(name, ValueKind::Flag, Category::Hidden, "")
    }

    /// Marks the option as shown only by `-help-debug`.
    pub const fn debug_only(mut self) -> Self {
        self.debug_only = true;
        self
    }

    /// Marks the option as network-only (see the field of that name).
    pub const fn network_only(mut self) -> Self {
        self.network_only = true;
        self
    }

    /// Forbids `-noname`.
    pub const fn disallow_negation(mut self) -> Self {
        self.disallow_negation = true;
        self
    }

    /// Forbids a bare `-name` without a value.
    pub const fn disallow_elision(mut self) -> Self {
        self.disallow_elision = true;
        self
    }

    /// Marks the value as secret.
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_set_only_the_requested_flags() {
        let spec = OptionSpec::value("port", "<port>", Category::Connection, "p").network_only();
        assert!(spec.network_only);
        assert!(!spec.debug_only && !spec.disallow_negation && !spec.disallow_elision);
        assert_eq!(spec.kind.help_suffix(), "=<port>");
        assert_eq!(
            OptionSpec::flag("server", Category::Rpc, "s")
                .kind
                .help_suffix(),
            ""
        );
    }

    #[test]
    fn hidden_options_have_no_heading() {
        assert_eq!(Category::Hidden.heading(), None);
        assert_eq!(Category::Rpc.heading(), Some("RPC server options:"));
        assert!(Category::Options < Category::Connection && Category::Ipc < Category::Hidden);
    }
}
