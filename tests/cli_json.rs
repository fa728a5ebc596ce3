//! `--error-format json` on every exit path of every command: the exit status is the
//! documented one, and stdout is exactly one array of `schema/errors.schema.json` (or, on
//! success and for the commands whose stdout is their product, that product), also for the
//! cloud commands mid-run against the fake cloud and cluster.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::bootstrap::{TestCluster, railyard_against};
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
    /// An array of report lines (and findings, warnings), at least one report, no error.
    Report,
    /// The command's product (a schema, a diff, user-data, ciphertext): not the array.
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
        Want::Report
            if !entries.iter().any(|e| e["kind"] == "report")
                || entries.iter().any(|e| e["kind"] == "error") =>
        {
            problems.push(format!("want report lines and no error: {items}"));
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
        // A `v1alpha1` site whose one secrets file holds the k3s tokens: `secrets split` work.
        crate::support::copy_inputs(&root().join("golden/ok/minimal"), &dir.path().join("old"));
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
    use Want::{Error, Findings, Own, Report};
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
            Report,
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
            Report,
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
        case(&["init", &s.path("new"), "--name", "new"], 0, Report),
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
        // The commands not above, and the in-place secrets commands.
        case(&["migrate", &site], 0, Findings),
        case(&["migrate", &missing], 2, Error("io")),
        case(&["completions", "bash"], 0, Own),
        case(&["completions", "nosh"], 2, Error("usage")),
        case(&["man"], 0, Own),
        case(&["man", "--out", &s.path("man")], 0, Report),
        case(&["man", "--out", "/proc/nope"], 2, Error("io")),
        case(
            &["secrets", "edit", &s.path("site/secrets.sops.yaml")],
            0,
            Report,
        ),
        case(
            &[
                "secrets",
                "encrypt",
                &s.path("plain.yaml"),
                "--age",
                RECIPIENT,
                "--in-place",
            ],
            0,
            Findings,
        ),
        case(
            &["secrets", "decrypt", &s.path("plain.yaml"), "--in-place"],
            0,
            Findings,
        ),
        case(
            &[
                "secrets",
                "rotate",
                &s.path("site/secrets.sops.yaml"),
                "--add",
                RECIPIENT,
            ],
            0,
            Report,
        ),
        case(&["secrets", "split", &site], 2, Error("other")),
        case(
            &["migrate", "--check", &s.path("old/site.yaml")],
            1,
            Findings,
        ),
        case(&["secrets", "split", &s.path("old/site.yaml")], 0, Report),
        case(
            &["migrate", "--check", &s.path("old/site.yaml")],
            0,
            Findings,
        ),
        case(&["--help"], 0, Own),
        case(&["--version"], 0, Own),
        case(&[], 2, Error("usage")),
        case(&["secrets"], 2, Error("usage")),
        case(&["--token", "x", "init"], 2, Error("usage")),
        // The cloud commands with a token, against the fake cloud, then an address nothing
        // listens on.
        case(&["plan", &site, "--api-url", fake], 1, Report),
        case(&["destroy", &site, "--api-url", fake], 0, Report),
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

/// The entries of a stdout that must be one array following the schema.
fn entries(validator: &jsonschema::Validator, output: &Output) -> Vec<Value> {
    let items: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON value ({e}): {:?}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    });
    let problems: Vec<String> = validator
        .iter_errors(&items)
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:?}: {items}");
    items.as_array().cloned().unwrap_or_default()
}

/// The report lines among `entries`, one text.
fn reported(entries: &[Value]) -> String {
    entries
        .iter()
        .filter(|e| e["kind"] == "report")
        .filter_map(|e| e["message"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A site's whole life against the fake cloud and cluster, `--error-format json` on every
/// command: a plan with work, a bootstrap stopped mid-run by a failed action (progress printed
/// before it, the error after), the bootstrap that finishes it, a plan with none, `status`,
/// `destroy` without and with `--yes`. Each time stdout is one array, the report lines in it,
/// the progress on stderr only.
#[test]
fn the_cloud_commands_print_one_array_from_start_to_end_of_a_site() {
    let example = "examples/hetzner-small/site.yaml";
    let cluster = TestCluster::quick(example);
    // The first power-on ends in `error`: bootstrap stops after it created resources.
    let fake = FakeHetzner::start_in_background(Faults {
        fail_actions: Some(("start_server", "", 1)),
        action_polls: 1,
        ..Faults::default()
    });
    let validator = validator();
    let json = |args: &[&str]| {
        let mut command = railyard_against(&fake, &cluster, args);
        command.arg("--error-format=json");
        run(&mut command)
    };

    let plan = json(&["plan", example]);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(reported(&entries(&validator, &plan)).contains("+ create"));

    let stopped = json(&["bootstrap", example]);
    assert_eq!(stopped.status.code(), Some(2), "{}", stderr(&stopped));
    let items = entries(&validator, &stopped);
    assert!(reported(&items).contains("+ create"), "{items:?}");
    let last = items.last().expect("entries");
    assert_eq!(last["kind"], "error", "{items:?}");
    assert!(
        last["message"]
            .as_str()
            .is_some_and(|m| m.contains("action_failed")),
        "{last}"
    );
    // Progress went to stderr for people, and only there.
    assert!(
        stderr(&stopped).contains("created "),
        "{}",
        stderr(&stopped)
    );
    assert!(
        !stdout(&stopped).contains("created "),
        "{}",
        stdout(&stopped)
    );

    let finished = json(&["bootstrap", example]);
    assert_eq!(finished.status.code(), Some(0), "{}", stderr(&finished));
    let report = reported(&entries(&validator, &finished));
    for line in [
        "k3s is up; kubeconfig for context `demo-small`",
        "Flux Ready: 5 Kustomizations",
        "create these DNS records at your DNS provider:",
    ] {
        assert!(report.contains(line), "`{line}` not reported:\n{report}");
    }
    assert!(stderr(&finished).contains("waiting for k3s"));
    assert!(!stdout(&finished).contains("waiting for k3s"));

    let plan = json(&["plan", example]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    entries(&validator, &plan);

    let status = json(&["status", example]);
    assert!(
        matches!(status.status.code(), Some(0 | 1)),
        "{}",
        stderr(&status)
    );
    assert!(!reported(&entries(&validator, &status)).is_empty());

    let listed = json(&["destroy", example]);
    assert_eq!(listed.status.code(), Some(1), "{}", stderr(&listed));
    assert!(reported(&entries(&validator, &listed)).contains("not deleted"));

    let deleted = json(&["destroy", example, "--yes"]);
    assert_eq!(deleted.status.code(), Some(0), "{}", stderr(&deleted));
    assert!(reported(&entries(&validator, &deleted)).contains("deleted 2 server(s)"));
    fake.stop();
}
