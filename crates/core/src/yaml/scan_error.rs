//! A scanner error as a diagnostic that points at the problem and says how to fix it.

use saphyr_parser::ScanError;

use crate::diagnostic::Diagnostic;
use crate::source::Span;

use super::Builder;

impl Builder<'_> {
    pub(super) fn scan_error(&mut self, error: &ScanError) {
        let at = self.byte(error.marker().index());
        let info = error.info();
        if info.contains("recursion limit") {
            // the parser's own guard against deep flow nesting, which it meets first
            self.too_deep(Span::new(at, at));
            return;
        }
        if let Some(tab) = indenting_tab(&self.file.text, at, info) {
            self.diagnostics.push(
                Diagnostic::error(
                    &self.file.name,
                    Span::new(tab, tab + 1),
                    "",
                    "tabs cannot indent YAML; use spaces",
                )
                .expected("spaces before the line's content")
                .hint("replace the tab with spaces: YAML counts only spaces as indentation"),
            );
            return;
        }
        let hint = if info.contains("mapping values are not allowed") {
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

/// The first tab in the indentation of the line holding `at`: where the scanner stopped is
/// often past the tab, or a line before it when the scanner says a tab is the problem.
fn indenting_tab(text: &str, at: usize, info: &str) -> Option<usize> {
    let in_indentation = |pos: usize| {
        let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
        let indentation = text[start..]
            .find(|c| c != ' ' && c != '\t')
            .unwrap_or(text.len() - start);
        text[start..start + indentation]
            .find('\t')
            .map(|i| start + i)
    };
    in_indentation(at).or_else(|| {
        let next = text[at..].find('\t')?;
        info.contains("tab")
            .then(|| in_indentation(at + next))
            .flatten()
    })
}
