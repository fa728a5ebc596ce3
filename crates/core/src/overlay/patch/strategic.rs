//! Strategic merge: a patch merged into an object as kustomize merges built-in kinds (keyed
//! lists merged by their key, `$patch` directives), custom resources' lists replaced.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::super::resource::Resource;
use super::super::scalars::{Scalar, escape, styled_below};
use super::super::{OutOfWork, Work};

/// What a merge reads and keeps up to date besides the two values.
struct Merge<'a> {
    builtin: bool,
    kind: &'a str,
    work: &'a Work,
    /// The object's styled scalars (see `overlay/scalars.rs`), kept as kyaml keeps styles.
    styled: BTreeSet<String>,
    /// The patch's scalars as written.
    scalars: &'a BTreeMap<String, Scalar>,
}

/// Applies a strategic-merge patch; returns true when the patch deletes the whole resource.
/// Merging keyed lists spends `work`; a merge that exhausts it stops part way, and the object
/// is then of no further use.
pub(super) fn strategic_patch(
    resource: &mut Resource,
    patch: &Json,
    scalars: &BTreeMap<String, Scalar>,
    work: &Work,
) -> Result<bool, OutOfWork> {
    if patch.get("$patch").and_then(Json::as_str) == Some("delete") {
        return Ok(true);
    }
    let builtin = is_builtin(&resource.group_version().0);
    let kind = resource.kind();
    let before = resource.alias_values();
    for pointer in std::mem::take(&mut resource.empty_nulls) {
        drop_empty_null(&mut resource.object, &pointer, builtin, &kind);
    }
    let mut state = Merge {
        builtin,
        kind: &kind,
        work,
        styled: std::mem::take(&mut resource.styled),
        scalars,
    };
    let merged = merge(&mut resource.object, patch, &mut state, "");
    resource.styled = state.styled;
    merged?;
    resource.spread_alias_changes(&before, true);
    Ok(false)
}

impl Merge<'_> {
    /// Sets a scalar from the patch at `key` of a mapping at `path`, as kyaml's `FieldSetter`:
    /// where a value was, the new one takes its style, and a non-string patched over a styled
    /// value becomes a string with the patch's text; a new value keeps the patch's style.
    fn set_scalar(
        &mut self,
        map: &mut serde_json::Map<String, Json>,
        key: &str,
        value: &Json,
        path: &str,
    ) {
        let patch = self.scalars.get(path);
        let value = match map.get(key) {
            Some(_) if self.styled.contains(path) => match (value, patch) {
                (Json::String(_), _) | (_, None) => value.clone(),
                (_, Some(written)) => Json::String(written.text.clone()),
            },
            Some(_) => {
                self.forget(path);
                value.clone()
            }
            None => {
                if patch.is_some_and(|p| p.styled) {
                    self.styled.insert(path.to_owned());
                }
                value.clone()
            }
        };
        map.insert(key.to_owned(), value);
    }

    /// Forgets the styles at and below `path` (a value replaced or removed).
    fn forget(&mut self, path: &str) {
        let below = format!("{path}/");
        self.styled.retain(|p| p != path && !p.starts_with(&below));
    }

    /// A value copied from the patch at `path`: its styled scalars are the patch's.
    fn take_patch_styles(&mut self, path: &str) {
        self.forget(path);
        for rest in styled_below(self.scalars, path) {
            self.styled.insert(format!("{path}{rest}"));
        }
    }
}

/// Built-in Kubernetes groups, whose lists merge by key; custom resources replace lists.
fn is_builtin(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

/// kyaml's merge walks every mapping of the object, and the items of lists it merges by key,
/// and drops on the way each value written as nothing (`key:`, not `key: null`) that the patch
/// does not set (kyaml/yaml/merge2 `VisitMap`, `FieldSetter`). Dropping it before the merge
/// comes to the same, as the patch then adds what it sets.
fn drop_empty_null(object: &mut Json, pointer: &str, builtin: bool, kind: &str) {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, walk)) = segments.split_last() else {
        return;
    };
    let mut node = object;
    // the path without list indices, as `merge_key` reads it
    let mut path = String::new();
    for segment in walk {
        node = match node {
            Json::Object(map) => {
                let parent = std::mem::take(&mut path);
                path = format!("{parent}/{segment}");
                let Some(child) = map.get_mut(segment.as_str()) else {
                    return;
                };
                if child.is_array() && !(builtin && merge_key(kind, &parent, segment).is_some()) {
                    return;
                }
                child
            }
            Json::Array(items) => {
                match segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(item) => item,
                    None => return,
                }
            }
            _ => return,
        };
    }
    if let Json::Object(map) = node
        && map.get(last.as_str()).is_some_and(Json::is_null)
    {
        map.remove(last.as_str());
    }
}

/// The merge key of the list at `key` (under `parent`), for built-in kinds.
fn merge_key(kind: &str, parent_path: &str, key: &str) -> Option<&'static str> {
    Some(match key {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "ports" if kind == "Service" && parent_path == "/spec" => "port",
        "ports" => "containerPort",
        "conditions" => "type",
        _ => return None,
    })
}

/// Merges `patch` into `target` at `path` (a JSON pointer; inside a keyed list the path skips
/// the item's index, so no style is found or kept there).
fn merge(
    target: &mut Json,
    patch: &Json,
    state: &mut Merge<'_>,
    path: &str,
) -> Result<(), OutOfWork> {
    let (Json::Object(target_map), Json::Object(patch_map)) = (&mut *target, patch) else {
        *target = patch.clone();
        state.take_patch_styles(path);
        return Ok(());
    };
    if patch_map.get("$patch").and_then(Json::as_str) == Some("replace") {
        let mut replacement = patch_map.clone();
        replacement.remove("$patch");
        *target_map = replacement;
        state.take_patch_styles(path);
        return Ok(());
    }
    for (key, value) in patch_map {
        if key.starts_with('$') {
            continue;
        }
        let child_path = format!("{path}/{}", escape(key));
        if value.is_null() {
            target_map.remove(key);
            state.forget(&child_path);
            continue;
        }
        match (target_map.get_mut(key), value) {
            (Some(existing @ Json::Object(_)), Json::Object(_)) => {
                merge(existing, value, state, &child_path)?;
            }
            (Some(Json::Array(existing)), Json::Array(items)) if state.builtin => {
                state.forget(&child_path);
                if let Some(merge_key) = merge_key(state.kind, path, key) {
                    merge_list(existing, items, merge_key, state, &child_path)?;
                } else {
                    *existing = strip_directives(items);
                    state.take_patch_styles(&child_path);
                }
            }
            (_, Json::Object(_) | Json::Array(_)) => {
                target_map.insert(key.clone(), strip(value));
                state.take_patch_styles(&child_path);
            }
            (_, value) => state.set_scalar(target_map, key, value, &child_path),
        }
    }
    Ok(())
}

/// Merges a keyed list: items of the patch first, in its order, then the rest of the original.
fn merge_list(
    existing: &mut Vec<Json>,
    items: &[Json],
    key: &str,
    state: &mut Merge<'_>,
    path: &str,
) -> Result<(), OutOfWork> {
    if items
        .first()
        .and_then(|i| i.get("$patch"))
        .and_then(Json::as_str)
        == Some("replace")
    {
        *existing = strip_directives(&items[1..]);
        return Ok(());
    }
    let mut merged = Vec::new();
    let mut rest = existing.clone();
    for item in items {
        // finding the entry to merge with compares with every one left
        state.work.spend(1 + rest.len())?;
        let id = item.get(key).cloned();
        let mut position = id
            .as_ref()
            .and_then(|id| rest.iter().position(|e| e.get(key) == Some(id)));
        if key == "containerPort" {
            // Container ports are keyed by port and protocol. kustomize drops a patch entry that
            // names a protocol where the entry with the same port names none.
            if let Some(protocol) = item.get("protocol") {
                let exact = rest
                    .iter()
                    .position(|e| e.get(key) == id.as_ref() && e.get("protocol") == Some(protocol));
                let unnamed = rest
                    .iter()
                    .any(|e| e.get(key) == id.as_ref() && e.get("protocol").is_none());
                if exact.is_none() && unnamed {
                    continue;
                }
                position = exact;
            }
        }
        if item.get("$patch").and_then(Json::as_str) == Some("delete") {
            if let Some(position) = position {
                rest.remove(position);
            }
            continue;
        }
        match position {
            Some(position) => {
                let mut original = rest.remove(position);
                merge(&mut original, item, state, path)?;
                merged.push(original);
            }
            None => merged.push(strip(item)),
        }
    }
    merged.extend(rest);
    *existing = merged;
    Ok(())
}

fn strip_directives(items: &[Json]) -> Vec<Json> {
    items
        .iter()
        .filter(|i| i.get("$patch").is_none())
        .map(strip)
        .collect()
}

/// A patch value without `$patch` directives and null entries, as it lands in the object.
fn strip(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}
