//! `hosts/<site>/firewall.yaml` and `dns-records.yaml` as types: written by the render,
//! read back by bootstrap. Serde's field order is the files' order.

use serde::{Deserialize, Serialize};

/// Inbound rules for every machine of a site, and outbound ones where the cloud's firewall
/// denies the outbound traffic no rule allows (DigitalOcean).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firewall {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `Firewall`.
    pub kind: String,
    pub site: String,
    /// Always `in`: the direction of `rules`.
    pub direction: String,
    pub rules: Vec<Rule>,
    /// Outbound rules; none means the cloud's firewall leaves outbound traffic alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbound: Vec<OutboundRule>,
}

/// One outbound rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundRule {
    pub description: String,
    /// `tcp`, `udp` or `icmp`.
    pub protocol: String,
    /// A port or a range; absent for every port, or for protocols without ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// CIDRs the traffic may go to.
    pub destinations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The rule's name where the cloud names rules (Azure: letters, digits, `_`, `.`, `-`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The rule's priority where the cloud orders rules by one (Azure: unique, 100 to 4096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    pub description: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// A port or a range (`2379-2380`); absent for every port, or for protocols without ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// CIDRs the traffic may come from.
    pub sources: Vec<String>,
}

/// The DNS records the user creates at their DNS provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecords {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `DNSRecords`.
    pub kind: String,
    pub site: String,
    pub records: Vec<DnsRecord>,
}

/// One DNS record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub ttl: u32,
    /// May hold an address placeholder that bootstrap fills in.
    pub value: String,
}
