//! The first pass of `render --all` over one site: compile it, check or stage it, and keep only
//! what the refusals, the summary and the second pass need; the tree is dropped here.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::Mode;
use crate::app::current;
use crate::cli::{Cli, ErrorFormat};
use crate::core::diagnostic;
use crate::core::tree::Tree;
use crate::edge::{report, write};

/// What happened to one site, for the summary.
pub(super) enum Outcome {
    Done,
    /// Staged by the first pass; the second commits it.
    Staged(write::Pending),
    Differs(String),
    Invalid,
    /// The error, shared: a site that failed to compile reports it again in the summary.
    Failed(Arc<anyhow::Error>),
}

/// One site after the first pass. Holds no tree, so that a fleet's memory does not grow with
/// the size of its output.
pub(super) struct Record {
    /// The site's name when it is valid (rendered or current by its lock).
    pub(super) name: Option<String>,
    pub(super) current: bool,
    pub(super) outcome: Outcome,
    /// Its diagnostics as text for people, or as JSON entries for the one array
    /// `--error-format json` prints.
    pub(super) diagnostics: String,
    pub(super) entries: Vec<serde_json::Value>,
    /// Files of its output edited by hand, found by `render` without `--force`.
    pub(super) edited: Result<Vec<String>, write::WriteError>,
}

/// What the first pass shares between the sites.
pub(super) struct Pass<'a> {
    cli: &'a Cli,
    out: &'a Path,
    mode: Mode,
    /// Names of the valid sites seen so far: a second site of one name is not staged.
    names: Mutex<HashSet<String>>,
    /// Set once a refusal is certain (two sites of one name, a hand edit): nothing more is
    /// staged, since nothing will be committed.
    refused: AtomicBool,
}

impl<'a> Pass<'a> {
    pub(super) fn new(cli: &'a Cli, out: &'a Path, mode: Mode) -> Pass<'a> {
        Pass {
            cli,
            out,
            mode,
            names: Mutex::new(HashSet::new()),
            refused: AtomicBool::new(false),
        }
    }

    /// Whether `name` is the first of its kind; a refusal stands when it is not.
    fn claim(&self, name: &str) -> bool {
        let first = self
            .names
            .lock()
            .expect("no site panics holding the names")
            .insert(name.to_owned());
        if !first {
            self.refused.store(true, Ordering::Relaxed);
        }
        first
    }

    /// Compiles `site`, then checks it (`--check`) or stages it (`render`).
    pub(super) fn site(&self, site: &Path) -> Record {
        let (product, diagnostics, entries) = compile(self.cli, site, self.out, self.mode);
        let mut record = Record {
            name: None,
            current: false,
            outcome: Outcome::Done,
            diagnostics,
            entries,
            edited: Ok(Vec::new()),
        };
        match product {
            Err(outcome) => record.outcome = outcome,
            Ok(Product::Current(name)) => {
                self.claim(&name);
                record.name = Some(name);
                record.current = true;
            }
            Ok(Product::Tree { tree, live }) => {
                let unique = self.claim(&tree.site);
                record.outcome = match self.mode {
                    Mode::Check => check(self.out, &tree),
                    Mode::Render(hand_edits) => {
                        self.stage(&tree, hand_edits, unique, &mut record.edited)
                    }
                };
                record.name = Some(tree.site.clone());
                drop(tree);
                drop(live);
            }
        }
        record
    }

    /// Stages a valid site's render unless a refusal stands; its hand edits into `edited`.
    /// Staging finds them as it compares (the same files [`write::hand_edits`] names), so a
    /// site's output is read once; a site that is not staged, or whose staging failed for
    /// another reason, is asked separately, so that the refusal names every edit.
    fn stage(
        &self,
        tree: &Tree,
        hand_edits: write::HandEdits,
        unique: bool,
        edited: &mut Result<Vec<String>, write::WriteError>,
    ) -> Outcome {
        // Never reported when a refusal stands: the refusal is.
        let mut outcome = Outcome::Done;
        if unique && !self.refused.load(Ordering::Relaxed) {
            match write::prepare(self.out, tree, hand_edits) {
                Ok(write::Prepared::Unchanged(_)) => return Outcome::Done,
                Ok(write::Prepared::Staged(staged)) => {
                    return Outcome::Staged(staged.into_pending());
                }
                Err(write::WriteError::EditedByHand { paths }) => {
                    self.refused.store(true, Ordering::Relaxed);
                    *edited = Ok(paths);
                    return Outcome::Done;
                }
                Err(e) => outcome = failed(&tree.site, e),
            }
        }
        if hand_edits == write::HandEdits::Refuse {
            *edited = write::hand_edits(self.out, tree);
            if !edited.as_ref().is_ok_and(Vec::is_empty) {
                self.refused.store(true, Ordering::Relaxed);
            }
        }
        outcome
    }
}

/// A valid site: rendered, or current in the output directory (nothing generated).
enum Product {
    Tree {
        tree: Tree,
        live: Live,
    },
    /// The site's name.
    Current(String),
}

/// A compiled site's product (or how it ended) and its diagnostics, as text and JSON entries.
fn compile(
    cli: &Cli,
    site: &Path,
    out: &Path,
    mode: Mode,
) -> (Result<Product, Outcome>, String, Vec<serde_json::Value>) {
    let compiled = match mode {
        Mode::Render(write::HandEdits::Overwrite) => current::compile_always(cli, site),
        _ => current::compile(cli, site, out),
    };
    let (loaded, output, current) = match compiled {
        Ok(compiled) => compiled,
        Err(e) => return (Err(Outcome::Failed(Arc::new(e))), String::new(), Vec::new()),
    };
    let diagnostics = match cli.error_format {
        ErrorFormat::Human if !output.diagnostics.is_empty() => {
            report::human(&output.diagnostics, &loaded, crate::app::stderr_color(cli))
        }
        _ => String::new(),
    };
    let entries = match cli.error_format {
        ErrorFormat::Json => report::json_items(&output.diagnostics, &loaded),
        ErrorFormat::Human => Vec::new(),
    };
    let product = match current {
        Some(current) => Ok(Product::Current(current.site)),
        None => output
            .tree
            .filter(|_| !diagnostic::has_errors(&output.diagnostics))
            .map(|tree| Product::Tree {
                tree,
                live: Live::new(),
            })
            .ok_or(Outcome::Invalid),
    };
    (product, diagnostics, entries)
}

/// A site's write error, with the site named and the typed cause kept for the JSON category.
pub(super) fn failed(site: &str, error: write::WriteError) -> Outcome {
    let error = anyhow::Error::new(error).context(format!("site `{site}`"));
    Outcome::Failed(Arc::new(error))
}

/// Compares one valid site with the output directory.
fn check(out: &Path, tree: &Tree) -> Outcome {
    match write::check(out, tree) {
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
    }
}

/// Trees alive in this process, and the most there ever were at once: the test hook
/// `RAILYARD_REPORT_TREES=1` prints the latter, so a test can see that a fleet's memory is
/// bounded by its workers, not by its number of sites.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts one tree alive for as long as it lives.
struct Live;

impl Live {
    fn new() -> Live {
        let now = LIVE.fetch_add(1, Ordering::Relaxed) + 1;
        PEAK.fetch_max(now, Ordering::Relaxed);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The most trees that were alive at once.
pub(super) fn peak_trees() -> usize {
    PEAK.load(Ordering::Relaxed)
}
