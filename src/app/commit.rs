//! `railyard commit`: render into a repository's work tree and commit railyard's paths.

use std::path::Path;

use anyhow::Result;

use super::{Exit, compile_site, hand_edits, print_diagnostics, site_root, status};
use crate::cli::Cli;
use crate::edge::git::{self, CommitOutcome, CommitRequest, GitError};
use crate::edge::write::{self, WriteError};

/// What `railyard commit` was asked to do.
pub(super) struct Request<'a> {
    pub site: &'a Path,
    pub repo: &'a Path,
    pub branch: Option<&'a str>,
    pub message: Option<&'a str>,
    pub author: Option<&'a str>,
    /// `--force`: overwrite rendered files edited by hand.
    pub hand_edits: write::HandEdits,
}

pub(super) fn run(cli: &Cli, request: &Request<'_>) -> Result<Exit> {
    let (loaded, output) = compile_site(cli, request.site)?;
    let Some(tree) = &output.tree else {
        return Ok(print_diagnostics(cli, &loaded, &output));
    };
    let root = site_root(&loaded);
    let commit = CommitRequest {
        repo_dir: request.repo,
        root: &root,
        branch: request.branch,
        message: request.message,
        author: request.author,
        tree,
        hand_edits: request.hand_edits,
    };
    let result = git::commit(&commit);
    // Files edited by hand are findings, printed with the site's diagnostics.
    let edited = match &result {
        Err(GitError::Write(WriteError::EditedByHand { paths })) => {
            let discard = format!(
                "railyard commit {} --repo {} --force",
                request.site.display(),
                request.repo.display()
            );
            hand_edits::findings(&git::render_dir(request.repo, &root)?, paths, &discard)
        }
        _ => Vec::new(),
    };
    hand_edits::print_with_site(cli, &loaded, &output, &edited);
    if !edited.is_empty() {
        eprintln!(
            "error: refusing to commit: {} file(s) edited by hand; nothing written",
            edited.len()
        );
        return Ok(Exit::Findings);
    }
    match result {
        Ok(CommitOutcome::Committed {
            id,
            written,
            removed,
        }) => {
            status(&format!(
                "committed site `{}` as {id}: {written} file(s) written, {removed} removed",
                tree.site
            ));
            Ok(Exit::Success)
        }
        Ok(CommitOutcome::Unchanged) => {
            status(&format!(
                "site `{}` is unchanged; nothing to commit",
                tree.site
            ));
            Ok(Exit::Success)
        }
        Err(GitError::Refused(why)) => {
            eprintln!("error: refusing to commit: {why}");
            Ok(Exit::Findings)
        }
        Err(error) => Err(error.into()),
    }
}
