//! The infrastructure layer: namespaces, cert-manager (and Hetzner's DNS01 webhook when chosen),
//! and the optional CSI driver of the site's cloud (Hetzner's here, the others in `csi`), as
//! Flux objects; an `https://` repository's
//! credentials (substituted here, where Flux substitutes); the optional monitoring stack
//! comes from its built-in overlay.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::builtin_overlays;
use crate::defaults::CHARTS;
use crate::generate::layers::{self, INFRASTRUCTURE};
use crate::generate::{autoscaler, common_labels, flux, substituted, upgrade_plans};
use crate::json_value::value;
use crate::layout;
use crate::model::Site;

pub mod csi;

pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
pub const GITPOD_NAMESPACE: &str = "gitpod";

/// The solver Secret key holding the Hetzner DNS token, read by the webhook.
pub const HETZNER_TOKEN_KEY: &str = "token";

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let mut documents = vec![
        (
            "namespaces.yaml".to_owned(),
            vec![
                namespace(site, CERT_MANAGER_NAMESPACE),
                namespace(site, GITPOD_NAMESPACE),
            ],
        ),
        (
            "cert-manager.yaml".to_owned(),
            vec![
                helm_repository(site, "jetstack", "https://charts.jetstack.io"),
                cert_manager(site),
            ],
        ),
        (upgrade_plans::FILE.to_owned(), upgrade_plans::plans(site)),
    ];
    if let Some(secret) = flux::git_credentials(site) {
        documents.push((layout::GIT_CREDENTIALS_FILE.to_owned(), vec![secret]));
    }
    let hetzner_charts =
        site.cert_manager.dns01.hetzner.is_some() || site.features.hetzner_csi.is_some();
    let mut hetzner = Vec::new();
    if hetzner_charts {
        hetzner.push(helm_repository(
            site,
            "hcloud",
            "https://charts.hetzner.cloud",
        ));
    }
    if site.cert_manager.dns01.hetzner.is_some() {
        hetzner.push(helm_release(
            site,
            "cert-manager-webhook-hetzner",
            CERT_MANAGER_NAMESPACE,
            "cert-manager-webhook-hetzner",
            CHARTS.hetzner_webhook,
            "hcloud",
            value!({ "groupName": "acme.hetzner.com" }),
        ));
    }
    if let Some(csi) = &site.features.hetzner_csi {
        // The chart reads its token from Secret `hcloud`, key `token`, in its namespace. Its
        // storage class is not made the default: k3s' local-path stays the default, untouched.
        hetzner.push(substituted::secret(
            site,
            "hcloud",
            "kube-system",
            "Opaque",
            &[substituted::text("token", &csi.token.secret_key)],
        ));
        hetzner.push(helm_release(site, "hcloud-csi", "kube-system", "hcloud-csi", CHARTS.hetzner_csi, "hcloud", value!({ "storageClasses": [{ "name": csi::HETZNER_STORAGE_CLASS, "defaultStorageClass": false, "reclaimPolicy": "Delete" }] })));
    }
    if !hetzner.is_empty() {
        documents.push(("hetzner.yaml".to_owned(), hetzner));
    }
    if let Some(driver) = csi::objects(site) {
        documents.push(driver);
    }
    if let Some(objects) = autoscaler::objects(site) {
        documents.push((layout::CLUSTER_AUTOSCALER_FILE.to_owned(), objects));
    }
    if site.features.monitoring {
        let objects = builtin_overlays::build(&builtin_overlays::MONITORING, &common_labels(site));
        documents.push(("monitoring.yaml".to_owned(), objects));
    }
    layers::write(site, &INFRASTRUCTURE, documents, files);
}

fn namespace(site: &Site, name: &str) -> Json {
    value!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name, "labels": common_labels(site) } })
}

fn helm_repository(site: &Site, name: &str, url: &str) -> Json {
    value!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": { "name": name, "namespace": "flux-system", "labels": common_labels(site) },
        "spec": { "interval": "24h0m0s", "url": url },
    })
}

fn helm_release(
    site: &Site,
    name: &str,
    namespace: &str,
    chart: &str,
    version: &str,
    repository: &str,
    values: Json,
) -> Json {
    value!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": name, "namespace": namespace, "labels": common_labels(site) },
        "spec": {
            "interval": "1h0m0s",
            "chart": { "spec": { "chart": chart, "version": version, "sourceRef": { "kind": "HelmRepository", "name": repository, "namespace": "flux-system" } } },
            "install": { "crds": "CreateReplace", "remediation": { "retries": 3 } },
            "upgrade": { "crds": "CreateReplace", "remediation": { "retries": 3 } },
            "values": values,
        },
    })
}

/// cert-manager with its CRDs, resolving DNS01 challenges through public resolvers as the seed
/// did (split-horizon DNS inside a network must not hide the ACME TXT records).
fn cert_manager(site: &Site) -> Json {
    helm_release(
        site,
        "cert-manager",
        CERT_MANAGER_NAMESPACE,
        "cert-manager",
        &site.versions.cert_manager,
        "jetstack",
        value!({
            "crds": { "enabled": true, "keep": true },
            "extraArgs": ["--dns01-recursive-nameservers-only=true", "--dns01-recursive-nameservers=8.8.8.8:53,1.1.1.1:53"],
        }),
    )
}
