//! A machine on Scaleway is several resources and steps: a tagged flexible IP, the server
//! (created `stopped`, its root volume tagged after), its user-data through the user-data
//! endpoint, a private NIC (at a reserved IPAM address for a fixed one), and `poweron`, whose
//! task is followed by polling the server's state. Every step reads first, so a re-run after
//! any failure does only what is missing. Deleting a server leaves its root volume and its
//! flexible IP behind, so deletion removes them too.

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::create::Lookup;
use super::{Paging, Payload, Scaleway, ScalewayError, table, wire};
use crate::bootstrap::model::{Kind, Machine, Wanted};
use crate::core::labels::{self, site_selector};
use crate::edge::cloud::{CloudError, Refs};

impl Scaleway {
    pub(super) async fn create_machine(
        &self,
        site: &str,
        wanted: &Wanted,
        machine: &Machine,
        refs: &Refs,
        user_data: Option<String>,
        lookup: &Lookup<'_>,
    ) -> Result<(Json, bool), ScalewayError> {
        let name = wanted.name.as_str();
        let user_data = user_data.unwrap_or_default();
        if user_data.len() > table::USER_DATA_LIMIT {
            return Err(ScalewayError::UserDataSize {
                name: name.to_owned(),
                size: user_data.len(),
                limit: table::USER_DATA_LIMIT,
            });
        }
        let refer = |kind: Kind, name: &str| {
            super::resources::reference(refs, kind, name).map_err(|e| ScalewayError::Missing {
                what: kind.noun(),
                name: match e {
                    CloudError::Unresolved { name, .. } => name,
                    _ => name.to_owned(),
                },
            })
        };
        let group = refer(Kind::Firewall, &crate::core::layout::cloud::firewall(site))?;
        let placement = refer(Kind::PlacementGroup, &machine.placement_group)?;
        let owned = vec![site_selector(site), table::machine_tag(name)];
        let image = self.image(&machine.image, &machine.machine_type).await?;
        let ip = self.flexible_ip(&owned).await?;
        let body = json!({
            "name": name,
            "commercial_type": machine.machine_type,
            "image": image,
            "project": self.project,
            "tags": wire::tags(&wanted.labels),
            "security_group": group,
            "placement_group": placement,
            "dynamic_ip_required": false,
            "public_ips": [ip],
            "volumes": { "0": {
                "name": table::root_volume(name),
                "size": table::ROOT_VOLUME_BYTES,
                "volume_type": "sbs_volume",
            }},
        });
        let (server, adopted) = self
            .create_or_adopt(&self.instance("servers"), "server", &body, lookup)
            .await?;
        let id = server["id"].as_str().unwrap_or_default().to_owned();
        self.tag_volumes(&server, &owned).await?;
        // Cloud-init reads its user-data at the first boot: set it while the server is off.
        if matches!(server["state"].as_str(), Some("stopped")) {
            let path = self.instance(&format!("servers/{id}/user_data/cloud-init"));
            self.retry
                .run(async |_| {
                    self.once(&Method::PATCH, &path, &[], Some(Payload::Text(&user_data)))
                        .await
                })
                .await?;
        }
        if let Some(network) = &machine.network {
            let network = refer(Kind::Network, network)?;
            self.attach_machine(&id, &network, None).await?;
        }
        if machine.start {
            self.power_on(&id).await?;
        }
        Ok((server, adopted))
    }

    /// The id of the marketplace image `label` (`ubuntu_noble`) in the zone for a block-volume
    /// server of `machine_type`: the Instance API takes image UUIDs only, and PRO2/POP2 types
    /// are in the `instance_sbs` image's compatible list (cloud-apis.md §4).
    async fn image(&self, label: &str, machine_type: &str) -> Result<String, ScalewayError> {
        let query = [
            ("image_label", label.to_owned()),
            ("zone", self.zone.clone()),
            ("type", "instance_sbs".to_owned()),
        ];
        let images = self
            .list(
                "/marketplace/v2/local-images",
                "local_images",
                &query,
                Paging::Body,
            )
            .await?;
        images
            .iter()
            .find(|i| {
                i["compatible_commercial_types"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == machine_type))
            })
            .and_then(|i| i["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| ScalewayError::NoImage {
                label: label.to_owned(),
                machine_type: machine_type.to_owned(),
                zone: self.zone.clone(),
            })
    }

    /// The machine's flexible IP: the one tagged for it, or a new one.
    async fn flexible_ip(&self, owned: &[String]) -> Result<String, ScalewayError> {
        let lookup = Lookup::tagged(self.instance("ips"), "ips", Paging::Instance, owned, None);
        let body = json!({ "project": self.project, "tags": owned, "type": "routed_ipv4" });
        let (ip, _) = self
            .create_or_adopt(&self.instance("ips"), "ip", &body, &lookup)
            .await?;
        Ok(ip["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Tags the server's volumes as the machine's, so that one left behind is still found.
    async fn tag_volumes(&self, server: &Json, owned: &[String]) -> Result<(), ScalewayError> {
        for volume in server["volumes"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            let tagged = owned.iter().all(|t| {
                volume["tags"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|x| x == t))
            });
            if let (Some(id), false) = (volume["id"].as_str(), tagged) {
                let path = self.instance(&format!("volumes/{id}"));
                self.call(Method::PATCH, &path, Some(&json!({ "tags": owned })))
                    .await?;
            }
        }
        Ok(())
    }

    /// A server with no `cloud-init` user-data while still off: a create stopped half-way.
    pub(super) async fn incomplete(&self, server: &Json) -> Result<bool, ScalewayError> {
        if server["state"] != "stopped" {
            return Ok(false);
        }
        let id = server["id"].as_str().unwrap_or_default();
        let keys = self
            .call(
                Method::GET,
                &self.instance(&format!("servers/{id}/user_data")),
                None,
            )
            .await?;
        Ok(!keys["user_data"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cloud-init")))
    }

    /// Joins the private network, at `ip` (reserved in IPAM first) or any free address;
    /// done already when the server has a NIC there.
    pub(super) async fn attach_machine(
        &self,
        id: &str,
        network: &str,
        ip: Option<&str>,
    ) -> Result<(), ScalewayError> {
        let on = |server: &Json| {
            server["private_nics"]
                .as_array()
                .is_some_and(|n| n.iter().any(|n| n["private_network_id"] == network))
        };
        let path = self.instance(&format!("servers/{id}"));
        let server = self.call(Method::GET, &path, None).await?["server"].clone();
        if on(&server) {
            return Ok(());
        }
        let mut body = json!({ "private_network_id": network });
        if let Some(ip) = ip {
            let site = wire::labels(&server)
                .get(labels::SITE)
                .cloned()
                .unwrap_or_default();
            body["ipam_ip_ids"] = json!([self.reserve(network, ip, &site).await?]);
        }
        let nics = self.instance(&format!("servers/{id}/private_nics"));
        let mut lost = false;
        self.retry
            .run(async |attempt| {
                if attempt > 0 && lost {
                    let server = self.call(Method::GET, &path, None).await?["server"].clone();
                    if on(&server) {
                        return Ok(());
                    }
                }
                match self
                    .once(&Method::POST, &nics, &[], Some(Payload::Json(&body)))
                    .await
                {
                    Ok(_) => Ok(()),
                    // Already there (an earlier attempt's answer was lost): as wanted.
                    Err(e) if e.kind() == Some("conflict") => Ok(()),
                    Err(e) => {
                        lost = lost || e.may_have_committed();
                        Err(e)
                    }
                }
            })
            .await
    }

    /// The IPAM id of `address` in `network`, reserved for the site when not yet.
    async fn reserve(
        &self,
        network: &str,
        address: &str,
        site: &str,
    ) -> Result<String, ScalewayError> {
        let query = [("private_network_id", network.to_owned())];
        let found = self.list(&self.ipam(), "ips", &query, Paging::Body).await?;
        if let Some(ip) = found
            .iter()
            .find(|ip| wire::bare_address(ip).as_deref() == Some(address))
        {
            return Ok(ip["id"].as_str().unwrap_or_default().to_owned());
        }
        let tags = vec![site_selector(site)];
        let mut lookup = Lookup::tagged(self.ipam(), "ips", Paging::Body, &tags, None);
        lookup
            .query
            .push(("private_network_id", network.to_owned()));
        let body = json!({
            "project_id": self.project, "source": { "private_network_id": network },
            "address": address, "tags": tags,
        });
        let (ip, _) = self
            .create_or_adopt(&self.ipam(), "", &body, &lookup)
            .await?;
        Ok(ip["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Powers the server on unless it runs, then waits until it does.
    pub(super) async fn power_on(&self, id: &str) -> Result<(), ScalewayError> {
        self.power(id, "poweron", "stopped", "running").await
    }

    async fn power(
        &self,
        id: &str,
        action: &str,
        from: &str,
        to: &str,
    ) -> Result<(), ScalewayError> {
        let path = self.instance(&format!("servers/{id}"));
        let state = self.call(Method::GET, &path, None).await?["server"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state == from {
            let body = json!({ "action": action });
            let action_path = format!("{path}/action");
            let sent = self.call(Method::POST, &action_path, Some(&body)).await;
            // A lost answer may have started it: the server's state says, not a second POST.
            if let Err(e) = sent {
                if !e.may_have_committed() && e.kind() != Some("invalid_request_error") {
                    return Err(e);
                }
            }
        }
        self.wait_for(&path, "server", "state", to).await?;
        Ok(())
    }

    /// Deletes the server (off first), then its root volumes and flexible IPs, which Scaleway
    /// leaves behind, and any the site left behind earlier.
    pub(super) async fn delete_machine(&self, id: &str) -> Result<(), ScalewayError> {
        let path = self.instance(&format!("servers/{id}"));
        let Some(found) = self.find(&path).await? else {
            return self.sweep_leftovers(None).await;
        };
        let server = found["server"].clone();
        let site = wire::labels(&server).get(labels::SITE).cloned();
        if server["state"] != "stopped" {
            if matches!(server["state"].as_str(), Some("starting")) {
                self.wait_for(&path, "server", "state", "running").await?;
            }
            self.power(id, "poweroff", "running", "stopped").await?;
        }
        self.remove(&path).await?;
        for volume in server["volumes"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            if let Some(v) = volume["id"].as_str() {
                self.remove(&self.instance(&format!("volumes/{v}"))).await?;
            }
        }
        for ip in server["public_ips"].as_array().into_iter().flatten() {
            if let (Some(i), Some(false)) = (ip["id"].as_str(), ip["dynamic"].as_bool()) {
                self.remove(&self.instance(&format!("ips/{i}"))).await?;
            }
        }
        self.sweep_leftovers(site.as_deref()).await
    }

    /// Volumes and flexible IPs tagged with the site and attached to nothing: what an earlier
    /// deletion stopped half-way left behind.
    pub(super) async fn sweep_leftovers(&self, site: Option<&str>) -> Result<(), ScalewayError> {
        let Some(site) = site else {
            return Ok(());
        };
        let tag = vec![site_selector(site)];
        for (collection, root) in [("volumes", "volumes"), ("ips", "ips")] {
            let lookup = Lookup::tagged(
                self.instance(collection),
                root,
                Paging::Instance,
                &tag,
                None,
            );
            for item in self
                .list(&lookup.path, root, &lookup.query, Paging::Instance)
                .await?
            {
                let attached = !item["server"].is_null();
                let owned = wire::labels(&item).get(labels::SITE).map(String::as_str) == Some(site);
                if let (false, true, Some(id)) = (attached, owned, item["id"].as_str()) {
                    self.remove(&self.instance(&format!("{collection}/{id}")))
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The site's reserved addresses in a network, released before it is deleted.
    pub(super) async fn release_addresses(&self, network: &str) -> Result<(), ScalewayError> {
        let query = [("private_network_id", network.to_owned())];
        for ip in self.list(&self.ipam(), "ips", &query, Paging::Body).await? {
            let reserved =
                wire::labels(&ip).contains_key(labels::SITE) && ip["resource_id"].is_null();
            if let (true, Some(id)) = (reserved, ip["id"].as_str()) {
                self.remove(&format!("{}/{id}", self.ipam())).await?;
            }
        }
        Ok(())
    }
}
