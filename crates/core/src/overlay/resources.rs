//! Resource files: every object of a YAML file (`List` objects unpacked), each checked for the
//! fields that identify it.

use serde_json::Value as Json;

use super::Engine;
use super::kustomization::long_name;
use super::resource::Resource;
use super::scalars::{scalars, styled_below};
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
        for document in documents.iter().filter(|d| d.value != yaml::Value::Null) {
            let tree = JsonTree::new(path, document);
            let mut empty = Vec::new();
            empty_nulls(document, &file.text, "", &mut empty);
            let scalars = scalars(document, &file.text);
            let is_list = tree.value.get("kind").and_then(Json::as_str) == Some("List");
            for (i, object) in objects(&tree.value).into_iter().enumerate() {
                if let Some(problem) = identity_problem(&tree, &object) {
                    problems.push(problem);
                    continue;
                }
                let mut resource = Resource::new(object, path);
                self.mark_read(&mut resource, path);
                resource.at = Span::new(document.span.start, document.span.start);
                let prefix = if is_list {
                    format!("/items/{i}")
                } else {
                    String::new()
                };
                resource.styled = styled_below(&scalars, &prefix);
                resource.empty_nulls = if is_list {
                    empty
                        .iter()
                        .filter_map(|p| p.strip_prefix(&prefix))
                        .filter(|p| p.starts_with('/'))
                        .map(str::to_owned)
                        .collect()
                } else {
                    empty.clone()
                };
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
fn empty_nulls(node: &yaml::Node, text: &str, pointer: &str, found: &mut Vec<String>) {
    match &node.value {
        yaml::Value::Map(entries) => {
            for entry in entries {
                let key = entry.key.replace('~', "~0").replace('/', "~1");
                let here = format!("{pointer}/{key}");
                let written = text
                    .get(entry.value.span.start..entry.value.span.end)
                    .unwrap_or_default()
                    .trim();
                if entry.value.value == yaml::Value::Null && written.is_empty() {
                    found.push(here);
                } else {
                    empty_nulls(&entry.value, text, &here, found);
                }
            }
        }
        yaml::Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                empty_nulls(item, text, &format!("{pointer}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The objects one document holds: the items of a `List`, else the document itself.
fn objects(document: &Json) -> Vec<Json> {
    match document.get("kind").and_then(Json::as_str) {
        Some("List") => document
            .get("items")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => vec![document.clone()],
    }
}

/// What is wrong with an object's identity, if anything: it needs a kind and a name, none of
/// them too long. The error is at the document it came from. An object without `apiVersion`
/// is accepted, as kustomize accepts it (its group and version are then empty).
fn identity_problem(tree: &JsonTree, object: &Json) -> Option<Diagnostic> {
    let missing: Vec<&str> = ["/kind", "/metadata/name"]
        .into_iter()
        .filter(|p| {
            object
                .pointer(p)
                .and_then(Json::as_str)
                .is_none_or(str::is_empty)
        })
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
