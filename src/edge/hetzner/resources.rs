//! The neutral `Cloud` operations on Hetzner: bodies from `wire.rs`, ids as Hetzner's numbers,
//! every action waited for.

use super::{Hetzner, HetznerError, table, wire};
use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{Existing, FollowUp, Kind, Profile, ResourceId, Spec, Wanted};
use crate::core::labels::site_selector;
use crate::edge::cloud::{Cloud, CloudError, Created, Refs};

/// Hetzner's ids are numbers; anything else names nothing in this project.
fn number(id: &ResourceId) -> Result<u64, CloudError> {
    id.0.parse().map_err(|_| CloudError::Unresolved {
        kind: "resource",
        name: id.0.clone(),
    })
}

impl Cloud for Hetzner {
    fn profile(&self) -> &'static Profile {
        &table::PROFILE
    }

    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        let selector = site_selector(site);
        let lists = futures::future::join_all(Kind::ALL.map(|kind| {
            let selector = selector.clone();
            async move {
                let items = self.list(kind, &[("label_selector", &selector)]).await?;
                Ok::<_, HetznerError>(items.into_iter().map(move |raw| wire::existing(kind, &raw)))
            }
        }))
        .await;
        let mut all = Vec::new();
        for list in lists {
            all.extend(list?);
        }
        Ok(all)
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        let raw = Hetzner::get(self, kind, number(id)?).await?;
        Ok(wire::existing(kind, &raw))
    }

    async fn create(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> Result<Created, CloudError> {
        let body = wire::create_body(wanted, refs, user_data)?;
        let kind = wanted.kind();
        let created = Hetzner::create(self, kind, site, &body).await?;
        let raw = match self.wait(&created.actions).await {
            Ok(()) => created.raw,
            // The machine exists but its start after create ended in `error`: it is off, read
            // back as such, and the power-on bootstrap adds for a machine found off finishes it.
            Err(HetznerError::Action { command, .. })
                if kind == Kind::Machine && command == wire::START_COMMAND =>
            {
                let id = created.raw["id"].as_u64().unwrap_or_default();
                self.wait_for_resource(kind, id).await?;
                Hetzner::get(self, kind, id).await?
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Created {
            resource: wire::existing(kind, &raw),
            adopted: created.adopted,
        })
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        if let Some((verb, body)) = wire::converge(spec) {
            // Setting the same rules twice is harmless: no read-back needed.
            let actions = self
                .action(kind, number(id)?, verb, &body, &|_| false)
                .await?;
            self.wait(&actions).await?;
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
        let (verb, body) = wire::follow_up(step, refs)?;
        let done = |raw: &serde_json::Value| step.done(&wire::existing(kind, raw).facts);
        // Held until the attach's action has ended: the network is locked until then.
        let _turn = match body["network"].as_u64() {
            Some(network) => Some(self.network_turn(network).await),
            None => None,
        };
        let actions = self.action(kind, number(id)?, verb, &body, &done).await?;
        self.wait(&actions).await?;
        Ok(())
    }

    async fn offers(&self) -> Result<Vec<Offer>, CloudError> {
        let types = self.list_all("server_types", &[]).await?;
        Ok(types.iter().flat_map(wire::offers).collect())
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        let id = number(id)?;
        if kind == Kind::Firewall {
            // Released from what it applies to first, so its deletion need not wait for the
            // label selector to forget servers deleted a moment ago.
            let raw = match Hetzner::get(self, kind, id).await {
                Ok(raw) => raw,
                Err(e) if e.code() == Some("not_found") => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            if let Some(body) = wire::release(&raw) {
                let released = |raw: &serde_json::Value| wire::release(raw).is_none();
                let actions = self
                    .action(kind, id, "remove_from_resources", &body, &released)
                    .await?;
                self.wait(&actions).await?;
            }
        }
        let actions = Hetzner::delete(self, kind, id).await?;
        self.wait(&actions).await?;
        Ok(())
    }
}
