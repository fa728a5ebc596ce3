//! Creating a resource at most once. DigitalOcean checks no name for droplets, firewalls or
//! load balancers, so when an attempt may have been carried out without saying so (a 5xx, a
//! lost connection), the site's resource of that name is looked up (droplets by the site's
//! tag, then the exact name) before the create is sent again. A VPC's name is unique and an
//! SSH key's material is: their refusals are answered by the same look-up.

use reqwest::Method;
use serde_json::Value as Json;

use super::{DigitalOcean, DigitalOceanError, table};
use crate::bootstrap::model::Kind;
use crate::core::labels;

/// A resource as created or adopted.
pub(super) struct Created {
    pub(super) raw: Json,
    /// The create action to wait for (droplets).
    pub(super) action: Option<u64>,
    pub(super) adopted: bool,
}

impl DigitalOcean {
    /// Creates a resource, or adopts it when an earlier attempt (this run's or a killed one's)
    /// already did.
    pub(super) async fn create(
        &self,
        kind: Kind,
        site: &str,
        body: &Json,
    ) -> Result<Created, DigitalOceanError> {
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let (path, _) = table::path(kind).expect("a kind DigitalOcean has");
        if kind == Kind::Firewall {
            self.ensure_tags(body["tags"].as_array().into_iter().flatten())
                .await?;
        }
        if kind == Kind::LoadBalancer {
            self.ensure_tags(body.get("tag").into_iter()).await?;
        }
        // Whether the last attempt may have created the resource without saying so.
        let mut lost = false;
        self.retry
            .run(async |attempt| {
                if attempt > 0 && lost {
                    if let Some(raw) = self.find(kind, site, &name).await? {
                        return Ok(Created {
                            raw,
                            action: None,
                            adopted: true,
                        });
                    }
                }
                match self.once(&Method::POST, path, Some(body)).await {
                    Ok(answer) => Ok(Created {
                        raw: answer[table::singular(kind)].clone(),
                        action: answer["links"]["actions"][0]["id"].as_u64(),
                        adopted: false,
                    }),
                    // A VPC of that name, or the SSH key's material, is already there.
                    Err(e)
                        if e.status() == Some(422)
                            && matches!(kind, Kind::Network | Kind::SshKey) =>
                    {
                        match self.find_refused(kind, site, &name, body).await? {
                            Some(raw) => Ok(Created {
                                raw,
                                action: None,
                                adopted: true,
                            }),
                            None => Err(e),
                        }
                    }
                    Err(e) => {
                        lost = e.may_have_committed();
                        Err(e)
                    }
                }
            })
            .await
    }

    /// The site's resource of `kind` named `name`: droplets among those tagged with the site
    /// (the oldest, when a race made two), other kinds by their site-derived name.
    pub(super) async fn find(
        &self,
        kind: Kind,
        site: &str,
        name: &str,
    ) -> Result<Option<Json>, DigitalOceanError> {
        let mut found: Vec<Json> = self
            .list_kind(kind, site)
            .await?
            .into_iter()
            .filter(|raw| raw["name"] == name)
            .collect();
        found.sort_by_key(|raw| raw["created_at"].as_str().unwrap_or_default().to_owned());
        Ok(found.into_iter().next())
    }

    /// After a refusal for a name or key already there: the resource, when it is the site's.
    async fn find_refused(
        &self,
        kind: Kind,
        site: &str,
        name: &str,
        body: &Json,
    ) -> Result<Option<Json>, DigitalOceanError> {
        let all = self.list_kind(kind, site).await?;
        Ok(match kind {
            // The same key material, under the site's name or another (the user's own key, or
            // another site's): used as it is; under another name it is not the site's, so
            // `destroy` never deletes it.
            Kind::SshKey => all
                .into_iter()
                .find(|raw| same_key(&raw["public_key"], &body["public_key"])),
            _ => all.into_iter().find(|raw| raw["name"] == name),
        })
    }

    /// Every resource of `kind` in the account that may be the site's: droplets tagged with
    /// it, any other kind's whole list.
    pub(super) async fn list_kind(
        &self,
        kind: Kind,
        site: &str,
    ) -> Result<Vec<Json>, DigitalOceanError> {
        let Some((path, root)) = table::path(kind) else {
            return Ok(Vec::new());
        };
        if kind == Kind::Machine {
            let tagged = format!("{path}?tag_name={}", labels::site_tag(site));
            return self.list(&tagged, root).await;
        }
        self.list(path, root).await
    }

    /// Tags a firewall or a load balancer names must exist before it does.
    async fn ensure_tags(
        &self,
        tags: impl Iterator<Item = &Json>,
    ) -> Result<(), DigitalOceanError> {
        for tag in tags.filter_map(Json::as_str) {
            self.call(
                Method::POST,
                "/tags",
                Some(&serde_json::json!({ "name": tag })),
            )
            .await?;
        }
        Ok(())
    }
}

/// Two OpenSSH public keys with the same type and material (comments aside).
fn same_key(a: &Json, b: &Json) -> bool {
    let words = |v: &Json| {
        v.as_str()
            .unwrap_or_default()
            .split_whitespace()
            .take(2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}
