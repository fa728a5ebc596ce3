//! What a site on Azure needs beyond the provider-neutral machines (decision 0020): the
//! resource group and its tags, the subnet's explicit outbound path, the servers' network
//! interfaces with their static addresses and public addresses, and the ingress load
//! balancer's health probes. Bootstrap reads it back as the other host files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `azure` block of `machines.yaml`; absent on every other provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Azure {
    /// The site's own resource group, which holds everything below.
    pub resource_group: String,
    /// The tags on every resource of the site, in a spelling Azure accepts.
    pub tags: BTreeMap<String, String>,
    pub subnet: Subnet,
    pub nat_gateway: NatGateway,
    /// The servers' network interfaces. Workers' interfaces take a `Dynamic` address and no
    /// public one: nothing reaches a worker by a fixed address.
    pub nics: Vec<Nic>,
    pub ingress_load_balancer: LoadBalancer,
}

/// The machines' subnet of the site's virtual network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    pub name: String,
    /// Always `false`: the outbound path is the NAT gateway, whatever the api-version's default.
    pub default_outbound_access: bool,
    pub nat_gateway: String,
    pub network_security_group: String,
}

/// The subnet's outbound path, with its own public address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NatGateway {
    pub name: String,
    #[serde(rename = "publicIP")]
    pub public_ip: String,
}

/// A machine's network interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nic {
    pub name: String,
    pub machine: String,
    /// `Static`: Azure gives the first free address otherwise, not the one k3s joins.
    #[serde(rename = "privateIPAllocation")]
    pub private_ip_allocation: String,
    #[serde(rename = "privateIP")]
    pub private_ip: String,
    /// The machine's public address (server 0: SSH and the kubeconfig); none for the others.
    #[serde(default, rename = "publicIP", skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
}

/// The ingress load balancer's Azure resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    pub name: String,
    #[serde(rename = "publicIP")]
    pub public_ip: String,
    /// One TCP probe per port; each port's rule uses its port's probe.
    pub probes: Vec<Probe>,
}

/// A load balancer's health probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub name: String,
    /// Always `Tcp`: a connection to the port is the health check.
    pub protocol: String,
    pub port: u16,
    pub interval_in_seconds: u32,
    pub number_of_probes: u32,
}
