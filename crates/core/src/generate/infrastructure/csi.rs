//! The optional CSI drivers of DigitalOcean, Scaleway and Azure, and the storage class the
//! in-cluster stores (database, object storage, registry) use when a site enables one of the
//! four.
//!
//! Each driver's credentials reach it as a Secret whose values Flux substitutes from the
//! secrets file; its storage class is never made the default, so k3s' local-path stays the
//! class of every other claim.

use serde_json::Value as Json;

use crate::json_value::value;

use super::{helm_release, helm_repository};
use crate::defaults::{AZURE_DISK_CSI, DIGITALOCEAN_CSI, SCALEWAY_CSI};
use crate::generate::{common_labels, substituted};
use crate::layout::{self, cloud};
use crate::model::Site;
use crate::site::{AzureDiskCsi, DigitaloceanCsi, ScalewayCsi};

/// The class `hcloud-csi`'s values name (see the Hetzner release in the parent module).
pub const HETZNER_STORAGE_CLASS: &str = "hcloud-volumes";
/// The class DigitalOcean's `driver.yaml` defines.
pub const DIGITALOCEAN_STORAGE_CLASS: &str = "do-block-storage";
/// The class railyard lists in the Scaleway chart's `storageClasses`, the chart's own name.
pub const SCALEWAY_STORAGE_CLASS: &str = "scw-bssd";
/// The class railyard defines for the Azure Disk driver (whose chart defines none): the name
/// of upstream's example class and of AKS' own.
pub const AZURE_DISK_STORAGE_CLASS: &str = "managed-csi";

/// The Secret `driver.yaml` reads (`secretKeyRef` name and key).
const DIGITALOCEAN_SECRET: &str = "digitalocean";
const DIGITALOCEAN_TOKEN_KEY: &str = "access-token";
/// The Secret the Scaleway chart is pointed at (`controller.scaleway.existingSecretName`).
const SCALEWAY_SECRET: &str = "scaleway-csi";
/// The Secret and key the Azure Disk driver reads its cloud config from (the chart's
/// `cloudConfigSecretName` default, and `docs/read-from-secret.md`'s key).
const AZURE_CLOUD_CONFIG_SECRET: &str = "azure-cloud-provider";
const AZURE_CLOUD_CONFIG_KEY: &str = "cloud-config";
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
    } else if features.azure_disk_csi.is_some() {
        Some(AZURE_DISK_STORAGE_CLASS)
    } else {
        None
    }
}

/// The file and objects of the DigitalOcean, Scaleway or Azure Disk driver, when the site
/// enables one.
pub fn objects(site: &Site) -> Option<(String, Vec<Json>)> {
    let features = &site.features;
    if let Some(csi) = &features.digitalocean_csi {
        Some(("digitalocean-csi.yaml".to_owned(), digitalocean(site, csi)))
    } else if let Some(csi) = &features.scaleway_csi {
        Some(("scaleway-csi.yaml".to_owned(), scaleway(site, csi)))
    } else {
        let csi = features.azure_disk_csi.as_ref()?;
        Some(("azure-disk-csi.yaml".to_owned(), azure_disk(site, csi)))
    }
}

fn digitalocean(site: &Site, csi: &DigitaloceanCsi) -> Vec<Json> {
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
    vec![secret, digitalocean_source(site), digitalocean_sync(site)]
}

fn scaleway(site: &Site, csi: &ScalewayCsi) -> Vec<Json> {
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
    let values = value!({
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
    vec![
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
    ]
}

/// The Azure Disk driver: its cloud config Secret, the chart, and the storage class the chart
/// does not define.
fn azure_disk(site: &Site, csi: &AzureDiskCsi) -> Vec<Json> {
    let config = azure_cloud_config(site, csi);
    let secret = substituted::secret(
        site,
        AZURE_CLOUD_CONFIG_SECRET,
        KUBE_SYSTEM,
        "Opaque",
        &[substituted::plain(AZURE_CLOUD_CONFIG_KEY, &config)],
    );
    let cloud_config = value!({
        "cloudConfigSecretName": AZURE_CLOUD_CONFIG_SECRET,
        "cloudConfigSecretNamespace": KUBE_SYSTEM,
    });
    // Every node runs Linux: the Windows DaemonSets would only wait for nodes that never come.
    let values = value!({
        "controller": &cloud_config,
        "node": cloud_config,
        "windows": { "enabled": false },
    });
    let class = value!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": { "name": AZURE_DISK_STORAGE_CLASS, "labels": common_labels(site) },
        "provisioner": "disk.csi.azure.com",
        "parameters": { "skuName": "StandardSSD_LRS" },
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": true,
    });
    vec![
        secret,
        helm_repository(site, "azuredisk-csi-driver", AZURE_DISK_CSI.repository),
        helm_release(
            site,
            AZURE_DISK_CSI.chart,
            KUBE_SYSTEM,
            AZURE_DISK_CSI.chart,
            AZURE_DISK_CSI.version,
            "azuredisk-csi-driver",
            values,
        ),
        class,
    ]
}

/// The cloud provider config (`azure.json`) the driver reads: the service principal, with its
/// secret left for Flux to substitute, and the site's resource group and location, where the
/// driver creates disks and finds the machines by their node names (the VMs' names). Neither
/// the controller nor the node plugin asks the instance metadata service (which railyard
/// closes to pods): the node's zone and VM size come from Resource Manager too.
fn azure_cloud_config(site: &Site, csi: &AzureDiskCsi) -> String {
    let config = value!({
        "cloud": "AzurePublicCloud",
        "tenantId": &csi.tenant_id,
        "subscriptionId": &csi.subscription_id,
        "aadClientId": &csi.client_id,
        "aadClientSecret": substituted::reference(&csi.client_secret.secret_key),
        "useManagedIdentityExtension": false,
        "resourceGroup": cloud::resource_group(&site.name),
        "location": &site.location,
        "vmType": "standard",
        "useInstanceMetadata": false,
    });
    // Several lines, so the value stays a literal block through Flux's substitution (see
    // `substituted`); JSON ignores the line breaks.
    let mut text = serde_json::to_string_pretty(&config).unwrap_or_default();
    text.push('\n');
    text
}

/// DigitalOcean's release manifests at their tag; only the release's directory is fetched.
fn digitalocean_source(site: &Site) -> Json {
    value!({
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
    let not_default = value!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": DIGITALOCEAN_STORAGE_CLASS,
            "annotations": { "storageclass.kubernetes.io/is-default-class": "false" },
        },
    });
    value!({
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
