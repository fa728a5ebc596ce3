//! Base reuse: one generated base included by two or three copies, each under its own prefix,
//! suffix or namespace, and a top kustomization over the copies. Name references then have
//! several candidates, which kustomize tells apart by namespace and by the prefixes and suffixes
//! the referrer shares with each (or refuses as ambiguous: such a case must be refused by both).

use serde_json::{Value, json};

use super::generator::Gen;

/// Kinds without a namespace: copies of them differ only by prefix or suffix.
const CLUSTER_SCOPED: &[&str] = &["Namespace", "ClusterRole", "ClusterRoleBinding"];

const COPY_NAMESPACES: &[&str] = &["ns-one", "ns-two", "ns-three"];

impl Gen {
    /// Writes `base`, the copies and `top`; returns the directory to build.
    pub(super) fn reuse(&mut self) -> &'static str {
        self.kustomization("base", None);
        // a Namespace object takes its copy's namespace as its name; a cluster-scoped object
        // keeps its name whatever the namespace
        let has_namespace_object = self.known.iter().any(|k| k.kind == "Namespace");
        let has_cluster_scoped = self
            .known
            .iter()
            .any(|k| CLUSTER_SCOPED.contains(&k.kind.as_str()));
        let copies = 2 + self.rng.below(2);
        let mode = if has_cluster_scoped {
            self.rng.below(3)
        } else {
            self.rng.below(4)
        };
        let namespaced = has_namespace_object || mode == 3 || self.rng.chance(50);
        let mut names = Vec::new();
        for (copy, namespace) in COPY_NAMESPACES.iter().enumerate().take(copies) {
            let dir = format!("copy-{}", copy + 1);
            let mut fields: Vec<(&'static str, Value)> = vec![("resources", json!(["../base"]))];
            let number = copy + 1;
            match mode {
                0 => fields.push(("namePrefix", json!(format!("c{number}-")))),
                1 => fields.push(("nameSuffix", json!(format!("-c{number}")))),
                2 => {
                    fields.push(("namePrefix", json!(format!("c{number}-"))));
                    fields.push(("nameSuffix", json!("-copy")));
                }
                _ => fields.push(("namePrefix", json!("shared-"))),
            }
            if namespaced {
                fields.push(("namespace", json!(namespace)));
            }
            self.write_kustomization(&dir, fields);
            names.push(json!(format!("../{dir}")));
        }
        self.rng.shuffle(&mut names);
        let mut fields: Vec<(&'static str, Value)> = vec![("resources", Value::Array(names))];
        if self.rng.chance(40) {
            fields.push(("namePrefix", json!("top-")));
        }
        if self.rng.chance(30) {
            fields.push(("commonAnnotations", json!({"copies": copies.to_string()})));
        }
        if self.rng.chance(30) && !self.images.is_empty() {
            fields.push(("images", self.image_changes()));
        }
        self.write_kustomization("top", fields);
        "top"
    }
}
