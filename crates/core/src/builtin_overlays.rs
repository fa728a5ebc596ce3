//! railyard's built-in overlays (`overlays/` in the repository), embedded at build time and
//! built with the overlay engine when a site turns on what they hold.
//!
//! A built-in overlay is plain kustomize: `kubectl kustomize overlays/<dir>` prints the same
//! objects (tests/overlay.rs checks it). What depends on the site, its labels, is added here by
//! a kustomization wrapped around the overlay, never written into the overlay itself.

use serde_json::{Value as Json, json};

use crate::emit;
use crate::overlay::{self, MemoryFiles};

/// One built-in overlay: its directory under `overlays/` and its files.
pub struct Builtin {
    pub dir: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

/// `spec.features.monitoring`: kube-prometheus-stack with Gitpod's scrape config and dashboards.
pub const MONITORING: Builtin = Builtin {
    dir: "features/monitoring",
    files: &[
        (
            "kustomization.yaml",
            include_str!("../../../overlays/features/monitoring/kustomization.yaml"),
        ),
        (
            "monitoring.yaml",
            include_str!("../../../overlays/features/monitoring/monitoring.yaml"),
        ),
    ],
};

/// Every built-in overlay, for tests that hold each to kustomize.
pub const ALL: &[&Builtin] = &[&MONITORING];

/// The overlay's files as the engine reads them, under `overlays/<dir>/`.
pub fn files(builtin: &Builtin) -> MemoryFiles {
    let mut files = MemoryFiles::default();
    for (name, text) in builtin.files {
        files.0.insert(
            format!("overlays/{}/{name}", builtin.dir),
            (*text).to_owned(),
        );
    }
    files
}

/// The overlay's objects with `labels` on each, in kustomize's output order.
pub fn build(builtin: &Builtin, labels: &Json) -> Vec<Json> {
    let mut files = files(builtin);
    let wrapper = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [format!("overlays/{}", builtin.dir)],
        "labels": [{ "pairs": labels }],
    });
    files
        .0
        .insert("kustomization.yaml".to_owned(), emit::document(&wrapper));
    // The inputs are compiled in and the labels are validated names, so a failure here is a
    // railyard bug that the tests below catch before any release.
    overlay::build(&files, ".")
        .unwrap_or_else(|diagnostics| {
            panic!(
                "built-in overlay `{}` does not build: {diagnostics:?}",
                builtin.dir
            )
        })
        .objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_builds_with_labels_on_each_object() {
        let labels = crate::labels::site("test");
        for builtin in ALL {
            let objects = build(builtin, &labels);
            assert!(!objects.is_empty(), "{} built nothing", builtin.dir);
            for object in &objects {
                assert_eq!(object["metadata"]["labels"], labels, "{}", builtin.dir);
            }
        }
    }
}
