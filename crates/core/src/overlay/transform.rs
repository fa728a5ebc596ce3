//! The field transformers: namespace, name prefix and suffix, labels, annotations, replicas,
//! images. Which fields each touches follows kustomize's built-in field lists.

mod images;
mod label_fields;

use serde_json::{Map, Value as Json};

use super::kustomization::Kustomization;
use super::pointer;
use super::resource::{Resource, is_cluster_scoped_object};
use super::scalars::{push_escaped, push_index};
use crate::diagnostic::Diagnostic;

pub(super) use images::images;

/// A field path for some kinds: `segments` of map keys (`[]` after a key walks its list),
/// whether to create missing maps, and which kinds (`None` for all; with an optional group).
pub(super) struct FieldSpec {
    pub kinds: Option<&'static [&'static str]>,
    pub group: Option<&'static str>,
    pub path: &'static str,
    pub create: bool,
}

const fn spec(kinds: &'static [&'static str], path: &'static str, create: bool) -> FieldSpec {
    FieldSpec {
        kinds: Some(kinds),
        group: None,
        path,
        create,
    }
}

const WORKLOADS_TEMPLATE: &[&str] = &[
    "ReplicationController",
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
];

/// Where labels go besides `metadata.labels` when templates are included.
const TEMPLATE_LABELS: &[FieldSpec] = &[
    spec(WORKLOADS_TEMPLATE, "spec/template/metadata/labels", true),
    spec(
        &["StatefulSet"],
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    spec(&["CronJob"], "spec/jobTemplate/metadata/labels", true),
    spec(
        &["CronJob"],
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

/// Selectors that take labels with `includeSelectors` (and `commonLabels`).
const SELECTOR_LABELS: &[FieldSpec] = &[
    spec(&["Service", "ReplicationController"], "spec/selector", true),
    spec(
        &["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"],
        "spec/selector/matchLabels",
        true,
    ),
    spec(
        &["Deployment", "StatefulSet"],
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    spec(
        &["Deployment", "StatefulSet"],
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    spec(
        &["Deployment", "StatefulSet"],
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    spec(
        &["Deployment", "StatefulSet"],
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    spec(
        &["Deployment", "StatefulSet"],
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    spec(&["Job"], "spec/selector/matchLabels", false),
    spec(
        &["CronJob"],
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    spec(&["PodDisruptionBudget"], "spec/selector/matchLabels", false),
    spec(&["NetworkPolicy"], "spec/podSelector/matchLabels", false),
    spec(
        &["NetworkPolicy"],
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    spec(
        &["NetworkPolicy"],
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

const TEMPLATE_ANNOTATIONS: &[FieldSpec] = &[
    spec(
        WORKLOADS_TEMPLATE,
        "spec/template/metadata/annotations",
        true,
    ),
    spec(&["CronJob"], "spec/jobTemplate/metadata/annotations", true),
    spec(
        &["CronJob"],
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

const REPLICA_KINDS: &[&str] = &[
    "Deployment",
    "ReplicationController",
    "ReplicaSet",
    "StatefulSet",
];

impl FieldSpec {
    /// Whether the spec is for an object of `kind` in API `group`.
    fn applies(&self, kind: &str, group: &str) -> bool {
        self.kinds.is_none_or(|kinds| kinds.contains(&kind))
            && self.group.is_none_or(|g| group == g)
    }
}

/// Calls `f` on every value at `path` in `node`, walking lists on the way; creates missing
/// mappings when `create`.
/// Calls `f` on every value at `path`; returns how many nodes it walked through.
pub(super) fn visit(
    node: &mut Json,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&mut Json),
) -> usize {
    let segments: Vec<&str> = path.split('/').collect();
    walk(node, &segments, create, f)
}

fn walk(node: &mut Json, segments: &[&str], create: bool, f: &mut dyn FnMut(&mut Json)) -> usize {
    if let Json::Array(items) = node {
        return 1 + items
            .iter_mut()
            .map(|item| walk(item, segments, create, f))
            .sum::<usize>();
    }
    let Some((first, rest)) = segments.split_first() else {
        f(node);
        return 1;
    };
    let key = list_key(first);
    let Some(child) = child_or_new(node, key, create && !first.ends_with("[]")) else {
        return 1;
    };
    if child.is_null() && create {
        *child = Json::Object(Map::new());
    }
    1 + walk(child, rest, create, f)
}

/// A path segment without its `[]` marks (`containers[]` → `containers`): what
/// `trim_end_matches("[]")` gives, without setting up a substring searcher per segment.
fn list_key(segment: &str) -> &str {
    let mut key = segment;
    while let Some(shorter) = key.strip_suffix("[]") {
        key = shorter;
    }
    key
}

/// The value of `key` in the mapping `node`; when it has none and `create`, a new empty
/// mapping there. `None` when `node` is no mapping, or the key is missing and not created.
fn child_or_new<'a>(node: &'a mut Json, key: &str, create: bool) -> Option<&'a mut Json> {
    if !node.is_object() {
        return None;
    }
    if pointer::child(node, key).is_none() {
        if !create {
            return None;
        }
        if let Json::Object(map) = node {
            map.insert(key.to_owned(), Json::Object(Map::new()));
        }
    }
    pointer::child_mut(node, key)
}

/// Adds `pairs` to the mapping at every place `specs` names (plus `metadata/<field>`).
fn add_pairs(
    resource: &mut Resource,
    field: &'static str,
    pairs: &Map<String, Json>,
    specs: &[&[FieldSpec]],
    extra: &[(String, bool)],
) {
    let mut places = Vec::new();
    collect(
        &mut resource.object,
        &["metadata", field],
        true,
        &mut places,
    );
    let (kind, group) = (resource.kind_str(), resource.group());
    let applicable: Vec<&FieldSpec> = specs
        .iter()
        .flat_map(|group| group.iter())
        .filter(|s| s.applies(kind, group))
        .collect();
    for spec in applicable {
        let segments: Vec<&str> = spec.path.split('/').filter(|s| !s.is_empty()).collect();
        collect(&mut resource.object, &segments, spec.create, &mut places);
    }
    for (path, create) in extra {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        collect(&mut resource.object, &segments, *create, &mut places);
    }
    for (key, value) in pairs {
        let mut created = Vec::new();
        for place in &places {
            let holds = pointer::get(&resource.object, place)
                .and_then(Json::as_object)
                .is_some_and(|m| m.contains_key(key));
            if holds {
                let linked = resource
                    .aliases
                    .iter()
                    .find(|a| a.field == field && a.key == *key && a.places.contains(place))
                    .map(|a| a.places.clone());
                for target in linked.unwrap_or_else(|| vec![place.clone()]) {
                    if let Some(Json::Object(map)) = pointer::get_mut(&mut resource.object, &target)
                    {
                        map.insert(key.clone(), value.clone());
                    }
                }
            } else if let Some(Json::Object(map)) = pointer::get_mut(&mut resource.object, place) {
                map.insert(key.clone(), value.clone());
                created.push(place.clone());
            }
        }
        if !created.is_empty() {
            resource.aliases.push(super::resource::Alias {
                field,
                key: key.clone(),
                places: created,
            });
        }
    }
}

/// The JSON pointers of the mappings at the path `segments` (created when `create`), lists
/// walked.
fn collect(node: &mut Json, segments: &[&str], create: bool, out: &mut Vec<String>) {
    collect_segments(node, segments, create, &mut String::new(), out);
}

/// `pointer` is one buffer, grown and cut back as the walk goes down and up.
fn collect_segments(
    node: &mut Json,
    segments: &[&str],
    create: bool,
    pointer: &mut String,
    out: &mut Vec<String>,
) {
    let length = pointer.len();
    if let Json::Array(items) = node {
        for (i, item) in items.iter_mut().enumerate() {
            push_index(pointer, i);
            collect_segments(item, segments, create, pointer, out);
            pointer.truncate(length);
        }
        return;
    }
    let Some((first, rest)) = segments.split_first() else {
        if node.is_null() {
            *node = Json::Object(Map::new());
        }
        if node.is_object() {
            out.push(pointer.clone());
        }
        return;
    };
    let key = list_key(first);
    let Some(child) = child_or_new(node, key, create && !first.ends_with("[]")) else {
        return;
    };
    if child.is_null() && create {
        *child = Json::Object(Map::new());
    }
    pointer.push('/');
    push_escaped(pointer, key);
    collect_segments(child, rest, create, pointer, out);
    pointer.truncate(length);
}

fn string_map(
    kustomization: &Kustomization,
    pointer: &str,
    value: &Json,
) -> Result<Map<String, Json>, Vec<Diagnostic>> {
    match value {
        Json::Object(map) => Ok(map
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(scalar_text(v))))
            .collect()),
        Json::Null => Ok(Map::new()),
        _ => Err(vec![
            kustomization.error(pointer, "expected a mapping of names to values"),
        ]),
    }
}

/// Labels and annotations are strings, whatever YAML type the kustomization wrote them in.
fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

pub(super) fn namespace(kustomization: &Kustomization, resources: &mut [Resource]) {
    let Some(namespace) = kustomization.value("namespace").and_then(Json::as_str) else {
        return;
    };
    for resource in resources.iter_mut() {
        // kustomize's namespace transformer records every object's id, changed or not
        resource.store_previous_id();
        let kind = resource.kind();
        if kind == "Namespace" && resource.api_version() == "v1" {
            resource.set_name(namespace);
            continue;
        }
        if kind == "APIService" && resource.group_version().0 == "apiregistration.k8s.io" {
            visit(
                &mut resource.object,
                "spec/service/namespace",
                true,
                &mut |value| *value = Json::String(namespace.to_owned()),
            );
        }
        if kind == "CustomResourceDefinition" {
            visit(
                &mut resource.object,
                "spec/conversion/webhook/clientConfig/service/namespace",
                false,
                &mut |value| *value = Json::String(namespace.to_owned()),
            );
        }
        if is_cluster_scoped_object(resource) {
            if kind == "ClusterRoleBinding" {
                default_subjects(resource, namespace);
            }
            continue;
        }
        resource.set_namespace(namespace);
        if kind == "RoleBinding" {
            default_subjects(resource, namespace);
        }
    }
}

/// kustomize's default for (Cluster)RoleBinding subjects: only those named `default` move.
fn default_subjects(resource: &mut Resource, namespace: &str) {
    if let Some(Json::Array(subjects)) = resource.object.get_mut("subjects") {
        for subject in subjects
            .iter_mut()
            .filter(|s| s.get("name").and_then(Json::as_str) == Some("default"))
        {
            subject["namespace"] = Json::String(namespace.to_owned());
        }
    }
}

pub(super) fn prefix_suffix(kustomization: &Kustomization, resources: &mut [Resource]) {
    let prefix = kustomization
        .value("namePrefix")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let suffix = kustomization
        .value("nameSuffix")
        .and_then(Json::as_str)
        .unwrap_or_default();
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    // kustomize's prefix transformer, then its suffix transformer, each recording the id it
    // changes and the affix it applies; both skip the kinds whose names others spell
    // (api/internal/builtins/PrefixTransformer.go, `prefixFieldSpecsToSkip`)
    for resource in resources.iter_mut().filter(|r| !keeps_its_name(r)) {
        if !prefix.is_empty() {
            resource.prefixes.push(prefix.to_owned());
            resource.store_previous_id();
            let name = format!("{prefix}{}", resource.name());
            resource.set_name(&name);
        }
        if !suffix.is_empty() {
            resource.suffixes.push(suffix.to_owned());
            resource.store_previous_id();
            let name = format!("{}{suffix}", resource.name());
            resource.set_name(&name);
        }
    }
}

/// Kinds kustomize's prefix and suffix transformers leave alone.
fn keeps_its_name(resource: &Resource) -> bool {
    match resource.kind_str() {
        "Namespace" | "CustomResourceDefinition" => true,
        "APIService" => resource.group() == "apiregistration.k8s.io",
        _ => false,
    }
}

pub(super) fn labels(
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    // `labels` first, then `commonLabels`, which wins on a shared key (as in kustomize)
    let sets = kustomization
        .value("labels")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, set) in sets.iter().enumerate() {
        let fields = label_fields::read(kustomization, i, set)?;
        let pairs = string_map(
            kustomization,
            &format!("/labels/{i}/pairs"),
            set.get("pairs").unwrap_or(&Json::Null),
        )?;
        let selectors = set
            .get("includeSelectors")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let templates = set
            .get("includeTemplates")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let specs: Vec<&[FieldSpec]> = match (selectors, templates) {
            (true, _) => vec![SELECTOR_LABELS, TEMPLATE_LABELS],
            (false, true) => vec![TEMPLATE_LABELS],
            (false, false) => vec![],
        };
        for resource in resources.iter_mut() {
            let extra = label_fields::for_resource(&fields, resource);
            add_pairs(resource, "labels", &pairs, &specs, &extra);
        }
    }
    if let Some(common) = kustomization.value("commonLabels") {
        let pairs = string_map(kustomization, "/commonLabels", common)?;
        for resource in resources.iter_mut() {
            add_pairs(
                resource,
                "labels",
                &pairs,
                &[SELECTOR_LABELS, TEMPLATE_LABELS],
                &[],
            );
        }
    }
    Ok(())
}

pub(super) fn annotations(
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    let Some(common) = kustomization.value("commonAnnotations") else {
        return Ok(());
    };
    let pairs = string_map(kustomization, "/commonAnnotations", common)?;
    for resource in resources.iter_mut() {
        add_pairs(
            resource,
            "annotations",
            &pairs,
            &[TEMPLATE_ANNOTATIONS],
            &[],
        );
    }
    Ok(())
}

pub(super) fn replicas(
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    let Some(Json::Array(items)) = kustomization.value("replicas") else {
        return Ok(());
    };
    for (i, item) in items.iter().enumerate() {
        let (Some(name), Some(count)) = (
            item.get("name").and_then(Json::as_str),
            item.get("count").filter(|c| c.is_i64() || c.is_u64()),
        ) else {
            return Err(vec![kustomization.error(
                &format!("/replicas/{i}"),
                "a replica entry needs `name` and an integer `count`",
            )]);
        };
        // kustomize's ReplicaCountTransformer: any id the object has had (previous or current)
        // with that name and the object's current kind, which its field spec must select
        for resource in resources.iter_mut().filter(|r| {
            let kind = r.kind();
            REPLICA_KINDS.contains(&kind.as_str())
                && (r.name() == name
                    || r.prev_ids
                        .iter()
                        .any(|id| id.name == name && id.kind == kind))
        }) {
            super::resource::set(&mut resource.object, &["spec", "replicas"], count.clone());
        }
    }
    Ok(())
}
