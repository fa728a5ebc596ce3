//! Placeholders in host files: values only bootstrap knows, written `@@railyard:KIND:NAME@@`.
//!
//! `secret` names a key of the secrets file (filled in memory at machine creation, never
//! committed); `address` names an address the cloud assigns (a DHCP private address, a load
//! balancer's public address).

pub fn secret(key: &str) -> String {
    format!("@@railyard:secret:{key}@@")
}

pub fn address(name: &str) -> String {
    format!("@@railyard:address:{name}@@")
}
