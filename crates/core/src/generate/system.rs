//! The system layer, applied first: system-upgrade-controller (which upgrades k3s by the Plans
//! in the infrastructure layer) and kured (which reboots nodes after OS patches), both inside
//! the site's maintenance window, one node at a time.
//!
//! The objects follow upstream's manifests at the pinned tags (system-upgrade-controller
//! `manifests/` at v0.20.1, kured's `kured-ds.yaml` and `kured-rbac.yaml` at 1.23.0), written
//! here with railyard's labels and the window; decision 0005 says what differs and why.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::defaults::{DAY2, DRAIN_TIMEOUT};
use crate::generate::common_labels;
use crate::generate::layers::{self, SYSTEM};
use crate::json_value::value;
use crate::model::Site;

/// The controller's namespace and ServiceAccount (upstream's names; the Plans run as it).
pub const UPGRADE_NAMESPACE: &str = "system-upgrade";
pub const UPGRADE_SERVICE_ACCOUNT: &str = "system-upgrade";
/// kured's namespace and DaemonSet name, which must match its `--ds-namespace`/`--ds-name`
/// defaults: it locks by annotating its own DaemonSet.
const KURED_NAMESPACE: &str = "kube-system";
const KURED: &str = "kured";
/// How often kured looks for `/var/run/reboot-required` (upstream: 1h). Shorter, so that one
/// node after another fits into the window.
const KURED_PERIOD: &str = "10m";
/// The label upstream's Deployment selects on; its value also names the controller.
const CONTROLLER_LABEL: &str = "upgrade.cattle.io/controller";
const CONTROLLER: &str = "system-upgrade-controller";

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let documents = vec![
        (
            "system-upgrade-controller.yaml".to_owned(),
            upgrade_controller(site),
        ),
        ("kured.yaml".to_owned(), kured(site)),
    ];
    layers::write(site, &SYSTEM, documents, files);
}

fn metadata(site: &Site, name: &str, namespace: Option<&str>) -> Json {
    // built whole, so the map is made at its final size
    match namespace {
        Some(namespace) => {
            value!({ "name": name, "labels": common_labels(site), "namespace": namespace })
        }
        None => value!({ "name": name, "labels": common_labels(site) }),
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Json {
    value!({ "apiGroups": groups, "resources": resources, "verbs": verbs })
}

fn binding(site: &Site, kind: &str, name: &str, role: &str, subject: (&str, &str)) -> Json {
    let namespace = (kind == "RoleBinding").then_some(subject.1);
    value!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata(site, name, namespace),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": if kind == "RoleBinding" { "Role" } else { "ClusterRole" },
            "name": role,
        },
        "subjects": [{ "kind": "ServiceAccount", "name": subject.0, "namespace": subject.1 }],
    })
}

fn role(site: &Site, kind: &str, name: &str, namespace: Option<&str>, rules: Vec<Json>) -> Json {
    value!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata(site, name, namespace),
        "rules": rules,
    })
}

fn upgrade_controller(site: &Site) -> Vec<Json> {
    let ns = Some(UPGRADE_NAMESPACE);
    let account = (UPGRADE_SERVICE_ACCOUNT, UPGRADE_NAMESPACE);
    let mut namespace = value!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": metadata(site, UPGRADE_NAMESPACE, None),
    });
    // The upgrade Jobs run privileged on the host (upstream's label).
    namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = value!("privileged");
    vec![
        namespace,
        value!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(site, UPGRADE_SERVICE_ACCOUNT, ns),
        }),
        role(site, "ClusterRole", CONTROLLER, None, controller_rules()),
        role(site, "Role", CONTROLLER, ns, controller_namespace_rules()),
        role(
            site,
            "ClusterRole",
            "system-upgrade-controller-drainer",
            None,
            drainer_rules(),
        ),
        binding(
            site,
            "ClusterRoleBinding",
            "system-upgrade-drainer",
            "system-upgrade-controller-drainer",
            account,
        ),
        binding(
            site,
            "ClusterRoleBinding",
            "system-upgrade",
            CONTROLLER,
            account,
        ),
        binding(site, "RoleBinding", "system-upgrade", CONTROLLER, account),
        controller_env(site),
        controller_deployment(site),
    ]
}

/// Upstream's `manifests/clusterrole.yaml`, ClusterRole `system-upgrade-controller`. It may
/// create and update CRDs: the controller installs its own Plan CRD when it starts.
fn controller_rules() -> Vec<Json> {
    let all = [
        "get", "list", "watch", "create", "patch", "update", "delete",
    ];
    vec![
        rule(&["batch"], &["jobs"], &["get", "list", "watch"]),
        rule(
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"],
            &all[..6],
        ),
        rule(&[""], &["namespaces", "nodes"], &["get", "list", "watch"]),
        rule(&[""], &["nodes"], &["update"]),
        rule(&[""], &["events"], &["get", "create", "patch", "update"]),
        rule(&["coordination.k8s.io"], &["leases"], &["create"]),
        value!({
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [CONTROLLER],
            "verbs": ["get", "update"],
        }),
        rule(&["upgrade.cattle.io"], &["plans", "plans/status"], &all),
    ]
}

/// Upstream's Role `system-upgrade-controller`, in the controller's namespace.
fn controller_namespace_rules() -> Vec<Json> {
    vec![
        rule(
            &["batch"],
            &["jobs"],
            &[
                "create",
                "delete",
                "deletecollection",
                "patch",
                "update",
                "get",
                "list",
                "watch",
            ],
        ),
        rule(&[""], &["secrets"], &["get", "list", "watch"]),
    ]
}

/// Upstream's ClusterRole `system-upgrade-controller-drainer`: what `kubectl drain` needs.
fn drainer_rules() -> Vec<Json> {
    vec![
        rule(&[""], &["pods/eviction"], &["create"]),
        rule(&[""], &["pods"], &["get", "list", "delete"]),
        rule(&[""], &["nodes"], &["get", "patch"]),
        rule(
            &["apps"],
            &["statefulsets", "daemonsets", "replicasets"],
            &["get", "list"],
        ),
    ]
}

/// Upstream's ConfigMap `default-controller-env` at v0.20.1, unchanged.
fn controller_env(site: &Site) -> Json {
    value!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(site, "default-controller-env", Some(UPGRADE_NAMESPACE)),
        "data": {
            "SYSTEM_UPGRADE_CONTROLLER_DEBUG": "false",
            "SYSTEM_UPGRADE_CONTROLLER_THREADS": "2",
            "SYSTEM_UPGRADE_CONTROLLER_LEADER_ELECT": "true",
            "SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS": "900",
            "SYSTEM_UPGRADE_JOB_BACKOFF_LIMIT": "99",
            "SYSTEM_UPGRADE_JOB_IMAGE_PULL_POLICY": "Always",
            "SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE": DAY2.upgrade_kubectl_image,
            "SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE_WINDOWS": "",
            "SYSTEM_UPGRADE_JOB_PRIVILEGED": "true",
            "SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH": "900",
            "SYSTEM_UPGRADE_PLAN_POLLING_INTERVAL": "15m",
        },
    })
}

fn host_path(name: &str, path: &str) -> (Json, Json) {
    (
        value!({ "name": name, "hostPath": { "path": path, "type": "DirectoryOrCreate" } }),
        value!({ "name": name, "mountPath": path, "readOnly": true }),
    )
}

fn field_env(name: &str, path: &str) -> Json {
    value!({ "name": name, "valueFrom": { "fieldRef": { "fieldPath": path } } })
}

/// Upstream's Deployment: on a control-plane node, tolerating the servers' taints (railyard's
/// `CriticalAddonsOnly` among them), the CA bundles of the host mounted read-only.
fn controller_deployment(site: &Site) -> Json {
    let (mut volumes, mut mounts): (Vec<Json>, Vec<Json>) = [
        ("etc-ssl", "/etc/ssl"),
        ("etc-pki", "/etc/pki"),
        ("etc-ca-certificates", "/etc/ca-certificates"),
    ]
    .into_iter()
    .map(|(name, path)| host_path(name, path))
    .unzip();
    volumes.push(value!({ "name": "tmp", "emptyDir": {} }));
    mounts.push(value!({ "name": "tmp", "mountPath": "/tmp" }));
    let control_plane = |effect: &str| value!({ "key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": effect });
    let labels = value!({
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/name": CONTROLLER,
        CONTROLLER_LABEL: CONTROLLER,
    });
    value!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(site, CONTROLLER, Some(UPGRADE_NAMESPACE)),
        "spec": {
            "strategy": { "type": "Recreate" },
            "selector": { "matchLabels": { CONTROLLER_LABEL: CONTROLLER } },
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "affinity": {
                        "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [{ "matchExpressions": [
                            { "key": "node-role.kubernetes.io/control-plane", "operator": "Exists" },
                            { "key": "kubernetes.io/os", "operator": "In", "values": ["linux"] },
                        ] }] } },
                        "podAntiAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": [{
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": { "matchExpressions": [{ "key": "app.kubernetes.io/name", "operator": "In", "values": [CONTROLLER] }] },
                        }] },
                    },
                    "serviceAccountName": UPGRADE_SERVICE_ACCOUNT,
                    "tolerations": [
                        { "key": "CriticalAddonsOnly", "operator": "Exists" },
                        { "key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule" },
                        { "key": "node-role.kubernetes.io/controlplane", "operator": "Exists", "effect": "NoSchedule" },
                        control_plane("NoSchedule"),
                        { "key": "node-role.kubernetes.io/etcd", "operator": "Exists", "effect": "NoExecute" },
                    ],
                    "containers": [{
                        "name": CONTROLLER,
                        "image": format!("rancher/system-upgrade-controller:{}", DAY2.upgrade_controller),
                        "imagePullPolicy": "IfNotPresent",
                        "securityContext": {
                            "runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534,
                            "allowPrivilegeEscalation": false,
                            "seccompProfile": { "type": "RuntimeDefault" },
                            "capabilities": { "drop": ["ALL"] },
                        },
                        "envFrom": [{ "configMapRef": { "name": "default-controller-env" } }],
                        "env": [
                            field_env("SYSTEM_UPGRADE_CONTROLLER_NAME", &format!("metadata.labels['{CONTROLLER_LABEL}']")),
                            field_env("SYSTEM_UPGRADE_CONTROLLER_NAMESPACE", "metadata.namespace"),
                            field_env("SYSTEM_UPGRADE_CONTROLLER_NODE_NAME", "spec.nodeName"),
                        ],
                        "volumeMounts": mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    })
}

/// kured's arguments: the window, one node at a time, and a drain that waits for workspace pods
/// (their own grace period, `-1`) up to `DRAIN_TIMEOUT`, then gives up rather than forcing the
/// reboot (`--force-reboot` stays false), and tries again at the next period.
pub fn kured_command(site: &Site) -> Vec<String> {
    let window = &site.maintenance;
    vec![
        "/usr/bin/kured".to_owned(),
        "--reboot-sentinel=/sentinel/reboot-required".to_owned(),
        format!("--period={KURED_PERIOD}"),
        "--concurrency=1".to_owned(),
        format!("--reboot-days={}", window.days.join(",")),
        format!("--start-time={}", window.start),
        format!("--end-time={}", window.end),
        format!("--time-zone={}", window.time_zone),
        "--drain-grace-period=-1".to_owned(),
        format!("--drain-timeout={DRAIN_TIMEOUT}"),
    ]
}

fn kured(site: &Site) -> Vec<Json> {
    let ns = Some(KURED_NAMESPACE);
    let account = (KURED, KURED_NAMESPACE);
    vec![
        role(
            site,
            "ClusterRole",
            KURED,
            None,
            vec![
                rule(&[""], &["nodes"], &["get", "patch"]),
                rule(&[""], &["pods"], &["list", "delete", "get"]),
                rule(&["apps"], &["daemonsets"], &["get"]),
                rule(&[""], &["pods/eviction"], &["create"]),
            ],
        ),
        binding(site, "ClusterRoleBinding", KURED, KURED, account),
        role(
            site,
            "Role",
            KURED,
            ns,
            vec![
                value!({ "apiGroups": ["apps"], "resources": ["daemonsets"], "resourceNames": [KURED], "verbs": ["update"] }),
            ],
        ),
        binding(site, "RoleBinding", KURED, KURED, account),
        value!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(site, KURED, ns),
        }),
        kured_daemon_set(site),
    ]
}

/// Upstream's DaemonSet, tolerating railyard's dedicated-server taint too, so servers are
/// patched and rebooted like every other node.
fn kured_daemon_set(site: &Site) -> Json {
    value!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(site, KURED, Some(KURED_NAMESPACE)),
        "spec": {
            "selector": { "matchLabels": { "name": KURED } },
            "updateStrategy": { "type": "RollingUpdate" },
            "template": {
                "metadata": { "labels": { "name": KURED } },
                "spec": {
                    "serviceAccountName": KURED,
                    "tolerations": [
                        { "key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule" },
                        { "key": "node-role.kubernetes.io/master", "effect": "NoSchedule" },
                        { "key": "CriticalAddonsOnly", "operator": "Exists" },
                    ],
                    "hostPID": true,
                    "restartPolicy": "Always",
                    "volumes": [{ "name": "sentinel", "hostPath": { "path": "/var/run", "type": "Directory" } }],
                    "containers": [{
                        "name": KURED,
                        "image": format!("ghcr.io/kubereboot/kured:{}", DAY2.kured),
                        "imagePullPolicy": "IfNotPresent",
                        "securityContext": { "privileged": true, "readOnlyRootFilesystem": true },
                        "ports": [{ "containerPort": 8080, "name": "metrics" }],
                        "env": [field_env("KURED_NODE_ID", "spec.nodeName")],
                        "volumeMounts": [{ "mountPath": "/sentinel", "name": "sentinel", "readOnly": true }],
                        "command": kured_command(site),
                    }],
                },
            },
        },
    })
}
