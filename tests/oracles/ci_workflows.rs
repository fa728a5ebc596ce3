//! The CI files railyard ships, judged by the tools that run them: `actionlint` on the GitHub
//! Actions workflows (`.github/workflows/release.yaml`, `examples/ci/github-actions.yaml`), the
//! real `pre-commit` on `examples/ci/pre-commit-config.yaml`, and the release workflow's
//! packaging and checksum steps run for real, feeding the fleet workflow's install step.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::{crate_root, oracle};
use crate::support::{copy_inputs, railyard, run, stderr, stdout};

const RELEASE_WORKFLOW: &str = ".github/workflows/release.yaml";
const FLEET_WORKFLOW: &str = "examples/ci/github-actions.yaml";
const FLEET_HOOKS: &str = "examples/ci/pre-commit-config.yaml";

/// The target whose asset this machine can run: the workflows name assets by `uname -m`.
const TARGET: &str = "x86_64-unknown-linux-musl";

#[test]
fn workflows_pass_actionlint() {
    let Some(actionlint) = oracle("actionlint") else {
        return;
    };
    let out = Command::new(actionlint)
        .current_dir(crate_root())
        .args(["-no-color", RELEASE_WORKFLOW, FLEET_WORKFLOW])
        .output()
        .expect("actionlint runs");
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The hooks run under the real pre-commit: a clean fleet repository passes, and a rendered file
/// edited by hand fails the commit with railyard's message.
#[test]
fn pre_commit_hooks_run_on_a_fleet_repository() {
    let Some(pre_commit) = oracle("pre-commit") else {
        return;
    };
    let fleet = tempfile::tempdir().expect("tempdir");
    let repo = fleet.path().join("repo");
    let site_dir = repo.join("sites/alpha");
    copy_inputs(&crate_root().join("examples/hetzner-small"), &site_dir);
    let site = site_dir.join("site.yaml");
    let text = fs::read_to_string(&site).expect("site");
    fs::write(
        &site,
        text.replace("branch: main\n", "branch: main\n    path: rendered\n"),
    )
    .expect("write site");
    fs::copy(
        crate_root().join(FLEET_HOOKS),
        repo.join(".pre-commit-config.yaml"),
    )
    .expect("copy hooks");
    let rendered = run(railyard()
        .current_dir(&repo)
        .args(["render", "--all", "sites", "--out", "rendered"]));
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);

    let hooks = |repo: &Path| {
        Command::new(&pre_commit)
            .current_dir(repo)
            .env("PATH", path_with_railyard())
            .env("PRE_COMMIT_HOME", fleet.path().join("pre-commit-home"))
            .args(["run", "--all-files", "--color", "never"])
            .output()
            .expect("pre-commit runs")
    };
    let clean = hooks(&repo);
    assert_eq!(clean.status.code(), Some(0), "{}", both(&clean));
    assert!(
        both(&clean).contains("railyard render --check"),
        "{}",
        both(&clean)
    );

    let edited = repo.join("rendered/clusters/demo-small/gitpod/installer-config.yaml");
    let mut text = fs::read_to_string(&edited).expect("rendered file");
    text.push_str("# edited by hand\n");
    fs::write(&edited, text).expect("edit");
    git(&repo, &["add", "-A"]);
    let stale = hooks(&repo);
    assert_eq!(stale.status.code(), Some(1), "{}", both(&stale));
    assert!(
        both(&stale).contains("installer-config.yaml"),
        "the hook output does not name the edited file:\n{}",
        both(&stale)
    );
}

/// The release workflow's `Package` and `Checksums` steps, run on this build's binary, produce
/// assets the fleet workflow's `Install railyard` step downloads, verifies and puts on `PATH`;
/// a tampered asset is refused.
#[test]
fn a_release_asset_installs_in_the_fleet_workflow() {
    let work = tempfile::tempdir().expect("tempdir");
    let tag = "v0.0.0-test";
    let checkout = work.path().join("checkout");
    let binary_dir = checkout.join(format!("target/{TARGET}/release"));
    fs::create_dir_all(&binary_dir).expect("mkdir");
    fs::copy(env!("CARGO_BIN_EXE_railyard"), binary_dir.join("railyard")).expect("binary");
    fs::copy(crate_root().join("README.md"), checkout.join("README.md")).expect("readme");

    let release = workflow(RELEASE_WORKFLOW);
    let outputs = work.path().join("github-output");
    let package = step_script(&release, "build", "Package").replace("${{ matrix.target }}", TARGET);
    let packaged = bash(
        &checkout,
        &package,
        &[
            ("GITHUB_REF_NAME", tag),
            ("GITHUB_OUTPUT", &display(&outputs)),
        ],
    );
    assert!(packaged.status.success(), "{}", both(&packaged));
    let asset = format!("railyard-{tag}-{TARGET}.tar.gz");
    let published = work.path().join("releases").join(tag);
    fs::create_dir_all(&published).expect("mkdir");
    fs::rename(checkout.join("dist").join(&asset), published.join(&asset)).expect("move asset");
    let checksums = bash(
        &published,
        &step_script(&release, "publish", "Checksums"),
        &[],
    );
    assert!(checksums.status.success(), "{}", both(&checksums));

    let install = step_script(&workflow(FLEET_WORKFLOW), "check", "Install railyard");
    let releases = format!("file://{}", display(&work.path().join("releases")));
    let installed = install_with(&install, work.path(), &releases, tag);
    assert!(installed.status.success(), "{}", both(&installed));
    let version = Command::new(work.path().join("runner-temp/railyard/railyard"))
        .arg("--version")
        .output()
        .expect("installed railyard runs");
    assert!(version.status.success() && stdout(&version).starts_with("railyard "));

    // A tampered asset fails the checksum, and nothing is installed.
    fs::write(published.join(&asset), b"not the release").expect("tamper");
    fs::remove_dir_all(work.path().join("runner-temp")).expect("clean");
    let refused = install_with(&install, work.path(), &releases, tag);
    assert!(!refused.status.success(), "{}", both(&refused));
    assert!(!work.path().join("runner-temp/railyard/railyard").exists());
}

fn install_with(script: &str, work: &Path, releases: &str, tag: &str) -> Output {
    let runner = work.join("runner");
    let runner_temp = work.join("runner-temp");
    fs::create_dir_all(&runner).expect("mkdir");
    fs::create_dir_all(&runner_temp).expect("mkdir");
    bash(
        &runner,
        script,
        &[
            ("RAILYARD_RELEASES", releases),
            ("RAILYARD_VERSION", tag),
            ("RUNNER_TEMP", &display(&runner_temp)),
            ("GITHUB_PATH", &display(&work.join("github-path"))),
        ],
    )
}

/// A workflow as JSON, read with railyard's own YAML reader: it keeps `on` a string, as GitHub's
/// YAML 1.2 reader does (PyYAML would make it `true`).
fn workflow(relative: &str) -> Value {
    let text = fs::read_to_string(crate_root().join(relative)).expect("workflow");
    let file = railyard::core::source::SourceFile::new(relative, &text);
    let (documents, diagnostics) = railyard::core::yaml::parse_stream(&file);
    assert!(diagnostics.is_empty(), "{relative}: {diagnostics:?}");
    railyard::core::json_tree::JsonTree::new(relative, &documents[0]).value
}

/// The `run:` script of the step named `name` in job `job`.
fn step_script(workflow: &Value, job: &str, name: &str) -> String {
    workflow["jobs"][job]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|step| step["name"] == name)
        .and_then(|step| step["run"].as_str())
        .unwrap_or_else(|| panic!("job `{job}` has no step `{name}` with a script"))
        .to_owned()
}

/// Runs a step's script as GitHub's `bash` shell does (`bash -e -o pipefail`).
fn bash(dir: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    Command::new("bash")
        .current_dir(dir)
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .envs(env.iter().copied())
        .output()
        .expect("bash runs")
}

fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", both(&out));
}

fn path_with_railyard() -> String {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_railyard"));
    let dir = binary.parent().expect("binary dir").to_owned();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![dir];
    dirs.extend(std::env::split_paths(&rest));
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn both(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}
