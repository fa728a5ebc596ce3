//! `render`, `render --check` and `diff` generate nothing for a site whose inputs and railyard
//! version match its lock while every output still has its recorded hash; any change to an
//! input, the version or an output goes through a full render as before.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{railyard, root, run, snapshot, stderr, stdout};

/// What `render` adds to its line when it generated nothing.
const SKIPPED: &str = "inputs match the lock: nothing generated";

/// `from`'s files and directories, recursively, without a golden case's `expected/`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() != "expected" {
                copy_tree(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn site_from(dir: &Path, case: &str) -> PathBuf {
    let site = dir.join("site");
    copy_tree(&root().join(case), &site);
    site.join("site.yaml")
}

fn railyard_in(args: &[&str], site: &Path, out: &Path) -> Output {
    run(railyard().args(args).arg(site).arg("--out").arg(out))
}

fn render(site: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["render"];
    args.extend_from_slice(extra);
    railyard_in(&args, site, out)
}

/// Renders and says whether the render generated nothing; the render must succeed.
fn skipped(site: &Path, out: &Path) -> bool {
    let output = render(site, out, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).contains(SKIPPED)
}

fn append(path: &Path, text: &str) {
    let mut old = std::fs::read_to_string(path).expect("readable");
    old.push_str(text);
    std::fs::write(path, old).expect("writable");
}

#[test]
fn an_unchanged_site_is_not_generated_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site_from(dir.path(), "examples/hetzner-small");
    let out = dir.path().join("out");
    assert!(!skipped(&site, &out), "a first render has no lock to match");
    let before = snapshot(&out);
    let again = render(&site, &out, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stdout(&again).contains(SKIPPED), "{}", stdout(&again));
    // The warnings are still reported, and `--strict` still fails on them.
    assert!(stderr(&again).contains("warning:"), "{}", stderr(&again));
    let strict = render(&site, &out, &["--strict"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert_eq!(snapshot(&out), before);

    let check = railyard_in(&["render", "--check"], &site, &out);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("is up to date"),
        "{}",
        stdout(&check)
    );
    let diff = railyard_in(&["diff"], &site, &out);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    assert!(stdout(&diff).contains("no changes"), "{}", stdout(&diff));

    let forced = render(&site, &out, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(!stdout(&forced).contains(SKIPPED), "--force always renders");
    assert_eq!(snapshot(&out), before);
}

/// One change to a site's inputs, made in place.
type Change<'a> = Box<dyn Fn() + 'a>;

#[test]
fn every_input_change_and_another_version_render_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site_from(dir.path(), "golden/ok/user-overlays");
    let site_dir = site.parent().expect("a directory").to_owned();
    let out = dir.path().join("out");
    assert!(!skipped(&site, &out));
    assert!(skipped(&site, &out));
    let overlay = std::fs::read_dir(site_dir.join("overlays/tuning"))
        .expect("an overlay directory")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_file())
        .expect("an overlay file");
    let changes: [(&str, Change<'_>); 4] = [
        ("the site file", Box::new(|| append(&site, "# reviewed\n"))),
        (
            "the secrets file",
            Box::new(|| append(&site_dir.join("secrets.sops.yaml"), "# reviewed\n")),
        ),
        (
            "an overlay file",
            Box::new(|| append(&overlay, "# reviewed\n")),
        ),
        (
            "a new file in an overlay directory",
            Box::new(|| {
                std::fs::write(site_dir.join("overlays/tuning/NOTES.md"), "notes\n")
                    .expect("writable")
            }),
        ),
    ];
    for (what, change) in &changes {
        change();
        assert!(!skipped(&site, &out), "a change to {what} was not rendered");
        assert!(skipped(&site, &out), "after {what}");
    }

    // A lock written by another version of railyard: everything is rendered again.
    let lock_path = out.join(".railyard/golden.lock");
    let mut lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&lock_path).expect("a lock")).expect("JSON");
    let tool = lock["tool"].clone();
    lock["tool"] = serde_json::Value::from("railyard 0.0.1");
    let mut text = serde_json::to_string_pretty(&lock).expect("JSON");
    text.push('\n');
    std::fs::write(&lock_path, text).expect("writable");
    assert!(!skipped(&site, &out), "another version's lock");
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&lock_path).expect("a lock")).expect("JSON");
    assert_eq!(lock["tool"], tool);
    assert!(skipped(&site, &out));
}

#[test]
fn a_missing_or_edited_output_is_rendered_or_refused_as_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site_from(dir.path(), "examples/hetzner-small");
    let out = dir.path().join("out");
    assert!(!skipped(&site, &out));
    let machines = out.join("hosts/demo-small/machines.yaml");
    let original = std::fs::read(&machines).expect("rendered");

    std::fs::remove_file(&machines).expect("removable");
    let check = railyard_in(&["render", "--check"], &site, &out);
    assert_eq!(
        check.status.code(),
        Some(1),
        "a missing output is a difference"
    );
    let restored = render(&site, &out, &[]);
    assert!(
        stdout(&restored).contains("1 written"),
        "{}",
        stdout(&restored)
    );
    assert_eq!(std::fs::read(&machines).expect("rendered"), original);

    append(&machines, "# by hand\n");
    let refused = render(&site, &out, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("was edited by hand"),
        "{}",
        stderr(&refused)
    );
    let forced = render(&site, &out, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(std::fs::read(&machines).expect("rendered"), original);
    assert!(skipped(&site, &out));
}

#[test]
fn check_all_and_diff_all_count_the_sites_they_skip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sites = dir.path().join("sites");
    for example in ["hetzner-small", "hetzner-medium"] {
        copy_tree(&root().join("examples").join(example), &sites.join(example));
    }
    let out = dir.path().join("out");
    let with_sites = |args: &[&str]| run(railyard().args(args).arg(&sites).arg("--out").arg(&out));
    let rendered = with_sites(&["render", "--all"]);
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    let check = with_sites(&["render", "--check", "--all"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("2 up to date (2 current by the lock"),
        "{}",
        stderr(&check)
    );
    let diff = with_sites(&["diff", "--all"]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));

    append(&sites.join("hetzner-small/site.yaml"), "# reviewed\n");
    let check = with_sites(&["render", "--check", "--all"]);
    assert_eq!(
        check.status.code(),
        Some(1),
        "a changed input leaves a stale lock"
    );
    assert!(
        stderr(&check).contains("1 up to date (1 current by the lock"),
        "{}",
        stderr(&check)
    );
    let again = with_sites(&["render", "--all"]);
    assert!(
        stderr(&again).contains("2 rendered (1 current by the lock"),
        "{}",
        stderr(&again)
    );
}
