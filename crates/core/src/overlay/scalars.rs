//! Where a document's scalars came from: each scalar's JSON pointer, its text as written, and
//! whether it was written plain. kyaml keeps a node's style (quoted, block) through a strategic
//! merge: a patch's value takes the style of the value it replaces, so a number patched over a
//! quoted string stays a string, with the patch's text (`0.0` becomes `"0.0"`). The engine's
//! objects are JSON values, which keep neither; these marks carry what the merge needs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::yaml;
use crate::yaml::scalar::{Place, Style, string_style};

/// One scalar as written.
#[derive(Clone, Debug)]
pub(super) struct Scalar {
    pub(super) text: String,
    /// Quoted or a block scalar, not plain.
    pub(super) styled: bool,
}

/// Every scalar of `node`, by JSON pointer (keys escaped as RFC 6901 asks).
pub(super) fn scalars(node: &yaml::Node, text: &str) -> BTreeMap<String, Scalar> {
    let mut found = BTreeMap::new();
    walk(
        node,
        text,
        &mut String::new(),
        &mut |pointer, written, styled| {
            found.insert(
                pointer.to_owned(),
                Scalar {
                    text: written.to_owned(),
                    styled,
                },
            );
        },
    );
    found
}

/// The pointers of the styled scalars of `node` alone: what a resource file's objects keep
/// (patches need every scalar's text, resources only which ones were quoted).
pub(super) fn styled(node: &yaml::Node, text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    walk(node, text, &mut String::new(), &mut |pointer, _, styled| {
        if styled {
            found.insert(pointer.to_owned());
        }
    });
    found
}

/// Calls `each` with every scalar's pointer, its text as written and whether it is styled.
/// `pointer` is one buffer, grown and cut back as the walk goes down and up.
fn walk(
    node: &yaml::Node,
    text: &str,
    pointer: &mut String,
    each: &mut dyn FnMut(&str, &str, bool),
) {
    let length = pointer.len();
    match &node.value {
        yaml::Value::Map(entries) => {
            for entry in entries {
                pointer.push('/');
                push_escaped(pointer, &entry.key);
                walk(&entry.value, text, pointer, each);
                pointer.truncate(length);
            }
        }
        yaml::Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                push_index(pointer, i);
                walk(item, text, pointer, each);
                pointer.truncate(length);
            }
        }
        _ => {
            let written = text
                .get(node.span.start..node.span.end)
                .unwrap_or_default()
                .trim();
            let styled = written.starts_with(['\'', '"', '|', '>'])
                || after_block_indicator(text, node.span.start);
            each(pointer, written, styled);
        }
    }
}

/// Appends a key as a JSON pointer segment (`~` → `~0`, `/` → `~1`).
pub(super) fn push_escaped(pointer: &mut String, key: &str) {
    if key.contains(['~', '/']) {
        pointer.push_str(&escape(key));
    } else {
        pointer.push_str(key);
    }
}

/// Appends `/i`.
pub(super) fn push_index(pointer: &mut String, i: usize) {
    use std::fmt::Write;
    let _ = write!(pointer, "/{i}");
}

/// Whether the text before `start` ends in a block scalar's header (`|`, `>-`, `|2+`, ...):
/// a block scalar's span starts at its content.
fn after_block_indicator(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or_default().trim_end();
    let header = before.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
    header.ends_with(['|', '>'])
}

/// A key as a JSON pointer segment.
pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The pointers of the styled scalars among `scalars` below `prefix` (`""` for all), with the
/// prefix taken off.
pub(super) fn styled_below(scalars: &BTreeMap<String, Scalar>, prefix: &str) -> BTreeSet<String> {
    scalars
        .iter()
        .filter(|(_, s)| s.styled)
        .filter_map(|(p, _)| p.strip_prefix(prefix))
        .filter(|p| p.is_empty() || p.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

/// After a round trip through JSON (a JSON 6902 patch), kyaml rebuilds the object by encoding
/// it with yaml.v3 and reading it back (`RNode.UnmarshalJSON`, `FromMap`): a string comes back
/// styled exactly when yaml.v3 does not write it plain (`"yes"`, `"1.0"`, `'a: b'`, blocks).
pub(super) fn strings_of(value: &Json) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    strings(value, String::new(), &mut found);
    found
}

fn strings(value: &Json, pointer: String, found: &mut BTreeSet<String>) {
    match value {
        Json::Object(map) => {
            for (key, child) in map {
                strings(child, format!("{pointer}/{}", escape(key)), found);
            }
        }
        Json::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                strings(child, format!("{pointer}/{i}"), found);
            }
        }
        Json::String(text) if string_style(text, Place::Value) != Style::Plain => {
            found.insert(pointer);
        }
        _ => {}
    }
}
