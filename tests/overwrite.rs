//! `render` never overwrites a rendered file edited by hand without `--force`, and `--all`
//! refuses two sites of one name before anything is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{copy_inputs, kill_at, railyard, root, run, snapshot, stderr, stdout};

const MACHINES: &str = "hosts/demo-small/machines.yaml";

/// A private copy of an example site, in `dir/name`.
fn site_in(dir: &Path, name: &str, example: &str) -> PathBuf {
    let site = dir.join(name);
    copy_inputs(&root().join(example), &site);
    site.join("site.yaml")
}

fn render(site: &Path, out: &Path, extra: &[&str]) -> Output {
    run(railyard()
        .arg("render")
        .arg(site)
        .arg("--out")
        .arg(out)
        .args(extra))
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("readable");
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("writable");
}

/// A rendered small example with `machines.yaml` edited by hand.
fn edited_output() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site_in(dir.path(), "site", "examples/hetzner-small");
    let out = dir.path().join("out");
    assert_eq!(render(&site, &out, &[]).status.code(), Some(0));
    edit(&out.join(MACHINES), "count: 1", "count: 2");
    (dir, site, out)
}

#[test]
fn a_hand_edit_blocks_the_render_until_forced() {
    let (_dir, site, out) = edited_output();
    // A change to the site too, so that the render has other files to write.
    edit(&site, "location: nbg1", "location: hel1");
    let before = snapshot(&out);
    let refused = render(&site, &out, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(snapshot(&out), before, "a refused render wrote");
    let text = stderr(&refused);
    let shown = out.join(MACHINES).display().to_string();
    assert!(
        text.contains(&format!("`{shown}` was edited by hand")),
        "{text}"
    );
    assert!(
        text.contains("--force") && text.contains("spec.overlays"),
        "{text}"
    );

    let forced = render(&site, &out, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    let fresh = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(&site, fresh.path(), &[]).status.code(), Some(0));
    assert_eq!(snapshot(&out), snapshot(fresh.path()));
}

#[test]
fn an_edit_equal_to_the_new_render_and_a_deleted_file_do_not_block() {
    let (_dir, site, out) = edited_output();
    edit(&site, "location: nbg1", "location: hel1");
    let fresh = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(&site, fresh.path(), &[]).status.code(), Some(0));
    std::fs::copy(fresh.path().join(MACHINES), out.join(MACHINES)).expect("copy");
    let same = render(&site, &out, &[]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(snapshot(&out), snapshot(fresh.path()));

    std::fs::remove_file(out.join(MACHINES)).expect("remove");
    let recreated = render(&site, &out, &[]);
    assert_eq!(recreated.status.code(), Some(0), "{}", stderr(&recreated));
    assert_eq!(snapshot(&out), snapshot(fresh.path()));
}

#[test]
fn a_hand_edit_to_a_file_the_render_would_remove_blocks_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site_in(dir.path(), "site", "examples/hetzner-medium");
    let out = dir.path().join("out");
    assert_eq!(render(&site, &out, &[]).status.code(), Some(0));
    let doomed = out.join("hosts/demo-medium/cloud-init/server-2.yaml");
    std::fs::write(&doomed, "# mine now\n").expect("write");
    edit(
        &site,
        "size: medium\n  sizeData:\n    # Five workers; servers default to cpx32 and workers to cpx42.\n    workers: 5\n",
        "size: small\n",
    );
    let refused = render(&site, &out, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("server-2.yaml"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        std::fs::read_to_string(&doomed).expect("kept"),
        "# mine now\n"
    );
    assert_eq!(render(&site, &out, &["--force"]).status.code(), Some(0));
    assert!(!doomed.exists());
}

#[test]
fn hand_edits_come_out_as_json_diagnostics() {
    let (_dir, site, out) = edited_output();
    let output = run(railyard()
        .args(["--error-format", "json", "render"])
        .arg(&site)
        .arg("--out")
        .arg(&out));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let items: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    // The example's own warnings (example domains) come first; the hand edit is the error.
    let items: Vec<&serde_json::Value> = items
        .as_array()
        .expect("one array")
        .iter()
        .filter(|item| item["severity"] == "error")
        .collect();
    assert_eq!(items.len(), 1, "{items:?}");
    let item = items[0];
    for key in [
        "severity", "file", "line", "column", "path", "message", "expected", "hint",
    ] {
        assert!(item.get(key).is_some(), "`{key}` missing from {item}");
    }
    assert_eq!(item["severity"], "error");
    assert_eq!(item["file"], out.join(MACHINES).display().to_string());
    assert!(
        item["hint"].as_str().is_some_and(|h| h.contains("--force")),
        "{item}"
    );
}

/// Moves the first file of an interrupted render's journal into place, as a render killed in
/// the middle of its roll-forward leaves it: new bytes under the old lock.
fn apply_first_staged(out: &Path) {
    let txn = out.join(".railyard/demo-small.txn");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(txn.join("journal.json")).expect("journal"))
            .expect("JSON");
    let first = &journal["writes"][0];
    let (path, staged) = (
        first[0].as_str().expect("path"),
        first[1].as_str().expect("staged"),
    );
    std::fs::rename(txn.join(staged), out.join(path)).expect("move into place");
}

#[test]
fn an_interrupted_render_is_finished_not_taken_for_a_hand_edit() {
    for all in [false, true] {
        for failpoint in ["render-staged", "render-committed"] {
            let dir = tempfile::tempdir().expect("tempdir");
            let site = site_in(dir.path(), "sites/small", "examples/hetzner-small");
            let out = dir.path().join("out");
            assert_eq!(render(&site, &out, &[]).status.code(), Some(0));
            edit(&site, "location: nbg1", "location: hel1");
            let target: Vec<std::ffi::OsString> = if all {
                vec!["--all".into(), dir.path().join("sites").into()]
            } else {
                vec![site.clone().into()]
            };
            kill_at(
                railyard()
                    .arg("render")
                    .args(&target)
                    .arg("--out")
                    .arg(&out),
                failpoint,
            );
            if failpoint == "render-committed" {
                apply_first_staged(&out);
            }
            let finished = run(railyard()
                .arg("render")
                .args(&target)
                .arg("--out")
                .arg(&out));
            assert_eq!(
                finished.status.code(),
                Some(0),
                "{failpoint}: {}",
                stderr(&finished)
            );
            let fresh = tempfile::tempdir().expect("tempdir");
            assert_eq!(render(&site, fresh.path(), &[]).status.code(), Some(0));
            assert_eq!(
                snapshot(&out),
                snapshot(fresh.path()),
                "{failpoint}, --all {all}"
            );
        }
    }
}

/// Two site files named `demo-small` under `dir/sites`, and the render of the first alone in
/// `dir/out`.
fn two_sites_of_one_name(dir: &Path) -> (PathBuf, PathBuf) {
    let first = site_in(dir, "sites/a", "examples/hetzner-small");
    let out = dir.join("out");
    let alone = run(railyard()
        .arg("render")
        .arg("--all")
        .arg(dir.join("sites"))
        .arg("--out")
        .arg(&out));
    assert_eq!(alone.status.code(), Some(0), "{}", stderr(&alone));
    let second = site_in(dir, "sites/b", "examples/hetzner-small");
    edit(&second, "location: nbg1", "location: hel1");
    assert!(
        std::fs::read_to_string(&first)
            .expect("site")
            .contains("name: demo-small")
    );
    (dir.join("sites"), out)
}

#[test]
fn two_sites_of_one_name_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sites, out) = two_sites_of_one_name(dir.path());
    let before = snapshot(&out);
    let all = |extra: &[&str], command: &str| {
        run(railyard()
            .arg(command)
            .arg("--all")
            .arg(&sites)
            .arg("--out")
            .arg(&out)
            .args(extra))
    };
    for (command, extra) in [
        ("render", &[][..]),
        ("render", &["--force"][..]),
        ("render", &["--check"][..]),
        ("diff", &[][..]),
    ] {
        let output = all(extra, command);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{command} {extra:?}: {}",
            stderr(&output)
        );
        let text = stderr(&output);
        for file in ["a/site.yaml", "b/site.yaml"] {
            let shown = sites.join(file).display().to_string();
            assert!(
                text.contains(&shown),
                "{command} {extra:?} does not name {shown}: {text}"
            );
        }
        assert!(text.contains("`demo-small`"), "{text}");
        assert!(
            stdout(&output).is_empty(),
            "{command} {extra:?}: {}",
            stdout(&output)
        );
        assert_eq!(snapshot(&out), before, "{command} {extra:?} wrote");
    }
}

#[test]
fn commit_refuses_a_committed_hand_edit_until_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site_in(dir.path(), "site", "examples/hetzner-small");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let git = |args: &[&str]| {
        let output = run(Command::new("git").current_dir(&repo).args(args));
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Railyard Test"]);
    git(&["config", "user.email", "test@example.com"]);
    let commit = |extra: &[&str]| {
        run(railyard()
            .arg("commit")
            .arg(&site)
            .arg("--repo")
            .arg(&repo)
            .args(extra))
    };
    assert_eq!(commit(&[]).status.code(), Some(0));
    edit(&repo.join(MACHINES), "count: 1", "count: 2");
    git(&["commit", "-qam", "hand edit"]);
    let refused = commit(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("machines.yaml` was edited by hand"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("railyard commit"),
        "{}",
        stderr(&refused)
    );
    assert!(
        std::fs::read_to_string(repo.join(MACHINES))
            .expect("kept")
            .contains("count: 2")
    );
    let json = run(railyard()
        .args(["--error-format", "json", "commit"])
        .arg(&site)
        .arg("--repo")
        .arg(&repo));
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON array");
    let errors = items
        .as_array()
        .map(|items| items.iter().filter(|i| i["severity"] == "error").count());
    assert_eq!(errors, Some(1), "{items}");
    let forced = commit(&["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(
        std::fs::read_to_string(repo.join(MACHINES))
            .expect("read")
            .contains("count: 1")
    );
}
