//! `clusters/<site>/flux-system/`: the GitRepository and root Kustomization Flux syncs from,
//! laid out as `flux bootstrap` writes them, with SOPS decryption and the secrets file; and the
//! credentials Secret of an `https://` repository (written into the infrastructure layer).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::emit;
use crate::generate::{common_labels, substituted};
use crate::json_value::value;
use crate::layout;
use crate::model::{GitCredentials, Site};

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
    emit::document(&value!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }))
}

fn metadata(site: &Site) -> Json {
    value!({ "name": layout::FLUX_SYNC_NAME, "namespace": layout::FLUX_NAMESPACE, "labels": common_labels(site) })
}

fn git_repository(site: &Site) -> Json {
    let mut repository = value!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": metadata(site),
        "spec": {
            "interval": "1m0s",
            "ref": { "branch": &site.git.branch },
            "secretRef": { "name": GIT_SECRET },
            "url": &site.git.url,
        },
    });
    match site.git.credentials {
        GitCredentials::Public => {
            if let Some(spec) = repository["spec"].as_object_mut() {
                spec.remove("secretRef");
            }
        }
        // Flux reads a GitHub App's keys from the Secret only with the `github` provider.
        GitCredentials::GitHubApp { .. } => repository["spec"]["provider"] = value!("github"),
        GitCredentials::DeployKey | GitCredentials::Basic { .. } => {}
    }
    repository
}

/// The Secret an `https://` repository is pulled with, its values substituted by Flux from the
/// secrets file (Flux's GitRepository keys: `username`/`password`, or `githubAppID`,
/// `githubAppInstallationID`, `githubAppPrivateKey`); none for ssh (bootstrap's deploy key)
/// or a public repository.
pub fn git_credentials(site: &Site) -> Option<Json> {
    let (app_id, installation_id);
    let entries = match &site.git.credentials {
        GitCredentials::DeployKey | GitCredentials::Public => return None,
        GitCredentials::Basic { username, password } => vec![
            substituted::text("username", username),
            substituted::text("password", password),
        ],
        GitCredentials::GitHubApp {
            app_id: app,
            installation_id: installation,
            private_key,
        } => {
            app_id = app.to_string();
            installation_id = installation.to_string();
            vec![
                substituted::plain("githubAppID", &app_id),
                substituted::plain("githubAppInstallationID", &installation_id),
                substituted::base64("githubAppPrivateKey", private_key),
            ]
        }
    };
    Some(substituted::secret(
        site,
        GIT_SECRET,
        layout::FLUX_NAMESPACE,
        "Opaque",
        &entries,
    ))
}

fn root_kustomization(site: &Site) -> Json {
    let path = if site.git.root.is_empty() {
        format!("./{}", layout::cluster_dir(&site.name))
    } else {
        format!("./{}/{}", site.git.root, layout::cluster_dir(&site.name))
    };
    value!({
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
