//! Strings written in the style the YAML grammar chooses: plain or single-quoted text folded
//! at 80 columns, double-quoted text with yaml.v3's escapes, literal blocks.

use crate::yaml::scalar::{Place, Style, is_break, is_printable, string_style};

/// A string at `place`, in the style [`string_style`] chooses, starting at `column` (`None`:
/// never folded) and continued at `indent` when folded.
pub(super) fn string_scalar(s: &str, indent: usize, column: Option<usize>, place: Place) -> String {
    let mut out = String::new();
    push_string_scalar(&mut out, s, indent, column, place);
    out
}

/// [`string_scalar`] appended to `out`. A plain ASCII string without spaces cannot fold, so it
/// is copied as it is (most keys and values a document holds).
pub(super) fn push_string_scalar(
    out: &mut String,
    s: &str,
    indent: usize,
    column: Option<usize>,
    place: Place,
) {
    let style = string_style(s, place);
    // keys are simple keys, never folded
    let column = if place == Place::Key { None } else { column };
    match style {
        Style::Plain => fold(out, s, column, indent, false),
        Style::Single => single_quoted(out, s, column, indent),
        Style::Double => double_quoted(out, s, indent, column),
        Style::Literal => push_literal_block(out, s, indent),
    }
}

/// libyaml's line width: a scalar breaks at the first space past this column.
const WIDTH: usize = 80;

/// Appends `count` spaces.
pub(super) fn push_spaces(out: &mut String, count: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = count;
    while left > 0 {
        let now = left.min(SPACES.len());
        out.push_str(&SPACES[..now]);
        left -= now;
    }
}

/// A plain scalar, folded at spaces past `WIDTH` as libyaml folds it (`inner`: single-quoted
/// rules, where the first and last characters never break), appended to `out`.
fn fold(out: &mut String, s: &str, column: Option<usize>, indent: usize, inner: bool) {
    let Some(mut column) = column else {
        out.push_str(s);
        return;
    };
    // only a space past the width folds, and only LS and PS break: most text has neither
    let unbroken = s.is_ascii() || !s.contains(['\u{2028}', '\u{2029}']);
    if unbroken && (column + s.len() <= WIDTH || !s.as_bytes().contains(&b' ')) {
        out.push_str(s);
        return;
    }
    out.reserve(s.len());
    let (mut spaces, mut breaks) = (false, false);
    let mut chars = s.chars().peekable();
    let mut i = 0;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        if c == ' ' {
            let inside = !inner || (i > 0 && next.is_some());
            if !spaces && column > WIDTH && inside && next != Some(' ') {
                out.push('\n');
                push_spaces(out, indent);
                column = indent;
            } else {
                out.push(' ');
                column += 1;
            }
            spaces = true;
        } else if is_break(c) {
            // only LS and PS get here (the others are never plain or single-quoted); libyaml
            // writes them as they are and indents the text after them
            out.push(c);
            column = 0;
            breaks = true;
        } else {
            if breaks {
                push_spaces(out, indent);
                column = indent;
            }
            out.push(c);
            column += 1;
            (spaces, breaks) = (false, false);
        }
        i += 1;
    }
}

fn single_quoted(out: &mut String, s: &str, column: Option<usize>, indent: usize) {
    // Quotes inside are doubled; fold on the escaped text, from just after the opening quote.
    out.push('\'');
    if s.contains('\'') {
        fold(
            out,
            &s.replace('\'', "''"),
            column.map(|c| c + 1),
            indent,
            true,
        );
    } else {
        fold(out, s, column.map(|c| c + 1), indent, true);
    }
    out.push('\'');
}

/// A double-quoted scalar with yaml.v3's escapes, folded past `WIDTH` like libyaml folds it.
fn double_quoted(out: &mut String, s: &str, indent: usize, column: Option<usize>) {
    let chars: Vec<char> = s.chars().collect();
    out.reserve(s.len() + 2);
    out.push('"');
    let mut at = column.map(|c| c + 1);
    let mut spaces = false;
    // yaml.v3 looks for a byte order mark at the start of the text rather than at each
    // character, so a text that starts with one has every character escaped
    let escape_all = s.starts_with('\u{FEFF}');
    for (i, &c) in chars.iter().enumerate() {
        if escape_all || needs_escape(c) {
            let start = out.len();
            push_escape(out, c);
            // an escape is ASCII: its length is its width
            at = at.map(|a| a + out.len() - start);
            spaces = false;
        } else if c == ' ' {
            let breaks =
                at.is_some_and(|column| !spaces && column > WIDTH && i > 0 && i + 1 < chars.len());
            if breaks {
                out.push('\n');
                push_spaces(out, indent);
                at = Some(indent);
                if chars.get(i + 1) == Some(&' ') {
                    out.push('\\');
                    at = at.map(|a| a + 1);
                }
            } else {
                out.push(' ');
                at = at.map(|a| a + 1);
            }
            spaces = true;
        } else {
            out.push(c);
            at = at.map(|a| a + 1);
            spaces = false;
        }
    }
    out.push('"');
}

/// Whether a character is escaped in double quotes: not printable, a byte order mark, a line
/// break, or a quote or backslash. A no-break space, for one, is written as it is.
fn needs_escape(c: char) -> bool {
    !is_printable(c) || is_break(c) || matches!(c, '\u{FEFF}' | '"' | '\\')
}

/// A character's escape in double quotes, as libyaml writes it, appended to `out`.
fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let short = match c {
        '\0' => '0',
        '\u{7}' => 'a',
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => {
            // writing into a String cannot fail
            let _ = match u32::from(c) {
                v if v <= 0xFF => write!(out, "\\x{v:02X}"),
                v if v <= 0xFFFF => write!(out, "\\u{v:04X}"),
                v => write!(out, "\\U{v:08X}"),
            };
            return;
        }
    };
    out.push('\\');
    out.push(short);
}

/// A literal block (`|`, with its indentation and chomping indicators) appended to `out`.
pub(super) fn push_literal_block(out: &mut String, s: &str, indent: usize) {
    let first = s.chars().next();
    out.push('|');
    if first.is_some_and(|c| c == ' ' || is_break(c)) {
        out.push('2');
    }
    if !s.ends_with(is_break) {
        out.push('-');
    } else if s.chars().nth(1).is_none() || s[..s.len() - 1].ends_with(is_break) {
        out.push('+');
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    out.reserve(body.len() + body.len() / 16 * indent);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_spaces(out, indent);
            out.push_str(line);
        }
    }
}
