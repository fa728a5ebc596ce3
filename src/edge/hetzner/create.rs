//! Creating a resource at most once: a create whose answer was lost is looked up by name before
//! it is sent again, and a `uniqueness_error` is answered by adopting the existing resource,
//! only when it carries the site's label (the user's own SSH key, matched by its public key,
//! is the one exception, and is never deleted since it carries no label).

use reqwest::Method;
use serde_json::Value as Json;

use super::{Hetzner, HetznerError, action_ids, table};
use crate::bootstrap::model::Kind;
use crate::core::labels::{self, site_selector};
use crate::edge::retry::Transient as _;

/// A resource as created or adopted, with the actions to wait for.
pub(super) struct Created {
    pub(super) raw: Json,
    pub(super) actions: Vec<u64>,
    pub(super) adopted: bool,
}

impl Hetzner {
    /// Creates a resource, or adopts it when an earlier attempt (this run's or a killed one's)
    /// already did.
    pub(super) async fn create(
        &self,
        kind: Kind,
        site: &str,
        body: &Json,
    ) -> Result<Created, HetznerError> {
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let path = format!("/{}", table::path(kind));
        // Whether the last attempt may have created the resource without saying so.
        let mut lost = false;
        self.retry
            .run(async |attempt| {
                if attempt > 0 && lost {
                    if let Some(existing) = self.find(kind, &name).await? {
                        return self.adopted(kind, site, &name, existing);
                    }
                }
                match self.once(&Method::POST, &path, &[], Some(body)).await {
                    Ok(answer) => {
                        let raw = answer[table::singular(kind)].clone();
                        Ok(Created {
                            actions: action_ids(&answer),
                            raw,
                            adopted: false,
                        })
                    }
                    Err(e) if e.code() == Some("uniqueness_error") => {
                        self.adopt(kind, site, &name, body).await
                    }
                    Err(e) => {
                        lost = e.may_have_committed();
                        if e.is_transient() && e.code() == Some("locked") {
                            self.wait_for_referenced(body).await?;
                        }
                        Err(e)
                    }
                }
            })
            .await
    }

    async fn find(&self, kind: Kind, name: &str) -> Result<Option<Json>, HetznerError> {
        Ok(self.list(kind, &[("name", name)]).await?.into_iter().next())
    }

    async fn adopt(
        &self,
        kind: Kind,
        site: &str,
        name: &str,
        body: &Json,
    ) -> Result<Created, HetznerError> {
        if let Some(existing) = self.find(kind, name).await? {
            return self.adopted(kind, site, name, existing);
        }
        // An SSH key is also unique by its public key: the user's own key, under another name,
        // is used as it is (and, not carrying the label, never deleted by `destroy`).
        if kind == Kind::SshKey {
            let key = body["public_key"].as_str().unwrap_or_default();
            let same = self
                .list(kind, &[])
                .await?
                .into_iter()
                .find(|k| same_key(k["public_key"].as_str().unwrap_or_default(), key));
            if let Some(existing) = same {
                return Ok(Created {
                    raw: existing,
                    actions: Vec::new(),
                    adopted: true,
                });
            }
        }
        Err(HetznerError::Api {
            method: "POST".to_owned(),
            path: format!("/{}", table::path(kind)),
            status: 409,
            code: "uniqueness_error".to_owned(),
            message: format!(
                "{} `{name}` is said to exist but cannot be found",
                kind.noun()
            ),
            reset: None,
        })
    }

    fn adopted(
        &self,
        kind: Kind,
        site: &str,
        name: &str,
        existing: Json,
    ) -> Result<Created, HetznerError> {
        if existing["labels"][labels::SITE].as_str() != Some(site) {
            return Err(HetznerError::NotOurs {
                kind: kind.noun(),
                name: name.to_owned(),
                label: site_selector(site),
            });
        }
        Ok(Created {
            raw: existing,
            actions: Vec::new(),
            adopted: true,
        })
    }
}

/// Two OpenSSH public keys are the same key when type and key data match (comments differ).
fn same_key(a: &str, b: &str) -> bool {
    a.split_whitespace()
        .take(2)
        .eq(b.split_whitespace().take(2))
}
