//! A parsed YAML document as JSON, with the source span of every value kept by JSON pointer.
//!
//! Schema checks and semantic rules speak JSON pointers; this table turns a pointer back into
//! the file position and the dotted YAML path the user sees.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::yaml::{Node, Value};

#[derive(Clone, Debug)]
struct Place {
    key: Option<Span>,
    value: Span,
    /// Whether the value is a sequence's item (`[i]` in a YAML path) rather than a mapping's
    /// entry (`.key`): with the ancestors' places, this spells the YAML path when a message
    /// asks for it, instead of a string kept for every node.
    item: bool,
}

/// One document as JSON plus where each part came from.
#[derive(Clone, Debug)]
pub struct JsonTree {
    pub file: String,
    pub value: Json,
    places: HashMap<String, Place>,
}

impl JsonTree {
    pub fn new(file: &str, root: &Node) -> JsonTree {
        JsonTree::convert(file, Cow::Borrowed(root))
    }

    /// [`JsonTree::new`] from a node the caller gives up: its texts move into the JSON.
    pub fn from_node(file: &str, root: Node) -> JsonTree {
        JsonTree::convert(file, Cow::Owned(root))
    }

    fn convert(file: &str, root: Cow<'_, Node>) -> JsonTree {
        let mut places = HashMap::new();
        let value = convert(root, String::new(), None, &mut places);
        JsonTree {
            file: file.to_owned(),
            value,
            places,
        }
    }

    /// The dotted YAML path (`spec.ssh.authorizedKeys[0]`) of a pointer, present in the file or not.
    pub fn yaml_path(&self, pointer: &str) -> String {
        if self.places.contains_key(pointer) {
            return self.recorded_path(pointer);
        }
        let mut path = String::new();
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                path.push_str(&format!("[{segment}]"));
            } else {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&segment);
            }
        }
        path
    }

    /// The YAML path of a pointer the file has, from the places of it and its ancestors: a
    /// sequence's item is `[i]`, a mapping's entry `.key` (the key unescaped, as written).
    fn recorded_path(&self, pointer: &str) -> String {
        let mut path = String::with_capacity(pointer.len() + 8);
        let mut end = 0;
        for segment in pointer.split('/').skip(1) {
            end += 1 + segment.len();
            if self.places.get(&pointer[..end]).is_some_and(|p| p.item) {
                path.push('[');
                path.push_str(segment);
                path.push(']');
                continue;
            }
            if !path.is_empty() {
                path.push('.');
            }
            if segment.contains('~') {
                path.push_str(&segment.replace("~1", "/").replace("~0", "~"));
            } else {
                path.push_str(segment);
            }
        }
        path
    }

    /// The pointer itself when the file has it, else its closest ancestor that the file has.
    pub fn nearest<'p>(&self, mut pointer: &'p str) -> &'p str {
        while !pointer.is_empty() && !self.places.contains_key(pointer) {
            pointer = pointer.rsplit_once('/').map_or("", |(parent, _)| parent);
        }
        pointer
    }

    /// The last part of the YAML path, for messages (`authorizedKeys[0]`).
    pub fn field_name(&self, pointer: &str) -> String {
        let path = self.yaml_path(pointer);
        match path.rfind('.') {
            Some(i) => path[i + 1..].to_owned(),
            None if path.is_empty() => "the document".to_owned(),
            None => path,
        }
    }

    pub fn value_span(&self, pointer: &str) -> Span {
        self.places
            .get(self.nearest(pointer))
            .map_or_else(Span::default, |p| p.value)
    }

    /// The key's span where the value has one, else the value's.
    pub fn key_span(&self, pointer: &str) -> Span {
        self.places
            .get(self.nearest(pointer))
            .map_or_else(Span::default, |p| p.key.unwrap_or(p.value))
    }

    /// An error pointing at the value found at `pointer`.
    pub fn value_error(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(
            &self.file,
            self.value_span(pointer),
            &self.yaml_path(pointer),
            message,
        )
    }

    /// An error pointing at the key of `pointer` (used for unknown and missing fields).
    pub fn key_error(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(
            &self.file,
            self.key_span(pointer),
            &self.yaml_path(pointer),
            message,
        )
    }

    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        crate::json_pointer::get(&self.value, pointer).and_then(Json::as_str)
    }
}

/// Converts a node, borrowed (its texts copied) or owned (its texts moved), recording the place
/// of it and of everything below it.
fn convert(
    node: Cow<'_, Node>,
    pointer: String,
    key: Option<Span>,
    places: &mut HashMap<String, Place>,
) -> Json {
    let span = node.span;
    let value = match node {
        Cow::Borrowed(node) => match &node.value {
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(items) => Json::Array(
                (items.iter().enumerate())
                    .map(|(i, item)| {
                        convert(Cow::Borrowed(item), item_pointer(&pointer, i), None, places)
                    })
                    .collect(),
            ),
            Value::Map(entries) => Json::Object(
                (entries.iter())
                    .map(|entry| {
                        let p = entry_pointer(&pointer, &entry.key);
                        let child = Cow::Borrowed(&entry.value);
                        let child = convert(child, p, Some(entry.key_span), places);
                        (entry.key.clone(), child)
                    })
                    .collect(),
            ),
            scalar => scalar_json(scalar),
        },
        Cow::Owned(node) => match node.value {
            Value::Str(s) => Json::String(s),
            Value::Seq(items) => Json::Array(
                (items.into_iter().enumerate())
                    .map(|(i, item)| {
                        convert(Cow::Owned(item), item_pointer(&pointer, i), None, places)
                    })
                    .collect(),
            ),
            Value::Map(entries) => Json::Object(
                (entries.into_iter())
                    .map(|entry| {
                        let p = entry_pointer(&pointer, &entry.key);
                        let child = Cow::Owned(entry.value);
                        let child = convert(child, p, Some(entry.key_span), places);
                        (entry.key, child)
                    })
                    .collect(),
            ),
            scalar => scalar_json(&scalar),
        },
    };
    places.insert(
        pointer,
        Place {
            key,
            value: span,
            // only a sequence's items (and the root, never asked) have no key
            item: key.is_none(),
        },
    );
    value
}

/// A null, boolean or number as JSON (`convert` handles the rest).
fn scalar_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        _ => Json::Null,
    }
}

/// The pointer of a sequence's item `i`.
fn item_pointer(pointer: &str, i: usize) -> String {
    format!("{pointer}/{i}")
}

/// The pointer of a mapping's entry `key`.
fn entry_pointer(pointer: &str, key: &str) -> String {
    // most keys need no escape, and a `replace` always makes a new string
    if key.contains(['~', '/']) {
        joined(pointer, "/", &key.replace('~', "~0").replace('/', "~1"))
    } else {
        joined(pointer, "/", key)
    }
}

/// `parent`, `separator` and `child` in one string of the right size.
fn joined(parent: &str, separator: &str, child: &str) -> String {
    let mut text = String::with_capacity(parent.len() + separator.len() + child.len());
    text.push_str(parent);
    text.push_str(separator);
    text.push_str(child);
    text
}

#[cfg(test)]
mod tests {
    use super::JsonTree;
    use crate::source::SourceFile;
    use crate::yaml::{self, Node, Value};

    /// Every (pointer, YAML path) pair of `node`, the path spelled as each node is reached.
    fn expected(node: &Node, pointer: &str, path: &str, out: &mut Vec<(String, String)>) {
        out.push((pointer.to_owned(), path.to_owned()));
        match &node.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    expected(
                        item,
                        &format!("{pointer}/{i}"),
                        &format!("{path}[{i}]"),
                        out,
                    );
                }
            }
            Value::Map(entries) => {
                for entry in entries {
                    let escaped = entry.key.replace('~', "~0").replace('/', "~1");
                    let child = if path.is_empty() {
                        entry.key.clone()
                    } else {
                        format!("{path}.{}", entry.key)
                    };
                    expected(&entry.value, &format!("{pointer}/{escaped}"), &child, out);
                }
            }
            _ => {}
        }
    }

    /// The YAML path of every node, asked by its pointer, is spelled as the file nests it:
    /// indices in brackets, keys (numeric, empty, with `/` or `~`) after dots.
    #[test]
    fn every_node_has_its_yaml_path() {
        let text = "a:\n  b: [1, {c: 2, \"0\": [x]}]\n  \"1\": {\"x/y\": 1, \"~t\": [[z]]}\n  \"\": {e: 1}\nlist:\n- - deep\n";
        let (documents, _) = yaml::parse_stream(&SourceFile::new("t.yaml", text));
        let mut pairs = Vec::new();
        expected(&documents[0], "", "", &mut pairs);
        assert!(pairs.len() > 15);
        for tree in [
            JsonTree::new("t.yaml", &documents[0]),
            JsonTree::from_node("t.yaml", documents[0].clone()),
        ] {
            for (pointer, path) in &pairs {
                assert_eq!(&tree.yaml_path(pointer), path, "{pointer}");
            }
        }
    }
}
