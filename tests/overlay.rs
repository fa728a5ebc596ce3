//! The overlay engine against kustomize: the differential corpus in `tests/kustomize/` (see its
//! README) built in-process and compared byte for byte, its expected files re-checked against
//! the live `kubectl kustomize`, and its error cases run through the command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use railyard::core::overlay;
use railyard::edge::disk_files::DiskFiles;

use crate::support::{self, cases};

/// The corpus must stay large enough to mean something (issue: at least 60 and 15).
const MIN_CASES: usize = 60;
const MIN_ERROR_CASES: usize = 15;

/// Issue #17's floor for the features it added: cases (valid or error) whose name says the
/// feature, each of which must use it.
const MIN_FEATURE_CASES: [(&str, &[&str], usize); 4] = [
    ("component-", &["components:", "kind: Component"], 40),
    ("replacement-", &["replacements:"], 30),
    // one base included several times, under different prefixes, suffixes or namespaces
    ("base-reuse-", &["- ../"], 20),
    // patches that change an object's kind (or, without the option, try to)
    (
        "kind-change-",
        &["allowKindChange", "path: /kind", "kind: StatefulSet"],
        10,
    ),
];

fn corpus(kind: &str) -> Vec<PathBuf> {
    cases(&support::root().join("tests/kustomize").join(kind))
}

/// The directory a case builds: the case itself, or `<case>/<contents of BUILD>`.
fn build_dir(case: &Path) -> PathBuf {
    match std::fs::read_to_string(case.join("BUILD")) {
        Ok(sub) => case.join(sub.trim()),
        Err(_) => case.to_path_buf(),
    }
}

fn name(case: &Path) -> String {
    case.file_name()
        .expect("named")
        .to_string_lossy()
        .into_owned()
}

/// First differing line, for a readable failure.
fn first_difference(got: &str, want: &str) -> String {
    let line = got
        .lines()
        .zip(want.lines())
        .position(|(g, w)| g != w)
        .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
    format!(
        "line {}: got `{}`, want `{}`",
        line + 1,
        got.lines().nth(line).unwrap_or("<end>"),
        want.lines().nth(line).unwrap_or("<end>")
    )
}

#[test]
fn every_case_builds_exactly_as_kustomize() {
    let all = corpus("cases");
    assert!(all.len() >= MIN_CASES, "only {} cases", all.len());
    let mut failures = Vec::new();
    for case in &all {
        let dir = match std::fs::read_to_string(case.join("BUILD")) {
            Ok(sub) => sub.trim().to_owned(),
            Err(_) => ".".to_owned(),
        };
        let want = std::fs::read_to_string(case.join("expected.yaml")).expect("expected.yaml");
        let files = DiskFiles::new(case).expect("case directory");
        match overlay::build(&files, &dir) {
            Ok(built) => {
                let got = overlay::print(&built.objects);
                if got != want {
                    failures.push(format!("{}: {}", name(case), first_difference(&got, &want)));
                }
            }
            Err(diagnostics) => failures.push(format!(
                "{}: rejected: {}",
                name(case),
                diagnostics
                    .iter()
                    .map(|d| d.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The expected files are kubectl's output; this keeps them honest after edits to the inputs.
#[test]
fn expected_files_are_what_kubectl_kustomize_prints() {
    let Some(kubectl) = crate::oracles::oracle("kubectl") else {
        return;
    };
    let mut failures = Vec::new();
    let all = corpus("cases");
    for case in &all {
        let out = Command::new(&kubectl)
            .arg("kustomize")
            .arg(build_dir(case))
            .output()
            .expect("kubectl runs");
        let want = std::fs::read_to_string(case.join("expected.yaml")).expect("expected.yaml");
        let got = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || got != want {
            failures.push(format!("{}: {}", name(case), first_difference(&got, &want)));
        }
    }
    assert!(!all.is_empty());
    assert!(
        failures.is_empty(),
        "regenerate with `bash tests/kustomize/regenerate.sh`:\n{}",
        failures.join("\n")
    );
}

/// Whether any kustomization file below `dir` contains `needle`.
fn some_kustomization_contains(dir: &Path, needle: &str) -> bool {
    std::fs::read_dir(dir)
        .expect("case directory")
        .any(|entry| {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                return some_kustomization_contains(&path, needle);
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("kustomization")
                && std::fs::read_to_string(&path).is_ok_and(|text| text.contains(needle))
        })
}

#[test]
fn the_corpus_covers_components_replacements_base_reuse_and_kind_changes() {
    let all: Vec<PathBuf> = corpus("cases")
        .into_iter()
        .chain(corpus("errors"))
        .collect();
    for (prefix, fields, minimum) in MIN_FEATURE_CASES {
        let named: Vec<&PathBuf> = all.iter().filter(|c| name(c).starts_with(prefix)).collect();
        assert!(
            named.len() >= minimum,
            "only {} `{prefix}*` cases",
            named.len()
        );
        for case in named {
            assert!(
                fields
                    .iter()
                    .any(|field| some_kustomization_contains(case, field)),
                "{} uses none of {fields:?}",
                name(case)
            );
        }
    }
}

#[test]
fn every_error_case_fails_at_the_expected_line_and_says_why() {
    let all = corpus("errors");
    assert!(
        all.len() >= MIN_ERROR_CASES,
        "only {} error cases",
        all.len()
    );
    let errors_dir = support::root().join("tests/kustomize/errors");
    let mut failures = Vec::new();
    for case in &all {
        let expected = std::fs::read_to_string(case.join("expected.txt")).expect("expected.txt");
        let mut lines = expected.lines();
        let location = format!("{}/{}", name(case), lines.next().expect("location line"));
        let words = lines.next().unwrap_or_default().to_lowercase();
        let dir = build_dir(case);
        let relative = dir.strip_prefix(&errors_dir).expect("inside errors/");
        let output = support::run(
            support::railyard()
                .current_dir(&errors_dir)
                .args(["--error-format", "json", "overlay", "build"])
                .arg(relative),
        );
        if output.status.code() != Some(1) {
            failures.push(format!("{}: exit {:?}", name(case), output.status.code()));
            continue;
        }
        let diagnostics: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("JSON diagnostics");
        let first = &diagnostics[0];
        let got = format!("{}:{}", first["file"].as_str().unwrap_or(""), first["line"]);
        let message = first["message"].as_str().unwrap_or("").to_lowercase();
        if got != location || !message.contains(&words) {
            failures.push(format!(
                "{}: got {got} `{message}`, want {location} containing `{words}`",
                name(case)
            ));
        }
        for field in ["expected", "hint", "path"] {
            if first.get(field).is_none() {
                failures.push(format!("{}: diagnostic without `{field}`", name(case)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A failed build prints nothing on stdout, so `railyard overlay build dir > out.yaml` never
/// leaves half a manifest behind a pipe.
#[test]
fn a_failed_build_prints_no_objects() {
    let case = support::root().join("tests/kustomize/errors/patch-names-missing-object");
    let output = support::run(support::railyard().args(["overlay", "build"]).arg(&case));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "{}", support::stdout(&output));
    assert!(support::stderr(&output).contains("matches no resource"));
}

/// Built-in overlays are plain kustomize: the embedded copy railyard builds from is the file on
/// disk, and `kubectl kustomize overlays/<dir>` prints what railyard's engine prints.
#[test]
fn builtin_overlays_build_as_kubectl_kustomize_does() {
    use railyard::core::builtin_overlays;
    let root = support::root();
    for builtin in builtin_overlays::ALL {
        let dir = root.join("overlays").join(builtin.dir);
        for (name, text) in builtin.files {
            let on_disk = std::fs::read_to_string(dir.join(name)).expect("overlay file");
            assert_eq!(&on_disk, text, "{}/{name}", builtin.dir);
        }
        let memory = builtin_overlays::files(builtin);
        let ours = overlay::build(&memory, &format!("overlays/{}", builtin.dir))
            .map(|built| overlay::print(&built.objects))
            .unwrap_or_else(|d| panic!("{}: {d:?}", builtin.dir));
        let Some(kubectl) = crate::oracles::oracle("kubectl") else {
            continue;
        };
        let out = Command::new(&kubectl)
            .arg("kustomize")
            .arg(&dir)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            ours,
            theirs,
            "{}: {}",
            builtin.dir,
            first_difference(&ours, &theirs)
        );
    }
}

/// Set to `1` to make a missing Go toolchain a failure instead of a skip (CI sets it).
const REQUIRE_ENV: &str = "RAILYARD_REQUIRE_ORACLES";

/// The fields of kustomize v5.5.0's `Kustomization` type, as `tests/kustfields` (a Go program
/// that reflects on the type from kustomize's own module) prints them; `None` when Go is
/// missing and the oracles are not required.
fn kustomize_fields() -> Option<Vec<String>> {
    let source = support::root().join("tests/kustfields");
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kustfields");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .output();
    let why = match &built {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Some(format!("`go` does not run: {e}")),
    };
    if let Some(why) = why {
        let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
        assert!(!required, "tests/kustfields does not build: {why}");
        eprintln!("SKIPPED: kustomize's field list needs Go: {why}");
        return None;
    }
    let out = Command::new(&binary).output().expect("kustfields runs");
    assert!(out.status.success());
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// Every field kustomize knows is either built as kustomize builds it or refused at its line
/// with a hint of what to do instead; none is ignored or reported as unknown.
#[test]
fn every_kustomize_field_is_supported_or_refused_at_its_line() {
    use railyard::core::overlay::{FieldSupport, MemoryFiles, field_support};
    let Some(fields) = kustomize_fields() else {
        return;
    };
    assert!(
        fields.len() >= 30,
        "only {} fields: {fields:?}",
        fields.len()
    );
    let mut failures = Vec::new();
    for field in &fields {
        let hint = match field_support(field) {
            FieldSupport::Supported => continue,
            FieldSupport::Refused(hint) => hint,
            FieldSupport::Unknown => {
                failures.push(format!("`{field}` is neither supported nor refused"));
                continue;
            }
        };
        let text = format!("resources:\n- cm.yaml\n{field}: {{}}\n");
        let files = MemoryFiles(
            [
                ("k/kustomization.yaml".to_owned(), text.clone()),
                (
                    "k/cm.yaml".to_owned(),
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n".to_owned(),
                ),
            ]
            .into(),
        );
        let Err(diagnostics) = overlay::build(&files, "k") else {
            failures.push(format!("`{field}` was accepted"));
            continue;
        };
        let first = &diagnostics[0];
        let line = 1 + text[..first.span.start].matches('\n').count();
        let told = first.hint.as_deref().unwrap_or_default();
        if first.file != "k/kustomization.yaml" || line != 3 || !told.contains(hint) {
            failures.push(format!(
                "`{field}`: refused at {}:{line} with hint `{told}`",
                first.file
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
