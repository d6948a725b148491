//! The chainstate on a real redb database in a temp directory: mining,
//! spending, every refused-block reason the checks give, reorganisations,
//! invalidate/reconsider, and reopening.

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::CompressedPublicKey;
use bitcoin::{Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use chain::block_builder::{build_block, grind};
use chain::{BlockOutcome, ChainState, Consensus};

const NOW: u64 = 2_000_000_000;

fn genesis() -> Block {
    bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Regtest)
}

/// The test key: secret `[tag + 1; 32]`.
fn key(tag: u8) -> (SecretKey, CompressedPublicKey) {
    let secp = Secp256k1::new();
    let secret = SecretKey::from_slice(&[tag + 1; 32]).unwrap();
    (secret, CompressedPublicKey(secret.public_key(&secp)))
}

/// P2WPKH to the test key `tag`.
fn payout(tag: u8) -> ScriptBuf {
    ScriptBuf::new_p2wpkh(&key(tag).1.wpubkey_hash())
}

/// Signs input 0 of `tx`, which spends `value` paid to `payout(tag)`.
fn sign(tx: &mut Transaction, tag: u8, value: u64) {
    let (secret, public) = key(tag);
    let sighash = SighashCache::new(&*tx)
        .p2wpkh_signature_hash(
            0,
            &payout(tag),
            Amount::from_sat(value),
            EcdsaSighashType::All,
        )
        .unwrap();
    let signature = Secp256k1::new().sign_ecdsa(&Message::from(sighash), &secret);
    let signature = bitcoin::ecdsa::Signature {
        signature,
        sighash_type: EcdsaSighashType::All,
    };
    tx.input[0].witness = Witness::p2wpkh(&signature, &public.0);
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    chain: ChainState,
    time: u32,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chainstate.redb");
        let chain = ChainState::open(&path, Consensus::regtest(), &genesis()).unwrap();
        Fixture {
            _dir: dir,
            path,
            chain,
            time: 1_700_000_000,
        }
    }

    fn block(&mut self, txs: Vec<Transaction>, fees: u64) -> Block {
        self.time += 1;
        build_block(
            &self.chain,
            payout(0),
            txs,
            Amount::from_sat(fees),
            self.time,
        )
    }

    fn mine(&mut self, count: usize) -> Vec<Block> {
        (0..count)
            .map(|_| {
                let block = self.block(vec![], 0);
                assert_eq!(
                    self.chain.process_block(&block, NOW).unwrap(),
                    BlockOutcome::NewTip
                );
                block
            })
            .collect()
    }
}

fn spend(from: &Block, value: u64) -> Transaction {
    let mut tx = unsigned_spend(from, value);
    sign(&mut tx, 0, from.txdata[0].output[0].value.to_sat());
    tx
}

fn unsigned_spend(from: &Block, value: u64) -> Transaction {
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: from.txdata[0].compute_txid(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(value),
            script_pubkey: payout(9),
        }],
    }
}

fn assert_refused(f: &mut Fixture, block: &Block, reason: &str) {
    let tip = f.chain.tip();
    let err = f.chain.process_block(block, NOW).unwrap_err();
    assert_eq!(err.to_string(), reason);
    assert_eq!(f.chain.tip(), tip, "the chainstate must not move");
}

#[test]
fn mining_builds_the_chain_and_it_survives_reopening() {
    let mut f = Fixture::new();
    let blocks = f.mine(101);
    assert_eq!(f.chain.height(), 101);
    let tip = f.chain.tip();
    let coinbase = OutPoint {
        txid: blocks[0].txdata[0].compute_txid(),
        vout: 0,
    };
    let coin = f.chain.coin(&coinbase).unwrap().unwrap();
    assert_eq!(coin.height, 1);
    assert!(coin.is_coinbase);
    assert_eq!(coin.output.value, Amount::from_sat(5_000_000_000));
    drop(f.chain);
    let reopened = ChainState::open(&f.path, Consensus::regtest(), &genesis()).unwrap();
    assert_eq!(reopened.height(), 101);
    assert_eq!(reopened.tip(), tip);
    assert_eq!(reopened.coin(&coinbase).unwrap(), Some(coin));
    assert_eq!(reopened.block_hash(1), Some(blocks[0].block_hash()));
}

#[test]
fn the_subsidy_halves_at_150() {
    let mut f = Fixture::new();
    let blocks = f.mine(150);
    assert_eq!(
        blocks[148].txdata[0].output[0].value,
        Amount::from_sat(5_000_000_000)
    );
    assert_eq!(
        blocks[149].txdata[0].output[0].value,
        Amount::from_sat(2_500_000_000)
    );
}

#[test]
fn a_mature_coinbase_can_be_spent_and_fees_go_to_the_miner() {
    let mut f = Fixture::new();
    let blocks = f.mine(100);
    let tx = spend(&blocks[0], 4_999_990_000);
    let block = f.block(vec![tx.clone()], 10_000);
    f.chain.process_block(&block, NOW).unwrap();
    let spent = OutPoint {
        txid: blocks[0].txdata[0].compute_txid(),
        vout: 0,
    };
    assert_eq!(f.chain.coin(&spent).unwrap(), None);
    let created = OutPoint {
        txid: tx.compute_txid(),
        vout: 0,
    };
    assert_eq!(
        f.chain.coin(&created).unwrap().unwrap().output.value,
        Amount::from_sat(4_999_990_000)
    );
}

#[test]
fn invalid_blocks_are_refused_with_core_reasons_and_change_nothing() {
    let mut f = Fixture::new();
    let blocks = f.mine(100);

    let mut high_hash = f.block(vec![], 0);
    while bitcoin::Target::from_compact(high_hash.header.bits).is_met_by(high_hash.block_hash()) {
        high_hash.header.nonce += 1;
    }
    assert_refused(&mut f, &high_hash, "high-hash");

    let mut bad_merkle = f.block(vec![], 0);
    bad_merkle.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    grind(&mut bad_merkle.header);
    assert_refused(&mut f, &bad_merkle, "bad-txnmrklroot");

    let mut missing = spend(&blocks[0], 1);
    missing.input[0].previous_output.vout = 7;
    let block = f.block(vec![missing], 0);
    assert_refused(&mut f, &block, "bad-txns-inputs-missingorspent");

    // The same coin twice in one block.
    let first = spend(&blocks[0], 1_000);
    let second = spend(&blocks[0], 2_000);
    let block = f.block(vec![first, second], 0);
    assert_refused(&mut f, &block, "bad-txns-inputs-missingorspent");

    let block = f.block(vec![spend(&blocks[1], 1_000)], 0);
    assert_refused(&mut f, &block, "bad-txns-premature-spend-of-coinbase");

    let block = f.block(vec![spend(&blocks[0], 6_000_000_000)], 0);
    assert_refused(&mut f, &block, "bad-txns-in-belowout");

    let block = f.block(vec![], 1);
    assert_refused(&mut f, &block, "bad-cb-amount");

    // Signed by the wrong key, and not signed at all.
    let mut forged = unsigned_spend(&blocks[0], 1_000);
    sign(&mut forged, 1, 5_000_000_000);
    let block = f.block(vec![forged], 0);
    assert_refused(
        &mut f,
        &block,
        "mandatory-script-verify-flag-failed (Script failed)",
    );
    let block = f.block(vec![unsigned_spend(&blocks[0], 1_000)], 0);
    assert_refused(
        &mut f,
        &block,
        "mandatory-script-verify-flag-failed (Script failed)",
    );

    let mut bad_height = f.block(vec![], 0);
    bad_height.txdata[0].input[0].script_sig = ScriptBuf::from_bytes(vec![0x01, 0x05, 0x00]);
    bad_height.header.merkle_root = bad_height.compute_merkle_root().unwrap();
    grind(&mut bad_height.header);
    assert_refused(&mut f, &bad_height, "bad-cb-height");

    let mut old = f.block(vec![], 0);
    old.header.time = 1_600_000_000;
    grind(&mut old.header);
    assert_refused(&mut f, &old, "time-too-old");

    let mut orphan = f.block(vec![], 0);
    orphan.header.prev_blockhash = bitcoin::BlockHash::all_zeros();
    grind(&mut orphan.header);
    assert_refused(&mut f, &orphan, "prev-blk-not-found");

    let tip_block = f.chain.block(&f.chain.tip()).unwrap().unwrap();
    assert_refused(&mut f, &tip_block, "duplicate");

    // And a valid block is still accepted afterwards.
    f.mine(1);
    assert_eq!(f.chain.height(), 101);
}

#[test]
fn a_longer_branch_reorganises_and_invalidate_reconsider_round_trip() {
    let mut f = Fixture::new();
    let main = f.mine(5);
    let old_tip = f.chain.tip();
    // Fork from height 3: build 3 blocks on block 3 (heights 4, 5, 6).
    let fork_base = main[2].block_hash();
    let mut branch = Vec::new();
    let mut prev = fork_base;
    for height in 4..=6u32 {
        let time = f.time + 100 + height;
        // A different payout, so the branch's coinbases are new coins.
        let coinbase =
            chain::block_builder::coinbase(height, payout(1), Amount::from_sat(5_000_000_000));
        let mut block = Block {
            header: bitcoin::block::Header {
                version: bitcoin::block::Version::from_consensus(0x2000_0000),
                prev_blockhash: prev,
                merkle_root: bitcoin::TxMerkleNode::all_zeros(),
                time,
                bits: f.chain.tip_entry().header.bits,
                nonce: 0,
            },
            txdata: vec![coinbase],
        };
        block.txdata[0].input[0].witness = Witness::new();
        block.header.merkle_root = block.compute_merkle_root().unwrap();
        grind(&mut block.header);
        prev = block.block_hash();
        branch.push(block);
    }
    assert_eq!(
        f.chain.process_block(&branch[0], NOW).unwrap(),
        BlockOutcome::SideBranch
    );
    assert_eq!(
        f.chain.process_block(&branch[1], NOW).unwrap(),
        BlockOutcome::SideBranch
    );
    assert_eq!(
        f.chain.tip(),
        old_tip,
        "equal work keeps the first-seen tip"
    );
    assert_eq!(
        f.chain.process_block(&branch[2], NOW).unwrap(),
        BlockOutcome::NewTip
    );
    assert_eq!(f.chain.height(), 6);
    let gone = OutPoint {
        txid: main[4].txdata[0].compute_txid(),
        vout: 0,
    };
    let came = OutPoint {
        txid: branch[2].txdata[0].compute_txid(),
        vout: 0,
    };
    assert_eq!(f.chain.coin(&gone).unwrap(), None);
    assert!(f.chain.coin(&came).unwrap().is_some());

    // invalidateblock on the branch goes back to the old chain...
    let disconnected = f.chain.invalidate_block(&branch[0].block_hash()).unwrap();
    assert_eq!(disconnected.len(), 3);
    assert_eq!(f.chain.tip(), old_tip);
    assert!(f.chain.coin(&gone).unwrap().is_some());
    assert_eq!(f.chain.coin(&came).unwrap(), None);
    // ...and reconsiderblock returns to the branch.
    f.chain.reconsider_block(&branch[0].block_hash()).unwrap();
    assert_eq!(f.chain.tip(), branch[2].block_hash());
    assert!(f.chain.coin(&came).unwrap().is_some());
}

/// A taproot key-path spend of a coinbase paid to `secret`'s P2TR output,
/// signed by `signer`.
fn taproot_spend(from: &Block, secret: [u8; 32], signer: [u8; 32]) -> (ScriptBuf, Transaction) {
    use bitcoin::key::{Keypair, TapTweak};
    use bitcoin::sighash::{Prevouts, TapSighashType};
    let secp = Secp256k1::new();
    let owner = Keypair::from_seckey_slice(&secp, &secret).unwrap();
    let (internal, _) = owner.x_only_public_key();
    let script = ScriptBuf::new_p2tr(&secp, internal, None);
    let mut tx = unsigned_spend(from, 4_999_990_000);
    let prevout = TxOut {
        value: from.txdata[0].output[0].value,
        script_pubkey: script.clone(),
    };
    let sighash = SighashCache::new(&tx)
        .taproot_key_spend_signature_hash(0, &Prevouts::All(&[prevout]), TapSighashType::Default)
        .unwrap();
    let tweaked = Keypair::from_seckey_slice(&secp, &signer)
        .unwrap()
        .tap_tweak(&secp, None);
    let signature = secp.sign_schnorr_no_aux_rand(&Message::from(sighash), &tweaked.to_keypair());
    let signature = bitcoin::taproot::Signature {
        signature,
        sighash_type: TapSighashType::Default,
    };
    tx.input[0].witness = Witness::p2tr_key_spend(&signature);
    (script, tx)
}

#[test]
fn taproot_spends_are_verified() {
    let mut f = Fixture::new();
    let (script, _) = taproot_spend(&f.block(vec![], 0), [5; 32], [5; 32]);
    // Two coinbases paid to the taproot key, then maturity.
    let mut funding = Vec::new();
    for _ in 0..2 {
        f.time += 1;
        let block = build_block(&f.chain, script.clone(), vec![], Amount::ZERO, f.time);
        f.chain.process_block(&block, NOW).unwrap();
        funding.push(block);
    }
    f.mine(100);
    let (_, forged) = taproot_spend(&funding[0], [5; 32], [6; 32]);
    let block = f.block(vec![forged], 10_000);
    assert_refused(
        &mut f,
        &block,
        "mandatory-script-verify-flag-failed (Script failed)",
    );
    let (_, signed) = taproot_spend(&funding[1], [5; 32], [5; 32]);
    let block = f.block(vec![signed], 10_000);
    f.chain.process_block(&block, NOW).unwrap();
}

#[test]
fn the_sigop_cost_limit_holds() {
    let mut f = Fixture::new();
    f.mine(1);
    // Each legacy OP_CHECKSIG costs 4: 20,001 of them are over 80,000.
    f.time += 1;
    let heavy = build_block(
        &f.chain,
        ScriptBuf::from_bytes(vec![0xac; 20_001]),
        vec![],
        Amount::ZERO,
        f.time,
    );
    assert_refused(&mut f, &heavy, "bad-blk-sigops");
    let fits = build_block(
        &f.chain,
        ScriptBuf::from_bytes(vec![0xac; 20_000]),
        vec![],
        Amount::ZERO,
        f.time + 1,
    );
    f.chain.process_block(&fits, NOW).unwrap();
}
