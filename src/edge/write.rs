//! Writes a rendered tree into an output directory atomically, and compares without writing.
//!
//! A render may touch many files in directories it shares with the user, so no single rename
//! can swap old for new. Instead: every new file is staged under `.railyard/<site>.txn.tmp`,
//! the staging directory is renamed to `.railyard/<site>.txn` (the commit point), then each
//! staged file is renamed into place and the transaction removed. A directory of the site's
//! own (`hosts/<site>`, `clusters/<site>`) that the output does not hold yet is staged whole and
//! renamed into place at once: a fleet's first render moves two directories per site, not
//! thirty files. A run killed before the
//! commit point leaves the previous output untouched (the next run discards the staging); a
//! run killed after it is rolled forward by the next run. railyard writes only the paths its
//! lock says it owns, and never through a symlink. A file whose bytes no longer match the hash
//! the lock recorded was edited by hand: a render refuses to overwrite or remove it unless
//! forced, since the edit would be lost without a word.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use self::dir::Dir;
use self::guard::Guard;
use self::txn::Journal;
pub use self::txn::Pending;
use crate::core::layout::{self, STATE_DIR};
use crate::core::tree::{Lock, Tree, sha256};

mod dir;
mod guard;
mod txn;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("refusing to overwrite files railyard does not own (not in `{lock}`): {}", list(.paths))]
    NotOwned { lock: String, paths: Vec<String> },
    #[error("refusing to overwrite files edited by hand since railyard wrote them: {}", list(.paths))]
    EditedByHand { paths: Vec<String> },
    #[error("refusing to write through symlink `{0}`")]
    Symlink(PathBuf),
    #[error(
        "lock file `{path}` is damaged ({reason}); restore it from git or delete it to re-own the output"
    )]
    BadLock { path: PathBuf, reason: String },
}

fn list(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What a render changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub written: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// One way the output directory differs from a fresh render.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// The output is older than its inputs or the tool: re-render.
    Stale(String),
    /// The file no longer matches what railyard wrote: someone edited it.
    EditedByHand(String),
    Missing(String),
    /// railyard rendered it before and no longer does.
    NotRendered(String),
    /// A render was interrupted; the next render finishes it.
    Interrupted(String),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Stale(p) => write!(f, "stale: {p}"),
            Difference::EditedByHand(p) => write!(f, "edited by hand: {p}"),
            Difference::Missing(p) => write!(f, "missing: {p}"),
            Difference::NotRendered(p) => write!(f, "no longer rendered: {p}"),
            Difference::Interrupted(p) => write!(f, "interrupted render pending: {p}"),
        }
    }
}

/// Whether a render may overwrite or remove files edited by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandEdits {
    /// Refuse the whole render, writing nothing ([`WriteError::EditedByHand`]).
    Refuse,
    /// Overwrite them: `render --force`.
    Overwrite,
}

/// Writes `tree` into `out`; see the module documentation for the guarantees.
pub fn render(out: &Path, tree: &Tree, hand_edits: HandEdits) -> Result<Summary, WriteError> {
    match prepare(out, tree, hand_edits)? {
        Prepared::Unchanged(summary) => Ok(summary),
        Prepared::Staged(staged) => staged.commit(),
    }
}

/// A render checked and staged, before its commit point: the output is still as it was.
pub enum Prepared<'a> {
    /// Every file already holds what the render would write: nothing staged.
    Unchanged(Summary),
    Staged(Staged<'a>),
}

/// A render's new files and journal in `.railyard/<site>.txn.tmp`. Dropped without
/// [`Staged::commit`], the staging stays behind, and the next run of the site (or
/// [`discard_staged`]) removes it.
pub struct Staged<'a> {
    guard: Guard<'a>,
    pending: Pending,
    summary: Summary,
}

/// Everything [`render`] does up to its commit point: finishes an interrupted render of the
/// site, compares with the lock, refuses, and stages the new files. Nothing in the output
/// changes; what is staged is committed by [`Staged::commit`] or [`commit_pending`].
pub fn prepare<'a>(
    out: &'a Path,
    tree: &Tree,
    hand_edits: HandEdits,
) -> Result<Prepared<'a>, WriteError> {
    if !fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        fs::create_dir_all(out).map_err(io_error("create directory", out))?;
    }
    let mut guard = Guard::new(out);
    txn::recover(&mut guard, &tree.site)?;
    let lock_path = tree.lock_path();
    let old_lock = match guard.read(&lock_path)? {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error("read", &out.join(&lock_path))(e)),
    };
    let recorded = match &old_lock {
        Some(bytes) => parse_lock(out, &lock_path, bytes)?.outputs,
        None => Default::default(),
    };
    // The tree's files and the lock, borrowed: a copy of every file cost more than the compare.
    let lock_text = tree.lock.to_text().into_bytes();
    let files = tree.files.iter().chain([(&lock_path, &lock_text)]);
    let mut summary = Summary::default();
    let mut not_owned = Vec::new();
    let mut edited = Vec::new();
    let mut writes = Vec::new();
    for (path, bytes) in files {
        // The lock was read above; it is not read twice.
        let read = if *path == lock_path {
            old_lock
                .clone()
                .ok_or_else(|| io::ErrorKind::NotFound.into())
        } else {
            guard.read(path)?
        };
        match read {
            Ok(current) if &current == bytes => summary.unchanged += 1,
            Ok(current) if recorded.contains_key(path) || *path == lock_path => {
                if recorded
                    .get(path)
                    .is_some_and(|hash| *hash != sha256(&current))
                {
                    edited.push(path.clone());
                }
                writes.push((path.clone(), bytes))
            }
            Ok(_) => not_owned.push(path.clone()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => writes.push((path.clone(), bytes)),
            Err(e) => return Err(io_error("read", &out.join(path))(e)),
        }
    }
    if !not_owned.is_empty() {
        return Err(WriteError::NotOwned {
            lock: lock_path,
            paths: not_owned,
        });
    }
    let mut removes = Vec::new();
    let rendered = |path: &String| *path == lock_path || tree.files.contains_key(path);
    for (path, hash) in recorded.iter().filter(|(p, _)| !rendered(p)) {
        let target = safe_join(out, path)?;
        if fs::symlink_metadata(&target).is_ok() {
            if fs::read(&target).is_ok_and(|current| sha256(&current) != *hash) {
                edited.push(path.clone());
            }
            removes.push(path.clone());
        }
    }
    if hand_edits == HandEdits::Refuse && !edited.is_empty() {
        edited.sort();
        return Err(WriteError::EditedByHand { paths: edited });
    }
    if writes.is_empty() && removes.is_empty() {
        return Ok(Prepared::Unchanged(summary));
    }
    into_staging(guard, tree, writes, removes, summary).map(Prepared::Staged)
}

/// Stages `writes` and journals them with `removes`: the second half of [`prepare`].
fn into_staging<'a>(
    mut guard: Guard<'a>,
    tree: &Tree,
    mut writes: Vec<(String, &Vec<u8>)>,
    removes: Vec<String>,
    mut summary: Summary,
) -> Result<Staged<'a>, WriteError> {
    let out = guard.out;
    // The lock goes last, so that an old lock never describes new files or the reverse.
    let lock_path = tree.lock_path();
    writes.sort_by_key(|(path, _)| *path == lock_path);
    let state = out.join(STATE_DIR);
    let staging = state.join(layout::staging_name(&tree.site));
    let mut journal = Journal {
        moves: Vec::new(),
        writes: Vec::new(),
        removes: removes.clone(),
    };
    let fresh = fresh_dirs(&mut guard, &tree.site)?;
    // `recover` removed any earlier staging of the site, so the staging is made, not emptied.
    let made = if guard.dir_exists(STATE_DIR)? {
        fs::create_dir(&staging)
    } else {
        fs::create_dir_all(&staging)
    };
    made.map_err(io_error("create directory", &staging))?;
    guard.made(STATE_DIR);
    if let Err(error) = stage(&staging, &writes, &fresh, &mut journal) {
        // Before the commit point nothing in the output changed; leave no debris either (a
        // full disk is the usual cause, and the staging is what filled it).
        let _ = fs::remove_dir_all(&staging);
        let _ = fs::remove_dir(&state);
        return Err(error);
    }
    failpoint("render-staged");
    summary.written = writes.into_iter().map(|(p, _)| p).collect();
    summary.removed = removes;
    let pending = Pending {
        site: tree.site.clone(),
        journal,
    };
    Ok(Staged {
        guard,
        pending,
        summary,
    })
}

impl Staged<'_> {
    /// Passes the commit point and moves every staged file into place.
    pub fn commit(mut self) -> Result<Summary, WriteError> {
        commit_with(&mut self.guard, &self.pending)?;
        Ok(self.summary)
    }

    /// The staged render without its borrows, to be committed later by [`commit_pending`].
    pub fn into_pending(self) -> Pending {
        self.pending
    }
}

/// Commits a render that [`prepare`] staged in `out` and that was then let go of as a
/// [`Pending`] (a fleet keeps no more than that between its two passes).
pub fn commit_pending(out: &Path, pending: &Pending) -> Result<(), WriteError> {
    commit_with(&mut Guard::new(out), pending)
}

/// Renames the staging to the committed name (the commit point), then applies the journal.
fn commit_with(guard: &mut Guard<'_>, pending: &Pending) -> Result<(), WriteError> {
    let state = guard.out.join(STATE_DIR);
    let staging = state.join(layout::staging_name(&pending.site));
    let committed = state.join(layout::committed_name(&pending.site));
    fs::rename(&staging, &committed).map_err(io_error("commit", &committed))?;
    failpoint("render-committed");
    txn::apply(guard, &committed, &pending.journal)
}

/// Removes what [`prepare`] staged for `site` in `out`, and the state directory when that
/// leaves it empty: as if the render had never been tried.
pub fn discard_staged(out: &Path, site: &str) -> Result<(), WriteError> {
    let state = safe_join(out, STATE_DIR)?;
    let staging = state.join(layout::staging_name(site));
    match fs::remove_dir_all(&staging) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("remove", &staging)(e)),
    }
    // Fails, as it should, while the directory holds a lock or another site's staging.
    let _ = fs::remove_dir(&state);
    Ok(())
}

/// The site's own directories (`hosts/<site>`, `clusters/<site>`) that `out` does not hold:
/// staged whole and moved into place by one rename each, instead of one rename per file.
fn fresh_dirs(guard: &mut Guard<'_>, site: &str) -> Result<Vec<String>, WriteError> {
    let mut fresh = Vec::new();
    for dir in [layout::hosts_dir(site), layout::cluster_dir(site)] {
        if !guard.dir_exists(&dir)? {
            fresh.push(dir);
        }
    }
    Ok(fresh)
}

/// Writes every new file and the journal into the empty `staging`: a file below one of the
/// `fresh` directories into that directory's staged copy, any other file on its own. Each
/// directory of a staged copy is made once, by one call, since nothing in the staging exists
/// before this run made it.
fn stage(
    staging: &Path,
    writes: &[(String, &Vec<u8>)],
    fresh: &[String],
    journal: &mut Journal,
) -> Result<(), WriteError> {
    let staging = Dir::open(staging)?;
    let mut made = BTreeSet::new();
    for (index, (path, bytes)) in writes.iter().enumerate() {
        let below = fresh.iter().enumerate().find_map(|(k, dir)| {
            let rest = path.strip_prefix(dir.as_str())?.strip_prefix('/')?;
            Some((k, dir, rest))
        });
        let Some((k, dir, rest)) = below else {
            let staged = format!("{index}");
            staging.write(&staged, bytes)?;
            journal.writes.push((path.clone(), staged));
            continue;
        };
        let copy = format!("dir{k}");
        if !made.contains(&copy) {
            journal.moves.push((dir.clone(), copy.clone()));
        }
        let staged = format!("{copy}/{rest}");
        make_parents(&staging, &staged, &mut made)?;
        staging.write(&staged, bytes)?;
    }
    let journal_text = serde_json::to_vec_pretty(journal).expect("a journal always serialises");
    staging.write(txn::JOURNAL, &journal_text)
}

/// Makes the directories of `relative` in `staging` that `made` does not hold yet, outermost
/// first.
fn make_parents(
    staging: &Dir,
    relative: &str,
    made: &mut BTreeSet<String>,
) -> Result<(), WriteError> {
    let mut end = 0;
    while let Some(slash) = relative[end..].find('/') {
        end += slash;
        let dir = &relative[..end];
        if !made.contains(dir) {
            staging.make_dir(dir)?;
            made.insert(dir.to_owned());
        }
        end += 1;
    }
    Ok(())
}

/// The files of `out` a render of `tree` would overwrite or remove although they no longer
/// match what railyard wrote, sorted. Finishes an interrupted render of the site first: files
/// it moved into place are railyard's own work, not edits.
pub fn hand_edits(out: &Path, tree: &Tree) -> Result<Vec<String>, WriteError> {
    if fs::symlink_metadata(out).is_err() {
        return Ok(Vec::new());
    }
    recover(out, &tree.site)?;
    let Some(old) = read_lock(out, &tree.lock_path())? else {
        return Ok(Vec::new());
    };
    let mut edited = Vec::new();
    for (path, hash) in &old.outputs {
        let target = safe_join(out, path)?;
        let current = match fs::read(&target) {
            Ok(current) => current,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error("read", &target)(e)),
        };
        if sha256(&current) != *hash && tree.files.get(path) != Some(&current) {
            edited.push(path.clone());
        }
    }
    Ok(edited)
}

/// Compares a fresh render with `out`, writing nothing.
pub fn check(out: &Path, tree: &Tree) -> Result<Vec<Difference>, WriteError> {
    let mut differences = Vec::new();
    let pending = layout::committed_name(&tree.site);
    if out.join(STATE_DIR).join(&pending).is_dir() {
        differences.push(Difference::Interrupted(format!("{STATE_DIR}/{pending}")));
    }
    let old = read_lock(out, &tree.lock_path())?;
    let inputs_changed = old
        .as_ref()
        .is_none_or(|l| l.inputs != tree.lock.inputs || l.tool != tree.lock.tool);
    for (path, bytes) in &tree.files {
        let target = safe_join(out, path)?;
        match fs::read(&target) {
            Ok(current) if &current == bytes => {}
            Ok(current) => {
                let recorded = old.as_ref().and_then(|l| l.outputs.get(path));
                if recorded.is_some_and(|r| *r == sha256(&current)) {
                    differences.push(Difference::Stale(path.clone()));
                } else {
                    differences.push(Difference::EditedByHand(path.clone()));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                differences.push(Difference::Missing(path.clone()))
            }
            Err(e) => return Err(io_error("read", &target)(e)),
        }
    }
    if let Some(old) = &old {
        for path in old.outputs.keys().filter(|p| !tree.files.contains_key(*p)) {
            if fs::symlink_metadata(out.join(path)).is_ok() {
                differences.push(Difference::NotRendered(path.clone()));
            }
        }
    }
    let lock_matches =
        fs::read(out.join(tree.lock_path())).is_ok_and(|b| b == tree.lock.to_text().into_bytes());
    if !lock_matches && (inputs_changed || differences.is_empty()) {
        differences.push(Difference::Stale(tree.lock_path()));
    }
    differences.sort();
    Ok(differences)
}

/// The files a render of `tree` would compare with in `out`: its own paths and every output of
/// the lock found there.
pub fn read_current(
    out: &Path,
    tree: &Tree,
) -> Result<std::collections::BTreeMap<String, Vec<u8>>, WriteError> {
    let mut paths: BTreeSet<String> = tree.files.keys().cloned().collect();
    if let Some(lock) = read_lock(out, &tree.lock_path())? {
        paths.extend(lock.outputs.into_keys());
    }
    let mut files = std::collections::BTreeMap::new();
    for path in paths {
        let target = safe_join(out, &path)?;
        match fs::read(&target) {
            Ok(bytes) => {
                files.insert(path, bytes);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("read", &target)(e)),
        }
    }
    Ok(files)
}

/// The lock of `site`'s last render in `out` when that render is whole: no render of the site
/// was interrupted, the lock reads back byte for byte as railyard writes it, and every output it
/// records is still there, reached through no symlink, with its recorded hash. `None` in every
/// other case, read errors included: the caller then renders as usual, and that path reports
/// hand edits, damaged locks and interrupted renders as it always has.
pub fn intact_lock(out: &Path, site: &str) -> Option<Lock> {
    // The lock first: most sites without one (a first render) are answered by its absence.
    let mut guard = Guard::new(out);
    let text = String::from_utf8(guard.read(&layout::lock(site)).ok()?.ok()?).ok()?;
    let state = out.join(STATE_DIR);
    if [layout::staging_name(site), layout::committed_name(site)]
        .iter()
        .any(|name| fs::symlink_metadata(state.join(name)).is_ok())
    {
        return None;
    }
    let lock = Lock::parse(&text).ok().filter(|l| l.to_text() == text)?;
    for (output, hash) in &lock.outputs {
        match guard.read(output) {
            Ok(Ok(bytes)) if sha256(&bytes) == *hash => {}
            _ => return None,
        }
    }
    Some(lock)
}

fn read_lock(out: &Path, lock_path: &str) -> Result<Option<Lock>, WriteError> {
    let path = out.join(lock_path);
    match fs::read(&path) {
        Ok(bytes) => parse_lock(out, lock_path, &bytes).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", &path)(e)),
    }
}

/// The lock in `bytes`, read from `out/lock_path`.
fn parse_lock(out: &Path, lock_path: &str, bytes: &[u8]) -> Result<Lock, WriteError> {
    let damaged = |reason: String| WriteError::BadLock {
        path: out.join(lock_path),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| damaged(e.to_string()))?;
    Lock::parse(text).map_err(|e| damaged(e.to_string()))
}

/// Finishes or discards an interrupted render of `site` in `out`. Only the site's own
/// transaction: other sites may be rendering into the same directory at this moment.
pub fn recover(out: &Path, site: &str) -> Result<(), WriteError> {
    txn::recover(&mut Guard::new(out), site)
}

/// `out/relative`, refusing any existing symlink on the way (the output root itself may be one).
pub fn safe_join(out: &Path, relative: &str) -> Result<PathBuf, WriteError> {
    let mut path = out.to_path_buf();
    for part in relative.split('/') {
        path.push(part);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(WriteError::Symlink(path));
        }
    }
    Ok(path)
}

/// Test hook: `RAILYARD_FAILPOINT=<name>` stops the process here until it is killed, so tests
/// can kill a render at a known point.
pub fn failpoint(name: &str) {
    if std::env::var("RAILYARD_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("railyard: failpoint {name} reached");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}
