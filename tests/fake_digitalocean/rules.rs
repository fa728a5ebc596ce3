//! DigitalOcean's strictness, as the fake checks it: error bodies, the tag, droplet-name and
//! VPC-name patterns, private ranges (RFC 1918, /16 to /28, no overlap), firewall rules and
//! how a rule matches traffic.

use serde_json::{Value, json};

/// An error answer: `{"id": "...", "message": "...", "request_id": "..."}`.
#[derive(Debug)]
pub(super) struct ApiError {
    pub(super) status: u16,
    pub(super) id: &'static str,
    pub(super) message: String,
}

pub(super) type Result<T> = std::result::Result<T, ApiError>;

impl ApiError {
    pub(super) fn new(status: u16, id: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            id,
            message: message.into(),
        }
    }

    pub(super) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(422, "unprocessable_entity", message)
    }

    pub(super) fn not_found() -> ApiError {
        ApiError::new(
            404,
            "not_found",
            "The resource you were accessing could not be found.",
        )
    }

    pub(super) fn body(&self) -> Value {
        json!({"id": self.id, "message": self.message, "request_id": "fake-request"})
    }
}

/// Tags: `^[a-zA-Z0-9_\-\:]+$`, at most 255 characters (DigitalOcean's spec, tags).
pub(super) fn check_tag(tag: &str) -> Result<()> {
    let valid = !tag.is_empty()
        && tag.len() <= 255
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "tag name '{tag}' is invalid: only letters, numbers, colons, dashes and underscores are allowed"
        )))
    }
}

/// Droplet names: a hostname (`^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*$`, at most 255).
pub(super) fn check_droplet_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        && !name.starts_with(['.', '-']);
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "name '{name}' is not a valid hostname"
        )))
    }
}

/// VPC names: letters, digits, `-` and `.`, at most 255.
pub(super) fn check_vpc_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("name '{name}' is invalid")))
    }
}

/// An IPv4 range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cidr {
    pub(super) base: u32,
    pub(super) prefix: u32,
}

impl Cidr {
    pub(super) fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.split_once('/').unwrap_or((text, "32"));
        let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let base = ipv4(address)?;
        let mask = mask(prefix);
        Some(Cidr {
            base: base & mask,
            prefix,
        })
    }

    pub(super) fn size(self) -> u32 {
        if self.prefix == 0 {
            u32::MAX
        } else {
            1u32 << (32 - self.prefix)
        }
    }

    pub(super) fn contains(self, address: u32) -> bool {
        address & mask(self.prefix) == self.base
    }

    pub(super) fn overlaps(self, other: Cidr) -> bool {
        self.contains(other.base) || other.contains(self.base)
    }
}

fn mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

fn ipv4(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| p.parse::<u8>().ok().map(u32::from))
        .collect::<Option<_>>()?;
    (parts.len() == 4).then(|| parts.iter().fold(0, |a, p| (a << 8) | p))
}

pub(super) fn ipv4_text(address: u32) -> String {
    let b = address.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// A VPC range: RFC 1918, /16 to /28, overlapping none of `others`.
pub(super) fn check_vpc_range(text: &str, others: &[(String, String)]) -> Result<()> {
    let range = Cidr::parse(text)
        .filter(|c| text.contains('/') && (16..=28).contains(&c.prefix))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "ip_range '{text}' must be a CIDR between /16 and /28"
            ))
        })?;
    let private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
        .iter()
        .filter_map(|p| Cidr::parse(p))
        .any(|p| p.contains(range.base) && range.prefix >= p.prefix);
    if !private {
        return Err(ApiError::invalid(format!(
            "ip_range '{text}' is not in an RFC 1918 private range"
        )));
    }
    for (name, other) in others {
        if Cidr::parse(other).is_some_and(|o| o.overlaps(range)) {
            return Err(ApiError::invalid(format!(
                "ip_range '{text}' overlaps with the range of VPC '{name}' ({other})"
            )));
        }
    }
    Ok(())
}

/// The addresses of a droplet of `kind` (`public`, `private`).
pub(super) fn addresses(droplet: &Value, kind: &str) -> Vec<String> {
    droplet["networks"]["v4"]
        .as_array()
        .map(|v4| {
            v4.iter()
                .filter(|n| n["type"] == json!(kind))
                .filter_map(|n| n["ip_address"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Firewall rules: protocol `tcp`, `udp` or `icmp`; ports (`"22"`, `"8000-9000"`, `"0"` or
/// `"all"`) required for tcp and udp; `addresses` CIDRs; at least one rule in all, at most 50.
pub(super) fn check_firewall_rules(body: &Value) -> Result<()> {
    let mut count = 0;
    for (list, peers) in [
        ("inbound_rules", "sources"),
        ("outbound_rules", "destinations"),
    ] {
        let Some(rules) = body.get(list).filter(|v| !v.is_null()) else {
            continue;
        };
        let rules = rules
            .as_array()
            .ok_or_else(|| ApiError::invalid(format!("{list} must be an array")))?;
        for rule in rules {
            count += 1;
            let protocol = rule["protocol"].as_str().unwrap_or_default();
            if !["tcp", "udp", "icmp"].contains(&protocol) {
                return Err(ApiError::invalid(format!(
                    "{list}: protocol '{protocol}' is not tcp, udp or icmp"
                )));
            }
            if protocol != "icmp" && port_range(rule["ports"].as_str().unwrap_or("")).is_none() {
                return Err(ApiError::invalid(format!(
                    "{list}: ports {} is invalid for {protocol}",
                    rule["ports"]
                )));
            }
            let addresses = rule[peers]["addresses"].as_array();
            let targets = ["droplet_ids", "tags", "load_balancer_uids"]
                .iter()
                .any(|k| rule[peers][k].as_array().is_some_and(|a| !a.is_empty()));
            if addresses.is_none_or(|a| a.is_empty()) && !targets {
                return Err(ApiError::invalid(format!(
                    "{list}: {peers} must not be empty"
                )));
            }
            for address in addresses.into_iter().flatten() {
                let text = address.as_str().unwrap_or_default();
                if !text.contains(':') && Cidr::parse(text).is_none() {
                    return Err(ApiError::invalid(format!(
                        "{list}: address '{text}' is invalid"
                    )));
                }
            }
        }
    }
    match count {
        0 => Err(ApiError::invalid("at least one rule must be specified")),
        1..=50 => Ok(()),
        _ => Err(ApiError::invalid("a firewall holds at most 50 rules")),
    }
}

/// `(low, high)` of a ports value; `"0"` and `"all"` are every port.
fn port_range(ports: &str) -> Option<(u16, u16)> {
    match ports {
        "0" | "all" => Some((1, 65535)),
        _ => match ports.split_once('-') {
            Some((low, high)) => {
                let (low, high) = (low.parse().ok()?, high.parse().ok()?);
                (low >= 1 && low <= high).then_some((low, high))
            }
            None => ports.parse().ok().filter(|p| *p >= 1).map(|p| (p, p)),
        },
    }
}

/// Whether one rule lets `protocol`/`port` traffic with `address` through; an IPv6 address
/// matches `::/0` only.
pub(super) fn rule_matches(
    rule: &Value,
    peers: &str,
    protocol: &str,
    port: u16,
    address: &str,
) -> bool {
    if rule["protocol"] != json!(protocol) {
        return false;
    }
    let port_ok = protocol == "icmp"
        || port_range(rule["ports"].as_str().unwrap_or(""))
            .is_some_and(|(low, high)| (low..=high).contains(&port));
    let address_ok = rule[peers]["addresses"].as_array().is_some_and(|list| {
        list.iter().filter_map(Value::as_str).any(|cidr| {
            if address.contains(':') {
                cidr == "::/0"
            } else {
                match (Cidr::parse(cidr), ipv4(address)) {
                    (Some(range), Some(a)) => !cidr.contains(':') && range.contains(a),
                    _ => false,
                }
            }
        })
    });
    port_ok && address_ok
}
