//! Fetching k3s' kubeconfig over SSH, against a real `sshd` (Debian's openssh-server) started
//! on a loopback port, then rewriting it for use from outside.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use railyard::bootstrap::kubeconfig;
use railyard::edge::ssh::{self, Target};

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
}

/// An sshd that answers every login of the client key with the content of `served`.
pub(crate) struct Sshd {
    child: Child,
    pub(crate) port: u16,
    pub(crate) client_key: PathBuf,
    pub(crate) dir: tempfile::TempDir,
}

impl Sshd {
    pub(crate) fn start(sshd: &Path, served: &str) -> Sshd {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).expect("copy");
        std::fs::write(d.join("k3s.yaml"), served).expect("write");
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = free_port();
        let user = whoami();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\nAllowUsers {user}\n\
             ForceCommand cat {d}/k3s.yaml\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).expect("write");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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
        Sshd {
            child,
            port,
            client_key: d.join("client_key"),
            dir,
        }
    }

    fn target(&self, ports: Vec<u16>) -> Target {
        Target {
            host: "127.0.0.1".to_owned(),
            ports,
            user: whoami(),
            identity: Some(self.client_key.clone()),
            known_hosts: self.dir.path().join("known_hosts"),
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub(crate) const K3S_YAML: &str = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\nusers:\n- name: default\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n";

/// The sshd binary: Debian's `/usr/sbin/sshd` (not on a user's PATH), or one on PATH.
pub(crate) fn sshd_binary() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/sbin/sshd");
    if debian.exists() {
        return Some(debian);
    }
    crate::oracles::oracle("sshd")
}

#[test]
fn the_kubeconfig_comes_over_ssh_from_the_second_port_and_is_rewritten() {
    let Some(sshd) = sshd_binary() else {
        return;
    };
    let server = Sshd::start(&sshd, K3S_YAML);
    // 2244 is tried first in real use; here a closed port stands for it, then sshd's own.
    let target = server.target(vec![free_port(), server.port]);
    let fetched = ssh::wait_for(
        &target,
        "cat /etc/rancher/k3s/k3s.yaml",
        Duration::from_millis(100),
        Duration::from_secs(20),
    )
    .expect("fetched");
    assert_eq!(fetched, K3S_YAML);
    let rewritten =
        kubeconfig::rewrite(&fetched, "demo", "https://203.0.113.7:6443", None).expect("rewritten");
    assert!(rewritten.contains("server: https://203.0.113.7:6443"));
    assert!(rewritten.contains("current-context: demo"));
    // The host key was remembered in railyard's own file, not the user's.
    let known =
        std::fs::read_to_string(server.dir.path().join("known_hosts")).expect("known_hosts");
    assert!(known.contains("ssh-ed25519"), "{known}");
}

#[test]
fn a_machine_that_never_answers_is_a_timeout_naming_it() {
    let target = Target {
        host: "127.0.0.1".to_owned(),
        ports: vec![free_port()],
        user: "root".to_owned(),
        identity: None,
        known_hosts: std::env::temp_dir().join("railyard-test-known-hosts"),
    };
    let error = ssh::wait_for(
        &target,
        "true",
        Duration::from_millis(50),
        Duration::from_millis(300),
    )
    .expect_err("nobody listens");
    let message = error.to_string();
    assert!(
        message.contains("127.0.0.1") && message.contains("did not answer"),
        "{message}"
    );
}

/// The git host's keys for the deploy-key Secret's `known_hosts`, as `ssh-keyscan` reads them.
#[test]
fn keyscan_reads_the_host_keys_a_server_offers() {
    let Some(sshd) = sshd_binary() else {
        return;
    };
    let server = Sshd::start(&sshd, K3S_YAML);
    let lines = ssh::keyscan("127.0.0.1", server.port).expect("scanned");
    let host_key = std::fs::read_to_string(server.dir.path().join("host_key.pub")).expect("key");
    let blob = host_key.split_whitespace().nth(1).expect("a key blob");
    assert!(
        lines.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 {blob}", server.port)),
        "{lines}"
    );
    let error = ssh::keyscan("127.0.0.1", free_port()).expect_err("nobody listens");
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
}
