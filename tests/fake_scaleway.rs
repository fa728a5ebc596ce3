//! A stateful fake of the Scaleway APIs bootstrap uses (`../shared/reference/cloud-apis.md` §1
//! and §4) on 127.0.0.1, for tests of `bootstrap`: the Instance API (servers, security groups,
//! placement groups, flexible IPs, volumes, user-data), VPC v2 private networks, IPAM, IAM SSH
//! keys and the load balancer API, in memory, with Scaleway's strictness where the reference
//! and scaleway-sdk-go document it: `X-Total-Count` paging on the Instance API and
//! `total_count` on the newer ones, small pages on demand; names that repeat and `name` filters
//! that match substrings; `tags` filters that need every tag; error bodies
//! `{"type","message",...}` (`invalid_arguments` with `details`, `quotas_exceeded`,
//! `not_found`, `transient_state`, `precondition_failed`); unknown body fields refused (a
//! `user_data` in a server create is a 400); security-group rules with upper-case protocols,
//! one `ip_range` each and integer ports; servers created `stopped`, `poweron` answering a
//! task while the server goes `starting` and then `running`; user-data only through
//! `PATCH /servers/{id}/user_data/cloud-init` as `text/plain`; root volumes left behind when a
//! server is deleted; IAM keys project-wide without tags. Every request is recorded.
//!
//! Where it is simpler than Scaleway (each a place a client bug could hide):
//! - Transitions (`starting`, `stopping`, a load balancer's `to_create`) advance only when a
//!   GET of the resource shows them, `Faults::polls` GETs each, never with time; tasks are
//!   answered but cannot be read back.
//! - Root volumes are Instance volumes (`/instance/v1/zones/{zone}/volumes`) whatever their
//!   `volume_type`, not Block API volumes; they take tags through `PATCH`.
//! - A security group's JSON carries its `rules` (Scaleway lists them only at `…/rules`);
//!   default rules are not shown. The marketplace holds one Ubuntu 24.04 image per zone and
//!   volume type, and a server create demands one of those ids that runs its type.
//! - Private NICs are `available` at once; their address comes from IPAM (reserved by
//!   `POST /ipam/v1/regions/{region}/ips` and named in `ipam_ip_ids`, or the lowest free one
//!   from `.2`); flexible IPs from 198.51.100.0/24, load balancer IPs from 203.0.113.0/24.
//! - Faults: 429 carries `Retry-After: 1` (Scaleway documents no rate-limit headers for the
//!   Instance API); 5xx is 503 with a JSON body; a dropped answer is a 504 HTML page after the
//!   create committed. The 429 and 503 types (`too_many_requests`, `service_unavailable`)
//!   are chosen, as are 409 `conflict` for a second NIC on one network and 412
//!   `precondition_failed` for deleting what is still in use.
//! - Server types: `PRO2-XS`, `PRO2-S`, `POP2-4C-16G`, `DEV1-S`, the same in every zone;
//!   `out_of_stock` for a type in shortage is a 409 (its status is chosen).
//! - The user-data limit (`Faults::user_data_limit`, 1 MiB by default) is chosen: Scaleway
//!   documents none (cloud-apis.md §6 marks it UNVERIFIED). The only quota is servers per
//!   project (`Faults::server_quota`). Any non-empty `X-Auth-Token` works; one project.
mod instance;
mod lb;
mod routes;
mod servers;
mod state;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;

use self::state::State;
use crate::support::served::Served;

/// The one project the fake serves.
pub(crate) const PROJECT: &str = "11111111-2222-4333-8444-555555555555";

/// Faults to inject; all off by default.
#[derive(Clone, Debug)]
pub(crate) struct Faults {
    /// Added to every request before it is answered.
    pub(crate) latency: Duration,
    /// A cap on `per_page` / `page_size` to force paging (0: no cap beyond 100).
    pub(crate) page_size: usize,
    /// Every Nth request answers 429 with `Retry-After: 1`.
    pub(crate) rate_limit_every: u32,
    /// Every Nth request answers 503.
    pub(crate) server_error_every: u32,
    /// Every Nth creating POST is committed, then answered 504 with an HTML page.
    pub(crate) drop_response_every: u32,
    /// GETs a transition takes (`starting`, `stopping`, `to_create`).
    pub(crate) polls: u32,
    /// Most servers in the project (`quotas_exceeded` beyond).
    pub(crate) server_quota: usize,
    /// Most bytes of one user-data value.
    pub(crate) user_data_limit: usize,
    /// Commercial types in `shortage` in every zone: a create answers `out_of_stock`.
    pub(crate) shortage: Vec<&'static str>,
    /// IAM refuses a public key the project already holds (409 `conflict`), as the
    /// terraform-provider-scaleway #713 thread shows; off, keys repeat, as scaleway-cli #2421
    /// shows.
    pub(crate) unique_public_keys: bool,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            latency: Duration::ZERO,
            page_size: 0,
            rate_limit_every: 0,
            server_error_every: 0,
            drop_response_every: 0,
            polls: 1,
            server_quota: 50,
            user_data_limit: 1 << 20,
            shortage: Vec::new(),
            unique_public_keys: false,
        }
    }
}

/// One request as the fake received it, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// The body as text (JSON or the raw user-data).
    pub(crate) body: String,
    pub(crate) status: u16,
}

/// A resource in the fake: its collection (`servers`, `security_groups`, `private_networks`,
/// `placement_groups`, `ips`, `volumes`, `lbs`, `ssh_keys`, `ipam_ips`), id, name and tags.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    pub(crate) collection: String,
    pub(crate) name: String,
    pub(crate) tags: Vec<String>,
}

struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake; dropping it (or `stop`) shuts the server down.
pub(crate) struct FakeScaleway {
    shared: Arc<Shared>,
    url: String,
    /// Dropped with the fake: the server stops.
    _served: Served,
}

impl FakeScaleway {
    /// Serves from a thread of its own (with its own runtime), for tests that run the
    /// `railyard` binary against it; returns once it listens.
    pub(crate) fn start_in_background(faults: Faults) -> FakeScaleway {
        let (served, shared, origin) =
            Served::start_in_background("fake-scaleway", move |_origin: String| {
                let shared = Arc::new(Shared(Mutex::new(State::new(faults))));
                (
                    Arc::clone(&shared),
                    Router::new().fallback(handle).with_state(shared),
                )
            });
        FakeScaleway {
            shared,
            url: origin,
            _served: served,
        }
    }

    /// The API's base URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// Every resource in the fake.
    pub(crate) fn resources(&self) -> Vec<Summary> {
        self.shared.lock().summary()
    }

    /// A server's state (`running`, `stopped`, ...) by exact name, if there is one.
    pub(crate) fn server_state(&self, name: &str) -> Option<String> {
        self.shared.lock().server_state(name)
    }

    /// The `cloud-init` user-data of the server of this name.
    pub(crate) fn user_data(&self, name: &str) -> Option<String> {
        self.shared.lock().user_data_of(name)
    }

    /// The rules of the security group of this name, as stored.
    pub(crate) fn security_rules(&self, name: &str) -> Vec<serde_json::Value> {
        self.shared.lock().security_rules(name)
    }

    /// A server a create stopped half-way left (see `State::add_half_created`).
    pub(crate) fn add_half_created(&self, name: &str, tags: &[&str]) -> String {
        self.shared.lock().add_half_created(name, tags)
    }

    pub(crate) fn server_ids(&self, name: &str) -> Vec<String> {
        self.shared.lock().server_ids(name)
    }

    /// A resource made outside the API (not recorded), for ownership tests.
    pub(crate) fn add_foreign(&self, collection: &str, name: &str, tags: &[&str]) -> String {
        self.shared.lock().add_foreign(collection, name, tags)
    }

    pub(crate) fn stop(self) {
        drop(self);
    }
}

async fn handle(
    Extract(shared): Extract<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.lock().faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let request = routes::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        token: headers.get("x-auth-token").and_then(|v| v.to_str().ok()),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        body: &body,
    };
    let reply = shared.lock().serve(&request);
    let (content_type, bytes) = match reply.body {
        routes::Body::Json(value) => (
            Some("application/json"),
            serde_json::to_vec(&value).expect("JSON"),
        ),
        routes::Body::Text(text) => (Some("text/plain"), text.into_bytes()),
        routes::Body::Html(text) => (Some("text/html"), text.as_bytes().to_vec()),
        routes::Body::Empty => (None, Vec::new()),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(reply.status).expect("a valid status");
    let response_headers = response.headers_mut();
    if let Some(content_type) = content_type {
        response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response_headers.insert(name, value);
        }
    }
    response
}

/// The tags of a summary as `key=value` pairs, for tests that compare labels.
pub(crate) fn tag_map(tags: &[String]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests;
