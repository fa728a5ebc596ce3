//! Diagnostics as data: every problem the core finds, with where it is and what to do.
//!
//! The core collects all of them and never stops at the first; rendering lives in the edge.

use crate::core::source::Span;

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
