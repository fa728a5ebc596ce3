//! cluster-autoscaler's Deployment: on the servers, with the flags railyard chooses on purpose.

use serde_json::Value as Json;

use crate::json_value::value;

use super::{CONFIG_DIR, NAME, NAMESPACE, node_groups};
use crate::generate::common_labels;
use crate::labels;
use crate::layout::{self, cloud};
use crate::model::Site;

/// The flags beyond `--nodes`, each chosen deliberately (decision 0012):
/// - `--enforce-node-group-min-size`: a pool below its `min` (after a manual delete, or when
///   `min` is raised) is brought up to it, not only when pods are pending;
/// - `--expander=least-waste`: of the pools that fit a pending pod, the one leaving the least
///   CPU and memory idle, since pools differ in server type;
/// - `--scale-down-delay-after-add=10m` and `--scale-down-unneeded-time=10m` (upstream's
///   defaults, written out so a review sees them): a node that just joined is not removed
///   before Gitpod's workspaces had time to land on it;
/// - `--skip-nodes-with-local-storage=false`: Gitpod's workspace pods use `emptyDir`, which
///   would otherwise keep every workspace node forever; their pods still back up on eviction.
const FLAGS: &[&str] = &[
    "--cloud-provider=hetzner",
    "--enforce-node-group-min-size=true",
    "--expander=least-waste",
    "--scale-down-delay-after-add=10m",
    "--scale-down-unneeded-time=10m",
    "--skip-nodes-with-local-storage=false",
    "--stderrthreshold=info",
];

fn env(site: &Site) -> Vec<Json> {
    // No `HCLOUD_FIREWALL`: the site's firewall applies to every server with the site's label,
    // which the pools' `serverLabels` carry; naming it at creation too would apply it twice.
    let mut env = vec![
        value!({ "name": "HCLOUD_TOKEN", "valueFrom": { "secretKeyRef": { "name": NAME, "key": layout::CLUSTER_AUTOSCALER_TOKEN_KEY } } }),
        value!({ "name": "HCLOUD_CLUSTER_CONFIG_FILE", "value": format!("{CONFIG_DIR}/{}", layout::CLUSTER_AUTOSCALER_CONFIG_KEY) }),
        value!({ "name": "HCLOUD_NETWORK", "value": cloud::network(&site.name) }),
        value!({ "name": "HCLOUD_PUBLIC_IPV4", "value": "true" }),
        value!({ "name": "HCLOUD_PUBLIC_IPV6", "value": "true" }),
    ];
    // The provider takes one key; the first is the one bootstrap uploads first. The keys also
    // sit in the user-data, so every key reaches the node either way.
    if !site.ssh_keys.is_empty() {
        env.push(value!({ "name": "HCLOUD_SSH_KEY", "value": cloud::ssh_key(&site.name, 0) }));
    }
    env
}

pub(super) fn deployment(site: &Site, image: &str) -> Json {
    let selector = value!({ "app.kubernetes.io/name": NAME });
    let mut pod_labels = common_labels(site);
    pod_labels["app.kubernetes.io/name"] = value!(NAME);
    let mut command = vec![value!("./cluster-autoscaler")];
    command.extend(FLAGS.iter().map(|f| value!(f)));
    command.extend(node_groups(site).into_iter().map(Json::from));
    value!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": NAME, "namespace": NAMESPACE, "labels": common_labels(site) },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": selector },
            "template": {
                "metadata": { "labels": pod_labels },
                "spec": {
                    "serviceAccountName": NAME,
                    // The chart's default (`charts/cluster-autoscaler/values.yaml`): the
                    // autoscaler is not preempted by the workloads it makes room for.
                    "priorityClassName": "system-cluster-critical",
                    // The hardening the chart's values suggest; it needs no privilege, only the
                    // API and Hetzner's.
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 65534,
                        "runAsGroup": 65534,
                        "seccompProfile": { "type": "RuntimeDefault" },
                    },
                    // On the servers, which the autoscaler never removes: a pool may scale to 0.
                    "nodeSelector": labels::node_role_match(labels::SERVER_NODE),
                    "tolerations": [
                        { "key": "CriticalAddonsOnly", "operator": "Exists" },
                        { "key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule" },
                    ],
                    "containers": [{
                        "name": NAME,
                        "image": image,
                        "command": command,
                        "env": env(site),
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "capabilities": { "drop": ["ALL"] },
                            "readOnlyRootFilesystem": true,
                        },
                        "resources": {
                            "requests": { "cpu": "100m", "memory": "300Mi" },
                            "limits": { "cpu": "100m", "memory": "300Mi" },
                        },
                        "volumeMounts": [
                            { "name": "config", "mountPath": CONFIG_DIR, "readOnly": true },
                            { "name": "ssl-certs", "mountPath": "/etc/ssl/certs/ca-certificates.crt", "readOnly": true },
                        ],
                    }],
                    "volumes": [
                        { "name": "config", "secret": { "secretName": NAME, "items": [{ "key": layout::CLUSTER_AUTOSCALER_CONFIG_KEY, "path": layout::CLUSTER_AUTOSCALER_CONFIG_KEY }] } },
                        { "name": "ssl-certs", "hostPath": { "path": "/etc/ssl/certs/ca-certificates.crt", "type": "File" } },
                    ],
                },
            },
        },
    })
}
