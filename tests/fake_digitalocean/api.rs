//! The fake's HTTP surface: faults, authentication, rate-limit headers, routing, lists with
//! `links.pages` and `meta.total`, reads, creates, updates, deletes and actions.

use serde_json::{Map, Value, json};

use super::Recorded;
use super::model::{IMAGES, Kind, RATE_LIMIT, REGIONS, SIZES, State};
use super::rules::{self, ApiError, Result};
use crate::fake_hetzner::check::ssh_fingerprint;
use crate::fake_hetzner::query::decode;

/// One request as the fake sees it.
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) authorization: Option<&'a str>,
    pub(super) body: &'a [u8],
}

pub(super) enum Body {
    Json(Value),
    /// A proxy's page (content type text/html): the dropped-response 504.
    Html(&'static str),
    Empty,
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Body,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(value),
            headers: Vec::new(),
        }
    }

    fn wrapped(status: u16, root: &str, value: Value) -> Reply {
        let mut map = Map::new();
        map.insert(root.to_owned(), value);
        Reply::json(status, Value::Object(map))
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: Body::Empty,
            headers: Vec::new(),
        }
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Reply {
        Reply::json(error.status, error.body())
    }
}

const GATEWAY_PAGE: &str = "<html><body><h1>504 Gateway Time-out</h1></body></html>";

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn every(n: u32, count: u32) -> bool {
    n > 0 && count % n == 0
}

/// The decoded query string.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: &str) -> Query {
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl State {
    pub(super) fn serve(&mut self, request: &Request<'_>) -> Reply {
        let body: Option<Value> = if request.body.is_empty() {
            None
        } else {
            Some(serde_json::from_slice(request.body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(request.body).into_owned())
            }))
        };
        let mut reply = self.answer(request, body.as_ref());
        let remaining = RATE_LIMIT.saturating_sub(self.requests.len() as u64 + 1);
        reply
            .headers
            .push(("ratelimit-limit", RATE_LIMIT.to_string()));
        reply
            .headers
            .push(("ratelimit-remaining", remaining.to_string()));
        reply
            .headers
            .push(("ratelimit-reset", (unix_now() + 60).to_string()));
        self.requests.push(Recorded {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query.to_owned(),
            body,
            status: reply.status,
        });
        reply
    }

    fn answer(&mut self, request: &Request<'_>, body: Option<&Value>) -> Reply {
        let authorized = request
            .authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| !t.trim().is_empty());
        if !authorized {
            return ApiError::new(401, "unauthorized", "Unable to authenticate you").into();
        }
        self.fault_count += 1;
        if every(self.faults.rate_limit_every, self.fault_count) {
            let mut reply: Reply =
                ApiError::new(429, "too_many_requests", "API Rate limit exceeded.").into();
            reply.headers.push(("retry-after", "1".to_owned()));
            return reply;
        }
        if every(self.faults.server_error_every, self.fault_count) {
            let status = if self.faults.seed != 0 && self.random() % 3 == 0 {
                500
            } else {
                503
            };
            return ApiError::new(status, "service_unavailable", "Server error").into();
        }
        let Some(path) = request.path.strip_prefix("/v2/") else {
            return ApiError::not_found().into();
        };
        let query = Query::parse(request.query);
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let result = match (request.method, segments.as_slice()) {
            ("GET", ["actions", id]) => self.get_action(id),
            ("GET", ["sizes"]) => Ok(self.list_sizes(&query)),
            ("GET", ["tags"]) => Ok(self.list_tags(&query)),
            ("POST", ["tags"]) => self.create_tag(body),
            ("GET", [collection @ .., id]) if kind_of(collection).is_some() => {
                self.get_one(kind_of(collection).expect("matched"), id)
            }
            ("GET", collection) => match kind_of(collection) {
                Some(kind) => self.list(kind, &query),
                None => Err(ApiError::not_found()),
            },
            ("POST", collection) => match kind_of(collection) {
                Some(kind) => return self.create(kind, body.unwrap_or(&Value::Null)),
                None => Err(ApiError::not_found()),
            },
            ("PUT", ["firewalls", id]) => self.update_firewall(id, body.unwrap_or(&Value::Null)),
            ("DELETE", ["droplets"]) => self.delete_tagged(&query),
            ("DELETE", [collection @ .., id]) => match kind_of(collection) {
                Some(kind) => self.delete(kind, id),
                None => Err(ApiError::not_found()),
            },
            _ => Err(ApiError::new(
                405,
                "method_not_allowed",
                "The fake does not serve this endpoint",
            )),
        };
        result.unwrap_or_else(Reply::from)
    }

    fn get_action(&self, id: &str) -> Result<Reply> {
        let action = id
            .parse()
            .ok()
            .and_then(|id| self.action_json(id))
            .ok_or_else(ApiError::not_found)?;
        Ok(Reply::wrapped(200, "action", action))
    }

    fn get_one(&self, kind: Kind, id: &str) -> Result<Reply> {
        let resource = self.resource(kind, id).ok_or_else(ApiError::not_found)?;
        Ok(Reply::wrapped(200, kind.singular(), self.show(resource)))
    }

    /// One page of `items` under `root`, with `links.pages` (absolute URLs, absent when one
    /// page holds everything) and `meta.total`.
    fn page(&self, root: &str, path: &str, items: Vec<Value>, query: &Query) -> Result<Reply> {
        let positive = |key: &str, default: usize| -> Result<usize> {
            match query.first(key) {
                None => Ok(default),
                Some(text) => text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ApiError::invalid(format!("{key} must be a positive integer"))),
            }
        };
        let mut per_page = positive("per_page", 20)?.min(200);
        if self.faults.page_size > 0 {
            per_page = per_page.min(self.faults.page_size);
        }
        let page = positive("page", 1)?;
        let total = items.len();
        let last = total.div_ceil(per_page).max(1);
        let shown: Vec<Value> = items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        let mut others: Vec<(String, String)> = query
            .0
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .cloned()
            .collect();
        others.push(("per_page".to_owned(), per_page.to_string()));
        let url = |n: usize| {
            let mut pairs = others.clone();
            pairs.push(("page".to_owned(), n.to_string()));
            let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}/v2/{path}?{}", self.origin, text.join("&"))
        };
        let mut pages = Map::new();
        if page > 1 {
            pages.insert("first".to_owned(), json!(url(1)));
            pages.insert("prev".to_owned(), json!(url(page - 1)));
        }
        if page < last {
            pages.insert("next".to_owned(), json!(url(page + 1)));
            pages.insert("last".to_owned(), json!(url(last)));
        }
        let mut answer = Map::new();
        answer.insert(root.to_owned(), Value::Array(shown));
        if !pages.is_empty() {
            answer.insert("links".to_owned(), json!({ "pages": pages }));
        }
        answer.insert("meta".to_owned(), json!({ "total": total }));
        Ok(Reply::json(200, Value::Object(answer)))
    }

    fn list(&self, kind: Kind, query: &Query) -> Result<Reply> {
        let tag = query.first("tag_name");
        let name = query.first("name");
        if kind == Kind::Droplet && tag.is_some() && name.is_some() {
            return Err(ApiError::invalid(
                "tag_name and name cannot be combined when listing droplets",
            ));
        }
        let items: Vec<Value> = self
            .of(kind)
            .map(|r| self.show(r))
            .filter(|v| {
                kind != Kind::Droplet
                    || tag
                        .is_none_or(|t| v["tags"].as_array().is_some_and(|a| a.contains(&json!(t))))
            })
            .filter(|v| {
                kind != Kind::Droplet
                    || name.is_none_or(|n| {
                        v["name"]
                            .as_str()
                            .is_some_and(|have| have.eq_ignore_ascii_case(n))
                    })
            })
            .collect();
        let path = match kind {
            Kind::SshKey => "account/keys",
            other => other.plural(),
        };
        self.page(kind.plural(), path, items, query)
    }

    fn list_tags(&self, query: &Query) -> Reply {
        let items = self.tags.iter().map(|t| json!({ "name": t })).collect();
        self.page("tags", "tags", items, query)
            .unwrap_or_else(Reply::from)
    }

    /// Every size with the regions it is sold in (all of the fake's).
    fn list_sizes(&self, query: &Query) -> Reply {
        let items = SIZES
            .iter()
            .map(|s| json!({ "slug": s, "available": true, "regions": REGIONS }))
            .collect();
        self.page("sizes", "sizes", items, query)
            .unwrap_or_else(Reply::from)
    }

    fn create_tag(&mut self, body: Option<&Value>) -> Result<Reply> {
        let name = body
            .and_then(|b| b["name"].as_str())
            .ok_or_else(|| ApiError::invalid("name is required"))?;
        rules::check_tag(name)?;
        self.tags.insert(name.to_owned());
        Ok(Reply::wrapped(201, "tag", json!({ "name": name })))
    }

    /// A creating POST: checked, committed, and answered; or, as the faults say, committed and
    /// answered with a gateway's 504.
    fn create(&mut self, kind: Kind, body: &Value) -> Reply {
        let created = match kind {
            Kind::SshKey => self.create_ssh_key(body),
            Kind::Vpc => self.create_vpc(body),
            Kind::Firewall => self.create_firewall(body),
            Kind::LoadBalancer => self.create_load_balancer(body),
            Kind::Droplet => self.create_droplet(body),
        };
        let (status, value) = match created {
            Ok(answer) => answer,
            Err(error) => return error.into(),
        };
        self.create_count += 1;
        if every(self.faults.drop_response_every, self.create_count) {
            return Reply {
                status: 504,
                body: super::api::Body::Html(GATEWAY_PAGE),
                headers: Vec::new(),
            };
        }
        Reply::json(status, value)
    }

    fn create_ssh_key(&mut self, body: &Value) -> Result<(u16, Value)> {
        let name = required(body, "name")?;
        let public_key = required(body, "public_key")?;
        let fingerprint = ssh_fingerprint(public_key).ok_or_else(|| {
            ApiError::invalid(
                "Key invalid type, we support 'ssh-rsa', 'ssh-ed25519' and ecdsa keys",
            )
        })?;
        if self
            .of(Kind::SshKey)
            .any(|k| k.value["fingerprint"] == json!(fingerprint))
        {
            return Err(ApiError::invalid(
                "SSH Key is already in use on your account",
            ));
        }
        let id = self.next_id();
        let value =
            json!({"id": id, "name": name, "public_key": public_key, "fingerprint": fingerprint});
        self.insert_ready(Kind::SshKey, id.to_string(), value.clone());
        Ok((201, json!({ "ssh_key": value })))
    }

    fn create_vpc(&mut self, body: &Value) -> Result<(u16, Value)> {
        let name = required(body, "name")?;
        rules::check_vpc_name(name)?;
        let region = region(body)?;
        if self.of(Kind::Vpc).any(|v| v.value["name"] == json!(name)) {
            return Err(ApiError::invalid(format!(
                "a VPC with the name '{name}' already exists"
            )));
        }
        let ranges: Vec<(String, String)> = self
            .of(Kind::Vpc)
            .map(|v| {
                (
                    v.value["name"].as_str().unwrap_or_default().to_owned(),
                    v.value["ip_range"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let ip_range = required(body, "ip_range")?;
        rules::check_vpc_range(ip_range, &ranges)?;
        let id = self.add_foreign_vpc(name, region, ip_range);
        let resource = self.resource_mut(Kind::Vpc, &id).expect("just added");
        resource.value["description"] = body["description"].clone();
        let value = resource.value.clone();
        Ok((201, json!({ "vpc": value })))
    }

    fn create_firewall(&mut self, body: &Value) -> Result<(u16, Value)> {
        let name = required(body, "name")?;
        rules::check_vpc_name(name)?;
        rules::check_firewall_rules(body)?;
        let tags = self.existing_tags(body, "tags", 5)?;
        let id = self.next_uuid();
        let value = json!({
            "id": id, "name": name, "created_at": self.timestamp(), "pending_changes": [],
            "inbound_rules": body["inbound_rules"].as_array().cloned().unwrap_or_default(),
            "outbound_rules": body["outbound_rules"].as_array().cloned().unwrap_or_default(),
            "droplet_ids": body["droplet_ids"].as_array().cloned().unwrap_or_default(),
            "tags": tags,
        });
        self.insert(Kind::Firewall, id.clone(), value, "firewall_provision");
        let shown = self.show(self.resource(Kind::Firewall, &id).expect("inserted"));
        Ok((202, json!({ "firewall": shown })))
    }

    fn update_firewall(&mut self, id: &str, body: &Value) -> Result<Reply> {
        if self.resource(Kind::Firewall, id).is_none() {
            return Err(ApiError::not_found());
        }
        let name = required(body, "name")?;
        rules::check_firewall_rules(body)?;
        let tags = self.existing_tags(body, "tags", 5)?;
        let ready_at = std::time::Instant::now() + self.ready_in();
        let resource = self.resource_mut(Kind::Firewall, id).expect("checked");
        resource.value["name"] = json!(name);
        for key in ["inbound_rules", "outbound_rules", "droplet_ids"] {
            resource.value[key] = json!(body[key].as_array().cloned().unwrap_or_default());
        }
        resource.value["tags"] = json!(tags);
        resource.ready_at = ready_at;
        let resource = self.resource(Kind::Firewall, id).expect("checked");
        Ok(Reply::wrapped(200, "firewall", self.show(resource)))
    }

    fn create_load_balancer(&mut self, body: &Value) -> Result<(u16, Value)> {
        let name = required(body, "name")?;
        let region = region(body)?;
        let vpc = self.vpc_for(body, region)?;
        if body["tag"].is_string()
            && body["droplet_ids"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        {
            return Err(ApiError::invalid(
                "specify either a tag or droplet_ids, not both",
            ));
        }
        if let Some(tag) = body["tag"].as_str() {
            rules::check_tag(tag)?;
            if !self.tags.contains(tag) {
                return Err(ApiError::invalid(format!("tag '{tag}' does not exist")));
            }
        }
        let rules = body["forwarding_rules"]
            .as_array()
            .filter(|r| !r.is_empty());
        let rules = rules.ok_or_else(|| ApiError::invalid("forwarding_rules are required"))?;
        let id = self.next_uuid();
        let ip = format!(
            "203.0.113.{}",
            1 + self.of(Kind::LoadBalancer).count() % 250
        );
        let health = if body["health_check"].is_object() {
            body["health_check"].clone()
        } else {
            json!({"protocol": "http", "port": 80, "path": "/"})
        };
        let value = json!({
            "id": id, "name": name, "ip": ip, "region": {"slug": region}, "vpc_uuid": vpc,
            "size_unit": body["size_unit"].as_u64().unwrap_or(1),
            "forwarding_rules": rules, "health_check": health,
            "tag": body["tag"].as_str().unwrap_or(""),
            "droplet_ids": body["droplet_ids"].as_array().cloned().unwrap_or_default(),
            "created_at": self.timestamp(),
        });
        self.insert(
            Kind::LoadBalancer,
            id.clone(),
            value,
            "load_balancer_create",
        );
        let shown = self.show(self.resource(Kind::LoadBalancer, &id).expect("inserted"));
        Ok((202, json!({ "load_balancer": shown })))
    }

    fn create_droplet(&mut self, body: &Value) -> Result<(u16, Value)> {
        if body.get("names").is_some() {
            return Err(ApiError::invalid(
                "the fake creates one droplet at a time (name)",
            ));
        }
        let name = required(body, "name")?;
        rules::check_droplet_name(name)?;
        let region = region(body)?;
        let size = required(body, "size")?;
        if !SIZES.contains(&size) {
            return Err(ApiError::invalid(format!("size '{size}' is not valid")));
        }
        let image = required(body, "image")?;
        if !IMAGES.contains(&image) {
            return Err(ApiError::invalid(format!("image '{image}' is not valid")));
        }
        if body["user_data"]
            .as_str()
            .is_some_and(|u| u.len() > 64 * 1024)
        {
            return Err(ApiError::invalid("user_data is limited to 64 KiB"));
        }
        self.check_ssh_keys(body)?;
        let vpc = self.vpc_for(body, region)?;
        let tags: Vec<String> = match body["tags"].as_array() {
            None => Vec::new(),
            Some(list) => list
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::invalid("tags must be strings"))
                })
                .collect::<Result<_>>()?,
        };
        for tag in &tags {
            rules::check_tag(tag)?;
        }
        // Droplet-create tags are created when missing.
        self.tags.extend(tags.iter().cloned());
        let id = self.next_id();
        let private = self
            .private_address(&vpc)
            .ok_or_else(|| ApiError::invalid("the VPC has no free address"))?;
        let public = format!("198.51.100.{}", 1 + self.of(Kind::Droplet).count() % 250);
        let value = json!({
            "id": id, "name": name, "status": "new", "tags": tags,
            "size_slug": size, "region": {"slug": region}, "image": {"slug": image},
            "vpc_uuid": vpc, "created_at": self.timestamp(),
            "networks": {"v4": [
                {"ip_address": public, "netmask": "255.255.255.0", "gateway": "198.51.100.254", "type": "public"},
                {"ip_address": private, "netmask": "255.255.0.0", "gateway": "", "type": "private"},
            ], "v6": []},
        });
        let action = self.insert(Kind::Droplet, id.to_string(), value, "create");
        let shown = self.show(
            self.resource(Kind::Droplet, &id.to_string())
                .expect("inserted"),
        );
        Ok((
            202,
            json!({
                "droplet": shown,
                "links": {"actions": [{"id": action, "rel": "create",
                    "href": format!("{}/v2/actions/{action}", self.origin)}]},
            }),
        ))
    }

    fn check_ssh_keys(&self, body: &Value) -> Result<()> {
        for key in body["ssh_keys"].as_array().into_iter().flatten() {
            let known = self.of(Kind::SshKey).any(|k| {
                k.value["id"] == *key
                    || key.as_str().is_some_and(|s| {
                        k.value["fingerprint"] == json!(s)
                            || k.value["id"].as_u64().is_some_and(|id| id.to_string() == s)
                    })
            });
            if !known {
                return Err(ApiError::invalid(format!("ssh key {key} not found")));
            }
        }
        Ok(())
    }

    /// The VPC named by `vpc_uuid` (in `region`), or the region's default.
    fn vpc_for(&self, body: &Value, region: &str) -> Result<String> {
        match body["vpc_uuid"].as_str() {
            Some(id) => {
                let vpc = self
                    .resource(Kind::Vpc, id)
                    .ok_or_else(|| ApiError::invalid(format!("vpc_uuid '{id}' not found")))?;
                if vpc.value["region"] != json!(region) {
                    return Err(ApiError::invalid("the VPC is in another region"));
                }
                Ok(id.to_owned())
            }
            None => self
                .of(Kind::Vpc)
                .find(|v| v.value["region"] == json!(region) && v.value["default"] == json!(true))
                .map(|v| v.id.clone())
                .ok_or_else(|| ApiError::invalid("no default VPC")),
        }
    }

    /// A list of tags that must exist already (firewalls), at most `most`.
    fn existing_tags(&self, body: &Value, key: &str, most: usize) -> Result<Vec<String>> {
        let tags: Vec<String> = body[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        if tags.len() > most {
            return Err(ApiError::invalid(format!("at most {most} tags")));
        }
        for tag in &tags {
            rules::check_tag(tag)?;
            if !self.tags.contains(tag) {
                return Err(ApiError::invalid(format!("tag '{tag}' does not exist")));
            }
        }
        Ok(tags)
    }

    fn insert_ready(&mut self, kind: Kind, id: String, value: Value) {
        self.resources.push(super::model::Resource {
            kind,
            id,
            value,
            ready_at: std::time::Instant::now(),
        });
    }

    fn delete(&mut self, kind: Kind, id: &str) -> Result<Reply> {
        if self.resource(kind, id).is_none() {
            return Err(ApiError::not_found());
        }
        if kind == Kind::Vpc {
            let used = self.resources.iter().any(|r| {
                matches!(r.kind, Kind::Droplet | Kind::LoadBalancer)
                    && r.value["vpc_uuid"] == json!(id)
            });
            if used {
                return Err(ApiError::new(
                    409,
                    "conflict",
                    "Can not delete VPC with members",
                ));
            }
            if self
                .resource(kind, id)
                .is_some_and(|v| v.value["default"] == json!(true))
            {
                return Err(ApiError::new(
                    403,
                    "forbidden",
                    "Can not delete default VPC",
                ));
            }
        }
        self.resources.retain(|r| !(r.kind == kind && r.id == id));
        Ok(Reply::no_content())
    }

    fn delete_tagged(&mut self, query: &Query) -> Result<Reply> {
        let tag = query
            .first("tag_name")
            .ok_or_else(|| ApiError::invalid("tag_name is required"))?
            .to_owned();
        self.resources.retain(|r| {
            !(r.kind == Kind::Droplet
                && r.value["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!(tag))))
        });
        Ok(Reply::no_content())
    }
}

fn kind_of(collection: &[&str]) -> Option<Kind> {
    match collection {
        ["droplets"] => Some(Kind::Droplet),
        ["account", "keys"] => Some(Kind::SshKey),
        ["vpcs"] => Some(Kind::Vpc),
        ["firewalls"] => Some(Kind::Firewall),
        ["load_balancers"] => Some(Kind::LoadBalancer),
        _ => None,
    }
}

fn required<'a>(body: &'a Value, key: &str) -> Result<&'a str> {
    body[key]
        .as_str()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("{key} is required")))
}

fn region(body: &Value) -> Result<&str> {
    let region = required(body, "region")?;
    if REGIONS.contains(&region) {
        Ok(region)
    } else {
        Err(ApiError::invalid(format!("region '{region}' is not valid")))
    }
}
