//! The site file as written (v1alpha2, and v1alpha1 read as well): serde types that are also the JSON Schema's source.
//!
//! These types mirror the YAML closely and hold no defaults beyond "absent"; `resolve` turns
//! them into the model the generators use. `schema/site.schema.json` is generated from them.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value as Json;

mod features;

pub use features::{
    AzureDiskCsi, DatabaseBackup, DigitaloceanCsi, Features, HetznerCsi, ScalewayCsi,
};

/// A railyard site: one self-hosted Gitpod installation on k3s.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "railyard site")]
pub struct SiteFile {
    /// `railyard.dev/v1alpha2` (current) or `railyard.dev/v1alpha1` (still read; `railyard migrate` rewrites it).
    pub api_version: ApiVersion,
    /// Always `Site`.
    pub kind: SiteKind,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "railyard.dev/v1alpha1")]
    V1alpha1,
    #[serde(rename = "railyard.dev/v1alpha2")]
    V1alpha2,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum SiteKind {
    Site,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// The site's name: a DNS label (lowercase letters, digits and `-`, at most 63). Names the cluster, the output paths and the cloud labels.
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    pub cloud: Cloud,
    /// `small` (one server, one worker), `medium` (three servers with embedded etcd, workers from `sizeData.workers`) or `large` (Hetzner only: three servers with embedded etcd, workers in `sizeData.pools`, autoscaled pools driven by cluster-autoscaler).
    pub size: Size,
    /// Overrides of railyard's defaults for this provider and size.
    #[serde(default)]
    pub size_data: Option<SizeData>,
    /// Gitpod's domain, a lowercase FQDN; Gitpod also serves `*.domain` and `*.ws.domain`.
    pub domain: String,
    pub ssh: Ssh,
    pub git: Git,
    pub cert_manager: CertManager,
    pub gitpod: Gitpod,
    pub secrets: Secrets,
    /// User overlay directories, relative to the site file, applied after railyard's own.
    #[serde(default)]
    pub overlays: Vec<String>,
    /// Version pins that override railyard's defaults.
    #[serde(default)]
    pub versions: Option<Versions>,
    #[serde(default)]
    pub firewall: Option<Firewall>,
    #[serde(default)]
    pub network: Option<Network>,
    #[serde(default)]
    pub features: Option<Features>,
    /// When nodes may reboot for OS patches and upgrade k3s (default: every day, 01:00 to 05:00 UTC).
    #[serde(default)]
    pub maintenance: Option<Maintenance>,
}

/// The maintenance window: kured reboots and the k3s upgrade Plans run only inside it, one
/// node at a time.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Maintenance {
    /// Days of the week (`mon`, `tuesday`, `we`, ...; default every day).
    pub days: Option<Vec<String>>,
    /// Start of the window, `HH:MM` (24 h; default `01:00`).
    pub start: Option<String>,
    /// End of the window, `HH:MM` (24 h; default `05:00`); before `start` means past midnight.
    pub end: Option<String>,
    /// IANA time zone name such as `Europe/Berlin` (default `UTC`).
    pub time_zone: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Firewall {
    /// CIDRs allowed to reach the Kubernetes API (6443); without it the API is open to all, protected by its certificates and tokens only.
    #[serde(default)]
    pub admin_cidrs: Vec<String>,
}

/// The machines' private network.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Network {
    /// The private IPv4 range, RFC 1918, from /16 to /24 (default `10.2.0.0/16`; on DigitalOcean, whose VPC ranges may not overlap within an account, a /20 in `10.160.0.0/11` derived from the site's name).
    pub private_cidr: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cloud {
    pub provider: Provider,
    /// The provider's location: `nbg1`, `fsn1`, `hel1`, `ash`, `hil`, `sin` (Hetzner); a region slug (DigitalOcean); a zone such as `fr-par-1` (Scaleway); a region such as `westeurope` (Azure).
    pub location: String,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Hetzner,
    Digitalocean,
    Scaleway,
    Azure,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Small,
    Medium,
    Large,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SizeData {
    /// Server type of the k3s servers (managers).
    pub manager_type: Option<String>,
    /// Server type of the workers.
    pub worker_type: Option<String>,
    /// Number of workers (`medium` only: 3 to 97, since a Hetzner network holds 100 servers, the 3 managers among them).
    pub workers: Option<u32>,
    /// Operating system image.
    pub image: Option<String>,
    /// Worker pools: `large` (Hetzner) needs at least one, each static (`count`) or autoscaled (`min` and `max`); `small` and `medium` take static pools beside their workers wherever `railyard bootstrap` provisions (Hetzner, DigitalOcean, Scaleway).
    pub pools: Option<Vec<Pool>>,
    /// The Hetzner API token cluster-autoscaler creates and deletes the autoscaled pools' servers with (`large` with an autoscaled pool), by reference to the secrets file.
    pub autoscaler_token: Option<SecretRef>,
}

/// One worker pool: what a pool may set is the whole of it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pool {
    /// The pool's name: a DNS label, unique in the site; names its servers and its user-data, and is the cluster-autoscaler node group of an autoscaled pool.
    pub name: String,
    /// The pool's server type (x86).
    #[serde(rename = "type")]
    pub server_type: String,
    /// A static pool's number of servers, created by `railyard bootstrap`.
    pub count: Option<u32>,
    /// An autoscaled pool's least number of servers (cluster-autoscaler keeps at least this many).
    pub min: Option<u32>,
    /// An autoscaled pool's largest number of servers (more than `min`).
    pub max: Option<u32>,
    /// The pool's location (Hetzner): another location of the site's network zone (`eu-central`: fsn1, nbg1, hel1), since every server joins the site's network; default the site's location.
    pub location: Option<String>,
    /// Kubernetes labels the pool's nodes register with (`key: value`).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Kubernetes taints the pool's nodes register with.
    #[serde(default)]
    pub taints: Vec<Taint>,
}

/// A node taint, as k3s' `node-taint` and the autoscaler's `taints` take it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    pub effect: TaintEffect,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ssh {
    /// Public keys for the machines' admin user, inline (`ssh-ed25519 AAAA... name`).
    #[serde(default)]
    pub authorized_keys: Vec<String>,
    /// Public key files, relative to the site file.
    #[serde(default)]
    pub authorized_key_files: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Git {
    /// The repository Flux pulls: `ssh://git@host/org/repo.git` or `https://host/org/repo.git`.
    pub url: String,
    /// The branch Flux follows (default `main`).
    #[serde(default)]
    pub branch: Option<String>,
    /// Where the rendered tree sits inside the repository (default `.`, the repository root).
    #[serde(default)]
    pub path: Option<String>,
    /// Credentials Flux pulls an `https://` URL with, by reference to the secrets file (an
    /// `ssh://` URL uses the deploy key bootstrap creates).
    #[serde(default)]
    pub auth: Option<GitAuth>,
    /// The `https://` repository is public: Flux pulls it without credentials.
    #[serde(default)]
    pub public: Option<bool>,
}

/// Exactly one way to authenticate to an `https://` git host.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitAuth {
    /// HTTP basic auth: a user name and a password or (read-only) access token.
    pub basic: Option<GitBasicAuth>,
    /// A GitHub App installed on the repository (Flux's `provider: github`).
    pub github_app: Option<GitHubApp>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitBasicAuth {
    pub username: SecretRef,
    /// A password or an access token.
    pub password: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitHubApp {
    /// The App's ID.
    #[serde(rename = "appID")]
    pub app_id: u64,
    /// The ID of the App's installation on the repository's owner.
    #[serde(rename = "installationID")]
    pub installation_id: u64,
    /// The App's private key (base64 of its PEM file in the secrets file).
    #[serde(rename = "privateKey")]
    pub private_key: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertManager {
    /// The ACME account's e-mail address.
    pub email: String,
    /// `production` or `staging` (Let's Encrypt), or an `https://` ACME directory URL (default `production`).
    #[serde(default)]
    pub acme: Option<String>,
    pub dns01: Dns01,
}

/// Exactly one DNS01 solver for the wildcard certificate.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dns01 {
    pub cloudflare: Option<Cloudflare>,
    pub route53: Option<Route53>,
    pub digitalocean: Option<TokenSolver>,
    #[serde(rename = "azureDNS")]
    pub azure_dns: Option<AzureDns>,
    #[serde(rename = "cloudDNS")]
    pub cloud_dns: Option<CloudDns>,
    pub rfc2136: Option<Rfc2136>,
    #[serde(rename = "acmeDNS")]
    pub acme_dns: Option<AcmeDns>,
    pub akamai: Option<Akamai>,
    /// Hetzner DNS through Hetzner's official cert-manager webhook.
    pub hetzner: Option<TokenSolver>,
    pub webhook: Option<Webhook>,
}

/// A reference to one key of the secrets file; the value is never written to rendered output.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
    /// A key of the secrets file's `stringData` (letters, digits and `_`).
    pub secret_key: String,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cloudflare {
    pub email: Option<String>,
    pub api_token: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenSolver {
    pub token: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Route53 {
    pub region: String,
    #[serde(rename = "hostedZoneID")]
    pub hosted_zone_id: Option<String>,
    pub role: Option<String>,
    #[serde(rename = "accessKeyID")]
    pub access_key_id: Option<SecretRef>,
    pub secret_access_key: Option<SecretRef>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureDns {
    #[serde(rename = "subscriptionID")]
    pub subscription_id: String,
    pub resource_group_name: String,
    pub hosted_zone_name: String,
    pub environment: Option<String>,
    /// Refused: on k3s cert-manager gets no managed identity's token (no workload-identity
    /// webhook, and the instance metadata service is closed to pods). Use `clientID`,
    /// `clientSecret` and `tenantID`.
    #[serde(rename = "managedIdentityClientID")]
    pub managed_identity_client_id: Option<String>,
    /// The service principal's application (client) ID.
    #[serde(rename = "clientID")]
    pub client_id: Option<String>,
    /// The service principal's client secret, by its key in the secrets file.
    pub client_secret: Option<SecretRef>,
    #[serde(rename = "tenantID")]
    pub tenant_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudDns {
    pub project: String,
    pub hosted_zone_name: Option<String>,
    pub service_account: Option<SecretRef>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rfc2136 {
    pub nameserver: String,
    pub tsig_key_name: Option<String>,
    pub tsig_algorithm: Option<String>,
    pub tsig_secret: Option<SecretRef>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcmeDns {
    pub host: String,
    pub account: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Akamai {
    pub service_consumer_domain: String,
    pub client_token: SecretRef,
    pub client_secret: SecretRef,
    pub access_token: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Webhook {
    pub group_name: String,
    pub solver_name: String,
    /// Solver configuration passed to the webhook as is.
    #[serde(default)]
    pub config: Option<serde_json::Map<String, Json>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Gitpod {
    pub installer: Installer,
    /// Gitpod installer config (v1), deep-merged over railyard's base config.
    #[serde(default)]
    pub config: Option<serde_json::Map<String, Json>>,
    /// OAuth providers users sign in with.
    #[serde(default)]
    pub auth_providers: Vec<AuthProvider>,
    /// Where Gitpod keeps its database (default: in the cluster).
    #[serde(default)]
    pub database: Option<Database>,
    /// Where Gitpod keeps workspace backups (default: in the cluster).
    #[serde(default)]
    pub object_storage: Option<ObjectStorage>,
    /// Where Gitpod pushes workspace images (default: in the cluster).
    #[serde(default)]
    pub container_registry: Option<ContainerRegistry>,
}

/// Exactly one of `external` or `cloudSQL`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Database {
    pub external: Option<ExternalDatabase>,
    #[serde(rename = "cloudSQL")]
    pub cloud_sql: Option<CloudSqlDatabase>,
}

/// A MySQL 5.7 server Gitpod connects to.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalDatabase {
    pub host: String,
    /// Default 3306.
    pub port: Option<u16>,
    pub username: String,
    pub password: SecretRef,
    /// Gitpod's database encryption keys (a JSON list, one line).
    pub encryption_keys: SecretRef,
    /// The server's CA certificate, base64 in the secrets file, when it needs one.
    pub ca_cert: Option<SecretRef>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudSqlDatabase {
    /// `project:region:instance`.
    pub instance: String,
    pub username: String,
    pub password: SecretRef,
    pub encryption_keys: SecretRef,
    /// The Google service account's JSON key, base64 in the secrets file.
    pub service_account: SecretRef,
}

/// Exactly one of `s3`, `azure` or `cloudStorage`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStorage {
    pub s3: Option<S3Storage>,
    pub azure: Option<AzureStorage>,
    pub cloud_storage: Option<CloudStorage>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Storage {
    pub endpoint: String,
    pub bucket: String,
    pub access_key_id: SecretRef,
    pub secret_access_key: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureStorage {
    pub account_name: String,
    pub account_key: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudStorage {
    pub project: String,
    /// The Google service account's JSON key, base64 in the secrets file.
    pub service_account: SecretRef,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerRegistry {
    pub external: Option<ExternalRegistry>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalRegistry {
    /// Registry and path images are pushed to, e.g. `registry.example.com/gitpod`.
    pub url: String,
    /// A `.dockerconfigjson` document (one line) with push credentials for it.
    pub docker_config_json: SecretRef,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Installer {
    /// The Gitpod installer image, without tag (Gitpod's public images stopped in 2023, so this is yours).
    pub image: String,
    /// The installer image tag.
    pub version: String,
    /// The image that applies what the installer rendered and waits for Gitpod to roll out: it
    /// must hold `/bin/sh` and `kubectl` (default `registry.k8s.io/kubectl` at the Kubernetes
    /// version of `spec.versions.k3s`).
    #[serde(default)]
    pub kubectl_image: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthProvider {
    pub id: String,
    pub host: String,
    #[serde(rename = "type")]
    pub kind: AuthProviderKind,
    pub client_id: String,
    pub client_secret: SecretRef,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum AuthProviderKind {
    GitHub,
    GitLab,
    Bitbucket,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// The SOPS-encrypted Kubernetes Secret, relative to the site file: the cluster's values,
    /// copied into the repository for Flux.
    pub file: String,
    /// The SOPS-encrypted file of the machines' values (the k3s tokens), relative to the site
    /// file; read by bootstrap and `machine-data` only, never copied into the repository
    /// (default `machine-secrets.sops.yaml`).
    #[serde(default)]
    pub machine_file: Option<String>,
    /// The age recipients the secrets file is encrypted to (`age1...`).
    pub age_recipients: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Versions {
    /// k3s release, e.g. `v1.36.2+k3s1`.
    pub k3s: Option<String>,
    /// Version of the `flux2` Helm chart that installs Flux.
    pub flux: Option<String>,
    /// cert-manager chart version, e.g. `v1.21.1`.
    pub cert_manager: Option<String>,
}
