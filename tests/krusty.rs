//! The krusty oracle: kustomize v5.5.0's own engine (`tests/krusty/`, a Go program linking
//! `sigs.k8s.io/kustomize/api/krusty`, built by `tests/run.sh` into `.oracles/bin/krusty`) builds
//! many kustomizations in one process, where `kubectl kustomize` costs a process start (about
//! 0.1 s) per build. The property test judges railyard with it.
//!
//! An oracle is only worth what it agrees with: `krusty_prints_what_kubectl_printed` runs it over
//! the whole differential corpus in `tests/kustomize/`, whose expected files `kubectl kustomize`
//! wrote, and asks for the same bytes on every case and the same error on every error case.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::oracles::oracle;
use crate::support::{self, cases};

/// What kustomize made of one kustomization directory.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Built {
    /// The bytes `kubectl kustomize DIR` prints on stdout.
    Output(String),
    /// kustomize's error, as kubectl would report it after `error: `.
    Error(String),
}

/// One running krusty process; builds are answered in order, one at a time.
pub(crate) struct Krusty {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Krusty {
    /// Starts the oracle, or `None` (after `oracle`'s SKIPPED line, or its panic under
    /// `RAILYARD_REQUIRE_ORACLES=1`) when it was not built.
    pub(crate) fn start() -> Option<Self> {
        let binary = oracle("krusty")?;
        let mut child = Command::new(binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // kustomize's deprecation warnings; its errors come in the frames.
            .stderr(Stdio::null())
            .spawn()
            .expect("krusty starts");
        let input = child.stdin.take().expect("piped stdin");
        let output = BufReader::new(child.stdout.take().expect("piped stdout"));
        Some(Self {
            child,
            input,
            output,
        })
    }

    /// Builds the kustomization in `dir` (an absolute path) as `kubectl kustomize dir` would.
    pub(crate) fn build(&mut self, dir: &Path) -> Built {
        let path = dir.to_str().expect("a UTF-8 path");
        assert!(!path.contains('\n'), "one path a line: {path:?}");
        writeln!(self.input, "{path}").expect("krusty reads its input");
        self.input.flush().expect("krusty reads its input");
        let mut header = String::new();
        self.output.read_line(&mut header).expect("krusty answers");
        let (kind, length) = header
            .trim_end()
            .split_once(' ')
            .unwrap_or_else(|| panic!("krusty's frame header is `kind length`, got {header:?}"));
        let length: usize = length.parse().expect("a frame length");
        let mut body = vec![0; length];
        self.output.read_exact(&mut body).expect("a whole frame");
        let body = String::from_utf8(body).expect("kustomize prints UTF-8");
        match kind {
            "ok" => Built::Output(body),
            "error" => Built::Error(body),
            other => panic!("unknown krusty frame `{other}`"),
        }
    }
}

impl Drop for Krusty {
    fn drop(&mut self) {
        // Closing stdin ends the process; it has nothing left to say.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The directory a corpus case builds: the case itself, or `<case>/<contents of BUILD>`.
/// Marks an error case whose kubectl message depends on the network (a remote base): its
/// first line is not compared, its exit status is.
const NETWORK: &str = "NETWORK";

fn build_dir(case: &Path) -> std::path::PathBuf {
    match std::fs::read_to_string(case.join("BUILD")) {
        Ok(sub) => case.join(sub.trim()),
        Err(_) => case.to_path_buf(),
    }
}

/// An error as `tests/kustomize/regenerate.sh` records kubectl's first stderr line: klog's
/// `"command failed" err=` with the message quoted, or for a multi-line message `err=<` and its
/// lines joined by spaces; the case directory written `$CASE`, Go pointers `0xADDR`.
fn as_kubectl_records(message: &str, case: &Path) -> String {
    // klog writes any value with a line break as a block, ended by its own line break: one
    // of the message's goes
    let multiline = message.contains('\n');
    let message = message.strip_suffix('\n').unwrap_or(message);
    let line = if multiline {
        format!(
            "\"command failed\" err=< {}",
            message.split('\n').collect::<Vec<_>>().join(" ")
        )
    } else {
        format!(
            "\"command failed\" err=\"{}\"",
            message.replace('\\', "\\\\").replace('"', "\\\"")
        )
    };
    let line = line.replace(case.to_str().expect("a UTF-8 path"), "$CASE");
    hide_pointers(&line)
}

/// `0x` and six or more lower-case hex digits become `0xADDR`, as regenerate.sh's sed does.
fn hide_pointers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        let digits = rest[at + 2..]
            .bytes()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        if digits >= 6 {
            out.push_str("0xADDR");
        } else {
            out.push_str(&rest[at..at + 2 + digits]);
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn krusty_prints_what_kubectl_printed() {
    let Some(mut krusty) = Krusty::start() else {
        return;
    };
    let corpus = support::root().join("tests/kustomize");
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in cases(&corpus.join("cases")) {
        let want = std::fs::read_to_string(case.join("expected.yaml")).expect("expected.yaml");
        match krusty.build(&build_dir(&case)) {
            Built::Output(got) if got == want => {}
            Built::Output(_) => failures.push(format!("{}: other bytes", case.display())),
            Built::Error(error) => failures.push(format!("{}: {error}", case.display())),
        }
        checked += 1;
    }
    for case in cases(&corpus.join("errors")) {
        let record = std::fs::read_to_string(case.join("kubectl.txt")).expect("kubectl.txt");
        let (first_line, status) = record
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .expect("kubectl.txt has two lines");
        match (krusty.build(&build_dir(&case)), status) {
            (Built::Output(_), "0") => {}
            // kubectl's message names the machine's resolver or the remote's answer: only
            // the refusal itself is the same everywhere.
            (Built::Error(_), status) if status != "0" && case.join(NETWORK).exists() => {}
            (Built::Error(error), status) if status != "0" => {
                let got = as_kubectl_records(&error, &case);
                if got != first_line {
                    failures.push(format!(
                        "{}: kubectl said\n  {first_line}\nkrusty says\n  {got}",
                        case.display()
                    ));
                }
            }
            (built, status) => failures.push(format!(
                "{}: kubectl exited {status}, krusty: {built:?}",
                case.display()
            )),
        }
        checked += 1;
    }
    assert!(checked >= 250, "only {checked} corpus cases");
    assert!(
        failures.is_empty(),
        "krusty differs from kubectl kustomize on {} of {checked} corpus cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn pointers_are_hidden_as_regenerate_sh_hides_them() {
    assert_eq!(
        hide_pointers("&{0xc0005388f0 <nil>} 0x1F 0x"),
        "&{0xADDR <nil>} 0x1F 0x"
    );
}
