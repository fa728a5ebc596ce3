//! `railyard commit`: render into a repository's work tree and commit railyard's paths.

use std::path::Path;

use anyhow::Result;

use super::{FINDINGS, SUCCESS, compile_site, print_diagnostics, site_root, status};
use crate::cli::Cli;
use crate::edge::git::{self, CommitOutcome, CommitRequest, GitError};

pub(super) fn run(
    cli: &Cli,
    site: &Path,
    repo: &Path,
    branch: Option<&str>,
    message: Option<&str>,
    author: Option<&str>,
) -> Result<u8> {
    let (loaded, output) = compile_site(site)?;
    let code = print_diagnostics(cli, &loaded, &output);
    let Some(tree) = output.tree else {
        return Ok(code);
    };
    let root = site_root(&loaded);
    let request = CommitRequest {
        repo_dir: repo,
        root: &root,
        branch,
        message,
        author,
        tree: &tree,
    };
    match git::commit(&request) {
        Ok(CommitOutcome::Committed {
            id,
            written,
            removed,
        }) => {
            status(
                cli,
                &format!(
                    "committed site `{}` as {id}: {written} file(s) written, {removed} removed",
                    tree.site
                ),
            );
            Ok(SUCCESS)
        }
        Ok(CommitOutcome::Unchanged) => {
            status(
                cli,
                &format!("site `{}` is unchanged; nothing to commit", tree.site),
            );
            Ok(SUCCESS)
        }
        Err(GitError::Refused(why)) => {
            eprintln!("error: refusing to commit: {why}");
            Ok(FINDINGS)
        }
        Err(error) => Err(error.into()),
    }
}
