//! The cluster half's outcomes: `status` against the committed HEAD, a failing Kustomization,
//! a cluster key that cannot decrypt, a missing kubeconfig.

use super::*;

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output).trim().to_owned()
}

/// A commit on `main` in a fresh repository; its id.
fn commit(dir: &std::path::Path, file: &str) -> String {
    std::fs::write(dir.join(file), file).expect("write");
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", file]);
    git(dir, &["rev-parse", "HEAD"])
}

fn node(name: &str, role: Option<&str>) -> Value {
    let mut labels = serde_json::Map::new();
    if let Some(role) = role {
        labels.insert(format!("node-role.kubernetes.io/{role}"), "true".into());
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": { "name": name, "labels": labels },
        "status": {
            "nodeInfo": { "kubeletVersion": "v1.36.1+k3s1" },
            "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady" }],
        },
    })
}

/// `status` after a bootstrap: nodes and Flux objects ready at the commit the local branch
/// points at (exit 0); once the branch moves on, the applied revision is reported as not the
/// committed HEAD (exit 1).
#[test]
fn status_compares_what_flux_applied_with_the_committed_head() {
    let example = "examples/hetzner-small/site.yaml";
    let repo = tempfile::tempdir().expect("tempdir");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    let first = commit(repo.path(), "one");
    let cluster = TestCluster::quick(example);
    cluster.kube.set_revision(&first);
    cluster
        .kube
        .add(node("demo-small-server-0", Some("control-plane")));
    cluster.kube.add(node("demo-small-worker-0", None));
    let condition =
        serde_json::json!([{ "type": "Ready", "status": "True", "reason": "Succeeded" }]);
    cluster.kube.add(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": { "name": "jetstack", "namespace": "flux-system", "generation": 1 },
        "status": { "observedGeneration": 1, "conditions": condition,
                    "artifact": { "revision": "sha256:1a2b" } },
    }));
    cluster.kube.add(serde_json::json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": "cert-manager", "namespace": "cert-manager", "generation": 2 },
        "status": { "observedGeneration": 2, "conditions": condition,
                    "history": [{ "chartVersion": "v1.19.1" }] },
    }));
    let fake = FakeHetzner::start_in_background(Faults::default());
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    )));
    let status = |cluster: &TestCluster| {
        let kubeconfig = cluster.kubeconfig("demo-small");
        run(&mut railyard_against(
            &fake,
            cluster,
            &[
                "status",
                example,
                "--kubeconfig",
                &kubeconfig.to_string_lossy(),
                "--repo",
                &repo.path().to_string_lossy(),
            ],
        ))
    };
    let output = status(&cluster);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    for expected in [
        "demo-small-server-0",
        "control-plane",
        "v1.36.1+k3s1",
        "GitRepository/flux-system",
        "Kustomization/gitpod",
        "HelmRepository/jetstack                  ready at sha256:1a2b\n",
        "HelmRelease/cert-manager                 ready at v1.19.1\n",
        &format!("ready at main@sha1:{first} (committed HEAD)"),
        "everything is ready at the committed HEAD",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }

    let second = commit(repo.path(), "two");
    let output = status(&cluster);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("(not the committed HEAD {second})")),
        "{text}"
    );
    fake.stop();
}

/// A Kustomization Flux cannot apply stops bootstrap with the controller's reason (exit 2),
/// and `status` shows it (exit 1).
#[test]
fn a_failing_kustomization_stops_bootstrap_with_its_reason() {
    let example = "examples/hetzner-small/site.yaml";
    let cluster = TestCluster::start(
        example,
        KubeFaults {
            flux_installed_after: 1,
            ready_after: 1,
            failing: Some(("gitpod".to_owned(), "installer Job failed".to_owned())),
            ..KubeFaults::default()
        },
    );
    let fake = FakeHetzner::start_in_background(Faults::default());
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example, "--flux-wait", "2"],
    ));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("Flux is not ready after 2 s")
            && error.contains("`gitpod` not ready: ReconciliationFailed: installer Job failed"),
        "{error}"
    );
    assert!(
        stdout(&output).contains("Kustomization `certificates` ready"),
        "{}",
        stdout(&output)
    );
    let kubeconfig = cluster.kubeconfig("demo-small");
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &[
            "status",
            example,
            "--kubeconfig",
            &kubeconfig.to_string_lossy(),
        ],
    ));
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("not ready: ReconciliationFailed: installer Job failed"),
        "{}",
        stdout(&output)
    );
    fake.stop();
}

/// The cluster's age identity must be a recipient of the secrets file, or bootstrap stops
/// before it creates anything; `status` without a kubeconfig says where to get one.
#[test]
fn a_cluster_key_that_cannot_decrypt_and_a_missing_kubeconfig_are_clear_errors() {
    let example = "examples/hetzner-small/site.yaml";
    let cluster = TestCluster::quick(example);
    let fake = FakeHetzner::start_in_background(Faults::default());
    let stranger = cluster.sshd.dir.path().join("stranger.key");
    let identity = {
        use age::secrecy::ExposeSecret as _;
        age::x25519::Identity::generate()
            .to_string()
            .expose_secret()
            .to_owned()
    };
    std::fs::write(&stranger, format!("{identity}\n")).expect("write");
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &[
            "bootstrap",
            example,
            "--age-key",
            &stranger.to_string_lossy(),
        ],
    ));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("stranger.key") && error.contains("cannot decrypt the secrets file"),
        "{error}"
    );
    assert!(!error.contains("AGE-SECRET-KEY"), "{error}");
    assert!(
        fake.resources().is_empty(),
        "bootstrap created cloud resources first"
    );
    assert!(
        cluster.kube.requests().iter().all(|r| r.method == "GET"),
        "bootstrap wrote to the cluster"
    );

    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &[
            "status",
            example,
            "--kubeconfig",
            "/nonexistent/kubeconfig.yaml",
        ],
    ));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the kubeconfig `/nonexistent/kubeconfig.yaml`"),
        "{}",
        stderr(&output)
    );
    fake.stop();
}
