//! What bootstrap would do, as a value: the cloud resources a site wants (read from its rendered
//! host files), compared with what the cloud holds under the site's label.
//!
//! The cloud is the only state: a resource belongs to a site when it carries the site's label,
//! and is matched to a wanted one by kind and name. Nothing here calls the cloud; the edge lists
//! the resources and executes the steps.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::core::json_tree::JsonTree;
use crate::core::source::SourceFile;
use crate::core::yaml;

/// The label every resource of a site carries; its value is the site's name.
pub const SITE_LABEL: &str = "railyard.dev/site";
/// What the resource is for (`server`, `worker`, `ingress`, `api`, ...).
pub const ROLE_LABEL: &str = "railyard.dev/role";
/// Hetzner spread placement groups hold at most this many servers (cloud-apis.md §2).
pub const SPREAD_GROUP_SIZE: usize = 10;

/// Resource kinds in the order they are created (and the reverse of deletion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    SshKey,
    Network,
    Firewall,
    PlacementGroup,
    LoadBalancer,
    Server,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::SshKey,
        Kind::Network,
        Kind::Firewall,
        Kind::PlacementGroup,
        Kind::LoadBalancer,
        Kind::Server,
    ];

    /// The API collection (`/v1/<path>`), also the list response's key.
    pub fn path(self) -> &'static str {
        match self {
            Kind::SshKey => "ssh_keys",
            Kind::Network => "networks",
            Kind::Firewall => "firewalls",
            Kind::PlacementGroup => "placement_groups",
            Kind::LoadBalancer => "load_balancers",
            Kind::Server => "servers",
        }
    }

    /// The single resource's key in a response (`{"server": …}`).
    pub fn singular(self) -> &'static str {
        match self {
            Kind::SshKey => "ssh_key",
            Kind::Network => "network",
            Kind::Firewall => "firewall",
            Kind::PlacementGroup => "placement_group",
            Kind::LoadBalancer => "load_balancer",
            Kind::Server => "server",
        }
    }

    /// For people: `load balancer`.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::SshKey => "SSH key",
            Kind::Network => "network",
            Kind::Firewall => "firewall",
            Kind::PlacementGroup => "placement group",
            Kind::LoadBalancer => "load balancer",
            Kind::Server => "server",
        }
    }
}

/// One resource the site wants, with the create request's body.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub kind: Kind,
    pub name: String,
    /// The create body, labels included; `user_data` holds the rendered file's path until the
    /// edge replaces it with the filled-in text (secrets stay out of the plan).
    pub body: Json,
    /// What must hold after the create, done by follow-up actions.
    pub then: Vec<FollowUp>,
}

/// Work after a create that the create body cannot express.
#[derive(Clone, Debug, PartialEq)]
pub enum FollowUp {
    /// Attach to the site's network, at a fixed address or any.
    AttachToNetwork { ip: Option<String> },
    /// Add a label-selector target over the private network (load balancers).
    AddTarget { selector: String },
    /// Start a server created stopped (so it boots with its fixed private address).
    PowerOn,
}

impl FollowUp {
    fn describe(&self) -> String {
        match self {
            FollowUp::AttachToNetwork { ip: Some(ip) } => format!("attach to the network at {ip}"),
            FollowUp::AttachToNetwork { ip: None } => "attach to the network".to_owned(),
            FollowUp::AddTarget { selector } => format!("add target `{selector}`"),
            FollowUp::PowerOn => "power on".to_owned(),
        }
    }

    /// Whether the resource as the cloud reports it already has what this asks for.
    pub fn done(&self, raw: &Json) -> bool {
        match self {
            FollowUp::AttachToNetwork { .. } => raw["private_net"]
                .as_array()
                .is_some_and(|nets| !nets.is_empty()),
            FollowUp::AddTarget { selector } => raw["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|t| t["label_selector"]["selector"].as_str() == Some(selector)),
            FollowUp::PowerOn => raw["status"].as_str() != Some("off"),
        }
    }
}

/// One resource as the cloud reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub kind: Kind,
    pub id: u64,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The raw resource, for comparisons (server type, firewall rules).
    pub raw: Json,
}

/// What bootstrap does about one resource.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Create(Wanted),
    Keep {
        kind: Kind,
        name: String,
        id: u64,
    },
    /// Wanted and present, but not as wanted; `converge` says whether bootstrap fixes it.
    Differs {
        kind: Kind,
        name: String,
        id: u64,
        what: String,
        converge: Option<Json>,
    },
    /// Carries the site's label but the site does not want it (bootstrap leaves it alone).
    Unwanted {
        kind: Kind,
        name: String,
        id: u64,
    },
    /// Created, but an earlier run stopped before its follow-up work was done.
    Finish {
        kind: Kind,
        name: String,
        id: u64,
        then: Vec<FollowUp>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub site: String,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether bootstrap has anything to do or report.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| !matches!(s, Step::Keep { .. }))
    }

    pub fn creates(&self) -> impl Iterator<Item = &Wanted> {
        self.steps.iter().filter_map(|s| match s {
            Step::Create(wanted) => Some(wanted),
            _ => None,
        })
    }

    /// The plan for people, one line per resource.
    pub fn to_text(&self) -> String {
        let mut out = format!("plan for site `{}`:\n", self.site);
        let (mut create, mut keep, mut differ, mut unwanted, mut finish) = (0, 0, 0, 0, 0);
        for step in &self.steps {
            let line = match step {
                Step::Create(w) => {
                    create += 1;
                    format!("  + create    {:<16} {}", w.kind.noun(), w.name)
                }
                Step::Keep { kind, name, id } => {
                    keep += 1;
                    format!("  = keep      {:<16} {name} (#{id})", kind.noun())
                }
                Step::Differs {
                    kind,
                    name,
                    id,
                    what,
                    converge,
                } => {
                    differ += 1;
                    let action = if converge.is_some() {
                        "bootstrap converges it"
                    } else {
                        "bootstrap leaves it; recreate it by hand"
                    };
                    format!(
                        "  ~ differs   {:<16} {name} (#{id}): {what}; {action}",
                        kind.noun()
                    )
                }
                Step::Finish {
                    kind,
                    name,
                    id,
                    then,
                } => {
                    finish += 1;
                    let work: Vec<String> = then.iter().map(FollowUp::describe).collect();
                    format!(
                        "  > finish    {:<16} {name} (#{id}): {}",
                        kind.noun(),
                        work.join(", ")
                    )
                }
                Step::Unwanted { kind, name, id } => {
                    unwanted += 1;
                    format!(
                        "  ! unwanted  {:<16} {name} (#{id}): carries the site's label but the site does not want it; `railyard destroy` or delete it by hand",
                        kind.noun()
                    )
                }
            };
            out.push_str(&line);
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{create} to create, {finish} to finish, {keep} to keep, {differ} different, {unwanted} unwanted"
        );
        out
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MachinesFile {
    site: String,
    provider: String,
    location: String,
    image: String,
    network: NetworkSpec,
    #[serde(default)]
    ssh_keys: Vec<String>,
    servers: Vec<ServerSpec>,
    workers: WorkersSpec,
    ingress_load_balancer: LoadBalancerSpec,
    #[serde(default)]
    api_load_balancer: Option<LoadBalancerSpec>,
}

#[derive(Deserialize)]
struct NetworkSpec {
    cidr: String,
    subnet: String,
    #[serde(default)]
    zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerSpec {
    name: String,
    #[serde(rename = "type")]
    server_type: String,
    #[serde(rename = "privateIP")]
    private_ip: String,
    user_data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkersSpec {
    count: usize,
    #[serde(rename = "type")]
    server_type: String,
    name_prefix: String,
    user_data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoadBalancerSpec {
    #[serde(default, rename = "privateIP")]
    private_ip: Option<String>,
    ports: Vec<u16>,
    targets: Vec<String>,
}

#[derive(Deserialize)]
struct FirewallFile {
    rules: Vec<FirewallRule>,
}

#[derive(Deserialize)]
struct FirewallRule {
    description: String,
    protocol: String,
    #[serde(default)]
    port: Option<String>,
    sources: Vec<String>,
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, bytes: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("`{name}` is not UTF-8"))?;
    let file = SourceFile::new(name, text);
    let (documents, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.first() {
        return Err(format!("`{name}` does not parse: {}", first.message));
    }
    let root = documents
        .first()
        .ok_or_else(|| format!("`{name}` is empty"))?;
    serde_json::from_value(JsonTree::new(name, root).value)
        .map_err(|e| format!("`{name}` is not what railyard renders: {e}"))
}

#[derive(Deserialize)]
struct DnsRecordsFile {
    records: Vec<DnsRecord>,
}

/// One DNS record the user creates (`hosts/<site>/dns-records.yaml`).
#[derive(Clone, Debug, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub ttl: u32,
    /// May hold an address placeholder that bootstrap fills in.
    pub value: String,
}

/// The DNS records of a rendered site.
pub fn dns_records(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<DnsRecord>, String> {
    let path = format!("hosts/{site}/dns-records.yaml");
    let bytes = files
        .get(&path)
        .ok_or_else(|| format!("the render has no `{path}`"))?;
    Ok(parse::<DnsRecordsFile>(&path, bytes)?.records)
}

/// Hetzner's load balancer type for a number of targets (lb11 25, lb21 75, lb31 150).
fn load_balancer_type(targets: usize) -> &'static str {
    match targets {
        0..=25 => "lb11",
        26..=75 => "lb21",
        _ => "lb31",
    }
}

fn labels(site: &str, role: &str) -> Json {
    json!({ SITE_LABEL: site, ROLE_LABEL: role })
}

/// The resources a site wants, from its rendered tree (`hosts/<site>/machines.yaml` and
/// `firewall.yaml`). Only Hetzner is provisioned today.
pub fn wanted(site: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Wanted>, String> {
    let dir = format!("hosts/{site}");
    let read = |name: &str| {
        let path = format!("{dir}/{name}");
        files
            .get(&path)
            .map(|bytes| (path.clone(), bytes))
            .ok_or_else(|| format!("the render has no `{path}`"))
    };
    let (path, bytes) = read("machines.yaml")?;
    let machines: MachinesFile = parse(&path, bytes)?;
    if machines.provider != "hetzner" {
        return Err(format!(
            "bootstrap provisions Hetzner Cloud only; site `{}` is on `{}`",
            machines.site, machines.provider
        ));
    }
    let (path, bytes) = read("firewall.yaml")?;
    let firewall: FirewallFile = parse(&path, bytes)?;
    let zone = machines
        .network
        .zone
        .clone()
        .ok_or("machines.yaml names no network zone")?;
    let mut wanted = Vec::new();
    for (i, key) in machines.ssh_keys.iter().enumerate() {
        wanted.push(Wanted {
            kind: Kind::SshKey,
            name: format!("{site}-key-{i}"),
            body: json!({ "name": format!("{site}-key-{i}"), "public_key": key, "labels": labels(site, "admin") }),
            then: Vec::new(),
        });
    }
    let network = format!("{site}-network");
    wanted.push(Wanted {
        kind: Kind::Network,
        name: network.clone(),
        body: json!({
            "name": network,
            "ip_range": machines.network.cidr,
            "subnets": [{ "type": "cloud", "network_zone": zone, "ip_range": machines.network.subnet }],
            "labels": labels(site, "network"),
        }),
        then: Vec::new(),
    });
    let rules: Vec<Json> = firewall
        .rules
        .iter()
        .map(|r| {
            let mut rule = json!({ "direction": "in", "protocol": r.protocol, "source_ips": r.sources, "description": r.description });
            if let Some(port) = &r.port {
                rule["port"] = json!(port);
            }
            rule
        })
        .collect();
    let firewall_name = format!("{site}-firewall");
    wanted.push(Wanted {
        kind: Kind::Firewall,
        name: firewall_name.clone(),
        body: json!({
            "name": firewall_name,
            "rules": rules,
            "apply_to": [{ "type": "label_selector", "label_selector": { "selector": format!("{SITE_LABEL}={site}") } }],
            "labels": labels(site, "firewall"),
        }),
        then: Vec::new(),
    });
    let server_group = format!("{site}-servers");
    wanted.push(Wanted {
        kind: Kind::PlacementGroup,
        name: server_group.clone(),
        body: json!({ "name": server_group, "type": "spread", "labels": labels(site, "server") }),
        then: Vec::new(),
    });
    let worker_groups = machines.workers.count.div_ceil(SPREAD_GROUP_SIZE);
    for g in 0..worker_groups {
        let name = format!("{site}-workers-{g}");
        wanted.push(Wanted {
            kind: Kind::PlacementGroup,
            name: name.clone(),
            body: json!({ "name": name, "type": "spread", "labels": labels(site, "worker") }),
            then: Vec::new(),
        });
    }
    let count_of = |targets: &[String]| {
        targets
            .iter()
            .map(|t| match t.as_str() {
                "servers" => machines.servers.len(),
                _ => machines.workers.count,
            })
            .sum::<usize>()
    };
    let mut balancers = vec![("ingress", &machines.ingress_load_balancer)];
    if let Some(api) = &machines.api_load_balancer {
        balancers.push(("api", api));
    }
    for (role, lb) in balancers {
        let name = format!("{site}-{role}");
        let services: Vec<Json> = lb
            .ports
            .iter()
            .map(|port| json!({ "protocol": "tcp", "listen_port": port, "destination_port": port, "proxyprotocol": false, "health_check": { "protocol": "tcp", "port": port, "interval": 15, "timeout": 10, "retries": 3 } }))
            .collect();
        let mut then = vec![FollowUp::AttachToNetwork {
            ip: lb.private_ip.clone(),
        }];
        for target in &lb.targets {
            let role = if target == "servers" {
                "server"
            } else {
                "worker"
            };
            then.push(FollowUp::AddTarget {
                selector: format!("{SITE_LABEL}={site},{ROLE_LABEL}={role}"),
            });
        }
        wanted.push(Wanted {
            kind: Kind::LoadBalancer,
            name: name.clone(),
            body: json!({
                "name": name,
                "load_balancer_type": load_balancer_type(count_of(&lb.targets)),
                "location": machines.location,
                "algorithm": { "type": "round_robin" },
                "services": services,
                "labels": labels(site, role),
            }),
            then,
        });
    }
    let keys: Vec<String> = (0..machines.ssh_keys.len())
        .map(|i| format!("{site}-key-{i}"))
        .collect();
    for server in &machines.servers {
        wanted.push(Wanted {
            kind: Kind::Server,
            name: server.name.clone(),
            body: json!({
                "name": server.name,
                "server_type": server.server_type,
                "image": machines.image,
                "location": machines.location,
                "ssh_keys": keys,
                "user_data": format!("{dir}/{}", server.user_data),
                "labels": labels(site, "server"),
                "placement_group": server_group,
                "start_after_create": false,
                "public_net": { "enable_ipv4": true, "enable_ipv6": true },
            }),
            then: vec![
                FollowUp::AttachToNetwork {
                    ip: Some(server.private_ip.clone()),
                },
                FollowUp::PowerOn,
            ],
        });
    }
    for i in 0..machines.workers.count {
        let name = format!("{}{i}", machines.workers.name_prefix);
        wanted.push(Wanted {
            kind: Kind::Server,
            name: name.clone(),
            body: json!({
                "name": name,
                "server_type": machines.workers.server_type,
                "image": machines.image,
                "location": machines.location,
                "ssh_keys": keys,
                "user_data": format!("{dir}/{}", machines.workers.user_data),
                "labels": labels(site, "worker"),
                "placement_group": format!("{site}-workers-{}", i / SPREAD_GROUP_SIZE),
                "networks": [network],
                "public_net": { "enable_ipv4": true, "enable_ipv6": true },
            }),
            then: Vec::new(),
        });
    }
    Ok(wanted)
}

/// Compares what the site wants with what the cloud holds under its label.
pub fn plan(site: &str, wanted: Vec<Wanted>, observed: &[Observed]) -> Plan {
    let mut steps = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for want in wanted {
        let found = observed
            .iter()
            .find(|o| o.kind == want.kind && o.name == want.name);
        let Some(found) = found else {
            steps.push(Step::Create(want));
            continue;
        };
        seen.insert((found.kind, found.id));
        match difference(&want, found) {
            Some((what, converge)) => steps.push(Step::Differs {
                kind: want.kind,
                name: want.name,
                id: found.id,
                what,
                converge,
            }),
            None => {
                let then: Vec<FollowUp> = want
                    .then
                    .iter()
                    .filter(|f| !f.done(&found.raw))
                    .cloned()
                    .collect();
                if then.is_empty() {
                    steps.push(Step::Keep {
                        kind: want.kind,
                        name: want.name,
                        id: found.id,
                    });
                } else {
                    steps.push(Step::Finish {
                        kind: want.kind,
                        name: want.name,
                        id: found.id,
                        then,
                    });
                }
            }
        }
    }
    let mut unwanted: Vec<&Observed> = observed
        .iter()
        .filter(|o| o.labels.get(SITE_LABEL).map(String::as_str) == Some(site))
        .filter(|o| !seen.contains(&(o.kind, o.id)))
        .collect();
    unwanted.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    steps.extend(unwanted.into_iter().map(|o| Step::Unwanted {
        kind: o.kind,
        name: o.name.clone(),
        id: o.id,
    }));
    Plan {
        site: site.to_owned(),
        steps,
    }
}

/// How a present resource differs from the wanted one, and the body that converges it when
/// bootstrap can (firewall rules); `None` when it is as wanted.
fn difference(want: &Wanted, found: &Observed) -> Option<(String, Option<Json>)> {
    match want.kind {
        Kind::Server => {
            let wanted_type = want.body["server_type"].as_str().unwrap_or_default();
            let found_type = found.raw["server_type"]["name"]
                .as_str()
                .unwrap_or_default();
            (wanted_type != found_type).then(|| {
                (
                    format!("server type is `{found_type}`, the site wants `{wanted_type}`"),
                    None,
                )
            })
        }
        Kind::Firewall => {
            let normal = |rules: &Json| {
                let mut rules: Vec<String> = rules
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        format!(
                            "{}|{}|{}|{}",
                            r["direction"].as_str().unwrap_or_default(),
                            r["protocol"].as_str().unwrap_or_default(),
                            r["port"].as_str().unwrap_or_default(),
                            r["source_ips"]
                        )
                    })
                    .collect();
                rules.sort();
                rules
            };
            (normal(&want.body["rules"]) != normal(&found.raw["rules"])).then(|| {
                (
                    "its rules differ from hosts/…/firewall.yaml".to_owned(),
                    Some(json!({ "rules": want.body["rules"] })),
                )
            })
        }
        Kind::LoadBalancer => {
            let wanted_type = want.body["load_balancer_type"].as_str().unwrap_or_default();
            let found_type = found.raw["load_balancer_type"]["name"]
                .as_str()
                .unwrap_or(wanted_type);
            (wanted_type != found_type).then(|| {
                (
                    format!("type is `{found_type}`, the site needs `{wanted_type}`"),
                    None,
                )
            })
        }
        Kind::SshKey | Kind::Network | Kind::PlacementGroup => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(kind: Kind, id: u64, name: &str, site: &str, raw: Json) -> Observed {
        Observed {
            kind,
            id,
            name: name.to_owned(),
            labels: BTreeMap::from([(SITE_LABEL.to_owned(), site.to_owned())]),
            raw,
        }
    }

    fn want(kind: Kind, name: &str, body: Json) -> Wanted {
        Wanted {
            kind,
            name: name.to_owned(),
            body,
            then: Vec::new(),
        }
    }

    #[test]
    fn steps_follow_what_the_cloud_holds() {
        let wanted = vec![
            want(Kind::Network, "s-network", json!({})),
            want(
                Kind::Server,
                "s-server-0",
                json!({ "server_type": "cpx32" }),
            ),
            want(
                Kind::Server,
                "s-worker-0",
                json!({ "server_type": "cpx42" }),
            ),
        ];
        let cloud = vec![
            observed(Kind::Network, 1, "s-network", "s", json!({})),
            observed(
                Kind::Server,
                2,
                "s-server-0",
                "s",
                json!({ "server_type": { "name": "cpx22" } }),
            ),
            observed(Kind::Server, 3, "s-worker-9", "s", json!({})),
            observed(Kind::Server, 4, "other-worker-0", "other", json!({})),
        ];
        let plan = plan("s", wanted, &cloud);
        let kinds: Vec<&str> = plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Create(_) => "create",
                Step::Keep { .. } => "keep",
                Step::Differs { .. } => "differs",
                Step::Unwanted { .. } => "unwanted",
                Step::Finish { .. } => "finish",
            })
            .collect();
        assert_eq!(kinds, ["keep", "differs", "create", "unwanted"]);
        assert!(plan.has_changes());
        assert!(
            plan.to_text()
                .contains("1 to create, 0 to finish, 1 to keep, 1 different, 1 unwanted")
        );
    }

    #[test]
    fn load_balancer_types_grow_with_their_targets() {
        for (targets, want) in [
            (1, "lb11"),
            (25, "lb11"),
            (26, "lb21"),
            (75, "lb21"),
            (76, "lb31"),
        ] {
            assert_eq!(load_balancer_type(targets), want, "{targets}");
        }
    }
}
