//! Path safety: nothing a site, an overlay or a planted link says makes railyard read or write
//! outside the site, the overlay root, the output directory or the repository.
//!
//! Each case builds a work directory (the example site, an output directory) beside an
//! `outside` directory holding a canary; the command must fail with the expected status and
//! words, `outside` must be byte for byte as before, and the canary must appear nowhere.

use std::path::Path;
use std::process::Command;

use crate::support::{railyard, root, run, snapshot, stderr, stdout};

const CANARY: &str = "canary-outside-4f1d9c";

/// The minimum the issue asks for (at least 12 refused cases).
const MIN_CASES: usize = 12;

struct Case {
    name: &'static str,
    /// Prepares `work` (site in `work/site`) given the absolute `outside` directory.
    setup: fn(work: &Path, outside: &Path),
    /// The command line, run in `work`.
    args: &'static [&'static str],
    exit: i32,
    says: &'static str,
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn link(target: &Path, at: &Path) {
    std::fs::create_dir_all(at.parent().expect("a parent")).expect("mkdir");
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

/// Replaces `from` with `to` in the site file, which must contain it.
fn edit_site(work: &Path, from: &str, to: &str) {
    let path = work.join("site/site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    assert!(text.contains(from), "the example site has no `{from}`");
    std::fs::write(path, text.replacen(from, to, 1)).expect("site");
}

fn add_overlay(work: &Path, outside: &Path, kustomization: &str) {
    let _ = outside;
    edit_site(work, "  secrets:\n", "  overlays:\n    - ov\n  secrets:\n");
    write(&work.join("site/ov/kustomization.yaml"), kustomization);
}

const CASES: &[Case] = &[
    Case {
        name: "secrets file climbs out with `..`",
        setup: |work, _| {
            edit_site(
                work,
                "file: secrets.sops.yaml",
                "file: ../../outside/secret.txt",
            )
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "leaves the site directory",
    },
    Case {
        name: "secrets file is absolute",
        setup: |work, outside| {
            let to = format!("file: {}", outside.join("secret.txt").display());
            edit_site(work, "file: secrets.sops.yaml", &to)
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "is absolute",
    },
    Case {
        name: "secrets file is a link out of the site",
        setup: |work, outside| {
            std::fs::remove_file(work.join("site/secrets.sops.yaml")).expect("rm");
            link(
                &outside.join("secret.txt"),
                &work.join("site/secrets.sops.yaml"),
            );
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "outside the site directory",
    },
    Case {
        name: "SSH key file climbs out with `..`",
        setup: |work, _| {
            edit_site(
                work,
                "    authorizedKeys:\n",
                "    authorizedKeyFiles:\n      - ../../outside/id.pub\n    authorizedKeys:\n",
            )
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "leaves the site directory",
    },
    Case {
        name: "SSH key file is a link out of the site",
        setup: |work, outside| {
            link(&outside.join("id.pub"), &work.join("site/keys/admin.pub"));
            edit_site(
                work,
                "    authorizedKeys:\n",
                "    authorizedKeyFiles:\n      - keys/admin.pub\n    authorizedKeys:\n",
            )
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "outside the site directory",
    },
    Case {
        name: "overlay directory climbs out with `..`",
        setup: |work, _| {
            edit_site(
                work,
                "  secrets:\n",
                "  overlays:\n    - ../../outside/base\n  secrets:\n",
            )
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "leaves the site directory",
    },
    Case {
        name: "overlay directory is a link out of the site",
        setup: |work, outside| {
            link(&outside.join("base"), &work.join("site/ov"));
            edit_site(work, "  secrets:\n", "  overlays:\n    - ov\n  secrets:\n");
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "outside the site directory",
    },
    Case {
        name: "user overlay resource leaves the overlay",
        setup: |work, outside| {
            add_overlay(work, outside, "resources:\n  - ../../../outside/base\n")
        },
        args: &["render", "site/site.yaml", "--out", "rendered"],
        exit: 1,
        says: "leads outside the overlay root",
    },
    Case {
        name: "user overlay generator reads a file beside the site",
        setup: |work, outside| {
            add_overlay(
                work,
                outside,
                "configMapGenerator:\n  - name: leak\n    files:\n      - ../secrets.sops.yaml\n",
            )
        },
        args: &["render", "site/site.yaml", "--out", "rendered"],
        exit: 1,
        says: "outside the overlay root",
    },
    Case {
        name: "user overlay generator file is a link out of the site",
        setup: |work, outside| {
            add_overlay(
                work,
                outside,
                "configMapGenerator:\n  - name: leak\n    files:\n      - leak.txt\n",
            );
            link(&outside.join("secret.txt"), &work.join("site/ov/leak.txt"));
        },
        args: &["render", "site/site.yaml", "--out", "rendered"],
        exit: 1,
        says: "outside the site directory",
    },
    Case {
        name: "user overlay patch path is absolute",
        setup: |work, outside| {
            let text = format!("patches:\n  - path: {}\n", outside.join("x.yaml").display());
            add_overlay(work, outside, &text);
        },
        args: &["render", "site/site.yaml", "--out", "rendered"],
        exit: 1,
        says: "is an absolute path",
    },
    Case {
        name: "overlay build: env file climbs out of its kustomization",
        setup: |work, _| {
            write(
                &work.join("a/kustomization.yaml"),
                "secretGenerator:\n  - name: leak\n    envs:\n      - ../../outside/secret.txt\n",
            )
        },
        args: &["overlay", "build", "a", "--root", "."],
        exit: 1,
        says: "leads outside the overlay root",
    },
    Case {
        name: "overlay build: env file climbs out of its kustomization, default root",
        setup: |work, _| {
            write(
                &work.join("a/kustomization.yaml"),
                "secretGenerator:\n  - name: leak\n    envs:\n      - ../../outside/secret.txt\n",
            )
        },
        args: &["overlay", "build", "a"],
        exit: 1,
        says: "is not in or below the kustomization's directory",
    },
    Case {
        name: "overlay build: a file from the parent directory, as kustomize refuses",
        setup: |work, _| {
            write(
                &work.join("x.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            );
            write(
                &work.join("a/kustomization.yaml"),
                "resources:\n  - ../x.yaml\n",
            );
        },
        args: &["overlay", "build", "a"],
        exit: 1,
        says: "is not in or below the kustomization's directory",
    },
    Case {
        name: "overlay build: a base reached through a link out of the root",
        setup: |work, outside| {
            write(&work.join("a/kustomization.yaml"), "resources:\n  - base\n");
            link(&outside.join("base"), &work.join("a/base"));
        },
        args: &["overlay", "build", "a", "--root", "."],
        exit: 1,
        says: "outside the overlay root",
    },
    Case {
        name: "overlay build: a generator file that is a link out of the root",
        setup: |work, outside| {
            write(
                &work.join("a/kustomization.yaml"),
                "configMapGenerator:\n  - name: leak\n    files:\n      - leak.txt\n",
            );
            link(&outside.join("secret.txt"), &work.join("a/leak.txt"));
        },
        // refused as kustomize refuses it: the link leaves the kustomization's directory
        args: &["overlay", "build", "a"],
        exit: 1,
        says: "is not in or below the kustomization's directory",
    },
    Case {
        name: "overlay build: the directory itself is outside the root",
        setup: |work, _| write(&work.join("a/kustomization.yaml"), "resources: []\n"),
        args: &["overlay", "build", "../outside/base", "--root", "a"],
        exit: 2,
        says: "is outside the overlay root",
    },
    Case {
        name: "render: an output file is a planted link",
        setup: |work, outside| {
            link(
                &outside.join("x.yaml"),
                &work.join("rendered/clusters/demo-small/kustomization.yaml"),
            )
        },
        args: &["render", "site/site.yaml", "--out", "rendered"],
        exit: 2,
        says: "symlink",
    },
    Case {
        name: "render: the state directory is a planted link",
        setup: |work, outside| link(outside, &work.join("rendered/.railyard")),
        args: &["render", "site/site.yaml", "--out", "rendered"],
        exit: 2,
        says: "symlink",
    },
    Case {
        name: "commit: the site's path in the repository is a planted link",
        setup: |work, outside| {
            edit_site(
                work,
                "    branch: main\n",
                "    branch: main\n    path: fleet/demo\n",
            );
            let git = |args: &[&str]| {
                let status = Command::new("git")
                    .current_dir(work.join("repo"))
                    .args(args)
                    .status()
                    .expect("git");
                assert!(status.success(), "git {args:?}");
            };
            std::fs::create_dir_all(work.join("repo")).expect("mkdir");
            git(&["init", "-q", "-b", "main"]);
            link(outside, &work.join("repo/fleet"));
        },
        args: &[
            "commit",
            "site/site.yaml",
            "--repo",
            "repo",
            "--author",
            "Test <t@example.com>",
        ],
        exit: 2,
        says: "symlink",
    },
    Case {
        name: "site name that would traverse",
        setup: |work, _| edit_site(work, "name: demo-small", "name: ../../outside"),
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "metadata.name",
    },
    Case {
        name: "git path that would traverse",
        setup: |work, _| {
            edit_site(
                work,
                "    branch: main\n",
                "    branch: main\n    path: ../../outside\n",
            )
        },
        args: &["validate", "site/site.yaml"],
        exit: 1,
        says: "leaves the site directory",
    },
];

/// Fills `outside` with what a leak would show: a canary secret, a manifest, a base.
fn fill_outside(outside: &Path) {
    write(&outside.join("secret.txt"), &format!("token={CANARY}\n"));
    write(
        &outside.join("id.pub"),
        &format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOifjjmm7VBLaCFoYt1z7qzrW2pvu72uf0a2aOL/8uy {CANARY}\n"
        ),
    );
    write(
        &outside.join("x.yaml"),
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {CANARY}\n"),
    );
    write(
        &outside.join("base/kustomization.yaml"),
        "resources:\n  - cm.yaml\n",
    );
    write(
        &outside.join("base/cm.yaml"),
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {CANARY}\n"),
    );
}

#[test]
fn nothing_outside_is_read_or_written() {
    assert!(CASES.len() >= MIN_CASES, "only {} cases", CASES.len());
    let example = root().join("examples/hetzner-small");
    let mut failures = Vec::new();
    for case in CASES {
        let top = tempfile::tempdir().expect("tempdir");
        let (work, outside) = (top.path().join("work"), top.path().join("outside"));
        fill_outside(&outside);
        for file in [
            "site.yaml",
            "secrets.sops.yaml",
            "machine-secrets.sops.yaml",
        ] {
            write(
                &work.join("site").join(file),
                &std::fs::read_to_string(example.join(file)).expect("example"),
            );
        }
        (case.setup)(&work, &outside);
        let before = snapshot(&outside);
        let output = run(railyard().current_dir(&work).args(case.args));
        let (out, err) = (stdout(&output), stderr(&output));
        let mut problems = Vec::new();
        if output.status.code() != Some(case.exit) {
            problems.push(format!(
                "exit {:?}, want {}",
                output.status.code(),
                case.exit
            ));
        }
        if !err.contains(case.says) && !out.contains(case.says) {
            problems.push(format!("does not say `{}`", case.says));
        }
        if out.contains(CANARY) || err.contains(CANARY) {
            problems.push("the canary leaked into the output".to_owned());
        }
        if snapshot(&outside) != before {
            problems.push("`outside` changed".to_owned());
        }
        // An invalid site renders nothing, so a leak cannot reach the output either.
        if case.exit == 1 && work.join("rendered").exists() {
            problems.push("an invalid site wrote output".to_owned());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n{err}{out}",
                case.name,
                problems.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
