//! A small, deterministic YAML emitter for rendered objects.
//!
//! Keys keep the order the generators built them in (`apiVersion`, `kind`, `metadata`, `spec`
//! first, as people write them); strings are quoted only when plain style would change their
//! meaning; multi-line strings become literal blocks. Lists sit at their key's indentation,
//! as kustomize prints them.

use serde_json::Value as Json;

use crate::core::yaml::{Value as YamlValue, resolve_plain};

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

/// One document, without a leading `---`, ending in a newline.
pub fn document(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Json::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

/// Several documents separated by `---`.
pub fn documents(values: &[Json]) -> String {
    values
        .iter()
        .map(document)
        .collect::<Vec<_>>()
        .join("---\n")
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Json>, indent: usize) {
    for (key, value) in map {
        push_indent(out, indent);
        out.push_str(&string_scalar(key, indent, true));
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

fn write_value_after_key(out: &mut String, value: &Json, indent: usize) {
    if let Some(text) = as_literal(value) {
        out.push(' ');
        out.push_str(&literal_block(text, indent + 2));
        out.push('\n');
        return;
    }
    match value {
        Json::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Json::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Json], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        if !matches!(item, Json::Array(inner) if !inner.is_empty()) {
            out.push(' ');
        }
        match item {
            Json::Object(map) if !map.is_empty() => {
                let mut first = true;
                for (key, value) in map {
                    if !first {
                        push_indent(out, indent + 2);
                    }
                    first = false;
                    out.push_str(&string_scalar(key, indent + 2, true));
                    out.push(':');
                    write_value_after_key(out, value, indent + 2);
                }
            }
            Json::Array(inner) if !inner.is_empty() => {
                // A nested list starts on its own line, indented under the dash.
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn scalar_text(value: &Json, indent: usize) -> String {
    match value {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => string_scalar(s, indent, false),
        Json::Object(_) => "{}".to_owned(),
        Json::Array(_) => "[]".to_owned(),
    }
}

/// A string as a one-line YAML scalar: plain when safe, else quoted (never a block).
pub fn inline_string(s: &str) -> String {
    if s.contains('\n') {
        serde_json::to_string(s).expect("a string always serialises")
    } else {
        string_scalar(s, 0, false)
    }
}

/// A string as a YAML scalar: plain when safe, a literal block when multi-line, else quoted.
fn string_scalar(s: &str, indent: usize, is_key: bool) -> String {
    if !is_key
        && s.contains('\n')
        && s.chars().all(|c| c == '\n' || !c.is_control())
        && !s.contains(" \n")
    {
        return literal_block(s, indent);
    }
    if plain_is_safe(s) {
        return s.to_owned();
    }
    if !matches!(resolve_plain(s), YamlValue::Str(_))
        || s.chars().any(char::is_control)
        || s.contains('\'')
    {
        return serde_json::to_string(s).expect("a string always serialises");
    }
    format!("'{s}'")
}

fn literal_block(s: &str, indent: usize) -> String {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if body.ends_with('\n') {
        "+"
    } else {
        ""
    };
    let indicator = if body.starts_with(' ') { "2" } else { "" };
    let mut out = format!("|{indicator}{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    out
}

/// Whether `s` reads back as the same string when written plain.
fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !matches!(resolve_plain(s), YamlValue::Str(_)) {
        return false;
    }
    // YAML 1.1 readers (kubectl's, Go's) still take these for booleans or numbers.
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "y" | "n" | "yes" | "no" | "on" | "off") || looks_numeric(s) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first)
        && !(matches!(first, '-' | '?' | ':') && s.len() > 1 && !s[1..].starts_with(' '))
    {
        return false;
    }
    if first == ' ' || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    !(s.contains(": ")
        || s.contains(" #")
        || s.contains(['\t', '\n', '\r'])
        || s.chars().any(char::is_control))
}

/// Sexagesimal, underscored or dotted numbers that YAML 1.1 would read as numbers.
fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || "._:eE+-".contains(c))
        && body.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::document;
    use crate::core::source::SourceFile;
    use crate::core::yaml::{Value, parse_stream};

    #[test]
    fn scalars_round_trip_through_the_parser() {
        let strings = [
            "plain",
            "true",
            "yes",
            "0600",
            "1.30",
            "10:20",
            "*.example.com",
            "a: b",
            "x #y",
            "- z",
            "",
            " lead",
            "trail ",
            "it's",
            "tab\there",
            "line\nbreak\n",
            "no newline\nat end",
            "  indented\nblock\n",
            "@at",
            "~",
            "ünïcode",
            "v1.36.2+k3s1",
            "ssh://git@h/x.git",
            "k=v:NoSchedule",
        ];
        for s in strings {
            let text = document(&json!({ "key": s }));
            let (docs, diags) = parse_stream(&SourceFile::new("t", text.clone()));
            assert!(diags.is_empty(), "{s:?} -> {text}: {diags:?}");
            assert_eq!(
                docs[0].get("key").unwrap().value,
                Value::Str(s.to_owned()),
                "{s:?} -> {text}"
            );
        }
    }

    #[test]
    fn forced_literal_blocks_keep_any_single_line() {
        for text in ["${password}", "a: b # \"c\" 'd'", "${x}"] {
            let yaml = document(&json!({ "key": super::literal(text) }));
            assert!(yaml.starts_with("key: |-\n  "), "{yaml}");
            let (docs, diags) = parse_stream(&SourceFile::new("t", yaml.clone()));
            assert!(diags.is_empty(), "{yaml}: {diags:?}");
            assert_eq!(
                docs[0].get("key").unwrap().value,
                Value::Str(text.to_owned()),
                "{yaml}"
            );
        }
    }

    #[test]
    fn layout() {
        let value = json!({"a": {"b": [1, {"c": "d", "e": []}], "f": {}}, "g": [[1]]});
        assert_eq!(
            document(&value),
            "a:\n  b:\n  - 1\n  - c: d\n    e: []\n  f: {}\ng:\n-\n  - 1\n"
        );
    }
}
