//! The binary as users run it: exit codes, determinism, atomic writes, ownership of paths.

use std::path::{Path, PathBuf};

use crate::support::{cases, copy_inputs, kill_at, railyard, root, run, snapshot, stderr, stdout};

const EXAMPLE: &str = "examples/hetzner-small";

/// A private copy of an example site, so tests can edit it.
fn site_copy(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_inputs(&root().join(example), dir.path());
    dir
}

fn render(site_dir: &Path, out: &Path) -> std::process::Output {
    run(railyard()
        .arg("render")
        .arg(site_dir.join("site.yaml"))
        .arg("--out")
        .arg(out))
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("readable");
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("writable");
}

#[test]
fn quick_start_renders_the_example() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = run(railyard()
        .current_dir(root())
        .args(["render", &format!("{EXAMPLE}/site.yaml"), "--out"])
        .arg(out.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        out.path()
            .join("clusters/demo-small/flux-system/gotk-sync.yaml")
            .is_file()
    );
    assert!(
        out.path()
            .join("hosts/demo-small/cloud-init/server-0.yaml")
            .is_file()
    );
}

#[test]
fn rendering_is_deterministic_across_directories_and_environments() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let first = run(railyard()
        .current_dir(root())
        .env("TZ", "UTC")
        .env("LANG", "C")
        .env("HOME", a.path())
        .args(["render", &format!("{EXAMPLE}/site.yaml"), "--out"])
        .arg(a.path().join("out")));
    let second = run(railyard()
        .current_dir(root().join(EXAMPLE))
        .env("TZ", "Pacific/Kiritimati")
        .env("LANG", "de_DE.UTF-8")
        .env("LC_ALL", "tr_TR.UTF-8")
        .env("HOME", b.path())
        .args(["render", "site.yaml", "--out"])
        .arg(b.path().join("out")));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let tree_a = snapshot(&a.path().join("out"));
    let tree_b = snapshot(&b.path().join("out"));
    assert!(!tree_a.is_empty());
    assert_eq!(tree_a, tree_b, "two renders differ");
    let root_text = root().display().to_string();
    for (path, bytes) in &tree_a {
        let text = String::from_utf8_lossy(bytes);
        for absolute in [
            root_text.as_str(),
            &a.path().display().to_string(),
            &b.path().display().to_string(),
        ] {
            assert!(
                !text.contains(absolute),
                "`{path}` contains the absolute path `{absolute}`"
            );
        }
        // The secrets file is copied byte for byte; its `lastmodified` is an input, not a clock read.
        if !path.ends_with("secrets.sops.yaml") {
            assert!(!has_timestamp(&text), "`{path}` contains a timestamp");
        }
    }
}

fn has_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(19).any(|w| {
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        digits(0..4)
            && w[4] == b'-'
            && digits(5..7)
            && w[7] == b'-'
            && digits(8..10)
            && (w[10] == b'T' || w[10] == b' ')
            && digits(11..13)
            && w[13] == b':'
    })
}

/// Starts a render that stops at `failpoint`, waits until it is there, and SIGKILLs it.
fn kill_render_at(site_dir: &Path, out: &Path, failpoint: &str) {
    let mut render = railyard();
    render
        .arg("render")
        .arg(site_dir.join("site.yaml"))
        .arg("--out")
        .arg(out);
    kill_at(&mut render, failpoint);
}

#[test]
fn a_render_killed_before_its_commit_point_leaves_the_previous_output() {
    let site = site_copy(EXAMPLE);
    let out = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(site.path(), out.path()).status.code(), Some(0));
    let before = snapshot(out.path());
    edit(
        &site.path().join("site.yaml"),
        "domain: gitpod-small.example.com",
        "domain: gitpod-new.example.com",
    );
    kill_render_at(site.path(), out.path(), "render-staged");
    let after: std::collections::BTreeMap<_, _> = snapshot(out.path())
        .into_iter()
        .filter(|(p, _)| !p.contains(".txn.tmp/"))
        .collect();
    assert_eq!(before, after, "a killed render changed the previous output");
    // The next render discards the staging and finishes normally.
    assert_eq!(render(site.path(), out.path()).status.code(), Some(0));
    let fresh = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(site.path(), fresh.path()).status.code(), Some(0));
    assert_eq!(snapshot(out.path()), snapshot(fresh.path()));
}

#[test]
fn a_render_killed_after_its_commit_point_is_rolled_forward() {
    let site = site_copy(EXAMPLE);
    let out = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(site.path(), out.path()).status.code(), Some(0));
    edit(
        &site.path().join("site.yaml"),
        "domain: gitpod-small.example.com",
        "domain: gitpod-new.example.com",
    );
    kill_render_at(site.path(), out.path(), "render-committed");
    let check = run(railyard()
        .arg("render")
        .arg(site.path().join("site.yaml"))
        .arg("--out")
        .arg(out.path())
        .arg("--check"));
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("interrupted render pending"),
        "{}",
        stdout(&check)
    );
    assert_eq!(render(site.path(), out.path()).status.code(), Some(0));
    let fresh = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(site.path(), fresh.path()).status.code(), Some(0));
    assert_eq!(snapshot(out.path()), snapshot(fresh.path()));
}

#[test]
fn check_tells_stale_output_from_hand_edits() {
    let site = site_copy(EXAMPLE);
    let out = tempfile::tempdir().expect("tempdir");
    let check = || {
        run(railyard()
            .arg("render")
            .arg(site.path().join("site.yaml"))
            .arg("--out")
            .arg(out.path())
            .arg("--check"))
    };
    let missing = check();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stdout(&missing).contains("missing: hosts/demo-small/machines.yaml"),
        "{}",
        stdout(&missing)
    );
    assert_eq!(render(site.path(), out.path()).status.code(), Some(0));
    let clean = check();
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(
        snapshot(out.path()).keys().all(|p| !p.contains(".txn")),
        "check left a transaction behind"
    );

    let machines = out.path().join("hosts/demo-small/machines.yaml");
    edit(&machines, "count: 1", "count: 2");
    let edited = check();
    assert_eq!(edited.status.code(), Some(1));
    assert!(
        stdout(&edited).contains("edited by hand: hosts/demo-small/machines.yaml"),
        "{}",
        stdout(&edited)
    );

    let forced = run(railyard()
        .arg("render")
        .arg(site.path().join("site.yaml"))
        .arg("--out")
        .arg(out.path())
        .arg("--force"));
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    edit(
        &site.path().join("site.yaml"),
        "location: nbg1",
        "location: hel1",
    );
    let stale = check();
    assert_eq!(stale.status.code(), Some(1));
    let text = stdout(&stale);
    assert!(
        text.contains("stale: hosts/demo-small/machines.yaml")
            && text.contains("stale: .railyard/demo-small.lock"),
        "{text}"
    );
    assert!(!text.contains("edited by hand"), "{text}");
}

#[test]
fn render_removes_what_it_no_longer_renders_and_keeps_user_files() {
    let site = site_copy("examples/hetzner-medium");
    let out = tempfile::tempdir().expect("tempdir");
    assert_eq!(render(site.path(), out.path()).status.code(), Some(0));
    assert!(
        out.path()
            .join("hosts/demo-medium/cloud-init/server-2.yaml")
            .is_file()
    );
    let user_files = [
        "README.md",
        "clusters/demo-medium/team-notes.yaml",
        "hosts/demo-medium/cloud-init/local.txt",
    ];
    for file in user_files {
        std::fs::write(out.path().join(file), "mine\n").expect("write");
    }
    edit(
        &site.path().join("site.yaml"),
        "size: medium\n  sizeData:\n    # Five workers; servers default to cpx32 and workers to cpx42.\n    workers: 5\n",
        "size: small\n",
    );
    let output = render(site.path(), out.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("4 removed"), "{}", stdout(&output));
    assert!(
        !out.path()
            .join("hosts/demo-medium/cloud-init/server-1.yaml")
            .exists()
    );
    assert!(
        !out.path()
            .join("hosts/demo-medium/cloud-init/server-2.yaml")
            .exists()
    );
    for gone in [
        "hosts/demo-medium/k3s/server-1.config.yaml",
        "hosts/demo-medium/k3s/server-2.config.yaml",
    ] {
        assert!(!out.path().join(gone).exists(), "{gone} was not removed");
    }
    for file in user_files {
        assert_eq!(
            std::fs::read_to_string(out.path().join(file)).expect("kept"),
            "mine\n",
            "{file}"
        );
    }
}

#[test]
fn render_refuses_files_it_does_not_own_and_symlinks() {
    let out = tempfile::tempdir().expect("tempdir");
    let user_file = out.path().join("clusters/demo-small/kustomization.yaml");
    std::fs::create_dir_all(user_file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user_file, "# mine\n").expect("write");
    let output = run(railyard()
        .current_dir(root())
        .args(["render", &format!("{EXAMPLE}/site.yaml"), "--out"])
        .arg(out.path()));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("does not own"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        snapshot(out.path()).keys().cloned().collect::<Vec<_>>(),
        vec!["clusters/demo-small/kustomization.yaml".to_owned()]
    );

    let out = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(out.path().join("hosts")).expect("mkdir");
    std::os::unix::fs::symlink(elsewhere.path(), out.path().join("hosts/demo-small"))
        .expect("symlink");
    let output = run(railyard()
        .current_dir(root())
        .args(["render", &format!("{EXAMPLE}/site.yaml"), "--out"])
        .arg(out.path()));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("symlink"), "{}", stderr(&output));
    assert!(
        snapshot(elsewhere.path()).is_empty(),
        "wrote through a symlink"
    );
}

#[test]
fn every_invalid_case_exits_1_without_panicking() {
    for case in cases(&root().join("golden/err")) {
        for format in ["human", "json"] {
            let output = run(railyard().current_dir(&case).args([
                "--error-format",
                format,
                "validate",
                "site.yaml",
            ]));
            assert_eq!(
                output.status.code(),
                Some(1),
                "{}: {}",
                case.display(),
                stderr(&output)
            );
            assert!(!stderr(&output).contains("panicked"), "{}", case.display());
        }
    }
}

#[test]
fn json_diagnostics_carry_every_field() {
    let case = root().join("golden/err/many-errors-at-once");
    let output = run(railyard().current_dir(&case).args([
        "--error-format",
        "json",
        "validate",
        "site.yaml",
    ]));
    let items: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let items = items.as_array().expect("an array");
    assert!(items.len() >= 5, "all errors at once: {items:?}");
    for item in items {
        for key in [
            "severity", "file", "line", "column", "path", "message", "hint",
        ] {
            assert!(item.get(key).is_some(), "`{key}` missing from {item}");
        }
        assert!(
            item["line"].as_u64().is_some_and(|l| l > 0)
                && item["column"].as_u64().is_some_and(|c| c > 0)
        );
    }
}

#[test]
fn json_output_is_an_array_even_when_the_site_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = production_like_site(dir.path());
    let output = run(railyard()
        .args(["--error-format", "json", "validate"])
        .arg(&site));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON on stdout"),
        serde_json::json!([])
    );
}

/// The example with real-looking values where it has example ones: no warning at all.
fn production_like_site(dir: &Path) -> PathBuf {
    copy_inputs(&root().join(EXAMPLE), dir);
    let site = dir.join("site.yaml");
    let text = std::fs::read_to_string(&site)
        .expect("site")
        .replace("gitpod-small.example.com", "gitpod.acme.dev")
        .replace("ops@example.com", "ops@acme.dev")
        .replace("registry.example.com", "registry.acme.dev")
        .replace("  firewall:\n", "")
        .replace(
            "  certManager:\n",
            "  firewall:\n    adminCidrs: [203.0.113.0/24]\n  certManager:\n",
        )
        .replace("acme: staging", "acme: production");
    std::fs::write(&site, text).expect("write");
    site
}

/// Each warning names its line and exits 0; `--strict` exits 1 and writes nothing.
#[test]
fn warnings_pass_unless_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = production_like_site(dir.path());
    let text = std::fs::read_to_string(&site)
        .expect("site")
        .replace("gitpod.acme.dev", "gitpod.example.com")
        .replace("acme: production", "acme: staging")
        .replace(
            "    adminCidrs: [203.0.113.0/24]\n",
            "    adminCidrs: [0.0.0.0/0]\n",
        )
        .replace("spec:\n", "spec:\n  versions:\n    k3s: v1.35.4+k3s1\n");
    std::fs::write(&site, &text).expect("write");
    let out = dir.path().join("out");
    let warned = run(railyard().arg("render").arg(&site).arg("--out").arg(&out));
    assert_eq!(warned.status.code(), Some(0), "{}", stderr(&warned));
    let report = stderr(&warned);
    for expected in [
        "warning: `gitpod.example.com` is a reserved example domain",
        "warning: the Kubernetes API (port 6443) is open to the whole internet",
        "warning: k3s `v1.35.4+k3s1` is older than",
    ] {
        assert!(report.contains(expected), "`{expected}` not in:\n{report}");
    }
    // Staging on a reserved domain is expected: only a real domain gets that warning.
    assert!(!report.contains("staging certificates"), "{report}");
    assert!(out.join("clusters").is_dir());

    std::fs::remove_dir_all(&out).expect("clean");
    let strict = run(railyard()
        .args(["render", "--strict"])
        .arg(&site)
        .arg("--out")
        .arg(&out));
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert!(!out.exists(), "--strict wrote output despite warnings");

    let real = text.replace("gitpod.example.com", "gitpod.acme.dev");
    std::fs::write(&site, real).expect("write");
    let staging = run(railyard().arg("validate").arg(&site));
    assert!(
        stderr(&staging).contains("warning: staging certificates are not trusted"),
        "{}",
        stderr(&staging)
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let case = root().join("golden/err/location-unknown");
    let always =
        run(railyard()
            .current_dir(&case)
            .args(["--color", "always", "validate", "site.yaml"]));
    assert!(
        stderr(&always).contains("\u{1b}["),
        "no colour with --color always"
    );
    let auto = run(railyard()
        .current_dir(&case)
        .env_remove("NO_COLOR")
        .args(["validate", "site.yaml"]));
    assert!(!stderr(&auto).contains("\u{1b}["), "colour on a pipe");
}

#[test]
fn exit_codes() {
    let cases: &[(&[&str], i32)] = &[
        (&["validate", "no/such/site.yaml"], 2),
        (&["render", "--bogus"], 2),
        (&["schema"], 0),
        (&["validate", "examples/hetzner-small/site.yaml"], 0),
    ];
    for (args, code) in cases {
        let output = run(railyard().current_dir(root()).args(*args));
        assert_eq!(
            output.status.code(),
            Some(*code),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let schema = run(railyard().arg("schema"));
    let committed =
        std::fs::read_to_string(root().join("schema/site.schema.json")).expect("schema file");
    assert!(
        stdout(&schema) == committed,
        "`railyard schema` differs from schema/site.schema.json"
    );
}

#[test]
fn init_writes_a_commented_site_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("gitpod-eu");
    let first = run(railyard().arg("init").arg(&target));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let site = std::fs::read_to_string(target.join("site.yaml")).expect("site.yaml");
    assert!(
        site.starts_with("# yaml-language-server: $schema="),
        "{site}"
    );
    assert!(site.contains("name: gitpod-eu"));
    assert!(
        site.contains("\napiVersion: railyard.dev/v1alpha2\n"),
        "init writes the current format: {site}"
    );
    assert!(target.join(".sops.yaml").is_file());
    std::fs::write(target.join("site.yaml"), "# edited\n").expect("write");
    let second = run(railyard().arg("init").arg(&target));
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(target.join("site.yaml")).expect("kept"),
        "# edited\n"
    );
}

#[test]
fn a_cloud_command_without_a_token_names_itself_and_the_access_it_needs() {
    for (command, access) in [
        ("plan", "a read-only token suffices"),
        ("destroy", "the token needs read & write"),
    ] {
        let output = run(railyard()
            .current_dir(root())
            .env_remove("HCLOUD_TOKEN")
            .args([command, "examples/hetzner-small/site.yaml"])
            .args(["--api-url", "http://127.0.0.1:9"]));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains(&format!("`{command}` needs `HCLOUD_TOKEN`")),
            "{command}: {err}"
        );
        assert!(err.contains(access), "{command}: {err}");
    }
}
