//! What Azure can run (decision 0020): the `azure` block of `machines.yaml` and the firewall's
//! rules as network security group rules.
//!
//! An NSG rule may not mix IPv4 and IPv6 prefixes (400
//! `ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies`), its name takes only
//! letters, digits, `_`, `.` and `-` (at most 80, starting with a letter or digit and ending
//! with one or `_`), and its priority (100 to 4096) is unique per direction (cloud-apis.md §5
//! Traps). So each rule is split by address family, named from its description, protocol and
//! family, and numbered in file order: the same site always gets the same names and numbers.

use crate::defaults::{
    AZURE_NSG_PRIORITIES, AZURE_NSG_PRIORITY_STEP, AZURE_PROBE_COUNT, AZURE_PROBE_INTERVAL_SECONDS,
};
use crate::firewall::Rule;
use crate::labels;
use crate::layout::cloud;
use crate::machines::azure::{Azure, LoadBalancer, NatGateway, Nic, Probe, Subnet};
use crate::model::Site;

/// The longest NSG rule name Azure takes.
pub const NSG_NAME_MAX: usize = 80;

/// The site's Azure resources beyond the machines, for `machines.yaml`.
pub fn resources(site: &Site, ingress_ports: &[u16]) -> Azure {
    let nat_gateway = cloud::nat_gateway(&site.name);
    let nics = site
        .servers
        .iter()
        .map(|server| {
            let machine = cloud::server(&site.name, server.index);
            Nic {
                name: cloud::nic(&machine),
                // Server 0 is where the user reaches SSH and the API for the kubeconfig.
                public_ip: (server.index == 0).then(|| cloud::public_ip(&machine)),
                machine,
                private_ip_allocation: "Static".to_owned(),
                private_ip: server.private_ip.clone(),
            }
        })
        .collect();
    let ingress = cloud::load_balancer(&site.name, cloud::INGRESS_ROLE);
    Azure {
        resource_group: cloud::resource_group(&site.name),
        tags: labels::azure_site_tags(&site.name),
        subnet: Subnet {
            name: cloud::SUBNET.to_owned(),
            default_outbound_access: false,
            nat_gateway: nat_gateway.clone(),
            network_security_group: cloud::firewall(&site.name),
        },
        nat_gateway: NatGateway {
            public_ip: cloud::public_ip(&nat_gateway),
            name: nat_gateway,
        },
        nics,
        ingress_load_balancer: LoadBalancer {
            public_ip: cloud::public_ip(&ingress),
            name: ingress,
            probes: ingress_ports.iter().map(|&port| probe(port)).collect(),
        },
    }
}

/// A TCP probe of `port`.
fn probe(port: u16) -> Probe {
    Probe {
        name: format!("tcp-{port}"),
        protocol: "Tcp".to_owned(),
        port,
        interval_in_seconds: AZURE_PROBE_INTERVAL_SECONDS,
        number_of_probes: AZURE_PROBE_COUNT,
    }
}

/// The inbound rules as NSG rules: one address family each, named, numbered.
pub fn nsg_rules(rules: Vec<Rule>) -> Vec<Rule> {
    let split = rules.into_iter().flat_map(|rule| {
        let (v6, v4): (Vec<String>, Vec<String>) =
            rule.sources.iter().cloned().partition(|s| s.contains(':'));
        [("ipv4", v4), ("ipv6", v6)]
            .into_iter()
            .filter(|(_, sources)| !sources.is_empty())
            .map(move |(family, sources)| Rule {
                name: Some(rule_name(&rule.description, &rule.protocol, family)),
                sources,
                ..rule.clone()
            })
            .collect::<Vec<_>>()
    });
    let mut priorities = AZURE_NSG_PRIORITIES.step_by(usize::from(AZURE_NSG_PRIORITY_STEP));
    split
        .map(|rule| Rule {
            priority: Some(
                priorities
                    .next()
                    .expect("railyard's rules fit the NSG's range"),
            ),
            ..rule
        })
        .collect()
}

/// `Gitpod SSH gateway`, `tcp`, `ipv4` → `gitpod-ssh-gateway-tcp-ipv4`.
fn rule_name(description: &str, protocol: &str, family: &str) -> String {
    let words = format!("{description} {protocol} {family}").to_ascii_lowercase();
    let name = words
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    // The family ends the name, so a shortened one keeps it: the name stays unique.
    if name.len() > NSG_NAME_MAX {
        let tail = format!("-{protocol}-{family}");
        let head = name[..NSG_NAME_MAX - tail.len()].trim_end_matches('-');
        format!("{head}{tail}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(description: &str, protocol: &str, sources: &[&str]) -> Rule {
        Rule {
            name: None,
            priority: None,
            description: description.to_owned(),
            protocol: protocol.to_owned(),
            port: Some("53".to_owned()),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn mixed_families_split_and_number_in_order() {
        let rules = nsg_rules(vec![
            rule("SSH (moved from 22)", "tcp", &["0.0.0.0/0", "::/0"]),
            rule("DNS", "tcp", &["10.2.0.0/16"]),
            rule(
                "DNS",
                "udp",
                &["10.2.0.0/16", "2001:db8::/32", "192.0.2.0/24"],
            ),
        ]);
        let shown: Vec<(String, u16, Vec<String>)> = rules
            .into_iter()
            .map(|r| (r.name.unwrap(), r.priority.unwrap(), r.sources))
            .collect();
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shown,
            [
                (
                    "ssh-moved-from-22-tcp-ipv4".to_owned(),
                    100,
                    owned(&["0.0.0.0/0"])
                ),
                (
                    "ssh-moved-from-22-tcp-ipv6".to_owned(),
                    110,
                    owned(&["::/0"])
                ),
                ("dns-tcp-ipv4".to_owned(), 120, owned(&["10.2.0.0/16"])),
                (
                    "dns-udp-ipv4".to_owned(),
                    130,
                    owned(&["10.2.0.0/16", "192.0.2.0/24"])
                ),
                ("dns-udp-ipv6".to_owned(), 140, owned(&["2001:db8::/32"])),
            ]
        );
    }

    #[test]
    fn a_long_description_keeps_its_family() {
        let name = rule_name(&"very long words ".repeat(10), "udp", "ipv6");
        assert!(name.len() <= NSG_NAME_MAX, "{name}");
        assert!(name.ends_with("-udp-ipv6"), "{name}");
        assert!(!name.contains("--"), "{name}");
    }
}
