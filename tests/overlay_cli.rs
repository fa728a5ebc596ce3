//! `railyard overlay build` from the command line: the default root (the git work tree holding
//! DIR, else DIR's filesystem root) from any working directory, kustomize's rule that a
//! kustomization's files sit in or below its directory, and unmatched patch targets, skipped
//! by `overlay build` as kustomize skips them but a warning in a site's own overlays.

use std::path::Path;

use crate::support::{self, railyard, run, stderr, stdout};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create");
    std::fs::write(path, text).expect("write");
}

const CASE: &str = "tests/kustomize/cases/sort-options-in-base-ignored";

fn expected() -> String {
    std::fs::read_to_string(support::root().join(CASE).join("expected.yaml")).expect("expected")
}

/// An absolute DIR outside the working directory builds without `--root`.
#[test]
fn an_absolute_dir_builds_from_another_working_directory() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let dir = support::root().join(CASE).join("overlay");
    let output = run(railyard()
        .args(["overlay", "build"])
        .arg(&dir)
        .current_dir(elsewhere.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), expected());
}

/// A relative DIR is read from the working directory, and its bases above it are reachable.
#[test]
fn a_relative_dir_reaches_bases_above_it() {
    let cwd = support::root().join("tests/kustomize/cases");
    let output = run(railyard()
        .args(["overlay", "build", "sort-options-in-base-ignored/overlay"])
        .current_dir(&cwd));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), expected());
}

fn repository() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(repo.path().join(".git")).expect("git dir");
    write(
        &repo.path().join("base/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    );
    write(
        &repo.path().join("base/kustomization.yaml"),
        "resources:\n- cm.yaml\n",
    );
    repo
}

/// In a git work tree, a base two levels up is reachable from a working directory outside it;
/// the error for a file outside its kustomization's directory names the file as seen from
/// the working directory.
#[test]
fn a_work_tree_is_the_root_and_files_stay_in_their_directory() {
    let repo = repository();
    write(
        &repo.path().join("apps/prod/kustomization.yaml"),
        "resources:\n- ../../base\nnamePrefix: prod-\n",
    );
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let output = run(railyard()
        .args(["overlay", "build"])
        .arg(repo.path().join("apps/prod"))
        .current_dir(elsewhere.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("name: prod-settings"),
        "{}",
        stdout(&output)
    );

    write(
        &repo.path().join("apps/prod/kustomization.yaml"),
        "resources:\n- ../../base/cm.yaml\n",
    );
    let output = run(railyard()
        .args(["overlay", "build", "apps/prod"])
        .current_dir(repo.path()));
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = stderr(&output);
    assert!(
        report.contains("is not in or below the kustomization's directory")
            && report.contains("apps/prod/kustomization.yaml:2"),
        "{report}"
    );
}

/// A file linked from outside its kustomization's directory is refused as kustomize refuses
/// it, even when the link stays inside the root.
#[cfg(unix)]
#[test]
fn a_link_out_of_the_kustomization_directory_is_refused() {
    let repo = repository();
    write(
        &repo.path().join("apps/prod/kustomization.yaml"),
        "resources:\n- cm.yaml\n",
    );
    std::os::unix::fs::symlink(
        repo.path().join("base/cm.yaml"),
        repo.path().join("apps/prod/cm.yaml"),
    )
    .expect("link");
    let output = run(railyard()
        .args(["overlay", "build", "apps/prod"])
        .current_dir(repo.path()));
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("is not in or below the kustomization's directory"),
        "{}",
        stderr(&output)
    );
}

/// A site overlay's patch that matches nothing renders with a warning at the patch, and
/// `--strict` fails on it.
#[test]
fn an_unmatched_target_in_a_site_overlay_warns_and_fails_strict() {
    let site = support::root().join("golden/warn/user-overlay-unmatched-target/site.yaml");
    let out = tempfile::tempdir().expect("tempdir");
    let warned = run(railyard()
        .arg("render")
        .arg(&site)
        .arg("--out")
        .arg(out.path().join("a")));
    assert_eq!(warned.status.code(), Some(0), "{}", stderr(&warned));
    let report = stderr(&warned);
    assert!(
        report.contains("warning: the patch's target `Job gitpod-instaler-.*` matches no resource")
            && report.contains("overlays/tuning/kustomization.yaml:4:5"),
        "{report}"
    );
    let strict = run(railyard()
        .args(["render", "--strict"])
        .arg(&site)
        .arg("--out")
        .arg(out.path().join("b")));
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert!(!out.path().join("b").exists());
}
