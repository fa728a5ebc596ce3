//! The site's optional platform parts (`spec.features`): monitoring, the clouds' CSI drivers
//! and the database backup, kept apart from the rest of the site file's types for size.

use schemars::JsonSchema;
use serde::Deserialize;

use super::SecretRef;

/// Optional parts of the platform.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Features {
    /// kube-prometheus-stack (Prometheus, Grafana) with Gitpod's scrape config and dashboards.
    #[serde(default)]
    pub monitoring: bool,
    /// Hetzner's CSI driver, for Hetzner Cloud volumes (provider `hetzner` only).
    pub hetzner_csi: Option<HetznerCsi>,
    /// DigitalOcean's CSI driver, for DigitalOcean block storage volumes (provider
    /// `digitalocean` only).
    pub digitalocean_csi: Option<DigitaloceanCsi>,
    /// Scaleway's CSI driver, for Scaleway block storage volumes (provider `scaleway` only).
    pub scaleway_csi: Option<ScalewayCsi>,
    /// The Azure Disk CSI driver, for Azure managed disks (provider `azure` only).
    pub azure_disk_csi: Option<AzureDiskCsi>,
    /// A scheduled `mysqldump` of the in-cluster database, uploaded to `gitpod.objectStorage.s3`
    /// (required) and kept 7 days there.
    pub database_backup: Option<DatabaseBackup>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HetznerCsi {
    /// An API token of the site's Hetzner project.
    pub token: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DigitaloceanCsi {
    /// A DigitalOcean API token with write access to volumes and droplets.
    pub token: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalewayCsi {
    /// The access key of a Scaleway API key allowed to manage block storage.
    pub access_key: SecretRef,
    /// That API key's secret key.
    pub secret_key: SecretRef,
    /// The id of the Scaleway project the volumes are created in.
    pub project_id: SecretRef,
}

/// The service principal the Azure Disk CSI driver signs in with (off AKS the driver reads a
/// cloud config, and railyard closes the instance metadata service to pods).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureDiskCsi {
    /// The Microsoft Entra tenant of the service principal.
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    /// The subscription the site's resource group is in.
    #[serde(rename = "subscriptionID")]
    pub subscription_id: String,
    /// The service principal's application (client) ID; it needs the Contributor role on the
    /// site's resource group.
    #[serde(rename = "clientID")]
    pub client_id: String,
    /// The service principal's client secret, by its key in the secrets file.
    pub client_secret: SecretRef,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseBackup {
    /// Cron schedule (default `0 3 * * *`, daily at 03:00).
    pub schedule: Option<String>,
    /// Size of the scratch volume that holds one dump until it is uploaded (default `8Gi`).
    pub size: Option<String>,
}
