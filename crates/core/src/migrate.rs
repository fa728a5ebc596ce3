//! `railyard migrate`: an older site file rewritten to the current format, in place.
//!
//! The file is never emitted again: each step edits the text at the spans it changes, so
//! comments, order, quoting and layout stay as the user wrote them. Steps run oldest first,
//! one per version; `v1alpha1 → v1alpha2` only renames the version, since v1alpha2 adds
//! optional keys and changes none. v1alpha2 also keeps the k3s tokens in the machines' secrets
//! file: moving them needs the age identity, so `railyard secrets split` does it (decision
//! 0013), and the command refuses a file whose tokens are still in the cluster's file.

use crate::site_version::{CURRENT, FormatVersion};
use crate::source::SourceFile;
use crate::yaml;

/// One version's upgrade.
pub struct Step {
    pub from: FormatVersion,
    pub to: FormatVersion,
    /// What the step changes, for the command's report.
    pub summary: &'static str,
}

/// Every step, oldest first; each one's `to` is the next one's `from`, the last one's `CURRENT`.
pub const STEPS: &[Step] = &[Step {
    from: FormatVersion::V1alpha1,
    to: FormatVersion::V1alpha2,
    summary: "apiVersion only: v1alpha2 adds optional keys (`spec.maintenance`, `spec.git.auth`, `spec.git.public`, `spec.secrets.machineFile`) and changes none; the k3s tokens live in the machines' secrets file",
}];

/// What migrating a file does.
#[derive(Debug, PartialEq, Eq)]
pub enum Migration {
    /// The file is already in the current format.
    Current,
    /// The new text and the steps that made it.
    Migrated {
        text: String,
        from: FormatVersion,
        steps: Vec<&'static str>,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MigrateError {
    #[error("the file has no `apiVersion` string to migrate from")]
    NoApiVersion,
    #[error("`{0}` is not a site format railyard knows")]
    UnknownVersion(String),
}

/// The migration of `site` to the current format.
pub fn migrate(site: &SourceFile) -> Result<Migration, MigrateError> {
    let (documents, _) = yaml::parse_stream(site);
    let node = documents
        .first()
        .and_then(|root| root.get("apiVersion"))
        .ok_or(MigrateError::NoApiVersion)?;
    let written = node.as_str().ok_or(MigrateError::NoApiVersion)?;
    let from = FormatVersion::parse(written)
        .ok_or_else(|| MigrateError::UnknownVersion(written.to_owned()))?;
    if from == CURRENT {
        return Ok(Migration::Current);
    }
    let mut text = site.text.clone();
    let mut version = from;
    let mut steps = Vec::new();
    for step in STEPS.iter().filter(|step| step.from >= from) {
        debug_assert_eq!(step.from, version, "steps are contiguous");
        text = rename_version(&text, node.span, step.from, step.to);
        version = step.to;
        steps.push(step.summary);
    }
    Ok(Migration::Migrated { text, from, steps })
}

/// `text` with the version inside `span` (the `apiVersion` value, quoted or not) replaced;
/// every other byte is kept.
fn rename_version(
    text: &str,
    span: crate::source::Span,
    from: FormatVersion,
    to: FormatVersion,
) -> String {
    let value = &text[span.start..span.end];
    let at = value
        .find(from.as_str())
        .map_or(span.start, |offset| span.start + offset);
    let mut out = String::with_capacity(text.len() + 1);
    out.push_str(&text[..at]);
    out.push_str(to.as_str());
    out.push_str(&text[at + from.as_str().len()..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<Migration, MigrateError> {
        migrate(&SourceFile::new("site.yaml", text))
    }

    #[test]
    fn only_the_version_changes_and_every_other_byte_stays() {
        let text = "# my site\napiVersion: railyard.dev/v1alpha1   # the format\nkind: Site\n\n# keep me\nmetadata: {name: a}   # flow style stays\n";
        let Ok(Migration::Migrated {
            text: new,
            from,
            steps,
        }) = run(text)
        else {
            panic!("expected a migration");
        };
        assert_eq!(from, FormatVersion::V1alpha1);
        assert_eq!(steps.len(), 1);
        assert_eq!(new, text.replace("v1alpha1", "v1alpha2"));
    }

    #[test]
    fn quoted_versions_keep_their_quotes() {
        for (before, after) in [
            (
                "apiVersion: \"railyard.dev/v1alpha1\"\n",
                "apiVersion: \"railyard.dev/v1alpha2\"\n",
            ),
            (
                "apiVersion: 'railyard.dev/v1alpha1'\n",
                "apiVersion: 'railyard.dev/v1alpha2'\n",
            ),
            (
                "kind: Site\napiVersion:   railyard.dev/v1alpha1\n",
                "kind: Site\napiVersion:   railyard.dev/v1alpha2\n",
            ),
        ] {
            let Ok(Migration::Migrated { text, .. }) = run(before) else {
                panic!("expected a migration of {before:?}");
            };
            assert_eq!(text, after);
        }
    }

    #[test]
    fn a_current_file_is_left_alone_and_unknown_ones_are_refused() {
        let current = format!("apiVersion: {}\n", CURRENT.as_str());
        assert_eq!(run(&current), Ok(Migration::Current));
        assert_eq!(
            run("apiVersion: railyard.dev/v0\n"),
            Err(MigrateError::UnknownVersion("railyard.dev/v0".to_owned()))
        );
        assert_eq!(run("kind: Site\n"), Err(MigrateError::NoApiVersion));
    }

    #[test]
    fn the_steps_chain_up_to_the_current_version() {
        let mut version = FormatVersion::ALL[0];
        for step in STEPS {
            assert_eq!(step.from, version);
            assert!(step.to > step.from);
            version = step.to;
        }
        assert_eq!(version, CURRENT);
    }
}
