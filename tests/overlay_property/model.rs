//! The model of the objects: what the generator knows of each object as the next patch will
//! see it, and the names and keys a case draws from.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::random::Rng;

/// What the generator knows of one object as the next patch will see it: enough to write only
/// patches that reach it, and JSON 6902 operations whose paths exist.
#[derive(Clone, Debug)]
pub(super) struct Known {
    pub(super) api_version: String,
    pub(super) kind: String,
    /// The name it was written or generated with; patches, replicas find it by this name.
    pub(super) name: String,
    /// The namespace it was written with: a patch that names the object must name it too.
    pub(super) namespace: Option<String>,
    /// The namespace as the next kustomization up receives it.
    pub(super) current_namespace: Option<String>,
    /// The name as the next kustomization up receives it (prefixes and suffixes below applied).
    pub(super) current: String,
    /// The `app` label, which label selectors select on (no transformer ever writes `app`).
    pub(super) app: Option<String>,
    pub(super) labels: bool,
    pub(super) annotations: bool,
    pub(super) generated: bool,
    /// Deployment: container names, in order: JSON 6902 operations address the first one.
    pub(super) containers: Vec<String>,
    /// Deployment: the env names of each container that has an `env` list. A strategic merge
    /// never deletes the last entry, so a list once there stays.
    pub(super) env: BTreeMap<String, Vec<String>>,
    /// ConfigMap: data keys.
    pub(super) data: Vec<String>,
    /// Widget: the value of `spec.reserved`, which only `test` operations read.
    pub(super) reserved: Option<String>,
    /// Widget: whether `spec.removable` and `spec.nested.deep` are still there.
    pub(super) removable: bool,
    pub(super) nested: bool,
}

impl Known {
    pub(super) fn of(object: &Value, generated: bool) -> Known {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let names = |items: Option<&Value>| -> Vec<String> {
            items
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = object
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let name = text("/metadata/name").expect("a name");
        Known {
            api_version: text("/apiVersion").expect("an apiVersion"),
            kind: text("/kind").expect("a kind"),
            current: name.clone(),
            name,
            namespace: text("/metadata/namespace"),
            current_namespace: text("/metadata/namespace"),
            app: text("/metadata/labels/app"),
            labels: object.pointer("/metadata/labels").is_some(),
            annotations: object.pointer("/metadata/annotations").is_some(),
            generated,
            containers: names(object.pointer("/spec/template/spec/containers")),
            env: containers
                .iter()
                .filter(|c| c.get("env").is_some())
                .map(|c| {
                    let name = c["name"].as_str().expect("a container name").to_owned();
                    (name, names(c.get("env")))
                })
                .collect(),
            data: object
                .get("data")
                .and_then(Value::as_object)
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default(),
            reserved: text("/spec/reserved"),
            removable: object.pointer("/spec/removable").is_some(),
            nested: object.pointer("/spec/nested/deep").is_some(),
        }
    }

    /// `metadata` naming this object for a patch without a target: kustomize matches the
    /// namespace too (a missing one is `default`).
    pub(super) fn identity(&self, name: &str, rng: &mut Rng) -> Value {
        // The original name goes with the original namespace, the current with the current.
        let namespace = if name == self.name {
            &self.namespace
        } else {
            &self.current_namespace
        };
        match namespace.as_deref() {
            Some("default") if rng.chance(50) => json!({"name": name}),
            Some(namespace) => json!({"name": name, "namespace": namespace}),
            None => json!({"name": name}),
        }
    }

    pub(super) fn group_version(&self) -> (&str, &str) {
        self.api_version
            .rsplit_once('/')
            .unwrap_or(("", &self.api_version))
    }
}

pub(super) const APPS: &[&str] = &["web", "api", "worker"];
pub(super) const SIDECARS: &[&str] = &["proxy", "logger", "metrics"];
pub(super) const ENV_NAMES: &[&str] = &[
    "LOG_LEVEL",
    "GREETING",
    "MODE",
    "EMPTY",
    "PORT",
    "DESCRIPTION",
];
/// Data keys; some differ only in a number, which kustomize's YAML writer sorts numerically.
pub(super) const DATA_KEYS: &[&str] = &[
    "greeting",
    "level",
    "motd",
    "app.properties",
    "numbers",
    "EMPTY",
    "file9.txt",
    "file10.txt",
    "_hidden",
];
pub(super) const LABEL_KEYS: &[&str] = &[
    "env",
    "tier",
    "team",
    "app.kubernetes.io/part-of",
    "example.com/owner",
];
pub(super) const ANNOTATION_KEYS: &[&str] = &[
    "description",
    "example.com/contact",
    "checksum",
    "team.example.org/notes",
];
pub(super) const NAMESPACES: &[&str] = &["prod", "team-a", "staging-eu"];
pub(super) const PREFIXES: &[&str] = &["p-", "prod-", "x1-"];
pub(super) const SUFFIXES: &[&str] = &["-v2", "-blue", "-x"];
pub(super) const CONFIG_MAP_GENERATORS: &[&str] = &["app-config", "env-vars"];
pub(super) const SECRET_GENERATORS: &[&str] = &["credentials", "tokens"];
pub(super) const LITERAL_KEYS: &[&str] = &[
    "LOG_LEVEL",
    "GREETING",
    "MODE",
    "EMPTY",
    "db.host",
    "feature-flag",
    "unicode_text",
    "long_text",
    "PORT_9",
    "PORT_10",
];
pub(super) const RESOURCE_FILES: &[&str] = &[
    "deployment.yaml",
    "service.yaml",
    "rbac.yml",
    "config.yaml",
    "widgets.yaml",
    "all.yaml",
];
pub(super) const IMAGE_TAGS: &[&str] = &["1.36", "1.10", "v2.0.1", "latest", "2024-01-15", "1"];
pub(super) const IMAGE_NEW_NAMES: &[&str] = &[
    "mirror.example.com/library/nginx",
    "registry.local:5000/team/app",
    "busybox",
];

/// Kinds a `$patch: delete` may remove: nothing else in the generator depends on them.
pub(super) const DELETABLE: &[&str] = &[
    "Service",
    "Ingress",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "Widget",
    "ConfigMap",
    "Namespace",
];
