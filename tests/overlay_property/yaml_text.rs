//! Writing YAML: values in every style kubectl reads (plain, quoted, block, flow), each
//! chosen where it is safe.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::random::Rng;

/// Marks a string written verbatim as a plain scalar, whatever YAML makes of it.
pub(super) const RAW: char = '\u{E000}';
/// Marks a string that must be written as a literal block (patch texts in a kustomization).
pub(super) const BLOCK: char = '\u{E001}';

pub(super) fn raw(token: &str) -> Value {
    Value::String(format!("{RAW}{token}"))
}

pub(super) fn block(text: &str) -> Value {
    Value::String(format!("{BLOCK}{text}"))
}

/// One YAML document for `value`, every scalar in a randomly chosen style that keeps its value
/// (plain, single-quoted, double-quoted with escapes, literal block), lists indented or not,
/// small collections sometimes in flow style.
pub(super) fn to_yaml(rng: &mut Rng, value: &Value) -> String {
    let mut writer = Writer {
        indent_lists: rng.chance(30),
        rng,
        out: String::new(),
    };
    match value {
        Value::Object(map) if !map.is_empty() => writer.map(map, 0, false),
        Value::Array(items) if !items.is_empty() => writer.list(items, 0),
        other => panic!("a document must be a non-empty collection, not {other}"),
    }
    writer.out
}

/// A document as JSON (YAML's subset), when nothing in it needs a YAML-only spelling.
pub(super) fn to_json_or_yaml(rng: &mut Rng, value: &Value) -> String {
    if rng.chance(8) && !has_markers(value) {
        let mut text = serde_json::to_string_pretty(value).expect("serialisable");
        text.push('\n');
        return text;
    }
    to_yaml(rng, value)
}

pub(super) fn has_markers(value: &Value) -> bool {
    match value {
        Value::String(s) => s.starts_with([RAW, BLOCK]),
        Value::Array(items) => items.iter().any(has_markers),
        Value::Object(map) => map.values().any(has_markers),
        _ => false,
    }
}

pub(super) struct Writer<'a> {
    pub(super) rng: &'a mut Rng,
    /// `key:\n  - a` rather than `key:\n- a`; kustomize writes the second.
    pub(super) indent_lists: bool,
    pub(super) out: String,
}

impl Writer<'_> {
    pub(super) fn pad(&mut self, indent: usize) {
        self.out.extend(std::iter::repeat_n(' ', indent));
    }

    /// Entries of a block mapping at column `indent`; the first one follows a `- ` already
    /// written when `inline_first`.
    pub(super) fn map(&mut self, map: &Map<String, Value>, indent: usize, inline_first: bool) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 || !inline_first {
                self.pad(indent);
            }
            let key = self.key(key);
            self.out.push_str(&key);
            self.out.push(':');
            self.value(value, indent);
        }
    }

    /// Items of a block sequence at column `indent`.
    pub(super) fn list(&mut self, items: &[Value], indent: usize) {
        for item in items {
            self.pad(indent);
            self.out.push('-');
            match item {
                Value::Object(map) if !map.is_empty() => {
                    self.out.push(' ');
                    self.map(map, indent + 2, true);
                }
                Value::Array(inner) if !inner.is_empty() => {
                    self.out.push('\n');
                    self.list(inner, indent + 2);
                }
                other => self.value(other, indent),
            }
        }
    }

    /// The value after `key:` or `-`, whose own line starts at column `indent`.
    pub(super) fn value(&mut self, value: &Value, indent: usize) {
        match value {
            Value::Object(map) if map.is_empty() => self.out.push_str(" {}\n"),
            Value::Array(items) if items.is_empty() => self.out.push_str(" []\n"),
            Value::Object(map) => {
                if flowable(value) && self.rng.chance(15) {
                    let entries: Vec<String> = map
                        .iter()
                        .map(|(k, v)| format!("{}: {}", self.key(k), self.scalar(v, 0, true)))
                        .collect();
                    let _ = writeln!(self.out, " {{{}}}", entries.join(", "));
                } else {
                    self.out.push('\n');
                    self.map(map, indent + 2, false);
                }
            }
            Value::Array(items) => {
                if flowable(value) && self.rng.chance(20) {
                    let entries: Vec<String> =
                        items.iter().map(|v| self.scalar(v, 0, true)).collect();
                    let _ = writeln!(self.out, " [{}]", entries.join(", "));
                } else {
                    self.out.push('\n');
                    let at = if self.indent_lists {
                        indent + 2
                    } else {
                        indent
                    };
                    self.list(items, at);
                }
            }
            Value::Null => {
                let spelled = self.rng.pick(&[" null\n", " ~\n", "\n"]);
                self.out.push_str(spelled);
            }
            scalar => {
                let text = self.scalar(scalar, indent + 2, false);
                self.out.push(' ');
                self.out.push_str(&text);
                self.out.push('\n');
            }
        }
    }

    pub(super) fn key(&mut self, key: &str) -> String {
        let plain = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-$".contains(c));
        if plain && !is_reserved_word(key) {
            key.to_owned()
        } else {
            self.double_quoted(key)
        }
    }

    /// A scalar; a literal block's lines go at column `indent`. In flow context no block.
    pub(super) fn scalar(&mut self, value: &Value, indent: usize, flow: bool) -> String {
        let Value::String(s) = value else {
            return match value {
                Value::Null => "null".to_owned(),
                other => other.to_string(),
            };
        };
        if let Some(token) = s.strip_prefix(RAW) {
            return token.to_owned();
        }
        if let Some(text) = s.strip_prefix(BLOCK) {
            return literal(text, indent);
        }
        let mut styles = vec!['"'];
        if plain_safe(s) {
            styles.extend(['p', 'p', 'p']);
        }
        if single_safe(s) {
            styles.push('\'');
        }
        if !flow && literal_safe(s) {
            styles.extend(['|', '|']);
        }
        match self.rng.pick(&styles) {
            'p' => s.clone(),
            '\'' => format!("'{}'", s.replace('\'', "''")),
            '|' => literal(s, indent),
            _ => self.double_quoted(s),
        }
    }

    /// A double-quoted scalar; other scripts sometimes as `\u` escapes, to read those too.
    pub(super) fn double_quoted(&mut self, s: &str) -> String {
        let escape_unicode = self.rng.chance(20);
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\x{:02x}", u32::from(c));
                }
                c if escape_unicode && u32::from(c) > 0xFFFF => {
                    let _ = write!(out, "\\U{:08x}", u32::from(c));
                }
                c if escape_unicode && !c.is_ascii() => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

/// A collection of scalars only, which flow style can hold.
pub(super) fn flowable(value: &Value) -> bool {
    let scalar = |v: &Value| match v {
        Value::String(s) => !s.starts_with(BLOCK),
        Value::Number(_) | Value::Bool(_) => true,
        _ => false,
    };
    match value {
        Value::Array(items) => items.iter().all(scalar),
        Value::Object(map) => map.values().all(scalar),
        _ => false,
    }
}

/// Words that a plain scalar would turn into a boolean or null in YAML 1.1 or 1.2.
pub(super) fn is_reserved_word(s: &str) -> bool {
    [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
    ]
    .contains(&s.to_lowercase().as_str())
}

/// Whether `s` reads back as the same string when written plain, in block or flow context.
pub(super) fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || (!first.is_ascii() && first.is_alphabetic()))
        && s.chars()
            .all(|c| c.is_alphanumeric() || " ._/-=+@()".contains(c))
        && !s.ends_with(' ')
        && !is_reserved_word(s)
}

pub(super) fn single_safe(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() && c != '\t')
}

/// Whether a literal block (`|` or `|-`) can hold `s` exactly.
pub(super) fn literal_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.ends_with("\n\n")
        && !s.starts_with([' ', '\n'])
        && !s.chars().any(|c| c.is_control() && c != '\n')
        && s.split('\n').all(|line| !line.ends_with(' '))
}

pub(super) fn literal(text: &str, indent: usize) -> String {
    assert!(
        !text.ends_with("\n\n") && !text.starts_with([' ', '\n']),
        "not writable as a literal block: {text:?}"
    );
    let (header, body) = match text.strip_suffix('\n') {
        Some(body) => ("|", body),
        None => ("|-", text),
    };
    let pad = " ".repeat(indent);
    let lines: Vec<String> = body
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect();
    format!("{header}\n{}", lines.join("\n"))
}
