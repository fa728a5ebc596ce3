//! A render's transaction past its commit point: the journal of what `.railyard/<site>.txn`
//! holds, moving it into place, and finishing a transaction an interrupted run left behind.

use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::guard::Guard;
use super::{WriteError, io_error, safe_join};
use crate::core::layout::{self, STATE_DIR};

/// What a staged transaction holds and where each part goes, written into the staging as
/// `journal.json` so that a run after an interruption can finish it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Journal {
    /// Directories of the site that the output did not hold, staged whole: (path, staged name).
    /// Moved before `writes`, so the lock, written last, never describes a missing file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) moves: Vec<(String, String)>,
    pub(super) writes: Vec<(String, String)>,
    pub(super) removes: Vec<String>,
}

/// The journal's file name inside a transaction directory.
pub(super) const JOURNAL: &str = "journal.json";

/// A render staged and let go of before its commit point, as a fleet keeps it between its two
/// passes: the site and its journal, no tree and no borrowed path.
#[derive(Debug)]
pub struct Pending {
    pub(super) site: String,
    pub(super) journal: Journal,
}

impl Pending {
    /// The site whose render this is.
    pub fn site(&self) -> &str {
        &self.site
    }
}

/// Finishes or discards an interrupted render of `site` in `out`. Only the site's own
/// transaction: other sites may be rendering into the same directory at this moment.
pub(super) fn recover(guard: &mut Guard<'_>, site: &str) -> Result<(), WriteError> {
    if !guard.dir_exists(STATE_DIR)? {
        return Ok(());
    }
    let state = guard.out.join(STATE_DIR);
    let staging = state.join(layout::staging_name(site));
    if fs::symlink_metadata(&staging).is_ok() {
        fs::remove_dir_all(&staging).map_err(io_error("remove", &staging))?;
    }
    let committed = state.join(layout::committed_name(site));
    if fs::symlink_metadata(&committed).is_ok_and(|m| m.is_dir()) {
        let journal_path = committed.join(JOURNAL);
        let text = fs::read(&journal_path).map_err(io_error("read", &journal_path))?;
        let journal: Journal = serde_json::from_slice(&text).map_err(|e| WriteError::BadLock {
            path: journal_path.clone(),
            reason: e.to_string(),
        })?;
        apply(guard, &committed, &journal)?;
    }
    Ok(())
}

/// Moves every part of the committed transaction `txn` into place, removes what the journal
/// says to, and removes the transaction.
pub(super) fn apply(
    guard: &mut Guard<'_>,
    txn: &Path,
    journal: &Journal,
) -> Result<(), WriteError> {
    let out = guard.out;
    for (path, staged) in journal.moves.iter().chain(&journal.writes) {
        let source = txn.join(staged);
        let target = guard.create_parents(path)?;
        match fs::rename(&source, &target) {
            Ok(()) => {}
            // Moved into place before an interruption.
            Err(e) if e.kind() == io::ErrorKind::NotFound && !source.exists() => {}
            Err(e) => return Err(io_error("write", &target)(e)),
        }
    }
    for path in &journal.removes {
        let target = safe_join(out, path)?;
        match fs::remove_file(&target) {
            Ok(()) => remove_empty_parents(out, &target),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("remove", &target)(e)),
        }
    }
    remove_transaction(txn)
}

/// Removes a transaction whose parts were all moved out: its journal and the directory, in
/// two calls where walking the directory would take eight; anything else left in it (a
/// transaction of an older layout) is removed whole.
fn remove_transaction(txn: &Path) -> Result<(), WriteError> {
    let journal = txn.join(JOURNAL);
    match fs::remove_file(&journal) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("remove", &journal)(e)),
    }
    if fs::remove_dir(txn).is_err() {
        fs::remove_dir_all(txn).map_err(io_error("remove", txn))?;
    }
    Ok(())
}

fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
