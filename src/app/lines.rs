//! Lines for people, and where they go: stdout in the human mode; with `--error-format json`,
//! stderr, so that stdout is the one JSON array alone (`docs/decisions/0014-*`). A report line
//! (a plan, what was deleted, a DNS record to create) joins that array as a `report` entry
//! too; a progress line (a resource created, a wait) is for people watching only.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::app::failure;

/// Whether stdout carries the JSON array: set once when the command starts.
static JSON: AtomicBool = AtomicBool::new(false);

/// Sends later lines to stderr (and reports into the array) when `json` is set.
pub(super) fn set_json(json: bool) {
    JSON.store(json, Ordering::Relaxed);
}

fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// A progress line: what the command is doing now.
pub(super) fn progress(line: &str) {
    if json() {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// Report lines (one or several, `\n`-separated): what the command found or did, that a
/// script may want; each line is one `report` entry of the JSON array.
pub(super) fn report(text: &str) {
    if text.is_empty() {
        return;
    }
    if !json() {
        // As the command always printed it, to the byte.
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
        return;
    }
    eprintln!("{}", text.trim_end_matches('\n'));
    failure::hold(
        text.trim_end_matches('\n')
            .lines()
            .map(|line| json!({ "kind": "report", "message": line }))
            .collect(),
    );
}
