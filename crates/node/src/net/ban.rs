//! Manual bans (`setban`, `listbanned`, `clearbanned`): subnets whose
//! peers are refused, kept in `banlist.json` so they outlive a restart,
//! and the addresses discouraged for misbehaving (not listed, not kept,
//! as in Core).

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::{json, Value};

pub use crate::subnet::Subnet;

/// Discouraged addresses remembered at most.
const MAX_DISCOURAGED: usize = 50_000;

#[derive(Clone, Copy, Debug)]
pub struct Ban {
    pub created: i64,
    pub until: i64,
}

/// The node's bans and discouragements.
#[derive(Default)]
pub struct BanList {
    bans: BTreeMap<Subnet, Ban>,
    discouraged: HashSet<IpAddr>,
    path: Option<PathBuf>,
}

impl BanList {
    /// The bans kept at `path`: none if the file is missing; one that
    /// cannot be read as a ban list is moved aside (to `<path>.bad`) and
    /// the node starts with none, as Core recreates its database.
    pub fn load(path: PathBuf, now: i64) -> (BanList, Option<String>) {
        let mut list = BanList {
            path: Some(path.clone()),
            ..BanList::default()
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (list, None),
            Err(e) => return (list, Some(format!("{}: {e}", path.display()))),
        };
        let parsed: Value = match serde_json::from_str(&text) {
            Ok(parsed) => parsed,
            Err(e) => {
                let aside = path.with_extension("json.bad");
                let _ = std::fs::rename(&path, &aside);
                let problem = format!(
                    "{} is not a ban list ({e}); moved to {} and starting with no bans",
                    path.display(),
                    aside.display()
                );
                return (list, Some(problem));
            }
        };
        for entry in parsed["banned_nets"].as_array().into_iter().flatten() {
            let (Some(subnet), Some(created), Some(until)) = (
                entry["address"].as_str().and_then(Subnet::parse),
                entry["ban_created"].as_i64(),
                entry["banned_until"].as_i64(),
            ) else {
                continue;
            };
            if until > now && until > created {
                list.bans.insert(subnet, Ban { created, until });
            }
        }
        (list, None)
    }

    pub fn is_banned(&self, address: IpAddr, now: i64) -> bool {
        self.bans
            .iter()
            .any(|(subnet, ban)| ban.until > now && subnet.contains(&address))
    }

    pub fn is_discouraged(&self, address: IpAddr) -> bool {
        self.discouraged.contains(&address)
    }

    pub fn discourage(&mut self, address: IpAddr) {
        // Bounded: past this many, the oldest knowledge is dropped all at
        // once (Core keeps a fixed-size rolling filter).
        if self.discouraged.len() >= MAX_DISCOURAGED {
            self.discouraged.clear();
        }
        self.discouraged.insert(address);
    }

    /// Adds a ban; false if `subnet` is banned already.
    pub fn ban(&mut self, subnet: Subnet, ban: Ban) -> bool {
        if self
            .bans
            .get(&subnet)
            .is_some_and(|b| b.until > ban.created)
        {
            return false;
        }
        self.bans.insert(subnet, ban);
        self.save();
        true
    }

    /// Lifts a ban; false if there was none.
    pub fn unban(&mut self, subnet: &Subnet) -> bool {
        let removed = self.bans.remove(subnet).is_some();
        if removed {
            self.save();
        }
        removed
    }

    pub fn clear(&mut self) {
        self.bans.clear();
        self.discouraged.clear();
        self.save();
    }

    /// `listbanned`'s entries, expired bans dropped.
    pub fn list(&mut self, now: i64) -> Vec<Value> {
        self.bans.retain(|_, ban| ban.until > now);
        self.bans
            .iter()
            .map(|(subnet, ban)| {
                json!({
                    "address": subnet.to_string(),
                    "ban_created": ban.created,
                    "banned_until": ban.until,
                    "ban_duration": ban.until.saturating_sub(ban.created),
                    "time_remaining": ban.until.saturating_sub(now),
                })
            })
            .collect()
    }

    fn save(&self) {
        let Some(path) = &self.path else { return };
        let nets: Vec<Value> = self
            .bans
            .iter()
            .map(|(subnet, ban)| {
                json!({
                    "version": 1,
                    "address": subnet.to_string(),
                    "ban_created": ban.created,
                    "banned_until": ban.until,
                })
            })
            .collect();
        // Written whole to a temporary name, then renamed over the old
        // file: a crash leaves one or the other, never half of each.
        let temporary = path.with_extension("json.new");
        let text = json!({ "banned_nets": nets }).to_string();
        if std::fs::write(&temporary, text).is_ok() {
            let _ = std::fs::rename(&temporary, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_survive_a_reload_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("banlist.json");
        let mut list = BanList::load(path.clone(), 1000).0;
        let subnet = Subnet::parse("192.168.0.0/24").unwrap();
        assert!(list.ban(
            subnet,
            Ban {
                created: 1000,
                until: 2000
            }
        ));
        assert!(
            !list.ban(
                subnet,
                Ban {
                    created: 1000,
                    until: 3000
                }
            ),
            "twice"
        );
        let mut again = BanList::load(path.clone(), 1500).0;
        assert!(again.is_banned("192.168.0.9".parse().unwrap(), 1500));
        assert_eq!(again.list(1500)[0]["time_remaining"], 500);
        assert!(BanList::load(path.clone(), 2500).0.list(2500).is_empty());
        std::fs::write(&path, "not json").unwrap();
        let (empty, problem) = BanList::load(path.clone(), 1500);
        assert!(empty.bans.is_empty() && problem.is_some());
        assert!(
            path.with_extension("json.bad").exists(),
            "the bad file is kept aside"
        );
        assert!(again.unban(&subnet));
        assert!(!again.unban(&subnet));
    }
}
