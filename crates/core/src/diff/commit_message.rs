//! The default message of `railyard commit`: a subject naming the most telling changes between
//! two renders (versions, workers), and a body listing every changed object, secret key and file.
//!
//! Built from the rendered files only, so the message says what the commit changes whatever
//! input caused it. Secret values never appear: the diff leaves them out.

mod facts;

use std::fmt::Write as _;

use super::format::field_text;
use super::{Files, SiteDiff, compare};
use facts::Facts;

/// Longest subject line, in characters, before the list of changes is cut with `, …`.
const SUBJECT_CHARS: usize = 72;

/// A commit message: one subject line and a body (empty for a first render).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitMessage {
    pub subject: String,
    pub body: String,
}

/// The message for committing `new` over `old` (the files of the site at the parent commit,
/// empty when there is none).
pub fn commit_message(site: &str, old: &Files, new: &Files) -> CommitMessage {
    let diff = compare(site, old, new);
    let prefix = format!("railyard: {site}: ");
    if diff.files.iter().all(|f| f.status == super::Status::Added) && !has_output(old) {
        return CommitMessage {
            subject: format!("{prefix}first render"),
            body: files(&diff),
        };
    }
    let items = Facts::read(site, old).changes(&Facts::read(site, new));
    let subject = if items.is_empty() {
        format!("{prefix}{}", counts(&diff))
    } else {
        cut(&prefix, &items)
    };
    CommitMessage {
        subject,
        body: body(&items, &diff),
    }
}

/// Whether `files` hold any rendered output, the lock aside.
fn has_output(files: &Files) -> bool {
    files
        .keys()
        .any(|path| !path.starts_with(&format!("{}/", crate::layout::STATE_DIR)))
}

/// `3 objects changed in 2 files`, for a change that moves no version or worker.
fn counts(diff: &SiteDiff) -> String {
    let files = plural(diff.files.len(), "file");
    if !diff.objects.is_empty() {
        format!(
            "{} changed in {files}",
            plural(diff.objects.len(), "object")
        )
    } else if !diff.secrets.is_empty() {
        format!(
            "{} changed in {files}",
            plural(diff.secrets.len(), "secret key")
        )
    } else {
        format!("{files} changed")
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `prefix` and as many `items` as fit in `SUBJECT_CHARS`, the rest cut with `, …`; the first
/// item always, however long, so the subject says something.
fn cut(prefix: &str, items: &[String]) -> String {
    let length = |text: &str| text.chars().count();
    let mut subject = prefix.to_owned();
    for (index, item) in items.iter().enumerate() {
        let separator = if index == 0 { "" } else { ", " };
        let more = if index + 1 < items.len() { ", …" } else { "" };
        let fits =
            length(&subject) + length(separator) + length(item) + length(more) <= SUBJECT_CHARS;
        if index > 0 && !fits {
            subject.push_str(", …");
            return subject;
        }
        subject.push_str(separator);
        subject.push_str(item);
    }
    subject
}

/// Every change: the summary's items, then objects with their fields, secret keys and files, as
/// `railyard diff` lists them without the unified diffs.
fn body(items: &[String], diff: &SiteDiff) -> String {
    let mut out = String::new();
    for item in items {
        let _ = writeln!(out, "- {item}");
    }
    if !items.is_empty() {
        out.push('\n');
    }
    if !diff.objects.is_empty() {
        out.push_str("Objects:\n");
        for object in &diff.objects {
            let _ = writeln!(
                out,
                "  {} {} ({})",
                object.status.sign(),
                object.id,
                object.file
            );
            for field in &object.fields {
                let _ = writeln!(out, "      {}", field_text(field));
            }
        }
    }
    if !diff.secrets.is_empty() {
        out.push_str("Secret keys (values never shown):\n");
        for key in &diff.secrets {
            let _ = writeln!(out, "  {} {} in {}", key.status.sign(), key.key, key.file);
        }
    }
    out.push_str(&files(diff));
    out
}

/// The changed files, one a line with its sign.
fn files(diff: &SiteDiff) -> String {
    let mut out = String::from("Files:\n");
    for file in &diff.files {
        let _ = writeln!(out, "  {} {}", file.status.sign(), file.path);
    }
    out
}

#[cfg(test)]
mod tests;
