//! What changes between two renders of a site: files, Kubernetes objects, secrets-file keys.
//!
//! Objects are matched by apiVersion, kind, namespace and name across all files, so an object
//! that moved between files unchanged is no change. The encrypted secrets file is compared by
//! key only: which keys were added, removed or re-encrypted, never a value or ciphertext.

mod applied_by;
mod commit_message;
pub mod format;
mod objects;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::layout;

pub use applied_by::{AppliedBy, applied_by};
pub use commit_message::{CommitMessage, commit_message};
pub use objects::{FieldChange, ObjectChange, ObjectId, ObjectStatus};

/// The rendered files of one site as two snapshots: path → bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Added,
    Removed,
    Changed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
        }
    }

    pub fn sign(self) -> char {
        match self {
            Status::Added => '+',
            Status::Removed => '-',
            Status::Changed => '~',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub status: Status,
    /// Who brings the change to the running site, by the file's path.
    pub applied_by: AppliedBy,
    /// The unified diff; `None` for the encrypted secrets file, whose text is ciphertext.
    pub unified: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretKeyChange {
    pub file: String,
    pub key: String,
    pub status: Status,
}

/// Everything that differs for one site.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteDiff {
    pub site: String,
    pub files: Vec<FileChange>,
    pub objects: Vec<ObjectChange>,
    pub secrets: Vec<SecretKeyChange>,
}

impl SiteDiff {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Compares `old` with `new`. Paths under `.railyard/` (the lock) are bookkeeping, not output.
pub fn compare(site: &str, old: &Files, new: &Files) -> SiteDiff {
    let shown = |path: &&String| {
        !path
            .strip_prefix(layout::STATE_DIR)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    let mut files = Vec::new();
    let mut secrets = Vec::new();
    let paths: std::collections::BTreeSet<&String> =
        old.keys().chain(new.keys()).filter(shown).collect();
    for path in paths {
        let (before, after) = (old.get(path), new.get(path));
        let status = match (before, after) {
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (Some(a), Some(b)) if a != b => Status::Changed,
            _ => continue,
        };
        let text = |bytes: Option<&Vec<u8>>| {
            bytes
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let (before_text, after_text) = (text(before), text(after));
        let encrypted = is_sops(&before_text) || is_sops(&after_text);
        if encrypted {
            secrets.extend(secret_keys(path, &before_text, &after_text));
        }
        let unified = (!encrypted).then(|| {
            similar::TextDiff::from_lines(&before_text, &after_text)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string()
        });
        files.push(FileChange {
            path: path.clone(),
            status,
            applied_by: applied_by(site, path),
            unified,
        });
    }
    let objects = objects::compare(old, new);
    SiteDiff {
        site: site.to_owned(),
        files,
        objects,
        secrets,
    }
}

/// A SOPS file has a top-level `sops:` mapping.
fn is_sops(text: &str) -> bool {
    text.lines().any(|line| line == "sops:")
}

/// Key names of a SOPS-encrypted Secret with the (cipher)text of each, never shown.
fn encrypted_entries(text: &str) -> BTreeMap<String, String> {
    let file = crate::source::SourceFile::new("secrets", text);
    let (documents, _) = crate::yaml::parse_stream(&file);
    let tree = documents
        .first()
        .map(|d| crate::json_tree::JsonTree::new("secrets", d));
    let mut entries = BTreeMap::new();
    for section in ["stringData", "data"] {
        if let Some(Json::Object(map)) = tree.as_ref().and_then(|t| t.value.get(section)) {
            for (key, value) in map {
                entries.insert(key.clone(), value.to_string());
            }
        }
    }
    entries
}

fn secret_keys(path: &str, before: &str, after: &str) -> Vec<SecretKeyChange> {
    let (old, new) = (encrypted_entries(before), encrypted_entries(after));
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let status = match (old.get(key), new.get(key)) {
                (None, Some(_)) => Status::Added,
                (Some(_), None) => Status::Removed,
                (Some(a), Some(b)) if a != b => Status::Changed,
                _ => return None,
            };
            Some(SecretKeyChange {
                file: path.to_owned(),
                key: key.clone(),
                status,
            })
        })
        .collect()
}
