//! A stateful fake of the DigitalOcean API (`../shared/reference/cloud-apis.md` §1 and §3,
//! DigitalOcean's OpenAPI description and godo) on 127.0.0.1, for tests of `bootstrap`:
//! droplets, tags, SSH keys, VPCs, firewalls and load balancers kept in memory with
//! DigitalOcean's rules (tag and name patterns, droplet names that may repeat, SSH keys unique
//! by key material, VPC names unique and ranges that may not overlap in the account, firewall
//! tags that must exist), `links.pages.next` pagination, async actions that complete with time,
//! `ratelimit-*` headers, and injected faults (429 with `retry-after`, 5xx, latency, committed
//! creates whose answer is lost). Every request is recorded.
//!
//! Where it is simpler than DigitalOcean (each a place a client bug could hide):
//! - Actions (droplet create, load balancer and firewall provisioning) complete after
//!   `Faults::action_time` of wall time, never with an error; until then a droplet is `new`
//!   with no addresses, a load balancer `new` with no `ip`, a firewall `waiting`.
//! - Deletes take effect at once (DigitalOcean deletes droplets asynchronously); a VPC that
//!   still has droplets or load balancers refuses deletion with 409 `conflict` (the status is
//!   the fake's choice; the spec only says it fails).
//! - Regions, sizes and images are a small fixed catalog; the 10-per-minute limit on reading
//!   `/v2/account/keys` is not enforced; tags are created but never deleted with their last
//!   resource; `DELETE /v2/tags` is not served.
//! - Firewall semantics are answered by `FakeDigitalOcean::allows` (what a droplet may send
//!   or receive), not by a network; `sources`/`destinations` by tag or droplet id are kept
//!   but only `addresses` decide.
//! - Private addresses: the lowest free one from a VPC's `.2`; public ones from
//!   198.51.100.0/24 (droplets) and 203.0.113.0/24 (load balancers). Any non-empty bearer
//!   token works. 5xx is 503 (some 500 with a seed); a dropped answer is a 504 with an HTML
//!   page, never a closed connection.
mod api;
mod model;
mod rules;
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use self::model::State;
use crate::support::served::Served;

/// Faults to inject; all off by default. Every-Nth counters restart with `set_faults`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    /// Added to every request before it is answered.
    pub(crate) latency: Duration,
    /// A cap on `per_page` to force paging (0: DigitalOcean's default 20, at most 200).
    pub(crate) page_size: usize,
    /// Every Nth request answers 429 `too_many_requests` with `retry-after: 1`.
    pub(crate) rate_limit_every: u32,
    /// Every Nth request answers 503 `service_unavailable` (500 for some, with a seed).
    pub(crate) server_error_every: u32,
    /// Every Nth creating POST (`POST /v2/<collection>`) is committed, then answered 504
    /// with an HTML gateway page instead of the resource.
    pub(crate) drop_response_every: u32,
    /// How long an action runs before it completes.
    pub(crate) action_time: Duration,
    /// Seeds the deterministic choices (503 or 500).
    pub(crate) seed: u64,
}

/// One request as the fake received it, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    /// The path as sent, `/v2/...`.
    pub(crate) path: String,
    /// The raw query string, empty if none.
    pub(crate) query: String,
    /// The JSON body; a body that is not JSON is kept as a JSON string; None when empty.
    pub(crate) body: Option<Value>,
    pub(crate) status: u16,
}

/// Which way traffic crosses a droplet's firewalls, for `FakeDigitalOcean::allows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    In,
    Out,
}

struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake. Dropping it (or `stop`) shuts the server down.
pub(crate) struct FakeDigitalOcean {
    shared: Arc<Shared>,
    url: String,
    /// Dropped with the fake: the server stops.
    _served: Served,
}

impl FakeDigitalOcean {
    /// Serves on 127.0.0.1 (a free port) from the current tokio runtime.
    pub(crate) async fn start(faults: Faults) -> FakeDigitalOcean {
        let (served, shared, origin) = Served::start(move |origin: String| {
            let shared = Arc::new(Shared(Mutex::new(State::new(faults, origin))));
            (
                Arc::clone(&shared),
                Router::new().fallback(handle).with_state(shared),
            )
        })
        .await;
        FakeDigitalOcean {
            shared,
            url: format!("{origin}/v2"),
            _served: served,
        }
    }

    /// Serves from a thread of its own (with its own runtime), for tests that run the
    /// synchronous `railyard` binary against it; returns once it listens.
    pub(crate) fn start_in_background(faults: Faults) -> FakeDigitalOcean {
        let (served, shared, origin) =
            Served::start_in_background("fake-digitalocean", move |origin: String| {
                let shared = Arc::new(Shared(Mutex::new(State::new(faults, origin))));
                (
                    Arc::clone(&shared),
                    Router::new().fallback(handle).with_state(shared),
                )
            });
        FakeDigitalOcean {
            shared,
            url: format!("{origin}/v2"),
            _served: served,
        }
    }

    /// The API's base URL, `http://127.0.0.1:PORT/v2`.
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

    /// Every live resource: kind (`droplet`, `ssh_key`, `vpc`, `firewall`, `load_balancer`),
    /// id, name, tags (droplets; empty for the kinds DigitalOcean does not tag).
    pub(crate) fn resources(&self) -> Vec<(String, String, String, Vec<String>)> {
        self.shared.lock().summary()
    }

    /// A droplet that exists before the test (not made through the API, not recorded).
    pub(crate) fn add_foreign_droplet(&self, name: &str, tags: &[&str]) -> String {
        self.shared.lock().add_foreign_droplet(name, tags)
    }

    /// An SSH key the account holds before the test (the user's own, under their name).
    pub(crate) fn add_foreign_ssh_key(&self, name: &str, public_key: &str) -> String {
        self.shared.lock().add_foreign_ssh_key(name, public_key)
    }

    /// A VPC that exists before the test (another site's, or the user's own).
    pub(crate) fn add_foreign_vpc(&self, name: &str, region: &str, ip_range: &str) -> String {
        self.shared.lock().add_foreign_vpc(name, region, ip_range)
    }

    /// Whether the droplet `name`'s firewalls let `protocol` traffic on `port` pass the `way`
    /// given, from (in) or to (out) `address`: DigitalOcean denies what no rule allows, in
    /// both directions, and a droplet with no firewall passes everything.
    pub(crate) fn allows(
        &self,
        name: &str,
        way: Way,
        protocol: &str,
        port: u16,
        address: &str,
    ) -> bool {
        self.shared
            .lock()
            .allows(name, way, protocol, port, address)
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
    let request = api::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        body: &body,
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
