//! Reading a patch: from `patch:` text or a `path:` file, parsed, with where each document or
//! operation is written (inline patches mapped into the kustomization's own text).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::super::Engine;
use super::super::kustomization::Kustomization;
use super::super::scalars::{Scalar, scalars};
use super::Patch;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::yaml;

/// Reads a patch from `patch:` text or a `path:` file.
pub(super) fn read_patch(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    pointer: &str,
    inline: Option<&str>,
    path: Option<&str>,
) -> Result<Patch, Vec<Diagnostic>> {
    let (name, text) = patch_text(engine, kustomization, pointer, inline, path)?;
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
    let locations: Vec<(String, Span)> = match inline {
        Some(_) => {
            let inline = Inline {
                engine,
                kustomization,
                pointer,
                file: &file,
            };
            spans
                .into_iter()
                .map(|span| inline.location(span))
                .collect()
        }
        None => spans
            .into_iter()
            .map(|span| (name.clone(), Span::new(span.start, span.start)))
            .collect(),
    };
    if !is_json6902 {
        check_mappings(&nodes, &locations)?;
    }
    let scalars: Vec<_> = nodes.iter().map(|d| scalars(d, &file.text)).collect();
    let mut documents: Vec<Json> = nodes
        .iter()
        .map(|d| super::super::resources::to_json(d))
        .collect();
    let raw_json = file.text.starts_with('[');
    if is_json6902 && !raw_json {
        for (document, scalars) in documents.iter_mut().zip(&scalars) {
            yaml11_booleans(document, scalars);
        }
    }
    Ok(Patch {
        documents,
        locations,
        pointer: pointer.to_owned(),
        is_json6902,
        raw_json,
        scalars,
    })
}

/// kustomize converts a JSON patch written as YAML with sigs.k8s.io/yaml, a YAML 1.1 reader:
/// a plain `yes`, `off`, `y` is a boolean there.
fn yaml11_booleans(document: &mut Json, scalars: &BTreeMap<String, Scalar>) {
    for (pointer, scalar) in scalars {
        if !scalar.styled
            && yaml::scalar::is_yaml11_bool(&scalar.text)
            && let Some(value) = document.pointer_mut(pointer)
        {
            *value = Json::Bool(matches!(
                scalar.text.as_str(),
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
            ));
        }
    }
}

/// The patch's name for messages and its text: the inline text, or the file's.
fn patch_text(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    pointer: &str,
    inline: Option<&str>,
    path: Option<&str>,
) -> Result<(String, String), Vec<Diagnostic>> {
    match (inline, path) {
        (Some(text), _) => Ok((format!("{}#inline", kustomization.path), text.to_owned())),
        (None, Some(path)) => {
            let full = engine
                .locate(&kustomization.dir, path, true)
                .map_err(|why| {
                    vec![kustomization
                        .error(pointer, why.to_string())
                        .expected("a patch file in or below the kustomization's directory")
                        .hint("as with kustomize, patch files come from the kustomization's own directory")]
                })?;
            let text = engine.read(&full).map_err(|why| {
                vec![
                    kustomization
                        .error(pointer, format!("cannot read patch `{path}`: {why}"))
                        .expected("a patch file relative to the kustomization")
                        .hint("check the path"),
                ]
            })?;
            Ok((full, text))
        }
        (None, None) => Err(vec![
            kustomization.error(pointer, "a patch needs `patch` or `path`"),
        ]),
    }
}

/// A strategic-merge patch merges into the object, so each document must be a mapping too;
/// anything else would replace the whole object.
fn check_mappings(
    nodes: &[&yaml::Node],
    locations: &[(String, Span)],
) -> Result<(), Vec<Diagnostic>> {
    let not_a_map = nodes
        .iter()
        .zip(locations)
        .find(|(d, _)| !matches!(d.value, yaml::Value::Map(_)));
    let Some((node, (file, span))) = not_a_map else {
        return Ok(());
    };
    let found = yaml::type_name(&node.value);
    let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    Err(vec![
        Diagnostic::error(
            file,
            *span,
            "",
            format!("a strategic-merge patch is a mapping, not {article} {found}"),
        )
        .expected("a mapping of the fields to change, or a list of JSON 6902 operations")
        .hint("start the patch with the object's fields (`metadata:`, `spec:`) or with `- op:`"),
    ])
}

/// An inline patch: its positions are mapped into the kustomization that holds its text.
struct Inline<'a, 'e> {
    engine: &'a Engine<'e>,
    kustomization: &'a Kustomization,
    pointer: &'a str,
    file: &'a SourceFile,
}

impl Inline<'_, '_> {
    /// Where `span` of the patch's own text sits in the kustomization.
    fn location(&self, span: Span) -> (String, Span) {
        let source = self
            .engine
            .texts
            .get(&self.kustomization.path)
            .map_or("", String::as_str);
        let block = self.kustomization.tree.value_span(&format!(
            "{}{}",
            self.pointer,
            if self.pointer.starts_with("/patchesStrategicMerge") {
                ""
            } else {
                "/patch"
            }
        ));
        let at = inline_offset(source, block, &self.file.text, span.start);
        (self.kustomization.path.clone(), Span::new(at, at))
    }
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
