//! `railyard status` against the same cluster once Flux has applied the render: exit 0 at the
//! committed HEAD; after a new commit, "not the committed HEAD" and exit 1 until Flux has
//! fetched and applied it, then exit 0 again.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::cluster::Kubectl;
use super::git_host;
use crate::support::railyard;

/// Where `status` runs: the site's copy, the kubeconfig bootstrap would have written, the
/// work tree whose `origin/main` is the repository Flux pulls.
pub(super) struct Setup<'a> {
    pub(super) kube: &'a Kubectl,
    pub(super) site_dir: &'a Path,
    pub(super) kubeconfig: &'a Path,
    pub(super) render: &'a Path,
    pub(super) work: &'a Path,
    pub(super) bare: &'a Path,
}

/// A node, registered and Ready as its kubelet would make it: `status` wants one.
fn register_node(kube: &Kubectl, name: &str, file: &Path) {
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name,
        "labels": {"node-role.kubernetes.io/control-plane": "true"}}});
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": "True",
        "reason": "KubeletReady", "message": "marked ready by the test's stand-in",
        "lastHeartbeatTime": "2026-01-01T00:00:00Z",
        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
    std::fs::write(file, node.to_string()).expect("write");
    for args in [
        vec![
            "apply".to_owned(),
            "-f".to_owned(),
            file.display().to_string(),
        ],
        vec![
            "patch".to_owned(),
            "node".to_owned(),
            name.to_owned(),
            "--subresource=status".to_owned(),
            "--type=merge".to_owned(),
            "-p".to_owned(),
            status.to_string(),
        ],
    ] {
        let out = kube.command().args(&args).output().expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn status(setup: &Setup) -> (Option<i32>, String) {
    let out = railyard()
        .current_dir(setup.site_dir)
        .args(["status", "site.yaml", "--kubeconfig"])
        .arg(setup.kubeconfig)
        .arg("--repo")
        .arg(setup.work)
        .output()
        .expect("railyard runs");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The whole round: ready at HEAD, behind after a commit, ready again once Flux caught up.
pub(super) fn follows_the_committed_head(setup: &Setup, site: &str) {
    let file = setup.render.with_extension("node.json");
    register_node(setup.kube, &format!("{site}-server-0"), &file);
    let (code, text) = status(setup);
    assert_eq!(code, Some(0), "status at HEAD:\n{text}");
    assert!(text.contains("(committed HEAD)"), "{text}");
    let next = git_host::push_render(setup.render, setup.work, setup.bare, "railyard: again");
    let (code, text) = status(setup);
    assert_eq!(code, Some(1), "status before Flux fetched {next}:\n{text}");
    assert!(
        text.contains(&format!("not the committed HEAD {next}")),
        "{text}"
    );
    // `flux reconcile source git flux-system`, rather than the GitRepository's minute.
    let _ = setup
        .kube
        .command()
        .args([
            "annotate",
            "--overwrite",
            "-n",
            "flux-system",
            "gitrepository.source.toolkit.fluxcd.io/flux-system",
            "reconcile.fluxcd.io/requestedAt=after-the-second-commit",
        ])
        .output();
    let started = Instant::now();
    loop {
        let (code, text) = status(setup);
        if code == Some(0) {
            assert!(!text.contains("not the committed HEAD"), "{text}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "Flux did not catch up with {next}:\n{text}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}
