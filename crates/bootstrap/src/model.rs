//! The provider-neutral cloud model bootstrap plans with: the resources a site wants, with
//! typed fields, and the facts a cloud reports about the ones that exist. Each cloud's client
//! translates these to and from its wire format; nothing here names an API path or a JSON key.

use std::collections::BTreeMap;

/// Resource kinds in the order they are created (and the reverse of deletion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    SshKey,
    Network,
    Firewall,
    PlacementGroup,
    LoadBalancer,
    Machine,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::SshKey,
        Kind::Network,
        Kind::Firewall,
        Kind::PlacementGroup,
        Kind::LoadBalancer,
        Kind::Machine,
    ];

    /// For people: `load balancer`.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::SshKey => "SSH key",
            Kind::Network => "network",
            Kind::Firewall => "firewall",
            Kind::PlacementGroup => "placement group",
            Kind::LoadBalancer => "load balancer",
            Kind::Machine => "server",
        }
    }
}

/// A resource's id as its cloud spells it (a number on Hetzner, a UUID elsewhere).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(pub String);

impl std::fmt::Display for ResourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Labels = BTreeMap<String, String>;

/// Which way traffic goes through a firewall rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    In,
    Out,
}

/// One firewall rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirewallRule {
    pub direction: Direction,
    pub description: String,
    /// `tcp`, `udp`, `icmp`, ...
    pub protocol: String,
    /// A port or a range (`2379-2380`).
    pub port: Option<String>,
    /// CIDRs the traffic may come from (inbound rules) or go to (outbound rules).
    pub sources: Vec<String>,
}

/// A load balancer's settings; its targets are follow-ups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancer {
    /// The provider's size for the number of targets (from its `Profile`).
    pub size: String,
    pub location: String,
    /// TCP ports passed through as they are, each health-checked.
    pub ports: Vec<u16>,
}

/// A machine's settings; a fixed private address and power-on are follow-ups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// The provider's machine type (`cpx42`), as `machines.yaml` names it.
    pub machine_type: String,
    pub image: String,
    pub location: String,
    /// Names of the site's SSH keys.
    pub ssh_keys: Vec<String>,
    /// The rendered user-data file (a path in the render); the edge reads it and fills in the
    /// secrets, so no secret is ever part of a plan.
    pub user_data: String,
    /// The spread placement group's name.
    pub placement_group: String,
    /// The network joined at creation, at any free address (workers); `None` when the machine
    /// joins later at a fixed address.
    pub network: Option<String>,
    /// Started right away; otherwise created stopped and powered on by a follow-up, so it
    /// boots with its fixed private address.
    pub start: bool,
}

/// What a resource is, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    SshKey {
        public_key: String,
    },
    Network {
        ip_range: String,
        subnet: String,
        /// The provider's network zone, where it has one; else the machines' location (a
        /// DigitalOcean VPC's region).
        zone: Option<String>,
    },
    Firewall {
        rules: Vec<FirewallRule>,
        /// The label selector of the machines the rules apply to.
        applies_to: String,
    },
    /// A spread placement group.
    PlacementGroup,
    LoadBalancer(LoadBalancer),
    Machine(Machine),
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::SshKey { .. } => Kind::SshKey,
            Spec::Network { .. } => Kind::Network,
            Spec::Firewall { .. } => Kind::Firewall,
            Spec::PlacementGroup => Kind::PlacementGroup,
            Spec::LoadBalancer(_) => Kind::LoadBalancer,
            Spec::Machine(_) => Kind::Machine,
        }
    }
}

/// One resource the site wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub name: String,
    pub labels: Labels,
    pub spec: Spec,
    /// What must hold after the create, done by follow-up actions.
    pub then: Vec<FollowUp>,
}

impl Wanted {
    pub fn kind(&self) -> Kind {
        self.spec.kind()
    }

    /// The follow-ups still to do for the resource as the cloud reports it: those not done,
    /// and a power-on for a machine found off (a start that ended in `error` leaves it off,
    /// and a site's machines all run).
    pub fn remaining(&self, facts: &Facts) -> Vec<FollowUp> {
        let mut then: Vec<FollowUp> = self
            .then
            .iter()
            .filter(|f| !f.done(facts))
            .cloned()
            .collect();
        let machine = matches!(self.spec, Spec::Machine(_));
        if machine && facts.powered_off && !then.contains(&FollowUp::PowerOn) {
            then.push(FollowUp::PowerOn);
        }
        then
    }

    /// The follow-ups still to do after a fresh create, whose answer is `facts`: all of them,
    /// but for the network and targets the answer already shows (a client that carries them in
    /// the create request: a Hetzner load balancer taking any free address), and with a
    /// power-on for a machine that came up off. A power-on is never taken as done from the
    /// answer: a machine created stopped is still `initializing` in it.
    pub fn after_create(&self, facts: &Facts) -> Vec<FollowUp> {
        let mut then: Vec<FollowUp> = self
            .then
            .iter()
            .filter(|f| **f == FollowUp::PowerOn || !f.done(facts))
            .cloned()
            .collect();
        let off = self.remaining(facts);
        if off.contains(&FollowUp::PowerOn) && !then.contains(&FollowUp::PowerOn) {
            then.push(FollowUp::PowerOn);
        }
        then
    }
}

/// Work after a create that the create request cannot express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// Attach to the site's network (by name), at a fixed address or any.
    AttachToNetwork { network: String, ip: Option<String> },
    /// Add a label-selector target over the private network (load balancers).
    AddTarget { selector: String },
    /// Start a machine created stopped.
    PowerOn,
}

impl FollowUp {
    pub fn describe(&self) -> String {
        match self {
            FollowUp::AttachToNetwork { ip: Some(ip), .. } => {
                format!("attach to the network at {ip}")
            }
            FollowUp::AttachToNetwork { ip: None, .. } => "attach to the network".to_owned(),
            FollowUp::AddTarget { selector } => format!("add target `{selector}`"),
            FollowUp::PowerOn => "power on".to_owned(),
        }
    }

    /// Whether the resource as the cloud reports it already has what this asks for.
    pub fn done(&self, facts: &Facts) -> bool {
        match self {
            FollowUp::AttachToNetwork { .. } => facts.on_network,
            FollowUp::AddTarget { selector } => facts.targets.iter().any(|t| t == selector),
            FollowUp::PowerOn => !facts.powered_off,
        }
    }
}

/// What a cloud reports about an existing resource, as far as bootstrap compares or uses it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// A machine's type.
    pub machine_type: Option<String>,
    /// A load balancer's size.
    pub size: Option<String>,
    /// A firewall's rules.
    pub firewall_rules: Vec<FirewallRule>,
    /// Attached to a private network.
    pub on_network: bool,
    /// A load balancer's label-selector targets.
    pub targets: Vec<String>,
    /// A machine that is stopped.
    pub powered_off: bool,
    pub public_ipv4: Option<String>,
    /// A machine's address on the site's network, where the cloud assigns it.
    pub private_ipv4: Option<String>,
    /// A network's address ranges, where the client reads them (a DigitalOcean VPC's range,
    /// a Scaleway private network's subnets); empty where it does not.
    pub ranges: Vec<String>,
    /// A machine's rendered user-data by digest (`user_data::digest`), where the cloud keeps
    /// one beside the machine (an Azure tag: Azure never serves `customData` back).
    pub user_data: Option<String>,
}

/// An SSH key the account or project holds, whoever's it is: clouds that refuse a second copy
/// of a public key are asked for these, so the site's key held under another name is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldKey {
    pub id: ResourceId,
    pub name: String,
    pub public_key: String,
}

impl HeldKey {
    /// Whether this is `public_key`: the same type and key material, whatever the comment.
    pub fn holds(&self, public_key: &str) -> bool {
        let core = |k: &str| k.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        core(&self.public_key) == core(public_key)
    }
}

/// One resource as the cloud reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Existing {
    pub kind: Kind,
    pub id: ResourceId,
    pub name: String,
    pub labels: Labels,
    pub facts: Facts,
}

/// What bootstrap must know of a cloud that differs between clouds, as data. Each client
/// holds its own (`edge/<cloud>/table.rs`); adding a cloud adds one.
#[derive(Debug)]
pub struct Profile {
    /// `provider` in `machines.yaml`.
    pub provider: &'static str,
    /// For people: `Hetzner Cloud`.
    pub title: &'static str,
    /// The environment variable holding the API token, and how to get one.
    pub token_variable: &'static str,
    pub token_hint: &'static str,
    /// Most machines a spread placement group holds; 0 where the cloud has no placement
    /// groups (DigitalOcean).
    pub spread_group_size: usize,
    /// Whether a network names its zone (Hetzner's `network_zone`).
    pub network_zone: bool,
    /// Load balancer sizes by the most targets each serves, smallest first; the last serves
    /// any number.
    pub load_balancer_sizes: &'static [(usize, &'static str)],
    /// Whether a load balancer's backends are the fixed list of machines that exist when it is
    /// made (Scaleway), so that it must come after them; elsewhere it selects its targets by
    /// label or tag and is made beside them.
    pub static_backends: bool,
}

impl Profile {
    /// The smallest load balancer size that serves `targets`.
    pub fn load_balancer_size(&self, targets: usize) -> &'static str {
        self.load_balancer_sizes
            .iter()
            .find(|(most, _)| targets <= *most)
            .or(self.load_balancer_sizes.last())
            .map_or("", |(_, size)| size)
    }
}
