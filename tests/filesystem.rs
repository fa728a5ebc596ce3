//! Hostile filesystem conditions: a read-only output, a file where a directory goes, a full
//! disk, unreadable inputs. Each is an error naming the path, exit 2, earlier output intact.
//!
//! Permissions do not stop root, so when the tests run as root the binary runs as `nobody`
//! (`setpriv`) in a tree that `nobody` owns. The full disk is a small tmpfs, which only root
//! can mount; elsewhere that case reports SKIPPED (and fails under RAILYARD_REQUIRE_ORACLES).

use std::path::Path;
use std::process::Command;

use crate::support::{railyard, root, run, snapshot, stderr};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The binary, run as an unprivileged user when the tests run as root.
fn unprivileged() -> Command {
    if !is_root() {
        return railyard();
    }
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_railyard"))
        .env("NO_COLOR", "1");
    command
}

fn chown_to_nobody(dir: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir)
            .status()
            .expect("chown");
        assert!(status.success());
    }
}

fn chmod(path: &Path, mode: &str) {
    let status = Command::new("chmod")
        .arg(mode)
        .arg(path)
        .status()
        .expect("chmod");
    assert!(status.success());
}

fn chmod_recursive(path: &Path, mode: &str) {
    let status = Command::new("chmod")
        .args(["-R", mode])
        .arg(path)
        .status()
        .expect("chmod");
    assert!(status.success());
}

/// A work tree with the example site in `site/`, rendered once into `rendered/`.
fn rendered_site() -> tempfile::TempDir {
    let top = tempfile::tempdir().expect("tempdir");
    let example = root().join("examples/hetzner-small");
    std::fs::create_dir_all(top.path().join("site")).expect("mkdir");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(example.join(file), top.path().join("site").join(file)).expect("copy");
    }
    chmod(top.path(), "755");
    chown_to_nobody(top.path());
    render_expecting(top.path(), 0);
    top
}

fn render_expecting(work: &Path, code: i32) -> String {
    let output = run(unprivileged().current_dir(work).args([
        "render",
        "site/site.yaml",
        "--out",
        "rendered",
    ]));
    assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
    stderr(&output)
}

/// A change that rewrites many files, so that the next render has work to do.
fn change_site(work: &Path) {
    let path = work.join("site/site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    std::fs::write(
        &path,
        text.replace("gitpod-small.example.com", "gitpod.example.org"),
    )
    .expect("site");
}

fn assert_names(stderr: &str, path: &str) {
    assert!(
        stderr.contains(&format!("`{path}")),
        "the error does not name `{path}`:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_read_only_output_directory_is_an_error_and_changes_nothing() {
    let work = rendered_site();
    change_site(work.path());
    let before = snapshot(&work.path().join("rendered"));
    let rendered = work.path().join("rendered");
    chmod_recursive(&rendered, "a-w");
    let stderr = render_expecting(work.path(), 2);
    chmod_recursive(&rendered, "u+w");
    assert_names(&stderr, "rendered/");
    assert!(
        snapshot(&work.path().join("rendered")) == before,
        "earlier output changed"
    );
}

#[test]
fn a_file_where_a_directory_goes_is_an_error_and_changes_nothing() {
    let work = rendered_site();
    let hosts = work.path().join("rendered/hosts");
    std::fs::remove_dir_all(&hosts).expect("rm");
    std::fs::write(&hosts, "a file the user put here\n").expect("write");
    chown_to_nobody(work.path());
    change_site(work.path());
    let before = snapshot(&work.path().join("rendered"));
    let stderr = render_expecting(work.path(), 2);
    assert_names(&stderr, "rendered/hosts");
    assert!(
        snapshot(&work.path().join("rendered")) == before,
        "earlier output changed"
    );

    // `--out` naming a file.
    let output = run(unprivileged().current_dir(work.path()).args([
        "render",
        "site/site.yaml",
        "--out",
        "rendered/hosts",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert_names(&crate::support::stderr(&output), "rendered/hosts");
    assert!(
        snapshot(&work.path().join("rendered")) == before,
        "earlier output changed"
    );
}

#[test]
fn an_unreadable_secrets_file_is_an_error_naming_it() {
    let work = rendered_site();
    let before = snapshot(&work.path().join("rendered"));
    chmod(&work.path().join("site/secrets.sops.yaml"), "000");
    change_site(work.path());
    for command in [
        &["validate", "site/site.yaml"][..],
        &["render", "site/site.yaml", "--out", "rendered"],
    ] {
        let output = run(unprivileged().current_dir(work.path()).args(command));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command:?}: {}",
            stderr(&output)
        );
        assert_names(&stderr(&output), "site/secrets.sops.yaml");
        assert!(
            stderr(&output).contains("ermission denied"),
            "{}",
            stderr(&output)
        );
    }
    assert!(
        snapshot(&work.path().join("rendered")) == before,
        "earlier output changed"
    );
}

#[test]
fn an_unreadable_overlay_file_is_an_error_naming_it() {
    let work = rendered_site();
    let site = work.path().join("site/site.yaml");
    let text = std::fs::read_to_string(&site).expect("site");
    std::fs::write(
        &site,
        text.replace("  secrets:\n", "  overlays:\n    - ov\n  secrets:\n"),
    )
    .expect("site");
    std::fs::create_dir_all(work.path().join("site/ov")).expect("mkdir");
    std::fs::write(
        work.path().join("site/ov/kustomization.yaml"),
        "resources: []\n",
    )
    .expect("write");
    chown_to_nobody(work.path());
    chmod(&work.path().join("site/ov/kustomization.yaml"), "000");
    let before = snapshot(&work.path().join("rendered"));
    let stderr = render_expecting(work.path(), 2);
    assert_names(&stderr, "site/ov/kustomization.yaml");
    assert!(
        snapshot(&work.path().join("rendered")) == before,
        "earlier output changed"
    );
}

/// The output on a tmpfs that a filler file has filled: the staging cannot be written.
#[test]
fn a_full_disk_is_an_error_and_leaves_the_earlier_output() {
    if !is_root() {
        assert!(
            std::env::var_os("RAILYARD_REQUIRE_ORACLES").is_none(),
            "mounting a small tmpfs needs root"
        );
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return;
    }
    let work = rendered_site();
    let disk = work.path().join("disk");
    std::fs::create_dir_all(&disk).expect("mkdir");
    let mount = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=1m,mode=0755,uid=65534,gid=65534",
            "tmpfs",
        ])
        .arg(&disk)
        .status()
        .expect("mount");
    assert!(mount.success(), "mount tmpfs");
    let result = std::panic::catch_unwind(|| {
        let copy = Command::new("cp")
            .args(["-a", "rendered", "disk/rendered"])
            .current_dir(work.path())
            .status()
            .expect("cp");
        assert!(copy.success());
        // Fill what is left; `dd` stops at ENOSPC with an error, which is the point.
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "of=disk/filler", "bs=4k"])
            .current_dir(work.path())
            .output();
        change_site(work.path());
        let before = snapshot(&disk.join("rendered"));
        let output = run(unprivileged().current_dir(work.path()).args([
            "render",
            "site/site.yaml",
            "--out",
            "disk/rendered",
        ]));
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert_names(&stderr(&output), "disk/rendered/");
        assert!(stderr(&output).contains("space"), "{}", stderr(&output));
        assert!(
            snapshot(&disk.join("rendered")) == before,
            "earlier output changed"
        );
        // Room again: the next render finishes the job.
        std::fs::remove_file(disk.join("filler")).expect("rm filler");
        let output = run(unprivileged().current_dir(work.path()).args([
            "render",
            "site/site.yaml",
            "--out",
            "disk/rendered",
        ]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    });
    let _ = Command::new("umount").arg(&disk).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
