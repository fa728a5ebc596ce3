//! A small, deterministic YAML emitter, byte-compatible with what Go's yaml.v3 writes.
//!
//! Rendered files keep keys in the order the generators built them (`apiVersion`, `kind`,
//! `metadata`, `spec` first, as people write them); kustomize-compatible output sorts them.
//! Scalars get yaml.v3's styles (plain, single, double, literal block); lists sit at their
//! key's indentation, as kustomize prints them.

mod key_order;
mod number;
mod string;
#[cfg(test)]
mod tests;

use serde_json::Value as Json;

use key_order::go_yaml_key_order;
use number::push_number;
use string::{push_literal_block, push_spaces, push_string_scalar, string_scalar};

use crate::yaml::scalar::Place;

/// The key of a one-entry object the emitter writes as a literal block (`|-`) whatever its text.
/// A NUL cannot come from any YAML input, so no real mapping is mistaken for it.
const LITERAL_KEY: &str = "\u{0}literal";

/// A string to be written as a literal block even on one line: Flux substitutes `${var}`
/// textually, and a literal block keeps any single-line value intact (quotes, `: `, `#`).
pub fn literal(text: &str) -> Json {
    let mut map = serde_json::Map::new();
    map.insert(LITERAL_KEY.to_owned(), Json::String(text.to_owned()));
    Json::Object(map)
}

fn as_literal(value: &Json) -> Option<&str> {
    match value {
        Json::Object(map) if map.len() == 1 => map.get(LITERAL_KEY).and_then(Json::as_str),
        _ => None,
    }
}

/// One document, without a leading `---`, ending in a newline; keys in the order built.
pub fn document(value: &Json) -> String {
    let mut out = String::with_capacity(DOCUMENT_CAPACITY);
    Writer { sorted: false }.document(&mut out, value);
    out
}

/// Several documents separated by `---`.
pub fn documents(values: &[Json]) -> String {
    let mut out = String::with_capacity(DOCUMENT_CAPACITY * values.len());
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        Writer { sorted: false }.document(&mut out, value);
    }
    out
}

/// One document as kustomize prints it: every mapping's keys sorted.
pub fn sorted_document(value: &Json) -> String {
    let mut out = String::with_capacity(DOCUMENT_CAPACITY);
    Writer { sorted: true }.document(&mut out, value);
    out
}

/// Room reserved for a document's text: most rendered objects fit, so the text grows rarely.
const DOCUMENT_CAPACITY: usize = 1024;

struct Writer {
    sorted: bool,
}

impl Writer {
    fn document(&self, out: &mut String, value: &Json) {
        match value {
            Json::Object(map) if !map.is_empty() => self.map(out, map, 0),
            Json::Array(items) if !items.is_empty() => self.seq(out, items, 0, false),
            scalar => {
                push_scalar(out, scalar, 0, Some(0));
                out.push('\n');
            }
        }
    }

    /// A mapping's entries; the first starts where the cursor is when `inline` (after `- `).
    /// Built order needs no list of the entries; sorted order does.
    fn map_entries(
        &self,
        out: &mut String,
        map: &serde_json::Map<String, Json>,
        indent: usize,
        inline: bool,
    ) {
        if self.sorted {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| go_yaml_key_order(a.0, b.0));
            for (i, (key, value)) in entries.into_iter().enumerate() {
                self.entry(out, key, value, indent, i > 0 || !inline);
            }
        } else {
            for (i, (key, value)) in map.iter().enumerate() {
                self.entry(out, key, value, indent, i > 0 || !inline);
            }
        }
    }

    /// One `key: value` entry, indented first when `indented`.
    fn entry(&self, out: &mut String, key: &str, value: &Json, indent: usize, indented: bool) {
        if indented {
            push_spaces(out, indent);
        }
        let start = out.len();
        push_string_scalar(out, key, indent, None, Place::Key);
        let key = &out[start..];
        let width = if key.is_ascii() {
            key.len()
        } else {
            key.chars().count()
        };
        let column = indent + width + 2;
        out.push(':');
        self.value_after_key(out, value, indent, column);
    }

    fn map(&self, out: &mut String, map: &serde_json::Map<String, Json>, indent: usize) {
        self.map_entries(out, map, indent, false);
    }

    /// The value of a mapping entry; `column` is where a scalar value would start.
    fn value_after_key(&self, out: &mut String, value: &Json, indent: usize, column: usize) {
        if let Some(text) = as_literal(value) {
            out.push(' ');
            push_literal_block(out, text, indent + 2);
            out.push('\n');
            return;
        }
        match value {
            Json::Object(map) if !map.is_empty() => {
                out.push('\n');
                self.map(out, map, indent + 2);
            }
            Json::Array(items) if !items.is_empty() => {
                out.push('\n');
                self.seq(out, items, indent, false);
            }
            scalar => {
                out.push(' ');
                push_scalar(out, scalar, indent + 2, Some(column));
                out.push('\n');
            }
        }
    }

    /// A sequence's items; the first starts where the cursor is when `inline` (a list in a list).
    fn seq(&self, out: &mut String, items: &[Json], indent: usize, inline: bool) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !inline {
                push_spaces(out, indent);
            }
            out.push_str("- ");
            match item {
                Json::Object(map) if !map.is_empty() => {
                    self.map_entries(out, map, indent + 2, true)
                }
                Json::Array(inner) if !inner.is_empty() => self.seq(out, inner, indent + 2, true),
                scalar => {
                    push_scalar(out, scalar, indent + 2, Some(indent + 2));
                    out.push('\n');
                }
            }
        }
    }
}

/// A scalar starting at `column` (`None`: never folded), continued at `indent` when folded,
/// written straight into `out`.
fn push_scalar(out: &mut String, value: &Json, indent: usize, column: Option<usize>) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => push_number(out, n),
        Json::String(s) => push_string_scalar(out, s, indent, column, Place::Value),
        Json::Object(_) => out.push_str("{}"),
        Json::Array(_) => out.push_str("[]"),
    }
}

/// A string as a one-line YAML scalar: plain when safe, else quoted (never a block).
pub fn inline_string(s: &str) -> String {
    string_scalar(s, 0, None, Place::OneLine)
}
