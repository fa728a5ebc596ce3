//! The fake's fixed catalogue and its list endpoints: locations, server types (every Hetzner
//! type in `crates/core/src/defaults.rs`, plus the Arm CAX line), system images, load balancer types.
//!
//! Sizes follow cloud-apis.md §2 "Sizes and locations"; disks and categories are illustrative.
//! Availability: CX and CAX types only in the EU locations (cloud-apis.md: "CX is EU-only",
//! exact matrix unverified), everything else everywhere.

use serde_json::{Value, json};

use super::check::{self, Result, Selector};
use super::query::{Query, sorted};

pub(super) struct Location {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) city: &'static str,
    pub(super) country: &'static str,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
    pub(super) network_zone: &'static str,
}

pub(super) const LOCATIONS: &[Location] = &[
    location(
        1,
        "fsn1",
        "Falkenstein",
        "DE",
        50.47612,
        12.370071,
        "eu-central",
    ),
    location(
        2,
        "nbg1",
        "Nuremberg",
        "DE",
        49.452102,
        11.076665,
        "eu-central",
    ),
    location(
        3,
        "hel1",
        "Helsinki",
        "FI",
        60.169855,
        24.938379,
        "eu-central",
    ),
    location(
        4,
        "ash",
        "Ashburn, VA",
        "US",
        39.045821,
        -77.487073,
        "us-east",
    ),
    location(
        5,
        "hil",
        "Hillsboro, OR",
        "US",
        45.54222,
        -122.951924,
        "us-west",
    ),
    location(
        6,
        "sin",
        "Singapore",
        "SG",
        1.283333,
        103.833333,
        "ap-southeast",
    ),
];

const fn location(
    id: u64,
    name: &'static str,
    city: &'static str,
    country: &'static str,
    latitude: f64,
    longitude: f64,
    network_zone: &'static str,
) -> Location {
    Location {
        id,
        name,
        city,
        country,
        latitude,
        longitude,
        network_zone,
    }
}

pub(super) const NETWORK_ZONES: &[&str] = &["eu-central", "us-east", "us-west", "ap-southeast"];

/// A location by name or (decimal) id.
pub(super) fn location_by(key: &str) -> Option<&'static Location> {
    LOCATIONS
        .iter()
        .find(|l| l.name == key || l.id.to_string() == key)
}

impl Location {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "description": format!("{} DC Park 1", self.city),
            "country": self.country,
            "city": self.city,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "network_zone": self.network_zone,
        })
    }
}

pub(super) struct ServerType {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) cores: u32,
    pub(super) memory: u32,
    pub(super) disk: u32,
    pub(super) dedicated: bool,
    pub(super) arm: bool,
    pub(super) eu_only: bool,
}

const fn st(id: u64, name: &'static str, cores: u32, memory: u32, disk: u32) -> ServerType {
    let b = name.as_bytes();
    // cx…, cax… are EU-only; cax… is Arm; ccx… is dedicated.
    let cx = b[1] == b'x' || b[1] == b'a';
    ServerType {
        id,
        name,
        cores,
        memory,
        disk,
        dedicated: b[1] == b'c',
        arm: b[1] == b'a',
        eu_only: cx,
    }
}

pub(super) const SERVER_TYPES: &[ServerType] = &[
    st(101, "cx23", 2, 4, 40),
    st(102, "cx33", 4, 8, 80),
    st(103, "cx43", 8, 16, 160),
    st(104, "cx53", 16, 32, 320),
    st(111, "cpx22", 2, 4, 80),
    st(112, "cpx32", 4, 8, 160),
    st(113, "cpx42", 8, 16, 320),
    st(114, "cpx52", 12, 24, 480),
    st(115, "cpx62", 16, 32, 640),
    st(121, "cpx11", 2, 2, 40),
    st(122, "cpx21", 3, 4, 80),
    st(123, "cpx31", 4, 8, 160),
    st(124, "cpx41", 8, 16, 240),
    st(125, "cpx51", 16, 32, 360),
    st(131, "cx22", 2, 4, 40),
    st(132, "cx32", 4, 8, 80),
    st(133, "cx42", 8, 16, 160),
    st(134, "cx52", 16, 32, 320),
    st(141, "cax11", 2, 4, 40),
    st(142, "cax21", 4, 8, 80),
    st(143, "cax31", 8, 16, 160),
    st(144, "cax41", 16, 32, 320),
    st(151, "ccx13", 2, 8, 80),
    st(152, "ccx23", 4, 16, 160),
    st(153, "ccx33", 8, 32, 240),
    st(154, "ccx43", 16, 64, 360),
    st(155, "ccx53", 32, 128, 600),
    st(156, "ccx63", 48, 192, 960),
];

pub(super) fn server_type_by(key: &str) -> Option<&'static ServerType> {
    SERVER_TYPES
        .iter()
        .find(|t| t.name == key || t.id.to_string() == key)
}

impl ServerType {
    pub(super) fn architecture(&self) -> &'static str {
        if self.arm { "arm" } else { "x86" }
    }

    pub(super) fn available_in(&self, location: &Location) -> bool {
        !self.eu_only || location.network_zone == "eu-central"
    }

    /// Listed per location where it is sold; `available` is false where `unavailable` says.
    pub(super) fn json(&self, unavailable: &[(&str, &str)]) -> Value {
        let category = match &self.name[..2] {
            "cx" => "cost_optimized",
            "cc" => "general_purpose",
            "ca" => "cost_optimized",
            _ => "regular_purpose",
        };
        let locations: Vec<Value> = LOCATIONS
            .iter()
            .filter(|l| self.available_in(l))
            .map(|l| {
                let available = !unavailable.contains(&(self.name, l.name));
                json!({ "id": l.id, "name": l.name, "deprecation": null, "available": available, "recommended": available })
            })
            .collect();
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.name.to_uppercase(),
            "category": category,
            "cores": self.cores,
            "memory": f64::from(self.memory),
            "disk": self.disk,
            "cpu_type": if self.dedicated { "dedicated" } else { "shared" },
            "architecture": self.architecture(),
            "storage_type": "local",
            "deprecated": false,
            "deprecation": null,
            "locations": locations,
            "prices": [],
        })
    }
}

pub(super) struct Image {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) version: &'static str,
    pub(super) architecture: &'static str,
}

/// ubuntu-20.04 is gone since May 2025 (cloud-apis.md §2 "Images").
pub(super) const IMAGES: &[Image] = &[
    Image {
        id: 2_204_001,
        name: "ubuntu-22.04",
        version: "22.04",
        architecture: "x86",
    },
    Image {
        id: 2_204_002,
        name: "ubuntu-22.04",
        version: "22.04",
        architecture: "arm",
    },
    Image {
        id: 2_404_001,
        name: "ubuntu-24.04",
        version: "24.04",
        architecture: "x86",
    },
    Image {
        id: 2_404_002,
        name: "ubuntu-24.04",
        version: "24.04",
        architecture: "arm",
    },
];

/// An image by id, or by name for the given architecture (as a server create resolves it).
pub(super) fn image_by(key: &str, architecture: &str) -> Option<&'static Image> {
    IMAGES
        .iter()
        .find(|i| i.id.to_string() == key || (i.name == key && i.architecture == architecture))
}

impl Image {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "system",
            "status": "available",
            "name": self.name,
            "description": format!("Ubuntu {}", self.version),
            "image_size": null,
            "disk_size": 5,
            "created": "2024-04-25T00:00:00+00:00",
            "created_from": null,
            "bound_to": null,
            "os_flavor": "ubuntu",
            "os_version": self.version,
            "rapid_deploy": true,
            "protection": { "delete": false },
            "deprecated": null,
            "deleted": null,
            "labels": {},
            "architecture": self.architecture,
        })
    }
}

pub(super) struct LoadBalancerType {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) max_connections: u32,
    pub(super) max_services: u32,
    pub(super) max_targets: u32,
}

/// lb11's limits from the hcloud-go fixture; lb21 and lb31 are unverified (cloud-apis.md §2).
pub(super) const LOAD_BALANCER_TYPES: &[LoadBalancerType] = &[
    LoadBalancerType {
        id: 1,
        name: "lb11",
        max_connections: 10_000,
        max_services: 5,
        max_targets: 25,
    },
    LoadBalancerType {
        id: 2,
        name: "lb21",
        max_connections: 20_000,
        max_services: 15,
        max_targets: 75,
    },
    LoadBalancerType {
        id: 3,
        name: "lb31",
        max_connections: 40_000,
        max_services: 30,
        max_targets: 150,
    },
];

pub(super) fn load_balancer_type_by(key: &str) -> Option<&'static LoadBalancerType> {
    LOAD_BALANCER_TYPES
        .iter()
        .find(|t| t.name == key || t.id.to_string() == key)
}

impl LoadBalancerType {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.name.to_uppercase(),
            "max_connections": self.max_connections,
            "max_services": self.max_services,
            "max_targets": self.max_targets,
            "max_assigned_certificates": 10,
            "deprecated": null,
            "prices": [],
        })
    }
}

pub(super) const CATALOGS: &[&str] =
    &["server_types", "images", "locations", "load_balancer_types"];

/// A catalogue's entries, filtered as the spec's parameters say.
/// `unavailable` lists the (server type, location) pairs sold out now.
pub(super) fn catalog_items(
    collection: &str,
    query: &Query,
    unavailable: &[(&str, &str)],
) -> Result<Vec<Value>> {
    let name = query.first("name");
    let items: Vec<Value> = match collection {
        "server_types" => SERVER_TYPES.iter().map(|t| t.json(unavailable)).collect(),
        "locations" => LOCATIONS.iter().map(|l| l.json()).collect(),
        "load_balancer_types" => LOAD_BALANCER_TYPES.iter().map(|t| t.json()).collect(),
        _ => {
            let selector = query
                .first("label_selector")
                .filter(|s| !s.trim().is_empty())
                .map(Selector::parse)
                .transpose()?;
            let types = query.all("type");
            let architectures = query.all("architecture");
            let statuses = query.all("status");
            IMAGES
                .iter()
                .map(|i| i.json())
                .filter(|i| types.is_empty() || types.iter().any(|t| i["type"] == *t))
                .filter(|i| {
                    architectures.is_empty()
                        || architectures.iter().any(|a| i["architecture"] == *a)
                })
                .filter(|i| statuses.is_empty() || statuses.iter().any(|s| i["status"] == *s))
                .filter(|_| {
                    selector
                        .as_ref()
                        .is_none_or(|s| s.matches(&check::Labels::new()))
                })
                .collect()
        }
    };
    let items = items
        .into_iter()
        .filter(|i| name.is_none_or(|n| i["name"] == n))
        .collect();
    sorted(
        items,
        query,
        &[("id", "id"), ("name", "name"), ("created", "id")],
    )
}
