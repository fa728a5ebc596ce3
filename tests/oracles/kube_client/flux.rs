//! `railyard bootstrap`'s cluster half against the real API server: a fake cloud, a local sshd
//! serving the server's k3s-shaped kubeconfig, `RAILYARD_KUBE_REDIRECT` to the real server.
//! Flux's CRDs and namespace are installed first, as k3s' HelmChart would. No controllers run
//! here, so the test writes what source- and kustomize-controller would: the layer
//! Kustomizations (applied from the render, as from git) and every status. Bootstrap sees them
//! through its watch; `status` then compares the revisions with the committed HEAD.

use std::time::{Duration, Instant};

use super::*;
use crate::fake_hetzner::{FakeHetzner, Faults};
use crate::oracles::kube_api::install_crds;
use crate::ssh::{Sshd, sshd_binary};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output).trim().to_owned()
}

/// A new commit on `main`; its id.
fn commit(dir: &Path, file: &str) -> String {
    std::fs::write(dir.join(file), file).expect("write");
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", file]);
    git(dir, &["rev-parse", "HEAD"])
}

/// The example's rendered layer Kustomizations (Flux applies them from git).
fn children(example: &str) -> Vec<Value> {
    let loaded = railyard::edge::load::load(&root().join(example)).expect("example loads");
    let tree = railyard::core::compile::compile(&loaded.inputs)
        .tree
        .expect("example compiles");
    railyard::bootstrap::cluster::rendered_kustomizations(&tree.site, &tree.files)
        .expect("rendered Kustomizations parse")
        .into_iter()
        .filter(|k| k["metadata"]["name"] != "flux-system")
        .collect()
}

impl Cluster {
    fn objects(&self, plural: &str) -> Vec<Value> {
        let text = self.admin_run(
            &["get", plural, "-A", "-o", "json", "--show-managed-fields"],
            None,
        );
        let list: Value = serde_json::from_str(&text).expect("JSON");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// A controller's status write.
    fn set_status(&self, object: &Value, status: &Value) {
        let plural = format!(
            "{}.{}",
            object["kind"].as_str().unwrap_or_default().to_lowercase(),
            object["apiVersion"]
                .as_str()
                .and_then(|v| v.split('/').next())
                .unwrap_or_default()
        );
        let patch = json!({"status": status}).to_string();
        self.admin_run(
            &[
                "patch",
                &plural,
                object["metadata"]["name"].as_str().expect("a name"),
                "-n",
                object["metadata"]["namespace"]
                    .as_str()
                    .expect("a namespace"),
                "--subresource=status",
                "--type=merge",
                "-p",
                &patch,
            ],
            None,
        );
    }

    /// What source- and kustomize-controller would write once they fetched `revision`.
    fn flux_ready_at(&self, revision: &str) {
        for source in self.objects("gitrepositories.source.toolkit.fluxcd.io") {
            let status = json!({
                "observedGeneration": source["metadata"]["generation"],
                "artifact": {
                    "path": "gitrepository/flux-system/flux-system/artifact.tar.gz",
                    "url": "http://source-controller.flux-system.svc/artifact.tar.gz",
                    "revision": revision,
                    "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                    "lastUpdateTime": "2026-01-01T00:00:00Z",
                },
                "conditions": [condition("Ready", "Succeeded", "stored artifact")],
            });
            self.set_status(&source, &status);
        }
        for kustomization in self.objects("kustomizations.kustomize.toolkit.fluxcd.io") {
            let status = json!({
                "observedGeneration": kustomization["metadata"]["generation"],
                "lastAppliedRevision": revision,
                "lastAttemptedRevision": revision,
                "conditions": [condition("Ready", "ReconciliationSucceeded", "applied")],
            });
            self.set_status(&kustomization, &status);
        }
    }
}

/// Waits until `kubectl get` finds the object, while `bootstrap` runs.
fn wait_for(cluster: &Cluster, args: &[&str], bootstrap: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if piped(cluster.admin().args(args), None).status.success() {
            return;
        }
        if let Some(code) = bootstrap.try_wait().expect("bootstrap runs") {
            let output = drain(bootstrap);
            panic!("bootstrap ended ({code}) before `{args:?}`:\n{output}");
        }
        assert!(Instant::now() < deadline, "no `{args:?}` after 90 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What a process that ended printed.
fn drain(child: &mut std::process::Child) -> String {
    use std::io::Read as _;
    let mut text = String::new();
    if let Some(out) = child.stdout.as_mut() {
        let _ = out.read_to_string(&mut text);
    }
    if let Some(err) = child.stderr.as_mut() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

/// Whether railyard's field manager applied the object (server-side).
fn applied_by_railyard(object: &Value) -> bool {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["manager"] == "railyard" && f["operation"] == "Apply")
}

#[test]
fn bootstrap_applies_its_objects_waits_by_watching_and_status_reads_them() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let Some(sshd_binary) = sshd_binary() else {
        panic!("sshd (Debian package openssh-server; tests/run.sh installs it)");
    };
    install_crds(&cluster.api, &cluster.kubectl);
    cluster.admin_run(&["create", "namespace", "flux-system"], None);
    let repo = tempfile::tempdir().expect("tempdir");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    let head = commit(repo.path(), "one");
    let revision = format!("main@sha1:{head}");

    let sshd = Sshd::start(&sshd_binary, &cluster.k3s_yaml());
    let home = sshd.dir.path();
    let known_hosts = write(
        home,
        "git_known_hosts",
        "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    );
    let cloud = FakeHetzner::start_in_background(Faults::default());
    let redirect = format!("127.0.0.1:{}", cluster.port);
    let environment = |command: &mut Command| {
        command
            .current_dir(root())
            .env("HCLOUD_TOKEN", "test-token")
            .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
            .env("RAILYARD_RETRY_BASE_MS", "5")
            .env("RAILYARD_POLL_MS", "5")
            .env("RAILYARD_SSH_REDIRECT", format!("127.0.0.1:{}", sshd.port))
            .env("RAILYARD_KUBE_REDIRECT", &redirect)
            .env("HOME", home);
    };
    let mut command = railyard();
    environment(&mut command);
    let mut bootstrap = command
        .args(["bootstrap", SMALL, "--api-url", &cloud.url(), "--ssh-key"])
        .arg(&sshd.client_key)
        .arg("--git-known-hosts")
        .arg(&known_hosts)
        .args(["--wait", "20", "--flux-wait", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("railyard runs");

    // Flux's part: its root Kustomization applied by bootstrap, the layers from "git", then
    // every status Ready at the commit.
    wait_for(
        &cluster,
        &["get", "kustomization", "flux-system", "-n", "flux-system"],
        &mut bootstrap,
    );
    let layers: Vec<String> = children(SMALL).iter().map(Value::to_string).collect();
    assert!(!layers.is_empty());
    cluster.admin_run(
        &[
            "apply",
            "--server-side",
            "--field-manager=kustomize-controller",
            "-f",
            "-",
        ],
        Some(&layers.join("\n")),
    );
    cluster.flux_ready_at(&revision);
    let output = bootstrap.wait_with_output().expect("bootstrap ends");
    let printed = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{printed}\n{}",
        stderr(&output)
    );
    assert!(
        printed.contains(&format!("Flux Ready: {} Kustomizations", layers.len() + 1)),
        "{printed}"
    );

    let secrets = cluster.objects("secrets");
    let secret = |name: &str| {
        secrets
            .iter()
            .find(|s| s["metadata"]["name"] == name && s["metadata"]["namespace"] == "flux-system")
            .unwrap_or_else(|| panic!("no Secret `{name}`"))
    };
    let sops_age = secret("sops-age");
    assert!(applied_by_railyard(sops_age), "{sops_age}");
    assert!(sops_age["data"]["age.agekey"].is_string());
    let deploy_key = secret("flux-system");
    assert!(applied_by_railyard(deploy_key));
    for key in ["identity", "identity.pub", "known_hosts"] {
        assert!(deploy_key["data"][key].is_string(), "{key}");
    }
    let sources = cluster.objects("gitrepositories.source.toolkit.fluxcd.io");
    assert_eq!(sources.len(), 1);
    assert!(applied_by_railyard(&sources[0]));

    // `status` with the kubeconfig bootstrap wrote, against the committed HEAD.
    cluster.add_node("demo-small-server-0");
    let kubeconfig = home.join(".kube/railyard/demo-small.yaml");
    let status = |repo: &Path| {
        let mut command = railyard();
        environment(&mut command);
        command
            .args(["status", SMALL, "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--repo")
            .arg(repo)
            .output()
            .expect("railyard runs")
    };
    let output = status(repo.path());
    let report = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{report}\n{}",
        stderr(&output)
    );
    assert!(
        report.contains("everything is ready at the committed HEAD"),
        "{report}"
    );
    assert!(report.contains(&revision), "{report}");
    commit(repo.path(), "two");
    let output = status(repo.path());
    let report = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{report}\n{}",
        stderr(&output)
    );
    assert!(report.contains("not the committed HEAD"), "{report}");
}
