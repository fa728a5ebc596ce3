//! `--all DIR`: every `site.yaml` under a directory, handled in parallel on every core, after
//! every refusal (two sites of one name, files edited by hand) was checked for all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

use super::{Exit, current, hand_edits};
use crate::cli::{Cli, ErrorFormat};
use crate::core::diagnostic::{self, Diagnostic};
use crate::core::source::Span;
use crate::core::tree::Tree;
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

/// What `render --all` does with each site.
#[derive(Clone, Copy)]
pub(super) enum Mode {
    /// `--check`: compare, write nothing.
    Check,
    Render(write::HandEdits),
}

/// What happened to one site, for the summary.
enum Outcome {
    Done,
    Differs(String),
    Invalid,
    /// The error, shared: a site that failed to compile reports it again in the summary.
    Failed(Arc<anyhow::Error>),
}

/// One site compiled: its tree when valid, else how it ended; its diagnostics as text for
/// people, or as JSON entries for the one array `--error-format json` prints.
struct Compiled {
    site: PathBuf,
    tree: Result<Product, Outcome>,
    diagnostics: String,
    entries: Vec<serde_json::Value>,
}

/// A valid site: rendered, or current in the output directory (nothing generated).
enum Product {
    Tree(Tree),
    /// The site's name.
    Current(String),
}

impl Product {
    fn site(&self) -> &str {
        match self {
            Product::Tree(tree) => &tree.site,
            Product::Current(site) => site,
        }
    }
}

fn compile_one(cli: &Cli, site: &Path, out: &Path, mode: Mode) -> Compiled {
    let compiled = match mode {
        Mode::Render(write::HandEdits::Overwrite) => current::compile_always(cli, site),
        _ => current::compile(cli, site, out),
    };
    let (loaded, output, current) = match compiled {
        Ok(compiled) => compiled,
        Err(e) => {
            return Compiled {
                site: site.to_owned(),
                tree: Err(Outcome::Failed(Arc::new(e))),
                diagnostics: String::new(),
                entries: Vec::new(),
            };
        }
    };
    let diagnostics = match cli.error_format {
        ErrorFormat::Human if !output.diagnostics.is_empty() => {
            report::human(&output.diagnostics, &loaded, super::stderr_color(cli))
        }
        _ => String::new(),
    };
    let entries = match cli.error_format {
        ErrorFormat::Json => report::json_items(&output.diagnostics, &loaded),
        ErrorFormat::Human => Vec::new(),
    };
    let tree = match current {
        Some(current) => Ok(Product::Current(current.site)),
        None => output
            .tree
            .filter(|_| !diagnostic::has_errors(&output.diagnostics))
            .map(Product::Tree)
            .ok_or(Outcome::Invalid),
    };
    Compiled {
        site: site.to_owned(),
        tree,
        diagnostics,
        entries,
    }
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

pub(super) fn render_all(cli: &Cli, dir: &Path, out: &Path, mode: Mode) -> Result<Exit> {
    let sites = find_sites(dir)?;
    if sites.is_empty() {
        anyhow::bail!("no `site.yaml` under `{}`", dir.display());
    }
    let compiled = par_map(&sites, |site| compile_one(cli, site, out, mode));
    // Nothing is written for any site while one refusal stands.
    if let Some(exit) = refuse_duplicates(cli, dir, mode, &compiled) {
        return Ok(exit);
    }
    if let Mode::Render(write::HandEdits::Refuse) = mode {
        if let Some(exit) = refuse_hand_edits(cli, dir, out, &compiled)? {
            return Ok(exit);
        }
    }
    let results = par_map(&compiled, |c| -> Outcome {
        match &c.tree {
            Ok(Product::Tree(tree)) => handle(out, tree, mode),
            Ok(Product::Current(_)) => Outcome::Done,
            Err(Outcome::Failed(why)) => Outcome::Failed(why.clone()),
            Err(_) => Outcome::Invalid,
        }
    });
    let (mut done, mut differ, mut invalid, mut failed) = (0, 0, 0, 0);
    let current = compiled
        .iter()
        .filter(|c| matches!(c.tree, Ok(Product::Current(_))))
        .count();
    let json = cli.error_format == ErrorFormat::Json;
    for (outcome, c) in results.iter().zip(&compiled) {
        eprint!("{}", c.diagnostics);
        super::failure::hold(c.entries.clone());
        match outcome {
            Outcome::Done => done += 1,
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

/// Sites of one name, before any site is written: the findings and exit 1 when there are any.
fn refuse_duplicates(cli: &Cli, dir: &Path, mode: Mode, compiled: &[Compiled]) -> Option<Exit> {
    let duplicates = duplicate_names(
        compiled
            .iter()
            .filter_map(|c| c.tree.as_ref().ok().map(|t| (c.site.as_path(), t.site()))),
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
    compiled: &[Compiled],
) -> Result<Option<Exit>> {
    let edited = par_map(compiled, |c| match &c.tree {
        Ok(Product::Tree(tree)) => write::hand_edits(out, tree),
        // its outputs were just seen to have their recorded hashes
        Ok(Product::Current(_)) | Err(_) => Ok(Vec::new()),
    });
    let mut findings = Vec::new();
    let discard = format!(
        "railyard render --all {} --out {} --force",
        dir.display(),
        out.display()
    );
    for paths in edited {
        findings.extend(hand_edits::findings(out, &paths?, &discard));
    }
    if findings.is_empty() {
        return Ok(None);
    }
    for c in compiled {
        eprint!("{}", c.diagnostics);
        super::failure::hold(c.entries.clone());
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

/// A site's write error, with the site named and the typed cause kept for the JSON category.
fn failed(site: &str, error: write::WriteError) -> Outcome {
    let error = anyhow::Error::new(error).context(format!("site `{site}`"));
    Outcome::Failed(Arc::new(error))
}

/// Checks or renders one valid site.
fn handle(out: &Path, tree: &Tree, mode: Mode) -> Outcome {
    match mode {
        Mode::Check => match write::check(out, tree) {
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
            Err(e) => failed(&tree.site, e),
        },
        Mode::Render(hand_edits) => match write::render(out, tree, hand_edits) {
            Ok(_) => Outcome::Done,
            Err(e) => failed(&tree.site, e),
        },
    }
}
