//! A scanner error as a diagnostic that points at the problem and says how to fix it.

use saphyr_parser::ScanError;

use crate::diagnostic::Diagnostic;
use crate::source::Span;

use super::Builder;

impl Builder<'_> {
    pub(super) fn scan_error(&mut self, error: &ScanError) {
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
