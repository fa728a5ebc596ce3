//! Patches: strategic merge and JSON 6902, inline or from files, with `target` selectors
//! (formats.md §5.c, §5.d).

use serde_json::{Map, Value as Json};

use super::kustomization::Kustomization;
use super::resource::{Resource, is_cluster_scoped, split_api_version, str_at};
use super::{Engine, KEEP, Work, regex, too_much_work, weight};
use crate::core::diagnostic::Diagnostic;
use crate::core::json_tree::JsonTree;
use crate::core::limits::MAX_OBJECT_DEPTH;
use crate::core::source::{SourceFile, Span};
use crate::core::yaml;

/// One patch as written, with where it was written.
struct Patch {
    documents: Vec<Json>,
    /// Where each document (strategic merge) or each operation (JSON 6902) is written: file
    /// and span in that file's own coordinates, inline patches mapped into the kustomization.
    locations: Vec<(String, Span)>,
    /// The pointer of the entry in the kustomization, for messages.
    pointer: String,
    is_json6902: bool,
}

/// Reads a patch from `patch:` text or a `path:` file.
fn read_patch(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    pointer: &str,
    inline: Option<&str>,
    path: Option<&str>,
) -> Result<Patch, Vec<Diagnostic>> {
    let (name, text) = match (inline, path) {
        (Some(text), _) => (format!("{}#inline", kustomization.path), text.to_owned()),
        (None, Some(path)) => {
            let full = engine
                .locate(&kustomization.dir, path, true)
                .map_err(|why| {
                    vec![kustomization
                        .error(pointer, why)
                        .expected("a patch file in or below the kustomization's directory")
                        .hint("as with kustomize, patch files come from the kustomization's own directory")]
                })?;
            let text = engine
                .read(&full)
                .map_err(|why| {
                    kustomization
                        .error(pointer, format!("cannot read patch `{path}`: {why}"))
                        .expected("a patch file relative to the kustomization")
                        .hint("check the path")
                })
                .map_err(|e| vec![e])?;
            (full, text)
        }
        (None, None) => {
            return Err(vec![
                kustomization.error(pointer, "a patch needs `patch` or `path`"),
            ]);
        }
    };
    let file = SourceFile::new(name.clone(), text);
    let (documents, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.into_iter().next() {
        let (line, column) = file.line_col(first.span.start);
        return Err(vec![kustomization.error(
            pointer,
            format!(
                "the patch is not valid YAML (line {line}, column {column}): {}",
                first.message
            ),
        )]);
    }
    let nodes: Vec<&yaml::Node> = documents
        .iter()
        .filter(|d| d.value != yaml::Value::Null)
        .collect();
    let is_json6902 = nodes
        .first()
        .is_some_and(|d| matches!(d.value, yaml::Value::Seq(_)));
    let spans: Vec<Span> = match (is_json6902, nodes.first()) {
        (
            true,
            Some(yaml::Node {
                value: yaml::Value::Seq(items),
                ..
            }),
        ) => items.iter().map(|item| item.span).collect(),
        _ => nodes.iter().map(|d| d.span).collect(),
    };
    let locations: Vec<(String, Span)> = spans
        .into_iter()
        .map(|span| match inline {
            Some(_) => {
                let source = engine
                    .texts
                    .get(&kustomization.path)
                    .map_or("", String::as_str);
                let block = kustomization.tree.value_span(&format!(
                    "{pointer}{}",
                    if pointer.starts_with("/patchesStrategicMerge") {
                        ""
                    } else {
                        "/patch"
                    }
                ));
                let at = inline_offset(source, block, &file.text, span.start);
                (kustomization.path.clone(), Span::new(at, at))
            }
            None => (name.clone(), Span::new(span.start, span.start)),
        })
        .collect();
    // A strategic-merge patch merges into the object, so it must be a mapping too; anything
    // else would replace the whole object.
    if !is_json6902 {
        let not_a_map = nodes
            .iter()
            .zip(&locations)
            .find(|(d, _)| !matches!(d.value, yaml::Value::Map(_)));
        if let Some((node, (file, span))) = not_a_map {
            let found = yaml::type_name(&node.value);
            let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(vec![
                Diagnostic::error(
                    file,
                    *span,
                    "",
                    format!("a strategic-merge patch is a mapping, not {article} {found}"),
                )
                .expected("a mapping of the fields to change, or a list of JSON 6902 operations")
                .hint("start the patch with the object's fields (`metadata:`, `spec:`) or with `- op:`"),
            ]);
        }
    }
    let documents: Vec<Json> = nodes
        .iter()
        .map(|d| JsonTree::new(&name, d).value)
        .collect();
    Ok(Patch {
        documents,
        locations,
        pointer: pointer.to_owned(),
        is_json6902,
    })
}

/// A target as one line: `Deployment web-.* in prod with app=web`.
fn describe(target: &Json) -> String {
    let field = |key: &str| {
        target
            .get(key)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut text = [
        field("group"),
        field("version"),
        field("kind"),
        field("name"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    if let Some(namespace) = field("namespace") {
        text.push_str(&format!(" in {namespace}"));
    }
    for (key, word) in [
        ("labelSelector", "labels"),
        ("annotationSelector", "annotations"),
    ] {
        if let Some(selector) = field(key) {
            text.push_str(&format!(" with {word} {selector}"));
        }
    }
    text
}

/// The offset in `source` of `offset` in the text of the block scalar whose value starts at
/// `block`: content line k sits k lines below the indicator line, shifted by the block's indent.
fn inline_offset(source: &str, block: Span, content: &str, offset: usize) -> usize {
    let starts_block = matches!(source.as_bytes().get(block.start), Some(b'|' | b'>'));
    let Some(newline) = source[block.start.min(source.len())..]
        .find('\n')
        .filter(|_| starts_block)
    else {
        return block.start;
    };
    let before = &content[..offset.min(content.len())];
    let line = before.matches('\n').count();
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
    let body = &source[block.start + newline + 1..];
    let indent = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
    let line_start = body
        .split_inclusive('\n')
        .take(line)
        .map(str::len)
        .sum::<usize>();
    (block.start + newline + 1 + line_start + indent + column).min(source.len())
}

/// `patchesStrategicMerge`: each entry a file or inline YAML naming its own targets.
pub(super) fn strategic_merge_files(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut Vec<Resource>,
) -> Result<(), Vec<Diagnostic>> {
    for (entry, pointer) in kustomization.strings("patchesStrategicMerge") {
        let inline = entry.contains('\n')
            || entry.trim_start().starts_with("apiVersion")
            || entry.contains(": ");
        let patch = read_patch(
            engine,
            kustomization,
            &pointer,
            inline.then_some(entry.as_str()),
            (!inline).then_some(entry.as_str()),
        )?;
        apply_each_named(kustomization, &patch, resources, &engine.work)?;
    }
    Ok(())
}

/// `patches`: strategic merge or JSON 6902, with or without a target.
pub(super) fn patches(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut Vec<Resource>,
) -> Result<(), Vec<Diagnostic>> {
    let Some(Json::Array(entries)) = kustomization.value("patches") else {
        return Ok(());
    };
    for (i, entry) in entries.iter().enumerate() {
        let pointer = format!("/patches/{i}");
        // kustomize trims an inline `patches[].patch` (so a block scalar ending it loses its
        // final newline); files and the deprecated forms are read as they are
        let patch = read_patch(
            engine,
            kustomization,
            &pointer,
            entry.get("patch").and_then(Json::as_str).map(str::trim),
            entry.get("path").and_then(Json::as_str),
        )?;
        let allow_name_change = entry
            .pointer("/options/allowNameChange")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        match entry.get("target") {
            Some(target) => {
                let selector = Selector::parse(target)
                    .map_err(|why| vec![kustomization.error(&format!("{pointer}/target"), why)])?;
                let work = &engine.work;
                let out_of_work = || vec![too_much_work(kustomization.error(&pointer, ""))];
                if !work.spend(selector.cost(resources)) {
                    return Err(out_of_work());
                }
                let selected: Vec<usize> = resources
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| selector.matches(r))
                    .map(|(i, _)| i)
                    .collect();
                if selected.is_empty() {
                    return Err(vec![kustomization.error(&pointer, format!("the patch's target `{}` matches no resource", describe(target))).expected("a target that selects at least one resource").hint("check kind, name and namespace; names are anchored regular expressions")]);
                }
                if patch.is_json6902 {
                    let operations = patch
                        .documents
                        .first()
                        .cloned()
                        .unwrap_or(Json::Array(Vec::new()));
                    let cost = KEEP * weight(&operations);
                    for index in selected {
                        if !work.spend(cost) {
                            return Err(out_of_work());
                        }
                        json6902(
                            kustomization,
                            &pointer,
                            &operations,
                            &patch.locations,
                            &mut resources[index],
                            work,
                        )?;
                    }
                } else {
                    let mut deleted = Vec::new();
                    let cost: usize = KEEP * patch.documents.iter().map(weight).sum::<usize>();
                    let documents: Vec<Json> = patch
                        .documents
                        .iter()
                        .map(|document| {
                            let mut document = document.clone();
                            // With a target, the patch's own apiVersion and kind say nothing.
                            if let Json::Object(map) = &mut document {
                                map.remove("apiVersion");
                                map.remove("kind");
                            }
                            if !allow_name_change {
                                if let Some(Json::Object(metadata)) = document.get_mut("metadata") {
                                    metadata.remove("name");
                                    metadata.remove("namespace");
                                }
                            }
                            document
                        })
                        .collect();
                    for index in selected {
                        if !work.spend(cost) {
                            return Err(out_of_work());
                        }
                        for document in &documents {
                            if strategic_patch(&mut resources[index], document, work) {
                                deleted.push(index);
                            }
                            if work.exhausted() {
                                return Err(out_of_work());
                            }
                        }
                    }
                    remove_indices(resources, deleted);
                }
            }
            None if patch.is_json6902 => {
                return Err(vec![
                    kustomization
                        .error(&pointer, "a JSON 6902 patch needs a `target`")
                        .hint("add `target: {kind: ..., name: ...}`"),
                ]);
            }
            None => {
                apply_each_named(kustomization, &patch, resources, &engine.work)?;
            }
        }
    }
    Ok(())
}

/// `patchesJson6902`: `{target, path | patch}` entries (deprecated form).
pub(super) fn json6902_files(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    let Some(Json::Array(entries)) = kustomization.value("patchesJson6902") else {
        return Ok(());
    };
    for (i, entry) in entries.iter().enumerate() {
        let pointer = format!("/patchesJson6902/{i}");
        let patch = read_patch(
            engine,
            kustomization,
            &pointer,
            entry.get("patch").and_then(Json::as_str),
            entry.get("path").and_then(Json::as_str),
        )?;
        let selector = Selector::parse(entry.get("target").unwrap_or(&Json::Null))
            .map_err(|why| vec![kustomization.error(&format!("{pointer}/target"), why)])?;
        let operations = patch
            .documents
            .first()
            .cloned()
            .unwrap_or(Json::Array(Vec::new()));
        let work = &engine.work;
        let out_of_work = || vec![too_much_work(kustomization.error(&pointer, ""))];
        if !work.spend(selector.cost(resources)) {
            return Err(out_of_work());
        }
        let cost = KEEP * weight(&operations);
        let mut matched = false;
        for resource in resources.iter_mut().filter(|r| selector.matches(r)) {
            matched = true;
            if !work.spend(cost) {
                return Err(out_of_work());
            }
            json6902(
                kustomization,
                &pointer,
                &operations,
                &patch.locations,
                resource,
                work,
            )?;
        }
        if !matched {
            return Err(vec![
                kustomization
                    .error(
                        &pointer,
                        format!(
                            "the patch's target `{}` matches no resource",
                            describe(entry.get("target").unwrap_or(&Json::Null))
                        ),
                    )
                    .expected("a target that selects at least one resource")
                    .hint("check kind, name and namespace"),
            ]);
        }
    }
    Ok(())
}

/// A strategic-merge patch that names its target by apiVersion, kind, name and namespace.
/// Every document of a patch without a target, each applied to the object it names.
fn apply_each_named(
    kustomization: &Kustomization,
    patch: &Patch,
    resources: &mut Vec<Resource>,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    for (document, location) in patch.documents.iter().zip(&patch.locations) {
        apply_named(
            kustomization,
            &patch.pointer,
            document,
            location,
            resources,
            work,
        )?;
    }
    Ok(())
}

fn apply_named(
    kustomization: &Kustomization,
    pointer: &str,
    document: &Json,
    location: &(String, Span),
    resources: &mut Vec<Resource>,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    let out_of_work = || vec![too_much_work(kustomization.error(pointer, ""))];
    let names: usize = resources.iter().map(name_cost).sum();
    if !work.spend(names + KEEP * weight(document)) {
        return Err(out_of_work());
    }
    let text = |p: &str| {
        document
            .pointer(p)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (kind, name) = (text("/kind"), text("/metadata/name"));
    let namespace = document
        .pointer("/metadata/namespace")
        .and_then(Json::as_str);
    let (group, _) = split_api_version(&text("/apiVersion"));
    let found: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.kind() == kind && r.group_version().0 == group && r.answers_to(&name, namespace)
        })
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [] => Err(vec![
            Diagnostic::error(
                &location.0,
                location.1,
                "",
                format!("the patch for {kind} `{name}` matches no resource"),
            )
            .expected(format!("a {kind} named `{name}` among the resources"))
            .hint("check the patch's apiVersion, kind, name and namespace, or give it a `target`"),
        ]),
        [index] => {
            let mut patch = document.clone();
            if let Some(Json::Object(metadata)) = patch.get_mut("metadata") {
                metadata.remove("name");
                metadata.remove("namespace");
            }
            if strategic_patch(&mut resources[*index], &patch, work) {
                resources.remove(*index);
            }
            if work.exhausted() {
                return Err(out_of_work());
            }
            Ok(())
        }
        _ => Err(vec![
            kustomization
                .error(
                    pointer,
                    format!(
                        "the patch for {kind} `{name}` matches {} resources",
                        found.len()
                    ),
                )
                .hint("add `metadata.namespace` to the patch, or use `patches` with a `target`"),
        ]),
    }
}

fn remove_indices(resources: &mut Vec<Resource>, indices: Vec<usize>) {
    if indices.is_empty() {
        return;
    }
    let indices: std::collections::HashSet<usize> = indices.into_iter().collect();
    let mut index = 0;
    resources.retain(|_| {
        index += 1;
        !indices.contains(&(index - 1))
    });
}

/// What comparing an object's name costs: one step, one more per 8 bytes of its names.
fn name_cost(resource: &Resource) -> usize {
    let length = |pointer: &str| str_at(&resource.object, pointer).map_or(0, str::len);
    1 + (length("/metadata/name") + length("/metadata/namespace") + resource.original.0.len()) / 8
}

/// Applies a strategic-merge patch; returns true when the patch deletes the whole resource.
/// Merging keyed lists spends `work`; a merge that exhausts it stops part way.
fn strategic_patch(resource: &mut Resource, patch: &Json, work: &Work) -> bool {
    if patch.get("$patch").and_then(Json::as_str) == Some("delete") {
        return true;
    }
    let builtin = is_builtin(&resource.group_version().0);
    let kind = resource.kind();
    let key_at = |object: &Json, alias: &super::resource::Alias, place: &String| {
        object
            .pointer(place)
            .and_then(|m| m.get(&alias.key))
            .cloned()
    };
    let before: Vec<Vec<Option<Json>>> = resource
        .aliases
        .iter()
        .map(|a| {
            a.places
                .iter()
                .map(|p| key_at(&resource.object, a, p))
                .collect()
        })
        .collect();
    merge(&mut resource.object, patch, builtin, &kind, "", work);
    // kustomize's merge writes into the shared value node, so changing the value at one place
    // of an alias group changes it everywhere the group still holds the old value
    for (alias, old_values) in resource.aliases.iter().zip(before) {
        let now: Vec<Option<Json>> = alias
            .places
            .iter()
            .map(|p| key_at(&resource.object, alias, p))
            .collect();
        let Some(changed) = now
            .iter()
            .zip(&old_values)
            .find_map(|(n, o)| {
                (n != o && n.as_ref().is_some_and(Json::is_string)).then(|| n.clone())
            })
            .flatten()
        else {
            continue;
        };
        for (place, (n, o)) in alias.places.iter().zip(now.iter().zip(&old_values)) {
            if n == o && n.is_some() {
                if let Some(Json::Object(map)) = resource.object.pointer_mut(place) {
                    map.insert(alias.key.clone(), changed.clone());
                }
            }
        }
    }
    false
}

/// Built-in Kubernetes groups, whose lists merge by key; custom resources replace lists.
fn is_builtin(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
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

fn merge(target: &mut Json, patch: &Json, builtin: bool, kind: &str, path: &str, work: &Work) {
    let (Json::Object(target_map), Json::Object(patch_map)) = (&mut *target, patch) else {
        *target = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Json::as_str) == Some("replace") {
        let mut replacement = patch_map.clone();
        replacement.remove("$patch");
        *target_map = replacement;
        return;
    }
    for (key, value) in patch_map {
        if key.starts_with('$') {
            continue;
        }
        let child_path = format!("{path}/{key}");
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        match (target_map.get_mut(key), value) {
            (Some(existing @ Json::Object(_)), Json::Object(_)) => {
                merge(existing, value, builtin, kind, &child_path, work)
            }
            (Some(Json::Array(existing)), Json::Array(items)) if builtin => {
                if let Some(merge_key) = merge_key(kind, path, key) {
                    merge_list(existing, items, merge_key, builtin, kind, &child_path, work);
                } else {
                    *existing = strip_directives(items);
                }
            }
            (_, value) => {
                target_map.insert(key.clone(), strip(value));
            }
        }
    }
}

/// Merges a keyed list: items of the patch first, in its order, then the rest of the original.
fn merge_list(
    existing: &mut Vec<Json>,
    items: &[Json],
    key: &str,
    builtin: bool,
    kind: &str,
    path: &str,
    work: &Work,
) {
    if items
        .first()
        .and_then(|i| i.get("$patch"))
        .and_then(Json::as_str)
        == Some("replace")
    {
        *existing = strip_directives(&items[1..]);
        return;
    }
    let mut merged = Vec::new();
    let mut rest = existing.clone();
    for item in items {
        // finding the entry to merge with compares with every one left
        if !work.spend(1 + rest.len()) {
            return;
        }
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
                merge(&mut original, item, builtin, kind, path, work);
                merged.push(original);
            }
            None => merged.push(strip(item)),
        }
    }
    merged.extend(rest);
    *existing = merged;
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

/// RFC 6902 operations, with kustomize's leniency: `add` creates missing parent mappings.
fn json6902(
    kustomization: &Kustomization,
    pointer: &str,
    operations: &Json,
    locations: &[(String, Span)],
    resource: &mut Resource,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    let Json::Array(operations) = operations else {
        return Err(vec![
            kustomization.error(pointer, "a JSON 6902 patch is a list of operations"),
        ]);
    };
    for (i, operation) in operations.iter().enumerate() {
        let field = |key: &str| {
            operation
                .get(key)
                .and_then(Json::as_str)
                .unwrap_or_default()
        };
        let (kind, name) = (resource.kind(), resource.name());
        let fail = |why: String| {
            let message = format!(
                "operation {i} (`{} {}`) on {kind} `{name}` failed: {why}",
                field("op"),
                field("path")
            );
            let diagnostic = match locations.get(i) {
                Some((file, span)) => Diagnostic::error(file, *span, &format!("[{i}]"), message),
                None => kustomization.error(pointer, message),
            };
            vec![diagnostic.expected("an operation that applies to the object").hint("operations apply before namespace, prefix and labels; `remove` and `replace` need an existing path")]
        };
        let path = field("path");
        let object = &mut resource.object;
        let value = || operation.get("value").cloned().unwrap_or(Json::Null);
        let result = match field("op") {
            "add" => add(object, path, value()),
            "remove" => remove(object, path).map(|_| ()),
            "replace" => remove(object, path).and_then(|_| add(object, path, value())),
            "move" => remove(object, field("from"))
                .and_then(|moved| {
                    if work.spend(weight(&moved)) {
                        Ok(moved)
                    } else {
                        Err("the overlay takes too many steps to build".to_owned())
                    }
                })
                .and_then(|moved| add(object, path, moved)),
            "copy" => object
                .pointer(field("from"))
                .ok_or_else(|| format!("`{}` does not exist", field("from")))
                .and_then(|copied| {
                    // a copy can double an object; what it copies is paid for
                    if work.spend(KEEP * weight(copied)) {
                        Ok(copied.clone())
                    } else {
                        Err("the overlay takes too many steps to build".to_owned())
                    }
                })
                .and_then(|copied| add(object, path, copied)),
            "test" => match object.pointer(path) {
                Some(value) if Some(value) == operation.get("value") => Ok(()),
                Some(value) => Err(format!(
                    "the value is {value}, not {}",
                    operation.get("value").unwrap_or(&Json::Null)
                )),
                None => Err("the path does not exist".to_owned()),
            },
            other => Err(format!("unknown operation `{other}`")),
        };
        result.map_err(fail)?;
    }
    Ok(())
}

fn split_pointer(path: &str) -> Vec<String> {
    path.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Levels of mappings and lists in a value (a scalar is 0), counted up to `limit` + 1.
fn depth(value: &Json, limit: usize) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        if level > limit {
            break;
        }
        match value {
            Json::Object(map) => stack.extend(map.values().map(|v| (v, level + 1))),
            Json::Array(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

fn add(object: &mut Json, path: &str, value: Json) -> Result<(), String> {
    if path.matches('/').count() + depth(&value, MAX_OBJECT_DEPTH) > MAX_OBJECT_DEPTH {
        return Err(format!(
            "the object would nest more than {MAX_OBJECT_DEPTH} levels deep"
        ));
    }
    let parts = split_pointer(path);
    let Some((last, parents)) = parts.split_last() else {
        if !value.is_object() {
            return Err("only a mapping can replace the whole object".to_owned());
        }
        *object = value;
        return Ok(());
    };
    let mut node = object;
    for part in parents {
        node = match node {
            Json::Object(map) => map
                .entry(part.clone())
                .or_insert_with(|| Json::Object(Map::new())),
            Json::Array(items) => {
                let index: usize = part
                    .parse()
                    .map_err(|_| format!("`{part}` is not a list index"))?;
                items
                    .get_mut(index)
                    .ok_or_else(|| format!("index {index} is out of range"))?
            }
            _ => return Err(format!("`{part}` is below a scalar")),
        };
    }
    match node {
        Json::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Json::Array(items) if last == "-" => {
            items.push(value);
            Ok(())
        }
        Json::Array(items) => {
            let index: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not a list index"))?;
            if index > items.len() {
                return Err(format!("index {index} is out of range"));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err("the parent is a scalar".to_owned()),
    }
}

fn remove(object: &mut Json, path: &str) -> Result<Json, String> {
    let parts = split_pointer(path);
    let (last, parents) = parts.split_last().ok_or("cannot remove the whole object")?;
    let mut node = object;
    for part in parents {
        node = match node {
            Json::Object(map) => map
                .get_mut(part)
                .ok_or_else(|| format!("`{path}` does not exist"))?,
            Json::Array(items) => items
                .get_mut(
                    part.parse::<usize>()
                        .map_err(|_| format!("`{part}` is not a list index"))?,
                )
                .ok_or_else(|| format!("`{path}` does not exist"))?,
            _ => return Err(format!("`{path}` does not exist")),
        };
    }
    match node {
        Json::Object(map) => map
            .remove(last)
            .ok_or_else(|| format!("`{path}` does not exist")),
        Json::Array(items) => {
            let index: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not a list index"))?;
            (index < items.len())
                .then(|| items.remove(index))
                .ok_or_else(|| format!("`{path}` does not exist"))
        }
        _ => Err(format!("`{path}` does not exist")),
    }
}

/// A patch target: group, version, kind, name and namespace (anchored regular expressions for
/// the last two), label and annotation selectors.
pub(super) struct Selector {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<regex::Regex>,
    namespace: Option<regex::Regex>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

impl Selector {
    fn parse(target: &Json) -> Result<Selector, String> {
        let text = |key: &str| {
            target
                .get(key)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let anchored = |key: &str| -> Result<Option<regex::Regex>, String> {
            text(key)
                .map(|p| {
                    regex(&format!("^(?:{p})$"))
                        .map_err(|e| format!("`{key}` is not a valid regular expression: {e}"))
                })
                .transpose()
        };
        Ok(Selector {
            group: text("group"),
            version: text("version"),
            kind: text("kind"),
            name: anchored("name")?,
            namespace: anchored("namespace")?,
            labels: text("labelSelector")
                .map(|s| parse_requirements(&s))
                .transpose()?
                .unwrap_or_default(),
            annotations: text("annotationSelector")
                .map(|s| parse_requirements(&s))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// Whether `resource` is a target. Called for every object for every patch, so it reads
    /// the object in place rather than through the allocating accessors.
    fn matches(&self, resource: &Resource) -> bool {
        let object = &resource.object;
        let api_version = str_at(object, "/apiVersion").unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = str_at(object, "/kind").unwrap_or_default();
        if self.group.as_ref().is_some_and(|g| g != group)
            || self.version.as_ref().is_some_and(|v| v != version)
            || self.kind.as_ref().is_some_and(|k| k != kind)
        {
            return false;
        }
        fn effective<'a>(ns: Option<&'a str>, kind: &str) -> &'a str {
            match ns {
                Some(ns) if !ns.is_empty() => ns,
                _ if is_cluster_scoped(kind) => "",
                _ => "default",
            }
        }
        let names = [
            str_at(object, "/metadata/name").unwrap_or_default(),
            resource.original.0.as_str(),
        ];
        let namespaces = [
            effective(str_at(object, "/metadata/namespace"), kind),
            effective(resource.original.1.as_deref(), kind),
        ];
        if self
            .name
            .as_ref()
            .is_some_and(|r| !names.iter().any(|n| r.is_match(n)))
            || self
                .namespace
                .as_ref()
                .is_some_and(|r| !namespaces.iter().any(|n| r.is_match(n)))
        {
            return false;
        }
        let empty = Map::new();
        let metadata = |field: &str| {
            object
                .get("metadata")
                .and_then(|m| m.get(field))
                .and_then(Json::as_object)
                .unwrap_or(&empty)
        };
        self.labels.iter().all(|r| r.matches(metadata("labels")))
            && self
                .annotations
                .iter()
                .all(|r| r.matches(metadata("annotations")))
    }

    /// What matching every object of `resources` costs: per object, its names, and each
    /// label or annotation requirement.
    fn cost(&self, resources: &[Resource]) -> usize {
        let requirements = self.labels.len() + self.annotations.len();
        resources.iter().map(|r| name_cost(r) + requirements).sum()
    }
}

/// One clause of a Kubernetes label selector.
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &Map<String, Json>) -> bool {
        let get = |key: &str| labels.get(key).and_then(Json::as_str);
        match self {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, values) => get(k).is_some_and(|v| values.iter().any(|x| x == v)),
            Requirement::NotIn(k, values) => get(k).is_none_or(|v| !values.iter().any(|x| x == v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        }
    }
}

/// `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
fn parse_requirements(text: &str) -> Result<Vec<Requirement>, String> {
    let mut clauses = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                clauses.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    clauses.push(current);
    clauses
        .iter()
        .map(|clause| {
            let clause = clause.trim();
            let set = |rest: &str| -> Vec<String> {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|v| v.trim().to_owned())
                    .collect()
            };
            if let Some((key, rest)) = clause.split_once(" notin ") {
                Ok(Requirement::NotIn(key.trim().to_owned(), set(rest)))
            } else if let Some((key, rest)) = clause.split_once(" in ") {
                Ok(Requirement::In(key.trim().to_owned(), set(rest)))
            } else if let Some((key, value)) = clause.split_once("!=") {
                Ok(Requirement::NotEquals(
                    key.trim().to_owned(),
                    value.trim().to_owned(),
                ))
            } else if let Some((key, value)) =
                clause.split_once("==").or_else(|| clause.split_once('='))
            {
                Ok(Requirement::Equals(
                    key.trim().to_owned(),
                    value.trim().to_owned(),
                ))
            } else if let Some(key) = clause.strip_prefix('!') {
                Ok(Requirement::NotExists(key.trim().to_owned()))
            } else if !clause.is_empty() {
                Ok(Requirement::Exists(clause.to_owned()))
            } else {
                Err(format!("`{text}` is not a label selector"))
            }
        })
        .collect()
}
