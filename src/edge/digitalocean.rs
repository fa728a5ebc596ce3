//! A thin, typed client for the parts of the DigitalOcean API that bootstrap uses.
//!
//! Every list is followed to its last page through `links.pages.next`; requests are retried by
//! the shared policy (`edge/retry.rs`) on 429 and 5xx, and a 429 pauses every task of the client
//! for its `retry-after` (else until `ratelimit-reset`). Droplets carry the site's tags
//! (`labels::tags`); VPCs, firewalls, load balancers and SSH keys take no tags on DigitalOcean
//! and are the site's by their site-derived names (`layout::cloud`). DigitalOcean has no
//! uniqueness check on droplet names, so a create whose answer may have been committed is
//! looked up by tag and exact name before it is sent again (`create.rs`). Messages never
//! include a request body: the droplet create holds the filled user-data.
//!
//! DigitalOcean's wire format stays in this module: `table.rs` (the profile), `wire.rs`
//! (bodies and facts), `resources.rs` (the neutral `Cloud` operations), `create.rs`.

mod create;
mod error;
mod resources;
mod table;
mod wire;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

use crate::edge::cloud::Timing;
use crate::edge::http;
use crate::edge::retry::{Retry, ServerPause};

pub use error::DigitalOceanError;
pub use table::PROFILE;

/// DigitalOcean's API, for `--api-url`'s default.
pub const DEFAULT_URL: &str = "https://api.digitalocean.com/v2";

pub struct DigitalOcean {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Shared by every request, so a 429's pause holds them all.
    retry: Retry,
    poll: Duration,
}

impl DigitalOcean {
    pub fn new(base: &str, token: &str, timing: Timing) -> Result<DigitalOcean, DigitalOceanError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| DigitalOceanError::Transport {
                method: "-".to_owned(),
                path: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(DigitalOcean {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            retry: Retry::new(timing.retry),
            poll: timing.poll,
        })
    }

    /// One HTTP exchange, no retry. `path` is below the base URL, or a whole URL the API
    /// gave (`links.pages.next`).
    async fn once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Json, DigitalOceanError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        // Errors name the path without its query (a page URL's parameters say nothing).
        let shown = path.split('?').next().unwrap_or(path).to_owned();
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| DigitalOceanError::Transport {
            method: method.to_string(),
            path: shown.clone(),
            reason: http::transport_reason(e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let reset = http::header_u64(&response, "ratelimit-reset");
        let after = http::header_u64(&response, "retry-after");
        let remaining = http::header_u64(&response, "ratelimit-remaining");
        let bytes = response.bytes().await.map_err(transport)?;
        let limited = status == StatusCode::TOO_MANY_REQUESTS;
        let pause = match (after, reset) {
            (Some(seconds), _) => Some(ServerPause::After(Duration::from_secs(seconds))),
            (None, Some(unix_seconds)) => Some(ServerPause::Until { unix_seconds }),
            (None, None) => None,
        };
        if limited || remaining == Some(0) {
            self.retry.pause(pause);
        }
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Json::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| DigitalOceanError::Decode {
                method: method.to_string(),
                path: shown,
                reason: e.to_string(),
            });
        }
        let error: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        Err(DigitalOceanError::Api {
            method: method.to_string(),
            path: shown,
            status: status.as_u16(),
            id: error["id"]
                .as_str()
                .unwrap_or(status.canonical_reason().unwrap_or("error"))
                .to_owned(),
            message: error["message"].as_str().unwrap_or("no message").to_owned(),
            pause: pause.filter(|_| limited),
        })
    }

    /// A request retried while the answer is transient. Not for creates (see `create.rs`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Json, DigitalOceanError> {
        self.retry
            .run(async |_| self.once(&method, path, body).await)
            .await
    }

    /// Every item of the collection at `path` (under the key `root`), all pages.
    async fn list(&self, path: &str, root: &str) -> Result<Vec<Json>, DigitalOceanError> {
        let mut all = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{separator}per_page=200");
        loop {
            let answer = self.call(Method::GET, &next, None).await?;
            let items = answer[root]
                .as_array()
                .ok_or_else(|| DigitalOceanError::Decode {
                    method: "GET".to_owned(),
                    path: path.to_owned(),
                    reason: format!("no `{root}` list"),
                })?;
            all.extend(items.iter().cloned());
            match answer["links"]["pages"]["next"].as_str() {
                Some(url) if url != next => next = url.to_owned(),
                _ => return Ok(all),
            }
        }
    }

    /// Waits until `ready` holds for the resource at `path` (under `root`), polling; returns
    /// it as it then is.
    async fn wait_until(
        &self,
        path: &str,
        root: &str,
        ready: impl Fn(&Json) -> bool,
    ) -> Result<Json, DigitalOceanError> {
        let started = self.retry.now();
        let mut interval = self.poll;
        loop {
            let answer = self.call(Method::GET, path, None).await?;
            let raw = answer[root].clone();
            if ready(&raw) {
                return Ok(raw);
            }
            if self.retry.now().saturating_sub(started) > Duration::from_secs(900) {
                return Err(DigitalOceanError::Timeout {
                    path: path.to_owned(),
                });
            }
            self.retry.sleep(interval).await;
            // Older waits are looked at less often, as the shared polling does.
            interval = (interval * 3 / 2).min(self.poll * 8);
        }
    }

    /// Waits for an action to complete; an `errored` one is an error.
    async fn wait_action(&self, id: u64) -> Result<(), DigitalOceanError> {
        let action = self
            .wait_until(&format!("/actions/{id}"), "action", |a| {
                a["status"] != "in-progress"
            })
            .await?;
        match action["status"].as_str() {
            Some("completed") => Ok(()),
            other => Err(DigitalOceanError::Action {
                id,
                kind: action["type"].as_str().unwrap_or("action").to_owned(),
                status: other.unwrap_or("unknown").to_owned(),
            }),
        }
    }
}
