//! railyard's cluster client (kube-rs) against a real API server (`tests/kubeapi/`, as
//! `kube_api` starts it), serving a certificate made here the way k3s' is: a CA of its own, the
//! API's private addresses and `kubernetes` as names, but not the address the test connects to
//! (127.0.0.1, as a load balancer's public address is not in k3s' certificate), so every
//! connection must check the name the kubeconfig's `tls-server-name` gives.
//!
//! - the kubeconfig bootstrap writes for a site (k3s' own, rewritten) works with `kubectl` and
//!   `railyard status`, and without `tls-server-name` neither connects;
//! - a kubeconfig whose user is an exec plugin works with `railyard status`;
//! - `railyard bootstrap` (a fake cloud, a local sshd serving the server's kubeconfig) applies
//!   the cluster half's objects, the test playing Flux's controllers by writing their status,
//!   which bootstrap's watch sees; `status` then compares them with the committed HEAD.

mod flux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};

use super::kube_api::ApiServer;
use super::oracle;
use crate::support::{railyard, root, stderr, stdout};

/// The names on the test server's certificate: the private API addresses of the examples'
/// first servers (`tls-san`) and a name k3s also puts there.
const SERVED_NAMES: [&str; 3] = ["10.2.0.10", "10.2.0.5", "kubernetes"];
/// The admin's bearer token `tests/kubeapi` accepts.
const TOKEN: &str = "railyard-test-token";
const SMALL: &str = "examples/hetzner-small/site.yaml";

/// The running server, its CA and port, and kubectl. Other cluster tests can start theirs the
/// same way: the certificate names the examples' private API addresses, so the kubeconfig
/// bootstrap writes (with `tls-server-name`) is checked as it would be against k3s.
pub(crate) struct Cluster {
    api: ApiServer,
    pub(crate) kubectl: PathBuf,
    pub(crate) ca_pem: String,
    pub(crate) port: u16,
}

impl Cluster {
    /// `None` (a `SKIPPED:` line) when kubeapi or kubectl is missing and oracles are optional.
    pub(crate) fn start() -> Option<Cluster> {
        let binary = oracle("kubeapi")?;
        let kubectl = oracle("kubectl")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = dir.path().join("certs");
        std::fs::create_dir_all(&certs).expect("mkdir");
        let (ca_pem, chain_pem, key_pem) = certificates();
        std::fs::write(certs.join("apiserver.crt"), chain_pem).expect("write");
        std::fs::write(certs.join("apiserver.key"), key_pem).expect("write");
        let api = ApiServer::start_in(&binary, dir);
        let own = std::fs::read_to_string(api.dir.path().join("kubeconfig")).expect("kubeconfig");
        let port = own
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: https://127.0.0.1:"))
            .and_then(|p| p.trim().parse().ok())
            .expect("the server's port");
        Some(Cluster {
            api,
            kubectl,
            ca_pem,
            port,
        })
    }

    pub(crate) fn admin(&self) -> Command {
        self.api.kubectl(&self.kubectl)
    }

    /// kubectl as the admin, which must succeed; its standard output.
    pub(crate) fn admin_run(&self, args: &[&str], input: Option<&str>) -> String {
        let output = piped(self.admin().args(args), input);
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// The kubeconfig k3s would write on this server: cluster, user and context `default`,
    /// k3s' own address, the CA; the admin's token where k3s puts a client certificate (this
    /// server authenticates tokens; the fake covers client certificates).
    pub(crate) fn k3s_yaml(&self) -> String {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    \
             server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    \
             cluster: default\n    user: default\n  name: default\ncurrent-context: default\n\
             kind: Config\npreferences: {{}}\nusers:\n- name: default\n  user:\n    \
             token: {TOKEN}\n"
        )
    }

    /// The kubeconfig bootstrap writes for `site` from `k3s_yaml`, at this server's address.
    pub(crate) fn written(&self, site: &str, tls_server_name: Option<&str>) -> String {
        railyard::bootstrap::kubeconfig::rewrite(
            &self.k3s_yaml(),
            site,
            &format!("https://127.0.0.1:{}", self.port),
            tls_server_name,
        )
        .expect("k3s' kubeconfig rewrites")
    }

    /// A Node as a kubelet registers it, Ready.
    pub(crate) fn add_node(&self, name: &str) {
        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": {"node-role.kubernetes.io/control-plane": "true"}}});
        self.admin_run(&["create", "-f", "-"], Some(&node.to_string()));
        let status = json!({"status": {
            "conditions": [condition("Ready", "KubeletReady", "kubelet is posting ready status")],
            "nodeInfo": {"kubeletVersion": "v1.36.3+k3s1"},
        }});
        self.admin_run(
            &[
                "patch",
                "node",
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                &status.to_string(),
            ],
            None,
        );
    }
}

/// A condition as Flux and the kubelet write them.
fn condition(kind: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": "True", "reason": reason, "message": message,
           "lastTransitionTime": "2026-01-01T00:00:00Z"})
}

/// The CA (PEM), the server's chain (certificate then CA) and its key: ECDSA P-256 as k3s
/// makes them, the names in `SERVED_NAMES`.
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "k3s-server-ca");
    let ca = ca_params.self_signed(&ca_key).expect("the CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("a server key");
    let mut params =
        CertificateParams::new(SERVED_NAMES.map(str::to_owned).to_vec()).expect("parameters");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "k3s");
    let server = params
        .signed_by(&key, &issuer)
        .expect("the server certificate");
    (
        ca.pem(),
        format!("{}{}", server.pem(), ca.pem()),
        key.serialize_pem(),
    )
}

/// Runs `command` with `input` on its standard input.
fn piped(command: &mut Command, input: Option<&str>) -> Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.unwrap_or_default().as_bytes())
        .expect("input written");
    drop(stdin);
    child.wait_with_output().expect("ends")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// `railyard status` of the small example with `kubeconfig`, from the repository's root (not
/// the kubeconfig's directory), against `repo`.
fn status(kubeconfig: &Path, repo: &Path) -> Output {
    railyard()
        .current_dir(root())
        .args(["status", SMALL, "--kubeconfig"])
        .arg(kubeconfig)
        .arg("--repo")
        .arg(repo)
        .output()
        .expect("railyard runs")
}

#[test]
fn the_kubeconfig_written_for_a_site_works_with_kubectl_and_status() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    cluster.add_node("demo-small-server-0");
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write(
        dir.path(),
        "demo-small.yaml",
        &cluster.written("demo-small", Some("10.2.0.10")),
    );
    let nodes = Command::new(&cluster.kubectl)
        .arg("--kubeconfig")
        .arg(&written)
        .args(["get", "nodes", "-o", "name"])
        .output()
        .expect("kubectl runs");
    assert!(nodes.status.success(), "{}", stderr(&nodes));
    assert_eq!(stdout(&nodes).trim(), "node/demo-small-server-0");

    let output = status(&written, dir.path());
    let report = stdout(&output);
    assert!(
        report.contains("demo-small-server-0"),
        "{report}\n{}",
        stderr(&output)
    );
    assert!(report.contains("ready"), "{report}");
    // No Flux here: its kinds are not installed, so status reports findings (exit 1).
    assert!(report.contains("(Flux's API is not installed)"), "{report}");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    // The certificate does not name 127.0.0.1: without `tls-server-name` neither connects.
    let unnamed = write(
        dir.path(),
        "unnamed.yaml",
        &cluster.written("demo-small", None),
    );
    let refused = Command::new(&cluster.kubectl)
        .arg("--kubeconfig")
        .arg(&unnamed)
        .args(["get", "nodes"])
        .output()
        .expect("kubectl runs");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("x509"), "{}", stderr(&refused));
    let output = status(&unnamed, dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("certificate"),
        "{}",
        stderr(&output)
    );
}

/// A kubeconfig whose user is an exec plugin (`client.authentication.k8s.io/v1`), as cloud
/// CLIs and OIDC helpers write them; the CA as a file named relative to the kubeconfig, as
/// kubectl reads it.
fn exec_kubeconfig(cluster: &Cluster, plugin: &Path) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    \
         server: https://127.0.0.1:{port}\n    certificate-authority: ca.pem\n    \
         tls-server-name: kubernetes\nusers:\n- name: u\n  user:\n    exec:\n      \
         apiVersion: client.authentication.k8s.io/v1\n      command: {plugin}\n      \
         args: [\"--cluster\", \"c\"]\n      interactiveMode: Never\ncontexts:\n- name: x\n  \
         context: {{cluster: c, user: u}}\ncurrent-context: x\n",
        port = cluster.port,
        plugin = plugin.display(),
    )
}

/// A plugin printing an ExecCredential with `token`; it leaves `ran` behind when it runs.
fn plugin(dir: &Path, name: &str, token: &str) -> PathBuf {
    let ran = dir.join(format!("{name}.ran"));
    let path = write(
        dir,
        name,
        &format!(
            "#!/bin/sh\ntouch '{}'\ncat <<'EOF'\n{{\"apiVersion\": \"client.authentication.k8s.io/v1\", \
             \"kind\": \"ExecCredential\", \"status\": {{\"token\": \"{token}\"}}}}\nEOF\n",
            ran.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn an_exec_plugin_authenticates_status() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    cluster.add_node("demo-small-server-0");
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "ca.pem", &cluster.ca_pem);
    let good = plugin(dir.path(), "good-plugin", TOKEN);
    let config = write(dir.path(), "exec.yaml", &exec_kubeconfig(&cluster, &good));
    let output = status(&config, dir.path());
    let report = stdout(&output);
    assert!(dir.path().join("good-plugin.ran").exists());
    assert!(
        report.contains("demo-small-server-0"),
        "{report}\n{}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    // A plugin whose token the server does not know: refused, and said so.
    let bad = plugin(dir.path(), "bad-plugin", "not-the-token");
    let config = write(dir.path(), "bad.yaml", &exec_kubeconfig(&cluster, &bad));
    let output = status(&config, dir.path());
    assert!(dir.path().join("bad-plugin.ran").exists());
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(stderr(&output).contains("401"), "{}", stderr(&output));
}
