//! A stateful fake of the Hetzner Cloud API (`../shared/reference/cloud-apis.md` §1–2) on
//! 127.0.0.1, for tests of `bootstrap`: resources kept in memory with Hetzner's uniqueness,
//! labels and label selectors, pagination, actions that run for a number of polls, `locked`,
//! rate-limit headers, and injected faults (429, 5xx, latency, committed creates whose answer
//! is lost). Every request is recorded.
//!
//! Tests either `FakeHetzner::start(faults).await` inside their own runtime, or
//! `FakeHetzner::start_in_background(faults)` (a thread with its own runtime) and run the
//! `railyard` binary against `fake.url()`.
//!
//! Where it is simpler than Hetzner (each a place a client bug could hide):
//! - Actions advance only when GET shows them (`/actions/{id}`, `/actions?id=`,
//!   `/<kind>/{id}/actions[/{id}]`), never with time; a list steps every action it matched,
//!   even those on other pages. They end in `error` only as `Faults::fail_actions` says.
//! - A server's `start_after_create` start is its own `start_server` action (the server is
//!   `off` until it succeeds), so an injected start failure leaves it off.
//! - A label selector's release after its last server is deleted takes a fixed delay
//!   (`Faults::selector_release`), not "seconds" that vary.
//! - Only create_server, poweron/poweroff and delete_server wait for their action; every other
//!   change (network attachments, firewall rules and applications, load balancer services and
//!   targets, subnets) shows at once, and its action only locks.
//! - A running action locks every resource it lists against PUT, DELETE and action POSTs.
//! - Firewall action endpoints answer `{"actions": [...]}` as hcloud-go's schema has it
//!   (cloud-apis.md says `{action}` for every verb).
//! - Network names may repeat; codes the spec leaves open are chosen: 422 `invalid_input` for
//!   unknown references in bodies, 412 `resource_unavailable` for CX/CAX types outside the EU,
//!   422 `resource_in_use` for networks and placement groups still used.
//! - Private addresses: the lowest free one from a subnet's `.2`; public ones from
//!   198.51.100.0/24 (servers) and 203.0.113.0/24 (load balancers); no primary IP objects,
//!   volumes or datacenters (refused); alias IPs unchecked.
//! - Faults: 5xx is 503 (some 504 with a seed), never 500 or a bodiless 502; a dropped answer
//!   is a 504 with an HTML page, never a closed connection. Any non-empty bearer token works.
//! - Load balancer limits (targets, services) and the 500 effective firewall rules are not
//!   enforced; health is `healthy` when the server runs (and shares the network if private).
mod api;
mod bodies;
mod catalog;
pub(crate) mod check;
mod create;
mod model;
pub(crate) mod query;
mod render;
mod state;
mod tests;
mod verbs;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use self::state::State;
use crate::support::served::Served;

/// Faults to inject; all off by default. Every-Nth counters restart with `set_faults`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    /// Added to every request before it is answered.
    pub(crate) latency: Duration,
    /// A cap on `per_page` to force paging (0: Hetzner's default 25, at most 50).
    pub(crate) page_size: usize,
    /// Every Nth request answers 429 `rate_limit_exceeded`, `RateLimit-Reset` = now + 1 s.
    pub(crate) rate_limit_every: u32,
    /// Every Nth request answers 503 `unavailable` (504 `timeout` for some, with a seed).
    pub(crate) server_error_every: u32,
    /// Every Nth creating POST (`POST /v1/<kind>`) is committed, then answered 504 with an
    /// HTML gateway page instead of the resource.
    pub(crate) drop_response_every: u32,
    /// Each action stays `running` for this many GETs of it, then succeeds.
    pub(crate) action_polls: u32,
    /// Seeds the deterministic choices: 503 or 504, root passwords, foreign SSH keys.
    pub(crate) seed: u64,
    /// Every Nth action POST (`POST /v1/<kind>/{id}/actions/<verb>`) is committed, then
    /// answered 504 with an HTML gateway page instead of the action.
    pub(crate) drop_action_every: u32,
    /// How long a firewall applied by label selector stays in use after the last server its
    /// selector matched is deleted: Hetzner applies selector changes asynchronously, "within
    /// seconds" (docs.hetzner.cloud, Firewalls; terraform-provider-hcloud #401, #463).
    pub(crate) selector_release: Duration,
    /// (command, part of a resource's name, N): the first N actions with this command on a
    /// resource whose name contains the part (any, when empty) end in `error`
    /// (`action_failed`), without effect.
    pub(crate) fail_actions: Option<(&'static str, &'static str, u32)>,
    /// (server type, location) pairs sold out now: `available: false` in the type's
    /// `locations[]`, and a create answers 412 `resource_unavailable`.
    pub(crate) unavailable: Vec<(&'static str, &'static str)>,
}

/// One request as the fake received it, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    /// The path as sent, `/v1/...`.
    pub(crate) path: String,
    /// The raw query string (percent-encoded), empty if none.
    pub(crate) query: String,
    /// The JSON body; a body that is not JSON is kept as a JSON string; None when empty.
    pub(crate) body: Option<Value>,
    pub(crate) status: u16,
    /// When it arrived, and when the fake answered it (after the injected latency): two
    /// requests overlapped when each arrived before the other was answered.
    pub(crate) arrived: std::time::Instant,
    pub(crate) answered: std::time::Instant,
}

impl Recorded {
    /// The query's decoded pairs, in order.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (query::decode(k), query::decode(v))
            })
            .collect()
    }
}

struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake. Dropping it (or `stop`) shuts the server down.
pub(crate) struct FakeHetzner {
    shared: Arc<Shared>,
    url: String,
    /// Dropped with the fake: the server stops.
    _served: Served,
}

impl FakeHetzner {
    /// Serves on 127.0.0.1 (a free port) from the current tokio runtime.
    pub(crate) async fn start(faults: Faults) -> FakeHetzner {
        let (served, shared, origin) = Served::start(move |origin: String| {
            let shared = Arc::new(Shared(Mutex::new(State::new(faults, origin))));
            (
                Arc::clone(&shared),
                Router::new().fallback(handle).with_state(shared),
            )
        })
        .await;
        FakeHetzner {
            shared,
            url: format!("{origin}/v1"),
            _served: served,
        }
    }

    /// Serves from a thread of its own (with its own runtime), for tests that run the
    /// synchronous `railyard` binary against it; returns once it listens.
    pub(crate) fn start_in_background(faults: Faults) -> FakeHetzner {
        let (served, shared, origin) =
            Served::start_in_background("fake-hetzner", move |origin: String| {
                let shared = Arc::new(Shared(Mutex::new(State::new(faults, origin))));
                (
                    Arc::clone(&shared),
                    Router::new().fallback(handle).with_state(shared),
                )
            });
        FakeHetzner {
            shared,
            url: format!("{origin}/v1"),
            _served: served,
        }
    }

    /// The API's base URL, `http://127.0.0.1:PORT/v1`.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    /// Every request so far, in order.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// New faults from the next request on.
    pub(crate) fn set_faults(&self, faults: Faults) {
        self.shared.lock().set_faults(faults);
    }

    /// Every live resource (a server stays until its delete action succeeds), by ID: kind
    /// (`server`, `ssh_key`, `network`, `firewall`, `placement_group`, `load_balancer`), ID,
    /// name, labels.
    pub(crate) fn resources(&self) -> Vec<(String, u64, String, BTreeMap<String, String>)> {
        self.shared.lock().summary()
    }

    /// The status of the server of this name (`running`, `off`, ...), if there is one.
    pub(crate) fn server_status(&self, name: &str) -> Option<String> {
        self.shared.lock().server_status(name)
    }

    /// A resource that exists before the test (not made through the API, not recorded). Kind
    /// singular or plural; panics on an unknown kind, a taken name or an invalid label.
    pub(crate) fn add_foreign(
        &self,
        kind: &str,
        name: &str,
        labels: BTreeMap<String, String>,
    ) -> u64 {
        self.shared.lock().add_foreign(kind, name, labels)
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
    let arrived = std::time::Instant::now();
    let latency = shared.lock().faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let request = api::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        body: &body,
        arrived,
    };
    let reply = shared.lock().serve(&request);
    let (content_type, bytes) = match reply.body {
        api::Body::Json(value) => (
            Some("application/json"),
            serde_json::to_vec(&value).expect("JSON"),
        ),
        api::Body::Html(text) => (Some("text/html"), text.as_bytes().to_vec()),
        api::Body::Empty => (None, Vec::new()),
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
