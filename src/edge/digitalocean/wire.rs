//! DigitalOcean's bodies and answers: the neutral model to request bodies, and answers to the
//! neutral `Existing` with its facts.

use serde_json::{Value as Json, json};

use crate::bootstrap::model::{
    Direction, Existing, Facts, FirewallRule, FollowUp, HeldKey, Kind, Labels, ResourceId, Spec,
    Wanted,
};
use crate::core::labels;
use crate::edge::cloud::{CloudError, Refs};

fn text(value: &Json) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// The id of a resource the request refers to.
fn reference(refs: &Refs, kind: Kind, name: &str) -> Result<String, CloudError> {
    refs.get(&(kind, name.to_owned()))
        .map(|id| id.0.clone())
        .ok_or_else(|| CloudError::Unresolved {
            kind: kind.noun(),
            name: name.to_owned(),
        })
}

/// A DigitalOcean `ports` value: a port, a range, or `0` for every port (tcp, udp); absent
/// for icmp.
fn ports(rule: &FirewallRule) -> Json {
    match (&rule.port, rule.protocol.as_str()) {
        (_, "icmp") => Json::Null,
        (Some(port), _) => json!(port),
        (None, _) => json!("0"),
    }
}

fn firewall_rules(rules: &[FirewallRule], direction: Direction) -> Vec<Json> {
    let peers = match direction {
        Direction::In => "sources",
        Direction::Out => "destinations",
    };
    rules
        .iter()
        .filter(|r| r.direction == direction)
        .map(|r| {
            let mut rule = json!({ "protocol": r.protocol, peers: { "addresses": r.sources } });
            if r.protocol != "icmp" {
                rule["ports"] = ports(r);
            }
            rule
        })
        .collect()
}

/// The firewall's body, for its create and its full replacement (PUT).
pub(super) fn firewall_body(name: &str, rules: &[FirewallRule], applies_to: &str) -> Json {
    json!({
        "name": name,
        "inbound_rules": firewall_rules(rules, Direction::In),
        "outbound_rules": firewall_rules(rules, Direction::Out),
        "tags": labels::selector_tag(applies_to).into_iter().collect::<Vec<_>>(),
    })
}

/// The tag a load balancer targets: one role's, or the site's when it serves every role.
pub(super) fn target_tag(site: &str, then: &[FollowUp]) -> String {
    let selectors: Vec<&String> = then
        .iter()
        .filter_map(|f| match f {
            FollowUp::AddTarget { selector } => Some(selector),
            _ => None,
        })
        .collect();
    match selectors.as_slice() {
        [one] => labels::selector_tag(one).unwrap_or_else(|| labels::site_tag(site)),
        _ => labels::site_tag(site),
    }
}

/// The create request's body (the user-data only in a droplet's).
pub(super) fn create_body(
    site: &str,
    wanted: &Wanted,
    refs: &Refs,
    user_data: Option<String>,
) -> Result<Json, CloudError> {
    let name = &wanted.name;
    Ok(match &wanted.spec {
        Spec::SshKey { public_key } => json!({ "name": name, "public_key": public_key }),
        Spec::Network { ip_range, zone, .. } => json!({
            "name": name,
            "region": zone,
            "ip_range": ip_range,
            "description": format!("railyard site {site}"),
        }),
        Spec::Firewall { rules, applies_to } => firewall_body(name, rules, applies_to),
        Spec::PlacementGroup => Json::Null,
        Spec::LoadBalancer(lb) => {
            let network = wanted.then.iter().find_map(|f| match f {
                FollowUp::AttachToNetwork { network, .. } => Some(network.as_str()),
                _ => None,
            });
            let vpc = network
                .map(|n| reference(refs, Kind::Network, n))
                .transpose()?;
            let rules: Vec<Json> = lb
                .ports
                .iter()
                .map(|p| json!({"entry_protocol": "tcp", "entry_port": p, "target_protocol": "tcp", "target_port": p}))
                .collect();
            json!({
                "name": name,
                "region": lb.location,
                "vpc_uuid": vpc,
                "size_unit": lb.size.parse::<u64>().unwrap_or(1),
                "tag": target_tag(site, &wanted.then),
                "forwarding_rules": rules,
                // Without one the check is HTTP on port 80 (cloud-apis.md §3 Traps); the ports
                // are passed through as TCP, so the first is checked as TCP.
                "health_check": { "protocol": "tcp", "port": lb.ports.first().copied().unwrap_or(80) },
            })
        }
        Spec::Machine(machine) => {
            let keys = machine
                .ssh_keys
                .iter()
                .map(|k| {
                    let id = reference(refs, Kind::SshKey, k)?;
                    Ok(id.parse::<u64>().map_or(json!(id), |n| json!(n)))
                })
                .collect::<Result<Vec<_>, CloudError>>()?;
            let vpc = machine
                .network
                .as_deref()
                .map(|n| reference(refs, Kind::Network, n))
                .transpose()?;
            json!({
                "name": name,
                "region": machine.location,
                "size": machine.machine_type,
                "image": machine.image,
                "ssh_keys": keys,
                "vpc_uuid": vpc,
                "tags": labels::tags(&wanted.labels),
                "user_data": user_data,
                "ipv6": false,
                "monitoring": false,
            })
        }
    })
}

/// The neutral rules of a firewall answer.
fn rules_of(raw: &Json) -> Vec<FirewallRule> {
    let mut rules = Vec::new();
    for (list, peers, direction) in [
        ("inbound_rules", "sources", Direction::In),
        ("outbound_rules", "destinations", Direction::Out),
    ] {
        for r in raw[list].as_array().into_iter().flatten() {
            let protocol = text(&r["protocol"]).unwrap_or_default();
            let port = text(&r["ports"]).filter(|p| p != "0" && p != "all" && protocol != "icmp");
            rules.push(FirewallRule {
                direction,
                description: String::new(),
                protocol,
                port,
                sources: r[peers]["addresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(text)
                    .collect(),
            });
        }
    }
    rules
}

/// The address of a droplet's network of `kind` (`public`, `private`).
fn address(raw: &Json, kind: &str) -> Option<String> {
    raw["networks"]["v4"]
        .as_array()?
        .iter()
        .find(|n| n["type"] == kind)
        .and_then(|n| text(&n["ip_address"]))
}

/// The selectors a load balancer's tag covers.
fn targets(site: &str, tag: &str) -> Vec<String> {
    let roles = ["server", "worker"];
    if tag == labels::site_tag(site) {
        return roles
            .iter()
            .map(|r| labels::role_selector(site, r))
            .collect();
    }
    roles
        .iter()
        .filter(|r| labels::role_tag(site, r) == tag)
        .map(|r| labels::role_selector(site, r))
        .collect()
}

/// A resource as the neutral model sees it; `labels` are the droplet's tags read back, or the
/// ownership an untaggable resource's name gives.
pub(super) fn existing(kind: Kind, site: &str, raw: &Json, labels: Labels) -> Existing {
    let id = match &raw["id"] {
        Json::Number(n) => n.to_string(),
        other => text(other).unwrap_or_default(),
    };
    let facts = match kind {
        Kind::Machine => Facts {
            machine_type: text(&raw["size_slug"]),
            on_network: raw["vpc_uuid"].as_str().is_some_and(|v| !v.is_empty()),
            powered_off: raw["status"] == "off",
            public_ipv4: address(raw, "public"),
            private_ipv4: address(raw, "private"),
            ..Facts::default()
        },
        Kind::Firewall => Facts {
            firewall_rules: rules_of(raw),
            ..Facts::default()
        },
        Kind::Network => Facts {
            ranges: text(&raw["ip_range"]).into_iter().collect(),
            ..Facts::default()
        },
        Kind::LoadBalancer => Facts {
            size: raw["size_unit"].as_u64().map(|n| n.to_string()),
            on_network: raw["vpc_uuid"].as_str().is_some_and(|v| !v.is_empty()),
            targets: targets(site, raw["tag"].as_str().unwrap_or_default()),
            public_ipv4: text(&raw["ip"]).filter(|ip| !ip.is_empty()),
            ..Facts::default()
        },
        _ => Facts::default(),
    };
    Existing {
        kind,
        id: ResourceId(id),
        name: text(&raw["name"]).unwrap_or_default(),
        labels,
        facts,
    }
}

/// An account SSH key (`GET /account/keys`), whoever's it is.
pub(super) fn held_key(raw: &Json) -> HeldKey {
    let id = match &raw["id"] {
        Json::Number(n) => n.to_string(),
        other => text(other).unwrap_or_default(),
    };
    HeldKey {
        id: ResourceId(id),
        name: text(&raw["name"]).unwrap_or_default(),
        public_key: text(&raw["public_key"]).unwrap_or_default(),
    }
}

/// A droplet's tags as the neutral labels (`railyard-site:demo` → `railyard.dev/site=demo`,
/// `railyard-pool:demo:gpu` → `railyard.dev/pool=gpu`).
pub(super) fn droplet_labels(site: &str, raw: &Json) -> Labels {
    let tags: Vec<&str> = raw["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    let mut found = Labels::new();
    if tags.contains(&labels::site_tag(site).as_str()) {
        found.insert(labels::SITE.to_owned(), site.to_owned());
    }
    for role in ["server", "worker"] {
        if tags.contains(&labels::role_tag(site, role).as_str()) {
            found.insert(labels::ROLE.to_owned(), role.to_owned());
        }
    }
    let pool_prefix = labels::pool_tag(site, "");
    if let Some(pool) = tags
        .iter()
        .find_map(|t| t.strip_prefix(pool_prefix.as_str()))
    {
        found.insert(labels::POOL.to_owned(), pool.to_owned());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(direction: Direction, protocol: &str, port: Option<&str>, cidr: &str) -> FirewallRule {
        FirewallRule {
            direction,
            description: String::new(),
            protocol: protocol.to_owned(),
            port: port.map(str::to_owned),
            sources: vec![cidr.to_owned()],
        }
    }

    #[test]
    fn firewall_rules_read_back_as_they_were_written() {
        let rules = vec![
            rule(Direction::In, "tcp", Some("22"), "0.0.0.0/0"),
            rule(Direction::In, "tcp", None, "10.160.0.0/20"),
            rule(Direction::In, "icmp", None, "10.160.0.0/20"),
            rule(Direction::Out, "udp", Some("53"), "0.0.0.0/0"),
            rule(Direction::Out, "tcp", Some("2379-2380"), "10.160.0.0/20"),
            rule(Direction::Out, "icmp", None, "0.0.0.0/0"),
        ];
        let body = firewall_body("demo-firewall", &rules, "railyard.dev/site=demo");
        assert_eq!(body["tags"], json!(["railyard-site:demo"]));
        assert_eq!(body["inbound_rules"][1]["ports"], "0");
        assert!(body["inbound_rules"][2].get("ports").is_none());
        assert_eq!(
            body["outbound_rules"][0]["destinations"]["addresses"],
            json!(["0.0.0.0/0"])
        );
        assert_eq!(rules_of(&body), rules);
    }

    #[test]
    fn a_load_balancer_targets_one_role_or_the_whole_site() {
        let target = |roles: &[&str]| {
            let then: Vec<FollowUp> = roles
                .iter()
                .map(|r| FollowUp::AddTarget {
                    selector: labels::role_selector("demo", r),
                })
                .collect();
            target_tag("demo", &then)
        };
        assert_eq!(target(&["server", "worker"]), "railyard-site:demo");
        assert_eq!(target(&["worker"]), "railyard-role:demo:worker");
        assert_eq!(targets("demo", "railyard-site:demo").len(), 2);
        assert_eq!(
            targets("demo", "railyard-role:demo:worker"),
            [labels::role_selector("demo", "worker")]
        );
        assert!(targets("demo", "railyard-site:other").is_empty());
    }

    #[test]
    fn droplet_tags_read_back_as_the_site_labels() {
        let raw = json!({"tags": ["railyard-site:demo", "railyard-role:demo:server", "x"]});
        assert_eq!(
            droplet_labels("demo", &raw),
            labels::resource("demo", "server")
        );
        assert!(droplet_labels("other", &raw).is_empty());
    }
}
