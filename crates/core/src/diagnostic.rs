//! Diagnostics as data: every problem the core finds, with where it is and what to do.
//!
//! The core collects all of them and never stops at the first; rendering lives in the edge.

use crate::limits::{MAX_DIAGNOSTICS, MAX_INPUT_BYTES};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding about one place in one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Input file name, relative to the site file's directory.
    pub file: String,
    pub span: Span,
    /// The YAML path, dotted with list indices (`spec.ssh.authorizedKeys[0]`); empty for the document.
    pub path: String,
    pub message: String,
    /// What a valid value looks like.
    pub expected: Option<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(file: &str, span: Span, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_owned(),
            span,
            path: path.to_owned(),
            message: message.into(),
            expected: None,
            hint: None,
        }
    }

    #[must_use]
    pub fn expected(mut self, expected: impl Into<String>) -> Diagnostic {
        self.expected = Some(expected.into());
        self
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn maybe_hint(mut self, hint: Option<String>) -> Diagnostic {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }
}

/// Sorts diagnostics by file and position so output is stable whatever order rules ran in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.start, &a.path, &a.message).cmp(&(
            &b.file,
            b.span.start,
            &b.path,
            &b.message,
        ))
    });
}

pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// Keeps the first [`MAX_DIAGNOSTICS`] diagnostics; the rest are counted in one more, at the
/// first of them, so a file with thousands of the same mistake stays readable.
pub fn cap(diagnostics: &mut Vec<Diagnostic>) {
    if diagnostics.len() <= MAX_DIAGNOSTICS {
        return;
    }
    let more = diagnostics.len() - MAX_DIAGNOSTICS;
    let first = &diagnostics[MAX_DIAGNOSTICS];
    let summary = Diagnostic::error(
        &first.file,
        first.span,
        &first.path,
        match more {
            1 => "1 more problem from here on is not shown".to_owned(),
            _ => format!("{more} more problems from here on are not shown"),
        },
    )
    .expected(format!(
        "at most {MAX_DIAGNOSTICS} problems reported at once"
    ))
    .hint("fix the problems above and run again");
    diagnostics.truncate(MAX_DIAGNOSTICS);
    diagnostics.push(summary);
}

/// The error for an input larger than [`MAX_INPUT_BYTES`], at its first character.
pub fn too_large(name: &str) -> Diagnostic {
    Diagnostic::error(name, Span::new(0, 0), "", "file is too large")
        .expected(format!("at most {MAX_INPUT_BYTES} bytes"))
        .hint("railyard inputs are small hand-written files; check that this is the right file")
}

/// The error for an input that is not UTF-8: `valid` is the text before its first bad byte, the
/// text to keep for the file so that the position can be shown.
pub fn not_utf8(name: &str, valid: &str) -> Diagnostic {
    Diagnostic::error(
        name,
        Span::new(valid.len(), valid.len()),
        "",
        "not UTF-8 text",
    )
    .expected("UTF-8 text")
    .hint("save the file as UTF-8; railyard reads YAML and key files as text")
}

#[cfg(test)]
mod tests {
    use super::{Diagnostic, MAX_DIAGNOSTICS, cap};
    use crate::source::Span;

    #[test]
    fn cap_counts_what_it_leaves_out_at_the_first_left_out() {
        let mut diagnostics: Vec<Diagnostic> = (0..MAX_DIAGNOSTICS + 7)
            .map(|i| Diagnostic::error("f.yaml", Span::new(i, i), "", format!("problem {i}")))
            .collect();
        cap(&mut diagnostics);
        assert_eq!(diagnostics.len(), MAX_DIAGNOSTICS + 1);
        let last = &diagnostics[MAX_DIAGNOSTICS];
        assert_eq!(last.message, "7 more problems from here on are not shown");
        assert_eq!(last.span, Span::new(MAX_DIAGNOSTICS, MAX_DIAGNOSTICS));
    }
}
