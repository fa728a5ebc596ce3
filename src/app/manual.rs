//! `railyard completions` and `railyard man`: the command line described for shells and `man`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::Exit;
use crate::cli::Cli;

/// Prints the completion script for `shell`; written whole so a closed pipe is an error, not
/// a panic inside the generator.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "railyard", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(Exit::Success)
}

/// Prints `railyard(1)`, or with `out` writes one page per command and subcommand there.
pub(super) fn man(out: Option<&Path>) -> Result<Exit> {
    let command = Cli::command();
    match out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            std::io::stdout().write_all(&page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            clap_mangen::generate_to(command, dir).with_context(|| {
                format!("cannot write the manual pages into `{}`", dir.display())
            })?;
            super::lines::report(&format!("wrote the manual pages into {}", dir.display()));
        }
    }
    Ok(Exit::Success)
}
