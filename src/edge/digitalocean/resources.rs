//! The neutral `Cloud` operations on DigitalOcean: bodies from `wire.rs`, droplets and load
//! balancers waited for until they are up, follow-ups done at the create.

use reqwest::Method;
use serde_json::Value as Json;

use super::{DigitalOcean, DigitalOceanError, table, wire};
use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{
    Existing, FollowUp, HeldKey, Kind, Profile, ResourceId, Spec, Wanted,
};
use crate::edge::cloud::{Cloud, CloudError, Created, Refs};

/// The site a droplet's or a load balancer's tags name (`railyard-site:NAME`,
/// `railyard-role:NAME:ROLE`), for answers read without the site at hand.
fn site_of(raw: &Json) -> String {
    let tags = raw["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&raw["tag"]))
        .filter_map(Json::as_str);
    for tag in tags {
        if let Some(site) = tag.strip_prefix("railyard-site:") {
            return site.to_owned();
        }
        if let Some((site, _)) = tag
            .strip_prefix("railyard-role:")
            .and_then(|rest| rest.split_once(':'))
        {
            return site.to_owned();
        }
    }
    String::new()
}

/// A resource's neutral form, its labels from its tags or its site-derived name.
fn neutral(kind: Kind, site: &str, raw: &Json) -> Existing {
    let labels = match kind {
        Kind::Machine => wire::droplet_labels(site, raw),
        _ => table::owned(kind, site, raw["name"].as_str().unwrap_or_default()).unwrap_or_default(),
    };
    wire::existing(kind, site, raw, labels)
}

fn path_of(kind: Kind, id: &ResourceId) -> Result<String, CloudError> {
    let (path, _) = table::path(kind).ok_or(CloudError::Unresolved {
        kind: kind.noun(),
        name: id.0.clone(),
    })?;
    Ok(format!("{path}/{}", id.0))
}

impl DigitalOcean {
    async fn read(&self, kind: Kind, id: &ResourceId) -> Result<Json, CloudError> {
        let answer = self.call(Method::GET, &path_of(kind, id)?, None).await?;
        Ok(answer[table::singular(kind)].clone())
    }

    /// Waits until a droplet is `active` with its addresses, or a load balancer `active` with
    /// its IP; other kinds are ready when created.
    async fn ready(&self, kind: Kind, raw: Json) -> Result<Json, DigitalOceanError> {
        let id = match &raw["id"] {
            Json::Number(n) => n.to_string(),
            other => other.as_str().unwrap_or_default().to_owned(),
        };
        let (path, _) = table::path(kind).expect("a kind DigitalOcean has");
        let root = table::singular(kind);
        match kind {
            Kind::Machine => {
                self.wait_until(&format!("{path}/{id}"), root, |d| {
                    d["status"] == "active"
                        && d["networks"]["v4"]
                            .as_array()
                            .is_some_and(|v| !v.is_empty())
                })
                .await
            }
            Kind::LoadBalancer => {
                self.wait_until(&format!("{path}/{id}"), root, |lb| {
                    lb["status"] == "active" && lb["ip"].as_str().is_some_and(|ip| !ip.is_empty())
                })
                .await
            }
            _ => Ok(raw),
        }
    }
}

impl Cloud for DigitalOcean {
    fn profile(&self) -> &'static Profile {
        &table::PROFILE
    }

    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        let kinds = Kind::ALL.into_iter().filter(|k| table::path(*k).is_some());
        let lists = futures::future::join_all(kinds.map(|kind| async move {
            let items = self.list_kind(kind, site).await?;
            Ok::<_, DigitalOceanError>(
                items
                    .iter()
                    .map(|raw| neutral(kind, site, raw))
                    .filter(|e| e.labels.contains_key(crate::core::labels::SITE))
                    .collect::<Vec<_>>(),
            )
        }))
        .await;
        let mut all = Vec::new();
        for list in lists {
            all.extend(list?);
        }
        Ok(all)
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        let raw = self.read(kind, id).await?;
        Ok(neutral(kind, &site_of(&raw), &raw))
    }

    async fn create(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> Result<Created, CloudError> {
        let kind = wanted.kind();
        let body = wire::create_body(site, wanted, refs, user_data)?;
        let created = DigitalOcean::create(self, kind, site, &body).await?;
        if let Some(action) = created.action {
            self.wait_action(action).await?;
        }
        let raw = self.ready(kind, created.raw).await?;
        let mut resource = neutral(kind, site, &raw);
        // A key used under another name stands for the wanted one in this run's references.
        resource.name.clone_from(&wanted.name);
        Ok(Created {
            resource,
            adopted: created.adopted,
        })
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        if let Spec::Firewall { rules, applies_to } = spec {
            let raw = self.read(kind, id).await?;
            let name = raw["name"].as_str().unwrap_or_default();
            let body = wire::firewall_body(name, rules, applies_to);
            // A full replacement: sending it twice is harmless.
            self.call(Method::PUT, &path_of(kind, id)?, Some(&body))
                .await?;
        }
        Ok(())
    }

    /// A droplet joins its VPC and starts at the create, and a load balancer takes its VPC and
    /// target tag there too; what is left is a power-on for a droplet found off.
    async fn follow_up(
        &self,
        kind: Kind,
        id: &ResourceId,
        step: &FollowUp,
        _refs: &Refs,
    ) -> Result<(), CloudError> {
        let raw = self.read(kind, id).await?;
        let existing = neutral(kind, &site_of(&raw), &raw);
        if step.done(&existing.facts) {
            return Ok(());
        }
        match (kind, step) {
            (Kind::Machine, FollowUp::PowerOn) => {
                let body = serde_json::json!({ "type": "power_on" });
                let answer = self
                    .call(
                        Method::POST,
                        &format!("{}/actions", path_of(kind, id)?),
                        Some(&body),
                    )
                    .await?;
                if let Some(action) = answer["action"]["id"].as_u64() {
                    self.wait_action(action).await?;
                }
                Ok(())
            }
            _ => Err(CloudError::Unresolved {
                kind: kind.noun(),
                name: format!("{} ({})", existing.name, step.describe()),
            }),
        }
    }

    async fn offers(&self) -> Result<Vec<Offer>, CloudError> {
        let sizes = self.list("/sizes", "sizes").await?;
        Ok(sizes
            .iter()
            .flat_map(|size| {
                let available = size["available"] != false;
                let slug = size["slug"].as_str().unwrap_or_default().to_owned();
                size["regions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                    .map(move |region| Offer {
                        machine_type: slug.clone(),
                        location: region.to_owned(),
                        available,
                    })
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    /// DigitalOcean refuses a public key the account holds under any name (422 "SSH Key is
    /// already in use on your account").
    async fn held_keys(&self) -> Result<Vec<HeldKey>, CloudError> {
        let (path, root) = table::path(Kind::SshKey).expect("DigitalOcean has SSH keys");
        let keys = self.list(path, root).await?;
        Ok(keys.iter().map(wire::held_key).collect())
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        let path = path_of(kind, id)?;
        let started = self.retry.now();
        loop {
            match self.call(Method::DELETE, &path, None).await {
                Ok(_) => return Ok(()),
                Err(e) if e.status() == Some(404) => return Ok(()),
                // A VPC refuses deletion while droplets deleted a moment ago still leave it.
                Err(e)
                    if kind == Kind::Network
                        && e.status() == Some(409)
                        && self.retry.now().saturating_sub(started)
                            < std::time::Duration::from_secs(300) =>
                {
                    self.retry.sleep(self.poll).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
