//! Mining on regtest: `generatetoaddress` and friends build blocks on the
//! tip and hand them to the chainstate like any other block.

use bitcoin::{Amount, BlockHash, ScriptBuf};
use chain::block_builder::build_block;
use chain::BlockError;

use crate::context::Node;

/// Room kept in a block for the coinbase, as Core's miner keeps.
const COINBASE_RESERVED_WEIGHT: u64 = 8_000;

/// Mines `count` blocks paying `payout`, each with the mempool's best
/// transactions, each accepted before the next is built. Returns their
/// hashes.
pub fn generate(node: &Node, payout: &ScriptBuf, count: u32) -> Result<Vec<BlockHash>, BlockError> {
    let mut hashes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        if node.shutdown_requested() {
            break;
        }
        let hash = node.change_chain(|chain| {
            let selected = node
                .mempool()
                .select(chain::consensus::MAX_BLOCK_WEIGHT - COINBASE_RESERVED_WEIGHT);
            let fees = selected.iter().map(|e| e.fee).sum::<Amount>();
            let transactions: Vec<_> = selected.into_iter().map(|e| e.tx).collect();
            // The same tip, payout and second give the same block; one the
            // index already holds (say, invalidated) is skipped by taking a
            // later time.
            let mut time = node.now() as u32;
            loop {
                let block = build_block(chain, payout.clone(), transactions.clone(), fees, time);
                match chain.process_block(&block, node.now()) {
                    Ok(_) => return Ok(block.block_hash()),
                    Err(BlockError::Duplicate | BlockError::DuplicateInvalid) => {
                        time = block.header.time + 1
                    }
                    Err(error) => return Err(error),
                }
            }
        })?;
        hashes.push(hash);
    }
    Ok(hashes)
}

/// Bitcoin Core's `UpdateTip:` line.
pub fn log_tip(node: &Node, chain: &chain::ChainState) {
    let entry = chain.tip_entry();
    node.log(format!(
        "UpdateTip: new best={} height={} version=0x{:08x} log2_work={:.6} tx={} date='{}'",
        chain.tip(),
        entry.height,
        entry.header.version.to_consensus(),
        log2_work(&entry.chain_work),
        entry.height + 1,
        format_time(entry.header.time),
    ));
}

/// log2 of a chain's work, for log lines.
pub fn log2_work(work: &bitcoin::Work) -> f64 {
    let bytes = work.to_be_bytes();
    let mut value = 0f64;
    for byte in bytes {
        value = value * 256.0 + f64::from(byte);
    }
    value.log2()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a block time.
pub fn format_time(time: u32) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(time));
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_format_as_core_does() {
        assert_eq!(super::format_time(1296688602), "2011-02-02T23:16:42Z");
        assert_eq!(super::format_time(0), "1970-01-01T00:00:00Z");
    }
}
