//! Resource files: every object of a YAML file (`List` objects unpacked), each checked for the
//! fields that identify it.

use serde_json::Value as Json;

use super::Engine;
use super::kustomization::long_name;
use super::resource::Resource;
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
            for object in objects(&tree.value) {
                if let Some(problem) = identity_problem(&tree, &object) {
                    problems.push(problem);
                    continue;
                }
                let mut resource = Resource::new(object, path);
                self.mark_read(&mut resource, path);
                resource.at = Span::new(document.span.start, document.span.start);
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

/// What is wrong with an object's identity, if anything: it needs an apiVersion, a kind and a
/// name, none of them too long. The error is at the document it came from.
fn identity_problem(tree: &JsonTree, object: &Json) -> Option<Diagnostic> {
    let missing: Vec<&str> = ["/apiVersion", "/kind", "/metadata/name"]
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
                .expected("a Kubernetes object with apiVersion, kind and metadata.name")
                .hint("every document of a resource file must be one object"),
        );
    }
    None
}
