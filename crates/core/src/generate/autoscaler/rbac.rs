//! cluster-autoscaler's ServiceAccount and RBAC: the permissions the upstream Hetzner example
//! (`cloudprovider/hetzner/examples/cluster-autoscaler-run-on-master.yaml`) grants, no more.

use serde_json::Value as Json;

use crate::json_value::value;

use super::{NAME, NAMESPACE};
use crate::generate::common_labels;
use crate::model::Site;

/// The rules of the example's ClusterRole: read what scheduling simulation needs, update
/// nodes, evict pods when draining, and hold its lease and status.
fn cluster_rules() -> Json {
    let read = ["watch", "list", "get"];
    value!([
        { "apiGroups": [""], "resources": ["events", "endpoints"], "verbs": ["create", "patch"] },
        { "apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"] },
        { "apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"] },
        { "apiGroups": [""], "resources": ["endpoints"], "resourceNames": [NAME], "verbs": ["get", "update"] },
        { "apiGroups": [""], "resources": ["nodes"], "verbs": ["watch", "list", "get", "update"] },
        { "apiGroups": [""], "resources": ["namespaces", "pods", "services", "replicationcontrollers", "persistentvolumeclaims", "persistentvolumes"], "verbs": read },
        { "apiGroups": ["extensions"], "resources": ["replicasets", "daemonsets"], "verbs": read },
        { "apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["watch", "list"] },
        { "apiGroups": ["apps"], "resources": ["statefulsets", "replicasets", "daemonsets"], "verbs": read },
        { "apiGroups": ["storage.k8s.io"], "resources": ["storageclasses", "csinodes", "csistoragecapacities", "csidrivers"], "verbs": read },
        { "apiGroups": ["batch", "extensions"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "patch"] },
        { "apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"] },
        { "apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [NAME], "verbs": ["get", "update"] },
    ])
}

/// Its status ConfigMaps in its own namespace.
fn namespace_rules() -> Json {
    value!([
        { "apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "watch"] },
        { "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"], "verbs": ["delete", "get", "update", "watch"] },
    ])
}

pub(super) fn objects(site: &Site) -> Vec<Json> {
    let labels = common_labels(site);
    let subject = value!([{ "kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE }]);
    vec![
        value!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": { "name": NAME, "namespace": NAMESPACE, "labels": &labels } }),
        value!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": { "name": NAME, "labels": &labels }, "rules": cluster_rules() }),
        value!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": { "name": NAME, "namespace": NAMESPACE, "labels": &labels }, "rules": namespace_rules() }),
        value!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": { "name": NAME, "labels": &labels }, "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME }, "subjects": &subject }),
        value!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": { "name": NAME, "namespace": NAMESPACE, "labels": labels }, "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME }, "subjects": subject }),
    ]
}
