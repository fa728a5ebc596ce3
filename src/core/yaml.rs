//! YAML text to a tree of nodes that remember where they came from.
//!
//! saphyr-parser gives events with character positions; this module turns them into
//! [`Node`]s with byte spans, resolves plain scalars with the YAML 1.2 core schema, refuses
//! duplicate keys, and bounds the work a hostile file can cause (depth, alias expansion, size).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YamlSpan};

use crate::core::diagnostic::Diagnostic;
use crate::core::limits::MAX_DIAGNOSTICS;
pub use crate::core::limits::{MAX_DEPTH, MAX_INPUT_BYTES, MAX_NODES, MAX_PATH_BYTES};
use crate::core::source::{self, SourceFile, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are scalars rendered as text.
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The JSON type name used in messages (`string`, `mapping`, ...).
    pub fn type_name(&self) -> &'static str {
        type_name(&self.value)
    }
}

pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::Seq(_) => "list",
        Value::Map(_) => "mapping",
    }
}

/// Parses every document in `file`. Problems come back as diagnostics, never as a panic.
pub fn parse_stream(file: &SourceFile) -> (Vec<Node>, Vec<Diagnostic>) {
    if file.text.len() > MAX_INPUT_BYTES {
        return (Vec::new(), vec![source::too_large(&file.name)]);
    }
    let mut builder = Builder::new(file);
    let documents = builder.stream();
    (documents, builder.diagnostics)
}

struct Builder<'a> {
    file: &'a SourceFile,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Byte offset of each character, present only when the text is not ASCII.
    char_bytes: Option<Vec<usize>>,
    anchors: HashMap<usize, Node>,
    /// Nodes built so far in the whole stream, aliases expanded and anchored copies counted.
    nodes: usize,
    /// The length of every node's key path so far, summed (see [`MAX_PATH_BYTES`]).
    path_bytes: usize,
    /// Whether an alias was expanded, for the hint when there are too many nodes.
    aliased: bool,
    diagnostics: Vec<Diagnostic>,
}

/// Raised inside the builder to abandon the current document.
struct Abort;

impl<'a> Builder<'a> {
    fn new(file: &'a SourceFile) -> Builder<'a> {
        let char_bytes = (!file.text.is_ascii()).then(|| {
            let mut offsets: Vec<usize> = file.text.char_indices().map(|(i, _)| i).collect();
            offsets.push(file.text.len());
            offsets
        });
        Builder {
            file,
            parser: Parser::new_from_str(&file.text),
            char_bytes,
            anchors: HashMap::new(),
            nodes: 0,
            path_bytes: 0,
            aliased: false,
            diagnostics: Vec::new(),
        }
    }

    fn stream(&mut self) -> Vec<Node> {
        let mut documents = Vec::new();
        loop {
            match self.next() {
                Ok((Event::StreamEnd, _)) => return documents,
                Ok((Event::DocumentStart(_), _)) => {
                    self.anchors.clear();
                    match self.node(0, 0) {
                        Ok(node) => documents.push(node),
                        Err(Abort) => return documents,
                    }
                    if self.next().is_err() {
                        return documents;
                    }
                }
                Ok(_) => {}
                Err(Abort) => return documents,
            }
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, YamlSpan), Abort> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => {
                self.scan_error(&error);
                Err(Abort)
            }
            None => Err(Abort),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            Some(offsets) => offsets[char_index.min(offsets.len() - 1)],
            None => char_index.min(self.file.text.len()),
        }
    }

    fn span(&self, span: YamlSpan) -> Span {
        Span::new(self.byte(span.start.index()), self.byte(span.end.index()))
    }

    /// Counts `nodes` more nodes whose key paths are `path_bytes` long in all.
    fn count(&mut self, span: Span, nodes: usize, path_bytes: usize) -> Result<(), Abort> {
        self.nodes += nodes;
        self.path_bytes += path_bytes;
        if self.nodes > MAX_NODES {
            let hint = if self.aliased {
                "remove the aliases (`*name`) that repeat large parts of the document"
            } else {
                "railyard inputs are small hand-written files; split this one or check that it is the right file"
            };
            self.diagnostics.push(
                Diagnostic::error(
                    &self.file.name,
                    span,
                    "",
                    "document expands to too many nodes",
                )
                .expected(format!("at most {MAX_NODES} nodes, aliases expanded"))
                .hint(hint),
            );
            return Err(Abort);
        }
        if self.path_bytes > MAX_PATH_BYTES {
            self.diagnostics.push(
                Diagnostic::error(
                    &self.file.name,
                    span,
                    "",
                    "key paths are too long in total",
                )
                .expected(format!(
                    "at most {MAX_PATH_BYTES} bytes of key paths, summed over every value"
                ))
                .hint("every value below a key repeats it in its path; shorten the long keys above this point"),
            );
            return Err(Abort);
        }
        Ok(())
    }

    /// Reports `diagnostic`; abandons the file once there are as many as will be shown.
    fn report(&mut self, diagnostic: Diagnostic) -> Result<(), Abort> {
        if self.diagnostics.len() + 1 >= MAX_DIAGNOSTICS {
            let at = Diagnostic::error(
                &self.file.name,
                diagnostic.span,
                "",
                "too many problems: the rest of this file is not checked",
            )
            .expected(format!(
                "at most {MAX_DIAGNOSTICS} problems reported at once"
            ))
            .hint("fix the problems above and run again");
            self.diagnostics.push(at);
            return Err(Abort);
        }
        self.diagnostics.push(diagnostic);
        Ok(())
    }

    fn too_deep(&mut self, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(&self.file.name, span, "", "nesting is too deep")
                .expected(format!("at most {MAX_DEPTH} levels of mappings and lists"))
                .hint("a site file needs only a few levels; check the indentation"),
        );
    }

    /// Builds the next node, `depth` levels down, whose key path is `path_len` bytes long.
    fn node(&mut self, depth: usize, path_len: usize) -> Result<Node, Abort> {
        let (event, yaml_span) = self.next()?;
        let span = self.span(yaml_span);
        if depth > MAX_DEPTH {
            self.too_deep(span);
            return Err(Abort);
        }
        let nodes_before = self.nodes;
        self.count(span, 1, path_len)?;
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let text = self.unterminated_block(text, style, span);
                let value = self.scalar(&text, style, tag.as_deref(), span)?;
                (Node { span, value }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.container_tag(tag.as_deref(), "seq", span)?;
                let mut items = Vec::new();
                let end = loop {
                    if let Some(Ok((Event::SequenceEnd, end))) = self.parser.peek() {
                        let end = *end;
                        self.next()?;
                        break self.span(end).end;
                    }
                    let index_len = 2 + decimal_digits(items.len());
                    items.push(self.node(depth + 1, path_len + index_len)?);
                };
                let span = Span::new(span.start, end.max(span.end));
                (
                    Node {
                        span,
                        value: Value::Seq(items),
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, tag) => {
                self.container_tag(tag.as_deref(), "map", span)?;
                let entries = self.mapping(depth, path_len)?;
                let end = entries.last().map_or(span.end, |e| e.value.span.end);
                let span = Span::new(span.start, end.max(span.end));
                (
                    Node {
                        span,
                        value: Value::Map(entries),
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    self.diagnostics.push(Diagnostic::error(
                        &self.file.name,
                        span,
                        "",
                        "alias names no anchor",
                    ));
                    return Err(Abort);
                };
                self.aliased = true;
                self.count_tree(&target, span, path_len)?;
                (
                    Node {
                        span,
                        value: target.value,
                    },
                    0,
                )
            }
            _ => {
                self.diagnostics.push(Diagnostic::error(
                    &self.file.name,
                    span,
                    "",
                    "unexpected YAML event",
                ));
                return Err(Abort);
            }
        };
        if anchor != 0 {
            // the copy kept for aliases costs as much as the node itself
            let copied = self.nodes - nodes_before;
            self.count(span, copied, 0)?;
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping(&mut self, depth: usize, path_len: usize) -> Result<Vec<Entry>, Abort> {
        let mut entries: Vec<Entry> = Vec::new();
        // key → position, once the mapping is large enough for a linear search to cost
        let mut index: Option<HashMap<String, usize>> = None;
        loop {
            if let Some(Ok((Event::MappingEnd, _))) = self.parser.peek() {
                self.next()?;
                return Ok(entries);
            }
            let key = self.node(depth + 1, path_len)?;
            let key_text = match &key.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            &self.file.name,
                            key.span,
                            "",
                            "mapping key is not a scalar",
                        )
                        .expected("a plain key such as `name:`")
                        .hint("complex keys (`? ...`) are not used in railyard files"),
                    );
                    return Err(Abort);
                }
            };
            let value = self.node(depth + 1, path_len + 1 + key_text.len())?;
            let first = match &index {
                Some(index) => index.get(&key_text).copied(),
                None => entries.iter().position(|e| e.key == key_text),
            };
            if let Some(first) = first.map(|i| &entries[i]) {
                let (line, _) = self.file.line_col(first.key_span.start);
                self.report(
                    Diagnostic::error(
                        &self.file.name,
                        key.span,
                        "",
                        format!("duplicate key `{key_text}`"),
                    )
                    .expected("each key once per mapping")
                    .hint(format!(
                        "`{key_text}` is already set on line {line}; remove one of them"
                    )),
                )?;
                continue;
            }
            if let Some(index) = &mut index {
                index.insert(key_text.clone(), entries.len());
            } else if entries.len() == 16 {
                index = Some(
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (e.key.clone(), i))
                        .collect(),
                );
                if let Some(index) = &mut index {
                    index.insert(key_text.clone(), entries.len());
                }
            }
            entries.push(Entry {
                key: key_text,
                key_span: key.span,
                value,
            });
        }
    }

    /// Counts the copy of `node` an alias at `span` makes, its root's path `path_len` long.
    fn count_tree(&mut self, node: &Node, span: Span, path_len: usize) -> Result<(), Abort> {
        self.count(span, 1, path_len)?;
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, n)| self.count_tree(n, span, path_len + 2 + decimal_digits(i))),
            Value::Map(entries) => entries
                .iter()
                .try_for_each(|e| self.count_tree(&e.value, span, path_len + 1 + e.key.len())),
            _ => Ok(()),
        }
    }

    /// A block scalar that ends the file without a final line break has no final line break
    /// in its value (YAML 1.2, 8.1.1.2; libyaml and Go agree), but the parser adds one.
    fn unterminated_block<'t>(
        &self,
        text: std::borrow::Cow<'t, str>,
        style: ScalarStyle,
        span: Span,
    ) -> std::borrow::Cow<'t, str> {
        let source = &self.file.text;
        if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            || source.ends_with('\n')
            || !text.ends_with('\n')
        {
            return text;
        }
        let last_line_start = source.rfind('\n').map_or(0, |i| i + 1);
        let last_line = source[last_line_start..].trim();
        if last_line.is_empty()
            || span.start > last_line_start
            || !text.trim_end_matches('\n').ends_with(last_line)
        {
            return text;
        }
        let mut owned = text.into_owned();
        owned.pop();
        std::borrow::Cow::Owned(owned)
    }

    fn container_tag(
        &mut self,
        tag: Option<&saphyr_parser::Tag>,
        core: &str,
        span: Span,
    ) -> Result<(), Abort> {
        match tag {
            None => Ok(()),
            Some(tag) if is_core(tag) && tag.suffix == core => Ok(()),
            Some(tag) => {
                self.unsupported_tag(tag, span);
                Err(Abort)
            }
        }
    }

    fn unsupported_tag(&mut self, tag: &saphyr_parser::Tag, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(
                &self.file.name,
                span,
                "",
                format!("unsupported tag `{}`", tag_text(tag)),
            )
            .expected("plain YAML without tags, or a core tag such as `!!str`")
            .hint("remove the tag; quote the value if it should be text"),
        );
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&saphyr_parser::Tag>,
        span: Span,
    ) -> Result<Value, Abort> {
        if let Some(tag) = tag {
            let core = if is_core(tag) {
                tag.suffix.as_str()
            } else {
                ""
            };
            let resolved = match core {
                "str" => Some(Value::Str(text.to_owned())),
                "null" | "bool" | "int" | "float" => match resolve_plain(text) {
                    v @ Value::Null if tag.suffix == "null" => Some(v),
                    v @ Value::Bool(_) if tag.suffix == "bool" => Some(v),
                    v @ Value::Int(_) if tag.suffix == "int" => Some(v),
                    Value::Int(i) if tag.suffix == "float" => Some(Value::Float(i as f64)),
                    v @ Value::Float(_) if tag.suffix == "float" => Some(v),
                    _ => None,
                },
                _ => None,
            };
            return match resolved {
                Some(value) => Ok(value),
                None => {
                    self.unsupported_tag(tag, span);
                    Err(Abort)
                }
            };
        }
        Ok(match style {
            ScalarStyle::Plain => resolve_plain(text),
            _ => Value::Str(text.to_owned()),
        })
    }

    fn scan_error(&mut self, error: &ScanError) {
        let mut at = self.byte(error.marker().index());
        let info = error.info();
        if info.contains("recursion limit") {
            // the parser's own guard against deep flow nesting, which it meets first
            self.too_deep(Span::new(at, at));
            return;
        }
        if info.contains("tab") {
            // Point at the tab itself rather than where the scanner noticed it.
            if let Some(offset) = self.file.text[at..].find('\t') {
                at += offset;
            }
        }
        let (line, _) = self.file.line_col(at);
        let line_text = self
            .file
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("");
        let hint = if line_text.starts_with('\t') || info.contains("tab") {
            "YAML does not allow tabs for indentation; indent with spaces"
        } else if info.contains("mapping values are not allowed") {
            "a value that contains `: ` must be quoted, or the line is indented wrongly"
        } else if info.contains("did not find expected key")
            || info.contains("block")
            || info.contains("indentation")
        {
            "check the indentation of this line, and look above it for an unclosed `[`, `{` or quote"
        } else if info.contains("unclosed")
            || info.contains("end of stream")
            || info.contains("quoted")
        {
            "close the quote or bracket that was opened before this point"
        } else {
            "fix the YAML syntax at this point"
        };
        self.diagnostics.push(
            Diagnostic::error(
                &self.file.name,
                Span::new(at, at),
                "",
                format!("invalid YAML: {info}"),
            )
            .expected("well-formed YAML")
            .hint(hint),
        );
    }
}

/// How many decimal digits `n` has (a list index's length in a path).
fn decimal_digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The parser expands `!!` to the core schema's prefix.
fn is_core(tag: &saphyr_parser::Tag) -> bool {
    tag.handle == "!!" || tag.handle == CORE_PREFIX
}

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

fn tag_text(tag: &saphyr_parser::Tag) -> String {
    if is_core(tag) {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Resolves a plain scalar as Go's yaml.v3 does, which is what Kubernetes tools (kubectl,
/// kustomize, Flux, sops) read: YAML 1.2's core schema, plus Go's integer syntax (`0755` is
/// octal, `1_000` has separators) and timestamps, which come back as RFC 3339 text.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '.') {
        return Value::Str(text.to_owned());
    }
    if let Some(timestamp) = timestamp(text) {
        return Value::Str(timestamp);
    }
    let plain = text.replace('_', "");
    if let Some(i) = go_int(&plain) {
        return Value::Int(i);
    }
    if is_core_float(plain.strip_prefix(['-', '+']).unwrap_or(&plain))
        || (!plain.is_empty()
            && plain
                .strip_prefix(['-', '+'])
                .unwrap_or(&plain)
                .bytes()
                .all(|b| b.is_ascii_digit()))
    {
        if let Ok(f) = plain.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_owned())
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, then `0x`, `0o`, `0b` or a leading `0` (octal).
fn go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (digits, radix) = go_int_digits(body)?;
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// The digits and radix of an unsigned Go integer literal (`0x1F`, `0o17`, `0b1`, `017`, `15`),
/// when it is one: the syntax `strconv.ParseInt(s, 0, 64)` accepts after the sign.
pub fn go_int_digits(body: &str) -> Option<(&str, u32)> {
    let (digits, radix) = match body.get(..2) {
        Some("0x" | "0X") => (&body[2..], 16),
        Some("0o" | "0O") => (&body[2..], 8),
        Some("0b" | "0B") => (&body[2..], 2),
        _ if body.len() > 1 && body.starts_with('0') => (&body[1..], 8),
        _ => (body, 10),
    };
    (!digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))).then_some((digits, radix))
}

/// yaml.v3's timestamp layouts (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`, the same with
/// `t`, and `2006-1-2 15:4:5.999999999`), written back as Go writes a time in JSON.
fn timestamp(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if !(b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-') {
        return None;
    }
    let number = |t: &str, widths: std::ops::RangeInclusive<usize>| {
        (widths.contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some((b[i], &text[i + 1..]))),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let (year, month, day) = (
        number(year, 4..=4)?,
        number(month, 1..=2)?,
        number(day, 1..=2)?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let Some((separator, rest)) = rest else {
        return Some(format!("{year:04}-{month:02}-{day:02}T00:00:00Z"));
    };
    let (clock, zone) = match rest.find(['Z', '+', '-']) {
        Some(i) if separator != b' ' => (&rest[..i], &rest[i..]),
        None if separator != b' ' => return None,
        _ => (rest, "Z"),
    };
    let (clock, fraction) = match clock.split_once('.') {
        Some((c, f)) => (c, f),
        None => (clock, ""),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let [hour, minute, second] = fields.as_slice() else {
        return None;
    };
    let (hour, minute, second) = (
        number(hour, 1..=2)?,
        number(minute, 1..=2)?,
        number(second, 1..=2)?,
    );
    if hour > 23
        || minute > 59
        || second > 60
        || !fraction.bytes().all(|c| c.is_ascii_digit())
        || fraction.len() > 9
    {
        return None;
    }
    let zone_ok = zone == "Z"
        || (zone.len() == 6
            && zone.as_bytes()[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..].bytes())
                .all(|c| c.is_ascii_digit()));
    if !zone_ok {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
    ))
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float without sign.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => all_digits(int) && all_digits(f) && (!int.is_empty() || !f.is_empty()),
        None => !int.is_empty() && all_digits(int),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            ("a:\n\tb: 1\n", "invalid YAML"),
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
}
