//! `railyard migrate` and the site format's versions: every v1alpha1 input migrates to a
//! v1alpha2 file that renders the same files; the rewrite keeps every other byte (golden);
//! `--check`, no-op and refusal behave as documented; an older file validates with a warning.

use std::path::{Path, PathBuf};

use railyard::core::compile::compile;
use railyard::core::diagnostic::{Severity, has_errors};
use railyard::core::migrate::{Migration, migrate};
use railyard::core::site_version::FormatVersion;
use railyard::edge::load::load;

use crate::support::{cases, copy_inputs, railyard, root, run, stderr, stdout, updating};

/// Every site input of the goldens and examples: `golden/ok/*/site.yaml`, `examples/*/site.yaml`.
fn golden_inputs() -> Vec<PathBuf> {
    let mut sites: Vec<PathBuf> = cases(&root().join("golden/ok"))
        .into_iter()
        .chain(cases(&root().join("examples")))
        .map(|dir| dir.join("site.yaml"))
        .filter(|site| site.exists())
        .collect();
    sites.sort();
    sites
}

/// `from`'s files and directories, but `expected/`, copied into `to`.
fn copy_site(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        if path.is_dir() && entry.file_name() != "expected" {
            copy_site(&path, &target);
        } else if path.is_file() {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn every_v1alpha1_input_migrates_to_a_file_that_renders_the_same_files() {
    let sites = golden_inputs();
    assert!(sites.len() >= 30, "found only {} site inputs", sites.len());
    let mut checked = 0;
    for site in sites {
        let loaded = load(&site).expect("loads");
        // A current site keeps its tokens in the machines' file: it has no one-file v1alpha1
        // form to compare with.
        if railyard::core::compile::splits_secrets(&loaded.inputs.site) {
            continue;
        }
        let old = compile(&loaded.inputs);
        // The inputs' example domains have their own warnings; the format's is at `apiVersion`.
        let warnings: Vec<_> = old
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning && d.message.contains("older site format"))
            .collect();
        assert!(
            !has_errors(&old.diagnostics)
                && warnings.len() == 1
                && warnings[0].path == "apiVersion",
            "{}: a v1alpha1 file validates with one warning at `apiVersion`: {:?}",
            site.display(),
            old.diagnostics
        );
        let Ok(Migration::Migrated { from, .. }) = migrate(&loaded.inputs.site) else {
            panic!("{}: no migration from v1alpha1", site.display());
        };
        assert_eq!(from, FormatVersion::V1alpha1);
        // Through the binary, in a private copy: the tokens move, then the file migrates.
        let dir = tempfile::tempdir().expect("tempdir");
        copy_site(site.parent().expect("a directory"), dir.path());
        let copy = dir.path().join("site.yaml");
        let output = migrate_or_split(&copy);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let migrated = load(&copy).expect("loads");
        assert_eq!(
            migrated.inputs.site.text.len(),
            loaded.inputs.site.text.len(),
            "{}: only the version changes",
            site.display()
        );
        let new = compile(&migrated.inputs);
        assert!(
            new.diagnostics.len() + 1 == old.diagnostics.len()
                && new
                    .diagnostics
                    .iter()
                    .all(|d| !d.message.contains("older site format")),
            "{}: {:?}",
            site.display(),
            new.diagnostics
        );
        let (old, new) = (old.tree.expect("old tree"), new.tree.expect("new tree"));
        // The cluster's secrets file lost the tokens, so its copy differs by design; the lock
        // records inputs' sha256s. Every other rendered file must not differ.
        let copy_path = railyard::core::layout::secrets_copy(&old.site);
        let without = |files: &std::collections::BTreeMap<String, Vec<u8>>| {
            let mut files = files.clone();
            let copied = files.remove(&copy_path).expect("the secrets copy");
            (files, String::from_utf8(copied).expect("UTF-8"))
        };
        let ((old_files, _), (new_files, new_copy)) = (without(&old.files), without(&new.files));
        assert!(
            old_files == new_files,
            "{}: the migrated file renders different files",
            site.display()
        );
        assert!(!new_copy.contains("k3s_token"), "{}", site.display());
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} v1alpha1 inputs");
}

#[test]
fn a_site_with_the_tokens_in_its_one_file_is_pointed_to_secrets_split() {
    let dir = scratch(&root().join("golden/migrate/comments-kept"));
    let site = dir.path().join("site.yaml");
    let before = std::fs::read(&site).expect("site");
    for args in [&["migrate"][..], &["migrate", "--check"]] {
        let output = run(railyard().args(args).arg(&site));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(
            stdout(&output)
                .contains("`k3s_token` and `k3s_agent_token` in the machines' secrets file")
                && stdout(&output).contains("run `railyard secrets split"),
            "{}",
            stdout(&output)
        );
        assert_eq!(std::fs::read(&site).expect("site"), before);
    }
    assert!(!dir.path().join("machine-secrets.sops.yaml").exists());
}

/// A `v1alpha1` site whose k3s tokens are already in the machines' file (moved by hand), so
/// `migrate` itself rewrites it; the command's mechanics are tested on it.
const SPLIT_CASE: &str = "golden/migrate/secrets-already-split";

/// Runs `migrate` on `site`; a site whose one secrets file holds the k3s tokens is refused
/// with the pointer to `secrets split`, which then moves them and migrates the file.
fn migrate_or_split(site: &Path) -> std::process::Output {
    let output = run(railyard().arg("migrate").arg(site));
    if !stdout(&output).contains("run `railyard secrets split") {
        return output;
    }
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    run(railyard()
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .args(["secrets", "split"])
        .arg(site))
}

/// A migrate case's directory copied to a private place, for the binary to rewrite.
fn scratch(case: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_inputs(case, dir.path());
    dir
}

/// `golden/migrate/<case>/`: `site.yaml` (and its inputs) migrated by the binary must become
/// `expected.yaml` byte for byte.
#[test]
fn migrate_keeps_comments_order_and_layout() {
    let cases = cases(&root().join("golden/migrate"));
    assert!(!cases.is_empty(), "no golden migrate cases");
    for case in cases {
        let dir = scratch(&case);
        let site = dir.path().join("site.yaml");
        let output = migrate_or_split(&site);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("migrated `railyard.dev/v1alpha1` → `railyard.dev/v1alpha2`"),
            "{}",
            stdout(&output)
        );
        let migrated = std::fs::read_to_string(&site).expect("migrated file");
        let expected = case.join("expected.yaml");
        if updating() {
            std::fs::write(&expected, &migrated).expect("write expected");
            continue;
        }
        let want =
            std::fs::read_to_string(&expected).expect("expected.yaml; run with UPDATE_GOLDEN=1");
        assert_eq!(migrated, want, "{}", case.display());
        let original = std::fs::read_to_string(case.join("site.yaml")).expect("input");
        let changed: Vec<(&str, &str)> = original
            .lines()
            .zip(migrated.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 1, "exactly one line changes: {changed:?}");
        assert_eq!(original.lines().count(), migrated.lines().count());
    }
}

#[test]
fn check_reports_a_pending_migration_and_writes_nothing() {
    let dir = scratch(&root().join(SPLIT_CASE));
    let site = dir.path().join("site.yaml");
    let before = std::fs::read(&site).expect("site");
    let output = run(railyard().arg("migrate").arg("--check").arg(&site));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("migration pending"),
        "{}",
        stdout(&output)
    );
    assert_eq!(std::fs::read(&site).expect("site"), before);
    // Once migrated, `--check` passes and a second run changes nothing.
    assert_eq!(
        run(railyard().arg("migrate").arg(&site)).status.code(),
        Some(0)
    );
    let migrated = std::fs::read(&site).expect("site");
    let again = run(railyard().arg("migrate").arg(&site));
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("nothing to do"),
        "{}",
        stdout(&again)
    );
    assert_eq!(std::fs::read(&site).expect("site"), migrated);
    let check = run(railyard().arg("migrate").arg("--check").arg(&site));
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn a_file_that_does_not_validate_is_refused_and_left_alone() {
    let dir = scratch(&root().join(SPLIT_CASE));
    let site = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&site)
        .expect("site")
        .replace("size: small", "size: tiny");
    std::fs::write(&site, &text).expect("write");
    let output = run(railyard().arg("migrate").arg(&site));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("invalid value `tiny`"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("not migrated"),
        "{}",
        stdout(&output)
    );
    assert_eq!(std::fs::read_to_string(&site).expect("site"), text);
}

#[test]
fn a_key_of_v1alpha2_needs_the_migration_and_then_validates() {
    let dir = scratch(&root().join(SPLIT_CASE));
    let site = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&site)
        .expect("site")
        .replace("  size: small\n", "  size: small\n  maintenance: {}\n");
    std::fs::write(&site, &text).expect("write");
    let before = run(railyard().arg("validate").arg(&site));
    assert_eq!(before.status.code(), Some(1));
    assert!(
        stderr(&before).contains("`spec.maintenance` is not part of `railyard.dev/v1alpha1`"),
        "{}",
        stderr(&before)
    );
    assert_eq!(
        run(railyard().arg("migrate").arg(&site)).status.code(),
        Some(0)
    );
    let after = run(railyard().arg("validate").arg(&site));
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert!(
        !stderr(&after).contains("older site format"),
        "{}",
        stderr(&after)
    );
}

#[test]
fn an_older_file_validates_and_renders_with_a_warning() {
    let dir = scratch(&root().join("golden/migrate/comments-kept"));
    let site = dir.path().join("site.yaml");
    let validate = run(railyard().arg("validate").arg(&site));
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    let warning = stderr(&validate);
    assert!(
        warning.contains("warning: `railyard.dev/v1alpha1` is an older site format"),
        "{warning}"
    );
    assert!(warning.contains("railyard migrate"), "{warning}");
    let out = dir.path().join("out");
    let render = run(railyard().arg("render").arg(&site).arg("--out").arg(&out));
    assert_eq!(render.status.code(), Some(0), "{}", stderr(&render));
    assert!(stderr(&render).contains("warning:"), "{}", stderr(&render));
    // JSON reports carry the warning as an entry of the array, with its severity.
    let json = run(railyard()
        .args(["--error-format", "json", "validate"])
        .arg(&site));
    assert_eq!(json.status.code(), Some(0));
    assert!(stdout(&json).contains("\"warning\""), "{}", stdout(&json));
}

#[test]
fn several_files_in_one_run() {
    let first = scratch(&root().join(SPLIT_CASE));
    let second = scratch(&root().join(SPLIT_CASE));
    let output = run(railyard()
        .arg("migrate")
        .arg(first.path().join("site.yaml"))
        .arg(second.path().join("site.yaml")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).matches("migrated").count(),
        2,
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_linked_site_file_is_rewritten_through_its_link() {
    let dir = scratch(&root().join(SPLIT_CASE));
    let real = dir.path().join("site.yaml");
    let link = dir.path().join("linked.yaml");
    std::os::unix::fs::symlink("site.yaml", &link).expect("symlink");
    let output = run(railyard().arg("migrate").arg(&link));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .expect("site")
            .contains("railyard.dev/v1alpha2")
    );
}
