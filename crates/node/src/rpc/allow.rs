//! `-rpcallowip`: which client addresses may use the RPC server. Loopback
//! is always allowed; a single address, `addr/netmask` or `addr/prefix`
//! adds more. Others get HTTP 403, as from Bitcoin Core.

use std::net::IpAddr;

pub use crate::subnet::Subnet;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Invalid -rpcallowip subnet specification: {0}. Valid values are a single IP (e.g. 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR (e.g. 1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0).")]
pub struct BadSubnet(pub String);

/// The clients the server accepts.
#[derive(Clone, Debug)]
pub struct AllowList(Vec<Subnet>);

impl AllowList {
    /// Loopback plus every `-rpcallowip` value.
    pub fn new(values: &[String]) -> Result<AllowList, BadSubnet> {
        let mut subnets = vec![
            Subnet::parse("127.0.0.0/8").expect("valid"),
            Subnet::parse("::1").expect("valid"),
        ];
        for value in values {
            subnets.push(Subnet::parse(value).ok_or_else(|| BadSubnet(value.clone()))?);
        }
        Ok(AllowList(subnets))
    }

    pub fn allows(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|subnet| subnet.contains(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn subnets_match_as_core_reads_them() {
        let list = AllowList::new(&[
            "10.1.0.0/16".into(),
            "192.168.1.0/255.255.255.0".into(),
            "1.2.3.4".into(),
            "fd00::/8".into(),
        ])
        .unwrap();
        assert!(list.allows(&ip("127.0.0.1")));
        assert!(list.allows(&ip("127.9.9.9")));
        assert!(list.allows(&ip("::1")));
        assert!(list.allows(&ip("10.1.200.3")));
        assert!(!list.allows(&ip("10.2.0.1")));
        assert!(list.allows(&ip("192.168.1.77")));
        assert!(!list.allows(&ip("192.168.2.1")));
        assert!(list.allows(&ip("1.2.3.4")));
        assert!(!list.allows(&ip("1.2.3.5")));
        assert!(list.allows(&ip("fd12::1")));
        assert!(
            list.allows(&ip("::ffff:10.1.0.9")),
            "IPv4-mapped addresses count as IPv4"
        );
        let all = AllowList::new(&["0.0.0.0/0".into()]).unwrap();
        assert!(all.allows(&ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "nonsense",
            "10.0.0.0/255.0.255.0",
            "1.2.3.4/",
        ] {
            let err = AllowList::new(&[bad.into()]).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("Invalid -rpcallowip subnet specification: {bad}.")),
                "{err}"
            );
        }
    }
}
