//! YAML text to a tree of nodes that remember where they came from.
//!
//! saphyr-parser gives events with character positions; this module turns them into
//! [`Node`]s with byte spans, resolves plain scalars as Go's yaml.v3 does (the grammar is
//! [`scalar`]'s), refuses duplicate keys, and bounds the work a hostile file can cause (depth,
//! alias expansion, size: [`budget`]).

mod budget;
pub(crate) mod peek;
pub mod scalar;
mod scan_error;
mod tags;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span as YamlSpan};

use crate::diagnostic::{self, Diagnostic};
pub use crate::limits::{MAX_DEPTH, MAX_INPUT_BYTES, MAX_NODES, MAX_PATH_BYTES};
use crate::source::{SourceFile, Span};
use scalar::Plain;

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
    let (documents, diagnostics, _) = parse_stream_recovering(file);
    (documents, diagnostics)
}

/// Parses like [`parse_stream`], and says whether the documents are whole: the stream was read
/// to its end and every problem was a duplicate key, whose first value the tree keeps, or an
/// indenting tab, read as a space. A caller
/// may then go on checking the documents, so later mistakes are reported in the same run.
///
/// Tabs get a second look, with the text patched byte for byte (a tab becomes a space, so every
/// offset still points into the user's text): a tab that separates a value from its `:` is
/// whitespace, as yaml.v3 (which reads railyard's output everywhere) takes it; a tab that
/// indents is reported, and parsing goes on after it so the rest of the file is checked too.
pub fn parse_stream_recovering(file: &SourceFile) -> (Vec<Node>, Vec<Diagnostic>, bool) {
    if file.text.len() > MAX_INPUT_BYTES {
        return (Vec::new(), vec![diagnostic::too_large(&file.name)], false);
    }
    let mut recovery = TabRecovery {
        text: Cow::Borrowed(&file.text),
        reported: Vec::new(),
        patched: Vec::new(),
        blanked_from: None,
        final_pass: false,
    };
    loop {
        // the file as it is until a tab is patched: most files are parsed once, uncopied
        let patched;
        let attempt = match &recovery.text {
            Cow::Borrowed(_) => file,
            Cow::Owned(text) => {
                patched = SourceFile::new(file.name.clone(), text.clone());
                &patched
            }
        };
        let mut builder = Builder::new(attempt);
        let documents = builder.stream();
        if let Some(fix) = builder.tab.take()
            && recovery.reported.len() < MAX_TAB_RECOVERIES
            && !recovery.on_patched(fix.at)
        {
            recovery.patch(fix);
            continue;
        }
        let stopped_at = (builder.diagnostics.len() > builder.duplicates)
            .then(|| builder.diagnostics.last().map(|d| d.span.start))
            .flatten();
        if recovery.retry_after(stopped_at) {
            continue;
        }
        let mut diagnostics = builder.diagnostics;
        let before = diagnostics.len();
        diagnostics.retain(|d| !recovery.on_patched(d.span.start));
        let recovered = diagnostics.len() == before
            && diagnostics.len() == builder.duplicates
            && (builder.ended || builder.duplicates == 0);
        return (documents, recovery.finish(diagnostics), recovered);
    }
}

/// The text as patched after tabs, with what was reported and done so far.
struct TabRecovery<'a> {
    text: Cow<'a, str>,
    reported: Vec<Diagnostic>,
    /// Starts of the lines patched so far, and whether the line was blanked as a last resort.
    patched: Vec<(usize, bool)>,
    /// The text before the last blanking, and where the parse stopped then.
    blanked_from: Option<(Cow<'a, str>, usize)>,
    /// The last parse, after a blanking that did not help was undone.
    final_pass: bool,
}

impl TabRecovery<'_> {
    fn on_patched(&self, at: usize) -> bool {
        let line = line_start(&self.text, at);
        self.patched.iter().any(|(start, _)| *start == line)
    }

    /// Reads the tabs as spaces from now on; the parse got past any line blanked before, so
    /// that blanking stands.
    fn patch(&mut self, fix: TabFix) {
        self.reported.extend(fix.reported);
        self.patched.push((line_start(&self.text, fix.at), false));
        self.text = Cow::Owned(replace_bytes(&self.text, fix.tabs.into_iter()));
        self.blanked_from = None;
    }

    /// A tab read as one space can leave its line, or the next, misindented: then the line is
    /// blanked instead (every byte but the line break a space), so the rest of the file is
    /// still read. Where blanking does not move the error, the error is the user's own and the
    /// blanking is undone. Says whether to parse again.
    fn retry_after(&mut self, stopped_at: Option<usize>) -> bool {
        if self.final_pass {
            return false;
        }
        if let Some((before_blanking, at)) = self.blanked_from.take() {
            if stopped_at != Some(at) {
                return false;
            }
            self.text = before_blanking;
            if let Some(last) = self.patched.iter_mut().rev().find(|(_, b)| *b) {
                last.1 = false;
            }
            self.final_pass = true;
            return true;
        }
        let (Some(at), Some(line)) = (stopped_at, self.patched.iter().rposition(|(_, b)| !b))
        else {
            return false;
        };
        self.patched[line].1 = true;
        let start = self.patched[line].0;
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        self.blanked_from = Some((self.text.clone(), at));
        self.text = Cow::Owned(replace_bytes(&self.text, start..end));
        true
    }

    /// Every diagnostic: the tabs first, each saying whether its line was left out.
    fn finish(mut self, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let skipped: Vec<usize> = self
            .patched
            .iter()
            .filter(|(_, b)| *b)
            .map(|(l, _)| *l)
            .collect();
        for tab in &mut self.reported {
            if skipped.contains(&line_start(&self.text, tab.span.start)) {
                tab.message.push_str(SKIPPED_LINE);
            }
        }
        self.reported.extend(diagnostics);
        self.reported
    }
}

/// How many tabs one file may have recovered from; each costs a parse or two.
const MAX_TAB_RECOVERIES: usize = 16;

fn line_start(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

/// Ends the message of a tab whose line had to be left out for the rest of the file to be read.
pub const SKIPPED_LINE: &str = "; the rest of the file was checked without this line";

/// The keys of the lines left out after a tab (see [`SKIPPED_LINE`]): checks that would report
/// them missing should not, since the user did write them.
pub fn skipped_keys<'t>(text: &'t str, diagnostics: &[Diagnostic]) -> Vec<&'t str> {
    diagnostics
        .iter()
        .filter(|d| d.message.ends_with(SKIPPED_LINE))
        .filter_map(|d| {
            let start = line_start(text, d.span.start);
            let line = text[start..].lines().next()?.trim_start();
            line.split_once(':').map(|(key, _)| key.trim())
        })
        .collect()
}

/// `text` with the bytes at `positions` replaced by spaces: same length, so every offset
/// still points into the user's text. Only ASCII bytes (tabs, a line's text) are replaced
/// whole characters at a time.
fn replace_bytes(text: &str, positions: impl Iterator<Item = usize>) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for at in positions {
        bytes[at] = b' ';
    }
    // A blanked line may have held multi-byte characters: each of their bytes is now a space.
    String::from_utf8(bytes).expect("spaces in place of whole characters keep UTF-8")
}

/// Tabs the scanner stopped at, to be read as spaces on the next parse.
struct TabFix {
    /// Where the scanner stopped.
    at: usize,
    /// The tabs to replace, each one byte.
    tabs: Vec<usize>,
    /// What to report for them (nothing for a tab that yaml.v3 accepts).
    reported: Option<Diagnostic>,
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
    /// How many of the diagnostics are duplicate keys, the one problem the tree survives.
    duplicates: usize,
    /// Whether the stream was read to its end.
    ended: bool,
    /// A tab the scanner stopped at, for [`parse_stream_recovering`] to patch and parse again.
    tab: Option<TabFix>,
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
            duplicates: 0,
            ended: false,
            tab: None,
        }
    }

    fn stream(&mut self) -> Vec<Node> {
        let mut documents = Vec::new();
        loop {
            match self.next() {
                Ok((Event::StreamEnd, _)) => {
                    self.ended = true;
                    return documents;
                }
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
                let value = self.scalar(text, style, tag.as_deref(), span)?;
                (Node { span, value }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.container_tag(tag.as_deref(), "seq", span)?;
                (self.sequence(span, depth, path_len)?, anchor)
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

    /// A sequence's items, up to its end; `span` is where it starts.
    fn sequence(&mut self, span: Span, depth: usize, path_len: usize) -> Result<Node, Abort> {
        let mut items = Vec::new();
        let end = loop {
            if let Some(Ok((Event::SequenceEnd, end))) = self.parser.peek() {
                let end = *end;
                self.next()?;
                break self.span(end).end;
            }
            let index_len = 2 + budget::decimal_digits(items.len());
            items.push(self.node(depth + 1, path_len + index_len)?);
        };
        Ok(Node {
            span: Span::new(span.start, end.max(span.end)),
            value: Value::Seq(items),
        })
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
            let key_span = key.span;
            // the key's node is not kept: its text moves into the entry
            let key_text = match key.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            &self.file.name,
                            key_span,
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
                        key_span,
                        "",
                        format!("duplicate key `{key_text}`"),
                    )
                    .expected("each key once per mapping")
                    .hint(format!(
                        "`{key_text}` is already set on line {line}; remove one of them"
                    )),
                )?;
                self.duplicates += 1;
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
                key_span,
                value,
            });
        }
    }
}

/// A plain scalar's value in the tree, as [`scalar::resolve`] reads it. The tree keeps numbers
/// as JSON does, so an integer above `i64::MAX` becomes a float, and a timestamp its RFC 3339 text.
pub fn resolve_plain(text: &str) -> Value {
    plain_value(std::borrow::Cow::Borrowed(text))
}

/// [`resolve_plain`] on a text the caller owns, moved into the value when it is a string.
fn plain_value(text: std::borrow::Cow<'_, str>) -> Value {
    match scalar::resolve(&text) {
        Plain::Null => Value::Null,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Int(i) => Value::Int(i),
        #[allow(clippy::cast_precision_loss)]
        Plain::Uint(u) => Value::Float(u as f64),
        Plain::Float(f) => Value::Float(f),
        Plain::Timestamp(time) => Value::Str(time),
        Plain::Str => Value::Str(text.into_owned()),
    }
}
