//! `--error-format json`: one array on stdout per run, findings and errors alike
//! (`schema/errors.schema.json`). Findings are held until the command ends, so an error after
//! them joins the same array instead of starting a second document.

use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::edge::cloud::CloudError;
use crate::edge::git::GitError;
use crate::edge::hetzner::HetznerError;
use crate::edge::kube::{KubeError, WatchError};
use crate::edge::load::LoadError;
use crate::edge::sops_config::ConfigError;
use crate::edge::write::WriteError;

/// The entries printed when the command ends; `None` until a command reports findings, so a
/// command whose output is something else (a schema, a plan) prints no array on success.
static ENTRIES: Mutex<Option<Vec<Value>>> = Mutex::new(None);

/// Holds findings for the array printed when the command ends (even none: `[]`).
pub(super) fn hold(items: Vec<Value>) {
    let mut entries = ENTRIES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    entries.get_or_insert_with(Vec::new).extend(items);
}

/// Holds an error that ended part of the command (one site of `--all`) after the findings.
pub(super) fn hold_error(error: &anyhow::Error) {
    hold(vec![error_entry(error)]);
}

/// The held findings, then `error` when there is one; `None` when nothing is to be printed.
pub(super) fn finish(error: Option<&anyhow::Error>) -> Option<String> {
    let held = ENTRIES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let mut items = match (held, error) {
        (None, None) => return None,
        (held, _) => held.unwrap_or_default(),
    };
    items.extend(error.map(error_entry));
    Some(array(&items))
}

fn error_entry(error: &anyhow::Error) -> Value {
    let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
    entry(
        category(error),
        file(error).as_deref(),
        &format!("{error:#}"),
        &causes,
    )
}

/// The whole output for a command line clap refused: an array holding one usage error.
pub fn usage_error(message: &str) -> String {
    let message = message.trim().trim_start_matches("error: ");
    // clap's first line is the error itself; the rest (a tip, the usage line) says what to do.
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let mut item = entry("usage", None, first.trim(), &[first.trim().to_owned()]);
    item["hint"] = json!(Some(rest.trim()).filter(|r| !r.is_empty()));
    array(&[item])
}

fn entry(category: &str, file: Option<&str>, message: &str, causes: &[String]) -> Value {
    json!({
        "kind": "error",
        "category": category,
        "severity": "error",
        "file": file,
        "line": null,
        "column": null,
        "path": "",
        "message": message,
        "expected": null,
        "hint": null,
        "causes": causes,
    })
}

fn array(items: &[Value]) -> String {
    let mut text = serde_json::to_string_pretty(items).expect("JSON values always serialise");
    text.push('\n');
    text
}

/// `network` when a cloud or cluster API could not be reached or refused, `io` when a file or
/// directory could not be read or written, `other` for the rest (a refusal, a bad argument
/// value the command itself checked, a failed tool).
fn category(error: &anyhow::Error) -> &'static str {
    let network = error.chain().any(|cause| {
        cause.is::<HetznerError>()
            || cause
                .downcast_ref::<KubeError>()
                .is_some_and(KubeError::is_network)
            || cause
                .downcast_ref::<WatchError>()
                .is_some_and(|e| matches!(e, WatchError::Kube(e) if e.is_network()))
            || cause.is::<reqwest::Error>()
            || cause
                .downcast_ref::<CloudError>()
                .is_some_and(|e| matches!(e, CloudError::Api(_)))
    });
    if network {
        "network"
    } else if error.chain().any(|cause| {
        cause.is::<std::io::Error>()
            || cause.is::<WriteError>()
            || matches!(cause.downcast_ref(), Some(GitError::Write(_)))
    }) {
        "io"
    } else {
        "other"
    }
}

/// The file or directory the error is about, when its type names one.
fn file(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|cause| {
        let path: &Path = if let Some(e) = cause.downcast_ref::<LoadError>() {
            match e {
                LoadError::Site { path, .. }
                | LoadError::Input { path, .. }
                | LoadError::NoFileName(path) => path,
            }
        } else if let Some(e) = cause.downcast_ref::<WriteError>() {
            match e {
                WriteError::Io { path, .. }
                | WriteError::Symlink(path)
                | WriteError::BadLock { path, .. } => path,
                WriteError::NotOwned { .. } | WriteError::EditedByHand { .. } => return None,
            }
        } else if let Some(e) = cause.downcast_ref::<GitError>() {
            match e {
                GitError::NotARepository { path, .. } => path,
                // A transparent wrapper: the write error itself is not in the chain.
                GitError::Write(
                    WriteError::Io { path, .. }
                    | WriteError::Symlink(path)
                    | WriteError::BadLock { path, .. },
                ) => path,
                _ => return None,
            }
        } else if let Some(e) = cause.downcast_ref::<ConfigError>() {
            match e {
                ConfigError::Read { path, .. } | ConfigError::Invalid(path, _) => path,
            }
        } else {
            return None;
        };
        Some(path.display().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test, as the entries are the process's: tests in parallel would share them.
    #[test]
    fn an_error_joins_the_findings_before_it_and_names_its_file_and_causes() {
        assert_eq!(finish(None), None, "nothing held, nothing printed");
        hold(vec![json!({ "kind": "finding" })]);
        let error = anyhow::Error::new(LoadError::Site {
            path: "nope/site.yaml".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let text = finish(Some(&error)).expect("an error is printed");
        let items: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(items[0]["kind"], "finding");
        assert_eq!(items[1]["kind"], "error");
        assert_eq!(items[1]["category"], "io");
        assert_eq!(items[1]["file"], "nope/site.yaml");
        assert_eq!(items[1]["causes"].as_array().map(Vec::len), Some(2));
        assert_eq!(finish(None), None, "printed once");
    }

    #[test]
    fn a_usage_error_keeps_clap_first_line_as_its_message() {
        let text = usage_error("error: unexpected argument '--nope' found\n\nUsage: railyard\n");
        let items: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(items[0]["category"], "usage");
        assert_eq!(items[0]["message"], "unexpected argument '--nope' found");
    }
}
