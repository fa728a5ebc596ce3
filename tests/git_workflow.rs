//! `commit` and `diff --git` on real repositories made in temporary directories, checked with
//! the `git` command line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::support::{copy_inputs, railyard, root, run, stderr, stdout};

/// A site directory (copy of the small example) and an empty repository beside it.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::of("hetzner-small")
    }

    /// A fixture for the example site in `examples/<example>`.
    fn of(example: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_inputs(
            &root().join("examples").join(example),
            &dir.path().join("site"),
        );
        let fixture = Fixture { dir };
        std::fs::create_dir_all(fixture.repo()).expect("mkdir");
        fixture.git(&["init", "-q", "-b", "main"]);
        fixture.git(&["config", "user.name", "Railyard Test"]);
        fixture.git(&["config", "user.email", "test@example.com"]);
        std::fs::write(fixture.repo().join("README.md"), "# fleet\n").expect("write");
        fixture.git(&["add", "README.md"]);
        fixture.git(&["commit", "-q", "-m", "init"]);
        fixture
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn site(&self) -> PathBuf {
        self.dir.path().join("site/site.yaml")
    }

    fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .current_dir(self.repo())
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    fn commit(&self, extra: &[&str]) -> std::process::Output {
        run(railyard()
            .arg("commit")
            .arg(self.site())
            .arg("--repo")
            .arg(self.repo())
            .args(extra))
    }

    fn edit_site(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.site()).expect("site");
        assert!(text.contains(from));
        std::fs::write(self.site(), text.replacen(from, to, 1)).expect("write");
    }

    fn fsck(&self) {
        let output = Command::new("git")
            .current_dir(self.repo())
            .args(["fsck", "--strict"])
            .output()
            .expect("git fsck");
        assert!(
            output.status.success(),
            "git fsck: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.is_empty()).collect()
}

#[test]
fn commit_then_nothing_to_commit() {
    let f = Fixture::new();
    let first = f.commit(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let head = f.head();
    assert!(
        f.git(&["log", "-1", "--format=%B"])
            .contains("Inputs: sha256:"),
        "the message names the input digest"
    );
    assert!(
        f.git(&["status", "--porcelain"]).is_empty(),
        "work tree clean after commit"
    );
    let second = f.commit(&[]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).contains("nothing to commit"),
        "{}",
        stdout(&second)
    );
    assert_eq!(f.head(), head, "a commit without changes");
    f.fsck();
}

#[test]
fn the_default_message_says_what_changed_and_a_message_wins() {
    let f = Fixture::of("hetzner-medium");
    let first = f.commit(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let log = f.git(&["log", "-1", "--format=%B"]);
    assert!(
        log.starts_with("railyard: demo-medium: first render\n\n"),
        "{log}"
    );
    f.edit_site(
        "    workers: 5\n",
        "    workers: 6\n  versions:\n    k3s: v1.36.3+k3s1\n",
    );
    let second = f.commit(&[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let log = f.git(&["log", "-1", "--format=%B"]);
    let subject = log.lines().next().unwrap_or_default();
    assert_eq!(
        subject, "railyard: demo-medium: k3s v1.36.2 → v1.36.3, 5 workers → 6",
        "{log}"
    );
    for file in [
        "  ~ hosts/demo-medium/machines.yaml",
        "  ~ hosts/demo-medium/cloud-init/server-0.yaml",
    ] {
        assert!(
            log.lines().any(|l| l == file),
            "the body lists {file}: {log}"
        );
    }
    assert!(log.contains("Inputs: sha256:"), "{log}");
    f.edit_site("    workers: 6\n", "    workers: 7\n");
    let third = f.commit(&["--message", "scale out for the release"]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    let log = f.git(&["log", "-1", "--format=%B"]);
    assert!(
        log.starts_with("scale out for the release\n\nSite: demo-medium\n"),
        "{log}"
    );
}

#[test]
fn changing_the_domain_changes_exactly_the_expected_files_and_objects() {
    let f = Fixture::new();
    assert_eq!(f.commit(&[]).status.code(), Some(0));
    f.edit_site(
        "domain: gitpod-small.example.com",
        "domain: gitpod.example.org",
    );
    let diff = run(railyard()
        .arg("diff")
        .arg(f.site())
        .args(["--git", "HEAD", "--repo"])
        .arg(f.repo()));
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let text = stdout(&diff);
    for expected in [
        "~ Certificate gitpod/https-certificates",
        "spec.dnsNames[0] gitpod-small.example.com → gitpod.example.org",
        "~ ConfigMap gitpod/gitpod-installer-config",
        "+ Job gitpod/gitpod-installer-",
        "- Job gitpod/gitpod-installer-",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }
    assert_eq!(f.commit(&[]).status.code(), Some(0));
    let changed = f.git(&["diff", "--name-only", "HEAD~1", "HEAD"]);
    assert_eq!(
        lines(&changed),
        [
            ".railyard/demo-small.lock",
            "clusters/demo-small/certificates/certificate.yaml",
            "clusters/demo-small/gitpod/installer-config.yaml",
            "clusters/demo-small/gitpod/installer-job.yaml",
            "clusters/demo-small/gitpod/secrets.yaml",
            "hosts/demo-small/dns-records.yaml",
        ]
    );
    let after = run(railyard()
        .arg("diff")
        .arg(f.site())
        .args(["--git", "HEAD", "--repo"])
        .arg(f.repo()));
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
}

#[test]
fn a_hand_edit_is_reported_and_refused() {
    let f = Fixture::new();
    assert_eq!(f.commit(&[]).status.code(), Some(0));
    let machines = f.repo().join("hosts/demo-small/machines.yaml");
    let edited = std::fs::read_to_string(&machines)
        .expect("read")
        .replace("count: 1", "count: 3");
    std::fs::write(&machines, &edited).expect("write");
    let check = run(railyard()
        .arg("render")
        .arg(f.site())
        .arg("--out")
        .arg(f.repo())
        .arg("--check"));
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("edited by hand: hosts/demo-small/machines.yaml"),
        "{}",
        stdout(&check)
    );
    let head = f.head();
    let refused = f.commit(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("uncommitted changes")
            && stderr(&refused).contains("hosts/demo-small/machines.yaml"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(f.head(), head);
    assert_eq!(
        std::fs::read_to_string(&machines).expect("read"),
        edited,
        "the hand edit was overwritten"
    );
}

#[test]
fn refuses_other_branches_detached_heads_and_merges() {
    let f = Fixture::new();
    let wrong_branch = f.commit(&["--branch", "production"]);
    assert_eq!(wrong_branch.status.code(), Some(1));
    assert!(
        stderr(&wrong_branch).contains("`production` is not checked out"),
        "{}",
        stderr(&wrong_branch)
    );

    let head = f.head();
    f.git(&["checkout", "-q", "--detach"]);
    let detached = f.commit(&[]);
    assert_eq!(detached.status.code(), Some(1));
    assert!(
        stderr(&detached).contains("detached"),
        "{}",
        stderr(&detached)
    );
    f.git(&["checkout", "-q", "main"]);

    // A conflicting merge left in progress.
    f.git(&["checkout", "-q", "-b", "side"]);
    std::fs::write(f.repo().join("README.md"), "# side\n").expect("write");
    f.git(&["commit", "-q", "-am", "side"]);
    f.git(&["checkout", "-q", "main"]);
    std::fs::write(f.repo().join("README.md"), "# main\n").expect("write");
    f.git(&["commit", "-q", "-am", "main"]);
    let merge = Command::new("git")
        .current_dir(f.repo())
        .args(["merge", "-q", "side"])
        .output()
        .expect("git merge");
    assert!(!merge.status.success(), "the merge should conflict");
    let merging_head = f.head();
    let mid_merge = f.commit(&[]);
    assert_eq!(mid_merge.status.code(), Some(1));
    assert!(
        stderr(&mid_merge).contains("merge"),
        "{}",
        stderr(&mid_merge)
    );
    assert_eq!(f.head(), merging_head);
    assert!(!f.repo().join("clusters").exists(), "nothing was written");
    assert_ne!(head, merging_head);
}

#[test]
fn staged_changes_of_the_user_stay_out_of_the_commit() {
    let f = Fixture::new();
    std::fs::write(f.repo().join("notes.txt"), "mine\n").expect("write");
    f.git(&["add", "notes.txt"]);
    assert_eq!(f.commit(&[]).status.code(), Some(0));
    let committed = f.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert!(!committed.contains("notes.txt"), "{committed}");
    assert_eq!(f.git(&["status", "--porcelain"]), "A  notes.txt\n");
}

/// Kills a commit at `failpoint`; the repository must stay valid and reach the new commit on
/// the next run.
fn kill_commit_at(failpoint: &str) {
    let f = Fixture::new();
    let old = f.head();
    let mut child = railyard()
        .env("RAILYARD_FAILPOINT", failpoint)
        .arg("commit")
        .arg(f.site())
        .arg("--repo")
        .arg(f.repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.contains(&format!("failpoint {failpoint} reached")))),
        "never reached {failpoint}"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    f.fsck();
    let after_kill = f.head();
    let parents = f.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert!(
        after_kill == old || parents.contains(&old),
        "HEAD is neither the old commit nor its child"
    );
    let resumed = f.commit(&[]);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{failpoint}: {}",
        stderr(&resumed)
    );
    f.fsck();
    assert_eq!(
        f.git(&["rev-list", "--count", "HEAD"]).trim(),
        "2",
        "{failpoint}: exactly one railyard commit"
    );
    assert!(
        f.git(&["status", "--porcelain"]).is_empty(),
        "{failpoint}: work tree clean"
    );
    let check = run(railyard()
        .arg("render")
        .arg(f.site())
        .arg("--out")
        .arg(f.repo())
        .arg("--check"));
    assert_eq!(
        check.status.code(),
        Some(0),
        "{failpoint}: {}",
        stdout(&check)
    );
}

#[test]
fn a_commit_killed_at_any_point_leaves_a_valid_repository() {
    for failpoint in [
        "render-staged",
        "render-committed",
        "commit-staged",
        "commit-written",
    ] {
        kill_commit_at(failpoint);
    }
}

#[test]
fn diff_against_a_revision_reads_no_work_tree() {
    let f = Fixture::new();
    assert_eq!(f.commit(&[]).status.code(), Some(0));
    // Deleting the work tree's copy changes nothing for `--git`: it reads the object database.
    std::fs::remove_dir_all(f.repo().join("clusters")).expect("remove");
    let same = run(railyard()
        .arg("diff")
        .arg(f.site())
        .args(["--git", "HEAD", "--repo"])
        .arg(f.repo()));
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
}

/// The commands of `examples/ci/` work on a fleet repository laid out as they expect, and touch
/// only the site they concern.
#[test]
fn the_pull_request_workflow_runs_on_a_fleet_repository() {
    let workflow =
        std::fs::read_to_string(root().join("examples/ci/github-actions.yaml")).expect("workflow");
    let hooks =
        std::fs::read_to_string(root().join("examples/ci/pre-commit-config.yaml")).expect("hooks");
    for command in [
        "railyard diff --all sites --git",
        "--repo . --format markdown",
        "railyard render --check --all sites --out rendered",
    ] {
        assert!(
            workflow.contains(command),
            "the workflow no longer runs `{command}`"
        );
    }
    assert!(hooks.contains("railyard render --check --all sites --out rendered"));

    let f = Fixture::new();
    for name in ["alpha", "beta"] {
        let dir = f.repo().join("sites").join(name);
        copy_inputs(&root().join("examples/hetzner-small"), &dir);
        let text = std::fs::read_to_string(dir.join("site.yaml")).expect("site");
        let text = text
            .replace("name: demo-small", &format!("name: {name}"))
            .replace("branch: main\n", "branch: main\n    path: rendered\n");
        std::fs::write(dir.join("site.yaml"), text).expect("write");
    }
    let in_repo = |args: &[&str]| run(railyard().current_dir(f.repo()).args(args));
    assert_eq!(
        in_repo(&["render", "--all", "sites", "--out", "rendered"])
            .status
            .code(),
        Some(0)
    );
    f.git(&["add", "-A"]);
    f.git(&["commit", "-q", "-m", "fleet"]);
    let base = f.head();
    assert_eq!(
        in_repo(&["render", "--check", "--all", "sites", "--out", "rendered"])
            .status
            .code(),
        Some(0)
    );

    // A pull request that changes only alpha's domain.
    let alpha = f.repo().join("sites/alpha/site.yaml");
    let text = std::fs::read_to_string(&alpha)
        .expect("site")
        .replace("gitpod-small.example.com", "gitpod-alpha.example.com");
    std::fs::write(&alpha, text).expect("write");
    let stale = in_repo(&["render", "--check", "--all", "sites", "--out", "rendered"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        stdout(&stale).contains("site `alpha`") && !stdout(&stale).contains("site `beta`"),
        "{}",
        stdout(&stale)
    );
    let diff = in_repo(&[
        "diff", "--all", "sites", "--git", &base, "--repo", ".", "--format", "markdown",
    ]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let markdown = stdout(&diff);
    assert!(
        markdown.contains("### railyard: site `alpha`")
            && markdown.contains("`Certificate gitpod/https-certificates`"),
        "{markdown}"
    );
    assert!(
        markdown.contains("### railyard: site `beta`\n\nNo changes."),
        "{markdown}"
    );
    assert_eq!(
        in_repo(&["render", "--all", "sites", "--out", "rendered"])
            .status
            .code(),
        Some(0)
    );
    let changed = f.git(&["status", "--porcelain"]);
    assert!(
        changed.lines().all(|l| l.contains("alpha")),
        "files of another site changed:\n{changed}"
    );
    assert_eq!(
        in_repo(&["render", "--check", "--all", "sites", "--out", "rendered"])
            .status
            .code(),
        Some(0)
    );
}
