//! The fake's HTTP surface: which path is which API, and each endpoint bootstrap uses, with
//! the checks Scaleway makes on bodies (field names, security-group rules, user-data).

use serde_json::{Value, json};

use super::PROJECT;
use super::state::{ApiError, Query, Result, State, only_fields, required, strings, tags};

pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

pub(crate) enum Body {
    Json(Value),
    Text(String),
    Html(&'static str),
    Empty,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Body,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(value),
            headers: Vec::new(),
        }
    }

    fn empty() -> Reply {
        Reply {
            status: 204,
            body: Body::Empty,
            headers: Vec::new(),
        }
    }
}

const ZONES: &[&str] = &[
    "fr-par-1", "fr-par-2", "fr-par-3", "nl-ams-1", "nl-ams-2", "nl-ams-3", "pl-waw-1", "pl-waw-2",
    "pl-waw-3", "it-mil-1",
];
const REGIONS: &[&str] = &["fr-par", "nl-ams", "pl-waw", "it-mil"];

/// A POST that makes a new resource (the ones the drop fault loses).
pub(crate) fn is_create(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        [
            "instance",
            "v1",
            "zones",
            _,
            "servers" | "security_groups" | "placement_groups" | "ips"
        ] | ["vpc", "v2", "regions", _, "private-networks"]
            | ["ipam", "v1", "regions", _, "ips"]
            | ["iam", "v1alpha1", "ssh-keys"]
            | ["lb", "v1", "zones", _, "lbs"]
            | ["instance", "v1", "zones", _, "servers", _, "private_nics"]
            | ["lb", "v1", "zones", _, "lbs", _, "backends" | "frontends"]
    )
}

fn json_body(request: &Request) -> Result<Value> {
    if request.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(request.body)
        .map_err(|_| ApiError::new(400, "invalid_request_error", "body is not valid JSON"))
}

fn found(status: u16, root: &str, value: Value) -> Reply {
    Reply::json(status, json!({ root: value }))
}

impl State {
    pub(super) fn route(&mut self, request: &Request) -> Reply {
        match self.dispatch(request) {
            Ok(reply) => reply,
            Err(e) => e.into(),
        }
    }

    fn dispatch(&mut self, r: &Request) -> Result<Reply> {
        let segments: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["instance", "v1", "zones", zone, rest @ ..] => {
                place(zone, ZONES)?;
                self.instance(r, zone, rest)
            }
            ["lb", "v1", "zones", zone, rest @ ..] => {
                place(zone, ZONES)?;
                self.lb(r, rest)
            }
            [
                "vpc",
                "v2",
                "regions",
                region,
                "private-networks",
                rest @ ..,
            ] => {
                place(region, REGIONS)?;
                self.private_networks(r, region, rest)
            }
            ["ipam", "v1", "regions", region, "ips", rest @ ..] => {
                place(region, REGIONS)?;
                self.ipam(r, rest)
            }
            ["iam", "v1alpha1", "ssh-keys", rest @ ..] => self.ssh_keys(r, rest),
            ["marketplace", "v2", "local-images"] if r.method == "GET" => {
                let q = Query::parse(r.query, &["zone", "type"]);
                let label = q.one("image_label").unwrap_or_default().to_owned();
                let items = local_images()
                    .into_iter()
                    .filter(|i| label.is_empty() || i["label"] == label.as_str())
                    .filter(|i| q.matches_fields(i))
                    .collect();
                Ok(self.page("local_images", items, &q, false))
            }
            _ => Err(ApiError::new(404, "not_found", "no such route")),
        }
    }

    fn ssh_keys(&mut self, r: &Request, rest: &[&str]) -> Result<Reply> {
        match (r.method, rest) {
            ("GET", []) => {
                let q = Query::parse(r.query, &[]);
                let items = self.list("ssh_keys", &q);
                Ok(self.page("ssh_keys", items, &q, false))
            }
            ("POST", []) => {
                let body = json_body(r)?;
                // IAM keys carry no tags: a `tags` field is refused like any unknown one.
                only_fields(&body, &["name", "public_key", "project_id"])?;
                let public_key = required(&body, "public_key")?;
                if !public_key.starts_with("ssh-") {
                    return Err(ApiError::argument("public_key", "format", "not an SSH key"));
                }
                project(&body, "project_id")?;
                let core = |k: &str| k.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
                let held = self.objects.values().any(|(c, v)| {
                    *c == "ssh_keys" && v["public_key"].as_str().map(core) == Some(core(public_key))
                });
                if held && self.faults.unique_public_keys {
                    return Err(ApiError::new(409, "conflict", "ssh key already exists"));
                }
                let id = self.id();
                let key = json!({
                    "id": id, "name": body["name"], "public_key": public_key,
                    "project_id": PROJECT, "disabled": false,
                });
                Ok(Reply::json(200, self.insert("ssh_keys", key)))
            }
            ("GET", [id]) => Ok(Reply::json(200, self.get("ssh_keys", id, true)?)),
            ("DELETE", [id]) => {
                self.get("ssh_keys", id, false)?;
                self.objects.remove(*id);
                Ok(Reply::empty())
            }
            _ => Err(ApiError::new(404, "not_found", "no such route")),
        }
    }

    fn private_networks(&mut self, r: &Request, region: &str, rest: &[&str]) -> Result<Reply> {
        match (r.method, rest) {
            ("GET", []) => {
                let q = Query::parse(r.query, &[]);
                let items = self.list("private_networks", &q);
                Ok(self.page("private_networks", items, &q, false))
            }
            ("POST", []) => {
                let body = json_body(r)?;
                only_fields(
                    &body,
                    &[
                        "name",
                        "project_id",
                        "tags",
                        "subnets",
                        "vpc_id",
                        "default_route_propagation_enabled",
                    ],
                )?;
                project(&body, "project_id")?;
                let subnets = strings(&body["subnets"]);
                for subnet in &subnets {
                    let bits = subnet
                        .split_once('/')
                        .and_then(|(_, b)| b.parse::<u8>().ok());
                    if !bits.is_some_and(|b| (20..=28).contains(&b)) {
                        return Err(ApiError::argument(
                            "subnets",
                            "constraint",
                            "subnets are /20 to /28",
                        ));
                    }
                }
                let id = self.id();
                let network = json!({
                    "id": id, "name": required(&body, "name")?, "tags": tags(&body)?,
                    "project_id": PROJECT, "region": region,
                    "subnets": subnets.iter().map(|s| json!({"subnet": s})).collect::<Vec<_>>(),
                });
                Ok(Reply::json(200, self.insert("private_networks", network)))
            }
            ("GET", [id]) => Ok(Reply::json(200, self.get("private_networks", id, true)?)),
            ("DELETE", [id]) => {
                self.get("private_networks", id, false)?;
                let used = self.objects.values().any(|(c, v)| {
                    (*c == "servers"
                        && v["private_nics"]
                            .as_array()
                            .is_some_and(|n| n.iter().any(|n| n["private_network_id"] == *id)))
                        || (*c == "lbs" && strings(&v["private_networks"]).iter().any(|p| p == id))
                });
                if used {
                    return Err(ApiError::new(
                        412,
                        "precondition_failed",
                        "private network is in use",
                    ));
                }
                self.objects
                    .retain(|_, (c, v)| !(*c == "ipam_ips" && v["private_network_id"] == *id));
                self.objects.remove(*id);
                Ok(Reply::empty())
            }
            _ => Err(ApiError::new(404, "not_found", "no such route")),
        }
    }

    fn ipam(&mut self, r: &Request, rest: &[&str]) -> Result<Reply> {
        match (r.method, rest) {
            ("GET", []) => {
                let q = Query::parse(r.query, &["resource_id", "private_network_id"]);
                let items = self.list("ipam_ips", &q);
                Ok(self.page("ips", items, &q, false))
            }
            ("POST", []) => {
                let body = json_body(r)?;
                only_fields(
                    &body,
                    &["project_id", "source", "address", "tags", "is_ipv6"],
                )?;
                project(&body, "project_id")?;
                let network = body["source"]["private_network_id"]
                    .as_str()
                    .ok_or_else(|| ApiError::argument("source", "required", "a private network"))?
                    .to_owned();
                let subnet = self.get("private_networks", &network, false)?["subnets"][0]["subnet"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let address = match body["address"].as_str() {
                    Some(a) => a.to_owned(),
                    None => self.free_address(&network, &subnet)?,
                };
                if self.address_taken(&network, &address) {
                    return Err(ApiError::new(
                        409,
                        "conflict",
                        "address is already reserved",
                    ));
                }
                let bits = subnet.split_once('/').map_or("24", |(_, b)| b);
                let id = self.id();
                let ip = json!({
                    "id": id, "address": format!("{address}/{bits}"), "tags": tags(&body)?,
                    "project_id": PROJECT, "private_network_id": network, "resource_id": null,
                });
                Ok(Reply::json(200, self.insert("ipam_ips", ip)))
            }
            ("DELETE", [id]) => {
                self.get("ipam_ips", id, false)?;
                self.objects.remove(*id);
                Ok(Reply::empty())
            }
            _ => Err(ApiError::new(404, "not_found", "no such route")),
        }
    }

    fn address_taken(&self, network: &str, address: &str) -> bool {
        self.objects.values().any(|(c, v)| {
            *c == "ipam_ips"
                && v["private_network_id"] == network
                && v["address"].as_str().and_then(|a| a.split('/').next()) == Some(address)
        })
    }

    /// The lowest free address of the subnet from `.2`.
    pub(super) fn free_address(&self, network: &str, subnet: &str) -> Result<String> {
        let base = subnet.split('/').next().unwrap_or_default();
        let prefix = base.rsplit_once('.').map_or(base, |(p, _)| p);
        (2..255)
            .map(|n| format!("{prefix}.{n}"))
            .find(|a| !self.address_taken(network, a))
            .ok_or_else(|| ApiError::new(412, "precondition_failed", "no free address"))
    }
}

fn place(value: &str, known: &[&str]) -> Result<()> {
    if known.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::argument(
            "zone",
            "constraint",
            "unknown zone or region",
        ))
    }
}

pub(super) fn project(body: &Value, field: &str) -> Result<()> {
    if required(body, field)? == PROJECT {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "permissions_denied",
            "insufficient permissions",
        ))
    }
}

pub(super) fn body_of(request: &Request) -> Result<Value> {
    json_body(request)
}

pub(super) fn wrap(status: u16, root: &str, value: Value) -> Reply {
    found(status, root, value)
}

pub(super) fn no_content() -> Reply {
    Reply::empty()
}

/// The marketplace's Ubuntu 24.04 images (cloud-apis.md §4, from the fr-par-1 cassette): in
/// every zone, an `instance_sbs` image for the PRO2 and POP2 types and an `instance_local` one
/// for DEV1; ids are fixed per zone and type.
pub(super) fn local_images() -> Vec<Value> {
    let mut images = Vec::new();
    for (z, zone) in ZONES.iter().enumerate() {
        for (t, (kind, types)) in [
            ("instance_sbs", &["PRO2-XS", "PRO2-S", "POP2-4C-16G"][..]),
            ("instance_local", &["DEV1-S"][..]),
        ]
        .into_iter()
        .enumerate()
        {
            images.push(json!({
                "id": format!("1a6e0000-0000-4000-8000-{:06x}{:06x}", z, t),
                "label": "ubuntu_noble", "arch": "x86_64", "zone": zone, "type": kind,
                "compatible_commercial_types": types,
            }));
        }
    }
    images
}
