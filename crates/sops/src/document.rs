//! A SOPS YAML file as railyard edits it: every leaf value and comment with its key path and
//! byte span, and each document's `sops:` block, so values can be replaced in place and
//! everything else (layout, order, comments) is kept.

use railyard_core::source::{SourceFile, Span};
use railyard_core::yaml::{self, Node, Value};

/// One scalar value outside the `sops:` block.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Map keys from the document root; list indices are not part of a sops path.
    pub path: Vec<String>,
    pub span: Span,
    pub value: Value,
    /// Inside a flow collection (`[a, b]`, `{a: b}`), where `,` and `]` end a plain scalar.
    pub flow: bool,
}

/// A comment on its own line.
#[derive(Clone, Debug)]
pub struct Comment {
    /// The path of the mapping the comment sits in.
    pub path: Vec<String>,
    /// From `#` to the end of the line.
    pub span: Span,
    /// The text after `#`.
    pub text: String,
}

/// One YAML document of the file.
#[derive(Clone, Debug)]
pub struct Document {
    pub root: Node,
    /// The `sops:` entry, from its key to the end of its block, when present.
    pub sops_span: Option<Span>,
    /// Where a `sops:` block goes when one is added: the end of the document's last line.
    pub end: usize,
}

#[derive(Clone, Debug)]
pub struct Parsed {
    pub documents: Vec<Document>,
    pub leaves: Vec<Leaf>,
    pub comments: Vec<Comment>,
}

/// Why a file is not a SOPS YAML file railyard can edit; lines and columns are 1-based.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not valid YAML: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the file holds no YAML document")]
    Empty,
    /// The document that starts at `line` and `column` is a list or a scalar.
    #[error("a document is not a mapping at its top level")]
    NotAMapping { line: usize, column: usize },
}

pub fn parse(text: &str) -> Result<Parsed, DocumentError> {
    let file = SourceFile::new("secrets", text);
    let (roots, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.first() {
        let (line, column) = file.line_col(first.span.start);
        let message = match &first.expected {
            Some(expected) => format!("{} (expected {expected})", first.message),
            None => first.message.clone(),
        };
        return Err(DocumentError::Yaml {
            line,
            column,
            message,
        });
    }
    let roots: Vec<Node> = roots
        .into_iter()
        .filter(|r| r.value != Value::Null)
        .collect();
    if roots.is_empty() {
        return Err(DocumentError::Empty);
    }
    let mut parsed = Parsed {
        documents: Vec::new(),
        leaves: Vec::new(),
        comments: Vec::new(),
    };
    let mut regions = Vec::new();
    for root in roots {
        if !matches!(root.value, Value::Map(_)) {
            let (line, column) = file.line_col(root.span.start);
            return Err(DocumentError::NotAMapping { line, column });
        }
        let mut sops_span = None;
        for entry in root.entries() {
            if entry.key == "sops" {
                sops_span = Some(Span::new(
                    line_start(text, entry.key_span.start),
                    line_end(text, entry.value.span.end),
                ));
            } else {
                collect(
                    text,
                    &entry.value,
                    vec![entry.key.clone()],
                    Some(entry.key_span.end),
                    false,
                    &mut parsed.leaves,
                    &mut regions,
                );
            }
        }
        regions.push(Region {
            path: Vec::new(),
            start: root.span.start,
            end: root.span.end,
            depth: 0,
        });
        let end = line_end(text, root.span.end.max(1) - 1);
        parsed.documents.push(Document {
            root,
            sops_span,
            end,
        });
    }
    parsed.comments = comments(text, &parsed, &regions);
    Ok(parsed)
}

/// Where comments of a mapping may sit: from its key's end to the last line indented like it.
struct Region {
    path: Vec<String>,
    start: usize,
    end: usize,
    depth: usize,
}

fn collect(
    text: &str,
    node: &Node,
    path: Vec<String>,
    key_end: Option<usize>,
    flow: bool,
    leaves: &mut Vec<Leaf>,
    regions: &mut Vec<Region>,
) {
    let flow = flow
        || (matches!(node.value, Value::Map(_) | Value::Seq(_))
            && text[node.span.start..].starts_with(['[', '{']));
    match &node.value {
        Value::Map(entries) => {
            let column = entries
                .first()
                .map_or(0, |e| column(text, e.key_span.start));
            regions.push(Region {
                path: path.clone(),
                start: key_end.unwrap_or(node.span.start),
                end: extend(text, node.span.end, column),
                depth: path.len(),
            });
            for entry in entries {
                let mut child = path.clone();
                child.push(entry.key.clone());
                collect(
                    text,
                    &entry.value,
                    child,
                    Some(entry.key_span.end),
                    flow,
                    leaves,
                    regions,
                );
            }
        }
        Value::Seq(items) => {
            for item in items {
                collect(text, item, path.clone(), None, flow, leaves, regions);
            }
        }
        _ => leaves.push(Leaf {
            path,
            span: value_span(text, node),
            value: node.value.clone(),
            flow,
        }),
    }
}

/// The whole written value: for a block scalar (`|`, `>-`, ...) the parser's span starts at the
/// content, so it is widened to the indicator, and its trailing line breaks are left out.
fn value_span(text: &str, node: &Node) -> Span {
    let mut span = node.span;
    if matches!(node.value, Value::Str(_)) {
        let before = text[..span.start].trim_end_matches([' ', '\t', '\r', '\n']);
        let token = before.rsplit([' ', '\t', '\n']).next().unwrap_or("");
        let is_indicator = token.starts_with(['|', '>'])
            && token[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == '-');
        if is_indicator && span.start > before.len() {
            span.start = before.len() - token.len();
            while span.end > span.start && text[..span.end].ends_with(['\n', '\r', ' ']) {
                span.end -= 1;
            }
        }
    }
    span
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset just past the newline ending the line of `offset` (or the end of the text).
pub fn line_end(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

fn column(text: &str, offset: usize) -> usize {
    offset - line_start(text, offset)
}

/// Extends a region over the following blank and comment lines indented at least `column`.
fn extend(text: &str, mut end: usize, column: usize) -> usize {
    let mut at = line_end(text, end.saturating_sub(1));
    while at < text.len() {
        let next = line_end(text, at);
        let line = &text[at..next];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.trim().is_empty() || (trimmed.starts_with('#') && indent >= column) {
            end = next;
            at = next;
        } else {
            break;
        }
    }
    end
}

fn comments(text: &str, parsed: &Parsed, regions: &[Region]) -> Vec<Comment> {
    // Lines are visited in order, so the spans and regions that hold a line are found with a
    // sweep: values by binary search over their starts (with the farthest end so far), regions
    // from a heap of those begun, deepest first, dropping the ones that ended.
    let inside_value = Cover::new(parsed.leaves.iter().map(|l| l.span));
    let inside_sops = Cover::new(parsed.documents.iter().filter_map(|d| d.sops_span));
    let mut order: Vec<usize> = (0..regions.len()).collect();
    order.sort_by_key(|&i| regions[i].start);
    let mut next_region = 0;
    // (depth, index): the deepest region, the last listed among equals, as before
    let mut open: std::collections::BinaryHeap<(usize, usize)> =
        std::collections::BinaryHeap::new();
    let mut comments = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let next = line_end(text, at);
        let line = &text[at..next];
        let trimmed = line.trim_start();
        let start = at + (line.len() - trimmed.len());
        at = next;
        if !trimmed.starts_with('#') || text[start..].starts_with("#cloud-config") {
            continue;
        }
        if inside_value.holds(start) || inside_sops.holds(start) {
            continue;
        }
        while next_region < order.len() && regions[order[next_region]].start <= start {
            let i = order[next_region];
            open.push((regions[i].depth, i));
            next_region += 1;
        }
        // a region that ended before this line ends before every later one too
        let owner = loop {
            match open.peek() {
                Some(&(_, i)) if regions[i].end <= start => {
                    open.pop();
                }
                Some(&(_, i)) => break Some(&regions[i]),
                None => break None,
            }
        };
        let end = start + trimmed.trim_end_matches(['\n', '\r']).len();
        comments.push(Comment {
            path: owner.map(|r| r.path.clone()).unwrap_or_default(),
            span: Span::new(start, end),
            text: text[start + 1..end].to_owned(),
        });
    }
    comments
}

/// Spans, for asking which offsets any of them holds in logarithmic time.
struct Cover {
    /// Sorted by start.
    spans: Vec<Span>,
    /// The farthest end among the spans up to each one.
    farthest: Vec<usize>,
}

impl Cover {
    fn new(spans: impl Iterator<Item = Span>) -> Cover {
        let mut spans: Vec<Span> = spans.collect();
        spans.sort_by_key(|s| s.start);
        let farthest = spans
            .iter()
            .scan(0, |end, span| {
                *end = span.end.max(*end);
                Some(*end)
            })
            .collect();
        Cover { spans, farthest }
    }

    /// Whether some span holds `at` (`start <= at < end`).
    fn holds(&self, at: usize) -> bool {
        let begun = self.spans.partition_point(|s| s.start <= at);
        begun > 0 && self.farthest[begun - 1] > at
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn leaves_and_comments_know_their_paths() {
        let text = "# top\napiVersion: v1\nstringData:\n    # inside\n    a: x\n    list:\n        - 1\n        - 2\n    # foot\nkind: Secret\n";
        let parsed = parse(text).expect("parses");
        let paths: Vec<String> = parsed.leaves.iter().map(|l| l.path.join(":")).collect();
        assert_eq!(
            paths,
            [
                "apiVersion",
                "stringData:a",
                "stringData:list",
                "stringData:list",
                "kind"
            ]
        );
        let comments: Vec<(String, String)> = parsed
            .comments
            .iter()
            .map(|c| (c.path.join(":"), c.text.clone()))
            .collect();
        assert_eq!(
            comments,
            [
                ("".into(), " top".into()),
                ("stringData".into(), " inside".into()),
                ("stringData".into(), " foot".into())
            ]
        );
    }
}
