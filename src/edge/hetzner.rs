//! A thin, typed client for the parts of the Hetzner Cloud API that bootstrap uses.
//!
//! Every list is followed to its last page; actions are polled together (`poll.rs`); an action
//! whose answer was lost is read back before it is sent again; requests are
//! retried by the shared policy (`edge/retry.rs`) on 429, 5xx, `locked`, `conflict` and
//! `rate_limit_exceeded`; a 429 pauses every task until `RateLimit-Reset`. A create whose
//! answer was lost is looked up by name before it is sent again, and a `uniqueness_error` is
//! resolved by adopting the existing resource when it carries the site's label (`create.rs`).
//! Messages never include a request body: the create-server body holds the filled user-data.
//!
//! Hetzner's wire format stays in this module: `table.rs` (paths, profile), `wire.rs` (bodies
//! and facts), `resources.rs` (the neutral `Cloud` operations).

mod create;
mod error;
mod poll;
mod resources;
mod table;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

use crate::bootstrap::model::Kind;
use crate::edge::cloud::Timing;
use crate::edge::http;
use crate::edge::retry::{Retry, ServerPause};

pub use error::HetznerError;
pub use table::PROFILE;

/// Hetzner's API, for `--api-url`'s default.
pub const DEFAULT_URL: &str = "https://api.hetzner.cloud/v1";

pub struct Hetzner {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Shared by every request, so a 429's pause holds them all.
    retry: Retry,
    poll: Duration,
    /// The actions every task of the client waits for, polled together.
    poller: poll::Poller,
    /// Whose turn it is to attach to each network (`network_turn`).
    attaching: std::sync::Mutex<std::collections::BTreeMap<u64, Arc<tokio::sync::Mutex<()>>>>,
}

impl Hetzner {
    pub fn new(base: &str, token: &str, timing: Timing) -> Result<Hetzner, HetznerError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| HetznerError::Transport {
                method: "-".to_owned(),
                path: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Hetzner {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            retry: Retry::new(timing.retry),
            poll: timing.poll,
            poller: poll::Poller::default(),
            attaching: std::sync::Mutex::default(),
        })
    }

    /// The turn to attach to a network: an attach locks the network until its action ends,
    /// and every other attach meanwhile is refused as `locked`, so the client's attaches to one
    /// network take turns, each handing over the moment its action has ended, instead of
    /// asking again and again.
    async fn network_turn(&self, network: u64) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = Arc::clone(
            self.attaching
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(network)
                .or_default(),
        );
        turn.lock_owned().await
    }

    /// One HTTP exchange, no retry.
    async fn once(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Json>,
    ) -> Result<Json, HetznerError> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token)
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| HetznerError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            // Without the URL's query or the body: only what failed, down to its cause.
            reason: http::transport_reason(e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let reset = http::header_u64(&response, "ratelimit-reset");
        let remaining = http::header_u64(&response, "ratelimit-remaining");
        let bytes = response.bytes().await.map_err(transport)?;
        let limited = status == StatusCode::TOO_MANY_REQUESTS;
        if limited || remaining == Some(0) {
            self.retry
                .pause(reset.map(|unix_seconds| ServerPause::Until { unix_seconds }));
        }
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Json::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| HetznerError::Decode {
                method: method.to_string(),
                path: path.to_owned(),
                reason: e.to_string(),
            });
        }
        let error: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        Err(HetznerError::Api {
            method: method.to_string(),
            path: path.to_owned(),
            status: status.as_u16(),
            code: error["error"]["code"]
                .as_str()
                .unwrap_or(status.canonical_reason().unwrap_or("error"))
                .to_owned(),
            message: error["error"]["message"]
                .as_str()
                .unwrap_or("no message")
                .to_owned(),
            reset: reset.filter(|_| limited),
        })
    }

    /// A request retried while the answer is transient. Not for creates (see `create.rs`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Json>,
    ) -> Result<Json, HetznerError> {
        self.retry
            .run(async |_| self.once(&method, path, query, body).await)
            .await
    }

    /// Every resource of `kind` matching `query`, all pages.
    async fn list(&self, kind: Kind, query: &[(&str, &str)]) -> Result<Vec<Json>, HetznerError> {
        self.list_all(table::path(kind), query).await
    }

    /// Every item of the collection `/<collection>` matching `query`, all pages.
    async fn list_all(
        &self,
        collection: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Json>, HetznerError> {
        let mut all = Vec::new();
        let mut page = 1u64;
        let path = format!("/{collection}");
        loop {
            let mut q: Vec<(String, String)> = query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            q.push(("per_page".to_owned(), "50".to_owned()));
            q.push(("page".to_owned(), page.to_string()));
            let answer = self.call(Method::GET, &path, &q, None).await?;
            let items = answer[collection]
                .as_array()
                .ok_or_else(|| HetznerError::Decode {
                    method: "GET".to_owned(),
                    path: path.clone(),
                    reason: format!("no `{collection}` list"),
                })?;
            all.extend(items.iter().cloned());
            match answer["meta"]["pagination"]["next_page"].as_u64() {
                Some(next) if next > page => page = next,
                _ => return Ok(all),
            }
        }
    }

    /// `POST /<kind>/<id>/actions/<verb>`; returns the actions to wait for. An action whose
    /// answer was lost may have been carried out: before it is sent again, the resource's
    /// running actions are waited for and the resource is read back, and when `done` says it
    /// already is as wanted, the action is not repeated. A refusal saying it already is
    /// (`server_already_attached`, ...) is read back the same way.
    async fn action(
        &self,
        kind: Kind,
        id: u64,
        verb: &str,
        body: &Json,
        done: &dyn Fn(&Json) -> bool,
    ) -> Result<Vec<u64>, HetznerError> {
        let path = format!("/{}/{id}/actions/{verb}", table::path(kind));
        let mut locked = 0;
        loop {
            let mut lost = false;
            let sent = self
                .retry
                .run(async |attempt| {
                    if attempt > 0 && lost && self.already(kind, id, done).await? {
                        return Ok(Vec::new());
                    }
                    match self.once(&Method::POST, &path, &[], Some(body)).await {
                        Ok(answer) => Ok(action_ids(&answer)),
                        Err(e) => {
                            lost = e.may_have_committed();
                            Err(e)
                        }
                    }
                })
                .await;
            match sent {
                Ok(actions) => return Ok(actions),
                // The last attempt's answer was lost, or the action was refused as done
                // already: read back before giving up.
                Err(e)
                    if e.may_have_committed() || e.code().is_some_and(|c| ALREADY.contains(&c)) =>
                {
                    return if self.already(kind, id, done).await? {
                        Ok(Vec::new())
                    } else {
                        Err(e)
                    };
                }
                // Another action holds the resource (one an interrupted run started, say):
                // wait for the resource's running actions, then ask again. Not a retry with
                // backoff: the wait is for the holder to finish.
                Err(e) if e.code() == Some("locked") && locked < self.retry.policy.attempts => {
                    self.wait_for_resource(kind, id).await?;
                    self.wait_for_referenced(body).await?;
                    locked += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the resource, once its running actions are over, already is as `done` wants.
    async fn already(
        &self,
        kind: Kind,
        id: u64,
        done: &dyn Fn(&Json) -> bool,
    ) -> Result<bool, HetznerError> {
        self.wait_for_resource(kind, id).await?;
        Ok(done(&self.get(kind, id).await?))
    }

    /// Waits for the running actions of the networks a body refers to: attaching anything to a
    /// network locks the network, so concurrent attaches (or one an interrupted run left
    /// running) lock each other out for a moment.
    async fn wait_for_referenced(&self, body: &Json) -> Result<(), HetznerError> {
        let networks = body["network"].as_u64().into_iter().chain(
            body["networks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_u64),
        );
        for network in networks {
            self.wait_for_resource(Kind::Network, network).await?;
        }
        Ok(())
    }

    /// Waits for every running action of one resource.
    async fn wait_for_resource(&self, kind: Kind, id: u64) -> Result<(), HetznerError> {
        let path = format!("/{}/{id}/actions", table::path(kind));
        let query = [("status".to_owned(), "running".to_owned())];
        let answer = self.call(Method::GET, &path, &query, None).await?;
        let running: Vec<u64> = answer["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["status"].as_str() == Some("running"))
            .filter_map(|a| a["id"].as_u64())
            .collect();
        if running.is_empty() {
            self.retry.sleep(self.retry.backoff(0)).await;
        }
        self.wait(&running).await
    }

    async fn get(&self, kind: Kind, id: u64) -> Result<Json, HetznerError> {
        let path = format!("/{}/{id}", table::path(kind));
        let answer = self.call(Method::GET, &path, &[], None).await?;
        Ok(answer[table::singular(kind)].clone())
    }

    /// Deletes a resource; a resource already gone counts as deleted. `resource_in_use` is
    /// asked again until the policy's cap has passed: Hetzner applies label-selector changes
    /// within seconds, so a firewall may count servers deleted a moment ago
    /// (terraform-provider-hcloud #401, #463).
    async fn delete(&self, kind: Kind, id: u64) -> Result<Vec<u64>, HetznerError> {
        let path = format!("/{}/{id}", table::path(kind));
        let deadline = self.retry.now() + self.retry.policy.cap;
        let mut attempt = 0;
        loop {
            match self.call(Method::DELETE, &path, &[], None).await {
                Ok(answer) => return Ok(action_ids(&answer)),
                Err(e) if e.code() == Some("not_found") => return Ok(Vec::new()),
                Err(e) if e.code() == Some("resource_in_use") && self.retry.now() < deadline => {
                    self.retry.sleep(self.retry.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Refusals that say an action already happened: the state is read back, not sent again.
const ALREADY: [&str; 4] = [
    "server_already_attached",
    "load_balancer_already_attached",
    "target_already_defined",
    "firewall_already_applied",
];

fn action_ids(answer: &Json) -> Vec<u64> {
    let mut ids = Vec::new();
    if let Some(id) = answer["action"]["id"].as_u64() {
        ids.push(id);
    }
    for key in ["actions", "next_actions"] {
        ids.extend(
            answer[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["id"].as_u64()),
        );
    }
    ids
}
