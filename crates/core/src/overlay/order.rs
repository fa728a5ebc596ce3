//! kustomize's default ("legacy") output order: some kinds first, some last, then by
//! group, version and kind, then namespace and name; or, with `sortOptions`, the kinds a
//! kustomization lists first and last.

use std::collections::HashMap;

use super::resource::Resource;

pub(super) const FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

pub(super) const LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Each listed kind's rank, as kustomize's `newLegacyIDSorter` counts it: the first list
/// below zero, the last above, a kind listed twice keeping its later place; others rank 0.
fn ranks(first: &[String], last: &[String]) -> HashMap<String, i64> {
    let mut ranks = HashMap::new();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    for (i, kind) in first.iter().enumerate() {
        ranks.insert(kind.clone(), count(i) - count(first.len()));
    }
    for (i, kind) in last.iter().enumerate() {
        ranks.insert(kind.clone(), count(i) + 1);
    }
    ranks
}

/// The legacy order with `first` and `last` as the kinds ranked first and last.
pub(super) fn legacy_with(first: &[String], last: &[String], resources: &mut [Resource]) {
    legacy(&ranks(first, last), resources);
}

fn gvk_key(resource: &Resource) -> String {
    let (group, version) = resource.group_version();
    let or = |s: String, empty: &str| if s.is_empty() { empty.to_owned() } else { s };
    format!(
        "{}_{}_{}",
        or(group, "~G"),
        or(version, "~V"),
        or(resource.kind(), "~K")
    )
}

fn legacy(ranks: &HashMap<String, i64>, resources: &mut [Resource]) {
    // keys computed once per object, not once per comparison
    struct Key {
        gvk: String,
        rank: i64,
        namespace_kind: bool,
        no_group: bool,
        id: String,
    }
    let keys: Vec<Key> = resources
        .iter()
        .map(|r| {
            let gvk = gvk_key(r);
            let namespace = r
                .namespace()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "~X".to_owned());
            let name = if r.name().is_empty() {
                "~N".to_owned()
            } else {
                r.name()
            };
            Key {
                id: format!("{gvk}|{namespace}|{name}"),
                rank: ranks.get(&r.kind()).copied().unwrap_or(0),
                namespace_kind: r.kind() == "Namespace",
                no_group: r.group_version().0.is_empty(),
                gvk,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&keys[a], &keys[b]);
        if a.gvk != b.gvk {
            if a.rank != b.rank {
                return a.rank.cmp(&b.rank);
            }
            // kustomize reverses the order of two Namespace kinds when one has no group.
            if a.namespace_kind && b.namespace_kind && (a.no_group || b.no_group) {
                return b.gvk.cmp(&a.gvk);
            }
            return a.gvk.cmp(&b.gvk);
        }
        a.id.cmp(&b.id)
    });
    let mut taken: Vec<Option<Resource>> = resources
        .iter_mut()
        .map(|r| {
            Some(std::mem::replace(
                r,
                Resource::new(serde_json::Value::Null, ""),
            ))
        })
        .collect();
    for (slot, index) in resources.iter_mut().zip(order) {
        *slot = taken[index].take().expect("each index once");
    }
}
