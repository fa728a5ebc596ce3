//! Renders that need no generation: a site whose inputs and railyard version match the lock of
//! its last render, with every output still as that lock records it (decision 0022).

use std::path::Path;

use anyhow::Result;

use super::{compile_site, failed};
use crate::cli::Cli;
use crate::core::compile::{self, Output};
use crate::edge::load::{self, Loaded};
use crate::edge::write;

/// A site whose output directory already holds what a render would write.
pub(super) struct Current {
    /// The site's name.
    pub site: String,
    /// The files a render would leave unchanged: every output and the lock.
    pub files: usize,
}

/// Loads and checks `site`; when its output in `out` is current, its diagnostics (a tree-less
/// `Output`) and `Some(Current)`, with nothing generated. Otherwise the site is compiled as
/// `compile_site` does, with `None`. A site that fails the command (an error, or a warning under
/// `--strict`) is never current, so its diagnostics stop the command as they always have.
pub(super) fn compile(
    cli: &Cli,
    site: &Path,
    out: &Path,
) -> Result<(Loaded, Output, Option<Current>)> {
    let loaded = load::load(site)?;
    if loaded.problems.is_empty() {
        let lock =
            compile::site_name(&loaded.inputs.site).and_then(|name| write::intact_lock(out, &name));
        if let Some(lock) = lock {
            let (diagnostics, current) = compile::check_current(&loaded.inputs, &lock);
            if current && !failed(cli, &diagnostics) {
                let output = Output {
                    tree: None,
                    diagnostics,
                };
                let current = Current {
                    files: lock.outputs.len() + 1,
                    site: lock.site,
                };
                return Ok((loaded, output, Some(current)));
            }
        }
    }
    let output = super::compile_loaded(cli, &loaded);
    Ok((loaded, output, None))
}

/// As [`compile`], but always compiling (`render --force` regenerates whatever the lock says).
pub(super) fn compile_always(cli: &Cli, site: &Path) -> Result<(Loaded, Output, Option<Current>)> {
    let (loaded, output) = compile_site(cli, site)?;
    Ok((loaded, output, None))
}
