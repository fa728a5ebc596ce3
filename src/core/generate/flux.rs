//! `clusters/<site>/flux-system/`: the GitRepository and root Kustomization Flux syncs from,
//! laid out as `flux bootstrap` writes them, with SOPS decryption and the secrets file.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::core::emit;
use crate::core::generate::{cluster_dir, common_labels};
use crate::core::model::Site;

/// The in-cluster Secret holding the age identity Flux decrypts with (formats.md §2.1).
pub const SOPS_AGE_SECRET: &str = "sops-age";
/// The in-cluster Secret holding the git deploy key (`flux bootstrap`'s name).
pub const GIT_SECRET: &str = "flux-system";
/// Where the secrets file is copied, byte for byte.
pub const SECRETS_FILE: &str = "secrets.sops.yaml";

pub fn generate(site: &Site, secrets_text: &str, files: &mut BTreeMap<String, Vec<u8>>) {
    let root = cluster_dir(site);
    files.insert(
        format!("{root}/kustomization.yaml"),
        kustomization(&[
            "flux-system",
            "infrastructure.yaml",
            "certificates.yaml",
            "gitpod.yaml",
        ])
        .into_bytes(),
    );
    files.insert(
        format!("{root}/flux-system/kustomization.yaml"),
        kustomization(&["gotk-sync.yaml", SECRETS_FILE]).into_bytes(),
    );
    files.insert(
        format!("{root}/flux-system/gotk-sync.yaml"),
        emit::documents(&[git_repository(site), root_kustomization(site)]).into_bytes(),
    );
    files.insert(
        format!("{root}/flux-system/{SECRETS_FILE}"),
        secrets_text.as_bytes().to_vec(),
    );
}

fn kustomization(resources: &[&str]) -> String {
    emit::document(&json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }))
}

fn metadata(site: &Site) -> Json {
    json!({ "name": "flux-system", "namespace": "flux-system", "labels": common_labels(site) })
}

fn git_repository(site: &Site) -> Json {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": metadata(site),
        "spec": {
            "interval": "1m0s",
            "ref": { "branch": site.git.branch },
            "secretRef": { "name": GIT_SECRET },
            "url": site.git.url,
        },
    })
}

fn root_kustomization(site: &Site) -> Json {
    let path = if site.git.root.is_empty() {
        format!("./{}", cluster_dir(site))
    } else {
        format!("./{}/{}", site.git.root, cluster_dir(site))
    };
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": metadata(site),
        "spec": {
            "interval": "10m0s",
            "path": path,
            "prune": true,
            "sourceRef": { "kind": "GitRepository", "name": "flux-system" },
            "decryption": { "provider": "sops", "secretRef": { "name": SOPS_AGE_SECRET } },
        },
    })
}
