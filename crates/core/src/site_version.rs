//! The site file's format versions: which `apiVersion` is current, which keys each version
//! admits, and the findings for an older file.
//!
//! A key a later version introduced is an error in an older file, at the key, since the older
//! format promised it would not be there; an older file that otherwise validates renders as it
//! always did, with a warning at its `apiVersion` that `railyard migrate` rewrites it.

use crate::diagnostic::{Diagnostic, Severity};
use crate::json_tree::JsonTree;
use crate::rules::pointers;

/// A version of the site format, oldest first (the order is the upgrade order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FormatVersion {
    V1alpha1,
    V1alpha2,
}

/// The version `railyard init` and `railyard migrate` write.
pub const CURRENT: FormatVersion = FormatVersion::V1alpha2;

impl FormatVersion {
    /// Every version, oldest first.
    pub const ALL: [FormatVersion; 2] = [FormatVersion::V1alpha1, FormatVersion::V1alpha2];

    /// The `apiVersion` value.
    pub fn as_str(self) -> &'static str {
        match self {
            FormatVersion::V1alpha1 => "railyard.dev/v1alpha1",
            FormatVersion::V1alpha2 => "railyard.dev/v1alpha2",
        }
    }

    pub fn parse(text: &str) -> Option<FormatVersion> {
        FormatVersion::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// A key of the site file and the format version that introduced it.
pub struct Introduced {
    pub pointer: &'static str,
    pub since: FormatVersion,
}

/// Keys later versions added; every other key exists in every version.
pub const INTRODUCED: &[Introduced] = &[
    Introduced {
        pointer: pointers::MAINTENANCE,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::GIT_AUTH,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::GIT_PUBLIC,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::NETWORK,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::MACHINE_SECRETS_FILE,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::POOLS,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::AUTOSCALER_TOKEN,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::DIGITALOCEAN_CSI,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::SCALEWAY_CSI,
        since: FormatVersion::V1alpha2,
    },
    Introduced {
        pointer: pointers::AZURE_DISK_CSI,
        since: FormatVersion::V1alpha2,
    },
];

/// Whether a site of this `apiVersion` keeps the machines' secrets (the k3s tokens) in their
/// own file: from `v1alpha2` on. An unknown version is the schema's to report, and is read as
/// the current one.
pub fn splits_secrets(api_version: Option<&str>) -> bool {
    api_version
        .and_then(FormatVersion::parse)
        .is_none_or(|v| v >= FormatVersion::V1alpha2)
}

/// The hint every finding here gives.
fn migrate_hint() -> String {
    format!(
        "run `railyard migrate` to rewrite the file as `{}` in place (comments and order are kept)",
        CURRENT.as_str()
    )
}

/// The findings for the file's format version: nothing for a current file; for an older one,
/// an error at each key its version lacks and one warning at `apiVersion`. An unknown
/// `apiVersion` is the schema's to report.
pub fn check(tree: &JsonTree) -> Vec<Diagnostic> {
    let Some(version) = tree
        .str_at(pointers::API_VERSION)
        .and_then(FormatVersion::parse)
    else {
        return Vec::new();
    };
    if version == CURRENT {
        return Vec::new();
    }
    let mut out: Vec<Diagnostic> = INTRODUCED
        .iter()
        .filter(|key| key.since > version && tree.value.pointer(key.pointer).is_some())
        .map(|key| {
            tree.key_error(
                key.pointer,
                format!(
                    "`{}` is not part of `{}`; it came with `{}`",
                    tree.yaml_path(key.pointer),
                    version.as_str(),
                    key.since.as_str()
                ),
            )
            .expected(format!(
                "a `{}` site without this key, or the file migrated",
                version.as_str()
            ))
            .hint(migrate_hint())
        })
        .collect();
    let mut warning = tree
        .value_error(
            pointers::API_VERSION,
            format!(
                "`{}` is an older site format; railyard still reads it and renders the same files",
                version.as_str()
            ),
        )
        .expected(format!("`{}`", CURRENT.as_str()))
        .hint(migrate_hint());
    warning.severity = Severity::Warning;
    out.push(warning);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml;

    fn findings(text: &str) -> Vec<Diagnostic> {
        let file = SourceFile::new("site.yaml", text);
        let (documents, _) = yaml::parse_stream(&file);
        check(&JsonTree::new("site.yaml", &documents[0]))
    }

    #[test]
    fn an_older_file_warns_at_its_api_version() {
        let found = findings("apiVersion: railyard.dev/v1alpha1\nspec:\n  git:\n    url: x\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].path, "apiVersion");
        assert_eq!(found[0].span.start, "apiVersion: ".len());
        assert!(
            found[0]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("railyard migrate")
        );
    }

    #[test]
    fn a_key_of_a_later_version_is_an_error_at_the_key() {
        let text = "apiVersion: railyard.dev/v1alpha1\nspec:\n  maintenance: {}\n  git:\n    url: x\n    public: true\n";
        let found = findings(text);
        let errors: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 2, "{found:?}");
        assert_eq!(errors[0].path, "spec.maintenance");
        assert_eq!(
            &text[errors[0].span.start..errors[0].span.end],
            "maintenance"
        );
        assert_eq!(errors[1].path, "spec.git.public");
        assert!(
            errors[1]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("railyard migrate")
        );
    }

    #[test]
    fn a_current_or_unknown_version_has_no_finding_here() {
        let current = format!(
            "apiVersion: {}\nspec:\n  maintenance: {{}}\n",
            CURRENT.as_str()
        );
        assert!(findings(&current).is_empty());
        assert!(findings("apiVersion: railyard.dev/v9\n").is_empty());
    }

    #[test]
    fn every_introduced_key_is_a_pointer_of_the_table() {
        for key in INTRODUCED {
            assert!(pointers::ALL.contains(&key.pointer), "{}", key.pointer);
            assert!(key.since > FormatVersion::V1alpha1);
        }
    }
}
