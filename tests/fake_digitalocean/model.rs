//! The fake's state: every resource in its wire shape, the actions and their clocks, the
//! fault counters and the request log; the firewall semantics `allows` answers.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::rules::{self, Cidr};
use super::{Faults, Recorded, Way};

/// DigitalOcean's documented budget: 5,000 requests an hour.
pub(super) const RATE_LIMIT: u64 = 5000;

/// Regions the fake serves (DigitalOcean's spec enum, in part).
pub(super) const REGIONS: &[&str] = &["ams3", "fra1", "lon1", "nyc1", "nyc3", "sfo3", "sgp1"];
/// Size slugs (cloud-apis.md §3: the 4 vCPU / 16 GB ones and two small ones).
pub(super) const SIZES: &[&str] = &[
    "s-1vcpu-1gb",
    "s-2vcpu-4gb",
    "s-4vcpu-16gb-amd",
    "s-4vcpu-16gb-320gb-intel",
    "g-4vcpu-16gb",
    "gd-4vcpu-16gb",
];
pub(super) const IMAGES: &[&str] = &["ubuntu-24-04-x64", "ubuntu-22-04-x64"];

/// A resource kind by its collection under `/v2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Droplet,
    SshKey,
    Vpc,
    Firewall,
    LoadBalancer,
}

impl Kind {
    pub(super) fn singular(self) -> &'static str {
        match self {
            Kind::Droplet => "droplet",
            Kind::SshKey => "ssh_key",
            Kind::Vpc => "vpc",
            Kind::Firewall => "firewall",
            Kind::LoadBalancer => "load_balancer",
        }
    }

    pub(super) fn plural(self) -> &'static str {
        match self {
            Kind::Droplet => "droplets",
            Kind::SshKey => "ssh_keys",
            Kind::Vpc => "vpcs",
            Kind::Firewall => "firewalls",
            Kind::LoadBalancer => "load_balancers",
        }
    }
}

/// One resource: its wire object, and when its provisioning completes.
pub(super) struct Resource {
    pub(super) kind: Kind,
    pub(super) id: String,
    pub(super) value: Value,
    pub(super) ready_at: Instant,
}

pub(super) struct State {
    pub(super) faults: Faults,
    pub(super) origin: String,
    pub(super) requests: Vec<Recorded>,
    /// In creation order, so lists are stable.
    pub(super) resources: Vec<Resource>,
    pub(super) tags: BTreeSet<String>,
    /// Action id → (type, resource kind, resource id, started, completes at).
    pub(super) actions: BTreeMap<u64, (String, Kind, String, Instant)>,
    next_id: u64,
    pub(super) fault_count: u32,
    pub(super) create_count: u32,
    rng: u64,
    started: Instant,
}

impl State {
    pub(super) fn new(faults: Faults, origin: String) -> State {
        let mut state = State {
            rng: faults.seed,
            faults,
            origin,
            requests: Vec::new(),
            resources: Vec::new(),
            tags: BTreeSet::new(),
            actions: BTreeMap::new(),
            next_id: 1000,
            fault_count: 0,
            create_count: 0,
            started: Instant::now(),
        };
        // Every region has a default VPC (DigitalOcean's `default: true`), which ranges of new
        // VPCs may not overlap either.
        for (i, region) in REGIONS.iter().enumerate() {
            let range = format!("10.{}.0.0/20", 100 + i * 10);
            let id = state.add_foreign_vpc(&format!("default-{region}"), region, &range);
            state
                .resource_mut(Kind::Vpc, &id)
                .expect("just added")
                .value["default"] = json!(true);
        }
        state
    }

    pub(super) fn set_faults(&mut self, faults: Faults) {
        self.rng = faults.seed;
        self.faults = faults;
        self.fault_count = 0;
        self.create_count = 0;
    }

    pub(super) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A UUID-shaped id, as VPCs, firewalls and load balancers have.
    pub(super) fn next_uuid(&mut self) -> String {
        let n = self.next_id();
        format!("5f3c{n:04x}-7d1e-4a6b-9c2f-{n:012x}")
    }

    pub(super) fn random(&mut self) -> u64 {
        // splitmix64: deterministic per seed.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An ISO 8601 time that orders as creation does.
    pub(super) fn timestamp(&self) -> String {
        let secs = self.started.elapsed().as_millis() as u64 + self.next_id;
        format!(
            "2026-12-01T{:02}:{:02}:{:02}Z",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60
        )
    }

    /// A new resource whose provisioning action runs `faults.action_time`.
    pub(super) fn insert(&mut self, kind: Kind, id: String, value: Value, action: &str) -> u64 {
        let action_id = self.next_id();
        let ready_at = Instant::now() + self.faults.action_time;
        self.actions
            .insert(action_id, (action.to_owned(), kind, id.clone(), ready_at));
        self.resources.push(Resource {
            kind,
            id,
            value,
            ready_at,
        });
        action_id
    }

    pub(super) fn resource(&self, kind: Kind, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.kind == kind && r.id == id)
    }

    pub(super) fn resource_mut(&mut self, kind: Kind, id: &str) -> Option<&mut Resource> {
        self.resources
            .iter_mut()
            .find(|r| r.kind == kind && r.id == id)
    }

    pub(super) fn of(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// The resource as DigitalOcean shows it now: a droplet becomes `active` with its
    /// addresses, a load balancer `active` with its IP, a firewall `succeeded`, once its
    /// action completed.
    pub(super) fn show(&self, resource: &Resource) -> Value {
        let mut value = resource.value.clone();
        let ready = Instant::now() >= resource.ready_at;
        match resource.kind {
            Kind::Droplet if ready => {
                value["status"] = json!("active");
            }
            Kind::Droplet => {
                value["status"] = json!("new");
                value["networks"] = json!({"v4": [], "v6": []});
            }
            Kind::LoadBalancer if ready => value["status"] = json!("active"),
            Kind::LoadBalancer => {
                value["status"] = json!("new");
                value["ip"] = json!("");
            }
            Kind::Firewall if ready => value["status"] = json!("succeeded"),
            Kind::Firewall => value["status"] = json!("waiting"),
            _ => {}
        }
        value
    }

    pub(super) fn action_json(&self, id: u64) -> Option<Value> {
        let (kind_of, kind, resource, ready_at) = self.actions.get(&id)?;
        let done = Instant::now() >= *ready_at;
        let numeric = resource.parse::<u64>().ok();
        Some(json!({
            "id": id,
            "status": if done { "completed" } else { "in-progress" },
            "type": kind_of,
            "started_at": self.timestamp(),
            "completed_at": if done { json!(self.timestamp()) } else { Value::Null },
            "resource_id": numeric,
            "resource_type": match kind { Kind::Droplet => "droplet", other => other.singular() },
            "region_slug": Value::Null,
        }))
    }

    /// The lowest free private address of a VPC, from its `.2`.
    pub(super) fn private_address(&self, vpc: &str) -> Option<String> {
        let range = Cidr::parse(self.resource(Kind::Vpc, vpc)?.value["ip_range"].as_str()?)?;
        let taken: BTreeSet<String> = self
            .of(Kind::Droplet)
            .flat_map(|d| rules::addresses(&d.value, "private"))
            .collect();
        (2..range.size().saturating_sub(1))
            .map(|i| rules::ipv4_text(range.base + i))
            .find(|a| !taken.contains(a))
    }

    pub(super) fn summary(&self) -> Vec<(String, String, String, Vec<String>)> {
        self.resources
            .iter()
            .filter(|r| !(r.kind == Kind::Vpc && r.value["default"] == json!(true)))
            .map(|r| {
                let tags = r.value["tags"]
                    .as_array()
                    .filter(|_| r.kind == Kind::Droplet)
                    .map(|t| {
                        t.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    r.kind.singular().to_owned(),
                    r.id.clone(),
                    r.value["name"].as_str().unwrap_or_default().to_owned(),
                    tags,
                )
            })
            .collect()
    }

    pub(super) fn add_foreign_droplet(&mut self, name: &str, tags: &[&str]) -> String {
        let id = self.next_id();
        for tag in tags {
            self.tags.insert((*tag).to_owned());
        }
        let vpc = self
            .of(Kind::Vpc)
            .find(|v| v.value["region"] == json!("fra1"))
            .map(|v| v.id.clone())
            .expect("a default VPC");
        let value = json!({
            "id": id, "name": name, "status": "active", "tags": tags,
            "size_slug": "s-1vcpu-1gb", "region": {"slug": "fra1"},
            "image": {"slug": "ubuntu-24-04-x64"}, "vpc_uuid": vpc,
            "created_at": self.timestamp(),
            "networks": {"v4": [], "v6": []},
        });
        self.resources.push(Resource {
            kind: Kind::Droplet,
            id: id.to_string(),
            value,
            ready_at: Instant::now(),
        });
        id.to_string()
    }

    pub(super) fn add_foreign_ssh_key(&mut self, name: &str, public_key: &str) -> String {
        let id = self.next_id();
        let fingerprint =
            crate::fake_hetzner::check::ssh_fingerprint(public_key).expect("an SSH public key");
        let value =
            json!({"id": id, "name": name, "public_key": public_key, "fingerprint": fingerprint});
        self.resources.push(Resource {
            kind: Kind::SshKey,
            id: id.to_string(),
            value,
            ready_at: Instant::now(),
        });
        id.to_string()
    }

    pub(super) fn add_foreign_vpc(&mut self, name: &str, region: &str, ip_range: &str) -> String {
        let id = self.next_uuid();
        let value = json!({
            "id": id, "urn": format!("do:vpc:{id}"), "name": name, "region": region,
            "ip_range": ip_range, "default": false, "description": "",
            "created_at": self.timestamp(),
        });
        self.resources.push(Resource {
            kind: Kind::Vpc,
            id: id.clone(),
            value,
            ready_at: Instant::now(),
        });
        id
    }

    /// The firewalls that apply to a droplet: by its id or by one of its tags.
    fn firewalls_of(&self, droplet: &Value) -> Vec<&Value> {
        let tags: Vec<&Value> = droplet["tags"]
            .as_array()
            .map(|t| t.iter().collect())
            .unwrap_or_default();
        self.of(Kind::Firewall)
            .map(|f| &f.value)
            .filter(|f| {
                let by_id = f["droplet_ids"]
                    .as_array()
                    .is_some_and(|ids| ids.contains(&droplet["id"]));
                let by_tag = f["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| tags.contains(&t)));
                by_id || by_tag
            })
            .collect()
    }

    pub(super) fn allows(
        &self,
        name: &str,
        way: Way,
        protocol: &str,
        port: u16,
        address: &str,
    ) -> bool {
        let droplet = self
            .of(Kind::Droplet)
            .find(|d| d.value["name"] == json!(name))
            .unwrap_or_else(|| panic!("no droplet `{name}`"));
        let firewalls = self.firewalls_of(&droplet.value);
        if firewalls.is_empty() {
            return true;
        }
        let (list, peers) = match way {
            Way::In => ("inbound_rules", "sources"),
            Way::Out => ("outbound_rules", "destinations"),
        };
        firewalls.iter().any(|f| {
            f[list].as_array().is_some_and(|rules| {
                rules
                    .iter()
                    .any(|rule| rules::rule_matches(rule, peers, protocol, port, address))
            })
        })
    }

    pub(super) fn ready_in(&self) -> Duration {
        self.faults.action_time
    }
}
