//! `clusters/<site>/flux-system/`: the GitRepository and root Kustomization Flux syncs from,
//! laid out as `flux bootstrap` writes them, with SOPS decryption and the secrets file.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::emit;
use crate::generate::common_labels;
use crate::layout;
use crate::model::Site;

pub use crate::layout::{GIT_SECRET, SECRETS_FILE, SOPS_AGE_SECRET};

pub fn generate(site: &Site, secrets_text: &str, files: &mut BTreeMap<String, Vec<u8>>) {
    files.insert(
        layout::cluster_kustomization(&site.name),
        kustomization(&[
            "flux-system",
            "system.yaml",
            "infrastructure.yaml",
            "certificates.yaml",
            "gitpod.yaml",
        ])
        .into_bytes(),
    );
    files.insert(
        format!("{}/kustomization.yaml", layout::flux_system_dir(&site.name)),
        kustomization(&[layout::FLUX_HELM_CHART_FILE, "gotk-sync.yaml", SECRETS_FILE]).into_bytes(),
    );
    files.insert(
        layout::gotk_sync(&site.name),
        emit::documents(&[git_repository(site), root_kustomization(site)]).into_bytes(),
    );
    files.insert(
        layout::secrets_copy(&site.name),
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
    json!({ "name": layout::FLUX_SYNC_NAME, "namespace": layout::FLUX_NAMESPACE, "labels": common_labels(site) })
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
        format!("./{}", layout::cluster_dir(&site.name))
    } else {
        format!("./{}/{}", site.git.root, layout::cluster_dir(&site.name))
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
