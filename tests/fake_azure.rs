//! A stateful fake of Azure Resource Manager and the Microsoft identity platform's token
//! endpoint on 127.0.0.1, for tests of `bootstrap` on Azure, written from Microsoft's REST
//! reference as `../shared/reference/cloud-apis.md` §5 summarises it (not from railyard's
//! client):
//!
//! - `POST /{tenant}/oauth2/v2.0/token`, a form with `grant_type=client_credentials`,
//!   `client_id`, `client_secret` and `scope=https://management.azure.com/.default`, answers
//!   `{token_type, expires_in, access_token}`; ARM refuses a missing, unknown or expired bearer
//!   token with 401 (`InvalidAuthenticationToken`, `ExpiredAuthenticationToken`).
//! - Every ARM request needs `api-version`, the one pinned per provider below (400
//!   `InvalidApiVersionParameter` otherwise); paths match case-insensitively.
//! - Resource groups (`PUT|GET|DELETE /subscriptions/{s}/resourcegroups/{rg}`, the group's
//!   `…/resources` list) and, under `providers/`, any `{namespace}/{type}/{name}` with
//!   `PUT|GET|DELETE` and a per-type list; lists page through `nextLink` (`Faults::page_size`).
//! - PUT is create-or-update: a body equal to the stored one answers 200 and changes nothing; a
//!   new resource answers 201 with `provisioningState: Creating`, a changed one 200 with
//!   `Updating`, each with `Azure-AsyncOperation`, `Location` and `Retry-After`; the state turns
//!   `Succeeded` once `Faults::settle` has passed. An operation on a resource whose state is not
//!   terminal is a 409 `AnotherOperationInProgress`. A DELETE answers 202 and the resource is
//!   `Deleting` until it settles, then gone (a group's DELETE takes everything in it).
//! - A VM's `osProfile.customData` cannot change (409 `PropertyChangeNotAllowed`) and is never
//!   returned by a GET; every id a body references must exist (400
//!   `InvalidResourceReference`), and what another resource references cannot be deleted
//!   (400 `InUse…`). NSG rules: one address family each (400
//!   `ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies`), names without
//!   spaces, priorities 100–4096 unique per direction. NICs take their `Static` address or the
//!   first free one from `.4`; public IPs get addresses from 203.0.113.0/24.
//! - Errors are `{"error":{"code","message","details"}}`; every request is recorded.
//! - `GET /subscriptions/{s}/providers/Microsoft.Compute/skus` (api-version `2021-07-01`) lists
//!   three VM sizes in the `$filter`'s location, with `Location` restrictions for
//!   `Faults::restricted` (learn.microsoft.com/rest/api/compute/resourceskus/list).
//!
//! Where it is simpler than Azure (each a place a client bug could hide):
//! - One subscription and one tenant; any resource type is accepted under `providers/` and
//!   validated only as above (no SKU, image, size or quota checks, no `location` check).
//! - Subnets live only inside their virtual network's body (no `…/subnets/{name}` resource).
//! - Faults: a 429 carries `Retry-After` (`Faults::retry_after`) and
//!   `x-ms-ratelimit-remaining-subscription-writes: 0`; 5xx is 500 `InternalServerError`; a
//!   dropped answer is a 502 HTML page after a PUT was committed. Async operations and
//!   `Location` polls carry `Retry-After: Faults::retry_after` as well.
//! - Tokens are opaque counters; the identity endpoint is never throttled. The buckets
//!   (`Faults::buckets`) are per subscription only, not per principal and region as well.
mod arm;
mod store;
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use self::store::State;
use crate::support::served::Served;

pub(crate) const SUBSCRIPTION: &str = "00000000-1111-4222-8333-444444444444";
pub(crate) const TENANT: &str = "55555555-6666-4777-8888-999999999999";
pub(crate) const CLIENT_ID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
/// The client secret the identity endpoint accepts; long enough to be found in a canary scan.
pub(crate) const CLIENT_SECRET: &str = "fake-azure-client-secret-7Qk2vX9pLm4R";

/// Faults to inject; all off by default.
#[derive(Clone, Debug)]
pub(crate) struct Faults {
    pub(crate) latency: Duration,
    /// A cap on list pages (0: 100).
    pub(crate) page_size: usize,
    /// Every Nth ARM request answers 429.
    pub(crate) rate_limit_every: u32,
    /// Every Nth ARM request answers 500.
    pub(crate) server_error_every: u32,
    /// Every Nth PUT is committed, then answered 502 with an HTML page.
    pub(crate) drop_response_every: u32,
    /// How long a create, update or delete stays in a non-terminal state.
    pub(crate) settle: Duration,
    /// Seconds in `Retry-After` headers.
    pub(crate) retry_after: u64,
    /// Seconds a token lives (`expires_in`).
    pub(crate) token_lifetime: u64,
    /// Azure's token buckets (reads, writes, deletes each): size and refill per second; every
    /// answer then names what is left in `x-ms-ratelimit-remaining-subscription-*`, and an
    /// empty bucket answers 429 with the seconds until the next token. Off: no buckets.
    pub(crate) buckets: Option<(u32, u32)>,
    /// VM sizes the subscription may not order anywhere (a `Location` restriction,
    /// `NotAvailableForSubscription`, in the Resource SKUs list).
    pub(crate) restricted: Vec<&'static str>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            latency: Duration::ZERO,
            page_size: 0,
            rate_limit_every: 0,
            server_error_every: 0,
            drop_response_every: 0,
            settle: Duration::from_millis(20),
            retry_after: 0,
            token_lifetime: 3599,
            buckets: None,
            restricted: Vec::new(),
        }
    }
}

/// One request as the fake received it, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) body: String,
    pub(crate) status: u16,
}

/// A resource in the fake: its ARM type (`Microsoft.Compute/virtualMachines`, or
/// `resourceGroups`), resource group, name and tags.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    pub(crate) kind: String,
    pub(crate) group: String,
    pub(crate) name: String,
    pub(crate) tags: BTreeMap<String, String>,
}

struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake; dropping it shuts the server down.
pub(crate) struct FakeAzure {
    shared: Arc<Shared>,
    url: String,
    _served: Served,
}

impl FakeAzure {
    /// Serves from a thread of its own, for tests that run the `railyard` binary against it.
    pub(crate) fn start_in_background(faults: Faults) -> FakeAzure {
        let (served, shared, origin) =
            Served::start_in_background("fake-azure", move |origin: String| {
                let shared = Arc::new(Shared(Mutex::new(State::new(faults, origin))));
                (
                    Arc::clone(&shared),
                    Router::new().fallback(handle).with_state(shared),
                )
            });
        FakeAzure {
            shared,
            url: origin,
            _served: served,
        }
    }

    /// ARM's and the identity endpoint's base URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// Every resource group and resource in the fake.
    pub(crate) fn resources(&self) -> Vec<Summary> {
        self.shared.lock().summary()
    }

    /// The decoded `customData` of the VM of this name.
    pub(crate) fn custom_data(&self, name: &str) -> Option<String> {
        self.shared.lock().custom_data(name)
    }

    /// The stored body of a resource by type and name (any group).
    pub(crate) fn body(&self, kind: &str, name: &str) -> Option<Value> {
        self.shared.lock().body_of(kind, name)
    }

    /// A resource made outside the API (not recorded, settled at once), for ownership tests:
    /// a resource group when `kind` is `resourceGroups`.
    pub(crate) fn add_foreign(
        &self,
        kind: &str,
        group: &str,
        name: &str,
        tags: &[(&str, &str)],
        body: Value,
    ) {
        self.shared
            .lock()
            .add_foreign(kind, group, name, tags, body);
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
    let request = arm::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        bearer: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ")),
        body: &body,
    };
    let reply = shared.lock().serve(&request);
    let mut response = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &reply.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    let (content_type, bytes) = match reply.body {
        arm::Body::Json(value) => ("application/json", value.to_string().into_bytes()),
        arm::Body::Html(text) => ("text/html", text.into_bytes()),
        arm::Body::Empty => ("application/json", Vec::new()),
    };
    response
        .header("content-type", content_type)
        .body(Body::from(bytes))
        .unwrap_or_default()
}
