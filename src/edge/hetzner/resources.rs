//! The neutral `Cloud` operations on Hetzner: bodies from `wire.rs`, ids as Hetzner's numbers,
//! every action waited for.

use super::{Hetzner, HetznerError, table, wire};
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
        self.wait(&created.actions).await?;
        Ok(Created {
            resource: wire::existing(kind, &created.raw),
            adopted: created.adopted,
        })
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        if let Some((verb, body)) = wire::converge(spec) {
            let actions = self.action(kind, number(id)?, verb, &body).await?;
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
        let actions = self.action(kind, number(id)?, verb, &body).await?;
        self.wait(&actions).await?;
        Ok(())
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        let actions = Hetzner::delete(self, kind, number(id)?).await?;
        self.wait(&actions).await?;
        Ok(())
    }
}
