//! Creating a resource at most once. Scaleway has no uniqueness check to lean on (names
//! repeat), so a create whose answer was lost (no answer, or a 5xx that may follow a commit)
//! is looked up by its tags and exact name before it is sent again, and adopted when found.

use reqwest::Method;
use serde_json::Value as Json;

use super::{Paging, Payload, Scaleway, ScalewayError};
use crate::edge::retry::Transient as _;

/// How to find what a create may already have made.
pub(super) struct Lookup<'a> {
    pub(super) path: String,
    pub(super) root: &'a str,
    pub(super) query: Vec<(&'a str, String)>,
    pub(super) paging: Paging,
    /// The exact name to match (list filters match substrings); `None` for resources without
    /// names (flexible IPs, addresses), found by their tags alone.
    pub(super) name: Option<&'a str>,
}

impl Lookup<'_> {
    /// Tags as the API's list filter takes them: one comma-joined value on the Instance API,
    /// one value each on the newer APIs.
    pub(super) fn tagged<'a>(
        path: String,
        root: &'a str,
        paging: Paging,
        tags: &[String],
        name: Option<&'a str>,
    ) -> Lookup<'a> {
        let query = match paging {
            Paging::Instance => vec![("tags", tags.join(","))],
            Paging::Body => tags.iter().map(|t| ("tags", t.clone())).collect(),
        };
        Lookup {
            path,
            root,
            query,
            paging,
            name,
        }
    }
}

impl Scaleway {
    /// The resource `lookup` finds, if any.
    pub(super) async fn look_up(&self, lookup: &Lookup<'_>) -> Result<Option<Json>, ScalewayError> {
        let found = self
            .list(&lookup.path, lookup.root, &lookup.query, lookup.paging)
            .await?;
        Ok(found
            .into_iter()
            .find(|item| lookup.name.is_none_or(|name| item["name"] == name)))
    }

    /// POSTs `body` to `path` and returns the answer's `root` object, or adopts the resource
    /// `lookup` finds, first and after a lost answer; `true` when adopted.
    pub(super) async fn create_or_adopt(
        &self,
        path: &str,
        root: &str,
        body: &Json,
        lookup: &Lookup<'_>,
    ) -> Result<(Json, bool), ScalewayError> {
        if let Some(found) = self.look_up(lookup).await? {
            return Ok((found, true));
        }
        let mut lost = false;
        self.retry
            .run(async |attempt| {
                if attempt > 0 && lost {
                    if let Some(found) = self.look_up(lookup).await? {
                        return Ok((found, true));
                    }
                }
                match self
                    .once(&Method::POST, path, &[], Some(Payload::Json(body)))
                    .await
                {
                    Ok((answer, _)) => {
                        let created = if root.is_empty() {
                            answer
                        } else {
                            answer[root].clone()
                        };
                        Ok((created, false))
                    }
                    Err(e) => {
                        lost = lost || e.may_have_committed();
                        if !e.is_transient() {
                            return Err(e);
                        }
                        Err(e)
                    }
                }
            })
            .await
    }
}
