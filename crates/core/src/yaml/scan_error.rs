//! A scanner error as a diagnostic that points at the problem and says how to fix it.

use saphyr_parser::ScanError;

use crate::diagnostic::Diagnostic;
use crate::source::Span;

use super::{Builder, TabFix};

impl Builder<'_> {
    pub(super) fn scan_error(&mut self, error: &ScanError) {
        let at = self.byte(error.marker().index());
        let info = error.info();
        if info.contains("recursion limit") {
            // the parser's own guard against deep flow nesting, which it meets first
            self.too_deep(Span::new(at, at));
            return;
        }
        if let Some(tabs) = separating_tabs(&self.file.text, at, info) {
            self.tab = Some(TabFix {
                at,
                tabs,
                reported: None,
            });
            return;
        }
        if let Some(tab) = indenting_tab(&self.file.text, at, info) {
            let start = tab
                - self.file.text[..tab]
                    .rfind('\n')
                    .map_or(tab, |i| tab - i - 1);
            let indentation = &self.file.text[start..];
            let end = start
                + indentation
                    .find(|c| c != ' ' && c != '\t')
                    .unwrap_or(indentation.len());
            let diagnostic = Diagnostic::error(
                &self.file.name,
                Span::new(tab, tab + 1),
                "",
                "tabs cannot indent YAML; use spaces",
            )
            .expected("spaces before the line's content")
            .hint("replace the tab with spaces: YAML counts only spaces as indentation");
            self.tab = Some(TabFix {
                at: tab,
                tabs: (start..end)
                    .filter(|&i| self.file.text.as_bytes()[i] == b'\t')
                    .collect(),
                reported: Some(diagnostic),
            });
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

/// Tabs between a mapping's `:` and its value on the same line (`key:\tvalue`): YAML 1.2 and
/// yaml.v3 take them as separating whitespace; the scanner railyard uses does not.
fn separating_tabs(text: &str, at: usize, info: &str) -> Option<Vec<usize>> {
    if !info.contains("':' must be followed by") {
        return None;
    }
    let bytes = text.as_bytes();
    // The scanner stops at the `:`, or at the value past the blanks after it.
    let mut colon = at.min(bytes.len().saturating_sub(1));
    if bytes[colon] != b':' {
        colon = colon.checked_sub(1)?;
        while colon > 0 && matches!(bytes[colon], b'\t' | b' ') {
            colon -= 1;
        }
    }
    if bytes[colon] != b':' {
        return None;
    }
    let tabs: Vec<usize> = (colon + 1..bytes.len())
        .take_while(|&i| bytes[i] == b'\t' || bytes[i] == b' ')
        .filter(|&i| bytes[i] == b'\t')
        .collect();
    (!tabs.is_empty()).then_some(tabs)
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
