//! Tests of the emitter: round trips through the parser, styles, layout.

use serde_json::json;

use super::document;
use crate::source::SourceFile;
use crate::yaml::scalar::Place;
use crate::yaml::{Value, parse_stream};

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

/// Styles as `kubectl kustomize` (kustomize v5.5.0, yaml.v3) printed these strings.
#[test]
fn scalar_styles_match_yaml_v3() {
    let cases = [
        ("a: b", "'a: b'"),
        ("*x", "'*x'"),
        ("it's", "it's"),
        (" lead", "' lead'"),
        ("tab\there", "\"tab\\there\""),
        ("trail \nx", "\"trail \\nx\""),
        ("yes", "\"yes\""),
        ("on", "\"on\""),
        ("1", "\"1\""),
        ("1:20", "\"1:20\""),
        ("", "\"\""),
        ("#x", "'#x'"),
        ("- y", "'- y'"),
        ("a #b", "'a #b'"),
        ("@at", "'@at'"),
        ("%p", "'%p'"),
        ("`b", "'`b'"),
        ("10.2.0.10", "10.2.0.10"),
        ("2026-11-21", "\"2026-11-21\""),
        ("0x1f", "\"0x1f\""),
        ("1_000", "\"1_000\""),
        ("v1.36.2+k3s1", "v1.36.2+k3s1"),
        ("*.example.com", "'*.example.com'"),
        ("multi\nline", "|-\n  multi\n  line"),
        ("2024-13-01", "2024-13-01"),
        ("2024-02-31", "2024-02-31"),
        ("1e400", "1e400"),
        ("<<", "<<"),
        ("a\u{a0}\tb", "\"a\u{a0}\\tb\""),
        ("\u{feff}a b", "\"\\uFEFF\\x61\\x20\\x62\""),
        ("a\u{2028}b", "'a\u{2028}  b'"),
        ("\na", "|2-\n\n  a"),
        ("a\n\tb", "\"a\\n\\tb\""),
    ];
    for (text, want) in cases {
        assert_eq!(
            super::string::string_scalar(text, 2, Some(2), Place::Value),
            want,
            "{text:?}"
        );
    }
}

#[test]
fn keys_with_line_breaks_are_double_quoted() {
    for (key, want) in [("a\u{2028}b", "\"a\\Lb\""), ("a\nb", "\"a\\nb\"")] {
        assert_eq!(
            super::string::string_scalar(key, 0, None, Place::Key),
            want,
            "{key:?}"
        );
    }
}

#[test]
fn layout() {
    let value = json!({"a": {"b": [1, {"c": "d", "e": []}], "f": {}}, "g": [[1]]});
    assert_eq!(
        document(&value),
        "a:\n  b:\n  - 1\n  - c: d\n    e: []\n  f: {}\ng:\n- - 1\n"
    );
}
