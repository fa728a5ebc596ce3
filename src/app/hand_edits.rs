//! Rendered files edited by hand, which a render refuses to overwrite: one finding per file.

use std::path::Path;

use crate::cli::{Cli, ErrorFormat};
use crate::core::compile::Output;
use crate::core::diagnostic::Diagnostic;
use crate::core::source::Span;
use crate::edge::load::Loaded;
use crate::edge::report;

/// One error per edited file, named as the user sees it (`out/path`), with both ways out:
/// `discard`, the command that overwrites the edit, and moving the change into the inputs.
pub(super) fn findings(out: &Path, paths: &[String], discard: &str) -> Vec<Diagnostic> {
    paths
        .iter()
        .map(|path| {
            let file = out.join(path).display().to_string();
            Diagnostic::error(
                &file,
                Span::default(),
                "",
                format!("`{file}` was edited by hand since railyard rendered it"),
            )
            .hint(format!(
                "to keep the edit, move the change into the site file or an overlay listed in \
                 `spec.overlays`, then render again; to discard it, run `{discard}`"
            ))
        })
        .collect()
}

/// The findings for people: one `error:` line and its help each.
pub(super) fn human(findings: &[Diagnostic]) -> String {
    findings
        .iter()
        .map(|d| {
            let hint = d.hint.as_deref().unwrap_or_default();
            format!("error: {}\n  = help: {hint}\n", d.message)
        })
        .collect()
}

/// Reports the site's diagnostics and `findings` together: with `--error-format json` held for
/// the one array the command prints when it ends; for people, on stderr.
pub(super) fn print_with_site(
    cli: &Cli,
    loaded: &Loaded,
    output: &Output,
    findings: &[Diagnostic],
) {
    match cli.error_format {
        ErrorFormat::Json => {
            super::print_diagnostics(cli, loaded, output);
            super::failure::hold(report::json_files_items(findings));
        }
        ErrorFormat::Human => {
            super::print_diagnostics(cli, loaded, output);
            eprint!("{}", human(findings));
        }
    }
}
