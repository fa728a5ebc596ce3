//! The fake's state: resources of every kind, actions and their state machine, address
//! allocation, the rate-limit bucket, and every resource rendered as Hetzner's JSON.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::catalog::{self, Image, LoadBalancerType, Location, ServerType};
use super::check::{ApiError, Cidr4, Labels, Result, Selector, splitmix};
use super::{Faults, Recorded};

/// The resource kinds the fake keeps, named as the API's singular root keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    SshKey,
    Network,
    Firewall,
    PlacementGroup,
    LoadBalancer,
    Server,
}

const KINDS: [Kind; 6] = [
    Kind::SshKey,
    Kind::Network,
    Kind::Firewall,
    Kind::PlacementGroup,
    Kind::LoadBalancer,
    Kind::Server,
];

impl Kind {
    pub(super) fn singular(self) -> &'static str {
        match self {
            Kind::SshKey => "ssh_key",
            Kind::Network => "network",
            Kind::Firewall => "firewall",
            Kind::PlacementGroup => "placement_group",
            Kind::LoadBalancer => "load_balancer",
            Kind::Server => "server",
        }
    }

    pub(super) fn plural(self) -> &'static str {
        match self {
            Kind::SshKey => "ssh_keys",
            Kind::Network => "networks",
            Kind::Firewall => "firewalls",
            Kind::PlacementGroup => "placement_groups",
            Kind::LoadBalancer => "load_balancers",
            Kind::Server => "servers",
        }
    }

    pub(super) fn from_plural(text: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.plural() == text)
    }

    /// The kind named singular or plural (`add_foreign`).
    pub(super) fn from_any(text: &str) -> Option<Kind> {
        KINDS
            .into_iter()
            .find(|k| k.plural() == text || k.singular() == text)
    }

    /// For messages: "Server", "SSH key", ...
    pub(super) fn title(self) -> &'static str {
        match self {
            Kind::SshKey => "SSH key",
            Kind::Network => "Network",
            Kind::Firewall => "Firewall",
            Kind::PlacementGroup => "Placement Group",
            Kind::LoadBalancer => "Load Balancer",
            Kind::Server => "Server",
        }
    }

    /// Names unique per project (cloud-apis.md §2): all but networks, whose uniqueness the
    /// spec does not state; the fake lets network names repeat, the stricter test of a client.
    pub(super) fn unique_names(self) -> bool {
        self != Kind::Network
    }
}

pub(super) struct Resource {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) labels: Labels,
    pub(super) created: String,
    pub(super) data: Data,
}

pub(super) enum Data {
    SshKey(SshKey),
    Network(Network),
    Firewall(Firewall),
    PlacementGroup,
    LoadBalancer(Box<LoadBalancer>),
    Server(Box<Server>),
}

pub(super) struct SshKey {
    pub(super) public_key: String,
    pub(super) fingerprint: String,
}

pub(super) struct Network {
    pub(super) ip_range: Cidr4,
    pub(super) subnets: Vec<Subnet>,
    pub(super) routes: Vec<Value>,
    pub(super) expose_routes_to_vswitch: bool,
}

pub(super) struct Subnet {
    pub(super) kind: String,
    pub(super) network_zone: String,
    pub(super) ip_range: Cidr4,
    pub(super) vswitch_id: Option<u64>,
}

pub(super) struct Firewall {
    /// Normalised rules, as rendered.
    pub(super) rules: Vec<Value>,
    pub(super) applied: Vec<Applied>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Applied {
    Server(u64),
    Selector(String),
}

pub(super) struct LoadBalancer {
    pub(super) lb_type: &'static LoadBalancerType,
    pub(super) location: &'static Location,
    pub(super) algorithm: String,
    /// Normalised services, as rendered.
    pub(super) services: Vec<Value>,
    pub(super) targets: Vec<Target>,
    pub(super) public_interface: bool,
    pub(super) host: u32,
    pub(super) private_net: Vec<(u64, Ipv4Addr)>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Target {
    Server { id: u64, private: bool },
    Selector { selector: String, private: bool },
    Ip(String),
}

pub(super) struct Server {
    pub(super) status: &'static str,
    pub(super) server_type: &'static ServerType,
    pub(super) image: &'static Image,
    pub(super) location: &'static Location,
    /// The host number of both public addresses, when IPv4 or IPv6 is enabled.
    pub(super) host: u32,
    pub(super) ipv4: bool,
    pub(super) ipv6: bool,
    pub(super) private_net: Vec<PrivateNet>,
    pub(super) placement_group: Option<u64>,
}

pub(super) struct PrivateNet {
    pub(super) network: u64,
    pub(super) ip: Ipv4Addr,
    pub(super) alias_ips: Vec<String>,
}

impl Resource {
    pub(super) fn kind(&self) -> Kind {
        match self.data {
            Data::SshKey(_) => Kind::SshKey,
            Data::Network(_) => Kind::Network,
            Data::Firewall(_) => Kind::Firewall,
            Data::PlacementGroup => Kind::PlacementGroup,
            Data::LoadBalancer(_) => Kind::LoadBalancer,
            Data::Server(_) => Kind::Server,
        }
    }

    pub(super) fn server(&self) -> Option<&Server> {
        match &self.data {
            Data::Server(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn network(&self) -> Option<&Network> {
        match &self.data {
            Data::Network(n) => Some(n),
            _ => None,
        }
    }

    pub(super) fn firewall(&self) -> Option<&Firewall> {
        match &self.data {
            Data::Firewall(f) => Some(f),
            _ => None,
        }
    }

    pub(super) fn load_balancer(&self) -> Option<&LoadBalancer> {
        match &self.data {
            Data::LoadBalancer(l) => Some(l),
            _ => None,
        }
    }

    pub(super) fn ssh_key(&self) -> Option<&SshKey> {
        match &self.data {
            Data::SshKey(k) => Some(k),
            _ => None,
        }
    }
}

/// What an action does to its resources when it succeeds.
#[derive(Debug)]
pub(super) enum Effect {
    None,
    /// create_server: the server runs (or stays off without `start_after_create`).
    Created {
        server: u64,
        start: bool,
    },
    /// poweron / poweroff.
    Power {
        server: u64,
        on: bool,
    },
    /// delete_server: the server disappears.
    Deleted(u64),
}

pub(super) struct Action {
    id: u64,
    command: &'static str,
    running: bool,
    polls: u32,
    needed: u32,
    started: String,
    finished: Option<String>,
    resources: Vec<(Kind, u64)>,
    effect: Effect,
}

impl Action {
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    pub(super) fn status(&self) -> &'static str {
        if self.running { "running" } else { "success" }
    }

    pub(super) fn touches(&self, kind: Kind, id: u64) -> bool {
        self.resources.contains(&(kind, id))
    }

    pub(super) fn json(&self) -> Value {
        let progress = if self.running {
            self.polls * 100 / (self.needed + 1)
        } else {
            100
        };
        let resources: Vec<Value> = self
            .resources
            .iter()
            .map(|(kind, id)| json!({ "id": id, "type": kind.singular() }))
            .collect();
        json!({
            "id": self.id,
            "command": self.command,
            "status": self.status(),
            "progress": progress,
            "started": self.started,
            "finished": self.finished,
            "resources": resources,
            "error": null,
        })
    }
}

/// Hetzner's rate limit: 3600 requests an hour, refilled by one a second.
pub(super) struct Bucket {
    remaining: u32,
    since: Instant,
}

pub(super) const RATE_LIMIT: u32 = 3600;

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            remaining: RATE_LIMIT,
            since: Instant::now(),
        }
    }

    /// Takes one request; false when none is left.
    pub(super) fn take(&mut self) -> bool {
        let seconds = self.since.elapsed().as_secs();
        if seconds > 0 {
            let refilled = u64::from(self.remaining) + seconds;
            self.remaining = u32::try_from(refilled.min(u64::from(RATE_LIMIT))).unwrap_or(0);
            self.since += Duration::from_secs(seconds);
        }
        if self.remaining == RATE_LIMIT {
            self.since = Instant::now();
        }
        if self.remaining == 0 {
            return false;
        }
        self.remaining -= 1;
        true
    }

    pub(super) fn remaining(&self) -> u32 {
        self.remaining
    }

    /// When the bucket is full again (a UNIX timestamp).
    pub(super) fn reset(&self) -> u64 {
        unix_now() + u64::from(RATE_LIMIT - self.remaining)
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Now as Hetzner writes times: `2026-11-21T20:28:00+00:00`.
pub(super) fn timestamp() -> String {
    let seconds = unix_now();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub(super) struct State {
    pub(super) faults: Faults,
    /// `http://127.0.0.1:PORT`, for `Link` headers.
    pub(super) origin: String,
    pub(super) resources: BTreeMap<u64, Resource>,
    pub(super) actions: BTreeMap<u64, Action>,
    pub(super) requests: Vec<Recorded>,
    /// Requests since the faults were set (for the every-Nth faults).
    pub(super) fault_count: u64,
    /// Creating POSTs since the faults were set.
    pub(super) create_count: u64,
    pub(super) bucket: Bucket,
    next_id: u64,
    rng: u64,
    last_server_host: u32,
    last_lb_host: u32,
}

impl State {
    pub(super) fn new(faults: Faults, origin: String) -> State {
        State {
            rng: faults.seed,
            faults,
            origin,
            resources: BTreeMap::new(),
            actions: BTreeMap::new(),
            requests: Vec::new(),
            fault_count: 0,
            create_count: 0,
            bucket: Bucket::new(),
            next_id: 1,
            last_server_host: 0,
            last_lb_host: 0,
        }
    }

    /// New faults restart the every-Nth counters and the random sequence.
    pub(super) fn set_faults(&mut self, faults: Faults) {
        self.rng = faults.seed;
        self.faults = faults;
        self.fault_count = 0;
        self.create_count = 0;
    }

    /// One ID sequence for resources and actions, so an ID of the wrong kind is not found.
    pub(super) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(super) fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(1);
        splitmix(self.rng)
    }

    pub(super) fn insert(&mut self, id: u64, name: &str, labels: Labels, data: Data) {
        let resource = Resource {
            id,
            name: name.to_owned(),
            labels,
            created: timestamp(),
            data,
        };
        self.resources.insert(id, resource);
    }

    pub(super) fn get(&self, kind: Kind, id: u64) -> Option<&Resource> {
        self.resources.get(&id).filter(|r| r.kind() == kind)
    }

    pub(super) fn get_mut(&mut self, kind: Kind, id: u64) -> Option<&mut Resource> {
        self.resources.get_mut(&id).filter(|r| r.kind() == kind)
    }

    /// The resource, or 404 `not_found`.
    pub(super) fn find(&self, kind: Kind, id: u64) -> Result<&Resource> {
        self.get(kind, id)
            .ok_or_else(|| ApiError::not_found(format!("{} with ID {id}", kind.title())))
    }

    pub(super) fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        self.resources.values().filter(move |r| r.kind() == kind)
    }

    pub(super) fn by_name(&self, kind: Kind, name: &str) -> Option<&Resource> {
        self.of_kind(kind).find(|r| r.name == name)
    }

    pub(super) fn servers(&self) -> impl Iterator<Item = (&Resource, &Server)> {
        self.resources
            .values()
            .filter_map(|r| r.server().map(|s| (r, s)))
    }

    pub(super) fn load_balancers(&self) -> impl Iterator<Item = (&Resource, &LoadBalancer)> {
        self.resources
            .values()
            .filter_map(|r| r.load_balancer().map(|l| (r, l)))
    }

    /// 409 `uniqueness_error` when another resource of the kind has the name.
    pub(super) fn check_name_free(
        &self,
        kind: Kind,
        name: &str,
        except: Option<u64>,
    ) -> Result<()> {
        let taken = kind.unique_names()
            && self
                .of_kind(kind)
                .any(|r| r.name == name && Some(r.id) != except);
        if taken {
            return Err(ApiError::unique(
                "name",
                format!("{} name is already used", kind.title()),
            ));
        }
        Ok(())
    }

    /// A resource with a running action answers 423 `locked` to changes.
    pub(super) fn check_unlocked(&self, kind: Kind, id: u64) -> Result<()> {
        if self.locked(kind, id) {
            return Err(ApiError::new(
                423,
                "locked",
                format!(
                    "{} with ID {id} is locked: an action is running",
                    kind.title()
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn locked(&self, kind: Kind, id: u64) -> bool {
        self.actions
            .values()
            .any(|a| a.running && a.touches(kind, id))
    }

    /// Starts an action; it succeeds at once when `action_polls` is 0.
    pub(super) fn action(
        &mut self,
        command: &'static str,
        resources: Vec<(Kind, u64)>,
        effect: Effect,
    ) -> u64 {
        let id = self.next_id();
        let action = Action {
            id,
            command,
            running: true,
            polls: 0,
            needed: self.faults.action_polls,
            started: timestamp(),
            finished: None,
            resources,
            effect,
        };
        self.actions.insert(id, action);
        if self.faults.action_polls == 0 {
            self.finish(id);
        }
        id
    }

    pub(super) fn action_json(&self, id: u64) -> Value {
        self.actions.get(&id).map_or(Value::Null, Action::json)
    }

    /// A GET that shows the action: it stays `running` for `action_polls` of them, then
    /// succeeds (and its effect happens) on the next.
    pub(super) fn observe(&mut self, id: u64) -> Option<Value> {
        let action = self.actions.get_mut(&id)?;
        if action.running {
            if action.polls < action.needed {
                action.polls += 1;
            } else {
                self.finish(id);
            }
        }
        Some(self.action_json(id))
    }

    fn finish(&mut self, id: u64) {
        let Some(action) = self.actions.get_mut(&id) else {
            return;
        };
        action.running = false;
        action.finished = Some(timestamp());
        match std::mem::replace(&mut action.effect, Effect::None) {
            Effect::None => {}
            Effect::Created { server, start } | Effect::Power { server, on: start } => {
                if let Some(Data::Server(s)) =
                    self.get_mut(Kind::Server, server).map(|r| &mut r.data)
                {
                    s.status = if start { "running" } else { "off" };
                }
            }
            Effect::Deleted(server) => self.remove_server(server),
        }
    }

    /// The server is gone: so are its direct firewall applications and load balancer targets.
    pub(super) fn remove_server(&mut self, id: u64) {
        self.resources.remove(&id);
        for resource in self.resources.values_mut() {
            match &mut resource.data {
                Data::Firewall(f) => f.applied.retain(|a| *a != Applied::Server(id)),
                Data::LoadBalancer(l) => l
                    .targets
                    .retain(|t| !matches!(t, Target::Server { id: s, .. } if *s == id)),
                _ => {}
            }
        }
    }

    /// Servers whose labels match a (validated) selector.
    pub(super) fn matching_servers(&self, selector: &str) -> Vec<u64> {
        let Ok(selector) = Selector::parse(selector) else {
            return Vec::new();
        };
        self.servers()
            .filter(|(r, _)| selector.matches(&r.labels))
            .map(|(r, _)| r.id)
            .collect()
    }

    /// A private address in the network, in a subnet of the zone (and of `range` if given):
    /// the one wanted, or the next free one from the subnet's `.2` upwards. The network's
    /// gateway (its first address) and each subnet's first and last addresses are never given.
    pub(super) fn private_ip(
        &self,
        network_id: u64,
        zone: &str,
        wanted: Option<Ipv4Addr>,
        range: Option<Cidr4>,
    ) -> Result<Ipv4Addr> {
        let Some(network) = self
            .get(Kind::Network, network_id)
            .and_then(Resource::network)
        else {
            return Err(ApiError::not_found(format!("Network with ID {network_id}")));
        };
        let subnets: Vec<Cidr4> = network
            .subnets
            .iter()
            .filter(|s| s.network_zone == zone && s.kind != "vswitch")
            .map(|s| s.ip_range)
            .filter(|s| range.is_none_or(|r| r == *s))
            .collect();
        let no_subnet = || {
            ApiError::unprocessable(
                "no_subnet_available",
                format!("no subnet or IP available in network {network_id} for zone {zone}"),
            )
        };
        if subnets.is_empty() {
            return Err(no_subnet());
        }
        let used = self.used_private_ips(network_id);
        let gateway = network.ip_range.base + 1;
        let free = |ip: u32, subnet: Cidr4| {
            subnet.contains_ip(ip)
                && ip != subnet.base
                && ip != subnet.last()
                && ip != gateway
                && !used.contains(&ip)
        };
        if let Some(ip) = wanted {
            let ip = u32::from(ip);
            return if subnets.iter().any(|s| free(ip, *s)) {
                Ok(Ipv4Addr::from(ip))
            } else {
                Err(ApiError::unprocessable(
                    "ip_not_available",
                    format!(
                        "IP {} is not available in network {network_id}",
                        Ipv4Addr::from(ip)
                    ),
                ))
            };
        }
        subnets
            .iter()
            .find_map(|s| (s.base + 2..s.last()).find(|ip| free(*ip, *s)))
            .map(Ipv4Addr::from)
            .ok_or_else(no_subnet)
    }

    fn used_private_ips(&self, network_id: u64) -> Vec<u32> {
        let servers = self
            .servers()
            .flat_map(|(_, s)| &s.private_net)
            .filter(|p| p.network == network_id)
            .map(|p| u32::from(p.ip));
        let balancers = self
            .load_balancers()
            .flat_map(|(_, l)| &l.private_net)
            .filter(|(n, _)| *n == network_id)
            .map(|(_, ip)| u32::from(*ip));
        servers.chain(balancers).collect()
    }

    /// The next free public host number (1–254) for a server: 198.51.100.n and 2001:db8:n::/64.
    pub(super) fn server_host(&mut self) -> Result<u32> {
        let used: Vec<u32> = self.servers().map(|(_, s)| s.host).collect();
        let host = next_host(self.last_server_host, &used)?;
        self.last_server_host = host;
        Ok(host)
    }

    /// The next free public host number (1–254) for a load balancer: 203.0.113.n.
    pub(super) fn load_balancer_host(&mut self) -> Result<u32> {
        let used: Vec<u32> = self.load_balancers().map(|(_, l)| l.host).collect();
        let host = next_host(self.last_lb_host, &used)?;
        self.last_lb_host = host;
        Ok(host)
    }

    pub(super) fn render(&self, resource: &Resource) -> Value {
        let common = |mut value: Value| {
            value["id"] = json!(resource.id);
            value["name"] = json!(resource.name);
            value["labels"] = json!(resource.labels);
            value["created"] = json!(resource.created);
            value
        };
        let id = resource.id;
        common(match &resource.data {
            Data::SshKey(k) => json!({
                "id": id, "name": "", "fingerprint": k.fingerprint, "public_key": k.public_key,
                "labels": {}, "created": "",
            }),
            Data::PlacementGroup => {
                let servers: Vec<u64> = self
                    .servers()
                    .filter(|(_, s)| s.placement_group == Some(id))
                    .map(|(r, _)| r.id)
                    .collect();
                json!({ "id": id, "name": "", "labels": {}, "created": "", "type": "spread", "servers": servers })
            }
            Data::Network(n) => self.render_network(id, n),
            Data::Firewall(f) => self.render_firewall(id, f),
            Data::LoadBalancer(l) => self.render_load_balancer(l),
            Data::Server(s) => self.render_server(resource, s),
        })
    }

    fn render_network(&self, id: u64, network: &Network) -> Value {
        let gateway = Ipv4Addr::from(network.ip_range.base + 1).to_string();
        let subnets: Vec<Value> = network
            .subnets
            .iter()
            .map(|s| {
                json!({
                    "type": s.kind, "ip_range": s.ip_range.to_string(),
                    "network_zone": s.network_zone, "gateway": gateway, "vswitch_id": s.vswitch_id,
                })
            })
            .collect();
        let servers: Vec<u64> = self
            .servers()
            .filter(|(_, s)| s.private_net.iter().any(|p| p.network == id))
            .map(|(r, _)| r.id)
            .collect();
        let balancers: Vec<u64> = self
            .load_balancers()
            .filter(|(_, l)| l.private_net.iter().any(|(n, _)| *n == id))
            .map(|(r, _)| r.id)
            .collect();
        json!({
            "id": id, "name": "", "ip_range": network.ip_range.to_string(), "subnets": subnets,
            "routes": network.routes, "servers": servers, "load_balancers": balancers,
            "protection": { "delete": false }, "labels": {}, "created": "",
            "expose_routes_to_vswitch": network.expose_routes_to_vswitch,
        })
    }

    fn render_firewall(&self, id: u64, firewall: &Firewall) -> Value {
        let applied: Vec<Value> = firewall
            .applied
            .iter()
            .map(|a| match a {
                Applied::Server(server) => json!({ "type": "server", "server": { "id": server } }),
                Applied::Selector(selector) => {
                    let resources: Vec<Value> = self
                        .matching_servers(selector)
                        .into_iter()
                        .map(|s| json!({ "type": "server", "server": { "id": s } }))
                        .collect();
                    json!({
                        "type": "label_selector", "label_selector": { "selector": selector },
                        "applied_to_resources": resources,
                    })
                }
            })
            .collect();
        json!({
            "id": id, "name": "", "labels": {}, "created": "",
            "rules": firewall.rules, "applied_to": applied,
        })
    }

    fn health(&self, balancer: &LoadBalancer, server: u64, private: bool) -> Vec<Value> {
        let healthy = self
            .get(Kind::Server, server)
            .and_then(Resource::server)
            .is_some_and(|s| {
                s.status == "running"
                    && (!private
                        || s.private_net
                            .iter()
                            .any(|p| balancer.private_net.iter().any(|(n, _)| *n == p.network)))
            });
        let status = if healthy { "healthy" } else { "unhealthy" };
        balancer
            .services
            .iter()
            .map(|s| json!({ "listen_port": s["listen_port"], "status": status }))
            .collect()
    }

    fn render_load_balancer(&self, balancer: &LoadBalancer) -> Value {
        let server_target = |id: u64, private: bool| {
            json!({
                "type": "server", "server": { "id": id }, "use_private_ip": private,
                "health_status": self.health(balancer, id, private),
            })
        };
        let targets: Vec<Value> = balancer
            .targets
            .iter()
            .map(|t| match t {
                Target::Server { id, private } => server_target(*id, *private),
                Target::Selector { selector, private } => {
                    let matched: Vec<Value> = self
                        .matching_servers(selector)
                        .into_iter()
                        .map(|id| server_target(id, *private))
                        .collect();
                    json!({
                        "type": "label_selector", "label_selector": { "selector": selector },
                        "use_private_ip": private, "targets": matched,
                    })
                }
                Target::Ip(ip) => json!({ "type": "ip", "ip": { "ip": ip }, "health_status": [] }),
            })
            .collect();
        let private_net: Vec<Value> = balancer
            .private_net
            .iter()
            .map(|(network, ip)| json!({ "network": network, "ip": ip.to_string() }))
            .collect();
        json!({
            "public_net": {
                "enabled": balancer.public_interface,
                "ipv4": { "ip": format!("203.0.113.{}", balancer.host), "dns_ptr": null },
                "ipv6": { "ip": format!("2001:db8:ff::{:x}", balancer.host), "dns_ptr": null },
            },
            "private_net": private_net,
            "location": balancer.location.json(),
            "load_balancer_type": balancer.lb_type.json(),
            "protection": { "delete": false },
            "services": balancer.services,
            "targets": targets,
            "algorithm": { "type": balancer.algorithm },
            "outgoing_traffic": null,
            "ingoing_traffic": null,
            "included_traffic": 21_990_232_555_520u64,
        })
    }

    fn render_server(&self, resource: &Resource, server: &Server) -> Value {
        let id = resource.id;
        let firewalls: Vec<Value> = self
            .of_kind(Kind::Firewall)
            .filter(|r| {
                r.firewall().is_some_and(|f| {
                    f.applied.iter().any(|a| match a {
                        Applied::Server(s) => *s == id,
                        Applied::Selector(sel) => {
                            Selector::parse(sel).is_ok_and(|sel| sel.matches(&resource.labels))
                        }
                    })
                })
            })
            .map(|r| json!({ "id": r.id, "status": "applied" }))
            .collect();
        let balancers: Vec<u64> = self
            .load_balancers()
            .filter(|(_, l)| {
                l.targets.iter().any(|t| match t {
                    Target::Server { id: s, .. } => *s == id,
                    Target::Selector { selector, .. } => {
                        Selector::parse(selector).is_ok_and(|sel| sel.matches(&resource.labels))
                    }
                    Target::Ip(_) => false,
                })
            })
            .map(|(r, _)| r.id)
            .collect();
        let private_net: Vec<Value> = server
            .private_net
            .iter()
            .map(|p| {
                let mac = ((id << 8) | p.network) & 0xff_ffff;
                json!({
                    "network": p.network, "ip": p.ip.to_string(), "alias_ips": p.alias_ips,
                    "mac_address": format!("86:00:00:{:02x}:{:02x}:{:02x}", mac >> 16, (mac >> 8) & 0xff, mac & 0xff),
                })
            })
            .collect();
        let ipv4 = server.ipv4.then(|| {
            json!({ "ip": format!("198.51.100.{}", server.host), "blocked": false, "dns_ptr": format!("static.{}.100.51.198.clients.your-server.de", server.host) })
        });
        let ipv6 = server.ipv6.then(|| {
            json!({ "ip": format!("2001:db8:{:x}::/64", server.host), "blocked": false, "dns_ptr": [] })
        });
        let placement_group = server
            .placement_group
            .and_then(|pg| self.get(Kind::PlacementGroup, pg))
            .map(|pg| self.render(pg));
        json!({
            "status": server.status,
            "public_net": { "ipv4": ipv4, "ipv6": ipv6, "floating_ips": [], "firewalls": firewalls },
            "private_net": private_net,
            "server_type": server.server_type.json(),
            "location": server.location.json(),
            "image": server.image.json(),
            "placement_group": placement_group,
            "load_balancers": balancers,
            "volumes": [],
            "locked": self.locked(Kind::Server, id),
            "protection": { "delete": false, "rebuild": false },
            "backup_window": null,
            "rescue_enabled": false,
            "iso": null,
            "primary_disk_size": server.server_type.disk,
            "included_traffic": 21_990_232_555_520u64,
            "outgoing_traffic": null,
            "ingoing_traffic": null,
        })
    }

    /// Every live resource: kind, ID, name, labels, by ID.
    pub(super) fn summary(&self) -> Vec<(String, u64, String, Labels)> {
        self.resources
            .values()
            .map(|r| {
                (
                    r.kind().singular().to_owned(),
                    r.id,
                    r.name.clone(),
                    r.labels.clone(),
                )
            })
            .collect()
    }

    /// A resource made outside the API (no request, no action, no faults): an ed25519 key,
    /// a 10.0.0.0/16 network with an eu-central subnet, an empty firewall, a spread group, an
    /// lb11 in nbg1, or a running cx23 in nbg1.
    pub(super) fn add_foreign(&mut self, kind: &str, name: &str, labels: Labels) -> u64 {
        let kind = Kind::from_any(kind).unwrap_or_else(|| panic!("unknown kind {kind}"));
        self.check_name_free(kind, name, None)
            .unwrap_or_else(|e| panic!("add_foreign: {}", e.message));
        if let Some((key, value)) = labels
            .iter()
            .find(|(k, v)| super::check::label_problem(k, v).is_some())
        {
            panic!("add_foreign: invalid label {key}={value}");
        }
        let id = self.next_id();
        let nbg1 = catalog::location_by("nbg1").expect("nbg1");
        let data = match kind {
            Kind::SshKey => {
                let public_key = super::check::fake_ed25519_key(self.random(), "foreign@example");
                let fingerprint = super::check::ssh_fingerprint(&public_key).expect("valid key");
                Data::SshKey(SshKey {
                    public_key,
                    fingerprint,
                })
            }
            Kind::Network => {
                let range = |text| Cidr4::parse(text).expect("valid range");
                Data::Network(Network {
                    ip_range: range("10.0.0.0/16"),
                    subnets: vec![Subnet {
                        kind: "cloud".to_owned(),
                        network_zone: "eu-central".to_owned(),
                        ip_range: range("10.0.1.0/24"),
                        vswitch_id: None,
                    }],
                    routes: Vec::new(),
                    expose_routes_to_vswitch: false,
                })
            }
            Kind::Firewall => Data::Firewall(Firewall {
                rules: Vec::new(),
                applied: Vec::new(),
            }),
            Kind::PlacementGroup => Data::PlacementGroup,
            Kind::LoadBalancer => Data::LoadBalancer(Box::new(LoadBalancer {
                lb_type: catalog::load_balancer_type_by("lb11").expect("lb11"),
                location: nbg1,
                algorithm: "round_robin".to_owned(),
                services: Vec::new(),
                targets: Vec::new(),
                public_interface: true,
                host: self.load_balancer_host().expect("a free address"),
                private_net: Vec::new(),
            })),
            Kind::Server => {
                let server_type = catalog::server_type_by("cx23").expect("cx23");
                Data::Server(Box::new(Server {
                    status: "running",
                    server_type,
                    image: catalog::image_by("ubuntu-24.04", "x86").expect("image"),
                    location: nbg1,
                    host: self.server_host().expect("a free address"),
                    ipv4: true,
                    ipv6: true,
                    private_net: Vec::new(),
                    placement_group: None,
                }))
            }
        };
        self.insert(id, name, labels, data);
        id
    }
}

/// The first host number after `last` (cyclically in 1–254) not in `used`.
fn next_host(last: u32, used: &[u32]) -> Result<u32> {
    (1..=254)
        .map(|step| (last + step - 1) % 254 + 1)
        .find(|host| !used.contains(host))
        .ok_or_else(|| {
            let mut e = ApiError::new(403, "resource_limit_exceeded", "project limit exceeded");
            e.details = json!({ "limits": [{ "name": "primary_ip_limit" }] });
            e
        })
}
