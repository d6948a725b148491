//! The wallet's descriptors: the eight Bitcoin Core creates for a new
//! wallet (legacy, p2sh-segwit, bech32 and bech32m, each for receiving and
//! for change), imported ones, and the scripts each has derived so far.

use std::str::FromStr;

use bitcoin::bip32::{DerivationPath, Xpriv};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{NetworkKind, ScriptBuf};
use miniscript::descriptor::{Descriptor, DescriptorPublicKey, KeyMap};
use serde::{Deserialize, Serialize};

/// Core's `-addresstype` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AddressType {
    Legacy,
    P2shSegwit,
    Bech32,
    Bech32m,
}

impl AddressType {
    pub const ALL: [AddressType; 4] = [
        AddressType::Legacy,
        AddressType::P2shSegwit,
        AddressType::Bech32,
        AddressType::Bech32m,
    ];

    /// Core's name (`legacy`, `p2sh-segwit`, `bech32`, `bech32m`).
    pub fn name(self) -> &'static str {
        match self {
            AddressType::Legacy => "legacy",
            AddressType::P2shSegwit => "p2sh-segwit",
            AddressType::Bech32 => "bech32",
            AddressType::Bech32m => "bech32m",
        }
    }

    pub fn parse(name: &str) -> Option<AddressType> {
        AddressType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The BIP44/49/84/86 purpose its keys derive under.
    fn purpose(self) -> u32 {
        match self {
            AddressType::Legacy => 44,
            AddressType::P2shSegwit => 49,
            AddressType::Bech32 => 84,
            AddressType::Bech32m => 86,
        }
    }

    fn wrap(self, key: &str) -> String {
        match self {
            AddressType::Legacy => format!("pkh({key})"),
            AddressType::P2shSegwit => format!("sh(wpkh({key}))"),
            AddressType::Bech32 => format!("wpkh({key})"),
            AddressType::Bech32m => format!("tr({key})"),
        }
    }
}

/// Where a descriptor's private keys are, if it has any.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Secret {
    /// The descriptor with private keys, in the clear.
    Plain(String),
    /// The same, sealed under the wallet's master key (hex).
    Encrypted(String),
}

/// One descriptor as stored (Core's `WalletDescriptor`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DescriptorRecord {
    /// Public form, with checksum.
    pub descriptor: String,
    pub secret: Option<Secret>,
    /// When its keys were made or imported (seconds): the rescan start.
    pub timestamp: i64,
    /// `[start, end]` of the range derived so far, for ranged ones.
    pub range: Option<(u32, u32)>,
    /// The next index `getnewaddress` hands out.
    pub next_index: u32,
    /// For active descriptors: the address type and whether for change.
    pub active: Option<(AddressType, bool)>,
    pub label: Option<String>,
}

/// A loaded descriptor: the record and its parsed form.
#[derive(Clone, Debug)]
pub struct WalletDescriptor {
    pub id: String,
    pub record: DescriptorRecord,
    pub descriptor: Descriptor<DescriptorPublicKey>,
    /// Scripts derived into the wallet's index so far: indexes below
    /// this (from the range's start). In memory only.
    pub derived: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DescriptorError {
    #[error("{0}")]
    Parse(String),
    #[error("Cannot derive script without private keys")]
    Derive,
}

impl WalletDescriptor {
    pub fn from_record(record: DescriptorRecord) -> Result<WalletDescriptor, DescriptorError> {
        let descriptor = Descriptor::<DescriptorPublicKey>::from_str(&record.descriptor)
            .map_err(|e| DescriptorError::Parse(e.to_string()))?;
        Ok(WalletDescriptor {
            id: descriptor_id(&record.descriptor),
            derived: record.range.map_or(0, |(start, _)| start),
            record,
            descriptor,
        })
    }

    pub fn is_ranged(&self) -> bool {
        self.descriptor.has_wildcard()
    }

    /// The script at `index` (ignored for unranged descriptors).
    pub fn script_at(&self, index: u32) -> Result<ScriptBuf, DescriptorError> {
        Ok(self
            .descriptor
            .at_derivation_index(index)
            .map_err(|_| DescriptorError::Derive)?
            .script_pubkey())
    }

    /// The weight spending one of its outputs adds to a transaction, at
    /// most: the bare input plus the largest satisfaction.
    pub fn input_weight(&self) -> u64 {
        let satisfaction = self
            .descriptor
            .max_weight_to_satisfy()
            .map(|w| w.to_wu())
            .unwrap_or(4 * 110);
        // Outpoint, sequence and an empty script's length byte, ×4.
        4 * (36 + 4 + 1) + satisfaction
    }
}

/// A stable identifier for a descriptor: the hash of its public form.
pub fn descriptor_id(descriptor: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(descriptor.as_bytes()))
}

/// Parses a descriptor that may hold private keys.
pub fn parse_private(
    text: &str,
) -> Result<(Descriptor<DescriptorPublicKey>, KeyMap), DescriptorError> {
    let secp = Secp256k1::signing_only();
    Descriptor::parse_descriptor(&secp, text).map_err(|e| DescriptorError::Parse(e.to_string()))
}

/// The eight active descriptors of a new wallet, from `seed`: for each
/// address type, `/0/*` to receive and `/1/*` for change, under BIP44,
/// 49, 84 and 86 paths with coin type 1 (test chains), as Core makes them.
/// Returns (public form, private form, type, internal).
pub fn generate(
    seed: &[u8],
    network: NetworkKind,
) -> Result<Vec<(String, String, AddressType, bool)>, DescriptorError> {
    let secp = Secp256k1::new();
    let master =
        Xpriv::new_master(network, seed).map_err(|e| DescriptorError::Parse(e.to_string()))?;
    let fingerprint = master.fingerprint(&secp);
    let coin = match network {
        NetworkKind::Main => 0,
        NetworkKind::Test => 1,
    };
    let mut out = Vec::new();
    for kind in AddressType::ALL {
        let origin = format!("{}h/{coin}h/0h", kind.purpose());
        let path = DerivationPath::from_str(&format!("m/{origin}")).expect("a valid path");
        let account = master
            .derive_priv(&secp, &path)
            .map_err(|e| DescriptorError::Parse(e.to_string()))?;
        for internal in [false, true] {
            let key = format!("[{fingerprint}/{origin}]{account}/{}/*", u8::from(internal));
            let (descriptor, keys) = parse_private(&kind.wrap(&key))?;
            out.push((
                descriptor.to_string(),
                descriptor.to_string_with_secret(&keys),
                kind,
                internal,
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_wallet_has_eight_descriptors_whose_scripts_match_their_types() {
        let generated = generate(&[7u8; 32], NetworkKind::Test).unwrap();
        assert_eq!(generated.len(), 8);
        for (public, private, kind, internal) in generated {
            assert!(!public.contains("tprv"), "{public}");
            assert!(private.contains("tprv"), "{private}");
            assert!(public.contains(if internal { "/1/*" } else { "/0/*" }));
            let record = DescriptorRecord {
                descriptor: public,
                secret: Some(Secret::Plain(private)),
                timestamp: 0,
                range: Some((0, 0)),
                next_index: 0,
                active: Some((kind, internal)),
                label: None,
            };
            let script = WalletDescriptor::from_record(record)
                .unwrap()
                .script_at(0)
                .unwrap();
            let ok = match kind {
                AddressType::Legacy => script.is_p2pkh(),
                AddressType::P2shSegwit => script.is_p2sh(),
                AddressType::Bech32 => script.is_p2wpkh(),
                AddressType::Bech32m => script.is_p2tr(),
            };
            assert!(ok, "{kind:?} gave {script}");
        }
    }
}
