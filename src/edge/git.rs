//! git for `diff --git` and `commit`: reads rendered files at a revision without a checkout,
//! and commits exactly railyard's paths of a site with git2.
//!
//! The commit's tree is HEAD's tree with only railyard's paths replaced, built in a private
//! in-memory index, so changes the user has staged elsewhere never ride along. The repository's
//! own index is updated for railyard's paths before the commit, and the branch moves last, in
//! one atomic ref update: a kill at any point leaves HEAD at the old or the new commit, and the
//! next run finishes the job.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{
    ErrorCode, Index, IndexEntry, IndexTime, Oid, Repository, RepositoryState, Signature, Status,
};

use crate::core::diff;
use crate::core::tree::{Lock, TOOL, Tree, lock_path};
use crate::edge::write::{self, WriteError};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{path}` is not in a git repository")]
    NotARepository { path: PathBuf, source: git2::Error },
    #[error("refusing to commit: {0}")]
    Refused(String),
    #[error("git operation failed")]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("invalid author `{0}`: expected `Name <email>`")]
    Author(String),
    #[error(
        "no author: set `user.name` and `user.email` in git config, or pass `--author \"Name <email>\"`"
    )]
    NoAuthor,
}

/// `root/path` inside the repository, `root` being where rendered trees sit (`` for the top).
fn in_repo(root: &str, path: &str) -> String {
    if root.is_empty() {
        path.to_owned()
    } else {
        format!("{root}/{path}")
    }
}

fn open(dir: &Path) -> Result<Repository, GitError> {
    Repository::discover(dir).map_err(|source| GitError::NotARepository {
        path: dir.to_owned(),
        source,
    })
}

/// The commit `branch` points at in the repository holding `dir` (the local branch, else the
/// `origin` remote's), for `status` to compare with what Flux applied.
pub fn branch_head(dir: &Path, branch: &str) -> Result<Option<String>, GitError> {
    let repo = open(dir)?;
    for name in [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/origin/{branch}"),
    ] {
        match repo.refname_to_id(&name) {
            Ok(id) => return Ok(Some(id.to_string())),
            Err(e) if e.code() == ErrorCode::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// The files of a site's rendered tree at `rev`: every path in `wanted` plus every output the
/// lock committed at `rev` lists, read from the object database.
pub fn read_at(
    repo_dir: &Path,
    rev: &str,
    root: &str,
    site: &str,
    wanted: &BTreeSet<String>,
) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
    let repo = open(repo_dir)?;
    let tree = repo.revparse_single(rev)?.peel_to_tree()?;
    read_tree(&repo, &tree, root, site, wanted)
}

/// The files of a site's rendered tree in git `tree`, as `read_at` describes.
fn read_tree(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    root: &str,
    site: &str,
    wanted: &BTreeSet<String>,
) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
    let blob = |path: &str| -> Result<Option<Vec<u8>>, GitError> {
        match tree.get_path(Path::new(&in_repo(root, path))) {
            Ok(entry) => Ok(entry
                .to_object(repo)?
                .as_blob()
                .map(|b| b.content().to_vec())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    let mut paths = wanted.clone();
    if let Some(lock) =
        blob(&lock_path(site))?.and_then(|b| Lock::parse(&String::from_utf8_lossy(&b)).ok())
    {
        paths.extend(lock.outputs.into_keys());
    }
    let mut files = BTreeMap::new();
    for path in paths {
        if let Some(bytes) = blob(&path)? {
            files.insert(path, bytes);
        }
    }
    Ok(files)
}

pub struct CommitRequest<'a> {
    pub repo_dir: &'a Path,
    /// Where rendered trees sit in the repository (the site's `git.path`).
    pub root: &'a str,
    pub branch: Option<&'a str>,
    pub message: Option<&'a str>,
    pub author: Option<&'a str>,
    pub tree: &'a Tree,
    /// Whether files edited by hand (committed edits too) block the commit.
    pub hand_edits: write::HandEdits,
}

pub enum CommitOutcome {
    Committed {
        id: Oid,
        written: usize,
        removed: usize,
    },
    Unchanged,
}

/// Renders `tree` into the repository's work tree and commits railyard's paths.
pub fn commit(request: &CommitRequest<'_>) -> Result<CommitOutcome, GitError> {
    let repo = open(request.repo_dir)?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Refused("the repository has no work tree".to_owned()))?
        .to_owned();
    check_branch(&repo, request.branch)?;
    let parent = match repo.head() {
        Ok(head) => Some(head.peel_to_commit()?),
        Err(e) if e.code() == ErrorCode::UnbornBranch => None,
        Err(e) => return Err(e.into()),
    };
    let out = out_dir(&workdir, request.root)?;
    let files = request.tree.all_files();
    let old_outputs: BTreeSet<String> = std::fs::read_to_string(out.join(request.tree.lock_path()))
        .ok()
        .and_then(|text| Lock::parse(&text).ok())
        .map(|lock| lock.outputs.into_keys().collect())
        .unwrap_or_default();
    refuse_uncommitted(&repo, request.root, &out, &files, &old_outputs)?;
    let signature = signature(&repo, request.author)?;
    let summary = write::render(&out, request.tree, request.hand_edits)?;
    let removed: Vec<&String> = old_outputs
        .iter()
        .filter(|p| !files.contains_key(*p))
        .collect();
    let paths = Paths {
        root: request.root,
        files: &files,
        removed: &removed,
    };
    stage(&repo, &paths)?;
    write::failpoint("commit-staged");
    let tree_id = commit_tree(&repo, parent.as_ref(), &paths)?;
    if parent.as_ref().is_some_and(|p| p.tree_id() == tree_id) {
        return Ok(CommitOutcome::Unchanged);
    }
    let before = match &parent {
        Some(parent) => {
            let wanted: BTreeSet<String> = files.keys().cloned().collect();
            let site = &request.tree.site;
            read_tree(&repo, &parent.tree()?, request.root, site, &wanted)?
        }
        None => BTreeMap::new(),
    };
    let tree = repo.find_tree(tree_id)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let id = repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        &message(request, &before, &files),
        &tree,
        &parents,
    )?;
    write::failpoint("commit-written");
    Ok(CommitOutcome::Committed {
        id,
        written: summary.written.len(),
        removed: removed.len(),
    })
}

/// Where the site's rendered tree sits in the work tree. The site's directory in the
/// repository must be the repository's own: a link planted on the way would carry the render
/// somewhere else.
fn out_dir(workdir: &Path, root: &str) -> Result<PathBuf, GitError> {
    if root.is_empty() {
        Ok(workdir.to_owned())
    } else {
        Ok(write::safe_join(workdir, root.trim_end_matches('/'))?)
    }
}

/// Where `commit` renders a site whose tree sits at `root` in the repository holding `dir`,
/// for messages that name rendered files.
pub fn render_dir(dir: &Path, root: &str) -> Result<PathBuf, GitError> {
    let repo = open(dir)?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Refused("the repository has no work tree".to_owned()))?;
    out_dir(workdir, root)
}

/// Refuses a repository in the middle of a merge or the like, a detached HEAD, and a branch
/// other than the one asked for.
fn check_branch(repo: &Repository, wanted: Option<&str>) -> Result<(), GitError> {
    if repo.state() != RepositoryState::Clean {
        return Err(GitError::Refused(
            format!(
                "the repository is in the middle of a {:?}; finish or abort it first",
                repo.state()
            )
            .to_lowercase(),
        ));
    }
    let head_ref = repo.find_reference("HEAD")?;
    let branch_ref = head_ref
        .symbolic_target()?
        .map(str::to_owned)
        .ok_or_else(|| GitError::Refused("HEAD is detached; check out a branch".to_owned()))?;
    let current = branch_ref
        .strip_prefix("refs/heads/")
        .unwrap_or(&branch_ref)
        .to_owned();
    if let Some(wanted) = wanted {
        if wanted != current {
            return Err(GitError::Refused(format!(
                "branch `{wanted}` is not checked out (HEAD is on `{current}`)"
            )));
        }
    }
    Ok(())
}

/// An uncommitted change to railyard's paths is refused unless it is exactly what this render
/// writes: that is a render or commit that was interrupted, and finishing it loses nothing.
fn refuse_uncommitted(
    repo: &Repository,
    root: &str,
    out: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    old_outputs: &BTreeSet<String>,
) -> Result<(), GitError> {
    let owned: BTreeSet<&String> = files.keys().chain(old_outputs).collect();
    let mut dirty = Vec::new();
    for path in owned {
        let status = repo
            .status_file(Path::new(&in_repo(root, path)))
            .unwrap_or(Status::CURRENT);
        if status.is_empty() || status.contains(Status::IGNORED) {
            continue;
        }
        let on_disk = std::fs::read(out.join(path)).ok();
        if on_disk.as_ref() != files.get(path) {
            dirty.push(format!("`{}`", in_repo(root, path)));
        }
    }
    if dirty.is_empty() {
        Ok(())
    } else {
        Err(GitError::Refused(format!(
            "railyard's paths have uncommitted changes: {}; commit or discard them first",
            dirty.join(", ")
        )))
    }
}

/// The paths one commit touches, relative to the rendered tree's `root` in the repository.
struct Paths<'a> {
    root: &'a str,
    files: &'a BTreeMap<String, Vec<u8>>,
    removed: &'a [&'a String],
}

/// The repository's index: railyard's paths only, so `git status` is clean for them.
fn stage(repo: &Repository, paths: &Paths<'_>) -> Result<(), GitError> {
    let mut index = repo.index()?;
    for path in paths.files.keys() {
        index.add_path(Path::new(&in_repo(paths.root, path)))?;
    }
    for path in paths.removed {
        let _ = index.remove_path(Path::new(&in_repo(paths.root, path)));
    }
    index.write()?;
    Ok(())
}

/// The commit's tree: HEAD's tree plus railyard's paths, nothing else the user staged.
fn commit_tree(
    repo: &Repository,
    parent: Option<&git2::Commit<'_>>,
    paths: &Paths<'_>,
) -> Result<Oid, GitError> {
    let mut staging = Index::new()?;
    if let Some(parent) = parent {
        staging.read_tree(&parent.tree()?)?;
    }
    for (path, bytes) in paths.files {
        let id = repo.blob(bytes)?;
        staging.add(&entry(&in_repo(paths.root, path), id, bytes.len()))?;
    }
    for path in paths.removed {
        let _ = staging.remove_path(Path::new(&in_repo(paths.root, path)));
    }
    Ok(staging.write_tree_to(repo)?)
}

/// The user's message, or railyard's saying what changed since `before` (the site's files at
/// the parent commit); then the site, the inputs' digest and the tool.
fn message(
    request: &CommitRequest<'_>,
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) -> String {
    let text = request.message.map_or_else(
        || {
            let message = diff::commit_message(&request.tree.site, before, after);
            format!("{}\n\n{}", message.subject, message.body.trim_end())
        },
        str::to_owned,
    );
    format!(
        "{text}\n\nSite: {}\nInputs: {}\nTool: {TOOL}\n",
        request.tree.site, request.tree.lock.inputs_digest
    )
}

fn entry(path: &str, id: Oid, size: usize) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100_644,
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id,
        flags: u16::try_from(path.len()).unwrap_or(0xfff).min(0xfff),
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

fn signature(repo: &Repository, author: Option<&str>) -> Result<Signature<'static>, GitError> {
    match author {
        Some(text) => {
            let (name, email) = text
                .split_once('<')
                .and_then(|(n, e)| e.strip_suffix('>').map(|e| (n.trim(), e.trim())))
                .filter(|(n, e)| !n.is_empty() && e.contains('@'))
                .ok_or_else(|| GitError::Author(text.to_owned()))?;
            Ok(Signature::now(name, email)?)
        }
        None => repo.signature().map_err(|_| GitError::NoAuthor),
    }
}
