//! A site diff as text for a terminal, Markdown for a pull-request comment, or JSON for tools.
//!
//! The JSON shape is documented by `schema/diff.schema.json` and checked against it in tests.

use std::fmt::Write as _;

use serde_json::{Value as Json, json};

use super::{AppliedBy, FieldChange, SiteDiff, Status};

/// Diff lines beyond which Markdown folds a file's diff away.
const FOLD_LINES: usize = 40;
/// Longest value shown inline before it is shortened.
const VALUE_CHARS: usize = 60;

fn value_text(value: Option<&Json>) -> String {
    let text = match value {
        None => return "(none)".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let text = text.replace('\n', "⏎");
    if text.chars().count() > VALUE_CHARS {
        format!("{}…", text.chars().take(VALUE_CHARS).collect::<String>())
    } else {
        text
    }
}

pub(super) fn field_text(field: &FieldChange) -> String {
    match (&field.old, &field.new) {
        (None, Some(new)) => format!("{} added: {}", field.path, value_text(Some(new))),
        (Some(old), None) => format!("{} removed (was {})", field.path, value_text(Some(old))),
        (old, new) => format!(
            "{} {} → {}",
            field.path,
            value_text(old.as_ref()),
            value_text(new.as_ref())
        ),
    }
}

fn counts(diff: &SiteDiff) -> String {
    let count = |status| diff.files.iter().filter(|f| f.status == status).count();
    format!(
        "{} file(s) differ ({} added, {} removed, {} changed), {} object(s), {} secret key(s)",
        diff.files.len(),
        count(Status::Added),
        count(Status::Removed),
        count(Status::Changed),
        diff.objects.len(),
        diff.secrets.len()
    )
}

/// For a terminal; ANSI colour when `color`.
pub fn text(diffs: &[SiteDiff], color: bool) -> String {
    let mut out = String::new();
    for diff in diffs {
        if diff.is_empty() {
            let _ = writeln!(out, "site `{}`: no changes", diff.site);
        } else {
            site_text(&mut out, diff, color);
        }
    }
    out
}

/// `text` in ANSI colour `code` when `color`.
fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    } else {
        text.to_owned()
    }
}

/// A change's sign (`+`, `-`, `~`), green, red or yellow.
fn sign(color: bool, status: Status) -> String {
    let code = match status {
        Status::Added => "32",
        Status::Removed => "31",
        Status::Changed => "33",
    };
    paint(color, code, &status.sign().to_string())
}

/// One site that changed: the summary, objects, secret keys, files, then the unified diffs.
fn site_text(out: &mut String, diff: &SiteDiff, color: bool) {
    let _ = writeln!(
        out,
        "{}",
        paint(
            color,
            "1",
            &format!("site `{}`: {}", diff.site, counts(diff))
        )
    );
    if !diff.objects.is_empty() {
        out.push_str("objects:\n");
        for object in &diff.objects {
            let _ = writeln!(
                out,
                "  {} {} ({})",
                sign(color, object.status),
                object.id,
                object.file
            );
            for field in &object.fields {
                let _ = writeln!(out, "      {}", field_text(field));
            }
        }
    }
    if !diff.secrets.is_empty() {
        out.push_str("secret keys (values never shown):\n");
        for key in &diff.secrets {
            let _ = writeln!(
                out,
                "  {} {} in {}",
                sign(color, key.status),
                key.key,
                key.file
            );
        }
    }
    out.push_str("files:\n");
    for file in &diff.files {
        let _ = writeln!(
            out,
            "  {} {} ({})",
            sign(color, file.status),
            file.path,
            file.applied_by.label()
        );
    }
    let advice = advice(diff);
    if !advice.is_empty() {
        out.push_str("to apply:\n");
        for (label, text) in advice {
            let _ = writeln!(out, "  {label}: {text}");
        }
    }
    for unified in diff.files.iter().filter_map(|f| f.unified.as_ref()) {
        out.push('\n');
        unified_text(out, unified, color);
    }
}

/// What to do for each kind of change the diff holds that Flux does not apply by itself:
/// `(label, advice)`, in the order of `AppliedBy`.
fn advice(diff: &SiteDiff) -> Vec<(&'static str, String)> {
    let kinds: std::collections::BTreeSet<AppliedBy> =
        diff.files.iter().map(|f| f.applied_by).collect();
    kinds
        .into_iter()
        .filter_map(|kind| Some((kind.label(), kind.advice(&diff.site)?)))
        .collect()
}

/// A unified diff, its headers bold, additions green, removals red, hunk lines cyan.
fn unified_text(out: &mut String, unified: &str, color: bool) {
    for line in unified.lines() {
        let code = match line.chars().next() {
            _ if line.starts_with("+++") || line.starts_with("---") => "1",
            Some('+') => "32",
            Some('-') => "31",
            Some('@') => "36",
            _ => "",
        };
        let _ = writeln!(
            out,
            "{}",
            if code.is_empty() {
                line.to_owned()
            } else {
                paint(color, code, line)
            }
        );
    }
}

/// For a pull-request comment: a summary table, long diffs folded in `<details>`.
pub fn markdown(diffs: &[SiteDiff]) -> String {
    let mut out = String::new();
    for diff in diffs {
        let _ = writeln!(out, "### railyard: site `{}`\n", diff.site);
        if diff.is_empty() {
            out.push_str("No changes.\n\n");
            continue;
        }
        let _ = writeln!(out, "{}.\n", counts(diff));
        if !diff.objects.is_empty() {
            out.push_str("| | object | file | changes |\n|---|---|---|---|\n");
            for object in &diff.objects {
                let changes: Vec<String> = object
                    .fields
                    .iter()
                    .map(|f| format!("`{}`", field_text(f).replace('|', "\\|").replace('`', "'")))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {} | `{}` | `{}` | {} |",
                    object.status.sign(),
                    object.id,
                    object.file,
                    changes.join("<br>")
                );
            }
            out.push('\n');
        }
        if !diff.secrets.is_empty() {
            out.push_str("Secret keys (values never shown):\n\n");
            for key in &diff.secrets {
                let _ = writeln!(
                    out,
                    "- {} `{}` in `{}`",
                    key.status.as_str(),
                    key.key,
                    key.file
                );
            }
            out.push('\n');
        }
        markdown_files(&mut out, diff);
        for file in &diff.files {
            let Some(unified) = &file.unified else {
                continue;
            };
            let lines = unified.lines().count();
            let fence = if unified.contains("```") {
                "````"
            } else {
                "```"
            };
            if lines > FOLD_LINES {
                let _ = writeln!(
                    out,
                    "<details><summary><code>{}</code> ({lines} lines)</summary>\n\n{fence}diff\n{unified}{fence}\n\n</details>\n",
                    file.path
                );
            } else {
                let _ = writeln!(
                    out,
                    "<code>{}</code>\n\n{fence}diff\n{unified}{fence}\n",
                    file.path
                );
            }
        }
    }
    out
}

/// Markdown's list of changed files, each with who applies it, and what to do about them.
fn markdown_files(out: &mut String, diff: &SiteDiff) {
    out.push_str("Files:\n\n");
    for file in &diff.files {
        let _ = writeln!(
            out,
            "- {} `{}`: {}",
            file.status.as_str(),
            file.path,
            file.applied_by.label()
        );
    }
    out.push('\n');
    let advice = advice(diff);
    if !advice.is_empty() {
        out.push_str("To apply:\n\n");
        for (label, text) in advice {
            let _ = writeln!(out, "- **{label}**: {text}");
        }
        out.push('\n');
    }
}

/// Stable JSON; see `schema/diff.schema.json`.
pub fn json(diffs: &[SiteDiff]) -> Json {
    let sites: Vec<Json> = diffs
        .iter()
        .map(|diff| {
            json!({
                "site": diff.site,
                "changed": !diff.is_empty(),
                "files": diff.files.iter().map(|f| json!({ "path": f.path, "status": f.status.as_str(), "appliedBy": f.applied_by.as_str(), "diff": f.unified })).collect::<Vec<_>>(),
                "objects": diff.objects.iter().map(|o| json!({
                    "status": o.status.as_str(),
                    "apiVersion": o.id.api_version,
                    "kind": o.id.kind,
                    "namespace": o.id.namespace,
                    "name": o.id.name,
                    "file": o.file,
                    "fields": o.fields.iter().map(|f| json!({ "path": f.path, "old": f.old, "new": f.new })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "secrets": diff.secrets.iter().map(|s| json!({ "file": s.file, "key": s.key, "status": s.status.as_str() })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "formatVersion": 1, "changed": diffs.iter().any(|d| !d.is_empty()), "sites": sites })
}
