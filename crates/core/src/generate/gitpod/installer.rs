//! The Job that installs Gitpod with Gitpod's own installer, its config and its rights.
//!
//! The installer image runs only the installer itself, as init containers and without a shell
//! (`validate config`, `validate cluster`, then `render --output-split-files` into a shared
//! volume); a pinned kubectl image applies the result as a kubectl ApplySet (pruning what a new
//! installer no longer renders) and waits for Gitpod's workloads to roll out
//! (docs/decisions/0006-gitpod-under-flux.md). The Job's name digests the Job as finally
//! written, after the user's overlays (`name_job`), because a Job's pod template is immutable.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::defaults;
use crate::emit;
use crate::generate::common_labels;
use crate::generate::infrastructure::{GITPOD_NAMESPACE, csi};
use crate::generate::layers::no_substitution;
use crate::json_value::value;
use crate::layout;
use crate::model::Site;
use crate::tree::sha256;

const APPLY_SCRIPT: &str = include_str!("../scripts/gitpod-apply.sh");

pub(super) const INSTALLER: &str = "gitpod-installer";
pub(super) const CONFIG_MAP: &str = "gitpod-installer-config";
pub(super) const JOB_FILE: &str = "installer-job.yaml";
pub(super) const CONFIG_FILE_NAME: &str = "installer-config.yaml";
const CONFIG_FILE: &str = "gitpod.config.yaml";
const KUBECONFIG_FILE: &str = "kubeconfig";
const CONFIG_DIR: &str = "/config";
const MANIFESTS_DIR: &str = "/manifests";
/// The ApplySet's parent, a Secret kubectl creates in Gitpod's namespace.
const APPLYSET: &str = "gitpod-installer-applyset";
const FIELD_MANAGER: &str = "railyard-gitpod-installer";
/// How long one Gitpod workload may take to roll out; the layer's own timeout bounds the whole.
const ROLLOUT_TIMEOUT: &str = "10m";
/// Where Kubernetes mounts a pod's service account credentials.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn metadata(site: &Site, name: &str) -> Json {
    value!({ "name": name, "namespace": GITPOD_NAMESPACE, "labels": common_labels(site) })
}

/// `installer validate cluster` reads a kubeconfig file and nothing else (it never falls back to
/// the in-cluster config), so the pod's own service account is written as one: paths only.
fn in_cluster_kubeconfig() -> String {
    emit::document(&value!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "in-cluster", "cluster": {
            "server": "https://kubernetes.default.svc",
            "certificate-authority": format!("{SERVICE_ACCOUNT_DIR}/ca.crt"),
        } }],
        "users": [{ "name": INSTALLER, "user": { "tokenFile": format!("{SERVICE_ACCOUNT_DIR}/token") } }],
        "contexts": [{ "name": "in-cluster", "context": { "cluster": "in-cluster", "user": INSTALLER, "namespace": GITPOD_NAMESPACE } }],
        "current-context": "in-cluster",
    }))
}

pub(super) fn config_map(site: &Site, config_text: &str) -> Json {
    let mut config_map = value!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(site, CONFIG_MAP),
        "data": { CONFIG_FILE: config_text, KUBECONFIG_FILE: in_cluster_kubeconfig() },
    });
    // The user's config is passed through as written, `${...}` included.
    no_substitution(&mut config_map);
    config_map
}

/// The installer's rights: everything inside Gitpod's namespace, and the cluster-scoped kinds
/// Gitpod's manifests create. Creating ClusterRoles for Gitpod's components needs `escalate`
/// and `bind`; pruning the ApplySet lists and deletes every kind it holds, cluster-scoped ones
/// included. That is the least a Job that installs and prunes Gitpod can hold.
pub(super) fn rbac(site: &Site) -> Vec<Json> {
    let labels = common_labels(site);
    let verbs_all = value!([
        "get", "list", "watch", "create", "update", "patch", "delete"
    ]);
    let cluster_role = format!("railyard-{INSTALLER}");
    vec![
        value!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(site, INSTALLER) }),
        value!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(site, INSTALLER),
            "rules": [{ "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"] }],
        }),
        value!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(site, INSTALLER),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": INSTALLER },
            "subjects": [{ "kind": "ServiceAccount", "name": INSTALLER, "namespace": GITPOD_NAMESPACE }],
        }),
        value!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": &cluster_role, "labels": &labels },
            "rules": [
                { "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "bind", "escalate"] },
                { "apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": &verbs_all },
                { "apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"], "verbs": &verbs_all },
                { "apiGroups": ["scheduling.k8s.io"], "resources": ["priorityclasses"], "verbs": &verbs_all },
                { "apiGroups": ["node.k8s.io"], "resources": ["runtimeclasses"], "verbs": verbs_all },
                { "apiGroups": [""], "resources": ["namespaces", "nodes"], "verbs": ["get", "list", "watch"] },
                { "apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list", "watch"] },
            ],
        }),
        value!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": &cluster_role, "labels": labels },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role },
            "subjects": [{ "kind": "ServiceAccount", "name": INSTALLER, "namespace": GITPOD_NAMESPACE }],
        }),
    ]
}

/// The first ten hex digits of a sha256.
fn short_digest(bytes: &[u8]) -> String {
    sha256(bytes)["sha256:".len()..].chars().take(10).collect()
}

/// The installer Job as generated, named after a digest of config and images: user overlays
/// can match it by `gitpod-installer-.*`, and `name_job` later renames it after the Job they
/// leave.
pub(super) fn job(site: &Site, config_text: &str) -> Json {
    let installer_image = format!(
        "{}:{}",
        site.gitpod.installer.image, site.gitpod.installer.version
    );
    let kubectl_image = site
        .gitpod
        .installer
        .kubectl_image
        .clone()
        .unwrap_or_else(|| defaults::kubectl_image(&site.versions.k3s));
    let digest =
        short_digest(format!("{config_text}\n{installer_image}\n{kubectl_image}\n").as_bytes());
    let config = format!("{CONFIG_DIR}/{CONFIG_FILE}");
    let installer = |name: &str, args: &[&str]| {
        let mut mounts =
            vec![value!({ "name": "config", "mountPath": CONFIG_DIR, "readOnly": true })];
        if args.contains(&MANIFESTS_DIR) {
            mounts.push(value!({ "name": "manifests", "mountPath": MANIFESTS_DIR }));
        }
        value!({
            "name": name,
            "image": &installer_image,
            "command": ["/app/installer"],
            "args": args,
            "volumeMounts": mounts,
        })
    };
    let env = |name: &str, value: &str| value!({ "name": name, "value": value });
    let mut job = value!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(site, &format!("{INSTALLER}-{digest}")),
        "spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": { "labels": { "app.kubernetes.io/name": INSTALLER } },
                "spec": {
                    "serviceAccountName": INSTALLER,
                    "restartPolicy": "Never",
                    "initContainers": [
                        installer("validate-config", &["validate", "config", "--config", &config]),
                        installer("validate-cluster", &["validate", "cluster", "--kubeconfig", &format!("{CONFIG_DIR}/{KUBECONFIG_FILE}"), "--namespace", GITPOD_NAMESPACE, "--config", &config]),
                        installer("render", &["render", "--config", &config, "--namespace", GITPOD_NAMESPACE, "--output-split-files", MANIFESTS_DIR]),
                    ],
                    "containers": [{
                        "name": "apply",
                        "image": kubectl_image,
                        "command": ["/bin/sh", "-c"],
                        "args": [APPLY_SCRIPT],
                        "env": [
                            env("KUBECTL_APPLYSET", "true"),
                            env("MANIFESTS", MANIFESTS_DIR),
                            env("NAMESPACE", GITPOD_NAMESPACE),
                            env("APPLYSET", APPLYSET),
                            env("FIELD_MANAGER", FIELD_MANAGER),
                            env("ROLLOUT_TIMEOUT", ROLLOUT_TIMEOUT),
                        ],
                        "volumeMounts": [{ "name": "manifests", "mountPath": MANIFESTS_DIR }],
                    }],
                    "volumes": [
                        { "name": "config", "configMap": { "name": CONFIG_MAP } },
                        { "name": "manifests", "emptyDir": {} },
                    ],
                },
            },
        },
    });
    store_class(site, &mut job);
    no_substitution(&mut job);
    job
}

/// Tells the apply script the storage class of the site's CSI driver, when it has one, for the
/// in-cluster stores' volumes.
fn store_class(site: &Site, job: &mut Json) {
    let Some(class) = csi::storage_class(site) else {
        return;
    };
    if let Some(env) = job
        .pointer_mut("/spec/template/spec/containers/0/env")
        .and_then(Json::as_array_mut)
    {
        env.push(value!({ "name": "STORAGE_CLASS", "value": class }));
    }
}

/// Renames the installer Job after a digest of the Job as written (after user overlays, name
/// aside) and of its config file: any change to either, an overlay's annotation on the pod
/// template included, runs a new Job, and Flux prunes the old one. The generated digest in the
/// name is replaced (an overlay's prefix or suffix stays); a name without it gets the digest
/// appended.
pub fn name_job(site_name: &str, files: &mut BTreeMap<String, Vec<u8>>) {
    let dir = layout::layer_dir(site_name, "gitpod");
    let job_path = format!("{dir}/{JOB_FILE}");
    let Some(job_bytes) = files.get(&job_path) else {
        return;
    };
    let config_bytes = files
        .get(&format!("{dir}/{CONFIG_FILE_NAME}"))
        .cloned()
        .unwrap_or_default();
    let mut objects = crate::user_overlays::parse(&job_path, job_bytes);
    for object in objects.iter_mut().filter(|o| o["kind"] == "Job") {
        rename(object, &config_bytes);
    }
    files.insert(job_path, emit::documents(&objects).into_bytes());
}

/// Names `job` after a digest of itself as written, name aside, and of its config file's
/// bytes (see [`name_job`]). The generator names the Job it writes so; `name_job` does it
/// again only when user overlays may have changed the Job, and on a Job they left alone it
/// computes the same name.
pub(super) fn rename(job: &mut Json, config_file: &[u8]) {
    let Some(slot) = job.get_mut("metadata").and_then(|m| m.get_mut("name")) else {
        return;
    };
    if !slot.is_string() {
        return;
    }
    let Json::String(name) = std::mem::take(slot) else {
        return;
    };
    // the Job written with its name as `null`: taken out for the digest, not a copy
    let mut text = emit::document(job).into_bytes();
    text.extend_from_slice(config_file);
    job["metadata"]["name"] = value!(renamed(&name, &short_digest(&text)));
}

/// `gitpod-installer-<generated>[suffix]` with the generated digest replaced by `digest`.
fn renamed(name: &str, digest: &str) -> String {
    let prefix = format!("{INSTALLER}-");
    match name.find(&prefix) {
        Some(at) => {
            let start = at + prefix.len();
            let end = (start + 10).min(name.len());
            format!("{}{digest}{}", &name[..start], &name[end..])
        }
        None => format!("{name}-{digest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_digest_is_replaced_and_affixes_stay() {
        assert_eq!(
            renamed("gitpod-installer-0123456789", "abcdefabcd"),
            "gitpod-installer-abcdefabcd"
        );
        assert_eq!(
            renamed("team-gitpod-installer-0123456789-x", "abcdefabcd"),
            "team-gitpod-installer-abcdefabcd-x"
        );
        assert_eq!(renamed("other", "abcdefabcd"), "other-abcdefabcd");
    }
}
