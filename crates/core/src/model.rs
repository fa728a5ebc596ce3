//! The resolved site: every default applied in one place, ready for the generators.
//!
//! `resolve` is the only function that reads `defaults`; generators read only this model.

use crate::defaults::{self, VERSIONS};
use crate::layout;
use crate::placeholder;
use crate::secrets_file::SecretsInfo;
use crate::site::{self, CertManager, Features, Git, Gitpod, Provider, SiteFile, Size};
use crate::values::{DnsLabel, Fqdn, path_key};

/// k3s' pod network, set explicitly so the metadata block and k3s agree on it.
pub const CLUSTER_CIDR: &str = "10.42.0.0/16";
/// Address plan of the private network (seed-reference.md §1.6 Hetzner: 10.2.0.0/16, subnet
/// 10.2.0.0/24): the subnet is the range's first /24; servers and the API load balancer get
/// fixed addresses in it (host 10 on, and host 5) so that user-data can name them before any
/// machine exists, where the cloud lets an address be chosen; workers take addresses from the
/// cloud's DHCP.
const API_LOAD_BALANCER_HOST: u32 = 5;
const FIRST_SERVER_HOST: u32 = 10;

/// The site's private network: its range and the subnet machines take addresses from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateNetwork {
    pub cidr: String,
    pub subnet: String,
    /// The range's first address, for the fixed ones.
    base: u32,
}

impl PrivateNetwork {
    /// From a range the rules accepted (IPv4, /16 to /24).
    pub fn new(cidr: &str) -> PrivateNetwork {
        let (address, _) = cidr.split_once('/').unwrap_or((cidr, ""));
        let base = address
            .parse::<::core::net::Ipv4Addr>()
            .map(u32::from)
            .expect("validation admits only IPv4 ranges");
        let base = base & 0xffff_ff00;
        PrivateNetwork {
            cidr: cidr.to_owned(),
            subnet: format!("{}/24", ::core::net::Ipv4Addr::from(base)),
            base,
        }
    }

    /// The subnet's address of host `n`.
    pub fn host(&self, n: u32) -> String {
        ::core::net::Ipv4Addr::from(self.base + n).to_string()
    }
}

/// Node labels Gitpod's installer checks (seed-reference.md §4.4, affinity labels), plus the
/// legacy `workload_workspace_services` name its reference architectures still set.
pub const GITPOD_NODE_LABELS: &[&str] = &[
    "gitpod.io/workload_ide",
    "gitpod.io/workload_meta",
    "gitpod.io/workload_services",
    "gitpod.io/workload_workspace_headless",
    "gitpod.io/workload_workspace_regular",
    "gitpod.io/workload_workspace_services",
];

#[derive(Clone, Debug)]
pub struct Site {
    pub name: DnsLabel,
    pub provider: Provider,
    pub location: String,
    pub size: Size,
    pub image: String,
    pub servers: Vec<Server>,
    pub workers: Workers,
    /// `large`'s worker pools, in file order; empty for the other sizes.
    pub pools: Vec<Pool>,
    /// The secrets-file key of cluster-autoscaler's Hetzner token (`large` with an autoscaled pool).
    pub autoscaler_token: Option<String>,
    /// Where servers and workers reach the Kubernetes API (a server, or the API load balancer).
    pub api_address: String,
    pub domain: Fqdn,
    pub ssh_keys: Vec<String>,
    /// Who may reach the Kubernetes API; empty means anyone.
    pub admin_cidrs: Vec<String>,
    pub network: PrivateNetwork,
    pub git: GitSource,
    pub secrets: SecretsSource,
    pub versions: Versions,
    pub cert_manager: CertManager,
    pub gitpod: Gitpod,
    /// Gitpod's installer config: railyard's base merged with `spec.gitpod.config`.
    pub gitpod_config: serde_json::Value,
    pub features: Features,
    pub maintenance: Maintenance,
}

/// When nodes may reboot and upgrade: kured's window and the upgrade Plans' `window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maintenance {
    /// Three-letter day names (`mon`), in week order from Sunday, each once.
    pub days: Vec<String>,
    /// `HH:MM`, 24 h.
    pub start: String,
    pub end: String,
    /// An IANA time zone name.
    pub time_zone: String,
}

#[derive(Clone, Debug)]
pub struct Server {
    pub index: u32,
    pub server_type: String,
    pub private_ip: String,
    /// Servers carry Gitpod's workloads only when there is no dedicated worker pool to spare
    /// them (small), otherwise they are tainted.
    pub runs_workloads: bool,
}

#[derive(Clone, Debug)]
pub struct Workers {
    pub count: u32,
    pub server_type: String,
}

/// One worker pool of a `large` site, validated.
#[derive(Clone, Debug)]
pub struct Pool {
    pub name: DnsLabel,
    pub server_type: String,
    pub size: PoolSize,
    /// The location the pool names, when it names one; else the site's.
    pub location: Option<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub taints: Vec<site::Taint>,
}

/// Who creates a pool's servers, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolSize {
    /// Bootstrap creates exactly `count`.
    Static { count: u32 },
    /// cluster-autoscaler keeps between `min` and `max`.
    Autoscaled { min: u32, max: u32 },
}

impl Pool {
    pub fn is_autoscaled(&self) -> bool {
        matches!(self.size, PoolSize::Autoscaled { .. })
    }

    /// Where the pool's servers are created: its own location, else the site's.
    pub fn location<'a>(&'a self, site: &'a Site) -> &'a str {
        self.location.as_deref().unwrap_or(&site.location)
    }
}

#[derive(Clone, Debug)]
pub struct GitSource {
    pub url: String,
    pub branch: String,
    /// The rendered tree's directory inside the repository, `` for the root.
    pub root: String,
    pub credentials: GitCredentials,
}

/// How Flux authenticates to the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitCredentials {
    /// An `ssh://` URL: the deploy key bootstrap generates and keeps in the cluster.
    DeployKey,
    /// A public `https://` repository: no Secret at all.
    Public,
    /// HTTP basic auth; the secrets-file keys of the user name and the password or token.
    Basic { username: String, password: String },
    /// A GitHub App installation; the private key's secrets-file key.
    GitHubApp {
        app_id: u64,
        installation_id: u64,
        private_key: String,
    },
}

#[derive(Clone, Debug)]
pub struct SecretsSource {
    /// The file's name relative to the site directory.
    pub file: String,
    pub secret_name: String,
}

#[derive(Clone, Debug)]
pub struct Versions {
    pub k3s: String,
    pub flux_chart: String,
    pub cert_manager: String,
}

impl Site {
    pub fn has_dedicated_servers(&self) -> bool {
        self.servers.len() > 1
    }
}

/// `spec.network.privateCidr`, or the provider's default for the site.
fn private_network(
    network: Option<site::Network>,
    table: &defaults::ProviderDefaults,
    site: &str,
) -> PrivateNetwork {
    let cidr = network.and_then(|n| n.private_cidr).unwrap_or_else(|| {
        if table.distinct_private_ranges {
            defaults::derived_private_range(site)
        } else {
            defaults::PRIVATE_RANGE.to_owned()
        }
    });
    PrivateNetwork::new(&cidr)
}

/// Applies railyard's defaults to a site that passed validation.
pub fn resolve(
    file: SiteFile,
    secrets: &SecretsInfo,
    ssh_keys: Vec<String>,
    gitpod_config: serde_json::Value,
) -> Site {
    let spec = file.spec;
    let table = defaults::provider(spec.cloud.provider);
    let size = table
        .size(spec.size)
        .expect("validation admits only supported sizes");
    let size_data = spec.size_data.unwrap_or_default();
    let manager_type = size_data
        .manager_type
        .unwrap_or_else(|| size.manager_type.to_owned());
    let dedicated = size.managers > 1;
    let network = private_network(spec.network, table, &file.metadata.name);
    let servers: Vec<Server> = (0..size.managers)
        .map(|index| Server {
            index,
            server_type: manager_type.clone(),
            private_ip: if table.fixed_private_ips {
                network.host(FIRST_SERVER_HOST + index)
            } else {
                placeholder::address(&layout::server_private_address(index))
            },
            runs_workloads: !dedicated,
        })
        .collect();
    let api_address = if dedicated {
        network.host(API_LOAD_BALANCER_HOST)
    } else {
        servers[0].private_ip.clone()
    };
    let pins = spec.versions.unwrap_or_default();
    Site {
        name: DnsLabel::parse(&file.metadata.name).expect("validation admits only DNS labels"),
        provider: spec.cloud.provider,
        location: spec.cloud.location,
        size: spec.size,
        image: size_data.image.unwrap_or_else(|| table.image().to_owned()),
        servers,
        workers: Workers {
            count: size_data.workers.unwrap_or(size.workers),
            server_type: size_data
                .worker_type
                .unwrap_or_else(|| size.worker_type.to_owned()),
        },
        pools: size_data.pools.map(pools).unwrap_or_default(),
        autoscaler_token: size_data.autoscaler_token.map(|r| r.secret_key),
        api_address,
        domain: Fqdn::parse(&spec.domain).expect("validation admits only domain names"),
        ssh_keys,
        admin_cidrs: spec.firewall.map(|f| f.admin_cidrs).unwrap_or_default(),
        network,
        git: GitSource {
            credentials: git_credentials(&spec.git),
            url: spec.git.url,
            branch: spec.git.branch.unwrap_or_else(|| "main".to_owned()),
            root: spec.git.path.as_deref().map(path_key).unwrap_or_default(),
        },
        secrets: SecretsSource {
            file: path_key(&spec.secrets.file),
            secret_name: secrets.secret_name.clone(),
        },
        versions: Versions {
            k3s: pins.k3s.unwrap_or_else(|| VERSIONS.k3s.to_owned()),
            flux_chart: pins.flux.unwrap_or_else(|| VERSIONS.flux_chart.to_owned()),
            cert_manager: pins
                .cert_manager
                .unwrap_or_else(|| VERSIONS.cert_manager.to_owned()),
        },
        cert_manager: spec.cert_manager,
        gitpod: spec.gitpod,
        gitpod_config,
        features: spec.features.unwrap_or_default(),
        maintenance: maintenance(spec.maintenance.unwrap_or_default()),
    }
}

fn pools(pools: Vec<site::Pool>) -> Vec<Pool> {
    pools.into_iter().map(pool).collect()
}

/// A pool the rules admitted: `count`, or `min` and `max`.
fn pool(pool: site::Pool) -> Pool {
    let size = match (pool.count, pool.min, pool.max) {
        (Some(count), _, _) => PoolSize::Static { count },
        (None, min, max) => PoolSize::Autoscaled {
            min: min.unwrap_or_default(),
            max: max.unwrap_or_default(),
        },
    };
    Pool {
        name: DnsLabel::parse(&pool.name).expect("validation admits only DNS labels"),
        server_type: pool.server_type,
        size,
        location: pool.location,
        labels: pool.labels,
        taints: pool.taints,
    }
}

/// The credentials the rules admitted: `auth` (one kind), `public`, or the ssh deploy key.
fn git_credentials(git: &Git) -> GitCredentials {
    let auth = git.auth.as_ref();
    if let Some(basic) = auth.and_then(|a| a.basic.as_ref()) {
        GitCredentials::Basic {
            username: basic.username.secret_key.clone(),
            password: basic.password.secret_key.clone(),
        }
    } else if let Some(app) = auth.and_then(|a| a.github_app.as_ref()) {
        GitCredentials::GitHubApp {
            app_id: app.app_id,
            installation_id: app.installation_id,
            private_key: app.private_key.secret_key.clone(),
        }
    } else if git.public == Some(true) {
        GitCredentials::Public
    } else {
        GitCredentials::DeployKey
    }
}
/// The window with defaults applied; day names normalised to kured's three-letter form.
fn maintenance(window: site::Maintenance) -> Maintenance {
    let days = window.days.map_or_else(
        || defaults::MAINTENANCE_DAYS.map(str::to_owned).to_vec(),
        |days| {
            defaults::MAINTENANCE_DAYS
                .iter()
                .filter(|day| days.iter().any(|d| weekday(d) == Some(**day)))
                .map(|day| (*day).to_owned())
                .collect()
        },
    );
    Maintenance {
        days,
        start: window
            .start
            .unwrap_or_else(|| defaults::MAINTENANCE_START.to_owned()),
        end: window
            .end
            .unwrap_or_else(|| defaults::MAINTENANCE_END.to_owned()),
        time_zone: window
            .time_zone
            .unwrap_or_else(|| defaults::MAINTENANCE_TIME_ZONE.to_owned()),
    }
}

/// A day name kured accepts (`su`, `sun`, `sunday`, any case), as its three-letter form.
pub fn weekday(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    defaults::MAINTENANCE_DAYS.into_iter().find(|day| {
        let full = FULL_DAY_NAMES
            .iter()
            .find(|full| full.starts_with(*day))
            .copied()
            .unwrap_or_default();
        name == *day || name == full || (name.len() == 2 && day.starts_with(&name))
    })
}

/// kured's `pkg/timewindow/days.go` accepts these, their first three and their first two letters.
const FULL_DAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
