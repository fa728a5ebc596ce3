//! The report `railyard status` prints: nodes, Flux sources, Kustomizations and HelmReleases,
//! each with its readiness, and whether what Flux applied is the committed HEAD.

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::cluster::{GIT_REPOSITORY, KUSTOMIZATION};
use crate::readiness::{Readiness, condition, readiness, revision_commit};

/// What `status` read from the cluster. `None` for a kind whose API the cluster lacks.
#[derive(Default)]
pub struct ClusterState {
    pub nodes: Vec<Json>,
    pub sources: Option<Vec<Json>>,
    pub kustomizations: Option<Vec<Json>>,
    pub helm_releases: Option<Vec<Json>>,
    /// The commit the site's branch points at in the local repository, when known.
    pub head: Option<String>,
}

/// The `status` report and whether everything is ready and at the committed HEAD.
pub fn report(site: &str, state: &ClusterState) -> (String, bool) {
    let mut out = String::new();
    let _ = writeln!(out, "site `{site}`");
    let mut healthy = nodes(&state.nodes, &mut out);
    let sections = [
        ("sources", &state.sources),
        ("kustomizations", &state.kustomizations),
        ("helm releases", &state.helm_releases),
    ];
    for (title, items) in sections {
        let _ = writeln!(out, "{title}:");
        let Some(items) = items else {
            healthy = false;
            let _ = writeln!(out, "  (Flux's API is not installed)");
            continue;
        };
        if items.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        let mut sorted: Vec<&Json> = items.iter().collect();
        sorted.sort_by_key(|item| {
            let text = |v: &Json| v.as_str().unwrap_or_default().to_owned();
            (
                text(&item["kind"]),
                text(&item["metadata"]["namespace"]),
                text(&item["metadata"]["name"]),
            )
        });
        for item in sorted {
            let (line, ready) = flux_object(item, state.head.as_deref());
            healthy &= ready;
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(
        out,
        "{}",
        if healthy {
            "everything is ready at the committed HEAD"
        } else {
            "not everything is ready"
        }
    );
    (out, healthy)
}

/// The nodes' section; whether every node is ready (and there is one).
fn nodes(nodes: &[Json], out: &mut String) -> bool {
    let _ = writeln!(out, "nodes:");
    let mut healthy = !nodes.is_empty();
    if nodes.is_empty() {
        let _ = writeln!(out, "  (none registered)");
    }
    for node in nodes {
        let ready = condition(node, "Ready");
        let is_ready = ready.is_some_and(|c| c["status"] == "True");
        healthy &= is_ready;
        let roles: Vec<&str> = node["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
            .collect();
        let state = if is_ready {
            "ready".to_owned()
        } else {
            let why = ready
                .and_then(|c| c["message"].as_str())
                .unwrap_or("no Ready condition");
            format!("not ready: {why}")
        };
        let _ = writeln!(
            out,
            "  {:<28} {:<22} {:<14} {state}",
            node["metadata"]["name"].as_str().unwrap_or("?"),
            if roles.is_empty() {
                "worker".to_owned()
            } else {
                roles.join(",")
            },
            node["status"]["nodeInfo"]["kubeletVersion"]
                .as_str()
                .unwrap_or("?"),
        );
    }
    healthy
}

/// One Flux object's line; whether it is ready at the committed HEAD (when it comes from git
/// and the HEAD is known).
fn flux_object(item: &Json, head: Option<&str>) -> (String, bool) {
    let state = readiness(item);
    let mut healthy = state.is_ready();
    let mut line = format!(
        "  {:<40} {state}",
        format!(
            "{}/{}",
            item["kind"].as_str().unwrap_or("?"),
            item["metadata"]["name"].as_str().unwrap_or("?")
        )
    );
    if let Readiness::Ready(Some(revision)) = &state {
        let _ = write!(line, " at {revision}");
        let from_git = (item["kind"] == GIT_REPOSITORY.kind || item["kind"] == KUSTOMIZATION.kind)
            && (revision.contains("@sha1:") || revision.contains('/'));
        if let (true, Some(head)) = (from_git, head) {
            if revision_commit(revision) == head {
                line.push_str(" (committed HEAD)");
            } else {
                healthy = false;
                let _ = write!(line, " (not the committed HEAD {head})");
            }
        }
    }
    (line, healthy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::ready;
    use serde_json::json;

    #[test]
    fn the_report_compares_revisions_with_the_committed_head() {
        let node = json!({"metadata": {"name": "s-server-0", "labels": {"node-role.kubernetes.io/control-plane": "true"}},
            "status": {"nodeInfo": {"kubeletVersion": "v1.36.1+k3s1"}, "conditions": [{"type": "Ready", "status": "True"}]}});
        let mut observed = ClusterState {
            nodes: vec![node],
            sources: Some(vec![]),
            kustomizations: Some(vec![ready(
                "Kustomization",
                "flux-system",
                "main@sha1:abc",
                1,
                1,
            )]),
            helm_releases: Some(vec![]),
            head: Some("abc".to_owned()),
        };
        let (text, healthy) = report("s", &observed);
        assert!(healthy, "{text}");
        assert!(text.contains("Kustomization/flux-system"), "{text}");
        assert!(text.contains("(committed HEAD)"), "{text}");
        observed.head = Some("def".to_owned());
        let (text, healthy) = report("s", &observed);
        assert!(!healthy);
        assert!(text.contains("not the committed HEAD def"), "{text}");
        observed.helm_releases = None;
        let (text, healthy) = report("s", &observed);
        assert!(!healthy);
        assert!(text.contains("Flux's API is not installed"), "{text}");
    }
}
