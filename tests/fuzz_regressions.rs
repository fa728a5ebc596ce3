//! Every input the fuzzers in `fuzz/` ever crashed on, replayed on stable through the same
//! entry points (`railyard::fuzzing`): no panic, and a rejected input says where. The seed
//! corpora are replayed too, which also checks that the overlay seeds encode their cases.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use railyard::fuzzing::{self, Outcome};

use crate::support::root;

/// One fuzz target's entry point.
type Target = fn(&[u8]) -> Outcome;

const TARGETS: &[(&str, Target)] = &[
    ("site", fuzzing::site),
    ("sops", fuzzing::sops),
    ("overlay", fuzzing::overlay),
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs one input; `Err` with what went wrong.
fn replay(target: &str, run: Target, file: &Path) -> Result<Outcome, String> {
    let data = std::fs::read(file).expect("readable");
    let outcome = catch_unwind(AssertUnwindSafe(|| run(&data))).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        format!("{}: panicked: {message}", file.display())
    })?;
    // The site compiler and the overlay engine reject with diagnostics; sops with an error value.
    let diagnosed = target == "sops" || outcome.accepted || !outcome.ran || outcome.has_errors();
    if !diagnosed {
        return Err(format!(
            "{}: rejected without an error diagnostic",
            file.display()
        ));
    }
    if let Some(d) = outcome.diagnostics.iter().find(|d| d.file.is_empty()) {
        return Err(format!(
            "{}: diagnostic `{}` names no file",
            file.display(),
            d.message
        ));
    }
    Ok(outcome)
}

#[test]
fn every_fuzz_regression_replays_without_a_panic() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (target, run) in TARGETS {
        for file in files(&root().join("fuzz/regressions").join(target)) {
            count += 1;
            if let Err(failure) = replay(target, *run, &file) {
                failures.push(failure);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count > 0, "no regression inputs under fuzz/regressions/");
}

#[test]
fn every_seed_replays_without_a_panic() {
    let mut failures = Vec::new();
    for (target, run) in TARGETS {
        let seeds = files(&root().join("fuzz/corpus").join(target));
        assert!(
            !seeds.is_empty(),
            "no seeds for `{target}`: run fuzz/seed.sh"
        );
        for file in seeds {
            let name = file.file_name().expect("named").to_string_lossy();
            if !name.starts_with("seed-") {
                continue;
            }
            match replay(target, *run, &file) {
                Err(failure) => failures.push(failure),
                // Cases kustomize builds must build here too; error cases must not.
                Ok(outcome) if *target == "overlay" => {
                    let want = name.starts_with("seed-tests-kustomize-cases-");
                    if outcome.accepted != want {
                        failures.push(format!(
                            "{}: accepted is {}, want {want}: {:?}",
                            file.display(),
                            outcome.accepted,
                            outcome.diagnostics.first().map(|d| &d.message)
                        ));
                    }
                }
                Ok(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn golden_sites_compile_as_in_their_directories() {
    // The fuzz harness's fixed files stand in for a site's directory: a golden site that
    // renders on disk must render through the harness too, or the fuzzer explores less.
    for name in ["minimal", "user-overlays", "key-file-https-subpath-pins"] {
        let data =
            std::fs::read(root().join("golden/ok").join(name).join("site.yaml")).expect("readable");
        let outcome = fuzzing::site(&data);
        assert!(
            outcome.accepted,
            "{name}: {:?}",
            outcome
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        );
    }
}
