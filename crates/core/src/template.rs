//! The cloud-init templates' grammar: the part of Handlebars they use, parsed once per process.
//!
//! `{{path}}` (a dotted path or `this`), `{{json path}}`, `{{indent N path}}`,
//! `{{#if path}}…{{/if}}` and `{{#each path}}…{{/each}}`; nothing is escaped. A block tag
//! alone on its line takes the whole line with it, as Handlebars' standalone rule does, so a
//! template reads like the file it renders. Parsing the full Handlebars grammar cost more
//! than everything else a `validate` does (decision 0022); the real engine stays in the tests
//! as the oracle these templates render the same under.

use std::borrow::Cow;

use serde_json::Value;

/// A parsed template, borrowing its text (the templates are embedded, so they live as long
/// as the process).
#[derive(Clone, Debug)]
pub struct Template<'t> {
    nodes: Vec<Node<'t>>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{{{` at byte {0}")]
    UnclosedTag(usize),
    #[error("unknown tag `{{{{{0}}}}}`")]
    UnknownTag(String),
    #[error("`{{{{/{0}}}}}` closes no open block")]
    StrayClose(String),
    #[error("block `{0}` is never closed")]
    UnclosedBlock(String),
    #[error("`{0}` is missing from the template's data")]
    Missing(String),
    #[error("`{0}` is not text, a number or a boolean")]
    NotScalar(String),
}

#[derive(Clone, Debug)]
enum Node<'t> {
    Text(&'t str),
    Value(&'t str),
    Json(&'t str),
    Indent(usize, &'t str),
    If(&'t str, Vec<Node<'t>>),
    Each(&'t str, Vec<Node<'t>>),
}

/// A tag as written, before blocks are nested.
#[derive(Clone, Debug)]
enum Tag<'t> {
    Value(&'t str),
    Json(&'t str),
    Indent(usize, &'t str),
    Open { helper: &'t str, path: &'t str },
    Close(&'t str),
}

impl<'t> Tag<'t> {
    /// Block tags are the ones Handlebars lets stand alone on a line.
    fn is_block(&self) -> bool {
        matches!(self, Tag::Open { .. } | Tag::Close(_))
    }

    fn parse(inner: &'t str) -> Result<Tag<'t>, TemplateError> {
        let unknown = || TemplateError::UnknownTag(inner.to_owned());
        let words: Vec<&'t str> = inner.split_whitespace().collect();
        match words.as_slice() {
            [close] if close.starts_with('/') => Ok(Tag::Close(&close[1..])),
            [open, path] if open.starts_with('#') && matches!(&open[1..], "if" | "each") => {
                Ok(Tag::Open {
                    helper: &open[1..],
                    path,
                })
            }
            ["json", path] => Ok(Tag::Json(path)),
            ["indent", width, path] => {
                let width = width.parse().map_err(|_| unknown())?;
                Ok(Tag::Indent(width, path))
            }
            [path] if !path.starts_with(['#', '/', '!', '>', '^']) => Ok(Tag::Value(path)),
            _ => Err(unknown()),
        }
    }
}

enum Token<'t> {
    Text(&'t str),
    Tag(Tag<'t>),
}

impl<'t> Template<'t> {
    pub fn parse(text: &'t str) -> Result<Template<'t>, TemplateError> {
        let mut tokens = tokenize(text)?;
        strip_standalone(&mut tokens);
        let mut stack: Vec<(Option<Tag<'t>>, Vec<Node<'t>>)> = vec![(None, Vec::new())];
        for token in tokens {
            let node = match token {
                Token::Text("") => continue,
                Token::Text(text) => Node::Text(text),
                Token::Tag(Tag::Value(path)) => Node::Value(path),
                Token::Tag(Tag::Json(path)) => Node::Json(path),
                Token::Tag(Tag::Indent(width, path)) => Node::Indent(width, path),
                Token::Tag(open @ Tag::Open { .. }) => {
                    stack.push((Some(open), Vec::new()));
                    continue;
                }
                Token::Tag(Tag::Close(name)) => close_block(&mut stack, name)?,
            };
            stack.last_mut().expect("the root stays").1.push(node);
        }
        match stack.pop() {
            Some((None, nodes)) if stack.is_empty() => Ok(Template { nodes }),
            Some((Some(Tag::Open { helper, .. }), _)) => {
                Err(TemplateError::UnclosedBlock(helper.to_owned()))
            }
            _ => unreachable!("only the root has no tag"),
        }
    }

    /// The template with `data` as its context.
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        // room for the template's own text and some values, so the text seldom grows
        let written: usize = (self.nodes.iter())
            .map(|node| match node {
                Node::Text(text) => text.len(),
                _ => 0,
            })
            .sum();
        let mut out = String::with_capacity(written + written / 2);
        render_nodes(&self.nodes, data, &mut out)?;
        Ok(out)
    }
}

/// Ends the innermost block, which `name` must name.
fn close_block<'t>(
    stack: &mut Vec<(Option<Tag<'t>>, Vec<Node<'t>>)>,
    name: &'t str,
) -> Result<Node<'t>, TemplateError> {
    match stack.pop() {
        Some((Some(Tag::Open { helper, path }), nodes)) if helper == name => {
            Ok(if helper == "if" {
                Node::If(path, nodes)
            } else {
                Node::Each(path, nodes)
            })
        }
        _ => Err(TemplateError::StrayClose(name.to_owned())),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, TemplateError> {
    let mut tokens = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .ok_or(TemplateError::UnclosedTag(offset + start))?;
        tokens.push(Token::Text(&rest[..start]));
        tokens.push(Token::Tag(Tag::parse(&rest[start + 2..start + end])?));
        offset += start + end + 2;
        rest = &rest[start + end + 2..];
    }
    tokens.push(Token::Text(rest));
    Ok(tokens)
}

/// Removes the line of every block tag that stands alone on it: the blanks before it on its
/// line, and the blanks and line break after it. Decided on the text as written, then applied.
fn strip_standalone(tokens: &mut [Token<'_>]) {
    let texts = |i: usize| match tokens.get(i) {
        Some(Token::Text(text)) => Some(*text),
        _ => None,
    };
    let mut cuts = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Token::Tag(tag) = token else { continue };
        if !tag.is_block() {
            continue;
        }
        // tokens alternate text and tag, starting and ending with text
        let (before, after) = (texts(i - 1).unwrap_or(""), texts(i + 1).unwrap_or(""));
        let first_on_line = i == 1;
        let last_in_template = i + 2 == tokens.len();
        if let (Some(head), Some(tail)) = (
            blank_line_start(before, first_on_line),
            blank_line_end(after, last_in_template),
        ) {
            cuts.push((i - 1, head, i + 1, tail));
        }
    }
    // ends first: a text between two standalone tags loses its end to the second and its
    // start to the first, both measured on the text as written
    for &(before, head, _, _) in &cuts {
        if let Token::Text(text) = &mut tokens[before] {
            *text = &text[..head];
        }
    }
    for &(_, _, after, tail) in &cuts {
        if let Token::Text(text) = &mut tokens[after] {
            *text = &text[tail.min(text.len())..];
        }
    }
}

/// Where the blanks that end `text` begin, when only blanks follow its last line break (or
/// the template's start, for the first text).
fn blank_line_start(text: &str, template_start: bool) -> Option<usize> {
    let line = text.rfind('\n').map_or(0, |at| at + 1);
    let blank = text[line..].bytes().all(|b| b == b' ' || b == b'\t');
    (blank && (line > 0 || template_start)).then_some(line)
}

/// How many bytes of `text` are blanks and one line break (or all of it at the template's end).
fn blank_line_end(text: &str, template_end: bool) -> Option<usize> {
    let blanks = text
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count();
    let rest = &text[blanks..];
    if rest.starts_with("\r\n") {
        Some(blanks + 2)
    } else if rest.starts_with('\n') {
        Some(blanks + 1)
    } else {
        (rest.is_empty() && template_end).then_some(blanks)
    }
}

fn render_nodes(nodes: &[Node<'_>], data: &Value, out: &mut String) -> Result<(), TemplateError> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Value(path) => out.push_str(&scalar(path, lookup(data, path)?)?),
            Node::Json(path) => out.push_str(&lookup(data, path)?.to_string()),
            Node::Indent(width, path) => indent(&scalar(path, lookup(data, path)?)?, *width, out),
            Node::If(path, body) => {
                if truthy(lookup(data, path)?) {
                    render_nodes(body, data, out)?;
                }
            }
            Node::Each(path, body) => {
                for item in items(lookup(data, path)?) {
                    render_nodes(body, item, out)?;
                }
            }
        }
    }
    Ok(())
}

/// The value at a dotted `path` (`this` is the context itself).
fn lookup<'a>(data: &'a Value, path: &str) -> Result<&'a Value, TemplateError> {
    if path == "this" {
        return Ok(data);
    }
    path.split('.')
        .try_fold(data, |value, key| value.get(key))
        .ok_or_else(|| TemplateError::Missing(path.to_owned()))
}

/// A scalar's text; a string is borrowed, not copied.
fn scalar<'a>(path: &str, value: &'a Value) -> Result<Cow<'a, str>, TemplateError> {
    match value {
        Value::String(text) => Ok(Cow::Borrowed(text)),
        Value::Number(n) => Ok(Cow::Owned(n.to_string())),
        Value::Bool(b) => Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null => Ok(Cow::Borrowed("")),
        _ => Err(TemplateError::NotScalar(path.to_owned())),
    }
}

/// Handlebars' truth: empty text, zero, an empty list or map, `false` and null are false.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// What `#each` walks: a list's items or a map's values.
fn items(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(a) => Box::new(a.iter()),
        Value::Object(o) => Box::new(o.values()),
        _ => Box::new(std::iter::empty()),
    }
}

/// Every non-empty line of `text` indented by `width` spaces, without the final line break
/// (the template writes it).
fn indent(text: &str, width: usize, out: &mut String) {
    for (i, line) in text.trim_end_matches('\n').lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !line.is_empty() {
            for _ in 0..width {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, data: &Value) -> String {
        Template::parse(template).unwrap().render(data).unwrap()
    }

    #[test]
    fn block_tags_alone_on_a_line_take_the_line() {
        let t = "a:\n{{#each xs}}\n  - {{this}}\n{{/each}}\nb\n";
        assert_eq!(render(t, &json!({"xs": [1, "x"]})), "a:\n  - 1\n  - x\nb\n");
    }

    #[test]
    fn inline_blocks_keep_their_text() {
        let t = "a {{#if x}}yes{{/if}} b\n";
        assert_eq!(render(t, &json!({"x": true})), "a yes b\n");
        assert_eq!(render(t, &json!({"x": ""})), "a  b\n");
    }

    #[test]
    fn missing_data_and_bad_blocks_are_errors() {
        let t = Template::parse("{{x}}").unwrap();
        assert_eq!(
            t.render(&json!({})),
            Err(TemplateError::Missing("x".into()))
        );
        assert!(matches!(
            Template::parse("{{#if x}}"),
            Err(TemplateError::UnclosedBlock(_))
        ));
        assert!(matches!(
            Template::parse("{{/if}}"),
            Err(TemplateError::StrayClose(_))
        ));
        assert!(matches!(
            Template::parse("{{> p}}"),
            Err(TemplateError::UnknownTag(_))
        ));
        assert!(matches!(
            Template::parse("{{x"),
            Err(TemplateError::UnclosedTag(0))
        ));
    }

    #[test]
    fn indent_pads_non_empty_lines_and_drops_the_last_break() {
        let t = "k: |\n{{indent 2 v}}\n";
        assert_eq!(render(t, &json!({"v": "a\n\nb\n"})), "k: |\n  a\n\n  b\n");
    }
}
