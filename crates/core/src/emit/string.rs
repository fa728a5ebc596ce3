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
    let unfolded = column.is_none() || place == Place::Key || (s.is_ascii() && !s.contains(' '));
    if style == Style::Plain && unfolded {
        out.push_str(s);
        return;
    }
    out.push_str(&styled_scalar(style, s, indent, column, place));
}

fn styled_scalar(
    style: Style,
    s: &str,
    indent: usize,
    column: Option<usize>,
    place: Place,
) -> String {
    // keys are simple keys, never folded
    let column = if place == Place::Key { None } else { column };
    match style {
        Style::Plain => fold(s, column, indent, false),
        Style::Single => single_quoted(s, column, indent),
        Style::Double => double_quoted(s, indent, column),
        Style::Literal => literal_block(s, indent),
    }
}

/// libyaml's line width: a scalar breaks at the first space past this column.
const WIDTH: usize = 80;

/// A plain scalar, folded at spaces past `WIDTH` as libyaml folds it (`inner`: single-quoted
/// rules, where the first and last characters never break).
fn fold(s: &str, column: Option<usize>, indent: usize, inner: bool) -> String {
    let Some(mut column) = column else {
        return s.to_owned();
    };
    // only a space past the width folds, and only LS and PS break: most text has neither
    let unbroken = !s.contains(['\u{2028}', '\u{2029}']);
    if unbroken && (column + s.len() <= WIDTH || !s.contains(' ')) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let (mut spaces, mut breaks) = (false, false);
    let mut chars = s.chars().peekable();
    let mut i = 0;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        if c == ' ' {
            let inside = !inner || (i > 0 && next.is_some());
            if !spaces && column > WIDTH && inside && next != Some(' ') {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
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
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
            }
            out.push(c);
            column += 1;
            (spaces, breaks) = (false, false);
        }
        i += 1;
    }
    out
}

fn single_quoted(s: &str, column: Option<usize>, indent: usize) -> String {
    // Quotes inside are doubled; fold on the escaped text, from just after the opening quote.
    let escaped = s.replace('\'', "''");
    format!("'{}'", fold(&escaped, column.map(|c| c + 1), indent, true))
}

/// A double-quoted scalar with yaml.v3's escapes, folded past `WIDTH` like libyaml folds it.
fn double_quoted(s: &str, indent: usize, column: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut at = column.map(|c| c + 1);
    let mut spaces = false;
    // yaml.v3 looks for a byte order mark at the start of the text rather than at each
    // character, so a text that starts with one has every character escaped
    let escape_all = s.starts_with('\u{FEFF}');
    for (i, &c) in chars.iter().enumerate() {
        let escaped = (escape_all || needs_escape(c)).then(|| escape(c));
        if let Some(text) = escaped {
            at = at.map(|a| a + text.chars().count());
            out.push_str(&text);
            spaces = false;
        } else if c == ' ' {
            let breaks =
                at.is_some_and(|column| !spaces && column > WIDTH && i > 0 && i + 1 < chars.len());
            if breaks {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
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
    out
}

/// Whether a character is escaped in double quotes: not printable, a byte order mark, a line
/// break, or a quote or backslash. A no-break space, for one, is written as it is.
fn needs_escape(c: char) -> bool {
    !is_printable(c) || is_break(c) || matches!(c, '\u{FEFF}' | '"' | '\\')
}

/// A character's escape in double quotes, as libyaml writes it.
fn escape(c: char) -> String {
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
            return match u32::from(c) {
                v if v <= 0xFF => format!("\\x{v:02X}"),
                v if v <= 0xFFFF => format!("\\u{v:04X}"),
                v => format!("\\U{v:08X}"),
            };
        }
    };
    format!("\\{short}")
}

pub(super) fn literal_block(s: &str, indent: usize) -> String {
    let first = s.chars().next();
    let indicator = if first.is_some_and(|c| c == ' ' || is_break(c)) {
        "2"
    } else {
        ""
    };
    let chomp = if !s.ends_with(is_break) {
        "-"
    } else if s.chars().count() == 1 || s[..s.len() - 1].ends_with(is_break) {
        "+"
    } else {
        ""
    };
    let body = s.strip_suffix('\n').unwrap_or(s);
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
