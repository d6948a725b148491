//! The consensus parameters the checks need, independent of how a chain is
//! selected (the executables build them from `common::chainparams`).

use bitcoin::{Amount, CompactTarget, Target};

/// Consensus rules that differ between chains.
#[derive(Clone, Debug)]
pub struct Consensus {
    /// Blocks between subsidy halvings (150 on regtest).
    pub subsidy_halving_interval: u32,
    /// The easiest target a block may have.
    pub pow_limit: Target,
    /// Regtest: the target never changes.
    pub pow_no_retargeting: bool,
    /// Seconds between blocks the retarget aims at.
    pub pow_target_spacing: u32,
    /// Seconds per retarget period.
    pub pow_target_timespan: u32,
    /// Heights from which BIP34 (height in coinbase), BIP66 (version 3)
    /// and BIP65 (version 4) apply.
    pub bip34_height: u32,
    pub bip66_height: u32,
    pub bip65_height: u32,
    /// Height from which segwit's rules (witness commitment) apply.
    pub segwit_height: u32,
    /// Confirmations before a coinbase output may be spent.
    pub coinbase_maturity: u32,
}

impl Consensus {
    /// Bitcoin's regtest rules.
    pub fn regtest() -> Consensus {
        Consensus {
            subsidy_halving_interval: 150,
            pow_limit: Target::MAX_ATTAINABLE_REGTEST,
            pow_no_retargeting: true,
            pow_target_spacing: 600,
            pow_target_timespan: 14 * 24 * 60 * 60,
            bip34_height: 1,
            bip66_height: 1,
            bip65_height: 1,
            segwit_height: 0,
            coinbase_maturity: 100,
        }
    }

    /// The new coins a block at `height` may create.
    pub fn block_subsidy(&self, height: u32) -> Amount {
        let halvings = height / self.subsidy_halving_interval;
        if halvings >= 64 {
            return Amount::ZERO;
        }
        Amount::from_sat((50 * 100_000_000) >> halvings)
    }

    /// The compact form of the pow limit, which regtest blocks carry.
    pub fn pow_limit_bits(&self) -> CompactTarget {
        self.pow_limit.to_compact_lossy()
    }
}

/// The most a block may weigh (BIP141).
pub const MAX_BLOCK_WEIGHT: u64 = 4_000_000;
/// The most signature-operation cost a block may have (BIP141).
pub const MAX_BLOCK_SIGOPS_COST: usize = 80_000;
/// Scale between weight and the legacy size limit.
pub const WITNESS_SCALE_FACTOR: u64 = 4;
/// The most satoshis that can exist; amounts beyond it are invalid.
pub const MAX_MONEY: u64 = 21_000_000 * 100_000_000;
/// How far in the future a block's time may be, in seconds.
pub const MAX_FUTURE_BLOCK_TIME: u64 = 2 * 60 * 60;
/// Blocks whose times make up median-time-past.
pub const MEDIAN_TIME_SPAN: usize = 11;
/// Locktimes below this are heights, at or above it times.
pub const LOCKTIME_THRESHOLD: u32 = 500_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regtest_subsidy_halves_every_150_blocks() {
        let c = Consensus::regtest();
        assert_eq!(c.block_subsidy(0), Amount::from_sat(5_000_000_000));
        assert_eq!(c.block_subsidy(149), Amount::from_sat(5_000_000_000));
        assert_eq!(c.block_subsidy(150), Amount::from_sat(2_500_000_000));
        assert_eq!(c.block_subsidy(300), Amount::from_sat(1_250_000_000));
        assert_eq!(c.block_subsidy(150 * 64), Amount::ZERO);
        assert_eq!(c.pow_limit_bits().to_consensus(), 0x207fffff);
    }
}
