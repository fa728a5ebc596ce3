//! The firewall: the admin networks are CIDR blocks. The private network: an RFC 1918 IPv4
//! range from /16 (DigitalOcean's largest VPC) to /24 (the subnet machines take addresses
//! from), clear of k3s' pod and service networks.

use ::core::net::{IpAddr, Ipv4Addr};

use super::Rules;
use super::pointers::{ADMIN_CIDR, ADMIN_CIDRS, PRIVATE_CIDR, at};
use crate::values::Cidr;

/// RFC 1918's private ranges.
const PRIVATE: [(Ipv4Addr, u8); 3] = [
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
];
/// k3s' default cluster (pod) and service networks (docs.k3s.io/cli/server).
const K3S_NETWORKS: [(Ipv4Addr, u8); 2] = [
    (Ipv4Addr::new(10, 42, 0, 0), 16),
    (Ipv4Addr::new(10, 43, 0, 0), 16),
];

fn within(address: Ipv4Addr, prefix: u8, range: (Ipv4Addr, u8)) -> bool {
    let mask = |p: u8| {
        if p == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(p))
        }
    };
    prefix >= range.1 && u32::from(address) & mask(range.1) == u32::from(range.0)
}

fn overlaps(address: Ipv4Addr, prefix: u8, range: (Ipv4Addr, u8)) -> bool {
    within(address, prefix, range) || within(range.0, range.1, (address, prefix))
}

/// Why a private range is refused, if it is.
fn private_range_problem(text: &str) -> Option<String> {
    let cidr = match Cidr::parse(text) {
        Ok(cidr) => cidr,
        Err(why) => return Some(format!("`{text}` is not a CIDR block: {why}")),
    };
    let IpAddr::V4(address) = cidr.address else {
        return Some(format!("`{text}` is not an IPv4 range"));
    };
    if !(16..=24).contains(&cidr.prefix) {
        return Some(format!("`{text}` is a /{}, not /16 to /24", cidr.prefix));
    }
    let mask = u32::MAX << (32 - u32::from(cidr.prefix));
    if u32::from(address) & !mask != 0 {
        return Some(format!("`{text}` has host bits set"));
    }
    if !PRIVATE.iter().any(|r| within(address, cidr.prefix, *r)) {
        return Some(format!("`{text}` is not in an RFC 1918 private range"));
    }
    if K3S_NETWORKS
        .iter()
        .any(|r| overlaps(address, cidr.prefix, *r))
    {
        return Some(format!(
            "`{text}` overlaps k3s' pod or service network (10.42.0.0/16, 10.43.0.0/16)"
        ));
    }
    None
}

impl Rules<'_> {
    pub(super) fn private_network(&mut self) {
        if let Some(text) = self.str(PRIVATE_CIDR)
            && let Some(why) = private_range_problem(text)
        {
            self.error(
                PRIVATE_CIDR,
                why,
                "an RFC 1918 IPv4 range from /16 to /24 such as `10.161.16.0/20`",
                "two sites in one DigitalOcean account need ranges that do not overlap",
            );
        }
    }

    pub(super) fn firewall(&mut self) {
        for i in 0..self.len(ADMIN_CIDRS) {
            let pointer = at(ADMIN_CIDR, i);
            if let Some(cidr) = self.str(&pointer) {
                if let Err(why) = Cidr::parse(cidr) {
                    self.error(
                        &pointer,
                        format!("`{cidr}` is not a CIDR block: {why}"),
                        "an IPv4 or IPv6 network such as `203.0.113.0/24` or `2001:db8::/32`",
                        "a single address is `/32` (IPv4) or `/128` (IPv6)",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::private_range_problem;

    #[test]
    fn private_ranges() {
        for (text, ok) in [
            ("10.2.0.0/16", true),
            ("10.161.16.0/20", true),
            ("192.168.4.0/24", true),
            ("172.20.0.0/16", true),
            ("10.2.0.0/25", false),
            ("10.0.0.0/8", false),
            ("10.2.0.1/16", false),
            ("8.8.0.0/16", false),
            ("10.42.0.0/20", false),
            ("10.43.128.0/24", false),
            ("fd00::/64", false),
            ("10.2.0.0", false),
        ] {
            assert_eq!(private_range_problem(text).is_none(), ok, "{text}");
        }
    }
}
