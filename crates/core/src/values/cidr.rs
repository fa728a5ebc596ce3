//! CIDR blocks: an IPv4 or IPv6 address and a prefix length that fits its family.

use ::core::net::IpAddr;
use std::fmt;

/// An address and a prefix no longer than the address family allows. Host bits may be set
/// (`10.0.0.1/32` is one address; `10.0.0.1/24` is accepted as the firewall reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub address: IpAddr,
    pub prefix: u8,
}

/// Why a text is not a [`Cidr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("it has no `/prefix`")]
    NoPrefix,
    #[error("the address does not parse")]
    Address,
    #[error("the prefix is not a number")]
    PrefixNotNumber,
    #[error("the prefix is too long for the address family")]
    PrefixTooLong,
}

impl Cidr {
    pub fn parse(cidr: &str) -> Result<Cidr, CidrError> {
        let (address, prefix) = cidr.split_once('/').ok_or(CidrError::NoPrefix)?;
        let address: IpAddr = address.parse().map_err(|_| CidrError::Address)?;
        let prefix: u8 = prefix.parse().map_err(|_| CidrError::PrefixNotNumber)?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(CidrError::PrefixTooLong);
        }
        Ok(Cidr { address, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        for (cidr, expected) in [
            ("203.0.113.0/24", Ok(())),
            ("2001:db8::/32", Ok(())),
            ("10.0.0.1/32", Ok(())),
            ("10.0.0.0", Err(CidrError::NoPrefix)),
            ("10.0.0.0/33", Err(CidrError::PrefixTooLong)),
            ("300.0.0.0/8", Err(CidrError::Address)),
            ("10.0.0.0/x", Err(CidrError::PrefixNotNumber)),
            ("::/129", Err(CidrError::PrefixTooLong)),
        ] {
            assert_eq!(Cidr::parse(cidr).map(|_| ()), expected, "{cidr}");
        }
        let parsed = Cidr::parse("2001:db8::/32").expect("a block");
        assert_eq!(
            (parsed.prefix, parsed.to_string()),
            (32, "2001:db8::/32".to_owned())
        );
    }
}
