//! `--error-format json` on every exit path of every command: the exit status is the
//! documented one, and stdout is one array of `schema/errors.schema.json` (or, on success and
//! for the commands whose report is their output, that output).

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::fake_hetzner::{FakeHetzner, Faults};
use crate::support::{cases, railyard, root, run, stderr, stdout};

/// The example's public age recipient (`examples/age.key`).
const RECIPIENT: &str = "age12zqquyfsgvwja58tunhvysddn5ewwj02qnxqnvny3my2fsv6dq8sw684v8";

/// What stdout must hold.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// The findings array: `[]`, or findings only.
    Findings,
    /// An array ending with one error of this category.
    Error(&'static str),
    /// The command's own output (a schema, a plan, a diff, ciphertext): not the array.
    Own,
}

struct Case {
    args: Vec<String>,
    exit: i32,
    want: Want,
}

fn case(args: &[&str], exit: i32, want: Want) -> Case {
    Case {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        exit,
        want,
    }
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schema/errors.schema.json")).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("a valid schema")
}

/// The problems with `output` against the case; empty when it is as documented.
fn check(validator: &jsonschema::Validator, case: &Case, output: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    if output.status.code() != Some(case.exit) {
        problems.push(format!(
            "exit {:?}, want {}: {}",
            output.status.code(),
            case.exit,
            stderr(output)
        ));
    }
    if matches!(case.want, Want::Own) {
        // Their report alone: no array after it (the array is `[]` or ends on a line of its
        // own; a report may end in `]` itself, as user-data's flow sequences do).
        let end = stdout(output);
        let end = end.trim_end();
        if end.ends_with("[]") || end.ends_with("\n]") {
            problems.push(format!("an array after the report: {:?}", stdout(output)));
        }
        return problems;
    }
    let items: Value = match serde_json::from_slice(&output.stdout) {
        Ok(items) => items,
        Err(e) => {
            problems.push(format!("stdout is not JSON ({e}): {:?}", stdout(output)));
            return problems;
        }
    };
    problems.extend(
        validator
            .iter_errors(&items)
            .map(|e| format!("{e}: {items}")),
    );
    let entries = items.as_array().cloned().unwrap_or_default();
    let last = entries.last();
    match case.want {
        Want::Findings if case.exit == 1 && entries.is_empty() => {
            problems.push("exit 1 with no finding".to_owned());
        }
        Want::Findings if entries.iter().any(|e| e["kind"] != "finding") => {
            problems.push(format!("want findings only: {items}"));
        }
        Want::Error(category)
            if last.is_none_or(|e| e["kind"] != "error" || e["category"] != category) =>
        {
            problems.push(format!("want a `{category}` error last: {items}"));
        }
        _ => {}
    }
    problems
}

/// A private directory holding a copy of the small example and an age key.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::support::copy_inputs(
            &root().join("examples/hetzner-small"),
            &dir.path().join("site"),
        );
        std::fs::write(dir.path().join("plain.yaml"), "token: hello\n").expect("write");
        // A site whose secrets file `secrets init` will fill with empty placeholders.
        std::fs::create_dir(dir.path().join("placeholders")).expect("mkdir");
        std::fs::copy(
            root().join("examples/hetzner-small/site.yaml"),
            dir.path().join("placeholders/site.yaml"),
        )
        .expect("copy");
        Scratch { dir }
    }

    fn path(&self, relative: &str) -> String {
        self.dir.path().join(relative).display().to_string()
    }
}

fn cases_for(s: &Scratch, fake: &str) -> Vec<Case> {
    let site = s.path("site/site.yaml");
    let out = s.path("out");
    let invalid = root().join("golden/err/location-unknown/site.yaml");
    let invalid = invalid.to_str().expect("UTF-8 path");
    let missing = s.path("nope/site.yaml");
    let api = ["--api-url", "http://127.0.0.1:1"];
    use Want::{Error, Findings, Own};
    vec![
        case(&["validate", &site], 0, Findings),
        case(&["validate", invalid], 1, Findings),
        case(&["validate", &missing], 2, Error("io")),
        case(&["validate", "--bogus"], 2, Error("usage")),
        case(&["render", &site, "--out", &out], 0, Findings),
        case(&["render", invalid, "--out", &out], 1, Findings),
        case(&["render", &missing, "--out", &out], 2, Error("io")),
        case(&["render", &site, "--out", "/proc/nope"], 2, Error("io")),
        case(&["render", &site, &site], 2, Error("usage")),
        // Runs after the render above: up to date; then against an empty directory.
        case(&["render", "--check", &site, "--out", &out], 0, Findings),
        case(
            &["render", "--check", &site, "--out", &s.path("empty")],
            1,
            Findings,
        ),
        case(&["render", "--check", &missing], 2, Error("io")),
        case(
            &["render", "--all", &s.path("site"), "--out", &out],
            0,
            Findings,
        ),
        case(
            &["render", "--all", &s.path("site"), "--out", "/proc/nope"],
            2,
            Error("io"),
        ),
        case(
            &["render", "--all", &s.path("nope"), "--out", &out],
            2,
            Error("io"),
        ),
        case(
            &[
                "render",
                "--all",
                &s.path("site"),
                "--out",
                &s.path("empty"),
                "--check",
            ],
            1,
            Findings,
        ),
        case(
            &["render", "--all", &s.path("site"), "--out", &out, "--check"],
            0,
            Findings,
        ),
        case(&["diff", &site, "--out", &out, "--format", "json"], 0, Own),
        case(
            &["diff", &site, "--out", &s.path("empty"), "--format", "json"],
            1,
            Own,
        ),
        case(&["diff", &missing], 2, Error("io")),
        case(&["diff", "--format", "yaml"], 2, Error("usage")),
        case(
            &["commit", &site, "--repo", &s.path("site")],
            2,
            Error("other"),
        ),
        case(&["commit", &missing, "--repo", &out], 2, Error("io")),
        case(&["commit", &site], 2, Error("usage")),
        case(&["schema"], 0, Own),
        case(&["schema", "extra"], 2, Error("usage")),
        case(&["overlay", "build", &s.path("nope")], 2, Error("io")),
        case(&["overlay", "build", "--bogus"], 2, Error("usage")),
        case(
            &["secrets", "init", &s.path("fresh"), "--age", RECIPIENT],
            0,
            Own,
        ),
        case(
            &["secrets", "init", &s.path("fresh"), "--age", RECIPIENT],
            2,
            Error("other"),
        ),
        // No `--age`, no `.sops.yaml` and no site naming a recipient.
        case(&["secrets", "init", &s.path("empty")], 2, Error("other")),
        case(&["secrets", "init", "--age"], 2, Error("usage")),
        case(
            &["secrets", "edit", &s.path("nope.sops.yaml")],
            2,
            Error("io"),
        ),
        case(
            &[
                "secrets",
                "encrypt",
                &s.path("plain.yaml"),
                "--age",
                RECIPIENT,
            ],
            0,
            Own,
        ),
        case(
            &[
                "secrets",
                "encrypt",
                &s.path("nope.yaml"),
                "--age",
                RECIPIENT,
            ],
            2,
            Error("io"),
        ),
        case(
            &["secrets", "decrypt", &s.path("site/secrets.sops.yaml")],
            0,
            Own,
        ),
        case(
            &["secrets", "decrypt", &s.path("plain.yaml")],
            2,
            Error("other"),
        ),
        case(
            &["secrets", "decrypt", &s.path("nope.yaml")],
            2,
            Error("io"),
        ),
        case(
            &[
                "secrets",
                "rotate",
                &s.path("nope.yaml"),
                "--add",
                RECIPIENT,
            ],
            2,
            Error("io"),
        ),
        case(&["secrets", "rotate"], 2, Error("usage")),
        case(&["secrets", "check", &site], 0, Findings),
        case(&["secrets", "check", &site, "--mac"], 0, Findings),
        case(
            &[
                "secrets",
                "init",
                &s.path("placeholders"),
                "--age",
                RECIPIENT,
            ],
            0,
            Own,
        ),
        case(
            &[
                "secrets",
                "check",
                &s.path("placeholders/site.yaml"),
                "--mac",
            ],
            0,
            Findings,
        ),
        case(
            &[
                "secrets",
                "check",
                &s.path("placeholders/site.yaml"),
                "--mac",
                "--strict",
            ],
            1,
            Findings,
        ),
        case(&["secrets", "check", invalid], 1, Findings),
        case(&["secrets", "check", &missing], 2, Error("io")),
        case(&["machine-data", &site, "server-0"], 0, Own),
        case(&["machine-data", invalid, "server-0"], 1, Findings),
        case(&["machine-data", &site, "server-9"], 2, Error("other")),
        case(
            &["machine-data", &site, "server-0", "--address", "a=b"],
            2,
            Error("usage"),
        ),
        case(&["plan", invalid], 1, Findings),
        case(&["plan", &site], 2, Error("other")),
        case(&["plan", &missing], 2, Error("io")),
        case(&["bootstrap", &site, "--wait", "soon"], 2, Error("usage")),
        case(&["destroy", &missing], 2, Error("io")),
        case(
            &["status", &site, "--kubeconfig", &s.path("nope.yaml")],
            2,
            Error("io"),
        ),
        case(&["status", &missing], 2, Error("io")),
        case(&["init", &s.path("new"), "--name", "new"], 0, Own),
        case(
            &["init", &s.path("new"), "--name", "new"],
            2,
            Error("other"),
        ),
        case(
            &["init", &s.path("bad"), "--name", "Not_A_Label"],
            2,
            Error("other"),
        ),
        case(&["init", "--bogus"], 2, Error("usage")),
        case(&["--help"], 0, Own),
        case(&["--version"], 0, Own),
        case(&[], 2, Error("usage")),
        case(&["secrets"], 2, Error("usage")),
        case(&["--token", "x", "init"], 2, Error("usage")),
        // The cloud commands with a token, against the fake cloud, then an address nothing
        // listens on.
        case(&["plan", &site, "--api-url", fake], 1, Own),
        case(&["destroy", &site, "--api-url", fake], 0, Own),
        case(&["plan", &site, api[0], api[1]], 2, Error("network")),
        case(&["bootstrap", &site, api[0], api[1]], 2, Error("network")),
        case(&["destroy", &site, api[0], api[1]], 2, Error("network")),
    ]
}

/// Runs `args` as a user would, `--error-format json` at the front or, for some, the end.
fn railyard_json(scratch: &Scratch, args: &[String], at_end: bool) -> Output {
    let mut command = railyard();
    command
        .current_dir(scratch.dir.path())
        .env("HOME", scratch.dir.path())
        .env("XDG_CONFIG_HOME", scratch.dir.path())
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .env_remove("SOPS_AGE_KEY")
        .env("EDITOR", "true")
        .env("RAILYARD_RETRY_BASE_MS", "1")
        .env("RAILYARD_POLL_MS", "1");
    let cloud = args.iter().any(|a| a == "--api-url");
    if cloud {
        command.env("HCLOUD_TOKEN", "test-token");
    } else {
        command.env_remove("HCLOUD_TOKEN");
    }
    if at_end {
        command.args(args).args(["--error-format=json"]);
    } else {
        command.args(["--error-format", "json"]).args(args);
    }
    run(&mut command)
}

#[test]
fn every_exit_path_of_every_command_prints_the_documented_json() {
    let scratch = Scratch::new();
    let fake = FakeHetzner::start_in_background(Faults::default());
    let validator = validator();
    let mut failures = Vec::new();
    for (i, case) in cases_for(&scratch, &fake.url()).iter().enumerate() {
        // Usage errors are JSON wherever the flag sits; clap has not parsed it yet.
        let at_end = matches!(case.want, Want::Error("usage")) && i % 2 == 0;
        let output = railyard_json(&scratch, &case.args, at_end);
        for problem in check(&validator, case, &output) {
            failures.push(format!("`{}`: {problem}", case.args.join(" ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_json_report_follows_the_schema() {
    let validator = validator();
    let mut failures = Vec::new();
    for case in cases(&root().join("golden/err")) {
        let path: PathBuf = case.join("expected.json");
        let text = std::fs::read_to_string(&path).expect("expected.json");
        let items: Value = serde_json::from_str(&text).expect("JSON");
        failures.extend(
            validator
                .iter_errors(&items)
                .map(|e| format!("{}: {e}", path.display())),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
