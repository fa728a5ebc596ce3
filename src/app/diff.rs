//! `railyard diff`: a fresh render against the output directory or a git revision.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use super::{Exit, current, fleet, site_root, stderr_color, stdout_color};
use crate::cli::{Cli, DiffFormat};
use crate::core::diagnostic;
use crate::core::diff::{self, SiteDiff, format};
use crate::edge::{git, report, write};

pub(super) struct Request<'a> {
    pub site: Option<&'a Path>,
    pub all: Option<&'a Path>,
    pub out: &'a Path,
    pub git: Option<&'a str>,
    pub repo: &'a Path,
    pub format: DiffFormat,
}

pub(super) fn run(cli: &Cli, request: &Request<'_>) -> Result<Exit> {
    let sites = match request.all {
        Some(dir) => fleet::find_sites(dir)?,
        None => vec![super::site_or_default(request.site)],
    };
    let results = fleet::par_map(&sites, |site| one(cli, site, request));
    let duplicates = fleet::duplicate_names(sites.iter().zip(&results).filter_map(|(file, r)| {
        r.as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(|d| (file.as_path(), d.site.as_str()))
    }));
    if !duplicates.is_empty() {
        fleet::print_findings(cli, &duplicates);
        return Ok(Exit::Findings);
    }
    let mut diffs = Vec::new();
    let mut exit = Exit::Success;
    for result in results {
        match result {
            Ok(Some(diff)) => diffs.push(diff),
            Ok(None) => exit = exit.max(Exit::Findings),
            // One site: its error is the command's, reported once, as JSON too when asked.
            Err(error) if request.all.is_none() => return Err(error),
            Err(error) => {
                eprintln!("error: {error:#}");
                exit = Exit::Error;
            }
        }
    }
    let text = match request.format {
        DiffFormat::Text => format::text(&diffs, stdout_color(cli)),
        DiffFormat::Markdown => format::markdown(&diffs),
        DiffFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&format::json(&diffs)).expect("JSON values serialise");
            text.push('\n');
            text
        }
    };
    print!("{text}");
    if diffs.iter().any(|d| !d.is_empty()) {
        exit = exit.max(Exit::Findings);
    }
    Ok(exit)
}

/// The diff of one site; `None` when the site is invalid (its diagnostics go to stderr, so that
/// stdout stays one document in every format).
fn one(cli: &Cli, site: &Path, request: &Request<'_>) -> Result<Option<SiteDiff>> {
    // Against the output directory, a current site differs in nothing: no render needed.
    let (loaded, output, current) = match request.git {
        Some(_) => current::compile_always(cli, site)?,
        None => current::compile(cli, site, request.out)?,
    };
    if !output.diagnostics.is_empty() {
        eprint!(
            "{}",
            report::human(&output.diagnostics, &loaded, stderr_color(cli))
        );
    }
    if let Some(current) = current {
        let none = std::collections::BTreeMap::new();
        return Ok(Some(diff::compare(&current.site, &none, &none)));
    }
    let Some(tree) = output
        .tree
        .filter(|_| !diagnostic::has_errors(&output.diagnostics))
    else {
        return Ok(None);
    };
    let old = match request.git {
        Some(rev) => {
            let wanted: BTreeSet<String> = tree.files.keys().cloned().collect();
            git::read_at(request.repo, rev, &site_root(&loaded), &tree.site, &wanted)?
        }
        None => write::read_current(request.out, &tree)?,
    };
    Ok(Some(diff::compare(&tree.site, &old, &tree.files)))
}
