//! A test key and what the tests need to spend with it: its regtest
//! P2WPKH address and signed transactions, made with rust-bitcoin and
//! secp256k1 so that the node checks real signatures.

use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    Address, Amount, CompressedPublicKey, Network, OutPoint, ScriptBuf, Sequence, Transaction,
    TxIn, TxOut, Txid, Witness,
};

pub struct Key {
    secret: SecretKey,
    public: CompressedPublicKey,
}

impl Key {
    pub fn new(seed: u8) -> Key {
        let secret = SecretKey::from_slice(&[seed; 32]).expect("a valid key");
        let public = CompressedPublicKey(secret.public_key(&Secp256k1::new()));
        Key { secret, public }
    }

    pub fn script(&self) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&self.public.wpubkey_hash())
    }

    /// The compressed public key as hex (for descriptors).
    pub fn public_hex(&self) -> String {
        self.public.to_string()
    }

    pub fn address(&self) -> String {
        Address::p2wpkh(&self.public, Network::Regtest).to_string()
    }

    /// Signs every input, each spending `spent[i]` paid to this key.
    pub fn sign(&self, tx: &mut Transaction, spent: &[Amount]) {
        for (index, amount) in spent.iter().enumerate() {
            let sighash = SighashCache::new(&*tx)
                .p2wpkh_signature_hash(index, &self.script(), *amount, EcdsaSighashType::All)
                .expect("a valid input");
            let signature = Secp256k1::new().sign_ecdsa(&Message::from(sighash), &self.secret);
            let signature = bitcoin::ecdsa::Signature {
                signature,
                sighash_type: EcdsaSighashType::All,
            };
            tx.input[index].witness = Witness::p2wpkh(&signature, &self.public.0);
        }
    }

    /// A signed transaction spending `(txid, vout)` worth `value` to
    /// `payee`, paying `fee`.
    pub fn spend(
        &self,
        txid: Txid,
        vout: u32,
        value: Amount,
        payee: ScriptBuf,
        fee: Amount,
    ) -> Transaction {
        let mut tx = unsigned(txid, vout, payee, value - fee);
        self.sign(&mut tx, &[value]);
        tx
    }
}

pub fn unsigned(txid: Txid, vout: u32, payee: ScriptBuf, value: Amount) -> Transaction {
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint { txid, vout },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value,
            script_pubkey: payee,
        }],
    }
}

pub fn to_hex(tx: &Transaction) -> String {
    hex::encode(bitcoin::consensus::encode::serialize(tx))
}
