//! `--all DIR`: every `site.yaml` under a directory, handled in parallel on every core.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

use super::{Exit, compile_site};
use crate::cli::{Cli, ErrorFormat};
use crate::core::diagnostic;
use crate::edge::{report, write};

/// Every file named `site.yaml` below `dir`, sorted; hidden directories are skipped.
pub(super) fn find_sites(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut sites = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read directory `{}`", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                if !name.starts_with('.') {
                    stack.push(path);
                }
            } else if name == "site.yaml" {
                sites.push(path);
            }
        }
    }
    sites.sort();
    Ok(sites)
}

/// `f` over `items` on every core, results in the order of `items`.
pub(super) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    let chunks: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    for (i, result) in chunks.into_iter().flatten() {
        results[i] = Some(result);
    }
    results
        .into_iter()
        .map(|r| r.expect("every item was handled"))
        .collect()
}

/// What happened to one site, for the summary.
enum Outcome {
    Done,
    Differs(String),
    Invalid,
    Failed(anyhow::Error),
}

/// One site's outcome and its diagnostics: text for stderr, or JSON entries.
type SiteResult = (Outcome, String, Vec<serde_json::Value>);

pub(super) fn render_all(cli: &Cli, dir: &Path, out: &Path, check: bool) -> Result<Exit> {
    let sites = find_sites(dir)?;
    if sites.is_empty() {
        anyhow::bail!("no `site.yaml` under `{}`", dir.display());
    }
    let results = par_map(&sites, |site| render_site(cli, site, out, check));
    let json = cli.error_format == ErrorFormat::Json;
    let (mut done, mut differ, mut invalid, mut failed) = (0, 0, 0, 0);
    for (outcome, diagnostics, entries) in &results {
        eprint!("{diagnostics}");
        super::failure::hold(entries.clone());
        match outcome {
            Outcome::Done => done += 1,
            Outcome::Differs(line) => {
                differ += 1;
                if json {
                    let finding = report::json_finding(out, line, None);
                    super::failure::hold(vec![finding]);
                } else {
                    println!("{line}");
                }
            }
            Outcome::Invalid => invalid += 1,
            Outcome::Failed(error) => {
                failed += 1;
                eprintln!("error: {error:#}");
                if json {
                    super::failure::hold_error(error);
                }
            }
        }
    }
    let verb = if check { "up to date" } else { "rendered" };
    eprintln!(
        "{} sites under {}: {done} {verb}, {differ} differ, {invalid} invalid, {failed} failed",
        sites.len(),
        dir.display()
    );
    Ok(if failed > 0 {
        Exit::Error
    } else if differ + invalid > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// Compiles one site and renders or checks it.
fn render_site(cli: &Cli, site: &Path, out: &Path, check: bool) -> SiteResult {
    let (loaded, output) = match compile_site(site) {
        Ok(compiled) => compiled,
        Err(e) => return (Outcome::Failed(e), String::new(), Vec::new()),
    };
    let (text, entries) = match cli.error_format {
        ErrorFormat::Human if !output.diagnostics.is_empty() => (
            report::human(&output.diagnostics, &loaded, super::stderr_color(cli)),
            Vec::new(),
        ),
        ErrorFormat::Json => (
            String::new(),
            report::json_items(&output.diagnostics, &loaded),
        ),
        ErrorFormat::Human => (String::new(), Vec::new()),
    };
    let Some(tree) = output
        .tree
        .filter(|_| !diagnostic::has_errors(&output.diagnostics))
    else {
        return (Outcome::Invalid, text, entries);
    };
    let failed = |e: write::WriteError| {
        Outcome::Failed(anyhow::Error::new(e).context(format!("site `{}`", tree.site)))
    };
    let outcome = if check {
        match write::check(out, &tree) {
            Ok(differences) if differences.is_empty() => Outcome::Done,
            Ok(differences) => Outcome::Differs(format!(
                "site `{}`: {}",
                tree.site,
                differences
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            Err(e) => failed(e),
        }
    } else {
        match write::render(out, &tree) {
            Ok(_) => Outcome::Done,
            Err(e) => failed(e),
        }
    };
    (outcome, text, entries)
}
