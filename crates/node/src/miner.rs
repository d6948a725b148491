//! [`interfaces::Mining`] for external miners (served over IPC by
//! `c1pzo-node -ipcbind`): templates built as `generatetoaddress` builds
//! blocks, solutions and blocks checked and connected with Core's reject
//! reasons, tip waits that honour timeouts and interrupts.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::block::Header;
use bitcoin::hashes::Hash;
use bitcoin::{Amount, Block, BlockHash, ScriptBuf, Transaction, Txid, Wtxid};
use chain::block_builder::{bip34_prefix, build_block};
use chain::{BlockError, BlockOutcome};
use interfaces::{
    BlockCreateOptions, BlockRef, BlockTemplate, BlockVerdict, CoinbaseTemplate, Mining,
};

use crate::Node;

pub struct NodeMining {
    node: Arc<Node>,
    /// Bumped by `interrupt`: waits that began before it end.
    interrupts: Arc<AtomicU64>,
}

impl NodeMining {
    pub fn new(node: Arc<Node>) -> Arc<NodeMining> {
        Arc::new(NodeMining {
            node,
            interrupts: Arc::new(AtomicU64::new(0)),
        })
    }
}

fn tip(node: &Node) -> BlockRef {
    let chain = node.chain();
    BlockRef {
        hash: chain.tip(),
        height: chain.height(),
    }
}

/// Core's verdict for a block `process_block` handled.
fn verdict(outcome: Result<BlockOutcome, BlockError>) -> BlockVerdict {
    match outcome {
        Ok(BlockOutcome::NewTip) => BlockVerdict {
            accepted: true,
            ..BlockVerdict::default()
        },
        Ok(BlockOutcome::SideBranch) => BlockVerdict {
            accepted: false,
            reason: "inconclusive".into(),
            debug: "valid, but not on the most-work chain".into(),
        },
        Err(BlockError::Duplicate) => BlockVerdict {
            accepted: false,
            reason: "duplicate".into(),
            debug: String::new(),
        },
        Err(BlockError::DuplicateInvalid) => BlockVerdict {
            accepted: false,
            reason: "duplicate-invalid".into(),
            debug: String::new(),
        },
        Err(error) => BlockVerdict {
            accepted: false,
            reason: error.to_string(),
            debug: String::new(),
        },
    }
}

impl Mining for NodeMining {
    fn is_test_chain(&self) -> bool {
        self.node.chain_name != "main"
    }

    fn is_initial_block_download(&self) -> bool {
        false
    }

    fn get_tip(&self) -> Option<BlockRef> {
        Some(tip(&self.node))
    }

    fn wait_tip_changed(&self, current_tip: BlockHash, timeout: Duration) -> Option<BlockRef> {
        let generation = self.interrupts.load(Ordering::SeqCst);
        let interrupts = self.interrupts.clone();
        // Durations beyond a day are "forever" (Core's default is the
        // largest double).
        let timeout = (timeout < Duration::from_secs(86_400)).then_some(timeout);
        self.node.wait_for_tip(timeout, |node| {
            node.chain().tip() != current_tip || interrupts.load(Ordering::SeqCst) != generation
        });
        Some(tip(&self.node))
    }

    fn create_new_block(
        &self,
        options: BlockCreateOptions,
    ) -> Result<Box<dyn BlockTemplate>, String> {
        let node = &self.node;
        let chain = node.chain();
        let selected = if options.use_mempool {
            node.mempool().select(
                chain::consensus::MAX_BLOCK_WEIGHT.saturating_sub(options.block_reserved_weight),
            )
        } else {
            Vec::new()
        };
        let fees: Vec<i64> = selected.iter().map(|e| e.fee.to_sat() as i64).collect();
        let total: Amount = selected.iter().map(|e| e.fee).sum();
        let transactions: Vec<Transaction> = selected.into_iter().map(|e| e.tx).collect();
        // The payout is the miner's to choose; the template carries an
        // empty placeholder script, as Core's does.
        let block = build_block(
            &chain,
            ScriptBuf::new(),
            transactions,
            total,
            node.now() as u32,
        );
        let height = chain.height() + 1;
        drop(chain);
        Ok(Box::new(Template {
            node: node.clone(),
            block,
            height,
            fees,
            interrupts: self.interrupts.clone(),
            waiting: Arc::new(AtomicBool::new(false)),
        }))
    }

    fn check_block(&self, block: &Block, check_merkle_root: bool, check_pow: bool) -> BlockVerdict {
        let refuse = |reason: String| BlockVerdict {
            accepted: false,
            reason,
            debug: String::new(),
        };
        // The checks a caller turned off are met on a copy instead (on
        // regtest a nonce that meets the target is found at once), so
        // everything else is still checked in Core's order.
        let mut copy = block.clone();
        if !check_merkle_root {
            if let Some(root) = copy.compute_merkle_root() {
                copy.header.merkle_root = root;
            }
        }
        if !check_pow {
            chain::block_builder::grind(&mut copy.header);
        }
        let chain = self.node.chain();
        if let Err(error) = chain::check::check_block(&copy, chain.consensus()) {
            return refuse(error.to_string());
        }
        if copy.header.prev_blockhash != chain.tip() {
            return refuse("inconclusive-not-best-prevblk".into());
        }
        BlockVerdict {
            accepted: true,
            ..BlockVerdict::default()
        }
    }

    fn submit_block(&self, block: &Block) -> BlockVerdict {
        let now = self.node.now();
        verdict(
            self.node
                .change_chain(|chain| chain.process_block(block, now)),
        )
    }

    fn interrupt(&self) {
        self.interrupts.fetch_add(1, Ordering::SeqCst);
        self.node.notify_tip();
    }

    fn transactions_by_txid(&self, txids: &[Txid]) -> Vec<Option<Transaction>> {
        let mempool = self.node.mempool();
        txids
            .iter()
            .map(|txid| mempool.get(txid).map(|e| e.tx.clone()))
            .collect()
    }

    fn transactions_by_wtxid(&self, wtxids: &[Wtxid]) -> Vec<Option<Transaction>> {
        let mempool = self.node.mempool();
        wtxids
            .iter()
            .map(|wtxid| {
                mempool
                    .entries()
                    .find(|e| e.wtxid == *wtxid)
                    .map(|e| e.tx.clone())
            })
            .collect()
    }
}

struct Template {
    node: Arc<Node>,
    block: Block,
    height: u32,
    fees: Vec<i64>,
    interrupts: Arc<AtomicU64>,
    waiting: Arc<AtomicBool>,
}

impl BlockTemplate for Template {
    fn header(&self) -> Header {
        self.block.header
    }

    fn block(&self) -> Block {
        self.block.clone()
    }

    fn tx_fees(&self) -> Vec<i64> {
        self.fees.clone()
    }

    fn tx_sigops(&self) -> Vec<i64> {
        self.block
            .txdata
            .iter()
            .skip(1)
            .map(|tx| {
                let legacy: usize = tx
                    .input
                    .iter()
                    .map(|i| i.script_sig.count_sigops_legacy())
                    .chain(
                        tx.output
                            .iter()
                            .map(|o| o.script_pubkey.count_sigops_legacy()),
                    )
                    .sum();
                legacy as i64 * 4
            })
            .collect()
    }

    fn coinbase(&self) -> CoinbaseTemplate {
        let coinbase = &self.block.txdata[0];
        let committed = coinbase
            .output
            .iter()
            .filter(|o| o.script_pubkey.is_op_return())
            .cloned()
            .collect::<Vec<_>>();
        CoinbaseTemplate {
            version: coinbase.version.0 as u32,
            sequence: coinbase.input[0].sequence.0,
            script_sig_prefix: bip34_prefix(self.height).into_bytes(),
            witness: (!committed.is_empty()).then(|| vec![0u8; 32]),
            block_reward_remaining: coinbase
                .output
                .iter()
                .filter(|o| !o.script_pubkey.is_op_return())
                .map(|o| o.value.to_sat() as i64)
                .sum(),
            required_outputs: committed,
            lock_time: coinbase.lock_time.to_consensus_u32(),
        }
    }

    fn coinbase_merkle_path(&self) -> Vec<[u8; 32]> {
        // The coinbase is leaf 0: at each level its sibling is the next
        // node (or itself when the level is odd).
        let mut level: Vec<[u8; 32]> = self
            .block
            .txdata
            .iter()
            .map(|tx| tx.compute_txid().to_byte_array())
            .collect();
        let mut path = Vec::new();
        while level.len() > 1 {
            path.push(*level.get(1).unwrap_or(&level[0]));
            level = level
                .chunks(2)
                .map(|pair| {
                    let right = pair.get(1).unwrap_or(&pair[0]);
                    let mut both = pair[0].to_vec();
                    both.extend_from_slice(right);
                    bitcoin::hashes::sha256d::Hash::hash(&both).to_byte_array()
                })
                .collect();
        }
        path
    }

    fn submit_solution(
        &self,
        version: u32,
        timestamp: u32,
        nonce: u32,
        coinbase: Transaction,
    ) -> BlockVerdict {
        let mut block = self.block.clone();
        block.header.version = bitcoin::block::Version::from_consensus(version as i32);
        block.header.time = timestamp;
        block.header.nonce = nonce;
        block.txdata[0] = coinbase;
        block.header.merkle_root = block
            .compute_merkle_root()
            .unwrap_or(block.header.merkle_root);
        let now = self.node.now();
        verdict(
            self.node
                .change_chain(|chain| chain.process_block(&block, now)),
        )
    }

    fn wait_next(&self, timeout: Duration, fee_threshold: i64) -> Option<Box<dyn BlockTemplate>> {
        let generation = self.interrupts.load(Ordering::SeqCst);
        self.waiting.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let prev = self.block.header.prev_blockhash;
        let fees: i64 = self.fees.iter().sum();
        let mining = NodeMining {
            node: self.node.clone(),
            interrupts: self.interrupts.clone(),
        };
        let options = BlockCreateOptions {
            use_mempool: true,
            block_reserved_weight: 8_000,
            coinbase_output_max_additional_sigops: 400,
        };
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            let slice = left.min(Duration::from_millis(100));
            self.node.wait_for_tip(Some(slice), |node| {
                node.chain().tip() != prev || !self.waiting.load(Ordering::SeqCst)
            });
            let interrupted = self.interrupts.load(Ordering::SeqCst) != generation
                || !self.waiting.load(Ordering::SeqCst);
            if interrupted || self.node.shutdown_requested() {
                return None;
            }
            if self.node.chain().tip() != prev {
                return mining.create_new_block(options).ok();
            }
            // Same tip: a new template only if the pool now pays enough
            // more.
            if fee_threshold < i64::MAX {
                let candidate = mining.create_new_block(options).ok()?;
                let more: i64 = candidate.tx_fees().iter().sum();
                if more - fees >= fee_threshold {
                    return Some(candidate);
                }
            }
            if started.elapsed() >= timeout {
                return None;
            }
        }
    }

    fn interrupt_wait(&self) {
        self.waiting.store(false, Ordering::SeqCst);
        self.node.notify_tip();
    }
}
