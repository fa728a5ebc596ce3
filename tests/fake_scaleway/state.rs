//! The fake's memory: every resource as the JSON Scaleway answers with, the transitions in
//! progress, the user-data, the faults and the request log; and the checks shared by routes
//! (errors in Scaleway's shapes, unknown fields, paging, filters).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::routes::{Body, Reply, Request};
use super::{Faults, PROJECT, Recorded, Summary};

/// An error answer in Scaleway's shape.
pub(super) struct ApiError {
    pub(super) status: u16,
    pub(super) body: Value,
}

pub(super) type Result<T> = std::result::Result<T, ApiError>;

impl ApiError {
    pub(super) fn new(status: u16, kind: &str, message: &str) -> ApiError {
        ApiError {
            status,
            body: json!({ "type": kind, "message": message }),
        }
    }

    /// 400 `invalid_arguments`, one detail.
    pub(super) fn argument(name: &str, reason: &str, help: &str) -> ApiError {
        ApiError {
            status: 400,
            body: json!({
                "type": "invalid_arguments",
                "message": "invalid argument(s)",
                "details": [{ "argument_name": name, "reason": reason, "help_message": help }],
            }),
        }
    }

    pub(super) fn not_found(resource: &str, id: &str) -> ApiError {
        ApiError {
            status: 404,
            body: json!({
                "type": "not_found", "message": "resource is not found",
                "resource": resource, "resource_id": id,
            }),
        }
    }

    pub(super) fn transient(resource: &str, id: &str, state: &str) -> ApiError {
        ApiError {
            status: 409,
            body: json!({
                "type": "transient_state",
                "message": format!("resource {resource} with ID {id} is in a transient state: {state}"),
                "resource": resource, "resource_id": id, "current_state": state,
            }),
        }
    }
}

/// A transition a GET advances: after `left` more GETs, `field` becomes `to`.
pub(super) struct Transition {
    pub(super) left: u32,
    pub(super) field: &'static str,
    pub(super) to: &'static str,
}

pub(super) struct State {
    pub(super) faults: Faults,
    pub(super) requests: Vec<Recorded>,
    /// Every resource by id: (collection, JSON).
    pub(super) objects: BTreeMap<String, (&'static str, Value)>,
    pub(super) transitions: BTreeMap<String, Transition>,
    /// user-data by server id, then key.
    pub(super) user_data: BTreeMap<String, BTreeMap<String, String>>,
    next_id: u64,
    creates: u32,
    counted: u32,
    next_public: u32,
    next_lb: u32,
}

impl State {
    pub(super) fn new(faults: Faults) -> State {
        State {
            faults,
            requests: Vec::new(),
            objects: BTreeMap::new(),
            transitions: BTreeMap::new(),
            user_data: BTreeMap::new(),
            next_id: 1,
            creates: 0,
            counted: 0,
            next_public: 1,
            next_lb: 1,
        }
    }

    /// A fresh UUID-shaped id.
    pub(super) fn id(&mut self) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("5c0e0000-0000-4000-8000-{n:012x}")
    }

    pub(super) fn public_address(&mut self) -> String {
        self.next_public += 1;
        format!("198.51.100.{}", self.next_public)
    }

    pub(super) fn lb_address(&mut self) -> String {
        self.next_lb += 1;
        format!("203.0.113.{}", self.next_lb)
    }

    /// Answers one request: faults first, then the route; records it.
    pub(super) fn serve(&mut self, request: &Request) -> Reply {
        let reply = self.answer(request);
        self.requests.push(Recorded {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query.to_owned(),
            body: String::from_utf8_lossy(request.body).into_owned(),
            status: reply.status,
        });
        reply
    }

    fn answer(&mut self, request: &Request) -> Reply {
        if request.token.is_none_or(str::is_empty) {
            return ApiError::new(401, "denied_authentication", "authentication is denied").into();
        }
        self.counted += 1;
        let n = self.counted;
        let every = |k: u32| k > 0 && n % k == 0;
        if every(self.faults.rate_limit_every) {
            let mut reply: Reply =
                ApiError::new(429, "too_many_requests", "too many requests").into();
            reply.headers.push(("retry-after", "1".to_owned()));
            return reply;
        }
        if every(self.faults.server_error_every) {
            return ApiError::new(503, "service_unavailable", "service unavailable").into();
        }
        let creating = request.method == "POST" && super::routes::is_create(request.path);
        let reply = self.route(request);
        if creating && (200..300).contains(&reply.status) {
            self.creates += 1;
            let k = self.faults.drop_response_every;
            if k > 0 && self.creates % k == 0 {
                return Reply {
                    status: 504,
                    body: Body::Html("<html><body><h1>504 Gateway Time-out</h1></body></html>"),
                    headers: Vec::new(),
                };
            }
        }
        reply
    }

    pub(super) fn insert(&mut self, collection: &'static str, value: Value) -> Value {
        let id = value["id"].as_str().expect("an id").to_owned();
        self.objects.insert(id, (collection, value.clone()));
        value
    }

    /// The object `id` of `collection`, advanced by one GET when `look` is set.
    pub(super) fn get(&mut self, collection: &'static str, id: &str, look: bool) -> Result<Value> {
        if look {
            self.advance(id);
        }
        match self.objects.get(id) {
            Some((c, value)) if *c == collection => Ok(value.clone()),
            _ => Err(ApiError::not_found(resource_name(collection), id)),
        }
    }

    pub(super) fn get_mut(&mut self, collection: &'static str, id: &str) -> Result<&mut Value> {
        match self.objects.get_mut(id) {
            Some((c, value)) if *c == collection => Ok(value),
            _ => Err(ApiError::not_found(resource_name(collection), id)),
        }
    }

    fn advance(&mut self, id: &str) {
        let Some(t) = self.transitions.get_mut(id) else {
            return;
        };
        if t.left > 1 {
            t.left -= 1;
            return;
        }
        let t = self.transitions.remove(id).expect("present");
        if let Some((_, value)) = self.objects.get_mut(id) {
            value[t.field] = json!(t.to);
        }
    }

    /// Every object of `collection` passing the query's filters, advanced once each.
    pub(super) fn list(&mut self, collection: &'static str, query: &Query) -> Vec<Value> {
        let ids: Vec<String> = self
            .objects
            .iter()
            .filter(|(_, (c, _))| *c == collection)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            self.advance(id);
        }
        ids.iter()
            .map(|id| self.objects[id].1.clone())
            .filter(|v| query.matches(v))
            .collect()
    }

    /// A page of `items`: Instance style (`X-Total-Count`, `per_page`) or newer
    /// (`total_count` in the body, `page_size`).
    pub(super) fn page(
        &self,
        root: &str,
        items: Vec<Value>,
        query: &Query,
        instance: bool,
    ) -> Reply {
        let size_key = if instance { "per_page" } else { "page_size" };
        let asked = query
            .one(size_key)
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(if instance { 50 } else { 20 });
        if !(1..=100).contains(&asked) {
            return ApiError::argument(size_key, "constraint", "must be between 1 and 100").into();
        }
        let size = if self.faults.page_size > 0 {
            asked.min(self.faults.page_size)
        } else {
            asked
        };
        let page = query
            .one("page")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let total = items.len();
        let slice: Vec<Value> = items
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .collect();
        let mut body = Map::new();
        body.insert(root.to_owned(), Value::Array(slice));
        if !instance {
            body.insert("total_count".to_owned(), json!(total));
        }
        let mut reply = Reply::json(200, Value::Object(body));
        if instance {
            reply.headers.push(("x-total-count", total.to_string()));
        }
        reply
    }

    pub(super) fn summary(&self) -> Vec<Summary> {
        self.objects
            .values()
            .map(|(c, v)| Summary {
                collection: (*c).to_owned(),
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                tags: strings(&v["tags"]),
            })
            .collect()
    }

    pub(super) fn security_rules(&self, name: &str) -> Vec<Value> {
        self.objects
            .values()
            .find(|(c, v)| *c == "security_groups" && v["name"] == name)
            .and_then(|(_, v)| v["rules"].as_array().cloned())
            .unwrap_or_default()
    }

    /// A server as a create stopped before its user-data leaves it: `stopped`, tagged, with
    /// its flexible IP and root volume, no user-data.
    pub(super) fn add_half_created(&mut self, name: &str, tags: &[&str]) -> String {
        let machine = format!("railyard.dev/machine={name}");
        let site: Vec<&str> = tags
            .iter()
            .copied()
            .filter(|t| t.starts_with("railyard.dev/site="))
            .collect();
        let ip_tags: Vec<&str> = site.iter().copied().chain([machine.as_str()]).collect();
        let (ip, volume, id) = (self.id(), self.id(), self.id());
        let address = self.public_address();
        self.insert("ips", json!({
            "id": ip, "address": address, "tags": ip_tags, "project": PROJECT, "zone": "nl-ams-1",
            "server": { "id": id, "name": name }, "type": "routed_ipv4",
        }));
        let root = json!({
            "id": volume, "name": format!("{name}-root"), "tags": [], "project": PROJECT,
            "zone": "nl-ams-1", "size": 20_000_000_000u64, "volume_type": "sbs_volume",
            "server": { "id": id, "name": name },
        });
        self.insert("volumes", root.clone());
        self.insert("servers", json!({
            "id": id, "name": name, "commercial_type": "PRO2-XS", "project": PROJECT,
            "tags": tags, "state": "stopped", "zone": "nl-ams-1", "security_group": null,
            "placement_group": null, "private_nics": [], "volumes": { "0": root },
            "public_ips": [{ "id": ip, "address": address, "family": "inet", "dynamic": false }],
        }));
        id
    }

    /// The ids of the servers of this name.
    pub(super) fn server_ids(&self, name: &str) -> Vec<String> {
        self.objects
            .iter()
            .filter(|(_, (c, v))| *c == "servers" && v["name"] == name)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The state of the tagged server of this name (foreign ones may share it).
    pub(super) fn server_state(&self, name: &str) -> Option<String> {
        self.objects
            .values()
            .find(|(c, v)| {
                *c == "servers"
                    && v["name"] == name
                    && !strings(&v["tags"]).is_empty()
                    && strings(&v["tags"])
                        .iter()
                        .any(|t| t.starts_with("railyard.dev/site="))
            })
            .and_then(|(_, v)| v["state"].as_str().map(str::to_owned))
    }

    /// The `cloud-init` user-data of a server of this name that has one.
    pub(super) fn user_data_of(&self, name: &str) -> Option<String> {
        self.objects
            .iter()
            .filter(|(_, (c, v))| *c == "servers" && v["name"] == name)
            .find_map(|(id, _)| self.user_data.get(id)?.get("cloud-init").cloned())
    }

    pub(super) fn add_foreign(&mut self, collection: &str, name: &str, tags: &[&str]) -> String {
        let id = self.id();
        let collection: &'static str = match collection {
            "servers" => "servers",
            "volumes" => "volumes",
            "security_groups" => "security_groups",
            "private_networks" => "private_networks",
            "ssh_keys" => "ssh_keys",
            other => panic!("the fake adds no foreign `{other}`"),
        };
        let mut value = json!({
            "id": id, "name": name, "tags": tags, "project": PROJECT, "project_id": PROJECT,
        });
        if collection == "servers" {
            value["state"] = json!("running");
            value["volumes"] = json!({});
            value["public_ips"] = json!([]);
            value["private_nics"] = json!([]);
            value["commercial_type"] = json!("PRO2-XS");
        }
        if collection == "ssh_keys" {
            // The example sites' key: a user who uploaded it in the console already.
            value["public_key"] = json!(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOifjjmm7VBLaCFoYt1z7qzrW2pvu72uf0a2aOL/8uy me@laptop"
            );
        }
        self.insert(collection, value);
        id
    }
}

/// The `resource` an error names for a collection.
pub(super) fn resource_name(collection: &str) -> &'static str {
    match collection {
        "servers" => "instance_server",
        "security_groups" => "instance_security_group",
        "placement_groups" => "instance_placement_group",
        "ips" => "instance_ip",
        "volumes" => "instance_volume",
        "private_networks" => "private_network",
        "lbs" => "lb",
        "ssh_keys" => "ssh_key",
        "ipam_ips" => "ip",
        _ => "resource",
    }
}

pub(super) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A request's query: `tags` (comma-joined on the Instance API, repeated on the others;
/// every tag must be present), `name` (a substring), `project`/`project_id`, and any other
/// exact match on a top-level string field the route names.
pub(super) struct Query {
    pairs: Vec<(String, String)>,
    /// Filters the route accepts as exact matches on fields.
    pub(super) exact: &'static [&'static str],
}

impl Query {
    pub(super) fn parse(raw: &str, exact: &'static [&'static str]) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query { pairs, exact }
    }

    pub(super) fn one(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Only the exact field filters the route accepts.
    pub(super) fn matches_fields(&self, value: &Value) -> bool {
        self.pairs
            .iter()
            .filter(|(k, _)| self.exact.contains(&k.as_str()))
            .all(|(k, v)| value[k.as_str()] == *v.as_str())
    }

    fn matches(&self, value: &Value) -> bool {
        let tags = strings(&value["tags"]);
        self.pairs.iter().all(|(k, v)| match k.as_str() {
            "tags" => v
                .split(',')
                .filter(|t| !t.is_empty())
                .all(|t| tags.iter().any(|x| x == t)),
            "name" => value["name"]
                .as_str()
                .is_some_and(|n| n.contains(v.as_str())),
            "project" | "project_id" => {
                value["project"] == *v.as_str() || value["project_id"] == *v.as_str()
            }
            key if self.exact.contains(&key) => value[key] == *v.as_str(),
            _ => true,
        })
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses fields a body may not carry, as the Instance API's strict decoding does.
pub(super) fn only_fields(body: &Value, allowed: &[&str]) -> Result<()> {
    let Some(map) = body.as_object() else {
        return Err(ApiError::new(
            400,
            "invalid_request_error",
            "body is not a JSON object",
        ));
    };
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::argument(key, "unknown", "unknown field"));
        }
    }
    Ok(())
}

/// A required string field.
pub(super) fn required<'a>(body: &'a Value, field: &str) -> Result<&'a str> {
    body[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::argument(field, "required", "required field"))
}

/// Tags are a list of strings.
pub(super) fn tags(body: &Value) -> Result<Value> {
    match &body["tags"] {
        Value::Null => Ok(json!([])),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(body["tags"].clone()),
        _ => Err(ApiError::argument("tags", "format", "a list of strings")),
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Reply {
        Reply::json(error.status, error.body)
    }
}
