//! `railyard migrate` and the site format's versions: every v1alpha1 input migrates to a
//! v1alpha2 file that renders the same files; the rewrite keeps every other byte (golden);
//! `--check`, no-op and refusal behave as documented; an older file validates with a warning.

use std::path::{Path, PathBuf};

use railyard::core::compile::compile;
use railyard::core::diagnostic::{Severity, has_errors};
use railyard::core::migrate::{Migration, migrate};
use railyard::core::site_version::{CURRENT, FormatVersion};
use railyard::core::source::SourceFile;
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

/// The site's text in v1alpha1: as written, or (for a file already migrated) with its
/// version put back, as the file was before its migration.
fn as_v1alpha1(text: &str) -> String {
    text.replacen(
        &format!("apiVersion: {}", CURRENT.as_str()),
        &format!("apiVersion: {}", FormatVersion::V1alpha1.as_str()),
        1,
    )
}

#[test]
fn every_v1alpha1_input_migrates_to_a_file_that_renders_the_same_files() {
    let sites = golden_inputs();
    assert!(sites.len() >= 30, "found only {} site inputs", sites.len());
    for site in sites {
        let mut loaded = load(&site).expect("loads");
        let old_text = as_v1alpha1(&loaded.inputs.site.text);
        let already_current = old_text != loaded.inputs.site.text;
        loaded.inputs.site = SourceFile::new(loaded.inputs.site.name.clone(), old_text.clone());
        let old = compile(&loaded.inputs);
        // A current file that uses a key v1alpha2 added has no v1alpha1 form to compare.
        let needs_v1alpha2 = |d: &railyard::core::diagnostic::Diagnostic| {
            d.severity == Severity::Warning
                || d.message.contains("is not part of `railyard.dev/v1alpha1`")
        };
        if already_current
            && has_errors(&old.diagnostics)
            && old.diagnostics.iter().all(needs_v1alpha2)
        {
            continue;
        }
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
        let Ok(Migration::Migrated { text, from, .. }) = migrate(&loaded.inputs.site) else {
            panic!("{}: no migration from v1alpha1", site.display());
        };
        assert_eq!(from, FormatVersion::V1alpha1);
        assert_eq!(
            text.len(),
            old_text.len(),
            "{}: only the version changes",
            site.display()
        );
        loaded.inputs.site = SourceFile::new(loaded.inputs.site.name.clone(), text);
        let new = compile(&loaded.inputs);
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
        // The lock records the site file's own sha256, so it differs by design; every rendered
        // file must not.
        assert!(
            old.files == new.files,
            "{}: the migrated file renders different files",
            site.display()
        );
    }
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
        let output = run(railyard().arg("migrate").arg(&site));
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
    let dir = scratch(&root().join("golden/migrate/comments-kept"));
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
    let dir = scratch(&root().join("golden/migrate/comments-kept"));
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
    let dir = scratch(&root().join("golden/migrate/comments-kept"));
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
    let first = scratch(&root().join("golden/migrate/comments-kept"));
    let second = scratch(&root().join("golden/migrate/comments-kept"));
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
    let dir = scratch(&root().join("golden/migrate/comments-kept"));
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
