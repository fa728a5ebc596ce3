//! Patch targets: which objects a `target` selects (group, version, kind, anchored name and
//! namespace patterns, label and annotation selectors), and what selecting costs.

use serde_json::{Map, Value as Json};

use super::super::resource::{Resource, is_cluster_scoped, str_at};
use super::super::{PatternError, regex};

/// Why a `target` cannot select anything.
#[derive(Debug, thiserror::Error)]
pub(in crate::overlay) enum SelectorError {
    #[error("`{key}` is not a valid regular expression: {source}")]
    Pattern {
        key: &'static str,
        source: PatternError,
    },
    #[error("`{0}` is not a label selector")]
    NotALabelSelector(String),
}

/// A patch target: group, version, kind, name and namespace (anchored regular expressions for
/// the last two), label and annotation selectors.
pub(in crate::overlay) struct Selector {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<regex::Regex>,
    namespace: Option<regex::Regex>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

impl Selector {
    pub(in crate::overlay) fn parse(target: &Json) -> Result<Selector, SelectorError> {
        let text = |key: &str| {
            target
                .get(key)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let anchored = |key: &'static str| -> Result<Option<regex::Regex>, SelectorError> {
            text(key)
                .map(|p| {
                    regex(&format!("^(?:{p})$"))
                        .map_err(|source| SelectorError::Pattern { key, source })
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
    pub(in crate::overlay) fn matches(&self, resource: &Resource) -> bool {
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
    pub(super) fn cost(&self, resources: &[Resource]) -> usize {
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
        // kustomize reads labels as strings: a `true` or `5` written unquoted matches too
        let get = |key: &str| match labels.get(key) {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Bool(b)) => Some(b.to_string()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match self {
            Requirement::Equals(k, v) => get(k).as_ref() == Some(v),
            Requirement::NotEquals(k, v) => get(k).as_ref() != Some(v),
            Requirement::In(k, values) => get(k).is_some_and(|v| values.contains(&v)),
            Requirement::NotIn(k, values) => get(k).is_none_or(|v| !values.contains(&v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        }
    }
}

/// `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
fn parse_requirements(text: &str) -> Result<Vec<Requirement>, SelectorError> {
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
                Err(SelectorError::NotALabelSelector(text.to_owned()))
            }
        })
        .collect()
}

/// A target as one line: `Deployment web-.* in prod with app=web`.
pub(super) fn describe(target: &Json) -> String {
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

/// What comparing an object's name costs: one step, one more per 8 bytes of its names.
pub(super) fn name_cost(resource: &Resource) -> usize {
    let length = |pointer: &str| str_at(&resource.object, pointer).map_or(0, str::len);
    1 + (length("/metadata/name") + length("/metadata/namespace") + resource.original.0.len()) / 8
}
