//! Name references: once names have their prefixes, suffixes and hashes, every field that
//! referred to an object by its old name is pointed at its new one (kustomize's back
//! references). Which fields refer to which kinds is the table below.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::resource::{Resource, is_cluster_scoped};
use super::transform::visit;
use super::{Error, OutOfWork, Work};

/// Kinds that carry a pod spec, and where.
const POD_SPECS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("PodTemplate", "template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicaSet", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
];

/// Pod-spec kinds that reference service accounts, claims and priority classes.
const POD_SPECS_WITH_RC: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
];

const CONFIG_MAP_IN_POD: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

const SECRET_IN_POD: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

/// (referrer kind, path) pairs through which an object of `kind` is referred to by name.
fn referrers(kind: &str) -> Vec<(&'static str, String)> {
    let in_pods =
        |specs: &[(&'static str, &'static str)], paths: &[&str]| -> Vec<(&'static str, String)> {
            specs
                .iter()
                .flat_map(|(k, base)| paths.iter().map(move |p| (*k, format!("{base}/{p}"))))
                .collect()
        };
    let fixed = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, p)| (*k, (*p).to_owned())).collect()
    };
    match kind {
        "ConfigMap" => {
            let mut refs = in_pods(POD_SPECS, CONFIG_MAP_IN_POD);
            refs.extend(fixed(&[
                ("Node", "spec/configSource/configMap"),
                ("Role", "rules/resourceNames"),
                ("ClusterRole", "rules/resourceNames"),
            ]));
            refs
        }
        "Secret" => {
            let mut refs = in_pods(POD_SPECS, SECRET_IN_POD);
            refs.extend(fixed(&[
                ("Ingress", "spec/tls/secretName"),
                ("ServiceAccount", "imagePullSecrets/name"),
                ("StorageClass", "parameters/secretName"),
                ("StorageClass", "parameters/adminSecretName"),
                ("StorageClass", "parameters/userSecretName"),
                ("StorageClass", "parameters/secretRef"),
                ("Role", "rules/resourceNames"),
                ("ClusterRole", "rules/resourceNames"),
                ("PersistentVolume", "spec/azureFile/secretName"),
            ]));
            refs
        }
        "ServiceAccount" => in_pods(POD_SPECS_WITH_RC, &["serviceAccountName"]),
        "Service" => fixed(&[
            ("StatefulSet", "spec/serviceName"),
            ("Ingress", "spec/rules/http/paths/backend/serviceName"),
            ("Ingress", "spec/backend/serviceName"),
            ("Ingress", "spec/rules/http/paths/backend/service/name"),
            ("Ingress", "spec/defaultBackend/service/name"),
            ("APIService", "spec/service/name"),
        ]),
        "Role" => fixed(&[("RoleBinding", "roleRef/name")]),
        "ClusterRole" => fixed(&[
            ("RoleBinding", "roleRef/name"),
            ("ClusterRoleBinding", "roleRef/name"),
        ]),
        "PersistentVolumeClaim" => in_pods(
            POD_SPECS_WITH_RC,
            &["volumes/persistentVolumeClaim/claimName"],
        ),
        "PersistentVolume" => fixed(&[
            ("PersistentVolumeClaim", "spec/volumeName"),
            ("ClusterRole", "rules/resourceNames"),
        ]),
        "StorageClass" => fixed(&[
            ("PersistentVolume", "spec/storageClassName"),
            ("PersistentVolumeClaim", "spec/storageClassName"),
            (
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName",
            ),
        ]),
        "PriorityClass" => in_pods(POD_SPECS_WITH_RC, &["priorityClassName"]),
        "IngressClass" => fixed(&[("Ingress", "spec/ingressClassName")]),
        "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet" => {
            fixed(&[("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")])
        }
        _ => Vec::new(),
    }
}

/// Every name a resource answered to before its current one.
fn old_names(resource: &Resource) -> Vec<(String, Option<String>)> {
    let mut names = vec![resource.original.clone()];
    names.extend(resource.previous.iter().cloned());
    names
}

/// A renamed object: kind, new name, new namespace and every name it had before.
type Referral = (
    String,
    String,
    Option<String>,
    Vec<(String, Option<String>)>,
);

/// Points every reference to a renamed object at its new name. Spends `work` on every field
/// visited and name compared; stops when it is exhausted.
pub(super) fn fix(resources: &mut [Resource], work: &Work) -> Result<(), Error> {
    let referrals: Vec<Referral> = resources
        .iter()
        .filter(|r| r.name() != r.original.0 || r.namespace() != r.original.1)
        .map(|r| (r.kind(), r.name(), r.namespace(), old_names(r)))
        .collect();
    // kinds and namespaces do not change here: index the objects by kind once, so each renamed
    // object visits only the kinds that can refer to it
    let mut by_kind: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, resource) in resources.iter().enumerate() {
        by_kind.entry(resource.kind()).or_default().push(i);
    }
    let index = Index {
        referrals: &referrals,
        by_kind: &by_kind,
    };
    index
        .fix_plain_names(resources, work)
        .and_then(|()| index.fix_named_in_namespace(resources, work))
        .map_err(|OutOfWork| Error::RenamingOutOfWork)
}

/// The renamed objects, and every object's index by kind.
struct Index<'a> {
    referrals: &'a [Referral],
    by_kind: &'a HashMap<String, Vec<usize>>,
}

impl Index<'_> {
    /// The objects of `kind`, by index.
    fn of_kind(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&[][..], Vec::as_slice)
    }

    /// References by plain name: each referring field is visited once per kind, and looked up
    /// among the old names of that kind's renamed objects (the first in order wins).
    fn fix_plain_names(&self, resources: &mut [Resource], work: &Work) -> Result<(), OutOfWork> {
        let namespaces: Vec<Option<String>> = resources.iter().map(Resource::namespace).collect();
        let mut kinds: Vec<&str> = self.referrals.iter().map(|r| r.0.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let by_old = self.by_old_name(kind);
            for (referrer_kind, path) in referrers(kind) {
                for &index in self.of_kind(referrer_kind) {
                    // no namespace means `default` to kustomize
                    let namespace = same(namespaces[index].as_deref());
                    let any_namespace = is_cluster_scoped(kind) || is_cluster_scoped(referrer_kind);
                    let compared = std::cell::Cell::new(0_usize);
                    let pick = |name: &str| {
                        let candidates = by_old.get(name)?;
                        let found = candidates
                            .iter()
                            .map(|&i| &self.referrals[i])
                            .position(|r| any_namespace || same(r.2.as_deref()) == namespace);
                        compared.set(compared.get() + found.map_or(candidates.len(), |i| i + 1));
                        found.map(|i| self.referrals[candidates[i]].1.clone())
                    };
                    let visited = visit(&mut resources[index].object, &path, false, &mut |value| {
                        rename(value, &pick)
                    });
                    work.spend(1 + visited + compared.get())?;
                }
            }
        }
        Ok(())
    }

    /// The renamed objects of `kind` by each name they had, in order.
    fn by_old_name(&self, kind: &str) -> HashMap<&str, Vec<usize>> {
        let mut by_old: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, referral) in self
            .referrals
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0 == kind)
        {
            for (old, _) in &referral.3 {
                let candidates = by_old.entry(old.as_str()).or_default();
                // each referral's names are added together, so a repeat is the last one
                if candidates.last() != Some(&i) {
                    candidates.push(i);
                }
            }
        }
        by_old
    }

    /// References by name and namespace: few objects carry them (role binding subjects,
    /// webhook services).
    fn fix_named_in_namespace(
        &self,
        resources: &mut [Resource],
        work: &Work,
    ) -> Result<(), OutOfWork> {
        for (kind, name, namespace, old) in self.referrals {
            let special: &[&str] = match kind.as_str() {
                "ServiceAccount" => &["RoleBinding", "ClusterRoleBinding"],
                "Service" => &[
                    "ValidatingWebhookConfiguration",
                    "MutatingWebhookConfiguration",
                ],
                _ => &[],
            };
            for referrer_kind in special {
                for &index in self.of_kind(referrer_kind) {
                    let referrer = &mut resources[index];
                    let subjects = ["subjects", "webhooks"]
                        .iter()
                        .filter_map(|k| referrer.object.get(k).and_then(Json::as_array))
                        .map(Vec::len)
                        .sum::<usize>();
                    work.spend(1 + subjects)?;
                    if kind == "ServiceAccount" {
                        retarget_subjects(referrer, old, name, namespace.as_deref());
                    } else {
                        visit(
                            &mut referrer.object,
                            "webhooks/clientConfig/service",
                            false,
                            &mut |service| retarget(service, old, name, namespace.as_deref()),
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// A reference by plain name: a string, or each string of a list (`resourceNames`), renamed
/// when `pick` knows its new name.
fn rename(value: &mut Json, pick: &dyn Fn(&str) -> Option<String>) {
    match value {
        Json::String(s) => {
            if let Some(new) = pick(s) {
                *s = new;
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|i| rename(i, pick)),
        _ => {}
    }
}

/// A namespace as kustomize compares them: none means `default`.
fn same(namespace: Option<&str>) -> &str {
    namespace.filter(|n| !n.is_empty()).unwrap_or("default")
}

/// A reference by name and namespace (`{name, namespace}`): it matches the object's original
/// name and namespace (an absent namespace meaning `default`), as kustomize matches it, and
/// then follows the object's current name and namespace.
fn retarget(
    reference: &mut Json,
    old: &[(String, Option<String>)],
    name: &str,
    namespace: Option<&str>,
) {
    let Some((original_name, original_namespace)) = old.first() else {
        return;
    };
    let current_name = reference
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let current_namespace = reference
        .get("namespace")
        .and_then(Json::as_str)
        .unwrap_or("default");
    if current_name == original_name
        && current_namespace == original_namespace.as_deref().unwrap_or("default")
    {
        reference["name"] = Json::String(name.to_owned());
        if let Some(namespace) = namespace {
            reference["namespace"] = Json::String(namespace.to_owned());
        }
    }
}

fn retarget_subjects(
    binding: &mut Resource,
    old: &[(String, Option<String>)],
    name: &str,
    namespace: Option<&str>,
) {
    if let Some(Json::Array(subjects)) = binding.object.get_mut("subjects") {
        for subject in subjects
            .iter_mut()
            .filter(|s| s.get("kind").and_then(Json::as_str) == Some("ServiceAccount"))
        {
            retarget(subject, old, name, namespace);
        }
    }
}
