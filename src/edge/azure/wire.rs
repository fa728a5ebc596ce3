//! Azure's wire format for what bootstrap manages: the PUT bodies (virtual network with its
//! subnet, NSG rules, public IPs, NAT gateway, NICs, VMs, the Standard load balancer) and the
//! facts read back from them, with tags spelled as Azure accepts (`labels::azure_tags`).

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::table;
use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{Direction, FirewallRule, Labels};
use crate::core::firewall::Rule;
use crate::core::generate::azure::nsg_rules;
use crate::core::machines::azure::{LoadBalancer, Probe};

/// Whether a resource's `provisioningState` is terminal (a resource group's too).
pub(super) fn terminal(json: &Json) -> bool {
    matches!(state(json), "Succeeded" | "Failed" | "Canceled")
}

pub(super) fn state(json: &Json) -> &str {
    json["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
}

pub(super) fn tags(json: &Json) -> BTreeMap<String, String> {
    json["tags"]
        .as_object()
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A `{"id": …}` reference.
pub(super) fn reference(id: &str) -> Json {
    json!({ "id": id })
}

pub(super) fn public_ip(location: &str, tags: &Labels) -> Json {
    json!({
        "location": location,
        "tags": tags,
        "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
    })
}

pub(super) fn nat_gateway(location: &str, tags: &Labels, ip: &str) -> Json {
    json!({
        "location": location,
        "tags": tags,
        "sku": {"name": "Standard"},
        "properties": {"publicIpAddresses": [reference(ip)]},
    })
}

/// The virtual network with its one subnet: private by default (`defaultOutboundAccess`
/// false), out through the NAT gateway, filtered by the NSG once it exists.
pub(super) struct Vnet<'a> {
    pub(super) location: &'a str,
    pub(super) tags: &'a Labels,
    pub(super) cidr: &'a str,
    pub(super) subnet_name: &'a str,
    pub(super) subnet: &'a str,
    pub(super) nat: &'a str,
    pub(super) nsg: Option<&'a str>,
}

pub(super) fn vnet(v: &Vnet) -> Json {
    let mut subnet = json!({
        "addressPrefix": v.subnet,
        "defaultOutboundAccess": false,
        "natGateway": reference(v.nat),
    });
    if let Some(nsg) = v.nsg {
        subnet["networkSecurityGroup"] = reference(nsg);
    }
    json!({
        "location": v.location,
        "tags": v.tags,
        "properties": {
            "addressSpace": {"addressPrefixes": [v.cidr]},
            "subnets": [{"name": v.subnet_name, "properties": subnet}],
        },
    })
}

/// The subnet's NSG id as the network reports it.
pub(super) fn subnet_nsg(vnet: &Json) -> Option<String> {
    vnet["properties"]["subnets"][0]["properties"]["networkSecurityGroup"]["id"]
        .as_str()
        .map(str::to_owned)
}

/// A network's ranges: its address space and its subnets' prefixes.
pub(super) fn ranges(vnet: &Json) -> Vec<String> {
    let props = &vnet["properties"];
    let space = props["addressSpace"]["addressPrefixes"].as_array();
    let subnets = props["subnets"].as_array().into_iter().flatten();
    space
        .into_iter()
        .flatten()
        .chain(subnets.map(|s| &s["properties"]["addressPrefix"]))
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The rules as NSG rules, named and numbered as the render numbers `firewall.yaml`
/// (`generate::azure::nsg_rules`), inbound and outbound each from 100.
pub(super) fn nsg(location: &str, tags: &Labels, rules: &[FirewallRule]) -> Json {
    let mut out = Vec::new();
    for (direction, word, prefix) in [
        (Direction::In, "Inbound", "source"),
        (Direction::Out, "Outbound", "destination"),
    ] {
        let core: Vec<Rule> = rules
            .iter()
            .filter(|r| r.direction == direction)
            .map(|r| Rule {
                name: None,
                priority: None,
                description: r.description.clone(),
                protocol: r.protocol.clone(),
                port: r.port.clone(),
                sources: r.sources.clone(),
            })
            .collect();
        for rule in nsg_rules(core) {
            let other = if prefix == "source" {
                "destination"
            } else {
                "source"
            };
            let mut props = json!({
                "description": rule.description,
                "priority": rule.priority,
                "direction": word,
                "access": "Allow",
                "protocol": protocol(&rule.protocol),
                "sourcePortRange": "*",
                "destinationPortRange": rule.port.as_deref().unwrap_or("*"),
            });
            props[format!("{prefix}AddressPrefixes")] = json!(rule.sources);
            props[format!("{other}AddressPrefix")] = json!("*");
            out.push(json!({"name": rule.name, "properties": props}));
        }
    }
    json!({"location": location, "tags": tags, "properties": {"securityRules": out}})
}

/// `tcp` → `Tcp`, as the NSG's enum spells it.
fn protocol(p: &str) -> String {
    match p {
        "tcp" => "Tcp".to_owned(),
        "udp" => "Udp".to_owned(),
        "icmp" => "Icmp".to_owned(),
        other => other.to_owned(),
    }
}

/// An NSG's rules read back in the neutral model.
pub(super) fn rules_of(nsg: &Json) -> Vec<FirewallRule> {
    let rules = nsg["properties"]["securityRules"].as_array();
    rules
        .into_iter()
        .flatten()
        .map(|r| {
            let p = &r["properties"];
            let inbound = p["direction"] == "Inbound";
            let side = if inbound { "source" } else { "destination" };
            let mut sources: Vec<String> = p[format!("{side}AddressPrefixes")]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            sources.extend(
                p[format!("{side}AddressPrefix")]
                    .as_str()
                    .filter(|s| *s != "*")
                    .map(str::to_owned),
            );
            let port = p["destinationPortRange"].as_str().filter(|p| *p != "*");
            FirewallRule {
                direction: if inbound {
                    Direction::In
                } else {
                    Direction::Out
                },
                description: p["description"].as_str().unwrap_or_default().to_owned(),
                protocol: p["protocol"].as_str().unwrap_or_default().to_lowercase(),
                port: port.map(str::to_owned),
                sources,
            }
        })
        .collect()
}

/// A NIC in the subnet: the static address the block names, or any; its public IP; the
/// load balancer pools it is a backend of.
pub(super) struct Nic<'a> {
    pub(super) location: &'a str,
    pub(super) tags: &'a Labels,
    pub(super) subnet: &'a str,
    pub(super) static_ip: Option<&'a str>,
    pub(super) public_ip: Option<&'a str>,
    pub(super) pools: &'a [String],
}

pub(super) fn nic(n: &Nic) -> Json {
    let mut props = json!({
        "primary": true,
        "subnet": reference(n.subnet),
        "privateIPAllocationMethod": if n.static_ip.is_some() { "Static" } else { "Dynamic" },
    });
    if let Some(ip) = n.static_ip {
        props["privateIPAddress"] = json!(ip);
    }
    if let Some(ip) = n.public_ip {
        props["publicIPAddress"] = reference(ip);
    }
    if !n.pools.is_empty() {
        props["loadBalancerBackendAddressPools"] =
            Json::Array(n.pools.iter().map(|p| reference(p)).collect());
    }
    json!({
        "location": n.location,
        "tags": n.tags,
        "properties": {"ipConfigurations": [{"name": table::IP_CONFIG, "properties": props}]},
    })
}

/// A NIC's private address and the pools it is in.
pub(super) fn nic_facts(nic: &Json) -> (Option<String>, Vec<String>) {
    let props = &nic["properties"]["ipConfigurations"][0]["properties"];
    let pools = props["loadBalancerBackendAddressPools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().map(str::to_ascii_lowercase))
        .collect();
    (props["privateIPAddress"].as_str().map(str::to_owned), pools)
}

/// A VM from the image `publisher:offer:sku`, with its user-data as `customData`.
pub(super) struct Vm<'a> {
    pub(super) location: &'a str,
    pub(super) tags: &'a Labels,
    pub(super) name: &'a str,
    pub(super) size: &'a str,
    pub(super) image: &'a str,
    pub(super) nic: &'a str,
    pub(super) ssh_keys: &'a [String],
    pub(super) custom_data: &'a str,
}

pub(super) fn vm(v: &Vm) -> Json {
    use base64::Engine as _;
    let mut image = v.image.splitn(3, ':');
    let keys: Vec<Json> = v
        .ssh_keys
        .iter()
        .map(|k| json!({"path": format!("/home/{}/.ssh/authorized_keys", table::ADMIN_USER), "keyData": k}))
        .collect();
    json!({
        "location": v.location,
        "tags": v.tags,
        "properties": {
            "hardwareProfile": {"vmSize": v.size},
            "storageProfile": {
                "imageReference": {
                    "publisher": image.next().unwrap_or_default(),
                    "offer": image.next().unwrap_or_default(),
                    "sku": image.next().unwrap_or_default(),
                    "version": "latest",
                },
                "osDisk": {
                    "name": table::os_disk(v.name),
                    "createOption": "FromImage",
                    "managedDisk": {"storageAccountType": "Premium_LRS"},
                    "deleteOption": "Delete",
                },
            },
            "osProfile": {
                "computerName": v.name,
                "adminUsername": table::ADMIN_USER,
                "customData": base64::engine::general_purpose::STANDARD.encode(v.custom_data),
                "linuxConfiguration": {
                    "disablePasswordAuthentication": true,
                    "ssh": {"publicKeys": keys},
                },
            },
            "networkProfile": {
                "networkInterfaces": [{"id": v.nic, "properties": {"primary": true, "deleteOption": "Delete"}}],
            },
        },
    })
}

/// The Standard load balancer: one public frontend, one pool, a TCP probe and a rule per port.
pub(super) fn load_balancer(
    location: &str,
    tags: &Labels,
    id: &str,
    block: &LoadBalancer,
    ip: &str,
    ports: &[u16],
) -> Json {
    let frontend = format!("{id}/frontendIPConfigurations/{}", table::FRONTEND);
    let pool = format!("{id}/backendAddressPools/{}", table::BACKEND_POOL);
    let probes: Vec<Json> = block.probes.iter().map(probe).collect();
    let rules: Vec<Json> = ports
        .iter()
        .map(|port| {
            let probe = block.probes.iter().find(|p| p.port == *port);
            let mut props = json!({
                "frontendIPConfiguration": reference(&frontend),
                "backendAddressPool": reference(&pool),
                "protocol": "Tcp",
                "frontendPort": port,
                "backendPort": port,
                "idleTimeoutInMinutes": 4,
                "enableFloatingIP": false,
                "disableOutboundSnat": true,
            });
            if let Some(p) = probe {
                props["probe"] = reference(&format!("{id}/probes/{}", p.name));
            }
            json!({"name": format!("tcp-{port}"), "properties": props})
        })
        .collect();
    json!({
        "location": location,
        "tags": tags,
        "sku": {"name": "Standard"},
        "properties": {
            "frontendIPConfigurations": [{"name": table::FRONTEND, "properties": {"publicIPAddress": reference(ip)}}],
            "backendAddressPools": [{"name": table::BACKEND_POOL}],
            "probes": probes,
            "loadBalancingRules": rules,
        },
    })
}

fn probe(p: &Probe) -> Json {
    json!({"name": p.name, "properties": {
        "protocol": p.protocol, "port": p.port,
        "intervalInSeconds": p.interval_in_seconds, "numberOfProbes": p.number_of_probes,
    }})
}

/// Resource SKUs as offers in `location`: the VM sizes listed there, each available unless a
/// `Location` restriction names the location.
pub(super) fn offers(skus: &[Json], location: &str) -> Vec<Offer> {
    let named = |values: &Json| {
        values
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(location)))
    };
    skus.iter()
        .filter(|s| s["resourceType"] == "virtualMachines" && named(&s["locations"]))
        .map(|s| Offer {
            machine_type: s["name"].as_str().unwrap_or_default().to_owned(),
            location: location.to_owned(),
            available: !s["restrictions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["type"] == "Location" && named(&r["values"])),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        direction: Direction,
        description: &str,
        port: Option<&str>,
        sources: &[&str],
    ) -> FirewallRule {
        FirewallRule {
            direction,
            description: description.to_owned(),
            protocol: "tcp".to_owned(),
            port: port.map(str::to_owned),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn nsg_rules_read_back_as_written_one_family_each_numbered_per_direction() {
        let rules = vec![
            rule(
                Direction::In,
                "SSH (moved from 22)",
                Some("2244"),
                &["0.0.0.0/0"],
            ),
            rule(
                Direction::In,
                "SSH (moved from 22)",
                Some("2244"),
                &["::/0"],
            ),
            rule(
                Direction::In,
                "k3s etcd",
                Some("2379-2380"),
                &["10.2.0.0/16"],
            ),
            rule(Direction::Out, "HTTPS", Some("443"), &["0.0.0.0/0"]),
        ];
        let body = nsg("uksouth", &Labels::new(), &rules);
        let stored = body["properties"]["securityRules"]
            .as_array()
            .expect("rules");
        let numbers: Vec<(String, u64)> = stored
            .iter()
            .map(|r| {
                (
                    r["properties"]["direction"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    r["properties"]["priority"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        let expected = [
            ("Inbound", 100),
            ("Inbound", 110),
            ("Inbound", 120),
            ("Outbound", 100),
        ];
        assert_eq!(numbers, expected.map(|(d, p)| (d.to_owned(), p)));
        assert!(
            stored
                .iter()
                .all(|r| !r["name"].as_str().unwrap_or(" ").contains(' '))
        );
        assert_eq!(rules_of(&body), rules);
    }

    #[test]
    fn a_vm_carries_its_user_data_base64_and_its_keys_inline() {
        use base64::Engine as _;
        let keys = vec!["ssh-ed25519 AAAA admin@example.com".to_owned()];
        let body = vm(&Vm {
            location: "uksouth",
            tags: &Labels::new(),
            name: "demo-server-0",
            size: "Standard_D4s_v5",
            image: "Canonical:ubuntu-24_04-lts:server",
            nic: "/nic",
            ssh_keys: &keys,
            custom_data: "#cloud-config\n",
        });
        let os = &body["properties"]["osProfile"];
        let data = base64::engine::general_purpose::STANDARD
            .decode(os["customData"].as_str().expect("customData"))
            .expect("base64");
        assert_eq!(data, b"#cloud-config\n");
        assert_ne!(os["adminUsername"], "root", "Azure refuses root");
        assert_eq!(
            os["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"],
            keys[0].as_str()
        );
        let image = &body["properties"]["storageProfile"]["imageReference"];
        assert_eq!(
            (image["offer"].as_str(), image["version"].as_str()),
            (Some("ubuntu-24_04-lts"), Some("latest"))
        );
    }
}
