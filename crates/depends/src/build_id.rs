//! Build ids: a sha256 over everything that can change a package's output.
//!
//! The preimage is kept as named entries (recipe, source, patches, toolchain
//! tools and flags, options, dependency ids, engine version) and stored with
//! each cached build, so `plan` can say which entry changed instead of only
//! that the hash did.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Bumped whenever the engine changes how it builds or packs packages, so
/// every cached build made by an older engine is rebuilt.
pub const ENGINE_VERSION: &str = "c1pzo-depends-2";

/// Hex digits of a build id used in file names, as upstream's HASH_LENGTH.
pub const SHORT_LEN: usize = 11;

/// Named inputs of a build id, ordered.
pub type Preimage = BTreeMap<String, String>;

/// sha256 (hex) over a preimage's canonical JSON.
pub fn hash_entries(entries: &Preimage) -> String {
    let json = serde_json::to_string(entries).unwrap_or_default();
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// One line per entry that differs between an old and a new preimage,
/// `key: old -> new`, most telling first (removed/added entries included).
pub fn explain_change(old: &Preimage, new: &Preimage) -> Vec<String> {
    let mut lines = Vec::new();
    for (key, value) in new {
        match old.get(key) {
            Some(previous) if previous == value => {}
            Some(previous) => lines.push(format!(
                "{key}: {} -> {}",
                abbreviate(previous),
                abbreviate(value)
            )),
            None => lines.push(format!("{key}: added ({})", abbreviate(value))),
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        lines.push(format!("{key}: removed"));
    }
    lines
}

fn abbreviate(value: &str) -> String {
    let hexlike = value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit());
    if hexlike {
        value[..SHORT_LEN].to_string()
    } else if value.is_empty() {
        "(empty)".into()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_change_with_any_entry_and_changes_are_explained() {
        let mut a = Preimage::new();
        a.insert("source".into(), "a".repeat(64));
        a.insert("toolchain tool CC".into(), "gcc 12.2.0 [abc]".into());
        let mut b = a.clone();
        b.insert("toolchain tool CC".into(), "gcc 13.1.0 [def]".into());
        b.insert("release_type".into(), "debug".into());
        assert_ne!(hash_entries(&a), hash_entries(&b));
        assert_eq!(hash_entries(&a), hash_entries(&a.clone()));
        let lines = explain_change(&a, &b);
        assert_eq!(
            lines,
            [
                "release_type: added (debug)",
                "toolchain tool CC: gcc 12.2.0 [abc] -> gcc 13.1.0 [def]"
            ]
        );
    }
}
