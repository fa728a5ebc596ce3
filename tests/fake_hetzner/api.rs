//! The fake's HTTP surface: faults, authentication, rate-limit headers, routing, lists (filters,
//! sorting, pagination with `meta` and `Link`), reads, updates, deletes and the action
//! endpoints. Creating POSTs are in `create.rs`, `…/actions/<verb>` POSTs in `verbs.rs`,
//! query parsing in `query.rs`.

use serde_json::{Map, Value, json};

use super::Recorded;
use super::catalog::{CATALOGS, catalog_items};
use super::check::{self, ApiError, Result, Selector};
use super::model::{Applied, Data, Effect, Kind, RATE_LIMIT, unix_now};
use super::query::{Query, positive, sorted};
use super::state::State;

/// One request as the fake sees it.
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) authorization: Option<&'a str>,
    pub(super) body: &'a [u8],
    /// When the request arrived, before the injected latency.
    pub(super) arrived: std::time::Instant,
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
    pub(super) fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(value),
            headers: Vec::new(),
        }
    }

    /// `{"<root>": value}`.
    pub(super) fn wrapped(status: u16, root: &str, value: Value) -> Reply {
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

const SERVER_STATUSES: &[&str] = &[
    "running",
    "initializing",
    "starting",
    "stopping",
    "off",
    "deleting",
    "migrating",
    "rebuilding",
    "unknown",
];

fn authorized(header: Option<&str>) -> bool {
    header
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|token| !token.trim().is_empty())
}

/// A path ID: digits, or the resource is not found.
pub(super) fn parse_id(text: &str) -> Result<u64> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("resource '{text}'")))
}

/// What the fake records of a body: its JSON, or its text as a JSON string.
fn recorded_body(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    )
}

impl State {
    /// Answers one request: faults first (429, then 5xx), then authentication, then the route.
    /// Every answer carries the `RateLimit-*` headers; every request is recorded.
    pub(super) fn serve(&mut self, request: &Request) -> Reply {
        self.fault_count += 1;
        let n = self.fault_count;
        let every = |k: u32| k > 0 && n % u64::from(k) == 0;
        let allowed = self.bucket.take();
        let mut remaining = self.bucket.remaining();
        let mut reset = self.bucket.reset();
        let rate_limited = || {
            ApiError::new(
                429,
                "rate_limit_exceeded",
                "limit of 3600 requests per hour reached",
            )
        };
        let mut reply = if every(self.faults.rate_limit_every) {
            remaining = 0;
            reset = unix_now() + 1;
            Reply::from(rate_limited())
        } else if !allowed {
            Reply::from(rate_limited())
        } else if every(self.faults.server_error_every) {
            self.server_error()
        } else if !authorized(request.authorization) {
            Reply::from(ApiError::new(401, "unauthorized", "unable to authenticate"))
        } else {
            self.route(request).unwrap_or_else(Reply::from)
        };
        reply
            .headers
            .push(("ratelimit-limit", RATE_LIMIT.to_string()));
        reply
            .headers
            .push(("ratelimit-remaining", remaining.to_string()));
        reply.headers.push(("ratelimit-reset", reset.to_string()));
        self.requests.push(Recorded {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query.to_owned(),
            body: recorded_body(request.body),
            status: reply.status,
            arrived: request.arrived,
            answered: std::time::Instant::now(),
        });
        reply
    }

    /// 503 `unavailable`; with a non-zero seed, 504 `timeout` about half the time.
    fn server_error(&mut self) -> Reply {
        let error = if self.faults.seed != 0 && self.random() % 2 == 1 {
            ApiError::new(
                504,
                "timeout",
                "The request could not be answered in time, please retry.",
            )
        } else {
            ApiError::new(
                503,
                "unavailable",
                "A service or product is currently not available.",
            )
        };
        Reply::from(error)
    }

    fn route(&mut self, request: &Request) -> Result<Reply> {
        let no_route = || ApiError::not_found(format!("route {}", request.path));
        let rest = request.path.strip_prefix("/v1/").ok_or_else(no_route)?;
        let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let query = Query::parse(request.query);
        match (request.method, segments.as_slice()) {
            ("GET", ["actions"]) => self.list_actions(&query, request),
            ("GET", ["actions", id]) => {
                let id = parse_id(id)?;
                let action = self
                    .observe(id)
                    .ok_or_else(|| ApiError::not_found(format!("Action with ID {id}")))?;
                Ok(Reply::wrapped(200, "action", action))
            }
            ("GET", [collection]) if CATALOGS.contains(collection) => {
                let items = catalog_items(collection, &query, &self.faults.unavailable)?;
                self.page(collection, items, &query, request)
            }
            ("GET", [collection, id]) if CATALOGS.contains(collection) => {
                let root = collection.strip_suffix('s').unwrap_or(collection);
                catalog_items(collection, &Query::parse(""), &self.faults.unavailable)?
                    .into_iter()
                    .find(|item| id.parse::<u64>().is_ok_and(|id| item["id"] == id))
                    .map(|item| Reply::wrapped(200, root, item))
                    .ok_or_else(|| ApiError::not_found(format!("{root} with ID {id}")))
            }
            (_, ["datacenters", ..]) => {
                let mut error = ApiError::new(
                    410,
                    "deprecated_api_endpoint",
                    "API functionality was removed",
                );
                error.details =
                    json!({ "announcement": "datacenters were removed; use locations" });
                Err(error)
            }
            (method, [collection, tail @ ..]) => {
                let kind = Kind::from_plural(collection).ok_or_else(no_route)?;
                self.resource_route(method, kind, tail, &query, request)
            }
            _ => Err(no_route()),
        }
    }

    fn resource_route(
        &mut self,
        method: &str,
        kind: Kind,
        tail: &[&str],
        query: &Query,
        request: &Request,
    ) -> Result<Reply> {
        match (method, tail) {
            ("GET", []) => self.list(kind, query, request),
            ("POST", []) => {
                self.create_count += 1;
                let every = self.faults.drop_response_every;
                let dropped = every > 0 && self.create_count % u64::from(every) == 0;
                let reply = self.create(kind, request.body);
                if dropped {
                    return Ok(gateway_timeout());
                }
                reply
            }
            ("GET", [id]) => {
                let resource = self.find(kind, parse_id(id)?)?;
                Ok(Reply::wrapped(200, kind.singular(), self.render(resource)))
            }
            ("PUT", [id]) => self.update(kind, parse_id(id)?, request.body),
            ("DELETE", [id]) => self.delete(kind, parse_id(id)?),
            ("GET", [id, "actions"]) => self.resource_actions(kind, parse_id(id)?, query, request),
            ("GET", [id, "actions", action]) => {
                let id = parse_id(id)?;
                self.find(kind, id)?;
                let action_id = parse_id(action)?;
                let touches = self
                    .actions
                    .get(&action_id)
                    .is_some_and(|a| a.touches(kind, id));
                match self.observe(action_id).filter(|_| touches) {
                    Some(action) => Ok(Reply::wrapped(200, "action", action)),
                    None => Err(ApiError::not_found(format!("Action with ID {action_id}"))),
                }
            }
            ("POST", [id, "actions", verb]) => {
                self.action_post_count += 1;
                let every = self.faults.drop_action_every;
                let dropped = every > 0 && self.action_post_count % u64::from(every) == 0;
                let reply = self.verb(kind, parse_id(id)?, verb, request.body);
                if dropped && reply.is_ok() {
                    return Ok(gateway_timeout());
                }
                reply
            }
            (_, [] | [_]) => Err(ApiError::new(
                405,
                "method_not_allowed",
                format!("method {method} is not allowed here"),
            )),
            _ => Err(ApiError::not_found(format!("route {}", request.path))),
        }
    }

    fn list(&self, kind: Kind, query: &Query, request: &Request) -> Result<Reply> {
        let selector = query
            .first("label_selector")
            .filter(|s| !s.trim().is_empty())
            .map(Selector::parse)
            .transpose()?;
        let name = query.first("name");
        let statuses = if kind == Kind::Server {
            query.all("status")
        } else {
            Vec::new()
        };
        if let Some(bad) = statuses.iter().find(|s| !SERVER_STATUSES.contains(s)) {
            return Err(ApiError::invalid(
                "status",
                format!("'{bad}' is not a status"),
            ));
        }
        let fingerprint = if kind == Kind::SshKey {
            query.first("fingerprint")
        } else {
            None
        };
        let items: Vec<Value> = self
            .of_kind(kind)
            .filter(|r| name.is_none_or(|n| r.name == n))
            .filter(|r| selector.as_ref().is_none_or(|s| s.matches(&r.labels)))
            .filter(|r| {
                statuses.is_empty() || r.server().is_some_and(|s| statuses.contains(&s.status))
            })
            .filter(|r| fingerprint.is_none_or(|f| r.ssh_key().is_some_and(|k| k.fingerprint == f)))
            .map(|r| self.render(r))
            .collect();
        let items = sorted(
            items,
            query,
            &[("id", "id"), ("name", "name"), ("created", "id")],
        )?;
        self.page(kind.plural(), items, query, request)
    }

    /// A page of `items` under `root`, with `meta.pagination` and a `Link` header. `per_page`
    /// defaults to 25, is capped at 50, and at the fault `page_size` when that is set.
    pub(super) fn page(
        &self,
        root: &str,
        items: Vec<Value>,
        query: &Query,
        request: &Request,
    ) -> Result<Reply> {
        let page = positive(query, "page")?.unwrap_or(1);
        let mut per_page = positive(query, "per_page")?.unwrap_or(25).min(50);
        if self.faults.page_size > 0 {
            per_page = per_page.min(self.faults.page_size as u64);
        }
        let total = items.len() as u64;
        let last = total.div_ceil(per_page).max(1);
        let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let items: Vec<Value> = items
            .into_iter()
            .skip(skip)
            .take(usize::try_from(per_page).unwrap_or(50))
            .collect();
        let previous = (page > 1).then(|| page - 1);
        let next = (page < last).then(|| page + 1);
        let mut body = Map::new();
        body.insert(root.to_owned(), Value::Array(items));
        body.insert(
            "meta".to_owned(),
            json!({ "pagination": {
                "page": page, "per_page": per_page, "previous_page": previous,
                "next_page": next, "last_page": last, "total_entries": total,
            }}),
        );
        let mut reply = Reply::json(200, Value::Object(body));
        let kept: String = request
            .query
            .split('&')
            .filter(|p| {
                let key = p.split('=').next().unwrap_or("");
                !p.is_empty() && key != "page" && key != "per_page"
            })
            .map(|p| format!("{p}&"))
            .collect();
        let link = |n: u64, rel: &str| {
            format!(
                "<{}{}?{kept}page={n}&per_page={per_page}>; rel=\"{rel}\"",
                self.origin, request.path
            )
        };
        let links: Vec<String> = [(previous, "prev"), (next, "next"), (Some(last), "last")]
            .into_iter()
            .filter_map(|(n, rel)| n.map(|n| link(n, rel)))
            .collect();
        reply.headers.push(("link", links.join(", ")));
        Ok(reply)
    }

    fn update(&mut self, kind: Kind, id: u64, body: &[u8]) -> Result<Reply> {
        self.find(kind, id)?;
        let obj = check::object(body)?;
        self.check_unlocked(kind, id)?;
        let name = check::opt_str(&obj, "name")?;
        if let Some(name) = name {
            check_name(kind, name)?;
            self.check_name_free(kind, name, Some(id))?;
        }
        let labels = check::labels(&obj)?;
        let expose = check::opt_bool(&obj, "expose_routes_to_vswitch")?;
        let resource = self.get_mut(kind, id).expect("found above");
        if let Some(name) = name {
            name.clone_into(&mut resource.name);
        }
        if let Some(labels) = labels {
            resource.labels = labels;
        }
        if let (Some(expose), Data::Network(network)) = (expose, &mut resource.data) {
            network.expose_routes_to_vswitch = expose;
        }
        let resource = self.find(kind, id)?;
        Ok(Reply::wrapped(200, kind.singular(), self.render(resource)))
    }

    /// Servers go through a delete_server action (and stay, `deleting`, until it succeeds);
    /// other kinds go at once, 204, unless something still uses them (422 `resource_in_use`).
    fn delete(&mut self, kind: Kind, id: u64) -> Result<Reply> {
        self.find(kind, id)?;
        self.check_unlocked(kind, id)?;
        let in_use = |what: String| {
            ApiError::unprocessable(
                "resource_in_use",
                format!("{} with ID {id} is still in use: {what}", kind.title()),
            )
        };
        match kind {
            Kind::Server => {
                if let Some(Data::Server(server)) = self.get_mut(kind, id).map(|r| &mut r.data) {
                    server.status = "deleting";
                }
                let action = self.action("delete_server", vec![(kind, id)], Effect::Deleted(id));
                return Ok(Reply::wrapped(200, "action", self.action_json(action)));
            }
            Kind::Network => {
                let servers = self
                    .servers()
                    .filter(|(_, s)| s.private_net.iter().any(|p| p.network == id))
                    .count();
                let balancers = self
                    .load_balancers()
                    .filter(|(_, l)| l.private_net.iter().any(|(n, _)| *n == id))
                    .count();
                if servers + balancers > 0 {
                    return Err(in_use(format!(
                        "{servers} servers and {balancers} load balancers attached"
                    )));
                }
            }
            Kind::Firewall => {
                let firewall = self.find(kind, id)?.firewall().expect("a firewall");
                let servers: usize = firewall
                    .applied
                    .iter()
                    .map(|a| match a {
                        Applied::Server(_) => 1,
                        Applied::Selector(s) => self.matching_servers(s).len(),
                    })
                    .sum();
                if servers > 0 {
                    return Err(in_use(format!("applied to {servers} servers")));
                }
                let selector = firewall
                    .applied
                    .iter()
                    .any(|a| matches!(a, Applied::Selector(_)));
                let releasing = self
                    .releasing
                    .get(&id)
                    .is_some_and(|until| *until > std::time::Instant::now());
                if selector && releasing {
                    return Err(in_use(
                        "its label selector still applies to deleted servers".to_owned(),
                    ));
                }
            }
            Kind::PlacementGroup => {
                let servers = self
                    .servers()
                    .filter(|(_, s)| s.placement_group == Some(id))
                    .count();
                if servers > 0 {
                    return Err(in_use(format!("{servers} servers in the group")));
                }
            }
            Kind::SshKey | Kind::LoadBalancer => {}
        }
        self.resources.remove(&id);
        Ok(Reply::no_content())
    }

    /// `GET /actions?id=…&id=…`: ids required; unknown ones are simply absent. Paginated like
    /// every list (hcloud-go's fixtures show `meta.pagination` here and it sends `page=1`).
    fn list_actions(&mut self, query: &Query, request: &Request) -> Result<Reply> {
        let ids = query.all("id");
        if ids.is_empty() {
            return Err(ApiError::invalid("id", "at least one id is required"));
        }
        let mut wanted = Vec::new();
        for id in ids {
            let id: u64 = id
                .parse()
                .map_err(|_| ApiError::invalid("id", format!("'{id}' is not an integer")))?;
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        let actions = self.observe_all(wanted, query)?;
        self.page("actions", actions, query, request)
    }

    fn resource_actions(
        &mut self,
        kind: Kind,
        id: u64,
        query: &Query,
        request: &Request,
    ) -> Result<Reply> {
        self.find(kind, id)?;
        let ids: Vec<u64> = self
            .actions
            .values()
            .filter(|a| a.touches(kind, id))
            .map(|a| a.id())
            .collect();
        let actions = self.observe_all(ids, query)?;
        self.page("actions", actions, query, request)
    }

    /// Shows (and so steps) each action, then filters by `status` and sorts.
    fn observe_all(&mut self, ids: Vec<u64>, query: &Query) -> Result<Vec<Value>> {
        let statuses = query.all("status");
        if let Some(bad) = statuses
            .iter()
            .find(|s| !["running", "success", "error"].contains(s))
        {
            return Err(ApiError::invalid(
                "status",
                format!("'{bad}' is not a status"),
            ));
        }
        let actions: Vec<Value> = ids
            .into_iter()
            .filter_map(|id| self.observe(id))
            .filter(|a| statuses.is_empty() || statuses.iter().any(|s| a["status"] == *s))
            .collect();
        let keys = [
            ("id", "id"),
            ("command", "command"),
            ("status", "status"),
            ("progress", "progress"),
            ("started", "started"),
            ("finished", "finished"),
        ];
        sorted(actions, query, &keys)
    }
}

/// The change is committed; the answer is lost at a gateway.
fn gateway_timeout() -> Reply {
    Reply {
        status: 504,
        body: Body::Html("<html><body><h1>504 Gateway Time-out</h1></body></html>\n"),
        headers: Vec::new(),
    }
}

/// A name the kind accepts: servers need an RFC 1123 hostname, firewalls ≤ 128 characters.
pub(super) fn check_name(kind: Kind, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    if kind == Kind::Server && !check::hostname_ok(name) {
        return Err(ApiError::invalid(
            "name",
            "must be a valid hostname (RFC 1123)",
        ));
    }
    if kind == Kind::Firewall && name.chars().count() > 128 {
        return Err(ApiError::invalid("name", "at most 128 characters"));
    }
    Ok(())
}
