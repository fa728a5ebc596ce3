//! Property test of the overlay engine against kustomize v5.5.0: random but valid kustomizations,
//! drawn from a fixed seed, must build to the same bytes in railyard and in kustomize's own engine
//! (the krusty oracle, `tests/krusty.rs`, which prints what `kubectl kustomize` prints and builds
//! a case in a millisecond or two instead of kubectl's 0.1 s).
//!
//! The corpus in `tests/kustomize/` pins one behaviour per case; this test mixes them (bases and
//! overlays, generators, patches, every transformer, awkward scalars) to reach the interactions
//! nobody wrote a case for. Each case draws from its own stream, derived from the seed and the
//! case number, so any case reproduces alone:
//!
//! ```sh
//! RAILYARD_OVERLAY_PROPERTY_CASE=17 cargo test --test integration overlay_property -- --nocapture
//! ```
//!
//! Other knobs: `RAILYARD_OVERLAY_PROPERTY_SEED` (decimal or `0x` hex) and
//! `RAILYARD_OVERLAY_PROPERTY_CASES` explore beyond the fixed run, and
//! `RAILYARD_OVERLAY_PROPERTY_KEEP=1` keeps the generated directories for a look with kubectl.
//!
//! The generator writes only kustomizations kustomize accepts: kustomize rejecting one is a bug
//! in the generator, and is reported as such. It never writes a patch whose target matches nothing
//! (both tools skip one; the corpus pins that), so that every patch has an effect to compare:
//! a model of the objects (`Known`, in `model.rs`) follows what every earlier patch and
//! transformer did, so each patch reaches something and each JSON 6902 operation finds its path.

mod generator;
mod generators;
mod json_patches;
mod merge_patches;
mod model;
mod objects;
mod patches;
mod random;
mod reuse;
mod values;
mod yaml_text;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use railyard::core::overlay::{self, MemoryFiles};
use railyard::edge::disk_files::DiskFiles;
use railyard::edge::report;

use crate::krusty::{Built, Krusty};
use generator::generate;
use random::Rng;

/// The fixed seed: every run checks the same cases, so a failure here is never a fluke.
const SEED: u64 = 0x0F0E_12A7_5EED_2024;

/// Cases per run: a fixed run must stay well under a minute on two cores. The 100,000-case run
/// is `tests/overlay_property_nightly.sh`.
const CASES: u64 = 1_000;

const THREADS: usize = 2;

/// Failures reported with every input file; the others get one line and their reproduction.
const DETAILED: usize = 3;

/// Prefix of the environment variables that steer a run (see the module documentation).
const KNOB: &str = "RAILYARD_OVERLAY_PROPERTY_";

/// Time spent (nanoseconds, summed over threads) in kustomize and in railyard, for the summary
/// line: the run must stay well under a minute, and this says which side to look at when not.
static KUSTOMIZE_NANOS: AtomicU64 = AtomicU64::new(0);
static RAILYARD_NANOS: AtomicU64 = AtomicU64::new(0);

/// Cases both tools refused (ambiguous references of reused bases): counted, and kept rare, so
/// the run keeps comparing outputs.
static BOTH_REFUSED: AtomicU64 = AtomicU64::new(0);

fn timed<T>(counter: &AtomicU64, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = work();
    let spent = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(spent, Ordering::Relaxed);
    result
}

/// Cases of the fixed seed that still differ from kustomize, each for a known engine difference
/// that kustomize itself documents as a bug (with its upstream issue). They must keep
/// differing: when the engine is fixed, the test fails until the case leaves this list, so the
/// list only ever shrinks. None is left.
const KNOWN_DIFFERENCES: &[u64] = &[];

#[test]
fn random_kustomizations_build_as_kubectl_builds_them() {
    // One oracle process per thread; the first one also tells whether the oracle is there.
    let Some(first) = Krusty::start() else {
        return;
    };
    let oracles = Mutex::new(vec![first]);
    let seed = knob("SEED").unwrap_or(SEED);
    let cases: Vec<u64> = match knob("CASE") {
        Some(case) => vec![case],
        None => (0..knob("CASES").unwrap_or(CASES)).collect(),
    };
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let taken = oracles
                    .lock()
                    .expect("no thread panicked holding the lock")
                    .pop();
                let mut krusty = taken.or_else(Krusty::start).expect("krusty started once");
                while let Some(&case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(failure) = check(&mut krusty, seed, case) {
                        failures
                            .lock()
                            .expect("no thread panicked holding the lock")
                            .push((case, failure));
                    }
                }
            });
        }
    });
    let mut failures = failures
        .into_inner()
        .expect("no thread panicked holding the lock");
    failures.sort_by_key(|(case, _)| *case);
    if seed == SEED {
        let fixed: Vec<u64> = KNOWN_DIFFERENCES
            .iter()
            .filter(|known| {
                cases.contains(known) && !failures.iter().any(|(case, _)| case == *known)
            })
            .copied()
            .collect();
        assert!(
            fixed.is_empty(),
            "cases {fixed:?} now build as kubectl builds them: remove them from KNOWN_DIFFERENCES"
        );
        failures.retain(|(case, _)| !KNOWN_DIFFERENCES.contains(case));
    }
    eprintln!(
        "overlay_property: {} random kustomizations (seed {seed:#x}) in {:.1?} \
         (kustomize {:.1} s, railyard {:.1} s, over {THREADS} threads); {} refused by both; \
         {} differ",
        cases.len(),
        started.elapsed(),
        seconds(&KUSTOMIZE_NANOS),
        seconds(&RAILYARD_NANOS),
        BOTH_REFUSED.load(Ordering::Relaxed),
        failures.len()
    );
    let refused = BOTH_REFUSED.load(Ordering::Relaxed);
    assert!(
        refused * 20 <= cases.len() as u64,
        "{refused} of {} cases were refused by both tools: the generator should write \
         kustomizations that build",
        cases.len()
    );
    if failures.is_empty() {
        return;
    }
    let mut message = format!(
        "{} of {} random kustomizations do not build as `kubectl kustomize` builds them \
         (seed {seed:#x}):\n\n",
        failures.len(),
        cases.len()
    );
    for (shown, (_, failure)) in failures.iter().enumerate() {
        message.push_str(if shown < DETAILED {
            &failure.detail
        } else {
            &failure.summary
        });
        message.push('\n');
    }
    panic!("{message}");
}

#[allow(clippy::cast_precision_loss)] // seconds for a human, to a tenth
fn seconds(counter: &AtomicU64) -> f64 {
    counter.load(Ordering::Relaxed) as f64 / 1e9
}

/// A numeric knob from the environment (decimal, or hexadecimal after `0x`).
fn knob(name: &str) -> Option<u64> {
    let text = std::env::var(format!("{KNOB}{name}")).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{KNOB}{name}={text} is not a number")))
}

// ---------------------------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------------------------

/// One generated kustomization: files by path relative to a scratch directory, and which of its
/// directories to build.
struct Case {
    files: BTreeMap<String, String>,
    build: String,
    /// Base reuse can make a reference ambiguous, which kustomize refuses: then railyard must
    /// refuse it too. Every other case must build.
    may_be_refused: bool,
}

struct Failure {
    /// One line and the reproduction command.
    summary: String,
    /// Everything needed to reproduce without rerunning: evidence and all input files.
    detail: String,
}

fn check(krusty: &mut Krusty, seed: u64, number: u64) -> Result<(), Failure> {
    let case = generate(Rng::for_case(seed, number));
    let dir = tempfile::Builder::new()
        .prefix("railyard-overlay-property-")
        .tempdir()
        .expect("a temporary directory");
    for (path, text) in &case.files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("below the directory"))
            .expect("creating a directory");
        std::fs::write(&path, text).expect("writing an input file");
    }
    let build_dir = dir.path().join(&case.build);
    let result = match timed(&KUSTOMIZE_NANOS, || krusty.build(&build_dir)) {
        Built::Output(expected) => timed(&RAILYARD_NANOS, || compare(&case, dir.path(), &expected)),
        Built::Error(error) if case.may_be_refused => {
            let files = DiskFiles::new(dir.path()).expect("the case directory");
            match overlay::build(&files, &case.build) {
                Err(_) => {
                    BOTH_REFUSED.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Ok(_) => Err(("railyard builds what kustomize refuses".to_owned(), error)),
            }
        }
        Built::Error(error) => Err((
            "kustomize rejects the generated kustomization (a bug in the generator)".to_owned(),
            error,
        )),
    };
    let result = result.map_err(|(what, evidence)| failure(seed, number, &case, &what, &evidence));
    if knob("KEEP") == Some(1) {
        eprintln!("case {number}: kept {}", dir.keep().display());
    }
    result
}

/// Builds with railyard, from disk (the same files kubectl read) and from memory.
fn compare(case: &Case, root: &Path, expected: &str) -> Result<(), (String, String)> {
    let files = DiskFiles::new(root).expect("the case directory");
    let actual = match overlay::build(&files, &case.build) {
        Ok(built) => overlay::print(&built.objects),
        Err(diagnostics) => {
            return Err((
                "railyard rejects what kubectl builds".to_owned(),
                report::human_files(&diagnostics, false),
            ));
        }
    };
    if actual != expected {
        return Err((
            "railyard's output differs from kubectl's".to_owned(),
            diff(expected, &actual),
        ));
    }
    // What the engine builds must not depend on where its files come from.
    let memory = MemoryFiles(case.files.clone());
    match overlay::build(&memory, &case.build) {
        Ok(built) if overlay::print(&built.objects) == actual => Ok(()),
        Ok(built) => Err((
            "railyard builds the files differently from memory than from disk".to_owned(),
            diff(&actual, &overlay::print(&built.objects)),
        )),
        Err(diagnostics) => Err((
            "railyard rejects the files in memory but builds them from disk".to_owned(),
            format!("{diagnostics:#?}"),
        )),
    }
}

fn failure(seed: u64, number: u64, case: &Case, what: &str, evidence: &str) -> Failure {
    let reproduce = format!(
        "{KNOB}SEED={seed:#x} {KNOB}CASE={number} \
         cargo test --test integration overlay_property -- --nocapture"
    );
    let first = evidence
        .lines()
        .find(|line| {
            line.starts_with(['-', '+'])
                && !line.starts_with("--- kubectl")
                && !line.starts_with("+++ railyard")
        })
        .or_else(|| {
            // kubectl's deprecation warnings come before its error.
            evidence
                .lines()
                .find(|line| !line.trim().is_empty() && !line.starts_with("# Warning"))
        })
        .unwrap_or_default();
    let mut inputs = String::new();
    for (path, text) in &case.files {
        let _ = writeln!(inputs, "==> {path} <==");
        inputs.push_str(text);
        if !text.ends_with('\n') {
            inputs.push_str("\n(no final newline)\n");
        }
    }
    Failure {
        summary: format!("case {number}: {what}: `{first}`\n    reproduce: {reproduce}"),
        detail: format!(
            "=== case {number} (seed {seed:#x}): {what}\nreproduce: {reproduce}\n{evidence}\n\
             --- inputs (build directory `{}`):\n{inputs}",
            case.build
        ),
    }
}

/// A unified diff, kubectl's output first, cut short: the start of a difference is what matters.
fn diff(expected: &str, actual: &str) -> String {
    const LIMIT: usize = 80;
    let text = similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("kubectl kustomize", "railyard")
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= LIMIT {
        return text;
    }
    format!(
        "{}\n... {} more diff lines",
        lines[..LIMIT].join("\n"),
        lines.len() - LIMIT
    )
}
