//! What railyard decides for the user: per provider and size, and the pinned versions.
//!
//! Every value names its source in `../shared/reference/`; change them together with a golden
//! update so the diff shows what a new default does to rendered output.

use crate::site::{Provider, Size};

/// Pinned component versions.
pub struct PinnedVersions {
    pub k3s: &'static str,
    pub flux_chart: &'static str,
    pub cert_manager: &'static str,
}

/// formats.md §3 (k3s latest v1.36.2+k3s1; `flux2` chart 2.18.3 from fluxcd-community) and
/// §4 (cert-manager v1.21.1).
pub const VERSIONS: PinnedVersions = PinnedVersions {
    k3s: "v1.36.2+k3s1",
    flux_chart: "2.18.3",
    cert_manager: "v1.21.1",
};

/// The image the Gitpod installer Job applies with: Kubernetes' own kubectl image, published for
/// every release since v1.28 (kubernetes/kubernetes#116667), built on `debian-base` with bash,
/// coreutils and jq beside `/bin/kubectl` (`build/server-image/kubectl/Dockerfile`, read 2026).
pub const KUBECTL_IMAGE: &str = "registry.k8s.io/kubectl";

/// The kubectl image at the cluster's own Kubernetes version (`v1.36.2+k3s1` → `v1.36.2`), so
/// kubectl never drifts out of its supported skew as k3s is upgraded.
pub fn kubectl_image(k3s: &str) -> String {
    let kubernetes = k3s.split_once('+').map_or(k3s, |(version, _)| version);
    format!("{KUBECTL_IMAGE}:{kubernetes}")
}

/// A script user-data downloads and runs, pinned by address and checksum.
pub struct PinnedScript {
    /// An address that names one immutable revision (a commit, never a branch).
    pub url: &'static str,
    /// The lowercase hex sha256 the machine checks before running the script.
    pub sha256: &'static str,
}

/// k3s' `install.sh` at k3s-io/k3s commit `0136cf258954a458da1404858396342724b93d24`. The
/// sha256 was computed with `sha256sum` over the file's 36,455 bytes as read from a stored copy
/// of that commit (2026-12-07); the release tag `v1.36.2+k3s1` could not be resolved to a
/// commit on this machine, so the commit read is pinned (decision 0007, which also says how to
/// recheck it). One revision installs any k3s version: it takes `INSTALL_K3S_VERSION` and checks
/// the binary against that release's `sha256sum-<arch>.txt` itself.
pub const K3S_INSTALL_SCRIPT: PinnedScript = PinnedScript {
    url: "https://raw.githubusercontent.com/k3s-io/k3s/0136cf258954a458da1404858396342724b93d24/install.sh",
    sha256: "40b487f0d8ef4f5d1bf422e7bb6228cc7789c40ecc66c5ab067d396bbee9816e",
};

/// Every script user-data downloads, for the test that no rendered download runs unchecked.
pub const PINNED_SCRIPTS: &[&PinnedScript] = &[&K3S_INSTALL_SCRIPT];

/// The database backup's client: MySQL 8.4 LTS (Oracle's support runs to 2032; the 5.7 image
/// it replaces is end of life since 2023-10), whose `mysqldump` still dumps a 5.7 server. Tag
/// and index digest as docker-library/repo-info records them (`repos/mysql/remote/8.4.11-oracle.md`
/// at commit f67487c09ee0af8358204dda2a0eb0eb3a0c0f84, amd64 and arm64); its Dockerfile installs
/// `gzip`, which the dump script needs.
pub const BACKUP_CLIENT_IMAGE: &str =
    "mysql:8.4.11-oracle@sha256:b3b90af2a6552ae30c266fdb7d5dd55f3afb72404bb78d37fe8a23eb857fd3fb";

/// The backup's uploader: rclone 1.75.1 (rclone.org, `rclone/rclone` on Docker Hub), which
/// speaks S3 to any endpoint and is configured from environment variables alone, so no
/// credential is written to a file. The index digest is the one public projects pin for that
/// tag (read 2026-12-07; recheck with `docker buildx imagetools inspect rclone/rclone:1.75.1`).
pub const BACKUP_UPLOAD_IMAGE: &str =
    "rclone/rclone:1.75.1@sha256:45401ad7410db1d67ffdb58e19059ad20b0d8e0285a60e38bbec55cc1019c7a5";

/// How long uploaded dumps are kept: seven days, as the volume-based backup kept them; each run
/// deletes the older ones after its own upload succeeded.
pub const BACKUP_KEEP_DAYS: u32 = 7;

/// Where in the site's S3 bucket the dumps go, beside Gitpod's own objects.
pub const BACKUP_PREFIX: &str = "railyard-db-backup";

/// The machines' secrets file when `spec.secrets.machineFile` is not set: beside the cluster's
/// `secrets.sops.yaml`, the name `railyard secrets init` writes (decision 0013).
pub const MACHINE_SECRETS_FILE: &str = "machine-secrets.sops.yaml";

/// Charts railyard installs beside cert-manager, pinned (not overridable from the site yet).
pub struct PinnedCharts {
    pub hetzner_webhook: &'static str,
    pub hetzner_csi: &'static str,
}

/// Hetzner's chart repository (formats.md §4): `cert-manager-webhook-hetzner` 0.7.0 and
/// `hcloud-csi` 2.19.0, the versions of their `chart/Chart.yaml` upstream (2026). The
/// monitoring chart's pin lives in its built-in overlay, `overlays/features/monitoring/`.
pub const CHARTS: PinnedCharts = PinnedCharts {
    hetzner_webhook: "0.7.0",
    hetzner_csi: "2.19.0",
};

/// DigitalOcean's CSI driver, which ships no chart: its release manifests at a tag, read from
/// github.com/digitalocean/csi-digitalocean (README "Kubernetes Compatibility": v4.16.0+ for
/// Kubernetes 1.35, the newest row; tag `v4.16.0` of 2026-01-20, directory
/// `deploy/kubernetes/releases/csi-digitalocean-v4.16.0/` with `crds.yaml`, `driver.yaml` and
/// `snapshot-controller.yaml`, the three files its README applies). `driver.yaml` reads the API
/// token from Secret `digitalocean`, key `access-token`, in `kube-system`, and defines storage
/// class `do-block-storage` (annotated as the default class).
pub struct PinnedManifests {
    pub repository: &'static str,
    pub tag: &'static str,
    pub path: &'static str,
}

pub const DIGITALOCEAN_CSI: PinnedManifests = PinnedManifests {
    repository: "https://github.com/digitalocean/csi-digitalocean",
    tag: "v4.16.0",
    path: "deploy/kubernetes/releases/csi-digitalocean-v4.16.0",
};

/// Scaleway's CSI driver: chart `scaleway-csi` 0.2.1 (app `v0.3.4`, `kubeVersion: >= 1.25.0`)
/// from `https://helm.scw.cloud/`, as github.com/scaleway/scaleway-csi's README installs it;
/// read in github.com/scaleway/helm-charts `charts/scaleway-csi/` (2026). Its controller reads
/// `SCW_ACCESS_KEY`, `SCW_SECRET_KEY`, `SCW_DEFAULT_PROJECT_ID` and `SCW_DEFAULT_ZONE` from the
/// Secret `controller.scaleway.existingSecretName` names (`envFrom`); its storage class
/// `scw-bssd` (provisioner `csi.scaleway.com`) is listed in `storageClasses`.
pub struct PinnedChart {
    pub repository: &'static str,
    pub chart: &'static str,
    pub version: &'static str,
}

pub const SCALEWAY_CSI: PinnedChart = PinnedChart {
    repository: "https://helm.scw.cloud/",
    chart: "scaleway-csi",
    version: "0.2.1",
};

/// The Azure Disk CSI driver: chart `azuredisk-csi-driver` 1.34.5 (app and image `v1.34.5`,
/// the newest stable entry of the repository's `index.yaml`, 2026-08-07), from the Helm
/// repository github.com/kubernetes-sigs/azuredisk-csi-driver's `charts/README.md` adds; read
/// in that repository's `charts/v1.34.5/azuredisk-csi-driver/` (`values.yaml`: the cloud
/// config Secret `controller.cloudConfigSecretName`/`node.cloudConfigSecretName`,
/// `azure-cloud-provider` in `kube-system`; no storage class). The README's prerequisites: off
/// AKS the driver reads a cloud provider config (`deploy/example/azure.json`), which
/// `docs/read-from-secret.md` puts in that Secret under the key `cloud-config`; its storage
/// class example `deploy/example/storageclass-azuredisk-csi.yaml` is `managed-csi`
/// (provisioner `disk.csi.azure.com`, `skuName: StandardSSD_LRS`).
pub const AZURE_DISK_CSI: PinnedChart = PinnedChart {
    repository: "https://raw.githubusercontent.com/kubernetes-sigs/azuredisk-csi-driver/master/charts",
    chart: "azuredisk-csi-driver",
    version: "1.34.5",
};

/// The day-2 controllers, pinned (formats.md "Day-2 components", read at the tags upstream).
pub struct Day2 {
    /// system-upgrade-controller's image tag: release v0.20.1 (2026-05-19), whose
    /// `scripts/package-controller` sets the image in its `manifests/` to the release version.
    pub upgrade_controller: &'static str,
    /// The kubectl image the controller runs drains with: `default-controller-env` at v0.20.1.
    pub upgrade_kubectl_image: &'static str,
    /// kured 1.23.0 (2026-06-30): `ghcr.io/kubereboot/kured`, as its `kured-ds.yaml` names it.
    pub kured: &'static str,
    /// The k3s docs' "Automated upgrades" image for both Plans; tagged by the Plan's `version`.
    pub k3s_upgrade_image: &'static str,
}

pub const DAY2: Day2 = Day2 {
    upgrade_controller: "v0.20.1",
    upgrade_kubectl_image: "rancher/kubectl:v1.30.3",
    kured: "1.23.0",
    k3s_upgrade_image: "rancher/k3s-upgrade",
};

/// cluster-autoscaler releases, one per Kubernetes minor: formats.md "Day-2 components"
/// (kubernetes/autoscaler releases 1.36.1, 1.35.2 and 1.34.5 of 2026-07-22). Its minor must
/// equal the cluster's Kubernetes minor, so the image is chosen from the k3s version and a k3s
/// bump in the site bumps the autoscaler in the same render.
pub const CLUSTER_AUTOSCALER_RELEASES: &[(u32, &str)] =
    &[(36, "v1.36.1"), (35, "v1.35.2"), (34, "v1.34.5")];

/// The image the upstream example Deployment names (`examples/cluster-autoscaler-run-on-master.yaml`).
pub const CLUSTER_AUTOSCALER_IMAGE: &str = "registry.k8s.io/autoscaling/cluster-autoscaler";

/// The Kubernetes minor of a k3s version (`v1.36.2+k3s1` → 36).
pub fn kubernetes_minor(k3s: &str) -> Option<u32> {
    let mut parts = k3s.strip_prefix('v')?.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}

/// The cluster-autoscaler image for a k3s version, when a release of its minor is known.
pub fn cluster_autoscaler_image(k3s: &str) -> Option<String> {
    let minor = kubernetes_minor(k3s)?;
    CLUSTER_AUTOSCALER_RELEASES
        .iter()
        .find(|(m, _)| *m == minor)
        .map(|(_, tag)| format!("{CLUSTER_AUTOSCALER_IMAGE}:{tag}"))
}

/// Hetzner Cloud's limits a `large` site's pools meet (formats.md "Day-2 components", pain
/// points: 100 servers per network, 10 per spread placement group, 50 subnets; cloud-apis.md §2).
pub const HETZNER_SERVERS_PER_NETWORK: u64 = 100;

/// The maintenance window when the site names none: every day (security patches wait at most a
/// day), 01:00 to 05:00 UTC (night in Europe, evening in the Americas; four hours fit one
/// reboot after another for a few nodes, and the rest follow the next night). Day names as kured's
/// `pkg/timewindow/days.go` and the Plan CRD's `Day` enum spell them.
pub const MAINTENANCE_DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
pub const MAINTENANCE_START: &str = "01:00";
pub const MAINTENANCE_END: &str = "05:00";
pub const MAINTENANCE_TIME_ZONE: &str = "UTC";

/// How long a node's drain may take before kured or the agent Plan gives up (and retries later)
/// rather than forcing: Gitpod workspace pods back their files up while they terminate, within
/// their own grace period, which the drains respect.
pub const DRAIN_TIMEOUT: &str = "1h";

/// One supported provider × size, with its machine defaults.
pub struct SizeDefaults {
    pub size: Size,
    pub managers: u32,
    pub manager_type: &'static str,
    pub workers: u32,
    /// Inclusive range `sizeData.workers` may take; `None` when the count is fixed.
    pub worker_range: Option<(u32, u32)>,
    pub worker_type: &'static str,
}

pub struct ProviderDefaults {
    pub provider: Provider,
    pub name: &'static str,
    pub locations: &'static [&'static str],
    pub images: &'static [&'static str],
    pub server_types: &'static [&'static str],
    pub sizes: &'static [SizeDefaults],
    /// Whether a server's private address can be chosen at creation; when not, user-data names
    /// the join address with a placeholder bootstrap fills in.
    pub fixed_private_ips: bool,
    /// Whether private ranges must differ between the sites of one account, so the default
    /// range is derived from the site's name (`derived_private_range`).
    pub distinct_private_ranges: bool,
}

impl ProviderDefaults {
    pub fn size(&self, size: Size) -> Option<&SizeDefaults> {
        self.sizes.iter().find(|s| s.size == size)
    }

    /// The default image: the first listed.
    pub fn image(&self) -> &'static str {
        self.images[0]
    }
}

pub fn provider(provider: Provider) -> &'static ProviderDefaults {
    PROVIDERS
        .iter()
        .find(|p| p.provider == provider)
        .expect("every provider has a row")
}

/// The provider a location belongs to, if any.
pub fn location_owner(location: &str) -> Option<&'static ProviderDefaults> {
    PROVIDERS.iter().find(|p| p.locations.contains(&location))
}

/// The supported combinations as text, for messages.
pub fn supported_combinations() -> String {
    PROVIDERS
        .iter()
        .flat_map(|p| {
            p.sizes
                .iter()
                .map(move |s| format!("{} {}", p.name, size_name(s.size)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn size_name(size: Size) -> &'static str {
    match size {
        Size::Small => "small",
        Size::Medium => "medium",
        Size::Large => "large",
    }
}

/// The Hetzner network zone of a location (cloud-apis.md §2, "Network + subnet").
pub fn hetzner_network_zone(location: &str) -> &'static str {
    match location {
        "ash" => "us-east",
        "hil" => "us-west",
        "sin" => "ap-southeast",
        _ => "eu-central",
    }
}

const PROVIDERS: &[ProviderDefaults] = &[
    ProviderDefaults {
        provider: Provider::Hetzner,
        name: "hetzner",
        // cloud-apis.md §2 "Sizes and locations".
        locations: &["fsn1", "nbg1", "hel1", "ash", "hil", "sin"],
        // cloud-apis.md §2 "Images": ubuntu-20.04 was removed in 2025; 22.04 and 24.04 remain.
        images: &["ubuntu-24.04", "ubuntu-22.04"],
        // cloud-apis.md §2 "Sizes and locations": x86 types only, Gitpod's images are amd64.
        server_types: &[
            "cx23", "cx33", "cx43", "cx53", "cpx22", "cpx32", "cpx42", "cpx52", "cpx62", "cpx11",
            "cpx21", "cpx31", "cpx41", "cpx51", "cx22", "cx32", "cx42", "cx52", "ccx13", "ccx23",
            "ccx33", "ccx43", "ccx53", "ccx63",
        ],
        sizes: &[
            // seed-reference.md §1.6 Hetzner: small = 1 manager + 1 worker of 4 vCPU/16 GB (cx41,
            // gone). cloud-apis.md §2: cpx42 (8 vCPU/16 GB, shared) is sold in every location.
            SizeDefaults {
                size: Size::Small,
                managers: 1,
                manager_type: "cpx42",
                workers: 1,
                worker_range: None,
                worker_type: "cpx42",
            },
            // seed-reference.md §1.6: medium = 3 × cpx31 (4/8) managers, node_count workers
            // (default 3). cloud-apis.md §2: cpx32 is cpx31's 4/8 successor. formats.md §3
            // (Hetzner limits): a network holds at most 100 servers, so 97 workers beside the 3
            // managers.
            SizeDefaults {
                size: Size::Medium,
                managers: 3,
                manager_type: "cpx32",
                workers: 3,
                worker_range: Some((3, 97)),
                worker_type: "cpx42",
            },
            // seed-reference.md §1.6: large = 3 managers of a user-chosen type (`medium`'s
            // default until chosen), workers in user-defined pools (`sizeData.pools`), so
            // no implicit workers.
            SizeDefaults {
                size: Size::Large,
                managers: 3,
                manager_type: "cpx32",
                workers: 0,
                worker_range: None,
                worker_type: "cpx42",
            },
        ],
        // cloud-apis.md §2: servers attach to a network with an explicit `ip`.
        fixed_private_ips: true,
        distinct_private_ranges: false,
    },
    ProviderDefaults {
        provider: Provider::Digitalocean,
        name: "digitalocean",
        // cloud-apis.md §3 "Endpoints": region slugs of the spec enum, plus atl1.
        locations: &[
            "ams1", "ams2", "ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo1",
            "sfo2", "sfo3", "sgp1", "syd1", "tor1",
        ],
        // cloud-apis.md §3: ubuntu-24-04-x64 / ubuntu-22-04-x64.
        images: &["ubuntu-24-04-x64", "ubuntu-22-04-x64"],
        // cloud-apis.md §3 "Sizes (4 vCPU / 16 GB)".
        server_types: &[
            "s-4vcpu-16gb-amd",
            "s-4vcpu-16gb-320gb-intel",
            "g-4vcpu-16gb",
            "gd-4vcpu-16gb",
            "s-8vcpu-16gb",
        ],
        // seed-reference.md §1.6 DigitalOcean: small only, 1 + 1 droplets.
        sizes: &[SizeDefaults {
            size: Size::Small,
            managers: 1,
            manager_type: "s-4vcpu-16gb-amd",
            workers: 1,
            worker_range: None,
            worker_type: "s-4vcpu-16gb-amd",
        }],
        // cloud-apis.md §3: droplets take VPC addresses by DHCP; there is no way to choose one.
        fixed_private_ips: false,
        // cloud-apis.md §3 Traps: VPC ranges may not overlap within an account and region.
        distinct_private_ranges: true,
    },
    ProviderDefaults {
        provider: Provider::Scaleway,
        name: "scaleway",
        // cloud-apis.md §4 "Basics": zones.
        locations: &[
            "fr-par-1", "fr-par-2", "fr-par-3", "nl-ams-1", "nl-ams-2", "nl-ams-3", "pl-waw-1",
            "pl-waw-2", "pl-waw-3", "it-mil-1",
        ],
        // cloud-apis.md §4 "Image resolution": ubuntu_noble (24.04), ubuntu_jammy (22.04).
        images: &["ubuntu_noble", "ubuntu_jammy"],
        // cloud-apis.md §4 "Sizes": DEV1-XL (the seed's) is too small; PRO2-XS is 4/16.
        server_types: &["PRO2-XS", "POP2-4C-16G", "GP1-XS", "PRO2-S", "POP2-8C-32G"],
        sizes: &[SizeDefaults {
            size: Size::Small,
            managers: 1,
            manager_type: "PRO2-XS",
            workers: 1,
            worker_range: None,
            worker_type: "PRO2-XS",
        }],
        // cloud-apis.md §4: a private NIC takes reserved IPAM addresses (`ipam_ip_ids`).
        fixed_private_ips: true,
        // Every private network of a project's region joins its default VPC, whose routing
        // connects them (Scaleway's VPC FAQ), and VPC v2 reports overlapping subnets
        // (`ListSubnetOverlaps`): sites of one project get ranges of their own by default.
        distinct_private_ranges: true,
    },
    ProviderDefaults {
        provider: Provider::Azure,
        name: "azure",
        // seed-reference.md §1.6 Azure (default uksouth); Azure region names.
        locations: &[
            "uksouth",
            "ukwest",
            "westeurope",
            "northeurope",
            "francecentral",
            "germanywestcentral",
            "swedencentral",
            "switzerlandnorth",
            "norwayeast",
            "eastus",
            "eastus2",
            "westus2",
            "westus3",
            "centralus",
            "canadacentral",
            "australiaeast",
            "japaneast",
            "southeastasia",
        ],
        // cloud-apis.md §5 "Resources": Canonical:ubuntu-24_04-lts:server.
        images: &[
            "Canonical:ubuntu-24_04-lts:server",
            "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2",
        ],
        // cloud-apis.md §5 "Sizes and quota".
        server_types: &[
            "Standard_D4s_v5",
            "Standard_D4as_v5",
            "Standard_D4ds_v5",
            "Standard_B4ms",
        ],
        sizes: &[SizeDefaults {
            size: Size::Small,
            managers: 1,
            manager_type: "Standard_D4s_v5",
            workers: 1,
            worker_range: None,
            worker_type: "Standard_D4s_v5",
        }],
        // cloud-apis.md §5: a NIC's ipConfiguration takes a static private address.
        fixed_private_ips: true,
        distinct_private_ranges: false,
    },
];

/// Azure's WireServer, a fixed virtual address in every region and national cloud
/// (Microsoft, "What is IP address 168.63.129.16?"): the host's DNS, DHCP and the VM agent's
/// channel, which pods must not reach except for DNS (cloud-apis.md §5 Traps).
pub const AZURE_WIRESERVER: &str = "168.63.129.16";

/// Azure network security group priorities: 100 to 4096, unique per direction (cloud-apis.md
/// §5 NSG). railyard's rules take every tenth from the first, leaving room between them.
pub const AZURE_NSG_PRIORITIES: std::ops::RangeInclusive<u16> = 100..=4096;
pub const AZURE_NSG_PRIORITY_STEP: u16 = 10;

/// An Azure load balancer's TCP health probe: every 5 seconds, out after 2 failures (the
/// probe body of cloud-apis.md §5; 5 s is the shortest interval Azure takes).
pub const AZURE_PROBE_INTERVAL_SECONDS: u32 = 5;
pub const AZURE_PROBE_COUNT: u32 = 2;

/// The private range every site gets where ranges may repeat between sites (seed-reference.md
/// §1.6 Hetzner: 10.2.0.0/16).
pub const PRIVATE_RANGE: &str = "10.2.0.0/16";

/// A site's default private range where ranges may not overlap within an account
/// (DigitalOcean, cloud-apis.md §3 Traps): one of the 512 /20 blocks of `10.160.0.0/11`, chosen
/// by a hash (FNV-1a) of the site's name. The block clears k3s' pod and service networks
/// (10.42.0.0/16, 10.43.0.0/16), DigitalOcean Kubernetes' reserved 10.244.0.0/14, and the
/// 10.100-10.140 ranges DigitalOcean's per-region default VPCs take. Sites of one account
/// whose names share a block are told by the cloud at create; `spec.network.privateCidr`
/// chooses another.
pub fn derived_private_range(site: &str) -> String {
    let hash = site.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let block = hash % 512;
    format!("10.{}.{}.0/20", 160 + block / 16, (block % 16) * 16)
}

/// The `app.kubernetes.io/managed-by` value `buildMetadata: [managedByLabel]` writes:
/// kustomize writes `kustomize-` and its build's version (`api/krusty/kustomizer.go`,
/// `provenance.GetProvenance().Semver()`); the kustomize v5.5.0 inside kubectl, which the
/// overlay engine matches byte for byte, carries no version stamp and says `(devel)`
/// (measured with `kubectl kustomize`, tests/kustomize/cases/build-metadata-managed-by).
pub const KUSTOMIZE_MANAGED_BY: &str = "kustomize-(devel)";
