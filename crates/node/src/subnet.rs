//! An IP address or subnet as Bitcoin Core's `LookupSubNet` reads it:
//! `1.2.3.4`, `1.2.3.0/24`, `1.2.3.0/255.255.255.0`, `::1`, `fd00::/8`.
//! `-rpcallowip` and `setban` both take it.

use std::net::IpAddr;

/// A subnet; its network address is stored masked, so equal subnets
/// compare equal and print alike (`10.1.0.0/16` for `10.1.2.3/16`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    network: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// `None` for anything Core would not read as a subnet.
    pub fn parse(text: &str) -> Option<Subnet> {
        let (address, mask) = match text.split_once('/') {
            Some((address, mask)) => (address, Some(mask)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match mask {
            None => width,
            Some(mask) => match mask.parse::<u8>() {
                Ok(prefix) if prefix <= width => prefix,
                Ok(_) => return None,
                Err(_) => {
                    // A netmask: contiguous ones only.
                    let mask: IpAddr = mask.parse().ok()?;
                    let (leading, total) = match mask {
                        IpAddr::V4(v4) => {
                            (u32::from(v4).leading_ones(), u32::from(v4).count_ones())
                        }
                        IpAddr::V6(v6) => {
                            (u128::from(v6).leading_ones(), u128::from(v6).count_ones())
                        }
                    };
                    if mask.is_ipv4() != network.is_ipv4() || leading != total {
                        return None;
                    }
                    leading as u8
                }
            },
        };
        Some(Subnet {
            network: masked(network, prefix),
            prefix,
        })
    }

    /// Whether `address` is inside (an IPv4-mapped IPv6 address counts as
    /// IPv4).
    pub fn contains(&self, address: &IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*address),
            v4 => *v4,
        };
        address.is_ipv4() == self.network.is_ipv4() && masked(address, self.prefix) == self.network
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `address` with all but its first `prefix` bits cleared.
fn masked(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & kept).into())
        }
        IpAddr::V6(v6) => {
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & kept).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_parse_mask_and_print_as_core() {
        let one = Subnet::parse("127.0.0.1").unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(one.contains(&"::ffff:127.0.0.1".parse().unwrap()));
        assert!(!one.contains(&"127.0.0.2".parse().unwrap()));
        assert_eq!(
            Subnet::parse("10.1.2.3/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(
            Subnet::parse("192.168.1.9/255.255.255.0"),
            Subnet::parse("192.168.1.0/24")
        );
        assert_eq!(Subnet::parse("::1").unwrap().to_string(), "::1/128");
        assert!(Subnet::parse("0.0.0.0/0")
            .unwrap()
            .contains(&"8.8.8.8".parse().unwrap()));
        for bad in [
            "garbage",
            "1.2.3.4/33",
            "1.2.3/8",
            "",
            "1.2.3.4/",
            "10.0.0.0/255.0.255.0",
        ] {
            assert!(Subnet::parse(bad).is_none(), "{bad}");
        }
    }
}
