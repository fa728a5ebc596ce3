//! Kubernetes objects of two renders, matched by identity, and the field paths that changed.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Files, Status};
use crate::json_tree::JsonTree;
use crate::source::SourceFile;
use crate::yaml;

/// apiVersion, kind, namespace and name: what makes an object the same object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectId {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

pub type ObjectStatus = Status;

#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted path; list items by `[name=x]` where items have names, else `[i]`.
    pub path: String,
    pub old: Option<Json>,
    pub new: Option<Json>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectChange {
    pub id: ObjectId,
    pub status: Status,
    /// The file the object is in (the new one when it moved).
    pub file: String,
    /// For a change: every field that differs; values of Secrets are left out.
    pub fields: Vec<FieldChange>,
}

/// Every Kubernetes object in the files of `files` that differ from `other`, by identity, with
/// its file. An object in a file both sides hold byte for byte cannot have changed, and one
/// that moved sits in differing files on both sides, so only those need reading.
fn index(files: &Files, other: &Files) -> BTreeMap<ObjectId, (String, Json)> {
    let mut objects = BTreeMap::new();
    for (path, bytes) in files
        .iter()
        .filter(|(path, bytes)| other.get(*path) != Some(*bytes))
    {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let (documents, diagnostics) =
            yaml::parse_stream(&SourceFile::new(path.as_str(), text.as_ref()));
        if !diagnostics.is_empty() {
            continue;
        }
        for document in &documents {
            let value = JsonTree::new(path, document).value;
            // The encrypted secrets file is compared by key name only, never as an object:
            // its fields are ciphertext.
            if value.get("sops").is_some() {
                continue;
            }
            // An object rendered twice (Flux's HelmChart, in Flux's path and as k3s' first-boot
            // copy) is shown once, at its first path: `clusters/` sorts before `hosts/`.
            if let Some(id) = identity(&value) {
                objects.entry(id).or_insert((path.clone(), value));
            }
        }
    }
    objects
}

fn identity(value: &Json) -> Option<ObjectId> {
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    Some(ObjectId {
        api_version: text("/apiVersion")?,
        kind: text("/kind")?,
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name")?,
    })
}

pub(super) fn compare(old: &Files, new: &Files) -> Vec<ObjectChange> {
    let (before, after) = (index(old, new), index(new, old));
    let ids: std::collections::BTreeSet<&ObjectId> = before.keys().chain(after.keys()).collect();
    let mut changes = Vec::new();
    for id in ids {
        let change = match (before.get(id), after.get(id)) {
            (None, Some((file, _))) => ObjectChange {
                id: id.clone(),
                status: Status::Added,
                file: file.clone(),
                fields: Vec::new(),
            },
            (Some((file, _)), None) => ObjectChange {
                id: id.clone(),
                status: Status::Removed,
                file: file.clone(),
                fields: Vec::new(),
            },
            (Some((_, a)), Some((file, b))) if a != b => {
                let mut fields = Vec::new();
                fields_of(a, b, String::new(), &mut fields);
                if id.kind == "Secret" {
                    for field in &mut fields {
                        if field.path.starts_with("data") || field.path.starts_with("stringData") {
                            // Rendered Secrets hold references, but a Secret's values are never shown.
                            field.old = field.old.as_ref().map(|_| Json::String("…".to_owned()));
                            field.new = field.new.as_ref().map(|_| Json::String("…".to_owned()));
                        }
                    }
                }
                ObjectChange {
                    id: id.clone(),
                    status: Status::Changed,
                    file: file.clone(),
                    fields,
                }
            }
            _ => continue,
        };
        changes.push(change);
    }
    changes
}

fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!(
            "{parent}[{}]",
            serde_json::to_string(key).expect("a string serialises")
        ),
    }
}

/// Items are matched by `name` when every item of both lists has a distinct one.
fn names(items: &[Json]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|i| i.get("name").and_then(Json::as_str))
        .collect::<Option<_>>()?;
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    (unique.len() == names.len()).then_some(names)
}

fn fields_of(old: &Json, new: &Json, path: String, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    Some(other) => fields_of(value, other, key_path(&path, key), out),
                    None => out.push(FieldChange {
                        path: key_path(&path, key),
                        old: Some(value.clone()),
                        new: None,
                    }),
                }
            }
            for (key, value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push(FieldChange {
                    path: key_path(&path, key),
                    old: None,
                    new: Some(value.clone()),
                });
            }
        }
        (Json::Array(a), Json::Array(b)) => match (names(a), names(b)) {
            (Some(old_names), Some(new_names)) => {
                for (item, name) in a.iter().zip(&old_names) {
                    let item_path = format!("{path}[name={name}]");
                    match new_names.iter().position(|n| n == name) {
                        Some(j) => fields_of(item, &b[j], item_path, out),
                        None => out.push(FieldChange {
                            path: item_path,
                            old: Some(item.clone()),
                            new: None,
                        }),
                    }
                }
                for (item, name) in b
                    .iter()
                    .zip(&new_names)
                    .filter(|(_, n)| !old_names.contains(n))
                {
                    out.push(FieldChange {
                        path: format!("{path}[name={name}]"),
                        old: None,
                        new: Some(item.clone()),
                    });
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    let item_path = format!("{path}[{i}]");
                    match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => fields_of(x, y, item_path, out),
                        (x, y) => out.push(FieldChange {
                            path: item_path,
                            old: x.cloned(),
                            new: y.cloned(),
                        }),
                    }
                }
            }
        },
        (a, b) if a != b => out.push(FieldChange {
            path,
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
        _ => {}
    }
}
