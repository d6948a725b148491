//! The five chains Bitcoin Core knows, how the options pick one, and each
//! chain's parameters (genesis block, magic bytes, ports, consensus
//! heights, proof-of-work limits).
//!
//! Values are Bitcoin Core's (v28 and later: regtest retargets every 144
//! blocks in principle, though it never actually retargets). c1pzo runs only
//! on regtest for now; the other chains are defined so that options and
//! messages behave as in Core.

use bitcoin::p2p::Magic;
use bitcoin::pow::CompactTarget;
use bitcoin::{Block, BlockHash, Network, Target};

use crate::args::Args;

/// A chain, by its Core name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainType {
    /// Bitcoin mainnet, `-chain=main`.
    Main,
    /// Testnet3, `-chain=test` or `-testnet`.
    Testnet,
    /// Testnet4, `-chain=testnet4` or `-testnet4`.
    Testnet4,
    /// The default signet, `-chain=signet` or `-signet`.
    Signet,
    /// The local regression-test chain, `-chain=regtest` or `-regtest`.
    Regtest,
}

impl ChainType {
    /// Every chain, main first.
    pub const ALL: [ChainType; 5] = [
        ChainType::Main,
        ChainType::Testnet,
        ChainType::Testnet4,
        ChainType::Signet,
        ChainType::Regtest,
    ];

    /// Core's name, used by `-chain=` and as the config section name.
    pub fn name(self) -> &'static str {
        match self {
            ChainType::Main => "main",
            ChainType::Testnet => "test",
            ChainType::Testnet4 => "testnet4",
            ChainType::Signet => "signet",
            ChainType::Regtest => "regtest",
        }
    }

    /// The chain with Core's name `name` (`main`, `test`, `testnet4`,
    /// `signet`, `regtest`).
    pub fn from_name(name: &str) -> Option<ChainType> {
        ChainType::ALL
            .into_iter()
            .find(|chain| chain.name() == name)
    }

    /// The subdirectory of the data directory holding this chain's data;
    /// empty for main, which uses the data directory itself. Testnet3 keeps
    /// Core's historical name `testnet3`.
    pub fn data_subdir(self) -> &'static str {
        match self {
            ChainType::Main => "",
            ChainType::Testnet => "testnet3",
            ChainType::Testnet4 => "testnet4",
            ChainType::Signet => "signet",
            ChainType::Regtest => "regtest",
        }
    }

    /// The chain the options select. At most one of `-chain`, `-regtest`,
    /// `-testnet`, `-testnet4`, `-signet` may be given; none means main.
    pub fn from_args(args: &Args) -> Result<ChainType, ChainError> {
        match chain_selection(args)? {
            ChainSelection::Known(chain) => Ok(chain),
            ChainSelection::Unknown(name) => Err(ChainError::UnknownChain(name)),
        }
    }

    /// Whether c1pzo can run on this chain today (regtest only).
    pub fn supported_for_running(self) -> bool {
        self == ChainType::Regtest
    }

    /// [`ChainType::supported_for_running`] as a result carrying the message
    /// the executables print.
    pub fn ensure_supported_for_running(self) -> Result<(), UnsupportedChain> {
        if self.supported_for_running() {
            Ok(())
        } else {
            Err(UnsupportedChain(self))
        }
    }
}

impl std::fmt::Display for ChainType {
    /// Core's name (`main`, `test`, `testnet4`, `signet`, `regtest`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the chain options name: a known chain or an unknown `-chain` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainSelection {
    /// One of the five chains.
    Known(ChainType),
    /// A `-chain` value that names no chain.
    Unknown(String),
}

/// The chain options contradict each other or name no chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// More than one of the chain options.
    #[error(
        "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at \
         most one."
    )]
    InvalidCombination,
    /// `-chain=<x>` with an unknown name.
    #[error("Unknown chain {0}.")]
    UnknownChain(String),
}

/// The selected chain is defined but c1pzo cannot run on it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("c1pzo runs only on regtest for now; -chain={} is defined but not supported", .0.name())]
pub struct UnsupportedChain(pub ChainType);

/// Core's chain choice, without rejecting unknown `-chain` values (the
/// config reader uses an unknown name as a section name).
pub fn chain_selection(args: &Args) -> Result<ChainSelection, ChainError> {
    let regtest = args.chain_selection_flag("regtest");
    let signet = args.chain_selection_flag("signet");
    let testnet = args.chain_selection_flag("testnet");
    let testnet4 = args.chain_selection_flag("testnet4");
    let chain = args.get("chain");
    let chosen = [chain.is_some(), regtest, signet, testnet, testnet4]
        .iter()
        .filter(|on| **on)
        .count();
    if chosen > 1 {
        return Err(ChainError::InvalidCombination);
    }
    Ok(match chain {
        Some(name) => match ChainType::from_name(&name) {
            Some(chain) => ChainSelection::Known(chain),
            None => ChainSelection::Unknown(name),
        },
        None if regtest => ChainSelection::Known(ChainType::Regtest),
        None if signet => ChainSelection::Known(ChainType::Signet),
        None if testnet => ChainSelection::Known(ChainType::Testnet),
        None if testnet4 => ChainSelection::Known(ChainType::Testnet4),
        None => ChainSelection::Known(ChainType::Main),
    })
}

/// Consensus rules that differ between chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consensus {
    /// Blocks between subsidy halvings.
    pub subsidy_halving_interval: u32,
    /// Height from which the coinbase must start with the height (BIP34).
    pub bip34_height: u32,
    /// Height from which OP_CHECKLOCKTIMEVERIFY is enforced (BIP65).
    pub bip65_height: u32,
    /// Height from which strict DER signatures are enforced (BIP66).
    pub bip66_height: u32,
    /// Height from which BIP68/112/113 (CSV) are enforced.
    pub csv_height: u32,
    /// Height from which segwit (BIP141/143/147) is enforced.
    pub segwit_height: u32,
    /// Core's `powLimit`: the easiest target allowed, as Core writes it.
    pub pow_limit: Target,
    /// Seconds one block should take.
    pub pow_target_spacing: u64,
    /// Seconds one difficulty period should take.
    pub pow_target_timespan: u64,
    /// Test chains: a block more than 20 minutes after its parent may use
    /// the minimum difficulty.
    pub pow_allow_min_difficulty_blocks: bool,
    /// Regtest: the difficulty never changes.
    pub pow_no_retargeting: bool,
    /// BIP94 rules (timewarp fix, block-storm fix); on for testnet4.
    pub enforce_bip94: bool,
    /// Signalling blocks needed in a window to lock in a BIP9 deployment.
    pub rule_change_activation_threshold: u32,
    /// BIP9 signalling window, in blocks.
    pub miner_confirmation_window: u32,
    /// Confirmations before a coinbase output may be spent.
    pub coinbase_maturity: u32,
}

impl Consensus {
    /// Blocks per difficulty period (2016 on main, 144 on regtest).
    pub fn difficulty_adjustment_interval(&self) -> u64 {
        self.pow_target_timespan / self.pow_target_spacing
    }

    /// [`Consensus::pow_limit`] in compact form, e.g. `0x207fffff` on
    /// regtest: the `nBits` of the easiest block.
    pub fn pow_limit_compact(&self) -> CompactTarget {
        self.pow_limit.to_compact_lossy()
    }
}

/// Everything that differs between chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainParams {
    /// Which chain this is.
    pub chain: ChainType,
    /// The matching rust-bitcoin network (address encoding and decoding).
    pub network: Network,
    /// The genesis block.
    pub genesis: Block,
    /// The first four bytes of every P2P message.
    pub message_start: Magic,
    /// Default P2P listening port.
    pub default_p2p_port: u16,
    /// Default JSON-RPC port.
    pub default_rpc_port: u16,
    /// Human-readable part of bech32 addresses.
    pub bech32_hrp: &'static str,
    /// Consensus rules.
    pub consensus: Consensus,
    /// Every chain but main: relaxed policy options are allowed.
    pub is_test_chain: bool,
    /// Regtest: `setmocktime` is allowed.
    pub is_mockable_chain: bool,
    /// Regtest: expensive consistency checks are on by default.
    pub default_consistency_checks: bool,
    /// Pruning never removes blocks below this height.
    pub prune_after_height: u32,
}

/// Core's COINBASE_MATURITY, the same on every chain.
pub const COINBASE_MATURITY: u32 = 100;
const TWO_WEEKS: u64 = 14 * 24 * 60 * 60;
const TEN_MINUTES: u64 = 10 * 60;

fn target(hex: &str) -> Target {
    Target::from_unprefixed_hex(hex).expect("chain parameter targets are valid hex")
}

impl Consensus {
    /// Bitcoin mainnet's rules, the base the other chains change.
    fn bitcoin() -> Consensus {
        Consensus {
            subsidy_halving_interval: 210_000,
            bip34_height: 227_931,
            bip65_height: 388_381,
            bip66_height: 363_725,
            csv_height: 419_328,
            segwit_height: 481_824,
            pow_limit: target("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            pow_target_spacing: TEN_MINUTES,
            pow_target_timespan: TWO_WEEKS,
            pow_allow_min_difficulty_blocks: false,
            pow_no_retargeting: false,
            enforce_bip94: false,
            rule_change_activation_threshold: 1815,
            miner_confirmation_window: 2016,
            coinbase_maturity: COINBASE_MATURITY,
        }
    }

    /// Mainnet's rules with every soft fork active from `height` (the
    /// newer test chains).
    fn all_active_from(height: u32) -> Consensus {
        Consensus {
            bip34_height: height,
            bip65_height: height,
            bip66_height: height,
            csv_height: height,
            segwit_height: height,
            ..Consensus::bitcoin()
        }
    }
}

impl ChainParams {
    /// The parameters of `chain`.
    pub fn for_chain(chain: ChainType) -> ChainParams {
        match chain {
            ChainType::Main => Self::main(),
            ChainType::Testnet => Self::testnet(),
            ChainType::Testnet4 => Self::testnet4(),
            ChainType::Signet => Self::signet(),
            ChainType::Regtest => Self::regtest(),
        }
    }

    /// The genesis block hash.
    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis.block_hash()
    }

    fn base(chain: ChainType, network: Network, consensus: Consensus) -> ChainParams {
        ChainParams {
            chain,
            network,
            genesis: bitcoin::blockdata::constants::genesis_block(network),
            message_start: Magic::from(network),
            default_p2p_port: 0,
            default_rpc_port: 0,
            bech32_hrp: "tb",
            consensus,
            is_test_chain: true,
            is_mockable_chain: false,
            default_consistency_checks: false,
            prune_after_height: 1000,
        }
    }

    /// Bitcoin mainnet.
    pub fn main() -> ChainParams {
        let consensus = Consensus::bitcoin();
        ChainParams {
            default_p2p_port: 8333,
            default_rpc_port: 8332,
            bech32_hrp: "bc",
            is_test_chain: false,
            prune_after_height: 100_000,
            ..Self::base(ChainType::Main, Network::Bitcoin, consensus)
        }
    }

    /// Testnet3.
    pub fn testnet() -> ChainParams {
        let consensus = Consensus {
            bip34_height: 21_111,
            bip65_height: 581_885,
            bip66_height: 330_776,
            csv_height: 770_112,
            segwit_height: 834_624,
            pow_allow_min_difficulty_blocks: true,
            rule_change_activation_threshold: 1512,
            ..Consensus::bitcoin()
        };
        ChainParams {
            default_p2p_port: 18333,
            default_rpc_port: 18332,
            ..Self::base(ChainType::Testnet, Network::Testnet, consensus)
        }
    }

    /// Testnet4 (BIP94).
    pub fn testnet4() -> ChainParams {
        let consensus = Consensus {
            pow_allow_min_difficulty_blocks: true,
            enforce_bip94: true,
            rule_change_activation_threshold: 1512,
            ..Consensus::all_active_from(1)
        };
        ChainParams {
            default_p2p_port: 48333,
            default_rpc_port: 48332,
            ..Self::base(ChainType::Testnet4, Network::Testnet4, consensus)
        }
    }

    /// The default signet (no custom `-signetchallenge`).
    pub fn signet() -> ChainParams {
        let consensus = Consensus {
            pow_limit: target("00000377ae000000000000000000000000000000000000000000000000000000"),
            ..Consensus::all_active_from(1)
        };
        ChainParams {
            default_p2p_port: 38333,
            default_rpc_port: 38332,
            ..Self::base(ChainType::Signet, Network::Signet, consensus)
        }
    }

    /// The regression-test chain: every soft fork active from the start,
    /// trivial proof of work, halving every 150 blocks.
    pub fn regtest() -> ChainParams {
        let consensus = Consensus {
            subsidy_halving_interval: 150,
            segwit_height: 0,
            pow_limit: target("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            // One day, so a "difficulty period" is 144 blocks, as in Core
            // since v28 (it matters for BIP94 tests and getnetworkhashps).
            pow_target_timespan: 24 * 60 * 60,
            pow_allow_min_difficulty_blocks: true,
            pow_no_retargeting: true,
            // Core turns BIP94 on for regtest only with -test=bip94.
            rule_change_activation_threshold: 108,
            miner_confirmation_window: 144,
            ..Consensus::all_active_from(1)
        };
        ChainParams {
            default_p2p_port: 18444,
            default_rpc_port: 18443,
            bech32_hrp: "bcrt",
            is_mockable_chain: true,
            default_consistency_checks: true,
            ..Self::base(ChainType::Regtest, Network::Regtest, consensus)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_hashes_match_core() {
        let expected = [
            (
                ChainType::Main,
                "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
            ),
            (
                ChainType::Testnet,
                "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
            ),
            (
                ChainType::Testnet4,
                "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
            ),
            (
                ChainType::Signet,
                "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
            ),
            (
                ChainType::Regtest,
                "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
            ),
        ];
        for (chain, hash) in expected {
            assert_eq!(
                ChainParams::for_chain(chain).genesis_hash().to_string(),
                hash,
                "{chain:?}"
            );
        }
    }

    #[test]
    fn magic_bytes_match_core() {
        let expected = [
            (ChainType::Main, [0xf9, 0xbe, 0xb4, 0xd9]),
            (ChainType::Testnet, [0x0b, 0x11, 0x09, 0x07]),
            (ChainType::Testnet4, [0x1c, 0x16, 0x3f, 0x28]),
            (ChainType::Signet, [0x0a, 0x03, 0xcf, 0x40]),
            (ChainType::Regtest, [0xfa, 0xbf, 0xb5, 0xda]),
        ];
        for (chain, bytes) in expected {
            assert_eq!(
                ChainParams::for_chain(chain).message_start.to_bytes(),
                bytes,
                "{chain:?}"
            );
        }
    }

    #[test]
    fn ports_match_core() {
        let expected = [
            (ChainType::Main, 8333, 8332),
            (ChainType::Testnet, 18333, 18332),
            (ChainType::Testnet4, 48333, 48332),
            (ChainType::Signet, 38333, 38332),
            (ChainType::Regtest, 18444, 18443),
        ];
        for (chain, p2p, rpc) in expected {
            let params = ChainParams::for_chain(chain);
            assert_eq!(
                (params.default_p2p_port, params.default_rpc_port),
                (p2p, rpc),
                "{chain:?}"
            );
        }
    }

    #[test]
    fn regtest_consensus_matches_core() {
        let params = ChainParams::regtest();
        let c = &params.consensus;
        assert_eq!(c.subsidy_halving_interval, 150);
        assert_eq!(
            (c.bip34_height, c.bip65_height, c.bip66_height, c.csv_height),
            (1, 1, 1, 1)
        );
        assert_eq!(c.segwit_height, 0);
        assert_eq!(c.pow_limit_compact().to_consensus(), 0x207f_ffff);
        assert_eq!(params.genesis.header.bits, c.pow_limit_compact());
        assert_eq!(
            Target::from_compact(c.pow_limit_compact()),
            target("7fffff0000000000000000000000000000000000000000000000000000000000")
        );
        assert!(c.pow_no_retargeting && c.pow_allow_min_difficulty_blocks);
        assert_eq!(c.difficulty_adjustment_interval(), 144);
        assert_eq!(c.coinbase_maturity, 100);
        assert_eq!(params.bech32_hrp, "bcrt");
        assert_eq!(params.network, Network::Regtest);
        assert!(params.is_test_chain && params.is_mockable_chain);
    }

    #[test]
    fn main_consensus_matches_core() {
        let params = ChainParams::main();
        let c = &params.consensus;
        assert_eq!(c.pow_limit_compact().to_consensus(), 0x1d00_ffff);
        assert_eq!(params.genesis.header.bits, c.pow_limit_compact());
        assert_eq!(c.difficulty_adjustment_interval(), 2016);
        assert_eq!(
            (c.bip34_height, c.csv_height, c.segwit_height),
            (227_931, 419_328, 481_824)
        );
        assert!(!params.is_test_chain && !c.pow_allow_min_difficulty_blocks);
        assert_eq!(params.bech32_hrp, "bc");
    }

    #[test]
    fn every_chain_matches_its_network() {
        for chain in ChainType::ALL {
            let params = ChainParams::for_chain(chain);
            assert_eq!(params.chain, chain);
            assert_eq!(params.network.to_core_arg(), chain.name());
            assert_eq!(
                params.genesis.header.bits,
                params.consensus.pow_limit_compact(),
                "{chain:?}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for chain in ChainType::ALL {
            assert_eq!(ChainType::from_name(chain.name()), Some(chain));
        }
        assert_eq!(
            ChainType::from_name("testnet"),
            None,
            "Core's name is 'test'"
        );
        assert_eq!(ChainType::Testnet.data_subdir(), "testnet3");
    }

    #[test]
    fn only_regtest_runs() {
        assert!(ChainType::Regtest.ensure_supported_for_running().is_ok());
        assert_eq!(
            ChainType::Main
                .ensure_supported_for_running()
                .unwrap_err()
                .to_string(),
            "c1pzo runs only on regtest for now; -chain=main is defined but not supported"
        );
        assert_eq!(
            UnsupportedChain(ChainType::Testnet).to_string(),
            "c1pzo runs only on regtest for now; -chain=test is defined but not supported"
        );
    }

    #[test]
    fn error_messages_match_core() {
        assert_eq!(
            ChainError::InvalidCombination.to_string(),
            "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at \
             most one."
        );
        assert_eq!(
            ChainError::UnknownChain("foo".into()).to_string(),
            "Unknown chain foo."
        );
    }
}
