//! The fake's state: every resource and action, the faults and their counters, recorded
//! requests, locks, address allocation, and resources made outside the API.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::catalog;
use super::check::{ApiError, Cidr4, Labels, Result, Selector, splitmix};
use super::model::{
    Action, Applied, Bucket, Data, Effect, Firewall, Kind, LoadBalancer, Network, Resource, Server,
    SshKey, Subnet, Target, timestamp,
};
use super::{Faults, Recorded};

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
    /// Action POSTs since the faults were set.
    pub(super) action_post_count: u64,
    pub(super) bucket: Bucket,
    /// Firewalls whose label selector still counts a deleted server as applied, until then
    /// (`Faults::selector_release`).
    pub(super) releasing: BTreeMap<u64, std::time::Instant>,
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
            action_post_count: 0,
            bucket: Bucket::new(),
            releasing: BTreeMap::new(),
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
        self.action_post_count = 0;
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
            .any(|a| a.running() && a.touches(kind, id))
    }

    /// Starts an action; it succeeds at once when `action_polls` is 0.
    pub(super) fn action(
        &mut self,
        command: &'static str,
        resources: Vec<(Kind, u64)>,
        effect: Effect,
    ) -> u64 {
        let id = self.next_id();
        let mut fails = false;
        if let Some((failing, part, left)) = self.faults.fail_actions {
            let named = resources.iter().any(|(_, id)| {
                self.resources
                    .get(id)
                    .is_some_and(|r| r.name.contains(part))
            });
            if failing == command && named && left > 0 {
                self.faults.fail_actions = Some((failing, part, left - 1));
                fails = true;
            }
        }
        let mut action = Action::new(id, command, self.faults.action_polls, resources, effect);
        if fails {
            action.set_failing();
        }
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
        if self.actions.get_mut(&id)?.poll() {
            self.finish(id);
        }
        Some(self.action_json(id))
    }

    fn finish(&mut self, id: u64) {
        let Some(action) = self.actions.get_mut(&id) else {
            return;
        };
        match action.succeed() {
            Effect::None => {}
            Effect::Created { server, start } => {
                if let Some(Data::Server(s)) =
                    self.get_mut(Kind::Server, server).map(|r| &mut r.data)
                {
                    // A start that finished first is not undone by the create finishing.
                    if start || s.status == "initializing" {
                        s.status = if start { "running" } else { "off" };
                    }
                }
            }
            Effect::Power { server, on } => {
                if let Some(Data::Server(s)) =
                    self.get_mut(Kind::Server, server).map(|r| &mut r.data)
                {
                    s.status = if on { "running" } else { "off" };
                }
            }
            Effect::Deleted(server) => self.remove_server(server),
        }
    }

    /// The server is gone: so are its direct firewall applications and load balancer targets;
    /// a firewall whose selector matched it keeps counting it for `selector_release`.
    pub(super) fn remove_server(&mut self, id: u64) {
        let until = std::time::Instant::now() + self.faults.selector_release;
        let labels = self.resources.get(&id).map(|r| r.labels.clone());
        if let Some(labels) = labels.filter(|_| !self.faults.selector_release.is_zero()) {
            for resource in self.resources.values() {
                let Data::Firewall(f) = &resource.data else {
                    continue;
                };
                let matched = f.applied.iter().any(|a| match a {
                    Applied::Selector(s) => Selector::parse(s).is_ok_and(|s| s.matches(&labels)),
                    Applied::Server(_) => false,
                });
                if matched {
                    self.releasing.insert(resource.id, until);
                }
            }
        }
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

    pub(super) fn server_status(&self, name: &str) -> Option<String> {
        self.servers()
            .find(|(r, _)| r.name == name)
            .map(|(_, s)| s.status.to_owned())
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
