//! Taking a site down on Azure beyond each kind's own deletion: what a stopped create or
//! destroy left with the site's tag, cleared before what it would still hold, and the SSH key
//! last of all, with the resource group railyard made when nothing else is left in it.

use serde_json::Value as Json;

use super::table::{self, Type};
use super::wire;
use super::{AzureClient, AzureError};
use crate::core::labels;

impl AzureClient {
    /// Whether a listed resource carries the site's tag.
    pub(super) fn ours(&self, item: &Json) -> bool {
        labels::azure_labels(&wire::tags(item))
            .get(labels::SITE)
            .map(String::as_str)
            == Some(self.site())
    }

    /// Deletes what carries the site's tag among `kinds`, in that order: before a load
    /// balancer or the network goes, the NICs (and VMs, disks) a stopped destroy left would
    /// still hold them.
    pub(super) async fn clear(&self, kinds: &[Type]) -> Result<(), AzureError> {
        let everything = format!("{}/resources", self.group_path());
        let left = self.list(&everything, table::GROUPS.api_version).await?;
        for kind in kinds {
            for item in left.iter().filter(|i| self.ours(i)) {
                if item["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case(kind.name))
                {
                    self.remove(*kind, item["id"].as_str().unwrap_or_default())
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Deletes the site's SSH key `key` last of all: first whatever else carries the site's
    /// tag (what a stopped create or destroy left), then, when railyard made the group and
    /// only the site's keys are left in it, the group (which takes the keys along), else the
    /// key alone. A destroy stopped anywhere still finds the key, so the next finishes.
    pub(super) async fn delete_last(&self, key: &str) -> Result<(), AzureError> {
        let everything = format!("{}/resources", self.group_path());
        let others: Vec<Type> = table::DELETION_ORDER
            .into_iter()
            .filter(|k| *k != table::SSH_KEYS)
            .collect();
        self.clear(&others).await?;
        let group_path = self.group_path();
        if let Some(group) = self.find(&group_path, table::GROUPS.api_version).await? {
            let tags = wire::tags(&group);
            let (mark, value) = labels::AZURE_CREATED_GROUP;
            let made = tags.get(mark).map(String::as_str) == Some(value) && self.ours(&group);
            let rest = self.list(&everything, table::GROUPS.api_version).await?;
            let only_keys = rest.iter().all(|i| {
                self.ours(i)
                    && i["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case(table::SSH_KEYS.name))
            });
            if made && only_keys {
                return self.remove(table::GROUPS, &group_path).await;
            }
        }
        self.remove(table::SSH_KEYS, key).await
    }
}
