//! Resource files: every object of a YAML file (`List` objects unpacked), each checked for the
//! fields that identify it.

use serde_json::Value as Json;

use super::Engine;
use super::kustomization::long_name;
use super::resource::Resource;
use super::scalars::{push_escaped, push_index, styled};
use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::limits::MAX_NAME_BYTES;
use crate::source::{SourceFile, Span};
use crate::yaml;

impl Engine<'_> {
    /// Every object of a YAML file (`List` objects unpacked).
    pub(super) fn load_resources(&mut self, path: &str) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        let text = self.read(path).map_err(|why| {
            vec![Diagnostic::error(
                path,
                Span::default(),
                "",
                format!("cannot read `{path}`: {why}"),
            )]
        })?;
        let file = SourceFile::new(path, text);
        let (documents, diagnostics) = yaml::parse_stream(&file);
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let mut resources = Vec::new();
        let mut problems = Vec::new();
        // the documents again, only for a message about one (the objects take the tree's strings)
        let mut reparsed = None;
        for (k, document) in documents.into_iter().enumerate() {
            if matches!(document.value, yaml::Value::Null) {
                continue;
            }
            let mut empty = Vec::new();
            empty_nulls(&document, &file.text, &mut String::new(), &mut empty);
            let mut styled = styled(&document, &file.text);
            let start = document.span.start;
            let value = into_json(document);
            let is_list = value.get("kind").and_then(Json::as_str) == Some("List");
            let objects = objects(value);
            let count = objects.len();
            for (i, object) in objects.into_iter().enumerate() {
                if has_identity_problem(&object) {
                    // the tree (every node's place, for messages) only when a message needs it
                    let nodes = reparsed.get_or_insert_with(|| yaml::parse_stream(&file).0);
                    let tree = JsonTree::new(path, &nodes[k]);
                    problems.extend(identity_problem(&tree, &object));
                    continue;
                }
                let mut resource = Resource::new(object, path);
                self.mark_read(&mut resource, path);
                resource.at = Span::new(start, start);
                if is_list {
                    let prefix = format!("/items/{i}");
                    resource.styled = below(styled.iter(), &prefix).collect();
                    resource.empty_nulls = below(empty.iter(), &prefix)
                        .filter(|p| !p.is_empty())
                        .collect();
                } else if i + 1 == count {
                    resource.styled = std::mem::take(&mut styled);
                    resource.empty_nulls = std::mem::take(&mut empty);
                } else {
                    resource.styled.clone_from(&styled);
                    resource.empty_nulls.clone_from(&empty);
                }
                resources.push(resource);
            }
        }
        if problems.is_empty() {
            Ok(resources)
        } else {
            Err(problems)
        }
    }
}

/// JSON pointers of the mapping values written as nothing at all (`key:`), which YAML reads as
/// null like `key: null`, but which kustomize's strategic merge drops (kyaml keeps only a null
/// with text, `MakePersistentNullNode`).
/// `pointer` is one buffer, grown and cut back as the walk goes down and up.
fn empty_nulls(node: &yaml::Node, text: &str, pointer: &mut String, found: &mut Vec<String>) {
    let length = pointer.len();
    match &node.value {
        yaml::Value::Map(entries) => {
            for entry in entries {
                pointer.push('/');
                push_escaped(pointer, &entry.key);
                let written = text
                    .get(entry.value.span.start..entry.value.span.end)
                    .unwrap_or_default()
                    .trim();
                if entry.value.value == yaml::Value::Null && written.is_empty() {
                    found.push(pointer.clone());
                } else {
                    empty_nulls(&entry.value, text, pointer, found);
                }
                pointer.truncate(length);
            }
        }
        yaml::Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                push_index(pointer, i);
                empty_nulls(item, text, pointer, found);
                pointer.truncate(length);
            }
        }
        _ => {}
    }
}

/// The pointers at or below `prefix`, with the prefix taken off (`""` for the prefix itself).
fn below<'a>(
    pointers: impl Iterator<Item = &'a String> + 'a,
    prefix: &'a str,
) -> impl Iterator<Item = String> + 'a {
    pointers
        .filter_map(move |p| p.strip_prefix(prefix))
        .filter(|p| p.is_empty() || p.starts_with('/'))
        .map(str::to_owned)
}

/// A document as JSON (what `JsonTree` holds, without the places of its nodes).
pub(super) fn to_json(node: &yaml::Node) -> Json {
    match &node.value {
        yaml::Value::Null => Json::Null,
        yaml::Value::Bool(b) => Json::Bool(*b),
        yaml::Value::Int(i) => Json::from(*i),
        yaml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        yaml::Value::Str(s) => Json::String(s.clone()),
        yaml::Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        yaml::Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|entry| (entry.key.clone(), to_json(&entry.value)))
                .collect(),
        ),
    }
}

/// [`to_json`], taking the tree's strings rather than copying them.
fn into_json(node: yaml::Node) -> Json {
    match node.value {
        yaml::Value::Null => Json::Null,
        yaml::Value::Bool(b) => Json::Bool(b),
        yaml::Value::Int(i) => Json::from(i),
        yaml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        yaml::Value::Str(s) => Json::String(s),
        yaml::Value::Seq(items) => Json::Array(items.into_iter().map(into_json).collect()),
        yaml::Value::Map(entries) => Json::Object(
            entries
                .into_iter()
                .map(|entry| (entry.key, into_json(entry.value)))
                .collect(),
        ),
    }
}

/// The objects one document holds: the items of a `List`, else the document itself.
fn objects(document: Json) -> Vec<Json> {
    match document {
        Json::Object(mut map) if map.get("kind").and_then(Json::as_str) == Some("List") => {
            match map.remove("items") {
                Some(Json::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        document => vec![document],
    }
}

/// Whether [`identity_problem`] has something to say, found without building messages.
fn has_identity_problem(object: &Json) -> bool {
    ["/kind", "/metadata/name"]
        .into_iter()
        .any(|p| super::resource::str_at(object, p).is_none_or(str::is_empty))
        || long_name(object).is_some()
}

/// What is wrong with an object's identity, if anything: it needs a kind and a name, none of
/// them too long. The error is at the document it came from. An object without `apiVersion`
/// is accepted, as kustomize accepts it (its group and version are then empty).
fn identity_problem(tree: &JsonTree, object: &Json) -> Option<Diagnostic> {
    let missing: Vec<&str> = ["/kind", "/metadata/name"]
        .into_iter()
        .filter(|p| super::resource::str_at(object, p).is_none_or(str::is_empty))
        .collect();
    if let Some(field) = long_name(object) {
        return Some(
            tree.value_error(
                &format!("/{}", field.replace('.', "/")),
                format!("`{field}` is too long"),
            )
            .expected(format!("at most {MAX_NAME_BYTES} bytes"))
            .hint("Kubernetes names are at most 253 characters"),
        );
    }
    if !missing.is_empty() {
        let fields = missing
            .iter()
            .map(|p| format!("`{}`", p.trim_start_matches('/').replace('/', ".")))
            .collect::<Vec<_>>()
            .join(", ");
        return Some(
            tree.value_error("", format!("a resource without {fields}"))
                .expected("a Kubernetes object with kind and metadata.name")
                .hint("every document of a resource file must be one object"),
        );
    }
    None
}
