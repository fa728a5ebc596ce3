//! The git host: a bare repository served over SSH by a real `sshd` on loopback, logging in as
//! the current user (as `git@` does on a forge) with keys that may run git's commands only.
//! Nobody may log in until the test adds a deploy key, as a user adds one to their forge.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running sshd and the bare repository it serves; stopped when dropped.
pub(super) struct GitHost {
    child: Child,
    port: u16,
    user: String,
    dir: PathBuf,
}

impl Drop for GitHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GitHost {
    /// Starts sshd with a fresh host key and an empty `authorized_keys`, and an empty bare
    /// repository `site.git` under `dir`.
    pub(super) fn start(sshd: &Path, dir: &Path) -> GitHost {
        std::fs::create_dir_all(dir).expect("git host dir");
        git(
            dir,
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                "site.git",
            ],
        );
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(dir.join("host_key"))
            .status()
            .expect("ssh-keygen");
        assert!(status.success(), "ssh-keygen failed");
        std::fs::write(dir.join("authorized_keys"), "").expect("authorized_keys");
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = free_port();
        let user = whoami();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nAllowUsers {user}\n",
            d = dir.display()
        );
        std::fs::write(dir.join("sshd_config"), config).expect("sshd_config");
        let log = std::fs::File::create(dir.join("sshd.log")).expect("sshd.log");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        GitHost {
            child,
            port,
            user,
            dir: dir.to_owned(),
        }
    }

    /// The URL a site's `spec.git.url` names the repository by.
    pub(super) fn url(&self) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            self.bare().display()
        )
    }

    pub(super) fn bare(&self) -> PathBuf {
        self.dir.join("site.git")
    }

    /// The host's public key, as a `known_hosts` entry would carry it.
    pub(super) fn host_key(&self) -> String {
        std::fs::read_to_string(self.dir.join("host_key.pub")).expect("host key")
    }

    /// Lets `public` (an OpenSSH public key line) read the repository, and nothing else: no
    /// shell, no forwarding, only git's own commands through `git-shell`.
    pub(super) fn add_deploy_key(&self, public: &str) {
        let line = format!(
            "restrict,command=\"git-shell -c \\\"$SSH_ORIGINAL_COMMAND\\\"\" {}\n",
            public.trim()
        );
        std::fs::write(self.dir.join("authorized_keys"), line).expect("authorized_keys");
    }

    /// What sshd logged, for a failure message.
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }
}

/// Commits `tree` (a rendered repository) onto `main` of the bare repository `bare` from a
/// scratch work tree `work`, and returns the commit's hash.
pub(super) fn push_render(tree: &Path, work: &Path, bare: &Path, message: &str) -> String {
    if !work.join(".git").exists() {
        let (bare, work) = (bare.to_str().expect("UTF-8"), work.to_str().expect("UTF-8"));
        git(Path::new("/"), &["clone", "--quiet", bare, work]);
    }
    copy_tree(tree, work);
    for args in [
        &["add", "--all"][..],
        &[
            "-c",
            "user.name=railyard tests",
            "-c",
            "user.email=tests@railyard.invalid",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message,
        ],
        &["push", "--quiet", "origin", "HEAD:main"],
    ] {
        git(work, args);
    }
    git(work, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Runs git in `dir`, free of the user's configuration; its standard output.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A loopback port nobody listens on right now.
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
