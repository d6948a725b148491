//! Log categories and severity levels, with Bitcoin Core's names.

/// A debug-logging category (`-debug=<category>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogCategory {
    Net,
    Tor,
    Mempool,
    Http,
    Bench,
    Zmq,
    WalletDb,
    Rpc,
    EstimateFee,
    AddrMan,
    SelectCoins,
    Reindex,
    CmpctBlock,
    Rand,
    Prune,
    Proxy,
    MempoolRej,
    Libevent,
    CoinDb,
    Qt,
    LevelDb,
    Validation,
    I2p,
    Ipc,
    Lock,
    BlockStorage,
    TxReconciliation,
    Scan,
    TxPackages,
}

impl LogCategory {
    /// Every category.
    pub const ALL: [LogCategory; 29] = [
        LogCategory::Net,
        LogCategory::Tor,
        LogCategory::Mempool,
        LogCategory::Http,
        LogCategory::Bench,
        LogCategory::Zmq,
        LogCategory::WalletDb,
        LogCategory::Rpc,
        LogCategory::EstimateFee,
        LogCategory::AddrMan,
        LogCategory::SelectCoins,
        LogCategory::Reindex,
        LogCategory::CmpctBlock,
        LogCategory::Rand,
        LogCategory::Prune,
        LogCategory::Proxy,
        LogCategory::MempoolRej,
        LogCategory::Libevent,
        LogCategory::CoinDb,
        LogCategory::Qt,
        LogCategory::LevelDb,
        LogCategory::Validation,
        LogCategory::I2p,
        LogCategory::Ipc,
        LogCategory::Lock,
        LogCategory::BlockStorage,
        LogCategory::TxReconciliation,
        LogCategory::Scan,
        LogCategory::TxPackages,
    ];

    /// Core's name, as used by `-debug=` and printed in `[net]` prefixes.
    pub fn name(self) -> &'static str {
        match self {
            LogCategory::Net => "net",
            LogCategory::Tor => "tor",
            LogCategory::Mempool => "mempool",
            LogCategory::Http => "http",
            LogCategory::Bench => "bench",
            LogCategory::Zmq => "zmq",
            LogCategory::WalletDb => "walletdb",
            LogCategory::Rpc => "rpc",
            LogCategory::EstimateFee => "estimatefee",
            LogCategory::AddrMan => "addrman",
            LogCategory::SelectCoins => "selectcoins",
            LogCategory::Reindex => "reindex",
            LogCategory::CmpctBlock => "cmpctblock",
            LogCategory::Rand => "rand",
            LogCategory::Prune => "prune",
            LogCategory::Proxy => "proxy",
            LogCategory::MempoolRej => "mempoolrej",
            LogCategory::Libevent => "libevent",
            LogCategory::CoinDb => "coindb",
            LogCategory::Qt => "qt",
            LogCategory::LevelDb => "leveldb",
            LogCategory::Validation => "validation",
            LogCategory::I2p => "i2p",
            LogCategory::Ipc => "ipc",
            LogCategory::Lock => "lock",
            LogCategory::BlockStorage => "blockstorage",
            LogCategory::TxReconciliation => "txreconciliation",
            LogCategory::Scan => "scan",
            LogCategory::TxPackages => "txpackages",
        }
    }

    /// The category named `name` (exact match).
    pub fn from_name(name: &str) -> Option<LogCategory> {
        LogCategory::ALL
            .into_iter()
            .find(|category| category.name() == name)
    }

    /// Position in [`LogCategory::ALL`], also the bit in a [`CategorySet`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The category names sorted and comma-separated, as Core lists them in
    /// error messages.
    pub fn names_sorted() -> String {
        let mut names: Vec<_> = LogCategory::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.join(", ")
    }
}

/// A set of categories, as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CategorySet(pub(crate) u64);

impl CategorySet {
    /// No category.
    pub const NONE: CategorySet = CategorySet(0);
    /// Every category.
    pub const ALL: CategorySet = CategorySet((1 << LogCategory::ALL.len()) - 1);

    /// The set holding `category` only.
    pub fn of(category: LogCategory) -> CategorySet {
        CategorySet(1 << category.index())
    }

    /// Core's reading of a `-debug` / `-debugexclude` value: empty, `1` or
    /// `all` for every category, else one category name. (`0`/`none` are
    /// handled by the caller, as in Core.)
    pub fn parse(text: &str) -> Option<CategorySet> {
        match text {
            "" | "1" | "all" => Some(CategorySet::ALL),
            name => LogCategory::from_name(name).map(CategorySet::of),
        }
    }

    /// Whether `category` is in the set.
    pub fn contains(self, category: LogCategory) -> bool {
        self.0 & CategorySet::of(category).0 != 0
    }

    /// The union of both sets.
    pub fn with(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 | other.0)
    }

    /// This set minus `other`.
    pub fn without(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 & !other.0)
    }

    /// True when no category is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Message severity, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
}

impl LogLevel {
    /// Levels a user may choose with `-loglevel`, in Core's listing order.
    pub const USER_SETTABLE: [LogLevel; 3] = [LogLevel::Info, LogLevel::Debug, LogLevel::Trace];

    /// Core's name of the level.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        }
    }

    /// The level named `name`.
    pub fn from_name(name: &str) -> Option<LogLevel> {
        [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warning,
            LogLevel::Error,
        ]
        .into_iter()
        .find(|level| level.name() == name)
    }

    /// A level a user may choose (`trace`, `debug` or `info`).
    pub fn from_user_name(name: &str) -> Option<LogLevel> {
        LogLevel::from_name(name).filter(|level| *level <= LogLevel::Info)
    }

    /// "info, debug, trace", as in Core's messages.
    pub fn user_settable_names() -> String {
        LogLevel::USER_SETTABLE.map(LogLevel::name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_match() {
        for (index, category) in LogCategory::ALL.into_iter().enumerate() {
            assert_eq!(category.index(), index);
            assert_eq!(LogCategory::from_name(category.name()), Some(category));
        }
        assert_eq!(
            LogCategory::from_name("NET"),
            None,
            "names are case-sensitive"
        );
    }

    #[test]
    fn sorted_names_start_and_end_as_in_core() {
        let names = LogCategory::names_sorted();
        assert!(names.starts_with("addrman, bench, blockstorage, cmpctblock"));
        assert!(names.ends_with("validation, walletdb, zmq"));
    }

    #[test]
    fn set_parsing_follows_core_aliases() {
        assert_eq!(CategorySet::parse(""), Some(CategorySet::ALL));
        assert_eq!(CategorySet::parse("1"), Some(CategorySet::ALL));
        assert_eq!(CategorySet::parse("all"), Some(CategorySet::ALL));
        assert_eq!(
            CategorySet::parse("net"),
            Some(CategorySet::of(LogCategory::Net))
        );
        assert_eq!(CategorySet::parse("0"), None);
        assert_eq!(CategorySet::parse("bogus"), None);
        let set = CategorySet::ALL.without(CategorySet::of(LogCategory::Net));
        assert!(!set.contains(LogCategory::Net) && set.contains(LogCategory::Rpc));
    }

    #[test]
    fn levels_order_and_names() {
        assert!(LogLevel::Trace < LogLevel::Debug && LogLevel::Info < LogLevel::Warning);
        assert_eq!(LogLevel::user_settable_names(), "info, debug, trace");
        assert_eq!(LogLevel::from_user_name("warning"), None);
        assert_eq!(LogLevel::from_user_name("trace"), Some(LogLevel::Trace));
        for level in [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warning,
            LogLevel::Error,
        ] {
            assert_eq!(LogLevel::from_name(level.name()), Some(level));
        }
    }
}
