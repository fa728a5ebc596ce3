//! A real Kubernetes API server judges the rendered Flux layers: `tests/kubeapi/` (etcd and
//! kube-apiserver, the versions its `go.mod` pins, built by `tests/run.sh` into
//! `.oracles/bin/kubeapi`) is started once; the upstream CRDs from `../shared/crds/` are
//! installed; then every Flux layer of every golden tree, built as Flux builds it
//! (`kubectl kustomize`, with the post-build substitution Flux applies), goes through a
//! server-side apply dry run, so each object passes the API server's own decoding, defaulting,
//! validation and admission, CRD schemas included.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{crate_root, crds_dir, golden_trees, oracle};

/// What a `${name}` becomes before the dry run, as Flux's post-build substitution would fill it
/// from the secrets file: valid base64 (a Secret's `data`) and a plain string anywhere else.
const SUBSTITUTE: &str = "c3Vic3RpdHV0ZWQ=";
/// JSON values as users store them (one line, as Flux strips line breaks from values): a
/// registry's Docker config, which the API server parses in a `kubernetes.io/dockerconfigjson`
/// Secret, and Gitpod's database encryption keys as `secrets init` generates them. Substituted
/// into a plain scalar, either would become a YAML mapping or list and be refused.
const DOCKER_CONFIG: &str = r#"{"auths":{"registry.acme.dev":{"auth":"dTpw"}}}"#;
const ENCRYPTION_KEYS: &str =
    r#"[{"name":"general","version":1,"primary":true,"material":"c3Vic3RpdHV0ZWQ="}]"#;

/// The API server, stopped when dropped.
pub(super) struct ApiServer {
    child: Child,
    pub(super) dir: tempfile::TempDir,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ApiServer {
    pub(super) fn start(binary: &Path) -> ApiServer {
        ApiServer::start_in(binary, tempfile::tempdir().expect("tempdir"))
    }

    /// Started in `dir`, which may hold its serving certificate already
    /// (`certs/apiserver.crt` and `.key`: kube-apiserver makes a self-signed one only when
    /// its `--cert-dir` has none).
    pub(super) fn start_in(binary: &Path, dir: tempfile::TempDir) -> ApiServer {
        let mut child = Command::new(binary)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubeapi starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("kubeapi reports");
        assert_eq!(line.trim(), "ready", "kubeapi did not become ready");
        ApiServer { child, dir }
    }

    /// Where the server keeps its state: `kubeconfig`, `certs/`.
    pub(super) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The kubeconfig the server wrote (a bearer token with cluster-admin rights).
    pub(super) fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// kubectl as the server's admin (its own kubeconfig: a token, the certificate unchecked).
    pub(super) fn kubectl(&self, kubectl: &Path) -> Command {
        let mut command = Command::new(kubectl);
        command.env("KUBECONFIG", self.dir.path().join("kubeconfig"));
        command
    }
}

#[test]
fn rendered_layers_pass_a_real_api_server() {
    let (Some(binary), Some(kubectl)) = (oracle("kubeapi"), oracle("kubectl")) else {
        return;
    };
    let server = ApiServer::start(&binary);
    install_crds(&server, &kubectl);
    let mut failures = Vec::new();
    let mut checked = 0;
    // The API server starts with these.
    let mut namespaces: std::collections::BTreeSet<String> =
        ["default", "kube-system", "kube-public", "kube-node-lease"]
            .map(str::to_owned)
            .into();
    // One dry run per tree (kubectl names each refused object), its layers built one by one.
    for tree in golden_trees() {
        let documents: Vec<String> = layers(&tree)
            .iter()
            .flat_map(|layer| built(&kubectl, layer))
            .collect();
        create_namespaces(&server, &kubectl, &documents, &mut namespaces);
        checked += documents.len();
        if let Some(failure) = dry_run(&server, &kubectl, &documents) {
            failures.push(format!("{}:\n{failure}", shown(&tree)));
        }
    }
    assert!(checked > 500, "only {checked} objects were checked");
    assert!(
        failures.is_empty(),
        "the API server refused:\n{}",
        failures.join("\n")
    );
}

pub(super) fn install_crds(server: &ApiServer, kubectl: &Path) {
    let applied = server
        .kubectl(kubectl)
        .args(["apply", "--server-side", "-f"])
        .arg(crds_dir())
        .output()
        .expect("kubectl runs");
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let established = server
        .kubectl(kubectl)
        .args([
            "wait",
            "--for",
            "condition=established",
            "crd",
            "--all",
            "--timeout=120s",
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        established.status.success(),
        "{}",
        String::from_utf8_lossy(&established.stderr)
    );
}

/// Every directory Flux builds: `flux-system` and each layer beside it.
fn layers(tree: &Path) -> Vec<PathBuf> {
    let mut layers = Vec::new();
    for site in sorted(&tree.join("clusters")) {
        layers.extend(
            sorted(&site)
                .into_iter()
                .filter(|d| d.join("kustomization.yaml").is_file()),
        );
    }
    layers
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries
}

/// The layer as Flux applies it: built, the SOPS file left out (Flux decrypts it first; its
/// Secret's shape is checked elsewhere), `${name}` substituted.
fn built(kubectl: &Path, layer: &Path) -> Vec<String> {
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(layer)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}: {}",
        shown(layer),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .split("\n---\n")
        .filter(|d| !d.starts_with("sops:") && !d.contains("\nsops:\n"))
        .map(substitute)
        .collect()
}

/// Flux's post-build substitution for `${name}` (names of letters, digits and `_`).
fn substitute(document: &str) -> String {
    let mut out = String::with_capacity(document.len());
    let mut rest = document;
    while let Some(start) = rest.find("${") {
        let name_end = rest[start + 2..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(|i| start + 2 + i);
        match name_end {
            Some(end) if rest[end..].starts_with('}') && end > start + 2 => {
                out.push_str(&rest[..start]);
                let name = &rest[start + 2..end];
                out.push_str(if name.ends_with("docker_config") {
                    DOCKER_CONFIG
                } else if name.ends_with("encryption_keys") {
                    ENCRYPTION_KEYS
                } else {
                    SUBSTITUTE
                });
                rest = &rest[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The namespaces the objects are in, created for real: a dry run in a missing namespace fails.
fn create_namespaces(
    server: &ApiServer,
    kubectl: &Path,
    documents: &[String],
    created: &mut std::collections::BTreeSet<String>,
) {
    for document in documents {
        let Some(namespace) = value(document)["metadata"]["namespace"]
            .as_str()
            .map(str::to_owned)
        else {
            continue;
        };
        if created.insert(namespace.clone()) {
            let made = server
                .kubectl(kubectl)
                .args(["create", "namespace", &namespace])
                .output()
                .expect("kubectl runs");
            assert!(
                made.status.success(),
                "{}",
                String::from_utf8_lossy(&made.stderr)
            );
        }
    }
}

fn value(document: &str) -> Value {
    let file = railyard::core::source::SourceFile::new("built.yaml", document);
    let (nodes, _) = railyard::core::yaml::parse_stream(&file);
    nodes
        .first()
        .map(|n| railyard::core::json_tree::JsonTree::new("built.yaml", n).value)
        .unwrap_or(Value::Null)
}

/// A server-side apply dry run of the documents; the refusals, if any.
fn dry_run(server: &ApiServer, kubectl: &Path, documents: &[String]) -> Option<String> {
    let mut child = server
        .kubectl(kubectl)
        .args([
            "apply",
            "--server-side",
            "--dry-run=server",
            "--field-manager=railyard",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(documents.join("\n---\n").as_bytes())
        .expect("objects written");
    let out = child.wait_with_output().expect("kubectl ends");
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

fn shown(path: &Path) -> String {
    path.strip_prefix(crate_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn substitution_fills_names_and_leaves_other_dollars() {
    assert_eq!(
        substitute("a: ${key_1}\nb: $x ${ not} ${}\n"),
        format!("a: {SUBSTITUTE}\nb: $x ${{ not}} ${{}}\n")
    );
}
