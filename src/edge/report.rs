//! Diagnostics for people (source line and marker, colour on a terminal) and for machines (JSON).
//!
//! The secrets file is never quoted: its lines hold ciphertext, or worse, plaintext someone
//! forgot to encrypt. Its diagnostics show the position only.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor::Buffer};
use serde_json::json;

use crate::core::diagnostic::{Diagnostic, Severity};
use crate::core::source::line_col;
use crate::edge::load::Loaded;

/// Renders diagnostics for a terminal; only the site file's lines are quoted.
pub fn human(diagnostics: &[Diagnostic], loaded: &Loaded, color: bool) -> String {
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
        if diagnostic.file == loaded.inputs.site.name {
            let label = Label::primary(site_id, diagnostic.span.start..diagnostic.span.end);
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

/// A JSON array of `{severity, file, line, column, path, message, expected, hint}`.
pub fn json(diagnostics: &[Diagnostic], loaded: &Loaded) -> String {
    let items: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = position(d, loaded);
            json!({
                "severity": d.severity.as_str(),
                "file": loaded.display_name(&d.file),
                "line": line,
                "column": column,
                "path": d.path,
                "message": d.message,
                "expected": d.expected,
                "hint": d.hint,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).expect("JSON values always serialise");
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
/// from disk; a file that cannot be read again is named without a snippet.
pub fn human_files(diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    let mut ids = std::collections::BTreeMap::new();
    for diagnostic in diagnostics {
        if !ids.contains_key(&diagnostic.file) {
            if let Ok(text) = std::fs::read_to_string(&diagnostic.file) {
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
        match ids.get(&diagnostic.file) {
            Some(id) => {
                let label = Label::primary(*id, diagnostic.span.start..diagnostic.span.end);
                report = report.with_labels(vec![match &diagnostic.expected {
                    Some(expected) => label.with_message(format!("expected {expected}")),
                    None => label,
                }]);
            }
            None => notes.push(format!("at: {}", diagnostic.file)),
        }
        out.extend(render(report, notes, diagnostic, &files, color));
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON form of `human_files`.
pub fn json_files(diagnostics: &[Diagnostic]) -> String {
    let items: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = std::fs::read_to_string(&d.file).map_or((1, 1), |text| line_col(&text, d.span.start));
            json!({ "severity": d.severity.as_str(), "file": d.file, "line": line, "column": column, "path": d.path, "message": d.message, "expected": d.expected, "hint": d.hint })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).expect("JSON values always serialise");
    text.push('\n');
    text
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
