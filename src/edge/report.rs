//! Diagnostics for people (source line and marker, colour on a terminal) and for machines (JSON).
//!
//! The secrets file is never quoted: its lines hold ciphertext, or worse, plaintext someone
//! forgot to encrypt. Its diagnostics show the position only.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor::Buffer};
use serde_json::{Value, json};

use std::ops::Range;
use std::path::Path;

use crate::core::diagnostic::{Diagnostic, Severity};
use crate::core::limits::MAX_QUOTED_LINE;
use crate::core::source::line_col;
use crate::edge::load::{Loaded, read_text};
use crate::edge::write::Difference;

/// Most lines one label may quote; a longer span is quoted by its first line.
const MAX_QUOTED_LINES: usize = 20;

/// Whether `--color auto` colours a stream: only a terminal, and not when `NO_COLOR` is set to
/// a non-empty value. An empty `NO_COLOR` counts as unset, as no-color.org specifies.
pub fn auto_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// Renders diagnostics for a terminal; only the site file's lines are quoted.
pub fn human(diagnostics: &[Diagnostic], loaded: &Loaded, color: bool) -> String {
    let diagnostics = &shortened(diagnostics);
    let mut files = SimpleFiles::new();
    let site_id = files.add(
        loaded.display_name(&loaded.inputs.site.name),
        loaded.inputs.site.text.clone(),
    );
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let mut report = match diagnostic.severity {
            Severity::Error => Report::error(),
            Severity::Warning => Report::warning(),
        }
        .with_message(&diagnostic.message);
        let mut notes = Vec::new();
        let quoted = (diagnostic.file == loaded.inputs.site.name)
            .then(|| quotable(&loaded.inputs.site.text, diagnostic))
            .flatten();
        if let Some(range) = quoted {
            let label = Label::primary(site_id, range);
            report = report.with_labels(vec![match &diagnostic.expected {
                Some(expected) => label.with_message(format!("expected {expected}")),
                None => label,
            }]);
        } else {
            let (line, column) = position(diagnostic, loaded);
            notes.push(format!(
                "at: {}:{line}:{column}",
                loaded.display_name(&diagnostic.file)
            ));
            if let Some(expected) = &diagnostic.expected {
                notes.push(format!("expected: {expected}"));
            }
        }
        out.extend(render(report, notes, diagnostic, &files, color));
    }
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        let plural = if errors == 1 { "" } else { "s" };
        out.extend_from_slice(
            format!(
                "{errors} error{plural} found checking {}\n",
                loaded.display_name(&loaded.inputs.site.name)
            )
            .as_bytes(),
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON array of `{kind, severity, file, line, column, path, message, expected, hint}`,
/// `kind` always `finding` (`schema/errors.schema.json`).
pub fn json(diagnostics: &[Diagnostic], loaded: &Loaded) -> String {
    array(&json_items(diagnostics, loaded))
}

/// The entries of [`json`], for a caller that prints them with others.
pub fn json_items(diagnostics: &[Diagnostic], loaded: &Loaded) -> Vec<Value> {
    shortened(diagnostics)
        .iter()
        .map(|d| {
            let (line, column) = position(d, loaded);
            finding(d, &loaded.display_name(&d.file), line, column)
        })
        .collect()
}

/// One finding; every entry of the array has these keys, errors add theirs.
fn finding(d: &Diagnostic, file: &str, line: usize, column: usize) -> Value {
    json!({
        "kind": "finding",
        "severity": d.severity.as_str(),
        "file": file,
        "line": line,
        "column": column,
        "path": d.path,
        "message": d.message,
        "expected": d.expected,
        "hint": d.hint,
    })
}

/// `render --check`'s differences as findings on the files of `out` that differ.
pub fn json_differences(out: &Path, differences: &[Difference], hint: &str) -> Vec<Value> {
    differences
        .iter()
        .map(|difference| {
            let (Difference::Stale(file)
            | Difference::EditedByHand(file)
            | Difference::Missing(file)
            | Difference::NotRendered(file)
            | Difference::Interrupted(file)) = difference;
            json_finding(&out.join(file), &difference.to_string(), Some(hint))
        })
        .collect()
}

/// A finding about a whole file, found by a command rather than the compiler.
pub fn json_finding(file: &Path, message: &str, hint: Option<&str>) -> Value {
    json_whole_file(Severity::Error, file, message, hint)
}

/// A warning about a whole file, for the JSON array.
pub fn json_warning(file: &Path, message: &str, hint: Option<&str>) -> Value {
    json_whole_file(Severity::Warning, file, message, hint)
}

fn json_whole_file(severity: Severity, file: &Path, message: &str, hint: Option<&str>) -> Value {
    let diagnostic = Diagnostic {
        severity,
        file: String::new(),
        span: crate::core::source::Span::default(),
        path: String::new(),
        message: message.to_owned(),
        expected: None,
        hint: hint.map(str::to_owned),
    };
    finding(&diagnostic, &file.display().to_string(), 1, 1)
}

fn array(items: &[Value]) -> String {
    let mut text = serde_json::to_string_pretty(items).expect("JSON values always serialise");
    text.push('\n');
    text
}

fn position(diagnostic: &Diagnostic, loaded: &Loaded) -> (usize, usize) {
    let text = if diagnostic.file == loaded.inputs.site.name {
        Some(loaded.inputs.site.text.as_str())
    } else {
        loaded
            .inputs
            .files
            .get(&diagnostic.file)
            .and_then(|f| f.as_ref().ok())
            .map(|f| f.text.as_str())
    };
    text.map_or((1, 1), |t| line_col(t, diagnostic.span.start))
}

/// Diagnostics about files read from disk by path (the overlay engine's), each file quoted
/// from disk; a file that cannot be read again (or is too large to) is named without a snippet.
pub fn human_files(diagnostics: &[Diagnostic], color: bool) -> String {
    let diagnostics = &shortened(diagnostics);
    let mut files = SimpleFiles::new();
    let mut ids = std::collections::BTreeMap::new();
    let mut texts = std::collections::BTreeMap::new();
    for diagnostic in diagnostics {
        if !ids.contains_key(&diagnostic.file) {
            if let Ok(text) = read_text(std::path::Path::new(&diagnostic.file)) {
                texts.insert(diagnostic.file.clone(), text.clone());
                ids.insert(
                    diagnostic.file.clone(),
                    files.add(diagnostic.file.clone(), text),
                );
            }
        }
    }
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let mut report = Report::error().with_message(&diagnostic.message);
        let mut notes = Vec::new();
        let text = texts.get(&diagnostic.file);
        match ids
            .get(&diagnostic.file)
            .zip(text.and_then(|t| quotable(t, diagnostic)))
        {
            Some((id, range)) => {
                let label = Label::primary(*id, range);
                report = report.with_labels(vec![match &diagnostic.expected {
                    Some(expected) => label.with_message(format!("expected {expected}")),
                    None => label,
                }]);
            }
            None if std::path::Path::new(&diagnostic.file).is_dir() => {
                notes.push(format!("at: {}", diagnostic.file));
            }
            None => {
                let (line, column) = text.map_or((1, 1), |t| line_col(t, diagnostic.span.start));
                notes.push(format!("at: {}:{line}:{column}", diagnostic.file));
                if let Some(expected) = &diagnostic.expected {
                    notes.push(format!("expected: {expected}"));
                }
            }
        }
        out.extend(render(report, notes, diagnostic, &files, color));
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON form of `human_files`.
pub fn json_files(diagnostics: &[Diagnostic]) -> String {
    array(&json_files_items(diagnostics))
}

/// The entries of [`json_files`], for a caller that prints them with others.
pub fn json_files_items(diagnostics: &[Diagnostic]) -> Vec<Value> {
    shortened(diagnostics)
        .iter()
        .map(|d| {
            let (line, column) =
                read_text(Path::new(&d.file)).map_or((1, 1), |text| line_col(&text, d.span.start));
            finding(d, &d.file, line, column)
        })
        .collect()
}

/// Longest value quoted in backticks in a message; a longer one is cut, with `…`.
const MAX_QUOTED_VALUE: usize = 80;
/// Longest message, path, expectation or hint printed.
const MAX_MESSAGE: usize = 2_000;

/// The diagnostics with long user values cut: a message quotes what it is about, and a
/// megabyte-long key or JSON pointer would bury the message itself.
fn shortened(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    let cut = |text: &str| -> String {
        let mut out = String::new();
        for (i, part) in text.split('`').enumerate() {
            if i > 0 {
                out.push('`');
            }
            if i % 2 == 1 && part.chars().count() > MAX_QUOTED_VALUE {
                out.extend(part.chars().take(MAX_QUOTED_VALUE));
                out.push('…');
            } else {
                out.push_str(part);
            }
        }
        if out.chars().count() > MAX_MESSAGE {
            out = out.chars().take(MAX_MESSAGE).collect();
            out.push('…');
        }
        out
    };
    diagnostics
        .iter()
        .map(|d| Diagnostic {
            message: cut(&d.message),
            path: cut(&d.path),
            expected: d.expected.as_deref().map(cut),
            hint: d.hint.as_deref().map(cut),
            ..d.clone()
        })
        .collect()
}

/// What of `text` to quote under `diagnostic`: its span, or the span's first line when the span
/// covers more than [`MAX_QUOTED_LINES`]; `None` when a line to quote is longer than
/// [`MAX_QUOTED_LINE`] (a minified or hostile file), so the position alone is shown.
fn quotable(text: &str, diagnostic: &Diagnostic) -> Option<Range<usize>> {
    let boundary = |mut at: usize| {
        at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let start = boundary(diagnostic.span.start);
    let mut end = boundary(diagnostic.span.end.max(start));
    let first_line = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i);
    if text[start..end].matches('\n').count() >= MAX_QUOTED_LINES {
        end = line_end(start);
    }
    let mut at = first_line;
    loop {
        let next = line_end(at);
        if next - at > MAX_QUOTED_LINE {
            return None;
        }
        if next >= end || next >= text.len() {
            break;
        }
        at = next + 1;
    }
    Some(start..end)
}

/// One report with the diagnostic's path and hint as notes, rendered for a terminal.
fn render(
    report: Report<usize>,
    mut notes: Vec<String>,
    diagnostic: &Diagnostic,
    files: &SimpleFiles<String, String>,
    color: bool,
) -> Vec<u8> {
    if !diagnostic.path.is_empty() {
        notes.push(format!("path: {}", diagnostic.path));
    }
    if let Some(hint) = &diagnostic.hint {
        notes.push(format!("help: {hint}"));
    }
    let report = report.with_notes(notes);
    let mut buffer = if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    term::emit_to_write_style(
        &mut StylesWriter::new(&mut buffer, &Styles::default()),
        &Config::default(),
        files,
        &report,
    )
    .expect("diagnostic spans lie inside their file");
    buffer.into_inner()
}

#[cfg(test)]
mod tests {
    use super::auto_color;
    use std::ffi::OsStr;

    #[test]
    fn no_color_with_a_value_turns_colour_off_and_an_empty_one_does_not() {
        assert!(auto_color(true, None));
        assert!(auto_color(true, Some(OsStr::new(""))));
        assert!(!auto_color(true, Some(OsStr::new("1"))));
        assert!(!auto_color(true, Some(OsStr::new("0"))));
        assert!(!auto_color(false, None));
        assert!(!auto_color(false, Some(OsStr::new(""))));
    }
}
