//! Tests of the parser: scalars, tags, spans, diagnostics and limits.

use super::*;
use crate::limits::MAX_DIAGNOSTICS;

fn parse(text: &str) -> (Vec<Node>, Vec<Diagnostic>) {
    parse_stream(&SourceFile::new("t.yaml", text))
}

#[test]
fn plain_scalars_follow_the_core_schema() {
    let cases: &[(&str, Value)] = &[
        ("~", Value::Null),
        ("true", Value::Bool(true)),
        ("yes", Value::Str("yes".into())),
        ("42", Value::Int(42)),
        ("-7", Value::Int(-7)),
        ("0x1f", Value::Int(31)),
        ("0o17", Value::Int(15)),
        ("1.5", Value::Float(1.5)),
        ("1e3", Value::Float(1000.0)),
        ("1.30", Value::Float(1.3)),
        ("v1.30", Value::Str("v1.30".into())),
        ("0600", Value::Int(384)),
        ("08", Value::Float(8.0)),
        ("1_000", Value::Int(1000)),
        ("0b101", Value::Int(5)),
        ("2024-03-01", Value::Str("2024-03-01T00:00:00Z".into())),
        (
            "2001-12-14t21:59:43.10-05:00",
            Value::Str("2001-12-14T21:59:43.1-05:00".into()),
        ),
        ("2024-13-01", Value::Str("2024-13-01".into())),
        ("1.2.3", Value::Str("1.2.3".into())),
    ];
    for (text, want) in cases {
        assert_eq!(&resolve_plain(text), want, "{text}");
    }
}

#[test]
fn core_tags_resolve() {
    let (docs, diags) = parse("a: !!str 12\nb: !!int \"7\"\nc: !!map {}\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(docs[0].get("a").unwrap().value, Value::Str("12".into()));
    assert_eq!(docs[0].get("b").unwrap().value, Value::Int(7));
}

#[test]
fn spans_point_at_keys_and_values() {
    let text = "a:\n  bé: \"x\"\n  c: [1, 2]\n";
    let (docs, diags) = parse(text);
    assert!(diags.is_empty(), "{diags:?}");
    let a = docs[0].get("a").unwrap();
    let entry = &a.entries()[0];
    assert_eq!(&text[entry.key_span.start..entry.key_span.end], "bé");
    assert_eq!(&text[entry.value.span.start..entry.value.span.end], "\"x\"");
}

#[test]
fn problems_are_diagnostics() {
    let cases = [
        ("a: 1\na: 2\n", "duplicate key `a`"),
        ("a:\n\tb: 1\n", "tabs cannot indent YAML; use spaces"),
        ("a: !custom x\n", "unsupported tag `!custom`"),
        ("a: !!binary eA==\n", "unsupported tag `!!binary`"),
        ("a: [1, 2\n", "invalid YAML"),
        ("a: *nope\n", "invalid YAML"),
    ];
    for (text, want) in cases {
        let (_, diags) = parse(text);
        assert!(
            diags.iter().any(|d| d.message.contains(want)),
            "{text:?}: {diags:?}"
        );
    }
}

#[test]
fn an_indenting_tab_is_pointed_at_where_the_scanner_stopped_past_it() {
    for (text, tab) in [
        ("a:\n\tb: 1\n", 3),
        ("a:\n  b: 1\n  \tc: 2\n", 12),
        ("a:\n  b:\n\t  - 1\n", 8),
    ] {
        let (_, diags) = parse(text);
        let spans: Vec<_> = diags.iter().map(|d| (d.span.start, d.span.end)).collect();
        assert_eq!(spans, [(tab, tab + 1)], "{text:?}: {diags:?}");
    }
}

#[test]
fn alias_bombs_are_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let prev = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    let (_, diags) = parse(&text);
    assert!(
        diags.iter().any(|d| d.message.contains("too many nodes")),
        "{diags:?}"
    );
}

#[test]
fn anchored_copies_count_as_nodes() {
    // each anchored level keeps a copy of everything below it
    let mut text: String = (0..40)
        .map(|i| format!("{}l{i}: &n{i}\n", " ".repeat(i)))
        .collect();
    text.push_str(&format!(
        "{}v: [{}]\n",
        " ".repeat(40),
        vec!["x"; 5000].join(", ")
    ));
    let (_, diags) = parse(&text);
    assert!(
        diags.iter().any(|d| d.message.contains("too many nodes")),
        "{diags:?}"
    );
}

#[test]
fn long_keys_above_many_values_are_bounded() {
    let text = format!(
        "? {}\n: [{}]\n",
        "k".repeat(500_000),
        vec!["x"; 40_000].join(", ")
    );
    let (_, diags) = parse(&text);
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("key paths are too long")),
        "{diags:?}"
    );
}

#[test]
fn a_flood_of_problems_stops_the_file() {
    let (_, diags) = parse(&"a: 1\n".repeat(1_000));
    assert_eq!(diags.len(), MAX_DIAGNOSTICS);
    assert!(diags[diags.len() - 1].message.contains("too many problems"));
}

#[test]
fn large_mappings_find_duplicates() {
    let mut text: String = (0..100).map(|i| format!("k{i}: 1\n")).collect();
    text.push_str("k7: 2\nk99: 3\n");
    let (_, diags) = parse(&text);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["duplicate key `k7`", "duplicate key `k99`"]);
}

#[test]
fn deep_nesting_is_bounded() {
    for depth in [66, 200, 100_000] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let (_, diags) = parse(&text);
        assert!(
            diags.iter().any(|d| d.message == "nesting is too deep"),
            "{depth}: {diags:?}"
        );
    }
    let (_, diags) = parse(&format!("{}{}", "[".repeat(65), "]".repeat(65)));
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn only_duplicate_keys_and_indenting_tabs_leave_the_documents_whole() {
    let whole = |text: &str| super::parse_stream_recovering(&SourceFile::new("t.yaml", text)).2;
    assert!(whole("a: 1\n"));
    assert!(whole("a: 1\na: 2\nb: 3\n"));
    // The tab reads as a space: `b` is `a`'s child, as the user meant, and still an error.
    assert!(whole("a:\n\tb: 1\n"));
    assert!(!whole("a: [\n"));
    assert!(!whole("a: !custom x\n"));
}

#[test]
fn a_tab_after_a_colon_separates_as_in_yaml_v3() {
    let (documents, diagnostics) = parse_stream(&SourceFile::new("t.yaml", "a:\tb\nc:\t \td\n"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let a = documents[0].get("a").and_then(Node::as_str);
    let c = documents[0].get("c").and_then(Node::as_str);
    assert_eq!((a, c), (Some("b"), Some("d")));
}

#[test]
fn an_indenting_tab_is_reported_and_the_rest_of_the_file_still_read() {
    // The tab reads as one space here, and the document is whole.
    let text = "spec:\n\tcloud:\n    provider: x\nother: [unclosed\n";
    let (_, diagnostics) = parse_stream(&SourceFile::new("t.yaml", text));
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("tabs cannot indent YAML"),
        "{messages:?}"
    );
    assert_eq!(diagnostics[0].span.start, text.find('\t').expect("tab"));
    assert!(messages[1].starts_with("invalid YAML"), "{messages:?}");
    // Misindented as one space, the line is left out and the file still read to its end.
    let text = "spec:\n  size: small\n\tdomain: x\n  name: y\n";
    let (documents, diagnostics, whole) =
        super::parse_stream_recovering(&SourceFile::new("t.yaml", text));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(
        diagnostics[0]
            .message
            .ends_with("checked without this line")
    );
    assert!(
        !whole
            || documents[0]
                .get("spec")
                .and_then(|s| s.get("name"))
                .is_some()
    );
}
