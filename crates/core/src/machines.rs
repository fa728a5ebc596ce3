//! `hosts/<site>/machines.yaml` as a type: the render writes it from the resolved site and
//! bootstrap reads it back, so both agree on every key. Serde's field order is the file's order
//! (the golden files pin it byte for byte).

use serde::{Deserialize, Serialize};

pub mod azure;

/// `apiVersion` of railyard's host files.
pub const API_VERSION: &str = "railyard.dev/v1alpha1";

/// The machines of a site and what sits in front of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machines {
    pub api_version: String,
    /// Always `Machines`.
    pub kind: String,
    pub site: String,
    pub provider: String,
    pub location: String,
    pub size: String,
    pub image: String,
    pub network: Network,
    /// The address the servers' API answers on inside the private network.
    pub api_address: String,
    /// OpenSSH public keys allowed to log in as root.
    #[serde(default)]
    pub ssh_keys: Vec<String>,
    pub servers: Vec<Server>,
    pub workers: Workers,
    /// The worker pools; absent when the site has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<Pool>,
    pub ingress_load_balancer: LoadBalancer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_load_balancer: Option<LoadBalancer>,
    /// What Azure needs beyond the above; absent on every other provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<azure::Azure>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub cidr: String,
    pub subnet: String,
    /// The provider's network zone, where it has one (Hetzner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// One server (control plane) with its fixed private address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub name: String,
    #[serde(rename = "type")]
    pub machine_type: String,
    #[serde(rename = "privateIP")]
    pub private_ip: String,
    /// The user-data file, relative to `hosts/<site>`.
    pub user_data: String,
}

/// The workers: one type and one user-data file for all of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workers {
    pub count: u32,
    #[serde(rename = "type")]
    pub machine_type: String,
    pub name_prefix: String,
    /// The user-data file, relative to `hosts/<site>`.
    pub user_data: String,
}

/// A worker pool: bootstrap creates a static pool's `count` servers;
/// cluster-autoscaler creates an autoscaled pool's, which bootstrap leaves alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    pub name: String,
    #[serde(rename = "type")]
    pub machine_type: String,
    /// The pool's own location, when it names one (Hetzner: in the network's zone); else the
    /// site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A static pool's number of servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// An autoscaled pool's bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaled: Option<Autoscaled>,
    pub name_prefix: String,
    /// The user-data file, relative to `hosts/<site>`.
    pub user_data: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autoscaled {
    pub min: u32,
    pub max: u32,
}

impl Pool {
    /// The servers bootstrap creates for this pool (none for an autoscaled one).
    pub fn static_count(&self) -> u32 {
        if self.autoscaled.is_some() {
            0
        } else {
            self.count.unwrap_or(0)
        }
    }

    /// The most servers the pool may have.
    pub fn largest(&self) -> u32 {
        self.autoscaled.map_or(self.static_count(), |a| a.max)
    }

    /// Where the pool's servers are created: its own location, else the site's.
    pub fn location_in<'a>(&'a self, machines: &'a Machines) -> &'a str {
        self.location.as_deref().unwrap_or(&machines.location)
    }

    /// A static pool's server name.
    pub fn server_name(&self, index: u32) -> String {
        format!("{}{index}", self.name_prefix)
    }
}

/// Which machines a load balancer sends traffic to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Targets {
    Servers,
    Workers,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    /// A fixed private address (the API's), or any.
    #[serde(default, rename = "privateIP", skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    pub ports: Vec<u16>,
    pub targets: Vec<Targets>,
}

impl Machines {
    /// How many machines a load balancer sends traffic to.
    pub fn target_count(&self, balancer: &LoadBalancer) -> usize {
        balancer
            .targets
            .iter()
            .map(|t| match t {
                Targets::Servers => self.servers.len(),
                Targets::Workers => {
                    self.workers.count as usize
                        + self
                            .pools
                            .iter()
                            .map(|p| p.largest() as usize)
                            .sum::<usize>()
                }
            })
            .sum()
    }

    /// A worker's name.
    pub fn worker_name(&self, index: u32) -> String {
        format!("{}{index}", self.workers.name_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_tree::JsonTree;
    use crate::source::SourceFile;
    use crate::{emit, yaml};

    #[test]
    fn the_file_reads_back_as_written() {
        let machines = Machines {
            api_version: API_VERSION.to_owned(),
            kind: "Machines".to_owned(),
            site: "s".to_owned(),
            provider: "hetzner".to_owned(),
            location: "nbg1".to_owned(),
            size: "medium".to_owned(),
            image: "ubuntu-24.04".to_owned(),
            network: Network {
                cidr: "10.2.0.0/16".to_owned(),
                subnet: "10.2.0.0/24".to_owned(),
                zone: None,
            },
            api_address: "10.2.0.5".to_owned(),
            ssh_keys: vec!["ssh-ed25519 AAAA".to_owned()],
            servers: vec![Server {
                name: "s-server-0".to_owned(),
                machine_type: "cpx32".to_owned(),
                private_ip: "10.2.0.10".to_owned(),
                user_data: "cloud-init/server-0.yaml".to_owned(),
            }],
            workers: Workers {
                count: 12,
                machine_type: "cpx42".to_owned(),
                name_prefix: "s-worker-".to_owned(),
                user_data: "cloud-init/worker.yaml".to_owned(),
            },
            pools: Vec::new(),
            ingress_load_balancer: LoadBalancer {
                private_ip: None,
                ports: vec![80, 443, 22],
                targets: vec![Targets::Workers],
            },
            api_load_balancer: Some(LoadBalancer {
                private_ip: Some("10.2.0.5".to_owned()),
                ports: vec![6443],
                targets: vec![Targets::Servers],
            }),
            azure: None,
        };
        let text = emit::document(&serde_json::to_value(&machines).expect("serialises"));
        assert!(
            !text.contains("zone"),
            "an absent zone is left out:\n{text}"
        );
        let file = SourceFile::new("machines.yaml", &text);
        let (documents, diagnostics) = yaml::parse_stream(&file);
        assert!(diagnostics.is_empty());
        let read: Machines =
            serde_json::from_value(JsonTree::new("machines.yaml", &documents[0]).value)
                .expect("reads back");
        assert_eq!(read, machines);
        assert_eq!(read.target_count(&read.ingress_load_balancer), 12);
        assert_eq!(read.worker_name(3), "s-worker-3");
    }
}
