//! The neutral model in Hetzner's wire format and back: create bodies, follow-up actions, and
//! a listed resource's facts (Hetzner Cloud API reference, cloud-apis.md §2).

use serde_json::{Value as Json, json};

use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{
    Direction, Existing, Facts, FirewallRule, FollowUp, Kind, Labels, LoadBalancer, ResourceId,
    Spec, Wanted,
};
use crate::edge::cloud::{CloudError, Refs};

/// The command of the action that starts a server (`poweron`, or `start_after_create`).
pub(super) const START_COMMAND: &str = "start_server";

/// An id as the API takes it: Hetzner's ids are numbers.
fn id_json(id: &ResourceId) -> Json {
    id.0.parse::<u64>()
        .map_or_else(|_| json!(id.0), |n| json!(n))
}

/// The id of a resource created earlier in the run (or found), by kind and name.
fn reference(refs: &Refs, kind: Kind, name: &str) -> Result<Json, CloudError> {
    refs.get(&(kind, name.to_owned()))
        .map(id_json)
        .ok_or_else(|| CloudError::Unresolved {
            kind: kind.noun(),
            name: name.to_owned(),
        })
}

fn rules(rules: &[FirewallRule]) -> Json {
    rules
        .iter()
        .map(|r| {
            let direction = match r.direction {
                Direction::In => "in",
                Direction::Out => "out",
            };
            let mut rule = json!({ "direction": direction, "protocol": r.protocol, "source_ips": r.sources, "description": r.description });
            if let Some(port) = &r.port {
                rule["port"] = json!(port);
            }
            rule
        })
        .collect()
}

/// The create request's body; `user_data` is the filled-in text for a machine.
pub(super) fn create_body(
    wanted: &Wanted,
    refs: &Refs,
    user_data: Option<String>,
) -> Result<Json, CloudError> {
    let name = &wanted.name;
    let labels = json!(wanted.labels);
    Ok(match &wanted.spec {
        Spec::SshKey { public_key } => {
            json!({ "name": name, "public_key": public_key, "labels": labels })
        }
        Spec::Network {
            ip_range,
            subnet,
            zone,
        } => json!({
            "name": name,
            "ip_range": ip_range,
            "subnets": [{ "type": "cloud", "network_zone": zone, "ip_range": subnet }],
            "labels": labels,
        }),
        Spec::Firewall {
            rules: r,
            applies_to,
        } => json!({
            "name": name,
            "rules": rules(r),
            "apply_to": [{ "type": "label_selector", "label_selector": { "selector": applies_to } }],
            "labels": labels,
        }),
        Spec::PlacementGroup => json!({ "name": name, "type": "spread", "labels": labels }),
        Spec::LoadBalancer(lb) => load_balancer_body(wanted, lb, refs)?,
        Spec::Machine(machine) => {
            let keys = machine
                .ssh_keys
                .iter()
                .map(|key| reference(refs, Kind::SshKey, key))
                .collect::<Result<Vec<_>, _>>()?;
            let mut body = json!({
                "name": name,
                "server_type": machine.machine_type,
                "image": machine.image,
                "location": machine.location,
                "ssh_keys": keys,
                "user_data": user_data.unwrap_or_default(),
                "labels": labels,
                "placement_group": reference(refs, Kind::PlacementGroup, &machine.placement_group)?,
                "public_net": { "enable_ipv4": true, "enable_ipv6": true },
            });
            if !machine.start {
                body["start_after_create"] = json!(false);
            }
            if let Some(network) = &machine.network {
                body["networks"] = json!([reference(refs, Kind::Network, network)?]);
            }
            body
        }
    })
}

/// A load balancer's create body; one at any free address joins the network and takes its
/// targets here (`network`, `targets`: Hetzner Cloud API reference, "Create a Load
/// Balancer"), two rounds of actions fewer; one at a fixed address is attached at it after.
fn load_balancer_body(wanted: &Wanted, lb: &LoadBalancer, refs: &Refs) -> Result<Json, CloudError> {
    let services: Vec<Json> = lb
        .ports
        .iter()
        .map(|port| json!({ "protocol": "tcp", "listen_port": port, "destination_port": port, "proxyprotocol": false, "health_check": { "protocol": "tcp", "port": port, "interval": 15, "timeout": 10, "retries": 3 } }))
        .collect();
    let mut body = json!({
        "name": wanted.name,
        "load_balancer_type": lb.size,
        "location": lb.location,
        "algorithm": { "type": "round_robin" },
        "services": services,
        "labels": wanted.labels,
    });
    if let Some(network) = free_network(&wanted.then) {
        body["network"] = reference(refs, Kind::Network, network)?;
        body["targets"] = wanted
            .then
            .iter()
            .filter_map(|f| match f {
                FollowUp::AddTarget { .. } => follow_up(f, refs).ok().map(|(_, t)| t),
                _ => None,
            })
            .collect();
    }
    Ok(body)
}

/// The network a load balancer joins at any free address, when it does.
fn free_network(then: &[FollowUp]) -> Option<&str> {
    then.iter().find_map(|f| match f {
        FollowUp::AttachToNetwork { network, ip: None } => Some(network.as_str()),
        _ => None,
    })
}

/// A follow-up as an action: its verb and body.
pub(super) fn follow_up(step: &FollowUp, refs: &Refs) -> Result<(&'static str, Json), CloudError> {
    Ok(match step {
        FollowUp::AttachToNetwork { network, ip } => {
            let mut body = json!({ "network": reference(refs, Kind::Network, network)? });
            if let Some(ip) = ip {
                body["ip"] = json!(ip);
            }
            ("attach_to_network", body)
        }
        FollowUp::AddTarget { selector } => (
            "add_target",
            json!({ "type": "label_selector", "label_selector": { "selector": selector }, "use_private_ip": true }),
        ),
        FollowUp::PowerOn => ("poweron", json!({})),
    })
}

/// The action that makes a resource as wanted, when bootstrap converges its kind.
pub(super) fn converge(spec: &Spec) -> Option<(&'static str, Json)> {
    match spec {
        Spec::Firewall { rules: r, .. } => Some(("set_rules", json!({ "rules": rules(r) }))),
        _ => None,
    }
}

/// A server type's offers, one per location it lists (`locations[].available`; types carry
/// per-location availability since API v2.44, cloud-apis.md §2 "Server types").
pub(super) fn offers(raw: &Json) -> Vec<Offer> {
    let name = raw["name"].as_str().unwrap_or_default();
    raw["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some(Offer {
                machine_type: name.to_owned(),
                location: l["name"].as_str()?.to_owned(),
                available: l["available"].as_bool().unwrap_or(true),
            })
        })
        .collect()
}

/// The `remove_from_resources` body that releases a firewall from everything it applies to;
/// `None` when it applies to nothing.
pub(super) fn release(raw: &Json) -> Option<Json> {
    let applied: Vec<Json> = raw["applied_to"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| match a["type"].as_str()? {
            "label_selector" => Some(json!({
                "type": "label_selector",
                "label_selector": { "selector": a["label_selector"]["selector"] },
            })),
            "server" => Some(json!({ "type": "server", "server": { "id": a["server"]["id"] } })),
            _ => None,
        })
        .collect();
    (!applied.is_empty()).then(|| json!({ "remove_from": applied }))
}

/// A listed or fetched resource in the neutral model.
pub(super) fn existing(kind: Kind, raw: &Json) -> Existing {
    let labels: Labels = raw["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let text = |v: &Json| v.as_str().map(str::to_owned);
    let firewall_rules = raw["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| FirewallRule {
            direction: if r["direction"] == "out" {
                Direction::Out
            } else {
                Direction::In
            },
            description: text(&r["description"]).unwrap_or_default(),
            protocol: text(&r["protocol"]).unwrap_or_default(),
            port: text(&r["port"]),
            sources: r["source_ips"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(&text)
                .collect(),
        })
        .collect();
    let targets = raw["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| text(&t["label_selector"]["selector"]))
        .collect();
    Existing {
        kind,
        id: ResourceId(raw["id"].as_u64().unwrap_or_default().to_string()),
        name: text(&raw["name"]).unwrap_or_default(),
        labels,
        facts: Facts {
            machine_type: text(&raw["server_type"]["name"]),
            size: text(&raw["load_balancer_type"]["name"]),
            firewall_rules,
            on_network: raw["private_net"]
                .as_array()
                .is_some_and(|nets| !nets.is_empty()),
            targets,
            powered_off: raw["status"] == "off",
            public_ipv4: text(&raw["public_net"]["ipv4"]["ip"]),
            private_ipv4: text(&raw["private_net"][0]["ip"]),
            // Only a network has a top-level `ip_range`.
            ranges: text(&raw["ip_range"]).into_iter().collect(),
            user_data: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::model::Machine;
    use crate::core::labels;

    fn refs() -> Refs {
        [
            ((Kind::SshKey, "s-key-0"), "11"),
            ((Kind::PlacementGroup, "s-servers"), "12"),
            ((Kind::Network, "s-network"), "13"),
        ]
        .into_iter()
        .map(|((kind, name), id)| ((kind, name.to_owned()), ResourceId(id.to_owned())))
        .collect()
    }

    fn server(network: Option<&str>, start: bool) -> Wanted {
        Wanted {
            name: "s-server-0".to_owned(),
            labels: labels::resource("s", "server"),
            spec: Spec::Machine(Machine {
                machine_type: "cpx32".to_owned(),
                image: "ubuntu-24.04".to_owned(),
                location: "nbg1".to_owned(),
                ssh_keys: vec!["s-key-0".to_owned()],
                user_data: "hosts/s/cloud-init/server-0.yaml".to_owned(),
                placement_group: "s-servers".to_owned(),
                network: network.map(str::to_owned),
                start,
            }),
            then: Vec::new(),
        }
    }

    #[test]
    fn machines_refer_to_others_by_id_and_carry_the_filled_user_data() {
        let body = create_body(
            &server(None, false),
            &refs(),
            Some("#cloud-config".to_owned()),
        )
        .expect("resolves");
        assert_eq!(
            body,
            json!({
                "name": "s-server-0",
                "server_type": "cpx32",
                "image": "ubuntu-24.04",
                "location": "nbg1",
                "ssh_keys": [11],
                "user_data": "#cloud-config",
                "labels": { "railyard.dev/role": "server", "railyard.dev/site": "s" },
                "placement_group": 12,
                "public_net": { "enable_ipv4": true, "enable_ipv6": true },
                "start_after_create": false,
            })
        );
        let worker =
            create_body(&server(Some("s-network"), true), &refs(), None).expect("resolves");
        assert_eq!(worker["networks"], json!([13]));
        assert!(worker.get("start_after_create").is_none());
        let missing = create_body(&server(Some("s-other"), true), &Refs::new(), None);
        assert_eq!(
            missing.map_err(|e| e.to_string()),
            Err("SSH key `s-key-0` does not exist yet".to_owned())
        );
    }

    #[test]
    fn follow_ups_are_actions() {
        let attach = FollowUp::AttachToNetwork {
            network: "s-network".to_owned(),
            ip: Some("10.2.0.10".to_owned()),
        };
        let (verb, body) = follow_up(&attach, &refs()).expect("resolves");
        assert_eq!(
            (verb, body),
            (
                "attach_to_network",
                json!({ "network": 13, "ip": "10.2.0.10" })
            )
        );
        let (verb, body) = follow_up(&FollowUp::PowerOn, &refs()).expect("resolves");
        assert_eq!((verb, body), ("poweron", json!({})));
    }

    #[test]
    fn listed_resources_report_their_facts() {
        let raw = json!({
            "id": 42, "name": "s-ingress", "labels": { "railyard.dev/site": "s" },
            "load_balancer_type": { "name": "lb11" },
            "private_net": [{ "ip": "10.2.0.3" }],
            "targets": [{ "type": "label_selector", "label_selector": { "selector": "a=b" } }],
            "public_net": { "ipv4": { "ip": "203.0.113.9" } },
        });
        let found = existing(Kind::LoadBalancer, &raw);
        assert_eq!(found.id, ResourceId("42".to_owned()));
        assert_eq!(found.facts.size.as_deref(), Some("lb11"));
        assert!(found.facts.on_network && !found.facts.powered_off);
        assert_eq!(found.facts.targets, ["a=b"]);
        assert_eq!(found.facts.public_ipv4.as_deref(), Some("203.0.113.9"));
        let stopped = existing(
            Kind::Machine,
            &json!({ "id": 7, "status": "off", "private_net": [] }),
        );
        assert!(stopped.facts.powered_off && !stopped.facts.on_network);
    }
}
