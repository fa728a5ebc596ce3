//! The neutral `Cloud` operations on Scaleway: the site's inventory by tag (SSH keys, which
//! IAM cannot tag, by the site's key names), reads, creates, the security group's rules,
//! follow-ups and deletes.

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::create::Lookup;
use super::{Paging, Scaleway, ScalewayError, table, wire};
use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{
    Existing, Facts, FollowUp, HeldKey, Kind, Profile, ResourceId, Spec, Wanted,
};
use crate::core::labels::{self, site_selector};
use crate::core::layout;
use crate::edge::cloud::{Cloud, CloudError, Created, Refs};

impl Scaleway {
    /// Where a kind lives: its collection path, list key and paging.
    fn place(&self, kind: Kind) -> (String, &'static str, Paging) {
        match kind {
            Kind::SshKey => (
                "/iam/v1alpha1/ssh-keys".to_owned(),
                "ssh_keys",
                Paging::Body,
            ),
            Kind::Network => (
                self.vpc("private-networks"),
                "private_networks",
                Paging::Body,
            ),
            Kind::Firewall => (
                self.instance("security_groups"),
                "security_groups",
                Paging::Instance,
            ),
            Kind::PlacementGroup => (
                self.instance("placement_groups"),
                "placement_groups",
                Paging::Instance,
            ),
            Kind::LoadBalancer => (self.lb("lbs"), "lbs", Paging::Body),
            Kind::Machine => (self.instance("servers"), "servers", Paging::Instance),
        }
    }

    /// The key a single resource's answer nests it under (`""`: not nested).
    fn singular(kind: Kind) -> &'static str {
        match kind {
            Kind::Firewall => "security_group",
            Kind::PlacementGroup => "placement_group",
            Kind::Machine => "server",
            Kind::SshKey | Kind::Network | Kind::LoadBalancer => "",
        }
    }

    /// The project filter's name on each API.
    fn project_filter(paging: Paging) -> &'static str {
        match paging {
            Paging::Instance => "project",
            Paging::Body => "project_id",
        }
    }

    async fn read(&self, kind: Kind, id: &str) -> Result<Option<Json>, ScalewayError> {
        let (path, _, _) = self.place(kind);
        let found = self.find(&format!("{path}/{id}")).await?;
        let root = Scaleway::singular(kind);
        Ok(found.map(|v| if root.is_empty() { v } else { v[root].clone() }))
    }

    /// What bootstrap compares or uses about a resource, read beside its JSON.
    async fn facts(&self, kind: Kind, value: &Json) -> Result<Facts, ScalewayError> {
        let id = value["id"].as_str().unwrap_or_default();
        match kind {
            Kind::Machine => Ok(wire::server_facts(value)),
            Kind::Firewall => {
                let path = self.instance(&format!("security_groups/{id}/rules"));
                let rules = self.list(&path, "rules", &[], Paging::Instance).await?;
                Ok(Facts {
                    firewall_rules: wire::neutral_rules(&rules),
                    ..Facts::default()
                })
            }
            Kind::LoadBalancer => self.balancer_facts(value).await,
            // VPC v2 answers each subnet as an object holding its `subnet`.
            Kind::Network => Ok(Facts {
                ranges: value["subnets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["subnet"].as_str().or_else(|| s.as_str()))
                    .map(str::to_owned)
                    .collect(),
                ..Facts::default()
            }),
            Kind::SshKey | Kind::PlacementGroup => Ok(Facts::default()),
        }
    }

    async fn existing(&self, kind: Kind, value: &Json) -> Result<Existing, ScalewayError> {
        let facts = self.facts(kind, value).await?;
        Ok(wire::existing(kind, value, facts))
    }

    /// The site's SSH keys: IAM keys are project-wide and take no tags, so the site owns the
    /// keys named as its keys are (`<site>-key-<n>`).
    async fn site_keys(&self, site: &str) -> Result<Vec<Existing>, ScalewayError> {
        let (path, root, paging) = self.place(Kind::SshKey);
        let prefix = layout::cloud::ssh_key(site, 0);
        let prefix = prefix.trim_end_matches('0');
        let keys = self
            .list(&path, root, &[("project_id", self.project.clone())], paging)
            .await?;
        Ok(keys
            .iter()
            .filter(|k| {
                k["name"]
                    .as_str()
                    .and_then(|n| n.strip_prefix(prefix))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|k| {
                let mut e = wire::existing(Kind::SshKey, k, Facts::default());
                e.labels = labels::resource(site, "admin");
                e
            })
            .collect())
    }

    async fn create_kind(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> Result<(Json, bool), ScalewayError> {
        let (path, root, paging) = self.place(wanted.kind());
        let tags = wire::tags(&wanted.labels);
        let name = wanted.name.as_str();
        let lookup = match wanted.kind() {
            Kind::SshKey => Lookup {
                path: path.clone(),
                root,
                query: vec![
                    ("project_id", self.project.clone()),
                    ("name", name.to_owned()),
                ],
                paging,
                name: Some(name),
            },
            _ => Lookup::tagged(
                path.clone(),
                root,
                paging,
                &[site_selector(site)],
                Some(name),
            ),
        };
        let body = match &wanted.spec {
            Spec::SshKey { public_key } => {
                json!({ "name": name, "public_key": public_key, "project_id": self.project })
            }
            Spec::Network { subnet, .. } => json!({
                "name": name, "project_id": self.project, "tags": tags, "subnets": [subnet],
            }),
            Spec::Firewall { .. } => json!({
                "name": name, "project": self.project, "tags": tags, "stateful": true,
                "inbound_default_policy": "drop", "outbound_default_policy": "accept",
                "enable_default_security": true,
            }),
            Spec::PlacementGroup => json!({
                "name": name, "project": self.project, "tags": tags,
                "policy_type": "max_availability", "policy_mode": "optional",
            }),
            Spec::LoadBalancer(lb) => {
                let (lb, adopted) = self.create_balancer(name, &tags, lb, &lookup).await?;
                return Ok((lb, adopted));
            }
            Spec::Machine(machine) => {
                return self
                    .create_machine(site, wanted, machine, refs, user_data, &lookup)
                    .await;
            }
        };
        let created = self
            .create_or_adopt(&path, Scaleway::singular(wanted.kind()), &body, &lookup)
            .await;
        let (value, adopted) = match (created, &wanted.spec) {
            // IAM may refuse a public key the project already holds under another name (a
            // 409 `conflict`): the user's own key then serves, as it is, and never carries
            // the site (`destroy` leaves it).
            (Err(e), Spec::SshKey { public_key }) if e.kind() == Some("conflict") => {
                (self.same_key(public_key).await?.ok_or(e)?, true)
            }
            (created, _) => created?,
        };
        if let Spec::Firewall { rules, .. } = &wanted.spec {
            self.set_rules(value["id"].as_str().unwrap_or_default(), rules)
                .await?;
        }
        Ok((value, adopted))
    }

    /// The site's resources of `kind`, by tag.
    async fn tagged_of(&self, site: &str, kind: Kind) -> Result<Vec<Existing>, ScalewayError> {
        let (path, root, paging) = self.place(kind);
        let tag = [site_selector(site)];
        let lookup = Lookup::tagged(path, root, paging, &tag, None);
        let mut query = lookup.query.clone();
        query.push((Scaleway::project_filter(paging), self.project.clone()));
        let mut found = Vec::new();
        for value in self.list(&lookup.path, root, &query, paging).await? {
            let mut existing = self.existing(kind, &value).await?;
            if kind == Kind::Machine && self.incomplete(&value).await? {
                // Created by a run stopped before its user-data was set: not the wanted
                // machine yet (the next create adopts it and sets it), but the site's.
                existing.name = format!("{} (no user-data yet)", existing.name);
            }
            found.push(existing);
        }
        Ok(found)
    }

    /// The project's key with this public key (type and key, whatever its comment).
    async fn same_key(&self, public_key: &str) -> Result<Option<Json>, ScalewayError> {
        let core = |k: &str| k.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        Ok(self
            .project_keys()
            .await?
            .into_iter()
            .find(|k| k["public_key"].as_str().map(core) == Some(core(public_key))))
    }

    /// Every IAM SSH key of the project, whoever's it is.
    async fn project_keys(&self) -> Result<Vec<Json>, ScalewayError> {
        let (path, root, paging) = self.place(Kind::SshKey);
        self.list(&path, root, &[("project_id", self.project.clone())], paging)
            .await
    }

    /// `PUT .../rules`: the group's editable rules become exactly these.
    async fn set_rules(
        &self,
        id: &str,
        rules: &[crate::bootstrap::model::FirewallRule],
    ) -> Result<(), ScalewayError> {
        let body = json!({ "rules": wire::security_rules(rules) });
        let path = self.instance(&format!("security_groups/{id}/rules"));
        self.call(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }
}

/// The id a reference names, or that it does not exist yet.
pub(super) fn reference(refs: &Refs, kind: Kind, name: &str) -> Result<String, CloudError> {
    refs.get(&(kind, name.to_owned()))
        .map(|id| id.0.clone())
        .ok_or_else(|| CloudError::Unresolved {
            kind: kind.noun(),
            name: name.to_owned(),
        })
}

impl Cloud for Scaleway {
    fn profile(&self) -> &'static Profile {
        &table::PROFILE
    }

    /// Every kind listed at the same time (each list pages on its own).
    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        let kinds = [
            Kind::Network,
            Kind::Firewall,
            Kind::PlacementGroup,
            Kind::LoadBalancer,
            Kind::Machine,
        ];
        let (keys, tagged) = futures::future::join(
            self.site_keys(site),
            futures::future::try_join_all(kinds.map(|kind| self.tagged_of(site, kind))),
        )
        .await;
        let mut all = keys?;
        all.extend(tagged?.into_iter().flatten());
        Ok(all)
    }

    /// IAM refuses a public key the project holds under another name (a 409 `conflict`).
    async fn held_keys(&self) -> Result<Vec<HeldKey>, CloudError> {
        let text = |v: &Json| v.as_str().unwrap_or_default().to_owned();
        Ok(self
            .project_keys()
            .await?
            .iter()
            .map(|k| HeldKey {
                id: ResourceId(text(&k["id"])),
                name: text(&k["name"]),
                public_key: text(&k["public_key"]),
            })
            .collect())
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        let value = self
            .read(kind, &id.0)
            .await?
            .ok_or_else(|| ScalewayError::Missing {
                what: kind.noun(),
                name: id.0.clone(),
            })?;
        Ok(self.existing(kind, &value).await?)
    }

    async fn create(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> Result<Created, CloudError> {
        let (value, adopted) = self.create_kind(site, wanted, refs, user_data).await?;
        let kind = wanted.kind();
        let value = match self
            .read(kind, value["id"].as_str().unwrap_or_default())
            .await?
        {
            Some(fresh) => fresh,
            None => value,
        };
        let mut resource = self.existing(kind, &value).await?;
        if kind == Kind::SshKey && resource.name == wanted.name {
            resource.labels = wanted.labels.clone();
        }
        Ok(Created { resource, adopted })
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        if let (Kind::Firewall, Spec::Firewall { rules, .. }) = (kind, spec) {
            self.set_rules(&id.0, rules).await?;
        }
        Ok(())
    }

    async fn follow_up(
        &self,
        kind: Kind,
        id: &ResourceId,
        step: &FollowUp,
        refs: &Refs,
    ) -> Result<(), CloudError> {
        match (kind, step) {
            (Kind::Machine, FollowUp::AttachToNetwork { network, ip }) => {
                let network = reference(refs, Kind::Network, network)?;
                self.attach_machine(&id.0, &network, ip.as_deref()).await?;
            }
            (Kind::Machine, FollowUp::PowerOn) => self.power_on(&id.0).await?,
            (Kind::LoadBalancer, FollowUp::AttachToNetwork { network, ip }) => {
                let network = reference(refs, Kind::Network, network)?;
                self.attach_balancer(&id.0, &network, ip.as_deref()).await?;
            }
            (Kind::LoadBalancer, FollowUp::AddTarget { selector }) => {
                self.add_target(&id.0, selector).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `GET /products/servers/availability`: a type in `shortage` cannot be ordered now
    /// (`scarce` still sells).
    async fn offers(&self) -> Result<Vec<Offer>, CloudError> {
        let path = self.instance("products/servers/availability");
        let mut offers: Vec<Offer> = Vec::new();
        for page in 1u64.. {
            let query = [
                ("per_page".to_owned(), "100".to_owned()),
                ("page".to_owned(), page.to_string()),
            ];
            let (answer, total) = self
                .retry
                .run(async |_| self.once(&Method::GET, &path, &query, None).await)
                .await?;
            let servers = answer["servers"].as_object().cloned().unwrap_or_default();
            let before = offers.len();
            offers.extend(servers.iter().map(|(machine_type, a)| Offer {
                machine_type: machine_type.clone(),
                location: self.zone.clone(),
                available: a["availability"] != "shortage",
            }));
            let done = total.is_none_or(|t| offers.len() as u64 >= t);
            if done || offers.len() == before {
                break;
            }
        }
        Ok(offers)
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        let (path, _, _) = self.place(kind);
        match kind {
            Kind::Machine => self.delete_machine(&id.0).await?,
            Kind::LoadBalancer => {
                self.remove(&format!("{path}/{}?release_ip=true", id.0))
                    .await?;
            }
            Kind::Network | Kind::Firewall => {
                // Deleted after every machine: what a machine deletion stopped half-way left
                // (a root volume, a flexible IP) is the site's to remove, found by its tag.
                if let Some(found) = self.read(kind, &id.0).await? {
                    let site = wire::labels(&found).get(labels::SITE).cloned();
                    self.sweep_leftovers(site.as_deref()).await?;
                }
                if kind == Kind::Network {
                    self.release_addresses(&id.0).await?;
                }
                self.remove(&format!("{path}/{}", id.0)).await?;
            }
            _ => self.remove(&format!("{path}/{}", id.0)).await?,
        }
        Ok(())
    }
}
