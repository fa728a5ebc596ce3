//! `hosts/<site>/machines.yaml`: the machines bootstrap creates, as a reviewable file.
//!
//! Worker user-data is one file for all workers, so a change of count or type shows here.

use std::collections::BTreeMap;

use serde_json::json;

use crate::core::defaults::{self, size_name};
use crate::core::emit;
use crate::core::generate::hosts_dir;
use crate::core::model::{NETWORK_CIDR, SUBNET_CIDR, Site};
use crate::core::site::Provider;

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let provider = defaults::provider(site.provider);
    let mut network = json!({ "cidr": NETWORK_CIDR, "subnet": SUBNET_CIDR });
    if site.provider == Provider::Hetzner {
        network["zone"] = json!(defaults::hetzner_network_zone(&site.location));
    }
    let servers: Vec<_> = site
        .servers
        .iter()
        .map(|s| {
            json!({
                "name": format!("{}-server-{}", site.name, s.index),
                "type": s.server_type,
                "privateIP": s.private_ip,
                "userData": format!("cloud-init/server-{}.yaml", s.index),
            })
        })
        .collect();
    let mut machines = json!({
        "apiVersion": "railyard.dev/v1alpha1",
        "kind": "Machines",
        "site": site.name,
        "provider": provider.name,
        "location": site.location,
        "size": size_name(site.size),
        "image": site.image,
        "network": network,
        "apiAddress": site.api_address,
        "sshKeys": site.ssh_keys,
        "servers": servers,
        "workers": {
            "count": site.workers.count,
            "type": site.workers.server_type,
            "namePrefix": format!("{}-worker-", site.name),
            "userData": "cloud-init/worker.yaml",
        },
    });
    // seed-reference.md §1.6: one load balancer for Gitpod (80, 443, 22) in every size, in front
    // of the machines that run Gitpod's workloads; a second one for the API when HA.
    let ingress_targets = if site.has_dedicated_servers() {
        json!(["workers"])
    } else {
        json!(["servers", "workers"])
    };
    machines["ingressLoadBalancer"] = json!({ "ports": [80, 443, 22], "targets": ingress_targets });
    if site.has_dedicated_servers() {
        machines["apiLoadBalancer"] =
            json!({ "privateIP": site.api_address, "ports": [6443], "targets": ["servers"] });
    }
    let text = format!(
        "# railyard: the machines of site `{}`; bootstrap creates exactly these.\n{}",
        site.name,
        emit::document(&machines)
    );
    files.insert(
        format!("{}/machines.yaml", hosts_dir(site)),
        text.into_bytes(),
    );
}
