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
//! copy of yaml.v3, which differs from `gopkg.in/yaml.v3` v3.0.1 in three ways; the second
//! check allows exactly these, and the third still holds for them:
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
    let mut inputs: Vec<String> = TABLE.iter().map(|s| (*s).to_owned()).collect();
    inputs.extend(long_strings());
    inputs.extend(generated(GENERATED));
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

/// See the module documentation.
fn deliberately_different(s: &str, ours: &str, theirs: &str) -> bool {
    let literal = ours.starts_with("k: |");
    (theirs.starts_with("k: |") && s.contains('\t'))
        || (literal && s.starts_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']))
        || (!literal && ours.contains("\n  ") && unfold(ours) == theirs)
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

/// Tricky scalars, by kind. Many are invalid on purpose: they must stay strings.
const TABLE: &[&str] = &[
    // dates, valid and not
    "2024-02-29",
    "2023-02-29",
    "2024-02-31",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "2024-1-2",
    "2024-01-02",
    "2024-001-02",
    "2024-01-002",
    "0000-02-29",
    "1900-02-29",
    "2000-02-29",
    "2024-04-31",
    "2024-04-30",
    "2024-12-31",
    "2024-12-32",
    "12024-01-01",
    "2024-01-01x",
    "-2024-01-01",
    "+2024-01-01",
    "2024_01_01",
    "20240101",
    "2024-01",
    "2024-",
    "2024",
    "202-01-01",
    "2024/01/01",
    // timestamps with times and zones
    "2024-1-02T3:04:05Z",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14T21:59:43.10+24:00",
    "2001-12-14T21:59:43.10+25:00",
    "2001-12-14T21:59:43.10+05:60",
    "2001-12-14T21:59:43.10+05:61",
    "2001-12-14T21:59:43.10+0500",
    "2001-12-14T21:59:43.10+05",
    "2001-12-14 21:59:43.10",
    "2001-12-14  21:59:43.10",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-14 21:59:43.10Z",
    "2001-12-14T21:59:43Z",
    "2001-12-14T21:59:60Z",
    "2001-12-14T24:00:00Z",
    "2001-12-14T23:60:00Z",
    "2001-12-14T23:59:59.123456789012Z",
    "2001-12-14T23:59:59.100000000Z",
    "2001-12-14T23:59:59,5Z",
    "2001-12-14T23:59:59.Z",
    "2001-12-14T23:59:59.000Z",
    "2001-12-14T23:59:59z",
    "2001-12-14T23:59:59+00:00",
    "2001-12-14T23:59:59-00:00",
    "2001-12-14T1:2:3Z",
    "2001-12-14 1:2:3",
    "2001-12-14 1:2",
    "2001-12-14T",
    "2001-12-14 ",
    "2001-12-14t01:02:03+01:30",
    "2024-1-1 0:0:0.5",
    "2024-01-01T00:00:00",
    "2024-01-01T001:00:00Z",
    "2024-01-01T00:00:00Zx",
    "2024-01-01 00:00:00 ",
    "2001-12-14T21:59:43.1-05:00 ",
    "2024-02-30T00:00:00Z",
    "2024-02-29T23:59:59.999999999Z",
    // integers
    "0",
    "00",
    "-0",
    "+0",
    "1",
    "+1",
    "-1",
    "42",
    "0o17",
    "0O17",
    "-0o17",
    "0755",
    "0777",
    "08",
    "09",
    "0x",
    "0x1F",
    "0X1f",
    "-0x1F",
    "+0x1F",
    "0xG",
    "0b101",
    "0B101",
    "-0b101",
    "0b",
    "0b2",
    "0o",
    "0o8",
    "1_000",
    "1__0",
    "_1",
    "1_",
    "0x_1F",
    "0b_1",
    "-_1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "0xFFFFFFFFFFFFFFFF",
    "0x10000000000000000",
    "+",
    "-",
    "1-",
    "1+1",
    "1,000",
    "1 000",
    "١٢",
    "0x8000000000000000",
    "-0x8000000000000000",
    "-0x8000000000000001",
    // floats
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    "1.",
    "1.e3",
    ".5",
    ".5e3",
    "-.5",
    "+.5",
    ".",
    "..",
    "1.5",
    "1.30",
    "-0.0",
    "+0.0",
    "0.0",
    "1e400",
    "-1e400",
    "1e-400",
    ".5_0",
    "1_0.5",
    "1.5_",
    "1e3_",
    "1e",
    "e3",
    "1e3.5",
    "1.2.3",
    "0.1e+0010",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "0x1p3",
    "inf",
    "Infinity",
    "nan",
    "NaN",
    ".inf",
    ".Inf",
    ".INF",
    "+.inf",
    "+.Inf",
    "+.INF",
    "-.inf",
    "-.Inf",
    "-.INF",
    ".NaN",
    ".nan",
    ".NAN",
    "-.nan",
    ".nAn",
    "+.nan",
    ".iNf",
    "._5",
    ".5e",
    ".e5",
    "1_e3",
    "08.5",
    "0x1.8p1",
    "123456789012345678901234567890",
    "5e-324",
    "1e-330",
    // null, booleans, words
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "false",
    "False",
    "FALSE",
    "yes",
    "Yes",
    "YES",
    "yES",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "<<",
    "<",
    "<<<",
    "=",
    "~~",
    "- ",
    "-",
    "--",
    "---",
    "----",
    "...",
    "....",
    "--- x",
    "... x",
    "-- x",
    "nil",
    "None",
    "none",
    // YAML 1.1 sexagesimal numbers
    "1:20",
    "10:20",
    "190:20:30",
    "1:60",
    "-1:20",
    "+1:20",
    "1:20.5",
    "1:2:3",
    "1_0:20",
    "1:",
    "a:20",
    "1:20:",
    "1:20.5_",
    "1:020",
    // indicators
    "a: b",
    "a:b",
    "a :b",
    "a:",
    "a :",
    ": a",
    ":a",
    ":",
    "? a",
    "?a",
    "?",
    "- a",
    "-a",
    "#a",
    "a #b",
    "a#b",
    "a #",
    "[a",
    "a[",
    "]",
    "{a}",
    "a{",
    "}",
    "*a",
    "&a",
    "!a",
    "!",
    "%a",
    "@a",
    "`a",
    "|a",
    ">a",
    "'a",
    "\"a",
    "a'b",
    "a\"b",
    "a,b",
    ",a",
    "a,",
    "a]",
    "a|b",
    "a>b",
    "a!",
    "a&b",
    "a*b",
    "a%b",
    "a@b",
    "a`b",
    "*",
    "&",
    "|",
    ">",
    "'",
    "\"",
    "''",
    "\"\"",
    "a: ",
    ":\t",
    "a:\tb",
    "-\ta",
    "?\ta",
    "a\t#b",
    "a #\tb",
    // whitespace and line breaks
    " a",
    "a ",
    " ",
    "  ",
    "a  b",
    "\ta",
    "a\t",
    "a\tb",
    "\t",
    "a\nb",
    "a\n",
    "\na",
    "\n",
    "\n\n",
    "a\n\n",
    "a \nb",
    "a\n b",
    "a\n\tb",
    "\ta\nb",
    "a\r\nb",
    "a\rb",
    "a\u{85}b",
    "a\u{2028}b",
    "a\u{2029}b",
    " a\nb",
    "a\nb ",
    "  a\n  b\n",
    "a\n\nb",
    "a\n \nb",
    "#a\nb",
    "a: b\nc",
    "\n a",
    "a\n\n\n",
    // unicode and control characters
    "é",
    "ünïcode",
    "日本語",
    "😀",
    "a😀b",
    "\u{FEFF}a",
    "\u{A0}",
    "a\u{A0}b",
    "\u{7F}",
    "\u{80}",
    "\u{9F}",
    "\u{FFFD}",
    "\u{E000}",
    "\u{FFFE}",
    "\u{D7FF}",
    "\0",
    "a\0b",
    "\u{1}",
    "\u{7}",
    "\u{8}",
    "\u{B}",
    "\u{C}",
    "\u{1B}",
    "\u{1F}",
    "a\\b",
    "\\",
    "\\n",
    "é: x",
    "#é",
    "ü\nö",
    // railyard's own values
    "*.example.com",
    "v1.36.2+k3s1",
    "ssh://git@h/x.git",
    "k=v:NoSchedule",
    "10.2.0.10",
    "${password}",
    "0600",
    "1.30",
    "it's",
    "@at",
    "key=value",
    "https://a.b/c?d=e#f",
];

/// Strings long enough to be folded at 80 columns, in every style that folds.
fn long_strings() -> Vec<String> {
    let words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor";
    let long = format!("{words} {words} {words}");
    let mut out = vec![
        long.clone(),
        format!("#{long}"),
        format!(" {long}"),
        format!("{long} "),
        format!("{long}\t"),
        format!("\"{long}\""),
        format!("'{long}'"),
        format!("a {long} it's"),
        long.replace("sed", "sed  "),
        long.replace(' ', "  "),
        long.replace(' ', "   "),
        format!("{long}\n{long}"),
        format!("{long}\n"),
        "x".repeat(200),
        format!("{} y", "x".repeat(100)),
        format!("{}: y", "x".repeat(100)),
        format!("*{long}"),
        format!("{}", long.replace("elit", "elit\u{1}")),
        format!("{long}é{long}"),
        format!("{long}\\{long}"),
    ];
    for width in [70, 76, 78, 79, 80, 81, 82, 84] {
        let head = "a".repeat(width);
        out.push(format!("{head} b c"));
        out.push(format!("{head}  b c"));
        out.push(format!("'{head} b' c"));
        out.push(format!("\t{head} b c"));
        out.push(format!("{head} \\b c"));
    }
    out
}

/// A small fixed-seed generator (xorshift64*), so every run checks the same strings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `count` strings shaped like dates, times, numbers and text, with tricky characters mixed in.
fn generated(count: usize) -> Vec<String> {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    (0..count)
        .map(|i| match i % 4 {
            0 => date_like(&mut rng),
            1 => number_like(&mut rng),
            2 => text_like(&mut rng, 1 + rng_len(i)),
            _ => text_like(&mut rng, 12 + rng_len(i) * 4),
        })
        .collect()
}

fn rng_len(i: usize) -> usize {
    (i * 7) % 11
}

fn date_like(rng: &mut Rng) -> String {
    let year = rng.pick(&[
        "2024", "2023", "1900", "2000", "0000", "9999", "202", "20240",
    ]);
    let month = rng.below(15);
    let day = rng.below(34);
    let mut out = if rng.below(2) == 0 {
        format!("{year}-{month}-{day}")
    } else {
        format!("{year}-{month:02}-{day:02}")
    };
    if rng.below(3) > 0 {
        out.push_str(rng.pick(&["T", "t", " ", "  ", "x", "_"]));
        let (hour, minute, second) = (rng.below(26), rng.below(62), rng.below(62));
        out.push_str(&format!("{hour}:{minute:02}:{second}"));
        let fraction = rng.pick(&["", ".5", ".123456789", ".1234567890123", ",25", ".", ".000"]);
        out.push_str(fraction);
        let zone = rng.pick(&[
            "Z", "z", "", "+01:00", "-05:30", "+24:00", "+1:00", " Z", "+0100",
        ]);
        out.push_str(zone);
    }
    out
}

fn number_like(rng: &mut Rng) -> String {
    let sign = rng.pick(&["", "", "-", "+"]);
    let prefix = rng.pick(&["", "", "", "0", "0x", "0o", "0b", "0X", ".", "_"]);
    let mut out = format!("{sign}{prefix}");
    for _ in 0..1 + rng.below(8) {
        out.push_str(rng.pick(&[
            "0", "1", "7", "8", "9", "5", "_", "a", "F", "e", "E", ".", "+", "-", "e3", ":3",
        ]));
    }
    out
}

fn text_like(rng: &mut Rng, len: usize) -> String {
    const PIECES: &[&str] = &[
        "a", "b", "z", "A", " ", " ", "  ", ":", ": ", "#", " #", "-", "- ", "?", "? ", "[", "]",
        "{", "}", ",", "*", "&", "!", "|", ">", "'", "\"", "%", "@", "`", "\t", "\n", "\r", "é",
        "日", "😀", "\u{85}", "\u{2028}", "\u{FEFF}", "\u{A0}", "\0", "\u{1B}", "\\", "~", "<<",
        "y", "no", "1", "0x", ".", "---", "...", "null", "true",
    ];
    (0..len).map(|_| rng.pick(PIECES)).collect()
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
