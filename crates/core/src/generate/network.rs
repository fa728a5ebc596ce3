//! `hosts/<site>/firewall.yaml` and `dns-records.yaml`: what bootstrap applies to the cloud and
//! what the user creates at their DNS provider, as reviewable data.
//!
//! The firewall keeps the seed's list of ports (seed-reference.md §1.4), with kubelet's 10250
//! as TCP (the seed had UDP), and opens the ports only k3s nodes talk on (etcd, kubelet,
//! flannel, DNS) to the private network alone: node traffic runs there, and etcd or the kubelet
//! open to the internet would be a hole.
//!
//! On Scaleway the private-network rules are left out: its security groups filter public
//! traffic only (cloud-apis.md §4, Traps), so a rule naming the private range would never
//! match anything and the node ports stay closed to the internet by the inbound `drop`
//! policy alone. What is committed is then exactly what the security group holds.
//! DigitalOcean's cloud firewalls also filter traffic inside the VPC and deny every outbound
//! packet no rule allows (cloud-apis.md §3 Traps). There the firewall also lets all TCP, UDP
//! and ICMP in from the site's own range (k3s' join on 6443, flannel, the kubelet, and the
//! load balancer, which reaches droplets over the VPC), and lets out what the machines need:
//! DNS, NTP, HTTP and HTTPS (packages, the pinned install scripts, k3s and container images),
//! SSH (Flux and `git` over `ssh://`), ICMP, and everything to the site's own range.
//! On Azure each rule becomes network security group rules (`generate/azure.rs`).

use std::collections::BTreeMap;

use crate::emit;
use crate::firewall::{DnsRecord, DnsRecords, Firewall, OutboundRule, Rule};
use crate::generate::azure;
use crate::layout;
use crate::machines::API_VERSION;
use crate::model::Site;
use crate::placeholder;
use crate::site::Provider;

const ANYWHERE: &[&str] = &["0.0.0.0/0", "::/0"];

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    files.insert(layout::firewall(&site.name), firewall(site).into_bytes());
    files.insert(
        layout::dns_records(&site.name),
        dns_records(site).into_bytes(),
    );
}

fn firewall(site: &Site) -> String {
    let anywhere: Vec<String> = ANYWHERE.iter().map(|s| (*s).to_owned()).collect();
    let private = vec![site.network.cidr.clone()];
    let admin = if site.admin_cidrs.is_empty() {
        anywhere.clone()
    } else {
        site.admin_cidrs.clone()
    };
    let rule = |description: &str, protocol: &str, port: &str, sources: &[String]| Rule {
        name: None,
        priority: None,
        description: description.to_owned(),
        protocol: protocol.to_owned(),
        port: Some(port.to_owned()),
        sources: sources.to_vec(),
    };
    let mut rules = vec![
        rule("Gitpod SSH gateway", "tcp", "22", &anywhere),
        rule("SSH (moved from 22)", "tcp", "2244", &anywhere),
        rule("HTTP", "tcp", "80", &anywhere),
        rule("HTTPS", "tcp", "443", &anywhere),
        rule("Kubernetes API", "tcp", "6443", &admin),
        rule("k3s etcd clients and peers", "tcp", "2379-2380", &private),
        rule("k3s kubelet metrics", "tcp", "10250", &private),
        rule("k3s flannel VXLAN", "udp", "8472", &private),
        rule("k3s flannel WireGuard", "udp", "51820-51821", &private),
        rule("DNS", "tcp", "53", &private),
        rule("DNS", "udp", "53", &private),
    ];
    // Scaleway: its security groups filter public traffic only, so the private rules go.
    let public_only = site.provider == Provider::Scaleway;
    rules.retain(|r| !(public_only && r.sources == private));
    let filters_all = site.provider == Provider::Digitalocean;
    let mut outbound = Vec::new();
    if filters_all {
        let any = |description: &str, protocol: &str, sources: &[String]| Rule {
            name: None,
            priority: None,
            description: description.to_owned(),
            protocol: protocol.to_owned(),
            port: None,
            sources: sources.to_vec(),
        };
        rules.push(any("the private network, TCP", "tcp", &private));
        rules.push(any("the private network, UDP", "udp", &private));
        rules.push(any("the private network, ICMP", "icmp", &private));
        outbound = outbound_rules(&anywhere, &private);
    }
    // Azure: network security group rules, one address family each, named and numbered.
    if site.provider == Provider::Azure {
        rules = azure::nsg_rules(rules);
    }
    let document = Firewall {
        api_version: API_VERSION.to_owned(),
        kind: "Firewall".to_owned(),
        site: site.name.to_string(),
        direction: "in".to_owned(),
        rules,
        outbound,
    };
    let value = serde_json::to_value(&document).expect("a firewall always serialises");
    let what = if filters_all {
        "inbound and outbound rules"
    } else {
        "inbound rules"
    };
    format!(
        "# railyard: {what} for every machine of site `{}`; bootstrap applies them.\n{}",
        site.name,
        emit::document(&value)
    )
}

/// What machines send where the firewall denies the outbound traffic no rule allows.
fn outbound_rules(anywhere: &[String], private: &[String]) -> Vec<OutboundRule> {
    let rule =
        |description: &str, protocol: &str, port: Option<&str>, to: &[String]| OutboundRule {
            description: description.to_owned(),
            protocol: protocol.to_owned(),
            port: port.map(str::to_owned),
            destinations: to.to_vec(),
        };
    vec![
        rule("DNS", "udp", Some("53"), anywhere),
        rule("DNS", "tcp", Some("53"), anywhere),
        rule("NTP", "udp", Some("123"), anywhere),
        rule("HTTP: packages", "tcp", Some("80"), anywhere),
        rule(
            "HTTPS: packages, install scripts, k3s, images, Git",
            "tcp",
            Some("443"),
            anywhere,
        ),
        rule("SSH: Git over ssh://", "tcp", Some("22"), anywhere),
        rule("ICMP", "icmp", None, anywhere),
        rule("the private network, TCP", "tcp", None, private),
        rule("the private network, UDP", "udp", None, private),
        rule("the private network, ICMP", "icmp", None, private),
    ]
}

fn dns_records(site: &Site) -> String {
    let address = placeholder::address(layout::INGRESS_ADDRESS);
    let records = [
        site.domain.to_string(),
        format!("*.{}", site.domain),
        format!("*.ws.{}", site.domain),
    ]
    .into_iter()
    .map(|name| DnsRecord {
        name,
        kind: "A".to_owned(),
        ttl: 60,
        value: address.clone(),
    })
    .collect();
    let document = DnsRecords {
        api_version: API_VERSION.to_owned(),
        kind: "DNSRecords".to_owned(),
        site: site.name.to_string(),
        records,
    };
    let value = serde_json::to_value(&document).expect("DNS records always serialise");
    format!(
        "# railyard: the DNS records Gitpod needs; `{address}` is the public address of the site's\n# load balancer, which `railyard bootstrap` prints when it has created it.\n{}",
        emit::document(&value)
    )
}
