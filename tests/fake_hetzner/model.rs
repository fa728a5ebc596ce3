//! The fake's data: resource kinds and their records, actions and their state machine, the
//! rate-limit bucket, and Hetzner's timestamps. `state.rs` holds them; `render.rs` shows them.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::catalog::{Image, LoadBalancerType, Location, ServerType};
use super::check::{Cidr4, Labels};

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
    /// Ends in `error` instead of `success` (an injected failure).
    fails: bool,
    failed: bool,
}

impl Action {
    pub(super) fn new(
        id: u64,
        command: &'static str,
        needed: u32,
        resources: Vec<(Kind, u64)>,
        effect: Effect,
    ) -> Action {
        Action {
            id,
            command,
            running: true,
            polls: 0,
            needed,
            started: timestamp(),
            finished: None,
            resources,
            effect,
            fails: false,
            failed: false,
        }
    }

    /// This action is to end in `error`.
    pub(super) fn set_failing(&mut self) {
        self.fails = true;
    }

    /// One GET of the action: true when it is to succeed now.
    pub(super) fn poll(&mut self) -> bool {
        if !self.running {
            return false;
        }
        if self.polls < self.needed {
            self.polls += 1;
            return false;
        }
        true
    }

    /// Succeeds; what it does to its resources is for the caller. A failing action ends in
    /// `error` and does nothing.
    pub(super) fn succeed(&mut self) -> Effect {
        self.running = false;
        self.finished = Some(timestamp());
        let effect = std::mem::replace(&mut self.effect, Effect::None);
        if self.fails {
            self.failed = true;
            return Effect::None;
        }
        effect
    }

    pub(super) fn running(&self) -> bool {
        self.running
    }

    pub(super) fn id(&self) -> u64 {
        self.id
    }

    pub(super) fn status(&self) -> &'static str {
        match (self.running, self.failed) {
            (true, _) => "running",
            (false, true) => "error",
            (false, false) => "success",
        }
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
            "error": if self.failed {
                json!({ "code": "action_failed", "message": "Action failed" })
            } else {
                Value::Null
            },
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
    pub(super) fn new() -> Bucket {
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
