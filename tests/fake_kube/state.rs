//! The fake's state: stored objects, counters, faults, recorded requests; and the one way
//! objects are written (`store`), shared by applies, the simulated Flux and `add`.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::flux::Controllers;
use super::kinds::{self, KINDS, Key, Route};
use super::{KubeFaults, KubeRequest};

/// Every object's `creationTimestamp`.
pub(super) const CREATED: &str = "2025-01-01T00:00:00Z";

/// Namespaces a fresh k3s cluster has.
const NAMESPACES: &[&str] = &["default", "kube-node-lease", "kube-public", "kube-system"];

pub(super) struct State {
    pub(super) faults: KubeFaults,
    pub(super) requests: Vec<KubeRequest>,
    pub(super) objects: BTreeMap<Key, Value>,
    /// Objects stored with `add`, which the simulated controllers leave alone.
    pub(super) added: BTreeSet<Key>,
    /// The cluster-wide resourceVersion: the last write's.
    pub(super) resource_version: u64,
    /// The resourceVersion each object was created at (a watch's `ADDED` or `MODIFIED`).
    pub(super) born: BTreeMap<Key, u64>,
    uids: u64,
    /// Requests since the faults were set, for `server_error_every`.
    pub(super) served: u32,
    /// Flux discovery GETs answered 404 so far.
    pub(super) discovery_misses: u32,
    pub(super) installed: bool,
    pub(super) flux: Controllers,
}

/// A refusal, answered as a Status: HTTP status, reason, message, details (if any).
pub(super) struct Refusal {
    pub(super) code: u16,
    pub(super) reason: &'static str,
    pub(super) message: String,
    pub(super) details: Option<Value>,
}

impl Refusal {
    pub(super) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// The object `key` names is not there.
    pub(super) fn not_found(key: &Key) -> Refusal {
        let kind = key.kind();
        let mut details = json!({"name": key.name});
        if !kind.group.is_empty() {
            details["group"] = json!(kind.group);
        }
        details["kind"] = json!(kind.plural);
        Refusal {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{}\" not found", kind.resource(), key.name),
            details: Some(details),
        }
    }

    /// A path the server does not serve (or a Flux path before Flux is installed).
    pub(super) fn no_resource() -> Refusal {
        Refusal {
            details: Some(json!({})),
            ..Refusal::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    /// The Status object of this refusal.
    pub(super) fn body(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status["code"] = json!(self.code);
        status
    }
}

impl State {
    pub(super) fn new(faults: KubeFaults) -> State {
        let mut state = State {
            faults,
            requests: Vec::new(),
            objects: BTreeMap::new(),
            added: BTreeSet::new(),
            resource_version: 100,
            born: BTreeMap::new(),
            uids: 0,
            served: 0,
            discovery_misses: 0,
            installed: false,
            flux: Controllers::new(),
        };
        for name in NAMESPACES {
            state.create_namespace(name);
        }
        state.install_if_due();
        state
    }

    pub(super) fn set_faults(&mut self, faults: KubeFaults) {
        self.faults = faults;
        self.served = 0;
        self.install_if_due();
    }

    /// Flux counts as installed once `flux_installed_after` discovery GETs were refused; then
    /// its namespace exists.
    pub(super) fn install_if_due(&mut self) {
        if !self.installed && self.discovery_misses >= self.faults.flux_installed_after {
            self.installed = true;
            self.create_namespace("flux-system");
        }
    }

    fn create_namespace(&mut self, name: &str) {
        let key = Key::new(kinds::NAMESPACE, "", name);
        if !self.objects.contains_key(&key) {
            let applied =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            self.store(&key, &as_map(&applied));
        }
    }

    pub(super) fn next_resource_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Whether the namespace exists (always for cluster-scoped objects).
    pub(super) fn namespace_exists(&self, namespace: &str) -> bool {
        self.objects
            .contains_key(&Key::new(kinds::NAMESPACE, "", namespace))
    }

    /// Writes what an apply sets: creates the object (uid, resourceVersion, generation,
    /// creationTimestamp, and what the real server defaults), or merges into the stored one
    /// (the top-level fields set replace the stored ones; labels and annotations if set;
    /// status and the rest of metadata stay). Generation bumps when anything but metadata and
    /// status changed, resourceVersion when anything changed. Returns whether it created,
    /// and the stored object. `applied` must be normalized (`normalize`).
    pub(super) fn store(&mut self, key: &Key, applied: &Map<String, Value>) -> (bool, Value) {
        let kind = key.kind();
        let given = applied.get("metadata").and_then(Value::as_object);
        let labels = given.and_then(|m| m.get("labels")).cloned();
        let annotations = given.and_then(|m| m.get("annotations")).cloned();
        let Some(old) = self.objects.get(key).cloned() else {
            self.uids += 1;
            let mut metadata = Map::new();
            metadata.insert("name".into(), json!(key.name));
            if kind.namespaced {
                metadata.insert("namespace".into(), json!(key.namespace));
            }
            metadata.insert(
                "uid".into(),
                json!(format!("6b756265-0000-4000-8000-{:012x}", self.uids)),
            );
            metadata.insert(
                "resourceVersion".into(),
                json!(self.next_resource_version()),
            );
            if kind.has_generation() {
                metadata.insert("generation".into(), json!(1));
            }
            metadata.insert("creationTimestamp".into(), json!(CREATED));
            let mut labels = labels.unwrap_or_else(|| json!({}));
            if key.kind == kinds::NAMESPACE {
                labels["kubernetes.io/metadata.name"] = json!(key.name);
            }
            if labels.as_object().is_some_and(|l| !l.is_empty()) {
                metadata.insert("labels".into(), labels);
            }
            if let Some(annotations) = annotations {
                metadata.insert("annotations".into(), annotations);
            }
            let mut object = Map::new();
            object.insert("apiVersion".into(), json!(kind.api_version()));
            object.insert("kind".into(), json!(kind.kind));
            object.insert("metadata".into(), Value::Object(metadata));
            for (field, value) in fields(applied) {
                object.insert(field.clone(), value.clone());
            }
            match kind.kind {
                "Namespace" => {
                    object
                        .entry("spec")
                        .or_insert_with(|| json!({"finalizers": ["kubernetes"]}));
                    object.insert("status".into(), json!({"phase": "Active"}));
                }
                "Secret" => {
                    object.entry("type").or_insert_with(|| json!("Opaque"));
                }
                _ => {}
            }
            let object = Value::Object(object);
            self.born.insert(key.clone(), self.resource_version);
            self.objects.insert(key.clone(), object.clone());
            return (true, object);
        };
        let mut new = old.clone();
        for (field, value) in fields(applied) {
            new[field] = value.clone();
        }
        if let Some(mut labels) = labels {
            if key.kind == kinds::NAMESPACE {
                labels["kubernetes.io/metadata.name"] = json!(key.name);
            }
            new["metadata"]["labels"] = labels;
        }
        if let Some(annotations) = annotations {
            new["metadata"]["annotations"] = annotations;
        }
        if kind.has_generation() && content(&old) != content(&new) {
            let generation = old["metadata"]["generation"].as_u64().unwrap_or(0);
            new["metadata"]["generation"] = json!(generation + 1);
        }
        if new != old {
            new["metadata"]["resourceVersion"] = json!(self.next_resource_version());
            self.objects.insert(key.clone(), new.clone());
        }
        (false, new)
    }

    /// Replaces a stored object's status (a controller's write); bumps resourceVersion if it
    /// changed.
    pub(super) fn set_status(&mut self, key: &Key, status: Value) {
        let Some(object) = self.objects.get(key) else {
            return;
        };
        if object.get("status") == Some(&status) {
            return;
        }
        let resource_version = self.next_resource_version();
        if let Some(object) = self.objects.get_mut(key) {
            object["status"] = status;
            object["metadata"]["resourceVersion"] = json!(resource_version);
        }
    }

    /// The stored object at an API path.
    pub(super) fn object(&self, path: &str) -> Option<Value> {
        match kinds::route(path)? {
            Route::Object(key) => self.objects.get(&key).cloned(),
            _ => None,
        }
    }

    pub(super) fn add(&mut self, mut object: Value) {
        let key = key_of(&object, "default").unwrap_or_else(|e| panic!("add: {e}: {object}"));
        let kind = key.kind();
        let metadata = &mut object["metadata"];
        if kind.namespaced {
            metadata["namespace"] = json!(key.namespace);
        }
        if metadata.get("uid").is_none() {
            self.uids += 1;
            metadata["uid"] = json!(format!("6b756265-0000-4000-8000-{:012x}", self.uids));
        }
        if metadata.get("generation").is_none() && kind.has_generation() {
            metadata["generation"] = json!(1);
        }
        if metadata.get("creationTimestamp").is_none() {
            metadata["creationTimestamp"] = json!(CREATED);
        }
        self.resource_version += 1;
        if metadata.get("resourceVersion").is_none() {
            metadata["resourceVersion"] = json!(self.resource_version.to_string());
        }
        self.added.insert(key.clone());
        self.born.insert(key.clone(), self.resource_version);
        self.objects.insert(key, object);
    }

    pub(super) fn set_children(&mut self, objects: Vec<Value>) {
        for object in &objects {
            let key = key_of(object, "flux-system")
                .unwrap_or_else(|e| panic!("set_children: {e}: {object}"));
            if let Err(refusal) = normalize(&key, object) {
                panic!("set_children: {}: {object}", refusal.message);
            }
        }
        self.flux.children = objects;
    }

    pub(super) fn set_revision(&mut self, sha: &str) {
        sha.clone_into(&mut self.flux.revision);
    }
}

/// The object's place: its kind from apiVersion and kind, its namespace (`default_namespace`
/// if a namespaced object names none), its name.
pub(super) fn key_of(object: &Value, default_namespace: &str) -> Result<Key, String> {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let kind_name = object["kind"].as_str().unwrap_or("");
    let kind = kinds::by_type(api_version, kind_name)
        .ok_or_else(|| format!("no kind {kind_name} in {api_version} in the fake"))?;
    let name = object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or("no metadata.name")?;
    let namespace = if KINDS[kind].namespaced {
        object["metadata"]["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or(default_namespace)
    } else {
        ""
    };
    Ok(Key::new(kind, namespace, name))
}

/// An applied object as the server stores it: status dropped (a subresource), metadata
/// reduced to name, namespace, labels and annotations, and for Secrets `stringData` merged
/// into `data` base64-encoded (and `data` checked to be base64).
pub(super) fn normalize(key: &Key, object: &Value) -> Result<Map<String, Value>, Refusal> {
    let mut applied = as_map(object);
    applied.remove("status");
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(key.name));
    for field in ["labels", "annotations"] {
        if let Some(value) = object["metadata"].get(field) {
            if !value.is_object() {
                return Err(Refusal::new(
                    400,
                    "BadRequest",
                    format!("metadata.{field}: expected a map, got {value}"),
                ));
            }
            metadata.insert(field.into(), value.clone());
        }
    }
    applied.insert("metadata".into(), Value::Object(metadata));
    if key.kind().kind == "Secret" {
        let mut data = match applied.remove("data") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(data)) => data,
            Some(other) => return Err(secret_decoding(format!("data: not a map: {other}"))),
        };
        for (name, value) in &data {
            let text = value.as_str().unwrap_or("\u{0}");
            if STANDARD.decode(text).is_err() {
                return Err(secret_decoding(format!(
                    "illegal base64 data in data[{name:?}]"
                )));
            }
        }
        match applied.remove("stringData") {
            None | Some(Value::Null) => {}
            Some(Value::Object(strings)) => {
                for (name, value) in strings {
                    let Some(text) = value.as_str() else {
                        return Err(secret_decoding(format!(
                            "stringData[{name:?}]: not a string"
                        )));
                    };
                    data.insert(name, json!(STANDARD.encode(text)));
                }
            }
            Some(other) => {
                return Err(secret_decoding(format!("stringData: not a map: {other}")));
            }
        }
        if !data.is_empty() {
            applied.insert("data".into(), Value::Object(data));
        }
    }
    Ok(applied)
}

fn secret_decoding(detail: String) -> Refusal {
    Refusal::new(
        400,
        "BadRequest",
        format!("Secret in version \"v1\" cannot be handled as a Secret: {detail}"),
    )
}

pub(super) fn as_map(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// The top-level fields an apply sets, but for type and metadata.
fn fields(applied: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    applied
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"))
}

/// What counts for `generation`: everything but metadata and status.
fn content(object: &Value) -> Map<String, Value> {
    let mut map = as_map(object);
    map.remove("metadata");
    map.remove("status");
    map
}
