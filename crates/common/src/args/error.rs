//! Everything that can go wrong while reading options. Each message is the
//! one Bitcoin Core prints, word for word, because users and test suites
//! match on them. Executables add Core's prefixes themselves (see
//! [`crate::init::InitError`]).

use crate::chainparams::ChainError;

/// An option could not be parsed or a config file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// An option that is not on the executable's list, or a command-line
    /// option written with a section (`-regtest.port=1`). Carries the
    /// argument exactly as given.
    #[error("Invalid parameter {0}")]
    InvalidParameter(String),

    /// `-includeconf` on the command line. Carries the first value as JSON.
    #[error("-includeconf cannot be used from commandline; -includeconf={0}")]
    IncludeConfOnCommandLine(String),

    /// `-noname` for an option that forbids negation.
    #[error("Negating of -{0} is meaningless and therefore forbidden")]
    NegationForbidden(String),

    /// `-name` without a value for an option that needs one.
    #[error("Can not set -{0} with no value. Please specify value with -{0}=value.")]
    ValueRequired(String),

    /// A config line that is neither a section, a comment nor `key=value`.
    #[error("parse error on line {line}: {text}{hint}")]
    ConfigSyntax {
        line: usize,
        text: String,
        /// Core's extra advice for lines that look like a negated option.
        hint: String,
    },

    /// A config line starting with `-`.
    #[error(
        "parse error on line {line}: {text}, options in configuration file must be specified \
         without leading -"
    )]
    ConfigLeadingDash { line: usize, text: String },

    /// A `#` on an rpcpassword line: the password may contain `#`, so it is
    /// unclear where the comment starts.
    #[error(
        "parse error on line {0}, using # in rpcpassword can be ambiguous and should be avoided"
    )]
    ConfigHashInPassword(usize),

    /// A key in the config file that no option matches (strict mode only;
    /// by default such keys are skipped with a warning, as in Core).
    #[error("Invalid configuration value {0}")]
    UnknownConfigKey(String),

    /// `conf=` inside a config file.
    #[error(
        "conf cannot be set in the configuration file; use includeconf= if you want to include \
         additional config files"
    )]
    ConfInConfigFile,

    /// An explicitly given `-conf` file that cannot be opened.
    #[error("specified config file \"{0}\" could not be opened.")]
    ConfigFileUnreadable(String),

    /// The config path names a directory.
    #[error("Config file \"{0}\" is a directory.")]
    ConfigFileIsDirectory(String),

    /// An `includeconf` path names a directory.
    #[error("Included config file \"{0}\" is a directory.")]
    IncludedConfigIsDirectory(String),

    /// An `includeconf` file that cannot be opened. Carries the name as
    /// written in the config file.
    #[error("Failed to include configuration file {0}")]
    IncludeFailed(String),

    /// A config file saved in an encoding other than UTF-8 (Windows
    /// Notepad's "Unicode" is UTF-16 with a byte-order mark). Not in Core,
    /// which reads such a file as garbage.
    #[error(
        "\"{file}\" is saved as {encoding} (it starts with that byte-order mark); c1pzo reads \
         configuration files as UTF-8: save it as UTF-8 and start again"
    )]
    ConfigNotUtf8 {
        file: String,
        encoding: &'static str,
    },

    /// A `datadir=` in the config file that names no directory.
    #[error("specified data directory \"{0}\" does not exist.")]
    ConfigDataDirMissing(String),

    /// The chain options contradict each other (checked while looking for
    /// the chain's `includeconf` lines).
    #[error(transparent)]
    Chain(#[from] ChainError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_core() {
        assert_eq!(
            ArgsError::InvalidParameter("-foo".into()).to_string(),
            "Invalid parameter -foo"
        );
        assert_eq!(
            ArgsError::IncludeConfOnCommandLine("\"x.conf\"".into()).to_string(),
            "-includeconf cannot be used from commandline; -includeconf=\"x.conf\""
        );
        assert_eq!(
            ArgsError::NegationForbidden("datadir".into()).to_string(),
            "Negating of -datadir is meaningless and therefore forbidden"
        );
        assert_eq!(
            ArgsError::ValueRequired("loglevel".into()).to_string(),
            "Can not set -loglevel with no value. Please specify value with -loglevel=value."
        );
        assert_eq!(
            ArgsError::ConfigSyntax {
                line: 3,
                text: "foo".into(),
                hint: String::new()
            }
            .to_string(),
            "parse error on line 3: foo"
        );
        assert_eq!(
            ArgsError::ConfigLeadingDash {
                line: 1,
                text: "-dash=1".into()
            }
            .to_string(),
            "parse error on line 1: -dash=1, options in configuration file must be specified \
             without leading -"
        );
        assert_eq!(
            ArgsError::ConfigHashInPassword(2).to_string(),
            "parse error on line 2, using # in rpcpassword can be ambiguous and should be avoided"
        );
        assert_eq!(
            ArgsError::UnknownConfigKey("foo".into()).to_string(),
            "Invalid configuration value foo"
        );
        assert_eq!(
            ArgsError::ConfigFileUnreadable("/x/c1pzo.conf".into()).to_string(),
            "specified config file \"/x/c1pzo.conf\" could not be opened."
        );
        assert_eq!(
            ArgsError::IncludeFailed("extra.conf".into()).to_string(),
            "Failed to include configuration file extra.conf"
        );
        assert_eq!(
            ArgsError::ConfigDataDirMissing("/nope".into()).to_string(),
            "specified data directory \"/nope\" does not exist."
        );
    }
}
