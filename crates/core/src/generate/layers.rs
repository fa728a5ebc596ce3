//! The Flux Kustomizations that apply the platform in order: the system controllers (k3s
//! upgrades, reboots), infrastructure (with the upgrade Plans, whose CRD the system layer's
//! controller installs), then the issuer
//! and certificate, then Gitpod. Each waits for its objects to be ready (`wait`) within a
//! timeout, and each depends on the one before, so a fresh cluster converges in one pass and a
//! broken change stops before Gitpod.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::emit;
use crate::generate::common_labels;
use crate::json_value::value;
use crate::layout;
use crate::model::Site;

pub struct Layer {
    pub name: &'static str,
    pub depends_on: Option<&'static str>,
    pub timeout: &'static str,
    /// Whether the layer's objects take values from the secrets file.
    pub substitutes: bool,
}

pub const SYSTEM: Layer = Layer {
    name: "system",
    depends_on: None,
    timeout: "10m",
    substitutes: false,
};
pub const INFRASTRUCTURE: Layer = Layer {
    name: "infrastructure",
    depends_on: Some("system"),
    timeout: "10m",
    substitutes: true,
};
pub const CERTIFICATES: Layer = Layer {
    name: "certificates",
    depends_on: Some("infrastructure"),
    timeout: "15m",
    substitutes: true,
};
pub const GITPOD: Layer = Layer {
    name: "gitpod",
    depends_on: Some("certificates"),
    timeout: "30m",
    substitutes: true,
};
pub const ALL: [&Layer; 4] = [&SYSTEM, &INFRASTRUCTURE, &CERTIFICATES, &GITPOD];

/// Writes a layer: its files (each a list of documents), its `kustomization.yaml`, and the
/// Flux Kustomization beside its directory.
pub fn write(
    site: &Site,
    layer: &Layer,
    documents: Vec<(String, Vec<Json>)>,
    files: &mut BTreeMap<String, Vec<u8>>,
) {
    let dir = layout::layer_dir(&site.name, layer.name);
    let mut names: Vec<&str> = documents.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    files.insert(format!("{dir}/kustomization.yaml"), emit::document(&value!({ "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": names })).into_bytes());
    for (name, objects) in &documents {
        files.insert(
            format!("{dir}/{name}"),
            emit::documents(objects).into_bytes(),
        );
    }
    files.insert(
        layout::layer_kustomization(&site.name, layer.name),
        emit::document(&flux_kustomization(site, layer)).into_bytes(),
    );
}

fn flux_kustomization(site: &Site, layer: &Layer) -> Json {
    let path = if site.git.root.is_empty() {
        format!("./{}", layout::layer_dir(&site.name, layer.name))
    } else {
        format!(
            "./{}/{}",
            site.git.root,
            layout::layer_dir(&site.name, layer.name)
        )
    };
    let mut spec = value!({
        "interval": "10m0s",
        "retryInterval": "2m0s",
        "timeout": layer.timeout,
        "path": path,
        "prune": true,
        "wait": true,
        "sourceRef": { "kind": "GitRepository", "name": layout::FLUX_SYNC_NAME },
    });
    if let Some(dependency) = layer.depends_on {
        spec["dependsOn"] = value!([{ "name": dependency }]);
    }
    if layer.substitutes {
        spec["postBuild"] =
            value!({ "substituteFrom": [{ "kind": "Secret", "name": &site.secrets.secret_name }] });
    }
    value!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": { "name": layer.name, "namespace": layout::FLUX_NAMESPACE, "labels": common_labels(site) },
        "spec": spec,
    })
}

/// Marks an object whose text must reach the cluster as written, `${...}` included.
pub fn no_substitution(object: &mut Json) {
    object["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"] =
        value!("disabled");
}
