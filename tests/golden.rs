//! Golden cases: `golden/ok/<case>/` (inputs + the `expected/` files that differ from a base
//! case), `golden/err/<case>/` (inputs + `expected.json` and `expected.txt` diagnostics), and
//! `golden/examples/<name>/expected/` for each `examples/<name>/`; layout in `golden/README.md`.
//! `UPDATE_GOLDEN=1 cargo test --test integration golden` rewrites the expected files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use railyard::core::compile::compile;
use railyard::edge::load::{Loaded, load};
use railyard::edge::report;

use crate::support::golden_layout::{self, Tree};
use crate::support::{cases, root, snapshot, updating};

fn load_case(site: &Path) -> Loaded {
    let mut loaded = load(site).expect("case site file loads");
    // Names as the user would see them when running inside the case directory.
    loaded.site_dir = PathBuf::new();
    loaded
}

/// The tree `site` renders, or a failure showing the diagnostics it got instead.
fn render(site: &Path, failures: &mut Vec<String>) -> Option<Tree> {
    let loaded = load_case(site);
    let output = compile(&loaded.inputs);
    let Some(tree) = output.tree else {
        failures.push(format!(
            "{}: expected a tree, got diagnostics:\n{}",
            site.display(),
            report::human(&output.diagnostics, &loaded, false)
        ));
        return None;
    };
    Some(tree.all_files())
}

/// A tree stored whole in `expected_dir` (the examples).
fn check_tree(site: &Path, expected_dir: &Path, failures: &mut Vec<String>) {
    let Some(actual) = render(site, failures) else {
        return;
    };
    if updating() {
        let _ = std::fs::remove_dir_all(expected_dir);
        for (path, bytes) in &actual {
            let target = expected_dir.join(path);
            std::fs::create_dir_all(target.parent().expect("has parent")).expect("create");
            std::fs::write(target, bytes).expect("write");
        }
        return;
    }
    let expected = snapshot(expected_dir);
    if expected.is_empty() {
        failures.push(format!(
            "{}: no expected tree; run with UPDATE_GOLDEN=1 and review the new files",
            expected_dir.display()
        ));
        return;
    }
    compare_trees(
        &expected,
        &actual,
        &expected_dir.display().to_string(),
        failures,
    );
}

/// `UPDATE_GOLDEN=1` for the `ok` cases: each stores what differs from its base's render.
fn update_ok_cases(rendered: &BTreeMap<PathBuf, Tree>, failures: &mut Vec<String>) {
    for (case, actual) in rendered {
        let base = match golden_layout::base_of(case) {
            Ok(None) => None,
            Ok(Some(name)) => {
                let base_case = case.with_file_name(&name);
                let base_is_full = matches!(golden_layout::base_of(&base_case), Ok(None));
                match rendered.get(&base_case) {
                    Some(tree) if base_is_full => Some(tree),
                    _ => {
                        failures.push(format!(
                            "{}: base `{name}` is not a case that stores its whole tree",
                            case.display()
                        ));
                        continue;
                    }
                }
            }
            Err(error) => {
                failures.push(error);
                continue;
            }
        };
        golden_layout::write_expected(case, actual, base);
    }
}

fn compare_trees(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
    name: &str,
    failures: &mut Vec<String>,
) {
    for (path, bytes) in actual {
        match expected.get(path) {
            None => failures.push(format!("{name}: unexpected file `{path}`")),
            Some(want) if want != bytes => {
                let diff = similar::TextDiff::from_lines(
                    std::str::from_utf8(want).unwrap_or(""),
                    std::str::from_utf8(bytes).unwrap_or(""),
                );
                failures.push(format!(
                    "{name}: `{path}` differs:\n{}",
                    diff.unified_diff().header("expected", "actual")
                ));
            }
            Some(_) => {}
        }
    }
    for path in expected.keys().filter(|p| !actual.contains_key(*p)) {
        failures.push(format!("{name}: missing file `{path}`"));
    }
}

fn check_expected_text(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if updating() {
        std::fs::write(path, actual).expect("write");
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(want) if want == actual => {}
        Ok(want) => {
            let diff = similar::TextDiff::from_lines(want.as_str(), actual);
            failures.push(format!(
                "`{}` differs:\n{}",
                path.display(),
                diff.unified_diff().header("expected", "actual")
            ));
        }
        Err(_) => failures.push(format!(
            "`{}` is missing; run with UPDATE_GOLDEN=1 and review it",
            path.display()
        )),
    }
}

fn finish(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `golden/ok/<case>/`: each case's render against its base's expected tree plus its own
/// differences (see `golden/README.md`).
#[test]
fn ok_cases_render_their_expected_tree() {
    let cases = cases(&root().join("golden/ok"));
    assert!(!cases.is_empty(), "no golden ok cases");
    let mut failures = Vec::new();
    let rendered: BTreeMap<PathBuf, Tree> = cases
        .iter()
        .filter_map(|case| {
            Some((
                case.clone(),
                render(&case.join("site.yaml"), &mut failures)?,
            ))
        })
        .collect();
    if updating() {
        update_ok_cases(&rendered, &mut failures);
        finish(failures);
        return;
    }
    for (case, actual) in &rendered {
        match golden_layout::expected_tree(case) {
            Ok(expected) => compare_trees(
                &expected,
                actual,
                &case.join("expected").display().to_string(),
                &mut failures,
            ),
            Err(error) => failures.push(error),
        }
    }
    finish(failures);
}

#[test]
fn examples_render_their_expected_tree() {
    let examples: Vec<_> = cases(&root().join("examples"))
        .into_iter()
        .filter(|e| e.join("site.yaml").is_file())
        .collect();
    assert!(examples.len() >= 2, "examples are missing");
    let mut failures = Vec::new();
    for example in examples {
        let name = example
            .file_name()
            .expect("named")
            .to_string_lossy()
            .into_owned();
        check_tree(
            &example.join("site.yaml"),
            &root().join("golden/examples").join(name).join("expected"),
            &mut failures,
        );
    }
    finish(failures);
}

/// Invalid sites: their errors. The warnings every case shares (the example domains of the
/// inputs) are left out, so a case stores only what it is about; `golden/warn` has those.
#[test]
fn err_cases_report_their_expected_diagnostics() {
    let cases = cases(&root().join("golden/err"));
    assert!(
        cases.len() >= 25,
        "at least 25 invalid cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let loaded = load_case(&case.join("site.yaml"));
        let mut output = compile(&loaded.inputs);
        output
            .diagnostics
            .retain(|d| d.severity == railyard::core::diagnostic::Severity::Error);
        if output.tree.is_some() || output.diagnostics.is_empty() {
            failures.push(format!(
                "{}: expected diagnostics, the site compiled",
                case.display()
            ));
            continue;
        }
        check_reports(&case, &loaded, &output.diagnostics, &mut failures);
    }
    finish(failures);
}

/// Sites that render with warnings: every diagnostic, all warnings.
#[test]
fn warn_cases_render_with_their_expected_warnings() {
    let cases = cases(&root().join("golden/warn"));
    assert!(
        cases.len() >= 4,
        "at least 4 warning cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let loaded = load_case(&case.join("site.yaml"));
        let output = compile(&loaded.inputs);
        if output.tree.is_none() {
            failures.push(format!("{}: expected a render", case.display()));
        }
        if output
            .diagnostics
            .iter()
            .any(|d| d.severity != railyard::core::diagnostic::Severity::Warning)
        {
            failures.push(format!("{}: expected warnings only", case.display()));
        }
        check_reports(&case, &loaded, &output.diagnostics, &mut failures);
    }
    finish(failures);
}

fn check_reports(
    case: &Path,
    loaded: &Loaded,
    diagnostics: &[railyard::core::diagnostic::Diagnostic],
    failures: &mut Vec<String>,
) {
    check_expected_text(
        &case.join("expected.json"),
        &report::json(diagnostics, loaded),
        failures,
    );
    check_expected_text(
        &case.join("expected.txt"),
        &report::human(diagnostics, loaded, false),
        failures,
    );
}

/// One Gitpod config value changed: only the installer's config and Job change (the Job under
/// a new name, so a new Job runs), nothing else in the tree.
#[test]
fn one_gitpod_config_change_touches_only_the_installer() {
    let loaded = load_case(&root().join("golden/ok/gitpod-config-overrides/site.yaml"));
    let before = compile(&loaded.inputs).tree.expect("the case renders");
    let mut inputs = loaded.inputs.clone();
    assert!(inputs.site.text.contains("maxLifetime: 12h"));
    inputs.site.text = inputs
        .site
        .text
        .replace("maxLifetime: 12h", "maxLifetime: 24h");
    let after = compile(&inputs).tree.expect("the changed case renders");
    let changed: Vec<&str> = before
        .files
        .keys()
        .chain(after.files.keys())
        .filter(|p| before.files.get(*p) != after.files.get(*p))
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        changed,
        [
            "clusters/golden/gitpod/installer-config.yaml",
            "clusters/golden/gitpod/installer-job.yaml"
        ]
    );
    let job_name = |tree: &railyard::core::tree::Tree| {
        let text =
            String::from_utf8(tree.files["clusters/golden/gitpod/installer-job.yaml"].clone())
                .expect("text");
        text.lines()
            .find(|l| l.trim_start().starts_with("name: gitpod-installer-"))
            .expect("a job name")
            .trim()
            .to_owned()
    };
    assert_ne!(job_name(&before), job_name(&after), "the Job kept its name");
}

/// A diff case's two snapshots: the renders of the sites in `before-site/` and `after-site/`
/// when it has them (so a change in what railyard renders shows in the case), else the stored
/// trees `before/` and `after/`.
fn diff_sides(case: &Path, failures: &mut Vec<String>) -> Option<(Tree, Tree)> {
    let (before_site, after_site) = (
        case.join("before-site/site.yaml"),
        case.join("after-site/site.yaml"),
    );
    if !before_site.exists() {
        return Some((
            snapshot(&case.join("before")),
            snapshot(&case.join("after")),
        ));
    }
    Some((
        render(&before_site, failures)?,
        render(&after_site, failures)?,
    ))
}

/// `golden/diff/<case>/`: `before/` and `after/` trees (or sites), the expected text and JSON reports; the
/// JSON is also checked against `schema/diff.schema.json`.
#[test]
fn diff_cases_report_their_expected_changes() {
    let cases = cases(&root().join("golden/diff"));
    assert!(
        cases.len() >= 15,
        "at least 15 diff cases, found {}",
        cases.len()
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/diff.schema.json")).expect("diff schema"),
    )
    .expect("JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
    let mut failures = Vec::new();
    for case in cases {
        let Some((before, after)) = diff_sides(&case, &mut failures) else {
            continue;
        };
        let diff = railyard::core::diff::compare("golden", &before, &after);
        let json = railyard::core::diff::format::json(std::slice::from_ref(&diff));
        for error in validator.iter_errors(&json) {
            failures.push(format!(
                "{}: JSON does not match the schema at `{}`: {error}",
                case.display(),
                error.instance_path()
            ));
        }
        let mut json_text = serde_json::to_string_pretty(&json).expect("serialises");
        json_text.push('\n');
        let text = railyard::core::diff::format::text(&[diff], false);
        for (format, output) in [("json", &json_text), ("text", &text)] {
            if output.contains("ENC[") {
                failures.push(format!(
                    "{}: the {format} report shows ciphertext",
                    case.display()
                ));
            }
        }
        check_expected_text(&case.join("expected.json"), &json_text, &mut failures);
        check_expected_text(&case.join("expected.txt"), &text, &mut failures);
    }
    finish(failures);
}

/// An overlay that annotates the installer Job's pod template (immutable in a Job) renames the
/// Job, so Flux runs a new one instead of failing to patch the old one on every reconcile.
#[test]
fn an_overlay_on_the_installer_pod_template_renames_the_job() {
    let job = |case: &str| {
        let loaded = load_case(&root().join(format!("golden/ok/{case}/site.yaml")));
        let tree = compile(&loaded.inputs).tree.expect("the case renders");
        String::from_utf8(tree.files["clusters/golden/gitpod/installer-job.yaml"].clone())
            .expect("text")
    };
    let name = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("name: gitpod-installer-"))
            .expect("a job name")
            .trim()
            .to_owned()
    };
    let plain = job("minimal");
    let annotated = job("user-overlay-annotates-installer");
    let template = annotated
        .split("  template:\n")
        .nth(1)
        .expect("a pod template");
    assert!(
        template.contains("example.com/owner: platform-team"),
        "the overlay did not reach the pod template:\n{annotated}"
    );
    assert_ne!(name(&plain), name(&annotated), "the Job kept its name");
}

/// The https cases: the GitRepository's `secretRef` names the rendered credentials Secret, in
/// its namespace, with the keys Flux reads for that kind of auth; a public repository has
/// neither.
#[test]
fn https_credentials_and_the_git_repository_agree() {
    let objects = |text: &[u8]| {
        let file = railyard::core::source::SourceFile::new(
            "x.yaml",
            String::from_utf8(text.to_vec()).expect("text"),
        );
        let (documents, _) = railyard::core::yaml::parse_stream(&file);
        documents
            .iter()
            .map(|d| railyard::core::json_tree::JsonTree::new("x.yaml", d).value)
            .collect::<Vec<_>>()
    };
    for (case, keys, provider) in [
        ("git-https-basic", vec!["password", "username"], None),
        (
            "git-https-github-app",
            vec![
                "githubAppID",
                "githubAppInstallationID",
                "githubAppPrivateKey",
            ],
            Some("github"),
        ),
        ("git-https-public", vec![], None),
    ] {
        let loaded = load_case(&root().join(format!("golden/ok/{case}/site.yaml")));
        let tree = compile(&loaded.inputs).tree.expect("the case renders");
        let sync = objects(&tree.files["clusters/golden/flux-system/gotk-sync.yaml"]);
        let repository = sync
            .iter()
            .find(|o| o["kind"] == "GitRepository")
            .expect("a GitRepository");
        assert_eq!(repository["spec"]["provider"].as_str(), provider, "{case}");
        let credentials = tree
            .files
            .get("clusters/golden/infrastructure/git-credentials.yaml")
            .map(|bytes| objects(bytes).remove(0));
        let Some(secret) = credentials else {
            assert!(keys.is_empty(), "{case}: no credentials rendered");
            assert!(repository["spec"].get("secretRef").is_none(), "{case}");
            continue;
        };
        assert_eq!(
            repository["spec"]["secretRef"]["name"], secret["metadata"]["name"],
            "{case}"
        );
        assert_eq!(
            repository["metadata"]["namespace"], secret["metadata"]["namespace"],
            "{case}"
        );
        let mut found: Vec<String> = ["data", "stringData"]
            .iter()
            .filter_map(|section| secret[*section].as_object())
            .flat_map(|map| map.keys().cloned())
            .collect();
        found.sort();
        assert_eq!(found, keys, "{case}");
        let infrastructure = String::from_utf8(
            tree.files["clusters/golden/infrastructure/kustomization.yaml"].clone(),
        )
        .expect("text");
        assert!(
            infrastructure.contains("- git-credentials.yaml"),
            "{case}: the layer does not list the credentials"
        );
    }
}
