//! `hosts/<site>/machines.yaml`: the machines bootstrap creates, as a reviewable file.
//!
//! Worker user-data is one file for all workers, so a change of count or type shows here.

use std::collections::BTreeMap;

use crate::defaults::{self, size_name};
use crate::emit;
use crate::generate::azure;
use crate::layout;
use crate::machines::{
    API_VERSION, Autoscaled, LoadBalancer, Machines, Network, Pool, Server, Targets, Workers,
};
use crate::model::{PoolSize, Site};
use crate::site::Provider;

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let machines = machines(site);
    let value = serde_json::to_value(&machines).expect("machines always serialise");
    let text = format!(
        "# railyard: the machines of site `{}`; bootstrap creates exactly these.\n{}",
        site.name,
        emit::document(&value)
    );
    files.insert(layout::machines(&site.name), text.into_bytes());
}

/// The site's machines as `machines.yaml` holds them.
pub fn machines(site: &Site) -> Machines {
    let provider = defaults::provider(site.provider);
    let zone = (site.provider == Provider::Hetzner)
        .then(|| defaults::hetzner_network_zone(&site.location).to_owned());
    let servers = site
        .servers
        .iter()
        .map(|s| Server {
            name: layout::cloud::server(&site.name, s.index),
            machine_type: s.server_type.clone(),
            private_ip: s.private_ip.clone(),
            user_data: layout::server_user_data(s.index),
        })
        .collect();
    // seed-reference.md §1.6: one load balancer for Gitpod (80, 443, 22) in every size, in front
    // of the machines that run Gitpod's workloads; a second one for the API when HA.
    let ingress_targets = if site.has_dedicated_servers() {
        vec![Targets::Workers]
    } else {
        vec![Targets::Servers, Targets::Workers]
    };
    let api_load_balancer = site.has_dedicated_servers().then(|| LoadBalancer {
        private_ip: Some(site.api_address.clone()),
        ports: vec![6443],
        targets: vec![Targets::Servers],
    });
    let ingress_ports = vec![80, 443, 22];
    let azure = (site.provider == Provider::Azure).then(|| azure::resources(site, &ingress_ports));
    Machines {
        api_version: API_VERSION.to_owned(),
        kind: "Machines".to_owned(),
        site: site.name.to_string(),
        provider: provider.name.to_owned(),
        location: site.location.clone(),
        size: size_name(site.size).to_owned(),
        image: site.image.clone(),
        network: Network {
            cidr: site.network.cidr.clone(),
            subnet: site.network.subnet.clone(),
            zone,
        },
        api_address: site.api_address.clone(),
        ssh_keys: site.ssh_keys.clone(),
        servers,
        workers: Workers {
            count: site.workers.count,
            machine_type: site.workers.server_type.clone(),
            name_prefix: layout::cloud::worker_prefix(&site.name),
            user_data: layout::WORKER_USER_DATA.to_owned(),
        },
        pools: pools(site),
        ingress_load_balancer: LoadBalancer {
            private_ip: None,
            ports: ingress_ports,
            targets: ingress_targets,
        },
        api_load_balancer,
        azure,
    }
}

/// The site's pools as bootstrap reads them.
fn pools(site: &Site) -> Vec<Pool> {
    site.pools
        .iter()
        .map(|pool| {
            let (count, autoscaled) = match pool.size {
                PoolSize::Static { count } => (Some(count), None),
                PoolSize::Autoscaled { min, max } => (None, Some(Autoscaled { min, max })),
            };
            Pool {
                name: pool.name.to_string(),
                machine_type: pool.server_type.clone(),
                location: pool.location.clone(),
                count,
                autoscaled,
                name_prefix: layout::cloud::pool_prefix(&site.name, &pool.name),
                user_data: layout::pool_user_data(&pool.name),
            }
        })
        .collect()
}
