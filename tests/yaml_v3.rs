//! railyard's YAML scalar grammar (`core::yaml::scalar`) against the real `gopkg.in/yaml.v3`.
//!
//! `tests/yamlv3/` is a small Go program; this test builds it with `go build` into the cargo
//! target directory (Go's build cache makes a re-run fast) and gives it every string below:
//! a committed table of tricky scalars and strings from a fixed-seed generator. For each one:
//!
//! - railyard resolves it as a plain scalar as yaml.v3 does when it decodes into `interface{}`
//!   (the same type and value: null, bool, int, uint, float, timestamp or string);
//! - `emit::document` writes `k: <it>` byte for byte as yaml.v3's encoder (indent 2, as
//!   kustomize sets it) writes the same map;
//! - yaml.v3 reads railyard's document back to the same string.
//!
//! railyard prints what `kubectl kustomize` (v5.5) prints, and kustomize writes with its own
//! copy of yaml.v3, which differs from `gopkg.in/yaml.v3` v3.0.1 in three ways (each seen in
//! kubectl's output); the second check allows exactly these, and the third holds for them:
//!
//! - long plain and quoted strings are folded at 80 columns (v3.0.1 never folds): the test
//!   unfolds railyard's document and then compares it byte for byte;
//! - a string with a line break and a tab is double-quoted, not a literal block;
//! - a literal block whose text starts with a line break keeps it (v3.0.1 writes the block's
//!   first line right after the header, so that line break is lost when it is read back).
//!
//! Without `go` on `PATH`, or when the program cannot be built (no module proxy and an empty
//! module cache), the test prints `SKIPPED:`; with `RAILYARD_REQUIRE_ORACLES=1` that is a failure.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod scalars;

use railyard::core::emit;
use railyard::core::yaml::scalar::{self, Plain};
use serde_json::json;

/// Set to `1` to make a missing Go toolchain a failure.
const REQUIRE_ENV: &str = "RAILYARD_REQUIRE_ORACLES";

/// At least this many scalars are checked.
const MINIMUM: usize = 500;

/// Strings from the generator, on top of the table.
const GENERATED: usize = 450;

/// What yaml.v3 did with one string: see `tests/yamlv3/main.go`.
#[derive(serde::Deserialize)]
struct GoResult {
    kind: String,
    value: String,
    emitted: String,
    error: Option<String>,
}

#[test]
fn scalars_resolve_and_print_as_yaml_v3() {
    let Some(program) = go_program() else {
        return;
    };
    let mut inputs: Vec<String> = scalars::TABLE.iter().map(|s| (*s).to_owned()).collect();
    inputs.extend(scalars::long_strings());
    inputs.extend(scalars::generated(GENERATED));
    assert!(inputs.len() >= MINIMUM, "only {} scalars", inputs.len());
    let go = run(&program, false, &inputs);
    let documents: Vec<String> = inputs
        .iter()
        .map(|s| emit::document(&json!({ "k": s })))
        .collect();
    let read_back = run(&program, true, &documents);
    let mut problems = Vec::new();
    let mut deliberate = 0;
    for (((s, go), document), back) in inputs.iter().zip(&go).zip(&documents).zip(&read_back) {
        if let Some(error) = &go.error {
            problems.push(format!("{s:?}: yaml.v3 failed: {error}"));
            continue;
        }
        let ours = scalar::resolve(s);
        if !same_resolution(s, &ours, go) {
            problems.push(format!(
                "{s:?} resolves to {ours:?} in railyard, {} `{}` in yaml.v3",
                go.kind, go.value
            ));
        }
        if *document != go.emitted && deliberately_different(s, document, &go.emitted) {
            deliberate += 1;
        } else if *document != go.emitted {
            problems.push(format!(
                "{s:?} is written\n{document}by railyard, and\n{}by yaml.v3",
                go.emitted
            ));
        }
        if back.kind != "str" || back.value != *s || back.error.is_some() {
            problems.push(format!(
                "{s:?}: railyard wrote\n{document}which yaml.v3 reads as {} `{}` {:?}",
                back.kind, back.value, back.error
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} scalars disagree with yaml.v3:\n{}",
        problems.len(),
        inputs.len(),
        problems.join("\n")
    );
    eprintln!(
        "{} scalars agree with yaml.v3, {deliberate} of them written as kustomize writes them",
        inputs.len()
    );
}

/// See the module documentation: each difference, and the rest of the document the same.
fn deliberately_different(s: &str, ours: &str, theirs: &str) -> bool {
    let (our_block, their_block) = (ours.starts_with("k: |"), theirs.starts_with("k: |"));
    let tab = s.contains('\t') && their_block && ours.starts_with("k: \"");
    let leading_break =
        s.starts_with('\n') && our_block && ours.replacen("\n\n", "\n", 1) == theirs;
    let folded = !our_block && ours.contains("\n  ") && unfold(ours) == theirs;
    tab || leading_break || folded
}

/// A one-line `k: <scalar>` document with its folds at 80 columns undone: each fold turned a
/// space into a line break and the indentation (and, in double quotes, `\` before a second
/// space), so the line break and indentation become that space again.
fn unfold(document: &str) -> String {
    let body = document.strip_suffix('\n').unwrap_or(document);
    let unfolded = body.replace("\n  \\ ", "  ").replace("\n  ", " ");
    format!("{unfolded}\n")
}

fn same_resolution(s: &str, ours: &Plain, go: &GoResult) -> bool {
    let value = go.value.as_str();
    match ours {
        Plain::Null => go.kind == "null",
        Plain::Bool(b) => go.kind == "bool" && value == b.to_string(),
        Plain::Int(i) => go.kind == "int" && value == i.to_string(),
        Plain::Uint(u) => go.kind == "uint" && value == u.to_string(),
        Plain::Float(f) => go.kind == "float" && go_float(value).is_some_and(|g| same_float(*f, g)),
        Plain::Timestamp(time) => go.kind == "timestamp" && value == time,
        Plain::Str => go.kind == "str" && value == s,
    }
}

/// A float as `strconv.FormatFloat(f, 'g', -1, 64)` writes it.
fn go_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

fn same_float(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// Builds `tests/yamlv3` into the cargo target directory, or says why it could not.
fn go_program() -> Option<PathBuf> {
    let go_works = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !go_works {
        unavailable("`go` was not found on PATH");
        return None;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yamlv3");
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("yamlv3");
    let out = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("go build runs");
    if !out.status.success() {
        unavailable(&format!(
            "`go build` of tests/yamlv3 failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return None;
    }
    Some(binary)
}

fn unavailable(detail: &str) {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    assert!(
        !required,
        "the yaml.v3 differential test needs Go ({REQUIRE_ENV}=1), but {detail}"
    );
    eprintln!(
        "SKIPPED: the yaml.v3 differential test did not run: {detail}. Install Go 1.21 or later \
         with access to the Go module proxy. Set {REQUIRE_ENV}=1 to make this a failure."
    );
}

/// Runs the Go program over `inputs` (as YAML documents when `read`).
fn run(program: &Path, read: bool, inputs: &[String]) -> Vec<GoResult> {
    let mut command = Command::new(program);
    if read {
        command.arg("-read");
    }
    let mut child = command
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the yaml.v3 program starts");
    let input = serde_json::to_vec(inputs).expect("strings serialize");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("the yaml.v3 program runs");
    writer
        .join()
        .expect("the writer thread finishes")
        .expect("the input is written");
    assert!(
        out.status.success(),
        "the yaml.v3 program failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<GoResult> = serde_json::from_slice(&out.stdout).expect("the output is JSON");
    assert_eq!(results.len(), inputs.len(), "one result per input");
    results
}
