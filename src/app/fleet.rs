//! `--all DIR`: every `site.yaml` under a directory, handled in parallel on every core, after
//! every refusal (two sites of one name, files edited by hand) was checked for all of them; a
//! render in two passes that keep no site's tree past its turn (decision 0024).

mod pass;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

use self::pass::{Outcome, Pass, Record};
use super::{Exit, hand_edits};
use crate::cli::{Cli, ErrorFormat};
use crate::core::diagnostic::Diagnostic;
use crate::core::source::Span;
use crate::edge::{report, write};

/// Every file named `site.yaml` below `dir`, sorted; hidden directories are skipped. The
/// directories below `dir` are walked on every core: a fleet lists one directory per site
/// before any site can start.
pub(super) fn find_sites(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut sites = Vec::new();
    let mut below = Vec::new();
    list_dir(dir, &mut sites, &mut below)?;
    for found in par_map(&below, |dir| walk_sites(dir.clone())) {
        sites.extend(found?);
    }
    sites.sort();
    Ok(sites)
}

/// Every `site.yaml` at or below `dir`, unsorted.
fn walk_sites(dir: PathBuf) -> Result<Vec<PathBuf>> {
    let mut sites = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        list_dir(&dir, &mut sites, &mut stack)?;
    }
    Ok(sites)
}

/// The `site.yaml` in `dir` into `sites`, its directories that are not hidden into `dirs`.
fn list_dir(dir: &Path, sites: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type()?.is_dir() {
            if !name.as_encoded_bytes().starts_with(b".") {
                dirs.push(path);
            }
        } else if name == "site.yaml" {
            sites.push(path);
        }
    }
    Ok(())
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

/// What `render --all` does with each site.
#[derive(Clone, Copy)]
pub(super) enum Mode {
    /// `--check`: compare, write nothing.
    Check,
    Render(write::HandEdits),
}

/// Sites that share a `metadata.name`: they would write the same paths of one output directory
/// and the same lock, the last writer winning. One finding per file, naming all of them.
pub(super) fn duplicate_names<'a>(
    sites: impl IntoIterator<Item = (&'a Path, &'a str)>,
) -> Vec<Diagnostic> {
    let mut by_name: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
    for (file, name) in sites {
        by_name.entry(name).or_default().push(file);
    }
    let mut findings = Vec::new();
    for (name, files) in by_name.into_iter().filter(|(_, f)| f.len() > 1) {
        let all = files
            .iter()
            .map(|f| format!("`{}`", f.display()))
            .collect::<Vec<_>>()
            .join(", ");
        for file in &files {
            findings.push(
                Diagnostic::error(
                    &file.display().to_string(),
                    name_span(file),
                    "metadata.name",
                    format!("site name `{name}` is used by {} site files: {all}", files.len()),
                )
                .hint("sites rendered into one output directory need distinct names; rename all but one"),
            );
        }
    }
    findings
}

/// Where the site file says its `metadata.name`, for the finding to point at.
fn name_span(file: &Path) -> Span {
    let Ok(text) = crate::edge::load::read_text(file) else {
        return Span::default();
    };
    let source = crate::core::source::SourceFile::new("site.yaml", text);
    let (documents, _) = crate::core::yaml::parse_stream(&source);
    documents.first().map_or_else(Span::default, |d| {
        crate::core::json_tree::JsonTree::new(&source.name, d)
            .value_span(crate::core::rules::pointers::NAME)
    })
}

/// Reports `findings` about files on disk: to stderr for people, or held for the JSON array.
pub(super) fn print_findings(cli: &Cli, findings: &[Diagnostic]) {
    match cli.error_format {
        ErrorFormat::Json => super::failure::hold(report::json_files_items(findings)),
        ErrorFormat::Human => eprint!(
            "{}",
            report::human_files(findings, super::stderr_color(cli))
        ),
    }
}

/// `render --all` in two passes over the sites, each on every core. The first compiles each
/// site and checks it, or stages its render (nothing in the output changes before a site's
/// commit point), and keeps only a [`Record`] of it; once every refusal was checked for all
/// sites, the second commits the staged renders, or, when a refusal stands, they are
/// discarded. At most one tree per worker is alive at any time (decision 0024).
pub(super) fn render_all(cli: &Cli, dir: &Path, out: &Path, mode: Mode) -> Result<Exit> {
    let sites = find_sites(dir)?;
    if sites.is_empty() {
        anyhow::bail!("no `site.yaml` under `{}`", dir.display());
    }
    let existed = std::fs::symlink_metadata(out).is_ok();
    let pass = Pass::new(cli, out, mode);
    let mut records = par_map(&sites, |site| pass.site(site));
    if std::env::var_os("RAILYARD_REPORT_TREES").is_some() {
        eprintln!(
            "railyard: at most {} trees alive at once",
            pass::peak_trees()
        );
    }
    // Nothing is written for any site while one refusal stands.
    if let Some(exit) = refuse_duplicates(cli, dir, mode, &sites, &records) {
        discard(out, existed, &records);
        return Ok(exit);
    }
    if let Mode::Render(write::HandEdits::Refuse) = mode {
        let refused = refuse_hand_edits(cli, dir, out, &mut records);
        if !matches!(refused, Ok(None)) {
            discard(out, existed, &records);
            return refused.map(|exit| exit.unwrap_or(Exit::Findings));
        }
    }
    let results = par_map(&records, |r| match (&r.outcome, &r.name) {
        (Outcome::Staged(pending), _) => match write::commit_pending(out, pending) {
            Ok(()) => Outcome::Done,
            Err(e) => pass::failed(pending.site(), e),
        },
        (Outcome::Failed(why), _) => Outcome::Failed(why.clone()),
        (Outcome::Differs(line), _) => Outcome::Differs(line.clone()),
        (Outcome::Invalid, _) => Outcome::Invalid,
        _ => Outcome::Done,
    });
    summarize(cli, dir, out, mode, &records, &results);
    let (failed, findings) = results.iter().fold((0, 0), |(f, d), o| match o {
        Outcome::Failed(_) => (f + 1, d),
        Outcome::Differs(_) | Outcome::Invalid => (f, d + 1),
        _ => (f, d),
    });
    Ok(if failed > 0 {
        Exit::Error
    } else if findings > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// Every site's diagnostics and outcome in the order of the sites, then the summary line.
fn summarize(
    cli: &Cli,
    dir: &Path,
    out: &Path,
    mode: Mode,
    records: &[Record],
    results: &[Outcome],
) {
    let (mut done, mut differ, mut invalid, mut failed) = (0, 0, 0, 0);
    let current = records.iter().filter(|r| r.current).count();
    let json = cli.error_format == ErrorFormat::Json;
    for (outcome, r) in results.iter().zip(records) {
        eprint!("{}", r.diagnostics);
        super::failure::hold(r.entries.clone());
        match outcome {
            Outcome::Done | Outcome::Staged(_) => done += 1,
            Outcome::Differs(line) if json => {
                differ += 1;
                super::failure::hold(vec![report::json_finding(out, line, None)]);
            }
            Outcome::Differs(line) => {
                differ += 1;
                println!("{line}");
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
    let verb = if let Mode::Check = mode {
        "up to date"
    } else {
        "rendered"
    };
    eprintln!(
        "{} sites under {}: {done} {verb} ({current} current by the lock: nothing generated), {differ} differ, {invalid} invalid, {failed} failed",
        records.len(),
        dir.display()
    );
}

/// Removes every staged render, and the output directory when the run created it and left it
/// empty: a refused run writes nothing. A staging left behind (this fails only on a broken
/// disk) is removed by the next run of its site, so the error is not reported.
fn discard(out: &Path, existed: bool, records: &[Record]) {
    par_map(records, |r| {
        if let Outcome::Staged(pending) = &r.outcome {
            let _ = write::discard_staged(out, pending.site());
        }
    });
    if !existed {
        let _ = std::fs::remove_dir(out);
    }
}

/// Sites of one name, before any site is written: the findings and exit 1 when there are any.
fn refuse_duplicates(
    cli: &Cli,
    dir: &Path,
    mode: Mode,
    sites: &[PathBuf],
    records: &[Record],
) -> Option<Exit> {
    let duplicates = duplicate_names(
        sites
            .iter()
            .zip(records)
            .filter_map(|(site, r)| r.name.as_deref().map(|name| (site.as_path(), name))),
    );
    if duplicates.is_empty() {
        return None;
    }
    print_findings(cli, &duplicates);
    let verb = if let Mode::Check = mode {
        "check"
    } else {
        "render"
    };
    eprintln!(
        "refusing to {verb} the sites under {}: two or more share a name; nothing written",
        dir.display()
    );
    Some(Exit::Findings)
}

/// Every site's files edited by hand, before any site is written: the findings and exit 1
/// when there are any.
fn refuse_hand_edits(
    cli: &Cli,
    dir: &Path,
    out: &Path,
    records: &mut [Record],
) -> Result<Option<Exit>> {
    let mut findings = Vec::new();
    let discard = format!(
        "railyard render --all {} --out {} --force",
        dir.display(),
        out.display()
    );
    for r in records.iter_mut() {
        // Taken out: an error is returned as it is, its type kept for the JSON category.
        let paths = std::mem::replace(&mut r.edited, Ok(Vec::new()))?;
        findings.extend(hand_edits::findings(out, &paths, &discard));
    }
    if findings.is_empty() {
        return Ok(None);
    }
    for r in records {
        eprint!("{}", r.diagnostics);
        super::failure::hold(r.entries.clone());
    }
    match cli.error_format {
        ErrorFormat::Json => super::failure::hold(report::json_files_items(&findings)),
        ErrorFormat::Human => eprint!("{}", hand_edits::human(&findings)),
    }
    eprintln!(
        "refusing to render the sites under {}: {} file(s) edited by hand; nothing written",
        dir.display(),
        findings.len()
    );
    Ok(Some(Exit::Findings))
}
