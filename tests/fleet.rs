//! `render --all` over many sites: a refusal found in the last site still leaves the output as
//! it was (staged renders of earlier sites are discarded), and no more trees are alive at once
//! than there are workers, whatever the number of sites.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{copy_inputs, kill_at, railyard, root, run, snapshot, stderr};

/// The small example as `dir/sites/<name>/site.yaml`, its site named `name`.
fn site(dir: &Path, name: &str) -> PathBuf {
    let site = dir.join("sites").join(name);
    copy_inputs(&root().join("examples/hetzner-small"), &site);
    let file = site.join("site.yaml");
    let text = std::fs::read_to_string(&file).expect("site");
    assert!(text.contains("name: demo-small"), "{text}");
    std::fs::write(
        &file,
        text.replacen("name: demo-small", &format!("name: {name}"), 1),
    )
    .expect("write");
    file
}

fn render_all(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    run(railyard()
        .arg("render")
        .arg("--all")
        .arg(dir.join("sites"))
        .arg("--out")
        .arg(out)
        .args(extra))
}

/// Every directory and file below `dir`, relative: a refused run leaves no empty directory or
/// staging behind either.
fn entries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(listing) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in listing.flatten() {
            let path = entry.path();
            found.push(path.strip_prefix(dir).expect("below").display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Sites `a` to `e` never rendered, and `y` and `z`, sorted last, rendered and then edited by
/// hand: the sites before them are compiled and staged before the edits are found, and none
/// of that reaches the output. Both edits are named, whether found while staging or after
/// the first refusal.
#[test]
fn a_hand_edit_in_the_last_site_writes_nothing_for_the_earlier_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let lasts = [site(dir.path(), "y"), site(dir.path(), "z")];
    let first = render_all(dir.path(), &out, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let machines = ["y", "z"].map(|name| out.join(format!("hosts/{name}/machines.yaml")));
    for (file, site) in machines.iter().zip(&lasts) {
        let text = std::fs::read_to_string(file).expect("rendered");
        std::fs::write(file, text.replacen("count: 1", "count: 2", 1)).expect("edit");
        let text = std::fs::read_to_string(site).expect("site");
        std::fs::write(site, text.replacen("location: nbg1", "location: hel1", 1)).expect("edit");
    }
    for name in ["a", "b", "c", "d", "e"] {
        site(dir.path(), name);
    }
    let (before, listed) = (snapshot(&out), entries(&out));
    let refused = render_all(dir.path(), &out, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    for file in &machines {
        let shown = file.display().to_string();
        assert!(
            stderr(&refused).contains(&format!("`{shown}` was edited by hand")),
            "{}",
            stderr(&refused)
        );
    }
    assert_eq!(
        entries(&out),
        listed,
        "a refused render wrote or left debris"
    );
    assert!(snapshot(&out) == before, "a refused render changed a file");
    let forced = render_all(dir.path(), &out, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(out.join("hosts/a/machines.yaml").is_file());
    for file in &machines {
        assert!(
            std::fs::read_to_string(file)
                .expect("rendered")
                .contains("count: 1")
        );
    }
}

/// Sites `a` to `e`, and `z` named as `a`: found last, the duplicate still means a fresh
/// output directory is not even created, with or without `--force`.
#[test]
fn a_duplicate_name_in_the_last_site_writes_nothing_for_the_earlier_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["a", "b", "c", "d", "e"] {
        site(dir.path(), name);
    }
    let last = site(dir.path(), "z");
    let text = std::fs::read_to_string(&last).expect("site");
    std::fs::write(&last, text.replacen("name: z", "name: a", 1)).expect("edit");
    let out = dir.path().join("out");
    for extra in [&[][..], &["--force"][..]] {
        let refused = render_all(dir.path(), &out, extra);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{extra:?}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("share a name"),
            "{}",
            stderr(&refused)
        );
        assert!(!out.exists(), "{extra:?}: {:?}", entries(&out));
    }
}

/// The test hook `RAILYARD_REPORT_TREES` reports the most trees alive at once: never more
/// than the workers (one per core), for more sites than workers, in every mode.
#[test]
fn no_more_trees_are_alive_than_workers() {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let count = (2 * workers + 2).min(12);
    let dir = tempfile::tempdir().expect("tempdir");
    for index in 0..count {
        site(dir.path(), &format!("site-{index:02}"));
    }
    let out = dir.path().join("out");
    // `--check` first, while nothing is rendered (so it finds every file missing: exit 1);
    // current sites compile no tree, so `--force` renders again.
    for (extra, code) in [(&["--check"][..], 1), (&[][..], 0), (&["--force"][..], 0)] {
        let output = run(railyard()
            .env("RAILYARD_REPORT_TREES", "1")
            .arg("render")
            .arg("--all")
            .arg(dir.path().join("sites"))
            .arg("--out")
            .arg(&out)
            .args(extra));
        assert_eq!(
            output.status.code(),
            Some(code),
            "{extra:?}: {}",
            stderr(&output)
        );
        let text = stderr(&output);
        let alive: usize = text
            .split("at most ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{extra:?}: no count in {text}"));
        assert!(
            (1..=workers.min(count - 1)).contains(&alive),
            "{extra:?}: {alive} trees alive at once for {count} sites on {workers} workers"
        );
    }
}

/// A render into a fresh output stages each site's directories whole and moves each with one
/// rename. Killed after a site's commit point, with one of its directories already moved: the
/// next run finishes that site, discards the other sites' stagings, renders them, and the
/// output is what one uninterrupted run writes.
#[test]
fn a_fresh_render_killed_after_a_commit_point_is_finished_by_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["a", "b", "c"] {
        site(dir.path(), name);
    }
    let out = dir.path().join("out");
    kill_at(
        railyard()
            .arg("render")
            .arg("--all")
            .arg(dir.path().join("sites"))
            .arg("--out")
            .arg(&out),
        "render-committed",
    );
    let txn = std::fs::read_dir(out.join(".railyard"))
        .expect("state")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "txn"))
        .expect("a committed render");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(txn.join("journal.json")).expect("journal"))
            .expect("JSON");
    let first = &journal["moves"][0];
    let (path, staged) = (
        first[0].as_str().expect("path"),
        first[1].as_str().expect("staged"),
    );
    let target = out.join(path);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    std::fs::rename(txn.join(staged), &target).expect("move into place");
    let finished = render_all(dir.path(), &out, &[]);
    assert_eq!(finished.status.code(), Some(0), "{}", stderr(&finished));
    let fresh = dir.path().join("fresh");
    assert_eq!(render_all(dir.path(), &fresh, &[]).status.code(), Some(0));
    assert_eq!(entries(&out), entries(&fresh));
    assert!(snapshot(&out) == snapshot(&fresh), "a file differs");
}
