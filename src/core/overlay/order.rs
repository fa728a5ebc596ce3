//! kustomize's default ("legacy") output order: some kinds first, some last, then by
//! group, version and kind, then namespace and name.

use super::resource::Resource;

const FIRST: &[&str] = &[
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

const LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn rank(kind: &str) -> i64 {
    let first = i64::try_from(FIRST.len()).unwrap_or(0);
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        return i64::try_from(i).unwrap_or(0) - first;
    }
    LAST.iter()
        .position(|k| *k == kind)
        .map_or(0, |i| i64::try_from(i).unwrap_or(0) + 1)
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

pub(super) fn legacy(resources: &mut [Resource]) {
    resources.sort_by(|a, b| {
        let (ka, kb) = (gvk_key(a), gvk_key(b));
        if ka != kb {
            let (ra, rb) = (rank(&a.kind()), rank(&b.kind()));
            if ra != rb {
                return ra.cmp(&rb);
            }
            // kustomize reverses the order of two Namespace kinds when one has no group.
            if a.kind() == "Namespace"
                && b.kind() == "Namespace"
                && (a.group_version().0.is_empty() || b.group_version().0.is_empty())
            {
                return kb.cmp(&ka);
            }
            return ka.cmp(&kb);
        }
        let id = |r: &Resource| {
            format!(
                "{}|{}|{}",
                gvk_key(r),
                r.namespace()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "~X".to_owned()),
                if r.name().is_empty() {
                    "~N".to_owned()
                } else {
                    r.name()
                }
            )
        };
        id(a).cmp(&id(b))
    });
}
