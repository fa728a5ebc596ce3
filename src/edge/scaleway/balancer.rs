//! Load balancers on Scaleway: created with a flexible IP (not tagged by Scaleway; released
//! with the load balancer), `ready` awaited before anything else, joined to the private
//! network, and one TCP frontend and backend per port. Backends are static address lists,
//! so a target role is "added" when every backend holds the private address of every
//! machine with that role; a machine added later makes it undone, and the next run adds it.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::create::Lookup;
use super::{Paging, Scaleway, ScalewayError, wire};
use crate::bootstrap::model::{Facts, LoadBalancer};
use crate::core::labels::{self, role_selector, site_selector};

impl Scaleway {
    pub(super) async fn create_balancer(
        &self,
        name: &str,
        tags: &[String],
        lb: &LoadBalancer,
        lookup: &Lookup<'_>,
    ) -> Result<(Json, bool), ScalewayError> {
        let mut tags = tags.to_vec();
        tags.extend(lb.ports.iter().map(|p| format!("{PORT_TAG}{p}")));
        let body = json!({
            "name": name, "description": "railyard", "project_id": self.project,
            "type": lb.size, "tags": tags, "assign_flexible_ip": true,
        });
        let (value, adopted) = self
            .create_or_adopt(&self.lb("lbs"), "", &body, lookup)
            .await?;
        let id = value["id"].as_str().unwrap_or_default();
        let ready = self
            .wait_for(&self.lb(&format!("lbs/{id}")), "", "status", "ready")
            .await?;
        Ok((ready, adopted))
    }

    pub(super) async fn balancer_facts(&self, value: &Json) -> Result<Facts, ScalewayError> {
        let id = value["id"].as_str().unwrap_or_default();
        let networks = self
            .list(
                &self.lb(&format!("lbs/{id}/private-networks")),
                "private_network",
                &[],
                Paging::Body,
            )
            .await?;
        let mut targets = Vec::new();
        if let Some(site) = wire::labels(value).get(labels::SITE) {
            let backends = self.backends(id).await?;
            for role in ["server", "worker"] {
                let addresses = self.role_addresses(site, role).await?;
                let served = !addresses.is_empty()
                    && !backends.is_empty()
                    && backends
                        .iter()
                        .all(|b| addresses.is_subset(&backend_addresses(b)));
                if served {
                    targets.push(role_selector(site, role));
                }
            }
        }
        Ok(Facts {
            size: value["type"].as_str().map(str::to_owned),
            on_network: !networks.is_empty(),
            targets,
            public_ipv4: value["ip"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|ip| ip["ip_address"].as_str())
                .map(str::to_owned),
            ..Facts::default()
        })
    }

    async fn backends(&self, id: &str) -> Result<Vec<Json>, ScalewayError> {
        self.list(
            &self.lb(&format!("lbs/{id}/backends")),
            "backends",
            &[],
            Paging::Body,
        )
        .await
    }

    /// The private addresses of the site's machines with `role`.
    async fn role_addresses(
        &self,
        site: &str,
        role: &str,
    ) -> Result<BTreeSet<String>, ScalewayError> {
        let tags = [site_selector(site), format!("{}={role}", labels::ROLE)].join(",");
        let servers = self
            .list(
                &self.instance("servers"),
                "servers",
                &[("tags", tags)],
                Paging::Instance,
            )
            .await?;
        let mut addresses = BTreeSet::new();
        for server in servers {
            for nic in server["private_nics"].as_array().into_iter().flatten() {
                let nic_id = nic["id"].as_str().unwrap_or_default().to_owned();
                let ips = self
                    .list(
                        &self.ipam(),
                        "ips",
                        &[("resource_id", nic_id)],
                        Paging::Body,
                    )
                    .await?;
                addresses.extend(ips.iter().filter_map(wire::bare_address));
            }
        }
        Ok(addresses)
    }

    pub(super) async fn attach_balancer(
        &self,
        id: &str,
        network: &str,
        ip: Option<&str>,
    ) -> Result<(), ScalewayError> {
        let path = self.lb(&format!("lbs/{id}/private-networks"));
        let attached = self
            .list(&path, "private_network", &[], Paging::Body)
            .await?;
        if attached.iter().any(|p| p["private_network_id"] == network) {
            return Ok(());
        }
        let mut body = json!({ "private_network_id": network, "ipam_config": {} });
        if let Some(ip) = ip {
            body =
                json!({ "private_network_id": network, "static_config": { "ip_address": [ip] } });
        }
        match self
            .call(
                Method::POST,
                &self.lb(&format!("lbs/{id}/attach-private-network")),
                Some(&body),
            )
            .await
        {
            Err(e) if e.kind() == Some("conflict") => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// One backend and frontend per port of the load balancer's role; the role's machines'
    /// addresses added to every backend.
    pub(super) async fn add_target(&self, id: &str, selector: &str) -> Result<(), ScalewayError> {
        let lb = self
            .call(Method::GET, &self.lb(&format!("lbs/{id}")), None)
            .await?;
        let site = wire::labels(&lb)
            .get(labels::SITE)
            .cloned()
            .unwrap_or_default();
        let role = selector
            .split(',')
            .find_map(|p| p.strip_prefix(&format!("{}=", labels::ROLE)))
            .unwrap_or_default();
        let addresses = self.role_addresses(&site, role).await?;
        let ports = self.ports_of(&lb);
        let backends = self.backends(id).await?;
        for port in ports {
            let name = format!("port-{port}");
            match backends.iter().find(|b| b["name"] == name) {
                Some(backend) => {
                    let mut all = backend_addresses(backend);
                    if addresses.is_subset(&all) {
                        continue;
                    }
                    all.extend(addresses.iter().cloned());
                    let backend_id = backend["id"].as_str().unwrap_or_default();
                    let path = self.lb(&format!("backends/{backend_id}/servers"));
                    self.call(Method::PUT, &path, Some(&json!({ "server_ip": all })))
                        .await?;
                }
                None => self.add_port(id, port, &name, &addresses).await?,
            }
        }
        Ok(())
    }

    /// The ports a load balancer serves, kept in its tags (`railyard.dev/port=80`).
    fn ports_of(&self, lb: &Json) -> Vec<u16> {
        lb["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .filter_map(|t| t.strip_prefix(PORT_TAG))
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    async fn add_port(
        &self,
        id: &str,
        port: u16,
        name: &str,
        addresses: &BTreeSet<String>,
    ) -> Result<(), ScalewayError> {
        let backend = json!({
            "name": name, "forward_protocol": "tcp", "forward_port": port,
            "forward_port_algorithm": "roundrobin", "sticky_sessions": "none",
            "health_check": { "port": port, "check_max_retries": 3, "check_delay": "5s", "check_timeout": "3s", "tcp_config": {} },
            "server_ip": addresses,
        });
        let lookup = Lookup {
            path: self.lb(&format!("lbs/{id}/backends")),
            root: "backends",
            query: Vec::new(),
            paging: Paging::Body,
            name: Some(name),
        };
        let (backend, _) = self
            .create_or_adopt(&lookup.path.clone(), "", &backend, &lookup)
            .await?;
        let frontend = json!({
            "name": name, "inbound_port": port,
            "backend_id": backend["id"], "timeout_client": "30m",
        });
        let lookup = Lookup {
            path: self.lb(&format!("lbs/{id}/frontends")),
            root: "frontends",
            query: Vec::new(),
            paging: Paging::Body,
            name: Some(name),
        };
        self.create_or_adopt(&lookup.path.clone(), "", &frontend, &lookup)
            .await?;
        Ok(())
    }
}

/// The tag prefix recording a port a load balancer serves.
pub(super) const PORT_TAG: &str = "railyard.dev/port=";

fn backend_addresses(backend: &Json) -> BTreeSet<String> {
    backend["server_ip"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_owned)
        .collect()
}
