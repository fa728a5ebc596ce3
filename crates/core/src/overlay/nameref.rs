//! Name references: once names have their prefixes, suffixes and hashes, every field that
//! referred to an object by its old name is pointed at its new one (kustomize's back
//! references, api/internal/accumulator/namereferencetransformer.go and
//! api/filters/nameref). Which fields refer to which kinds is the table below; which object a
//! reference means is `select.rs`, kustomize's sieve of candidates.

mod select;

use std::collections::HashMap;

use serde_json::Value as Json;

use super::resource::Resource;
use super::transform::visit;
use super::{Error, OutOfWork, Work};
use select::{Candidates, Reference};

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

/// Referrers of a ConfigMap outside pod specs.
const CONFIG_MAP_ELSEWHERE: &[(&str, &str)] = &[
    ("Node", "spec/configSource/configMap"),
    ("Role", "rules/resourceNames"),
    ("ClusterRole", "rules/resourceNames"),
];

/// Referrers of a Secret outside pod specs.
const SECRET_ELSEWHERE: &[(&str, &str)] = &[
    ("Ingress", "spec/tls/secretName"),
    ("ServiceAccount", "imagePullSecrets/name"),
    ("StorageClass", "parameters/secretName"),
    ("StorageClass", "parameters/adminSecretName"),
    ("StorageClass", "parameters/userSecretName"),
    ("StorageClass", "parameters/secretRef"),
    ("Role", "rules/resourceNames"),
    ("ClusterRole", "rules/resourceNames"),
    ("PersistentVolume", "spec/azureFile/secretName"),
];

/// Each of `paths` below the pod spec of each of `specs`.
fn in_pods(specs: &[(&'static str, &'static str)], paths: &[&str]) -> Vec<(&'static str, String)> {
    specs
        .iter()
        .flat_map(|(k, base)| paths.iter().map(move |p| (*k, format!("{base}/{p}"))))
        .collect()
}

fn fixed(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, p)| (*k, (*p).to_owned())).collect()
}

/// (referrer kind, path) pairs through which an object of `kind` is referred to by name.
fn referrers(kind: &str) -> Vec<(&'static str, String)> {
    match kind {
        "ConfigMap" => {
            let mut refs = in_pods(POD_SPECS, CONFIG_MAP_IN_POD);
            refs.extend(fixed(CONFIG_MAP_ELSEWHERE));
            refs
        }
        "Secret" => {
            let mut refs = in_pods(POD_SPECS, SECRET_IN_POD);
            refs.extend(fixed(SECRET_ELSEWHERE));
            refs
        }
        "ServiceAccount" => {
            let mut refs = in_pods(POD_SPECS_WITH_RC, &["serviceAccountName"]);
            refs.extend(fixed(&[
                ("RoleBinding", "subjects"),
                ("ClusterRoleBinding", "subjects"),
            ]));
            refs
        }
        "Service" => fixed(&[
            ("StatefulSet", "spec/serviceName"),
            ("Ingress", "spec/rules/http/paths/backend/serviceName"),
            ("Ingress", "spec/backend/serviceName"),
            ("Ingress", "spec/rules/http/paths/backend/service/name"),
            ("Ingress", "spec/defaultBackend/service/name"),
            ("APIService", "spec/service/name"),
            (
                "ValidatingWebhookConfiguration",
                "webhooks/clientConfig/service",
            ),
            (
                "MutatingWebhookConfiguration",
                "webhooks/clientConfig/service",
            ),
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
        "ValidatingAdmissionPolicy" => {
            fixed(&[("ValidatingAdmissionPolicyBinding", "spec/policyName")])
        }
        "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet" => {
            fixed(&[("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")])
        }
        _ => Vec::new(),
    }
}

/// The group and version a referral target must have (kustomize's `nameReference` table:
/// an empty one matches any). IngressClass's group is written `networking.k8s.io/v1` there,
/// which no object's group equals, so kustomize never follows an IngressClass rename.
fn target_group_version(kind: &str) -> (Option<&'static str>, Option<&'static str>) {
    match kind {
        "ConfigMap"
        | "Secret"
        | "Service"
        | "ServiceAccount"
        | "PersistentVolumeClaim"
        | "PersistentVolume" => (None, Some("v1")),
        "Role" | "ClusterRole" => (Some("rbac.authorization.k8s.io"), None),
        "StorageClass" => (Some("storage.k8s.io"), Some("v1")),
        "PriorityClass" => (Some("scheduling.k8s.io"), Some("v1")),
        "IngressClass" => (Some("networking.k8s.io/v1"), Some("v1")),
        "ValidatingAdmissionPolicy" => (Some("admissionregistration.k8s.io"), None),
        _ => (None, None),
    }
}

/// Kinds whose renames other objects follow.
const TARGET_KINDS: &[&str] = &[
    "Deployment",
    "ReplicationController",
    "ReplicaSet",
    "StatefulSet",
    "ConfigMap",
    "Secret",
    "Service",
    "Role",
    "ClusterRole",
    "ServiceAccount",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "ValidatingAdmissionPolicy",
];

/// Points every reference to a renamed object at its new name, choosing among the candidates
/// as kustomize does. Spends `work` on every field visited and candidate weighed; stops when
/// it is exhausted.
pub(super) fn fix(resources: &mut [Resource], work: &Work) -> Result<(), Error> {
    let candidates = Candidates::new(resources);
    let mut by_kind: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, resource) in resources.iter().enumerate() {
        // kustomize selects referrers by their original kind
        let kind = resource
            .prev_ids
            .first()
            .map_or_else(|| resource.kind(), |id| id.kind.clone());
        by_kind.entry(kind).or_default().push(i);
    }
    for target in TARGET_KINDS {
        if !candidates.has_kind(target) {
            continue;
        }
        let (group, version) = target_group_version(target);
        for (referrer_kind, path) in referrers(target) {
            for &index in by_kind.get(referrer_kind).map_or(&[][..], Vec::as_slice) {
                let reference = Reference {
                    referrer: index,
                    kind: target,
                    group,
                    version,
                    role_ref: path.ends_with("roleRef/name"),
                };
                fix_field(resources, &candidates, &reference, &path, work)?;
            }
        }
    }
    Ok(())
}

/// Every value at `path` in one referrer: a name, or a `{name, namespace}` mapping.
fn fix_field(
    resources: &mut [Resource],
    candidates: &Candidates,
    reference: &Reference<'_>,
    path: &str,
    work: &Work,
) -> Result<(), Error> {
    let object = &resources[reference.referrer].object;
    let lookup = Lookup {
        candidates,
        reference,
        role_ref: if reference.role_ref {
            select::role_ref(object)
        } else {
            None
        },
        reach: candidates.reachable_from_binding(reference.referrer, object),
    };
    let mut failure = None;
    let mut weighed = 0_usize;
    let visited = visit(
        &mut resources[reference.referrer].object,
        path,
        false,
        &mut |value| {
            if failure.is_none()
                && let Err(ambiguity) = lookup.retarget(value, &mut weighed)
            {
                failure = Some(ambiguity);
            }
        },
    );
    work.spend(1 + visited + weighed)
        .map_err(|OutOfWork| Error::RenamingOutOfWork)?;
    match failure {
        Some(ambiguity) => Err(ambiguity.into_error(&resources[reference.referrer], path)),
        None => Ok(()),
    }
}

/// What one referring field needs to find its object.
struct Lookup<'a> {
    candidates: &'a Candidates,
    reference: &'a Reference<'a>,
    role_ref: Option<(String, String)>,
    reach: select::Reach,
}

impl Lookup<'_> {
    /// Points one reference at the object it means: a plain name is replaced; a mapping gets
    /// the object's name, and its namespace when it has one (kustomize's `setScalar` and
    /// `setMapping`).
    fn retarget(&self, value: &mut Json, weighed: &mut usize) -> Result<(), select::Ambiguity> {
        match value {
            Json::String(name) => {
                let found = self.find(name, None, weighed)?;
                if let Some(found) = found
                    && found.name != *name
                {
                    *name = found.name;
                }
            }
            Json::Object(map) => {
                let Some(Json::String(name)) = map.get("name").cloned() else {
                    return Ok(());
                };
                let namespace = map.get("namespace").map(|ns| match ns {
                    Json::String(ns) => ns.clone(),
                    _ => String::new(),
                });
                let Some(found) = self.find(&name, Some(namespace.as_deref()), weighed)? else {
                    return Ok(());
                };
                if found.name == name && found.namespace.is_empty() {
                    return Ok(());
                }
                map.insert("name".to_owned(), Json::String(found.name));
                if !found.namespace.is_empty() {
                    map.insert("namespace".to_owned(), Json::String(found.namespace));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn find(
        &self,
        name: &str,
        mapping: Option<Option<&str>>,
        weighed: &mut usize,
    ) -> Result<Option<select::Found>, select::Ambiguity> {
        self.candidates.select(
            self.reference,
            self.role_ref.as_ref(),
            &self.reach,
            name,
            mapping,
            weighed,
        )
    }
}
