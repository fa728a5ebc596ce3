//! The optional CSI drivers of DigitalOcean and Scaleway, and the storage class the in-cluster
//! stores (database, object storage, registry) use when a site enables one of the three.
//!
//! Each driver's credentials reach it as a Secret whose values Flux substitutes from the
//! secrets file; its storage class is never made the default, so k3s' local-path stays the
//! class of every other claim.

use serde_json::{Value as Json, json};

use super::{helm_release, helm_repository};
use crate::defaults::{DIGITALOCEAN_CSI, SCALEWAY_CSI};
use crate::generate::{common_labels, substituted};
use crate::layout;
use crate::model::Site;

/// The class `hcloud-csi`'s values name (see the Hetzner release in the parent module).
pub const HETZNER_STORAGE_CLASS: &str = "hcloud-volumes";
/// The class DigitalOcean's `driver.yaml` defines.
pub const DIGITALOCEAN_STORAGE_CLASS: &str = "do-block-storage";
/// The class railyard lists in the Scaleway chart's `storageClasses`, the chart's own name.
pub const SCALEWAY_STORAGE_CLASS: &str = "scw-bssd";

/// The Secret `driver.yaml` reads (`secretKeyRef` name and key).
const DIGITALOCEAN_SECRET: &str = "digitalocean";
const DIGITALOCEAN_TOKEN_KEY: &str = "access-token";
/// The Secret the Scaleway chart is pointed at (`controller.scaleway.existingSecretName`).
const SCALEWAY_SECRET: &str = "scaleway-csi";
const KUBE_SYSTEM: &str = "kube-system";
const DIGITALOCEAN_NAME: &str = "csi-digitalocean";

/// The storage class of the site's CSI driver, when it enables one.
pub fn storage_class(site: &Site) -> Option<&'static str> {
    let features = &site.features;
    if features.hetzner_csi.is_some() {
        Some(HETZNER_STORAGE_CLASS)
    } else if features.digitalocean_csi.is_some() {
        Some(DIGITALOCEAN_STORAGE_CLASS)
    } else if features.scaleway_csi.is_some() {
        Some(SCALEWAY_STORAGE_CLASS)
    } else {
        None
    }
}

/// The file and objects of the DigitalOcean or Scaleway driver, when the site enables one.
pub fn objects(site: &Site) -> Option<(String, Vec<Json>)> {
    if let Some(csi) = &site.features.digitalocean_csi {
        let secret = substituted::secret(
            site,
            DIGITALOCEAN_SECRET,
            KUBE_SYSTEM,
            "Opaque",
            &[substituted::text(
                DIGITALOCEAN_TOKEN_KEY,
                &csi.token.secret_key,
            )],
        );
        let objects = vec![secret, digitalocean_source(site), digitalocean_sync(site)];
        return Some(("digitalocean-csi.yaml".to_owned(), objects));
    }
    let csi = site.features.scaleway_csi.as_ref()?;
    // The keys are the environment the controller reads (`envFrom`); the zone is no secret.
    let secret = substituted::secret(
        site,
        SCALEWAY_SECRET,
        KUBE_SYSTEM,
        "Opaque",
        &[
            substituted::text("SCW_ACCESS_KEY", &csi.access_key.secret_key),
            substituted::text("SCW_SECRET_KEY", &csi.secret_key.secret_key),
            substituted::text("SCW_DEFAULT_PROJECT_ID", &csi.project_id.secret_key),
            substituted::plain("SCW_DEFAULT_ZONE", &site.location),
        ],
    );
    let values = json!({
        "storageClasses": [{
            "name": SCALEWAY_STORAGE_CLASS,
            "default": false,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": true,
            "parameters": {},
        }],
        "controller": { "scaleway": { "existingSecretName": SCALEWAY_SECRET } },
    });
    let objects = vec![
        secret,
        helm_repository(site, "scaleway", SCALEWAY_CSI.repository),
        helm_release(
            site,
            SCALEWAY_CSI.chart,
            KUBE_SYSTEM,
            SCALEWAY_CSI.chart,
            SCALEWAY_CSI.version,
            "scaleway",
            values,
        ),
    ];
    Some(("scaleway-csi.yaml".to_owned(), objects))
}

/// DigitalOcean's release manifests at their tag; only the release's directory is fetched.
fn digitalocean_source(site: &Site) -> Json {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": DIGITALOCEAN_NAME, "namespace": layout::FLUX_NAMESPACE, "labels": common_labels(site) },
        "spec": {
            "interval": "24h0m0s",
            "url": DIGITALOCEAN_CSI.repository,
            "ref": { "tag": DIGITALOCEAN_CSI.tag },
            "ignore": only(DIGITALOCEAN_CSI.path),
        },
    })
}

/// `.gitignore` lines that keep only the directory `path`. A path under an excluded directory
/// cannot be re-included (gitignore(5)), so each ancestor is re-included and its other
/// entries excluded again, one level at a time.
fn only(path: &str) -> String {
    let mut lines = vec!["/*".to_owned()];
    let mut prefix = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for (index, part) in parts.iter().enumerate() {
        prefix = format!("{prefix}/{part}");
        lines.push(format!("!{prefix}/"));
        if index + 1 < parts.len() {
            lines.push(format!("{prefix}/*"));
        }
    }
    lines.join("\n") + "\n"
}

/// Applies the release directory (CRDs, driver, snapshot controller) as upstream ships it, with
/// one change: `do-block-storage` is not the default class, so local-path stays k3s' default.
fn digitalocean_sync(site: &Site) -> Json {
    let not_default = json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": DIGITALOCEAN_STORAGE_CLASS,
            "annotations": { "storageclass.kubernetes.io/is-default-class": "false" },
        },
    });
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": { "name": DIGITALOCEAN_NAME, "namespace": layout::FLUX_NAMESPACE, "labels": common_labels(site) },
        "spec": {
            "interval": "1h0m0s",
            "retryInterval": "2m0s",
            "timeout": "10m0s",
            "path": format!("./{}", DIGITALOCEAN_CSI.path),
            "prune": true,
            "wait": true,
            "sourceRef": { "kind": "GitRepository", "name": DIGITALOCEAN_NAME },
            "patches": [{
                "target": { "kind": "StorageClass", "name": DIGITALOCEAN_STORAGE_CLASS },
                "patch": crate::emit::document(&not_default),
            }],
        },
    })
}
