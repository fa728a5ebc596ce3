//! What a replacement selects: its source's and its targets' identity fields (an object's
//! current and earlier names and namespaces, as kustomize's `MakeResIds`), label and annotation
//! selectors, and how a selector reads in messages.

use serde_json::Value as Json;

use super::super::patch::TargetSelector;
use super::super::resource::{Resource, is_cluster_scoped, split_api_version};
use super::value;

const SELECTOR_KEYS: [&str; 7] = [
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];

/// A selector's identity fields: an object is selected when each given one equals the
/// object's (its namespace compared as kustomize does, an empty one meaning `default`).
pub(super) struct Id {
    group: String,
    version: String,
    kind: String,
    name: String,
    namespace: String,
}

impl Id {
    pub(super) fn parse(selector: &Json) -> Id {
        let text = |key: &str| selector.get(key).map(value::text).unwrap_or_default();
        Id {
            group: text("group"),
            version: text("version"),
            kind: text("kind"),
            name: text("name"),
            namespace: text("namespace"),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        [
            &self.group,
            &self.version,
            &self.kind,
            &self.name,
            &self.namespace,
        ]
        .iter()
        .all(|s| s.is_empty())
    }

    /// Whether any of the object's identities, current or earlier, is selected.
    pub(super) fn selects(&self, resource: &Resource) -> bool {
        let (group, version) = split_api_version(&resource.api_version());
        let kind = resource.kind();
        if (!self.group.is_empty() && self.group != group)
            || (!self.version.is_empty() && self.version != version)
            || (!self.kind.is_empty() && self.kind != kind)
        {
            return false;
        }
        let wanted = effective_namespace(Some(&self.namespace), &self.kind);
        std::iter::once((resource.name(), resource.namespace()))
            .chain(resource.previous.iter().cloned())
            .any(|(name, namespace)| {
                (self.name.is_empty() || self.name == name)
                    && (self.namespace.is_empty()
                        || effective_namespace(namespace.as_deref(), &kind) == wanted)
            })
    }
}

/// kustomize's `EffectiveNamespace`: cluster-scoped kinds have none, an empty one is `default`.
fn effective_namespace(namespace: Option<&str>, kind: &str) -> String {
    if is_cluster_scoped(kind) {
        return "~cluster".to_owned();
    }
    match namespace {
        None | Some("") => "default".to_owned(),
        Some(ns) => ns.to_owned(),
    }
}

/// How a selector reads in messages: `Kind.version.group/name.namespace`, as kustomize's.
pub(super) fn describe(selector: &Json) -> String {
    let id = Id::parse(selector);
    let or = |s: &str, empty: &str| {
        if s.is_empty() {
            empty.to_owned()
        } else {
            s.to_owned()
        }
    };
    format!(
        "`{}.{}.{}/{}.{}`",
        or(&id.kind, "[noKind]"),
        or(&id.version, "[noVer]"),
        or(&id.group, "[noGrp]"),
        or(&id.name, "[noName]"),
        or(&id.namespace, "[noNs]")
    )
}

/// A target's label and annotation selectors (kustomize checks these apart from its id).
fn label_selector(selector: &Json) -> Result<Option<TargetSelector>, String> {
    let pick = |key: &str| {
        selector
            .get(key)
            .filter(|v| !value::text(v).is_empty())
            .cloned()
    };
    let (labels, annotations) = (pick("labelSelector"), pick("annotationSelector"));
    if labels.is_none() && annotations.is_none() {
        return Ok(None);
    }
    let mut only = serde_json::Map::new();
    if let Some(l) = labels {
        only.insert("labelSelector".to_owned(), l);
    }
    if let Some(a) = annotations {
        only.insert("annotationSelector".to_owned(), a);
    }
    TargetSelector::parse(&Json::Object(only))
        .map(Some)
        .map_err(|why| why.to_string())
}

/// One `select` or `reject` entry.
pub(super) struct Selector {
    pub(super) id: Id,
    pub(super) labels: Option<TargetSelector>,
}

impl Selector {
    pub(super) fn parse(selector: &Json) -> Result<Selector, String> {
        let map = selector.as_object().ok_or("a selector is not a mapping")?;
        unknown_keys(map, &SELECTOR_KEYS, "replacement's selector")?;
        Ok(Selector {
            id: Id::parse(selector),
            labels: label_selector(selector)?,
        })
    }

    pub(super) fn labels_match(&self, resource: &Resource) -> bool {
        self.labels.as_ref().is_none_or(|l| l.matches(resource))
    }
}

/// Refuses a key kustomize does not know for this part (kustomize would ignore it).
pub(super) fn unknown_keys(
    map: &serde_json::Map<String, Json>,
    known: &[&str],
    what: &str,
) -> Result<(), String> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "unknown field `{key}` in a {what}; expected one of {}",
            known.join(", ")
        )),
        None => Ok(()),
    }
}
