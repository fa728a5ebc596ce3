//! Scaleway's shapes for the neutral model: labels as `key=value` tags, firewall rules as
//! security-group rules (upper-case protocol, one `ip_range` each, integer ports) and back,
//! and what a resource's JSON tells bootstrap.

use serde_json::{Value as Json, json};

use crate::bootstrap::model::{Direction, Existing, Facts, FirewallRule, Kind, Labels, ResourceId};

/// Labels as Scaleway tags (free strings): `railyard.dev/site=demo`.
pub(super) fn tags(labels: &Labels) -> Vec<String> {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Tags of the `key=value` shape back as labels; others are not railyard's.
pub(super) fn labels(value: &Json) -> Labels {
    value["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The neutral rules as Scaleway's: one rule per source, protocols upper case, a port range
/// as two integers. Rules bootstrap renders for Scaleway name public sources only (security
/// groups filter public traffic only, `generate/network.rs`).
pub(super) fn security_rules(rules: &[FirewallRule]) -> Vec<Json> {
    let mut out = Vec::new();
    for rule in rules {
        let (from, to) = ports(rule.port.as_deref());
        for source in &rule.sources {
            out.push(json!({
                "action": "accept",
                "protocol": rule.protocol.to_uppercase(),
                "direction": match rule.direction { Direction::In => "inbound", Direction::Out => "outbound" },
                "ip_range": source,
                "dest_port_from": from,
                "dest_port_to": to,
                "position": out.len() + 1,
                "editable": true,
            }));
        }
    }
    out
}

/// `"22"` → (22, none); `"2379-2380"` → (2379, 2380); no port → neither.
fn ports(port: Option<&str>) -> (Option<u16>, Option<u16>) {
    let Some(port) = port else {
        return (None, None);
    };
    match port.split_once('-') {
        Some((from, to)) => (from.parse().ok(), to.parse().ok()),
        None => (port.parse().ok(), None),
    }
}

/// Scaleway's editable rules back in the neutral form: consecutive rules that differ only in
/// their `ip_range` are one rule with several sources, as `security_rules` split them.
pub(super) fn neutral_rules(rules: &[Json]) -> Vec<FirewallRule> {
    let mut out: Vec<FirewallRule> = Vec::new();
    let mut sorted: Vec<&Json> = rules.iter().filter(|r| r["editable"] != false).collect();
    sorted.sort_by_key(|r| r["position"].as_u64().unwrap_or(0));
    for rule in sorted {
        let port = match (
            rule["dest_port_from"].as_u64(),
            rule["dest_port_to"].as_u64(),
        ) {
            (Some(from), Some(to)) if to != from => Some(format!("{from}-{to}")),
            (Some(from), _) => Some(from.to_string()),
            _ => None,
        };
        let direction = if rule["direction"] == "outbound" {
            Direction::Out
        } else {
            Direction::In
        };
        let protocol = rule["protocol"].as_str().unwrap_or_default().to_lowercase();
        let source = rule["ip_range"].as_str().unwrap_or_default().to_owned();
        match out.last_mut() {
            Some(last)
                if last.direction == direction
                    && last.protocol == protocol
                    && last.port == port =>
            {
                last.sources.push(source);
            }
            _ => out.push(FirewallRule {
                direction,
                description: String::new(),
                protocol,
                port,
                sources: vec![source],
            }),
        }
    }
    out
}

/// A resource as bootstrap sees it, from its JSON and the facts read beside it.
pub(super) fn existing(kind: Kind, value: &Json, facts: Facts) -> Existing {
    Existing {
        kind,
        id: ResourceId(value["id"].as_str().unwrap_or_default().to_owned()),
        name: value["name"].as_str().unwrap_or_default().to_owned(),
        labels: labels(value),
        facts,
    }
}

/// What a server's JSON tells: its type, whether it is off, on a network, its public IPv4.
pub(super) fn server_facts(server: &Json) -> Facts {
    let state = server["state"].as_str().unwrap_or_default();
    Facts {
        machine_type: server["commercial_type"].as_str().map(str::to_owned),
        powered_off: matches!(state, "stopped" | "stopped in place"),
        on_network: server["private_nics"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        public_ipv4: server["public_ips"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|ip| ip["family"] != "inet6")
            .and_then(|ip| ip["address"].as_str())
            .map(str::to_owned),
        ..Facts::default()
    }
}

/// An IPAM address without its prefix length: `10.2.0.5/24` → `10.2.0.5`.
pub(super) fn bare_address(ip: &Json) -> Option<String> {
    ip["address"]
        .as_str()
        .map(|a| a.split('/').next().unwrap_or(a).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, port: &str, sources: &[&str]) -> FirewallRule {
        FirewallRule {
            direction: Direction::In,
            description: "d".to_owned(),
            protocol: protocol.to_owned(),
            port: Some(port.to_owned()),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn rules_split_per_source_and_come_back_whole() {
        let rules = vec![
            rule("tcp", "22", &["0.0.0.0/0", "::/0"]),
            rule("udp", "51820-51821", &["0.0.0.0/0"]),
        ];
        let scaleway = security_rules(&rules);
        assert_eq!(scaleway.len(), 3);
        assert_eq!(scaleway[0]["protocol"], "TCP");
        assert_eq!(scaleway[1]["ip_range"], "::/0");
        assert_eq!(scaleway[2]["dest_port_from"], 51820);
        assert_eq!(scaleway[2]["dest_port_to"], 51821);
        assert!(scaleway[0]["dest_port_to"].is_null());
        let back = neutral_rules(&scaleway);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].sources, vec!["0.0.0.0/0", "::/0"]);
        assert_eq!(back[1].port.as_deref(), Some("51820-51821"));
        assert_eq!(back[1].protocol, "udp");
    }

    #[test]
    fn tags_are_labels() {
        let labels = Labels::from([("railyard.dev/site".to_owned(), "demo".to_owned())]);
        let tags = tags(&labels);
        assert_eq!(tags, vec!["railyard.dev/site=demo"]);
        assert_eq!(super::labels(&json!({ "tags": tags })), labels);
    }
}
