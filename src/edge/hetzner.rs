//! A thin, typed client for the parts of the Hetzner Cloud API that bootstrap uses.
//!
//! Every list is followed to its last page; actions are polled in batches of 25; requests are
//! retried with capped exponential backoff and full jitter on 429, 5xx, `locked`, `conflict`
//! and `rate_limit_exceeded`; a 429 pauses every task until `RateLimit-Reset`. A create whose
//! answer was lost is looked up by name before it is sent again, and a `uniqueness_error` is
//! resolved by adopting the existing resource when it carries the site's label.
//! Messages never include a request body: the create-server body holds the filled user-data.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

use crate::core::plan::{Kind, Observed, SITE_LABEL};

/// Hetzner's API, for `--api-url`'s default.
pub const DEFAULT_URL: &str = "https://api.hetzner.cloud/v1";

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("the Hetzner API refused `{method} {path}`: {code}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach the Hetzner API for `{method} {path}`: {reason}")]
    Transport {
        method: String,
        path: String,
        reason: String,
    },
    #[error("the Hetzner API answered `{method} {path}` with something unexpected: {reason}")]
    Decode {
        method: String,
        path: String,
        reason: String,
    },
    #[error("action `{command}` (#{id}) failed: {code}: {message}")]
    Action {
        id: u64,
        command: String,
        code: String,
        message: String,
    },
    #[error(
        "{kind} `{name}` exists in the project without the site's label `{label}`; railyard will not adopt it: rename or delete it"
    )]
    NotOurs {
        kind: &'static str,
        name: String,
        label: String,
    },
}

impl CloudError {
    /// Worth sending again: the cloud may answer differently in a moment.
    fn is_transient(&self) -> bool {
        match self {
            CloudError::Transport { .. } => true,
            CloudError::Api { status, code, .. } => {
                matches!(*status, 429 | 500 | 502 | 503 | 504)
                    || matches!(
                        code.as_str(),
                        "conflict" | "rate_limit_exceeded" | "locked" | "timeout" | "bad_gateway"
                    )
            }
            _ => false,
        }
    }

    /// The request may have been carried out even though no answer came back.
    fn may_have_committed(&self) -> bool {
        match self {
            CloudError::Transport { .. } => true,
            CloudError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    fn code(&self) -> Option<&str> {
        match self {
            CloudError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// How long to wait between attempts and polls.
#[derive(Clone, Debug)]
pub struct Timing {
    /// First retry delay; doubled per attempt up to `cap`, then fully jittered.
    pub base: Duration,
    pub cap: Duration,
    pub attempts: u32,
    pub poll: Duration,
    /// Longest wait a `RateLimit-Reset` may impose at once.
    pub rate_limit_cap: Duration,
}

impl Default for Timing {
    /// cloud-apis.md §1: base 1 s, ×2, cap 60 s, full jitter, 5 retries; polls every second.
    fn default() -> Timing {
        Timing {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            attempts: 6,
            poll: Duration::from_secs(1),
            rate_limit_cap: Duration::from_secs(60),
        }
    }
}

pub struct Hetzner {
    http: reqwest::Client,
    base: String,
    token: String,
    timing: Timing,
    /// No request leaves before this instant (set from a 429's `RateLimit-Reset`).
    pause_until: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    /// xorshift state for jitter, seeded from the OS.
    jitter: Mutex<u64>,
}

/// A resource as created or adopted, with the actions to wait for.
pub struct Created {
    pub id: u64,
    pub raw: Json,
    pub actions: Vec<u64>,
    pub adopted: bool,
}

impl Hetzner {
    pub fn new(base: &str, token: &str, timing: Timing) -> Result<Hetzner, CloudError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CloudError::Transport {
                method: "-".to_owned(),
                path: base.to_owned(),
                reason: e.to_string(),
            })?;
        let mut seed = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        Ok(Hetzner {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            timing,
            pause_until: tokio::sync::Mutex::new(None),
            jitter: Mutex::new(u64::from_le_bytes(seed) | 1),
        })
    }

    fn random_fraction(&self) -> f64 {
        let mut state = self.jitter.lock().unwrap_or_else(|e| e.into_inner());
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .timing
            .base
            .saturating_mul(1 << attempt.min(16))
            .min(self.timing.cap);
        exponential.mul_f64(self.random_fraction())
    }

    /// One HTTP exchange, no retry.
    async fn once(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Json>,
    ) -> Result<Json, CloudError> {
        if let Some(until) = *self.pause_until.lock().await {
            tokio::time::sleep_until(until).await;
        }
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token)
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| CloudError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            // Without the URL's query or the body: only what failed, down to its cause.
            reason: {
                let e = e.without_url();
                let mut reason = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    reason = format!("{reason}: {cause}");
                    source = cause.source();
                }
                reason
            },
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let reset = header_u64(&response, "ratelimit-reset");
        let remaining = header_u64(&response, "ratelimit-remaining");
        let bytes = response.bytes().await.map_err(transport)?;
        if status == StatusCode::TOO_MANY_REQUESTS || remaining == Some(0) {
            self.pause(reset).await;
        }
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Json::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| CloudError::Decode {
                method: method.to_string(),
                path: path.to_owned(),
                reason: e.to_string(),
            });
        }
        let error: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        Err(CloudError::Api {
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
        })
    }

    /// Holds every request until the rate limit has recovered (at most `rate_limit_cap`).
    async fn pause(&self, reset: Option<u64>) {
        let now_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let wait = reset
            .map(|r| Duration::from_secs(r.saturating_sub(now_unix)))
            .unwrap_or(self.timing.base)
            .clamp(self.timing.base, self.timing.rate_limit_cap);
        let until = tokio::time::Instant::now() + wait;
        let mut pause = self.pause_until.lock().await;
        if pause.is_none_or(|p| p < until) {
            *pause = Some(until);
        }
    }

    /// A request retried while the answer is transient. Not for creates (see `create`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Json>,
    ) -> Result<Json, CloudError> {
        let mut attempt = 0;
        loop {
            match self.once(&method, path, query, body).await {
                Err(e) if e.is_transient() && attempt + 1 < self.timing.attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Every resource of `kind` matching `query`, all pages.
    pub async fn list(&self, kind: Kind, query: &[(&str, &str)]) -> Result<Vec<Json>, CloudError> {
        let mut all = Vec::new();
        let mut page = 1u64;
        loop {
            let mut q: Vec<(String, String)> = query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            q.push(("per_page".to_owned(), "50".to_owned()));
            q.push(("page".to_owned(), page.to_string()));
            let path = format!("/{}", kind.path());
            let answer = self.call(Method::GET, &path, &q, None).await?;
            let items = answer[kind.path()]
                .as_array()
                .ok_or_else(|| CloudError::Decode {
                    method: "GET".to_owned(),
                    path: path.clone(),
                    reason: format!("no `{}` list", kind.path()),
                })?;
            all.extend(items.iter().cloned());
            match answer["meta"]["pagination"]["next_page"].as_u64() {
                Some(next) if next > page => page = next,
                _ => return Ok(all),
            }
        }
    }

    /// Every resource of every kind carrying `site`'s label.
    pub async fn inventory(&self, site: &str) -> Result<Vec<Observed>, CloudError> {
        let selector = format!("{SITE_LABEL}={site}");
        let lists = futures::future::join_all(Kind::ALL.map(|kind| {
            let selector = selector.clone();
            async move {
                let items = self.list(kind, &[("label_selector", &selector)]).await?;
                Ok::<_, CloudError>(items.into_iter().map(move |raw| observed(kind, raw)))
            }
        }))
        .await;
        let mut all = Vec::new();
        for list in lists {
            all.extend(list?);
        }
        Ok(all)
    }

    /// Creates a resource, or adopts it when an earlier attempt (this run's or a killed one's)
    /// already did: after a lost answer the name is looked up before sending again, and a
    /// `uniqueness_error` is answered by the existing resource if it carries `site`'s label.
    pub async fn create(&self, kind: Kind, site: &str, body: &Json) -> Result<Created, CloudError> {
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let path = format!("/{}", kind.path());
        let mut attempt = 0;
        loop {
            let error = match self.once(&Method::POST, &path, &[], Some(body)).await {
                Ok(answer) => {
                    let raw = answer[kind.singular()].clone();
                    return Ok(Created {
                        id: raw["id"].as_u64().unwrap_or_default(),
                        actions: action_ids(&answer),
                        raw,
                        adopted: false,
                    });
                }
                Err(e) => e,
            };
            if error.code() == Some("uniqueness_error") {
                return self.adopt(kind, site, &name, body).await;
            }
            if !error.is_transient() || attempt + 1 >= self.timing.attempts {
                return Err(error);
            }
            if error.code() == Some("locked") {
                self.wait_for_referenced(body).await?;
            }
            tokio::time::sleep(self.backoff(attempt)).await;
            attempt += 1;
            if error.may_have_committed() {
                if let Some(existing) = self.find(kind, &name).await? {
                    return self.adopted(kind, site, &name, existing);
                }
            }
        }
    }

    async fn find(&self, kind: Kind, name: &str) -> Result<Option<Json>, CloudError> {
        Ok(self.list(kind, &[("name", name)]).await?.into_iter().next())
    }

    async fn adopt(
        &self,
        kind: Kind,
        site: &str,
        name: &str,
        body: &Json,
    ) -> Result<Created, CloudError> {
        if let Some(existing) = self.find(kind, name).await? {
            return self.adopted(kind, site, name, existing);
        }
        // An SSH key is also unique by its public key: the user's own key, under another name,
        // is used as it is (and, not carrying the label, never deleted by `destroy`).
        if kind == Kind::SshKey {
            let key = body["public_key"].as_str().unwrap_or_default();
            let same = self
                .list(kind, &[])
                .await?
                .into_iter()
                .find(|k| same_key(k["public_key"].as_str().unwrap_or_default(), key));
            if let Some(existing) = same {
                return Ok(Created {
                    id: existing["id"].as_u64().unwrap_or_default(),
                    raw: existing,
                    actions: Vec::new(),
                    adopted: true,
                });
            }
        }
        Err(CloudError::Api {
            method: "POST".to_owned(),
            path: format!("/{}", kind.path()),
            status: 409,
            code: "uniqueness_error".to_owned(),
            message: format!(
                "{} `{name}` is said to exist but cannot be found",
                kind.noun()
            ),
        })
    }

    fn adopted(
        &self,
        kind: Kind,
        site: &str,
        name: &str,
        existing: Json,
    ) -> Result<Created, CloudError> {
        if existing["labels"][SITE_LABEL].as_str() != Some(site) {
            return Err(CloudError::NotOurs {
                kind: kind.noun(),
                name: name.to_owned(),
                label: format!("{SITE_LABEL}={site}"),
            });
        }
        Ok(Created {
            id: existing["id"].as_u64().unwrap_or_default(),
            raw: existing,
            actions: Vec::new(),
            adopted: true,
        })
    }

    /// `POST /<kind>/<id>/actions/<verb>`, retried (these actions are idempotent or refused
    /// harmlessly when repeated); returns the actions to wait for.
    pub async fn action(
        &self,
        kind: Kind,
        id: u64,
        verb: &str,
        body: &Json,
    ) -> Result<Vec<u64>, CloudError> {
        let path = format!("/{}/{id}/actions/{verb}", kind.path());
        let mut attempt = 0;
        loop {
            match self.call(Method::POST, &path, &[], Some(body)).await {
                Ok(answer) => return Ok(action_ids(&answer)),
                // Another action holds the resource (one an interrupted run started, say):
                // wait for the resource's running actions, then ask again.
                Err(e) if e.code() == Some("locked") && attempt < self.timing.attempts => {
                    self.wait_for_resource(kind, id).await?;
                    self.wait_for_referenced(body).await?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits for the running actions of the networks a body refers to: attaching anything to a
    /// network locks the network, so concurrent attaches (or one an interrupted run left
    /// running) lock each other out for a moment.
    async fn wait_for_referenced(&self, body: &Json) -> Result<(), CloudError> {
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
    async fn wait_for_resource(&self, kind: Kind, id: u64) -> Result<(), CloudError> {
        let path = format!("/{}/{id}/actions", kind.path());
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
            tokio::time::sleep(self.backoff(0)).await;
        }
        self.wait(&running).await
    }

    pub async fn get(&self, kind: Kind, id: u64) -> Result<Json, CloudError> {
        let path = format!("/{}/{id}", kind.path());
        let answer = self.call(Method::GET, &path, &[], None).await?;
        Ok(answer[kind.singular()].clone())
    }

    /// Deletes a resource; a resource already gone counts as deleted.
    pub async fn delete(&self, kind: Kind, id: u64) -> Result<Vec<u64>, CloudError> {
        let path = format!("/{}/{id}", kind.path());
        match self.call(Method::DELETE, &path, &[], None).await {
            Ok(answer) => Ok(action_ids(&answer)),
            Err(e) if e.code() == Some("not_found") => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Waits until every action has succeeded; an action that fails is an error.
    pub async fn wait(&self, ids: &[u64]) -> Result<(), CloudError> {
        let mut running: Vec<u64> = ids.to_vec();
        while !running.is_empty() {
            let mut still = Vec::new();
            for chunk in running.chunks(25) {
                let query: Vec<(String, String)> = chunk
                    .iter()
                    .map(|id| ("id".to_owned(), id.to_string()))
                    .collect();
                let answer = self.call(Method::GET, "/actions", &query, None).await?;
                for action in answer["actions"].as_array().into_iter().flatten() {
                    let id = action["id"].as_u64().unwrap_or_default();
                    match action["status"].as_str() {
                        Some("success") => {}
                        Some("error") => {
                            return Err(CloudError::Action {
                                id,
                                command: action["command"].as_str().unwrap_or("?").to_owned(),
                                code: action["error"]["code"].as_str().unwrap_or("?").to_owned(),
                                message: action["error"]["message"]
                                    .as_str()
                                    .unwrap_or("")
                                    .to_owned(),
                            });
                        }
                        _ => still.push(id),
                    }
                }
            }
            running = still;
            if !running.is_empty() {
                tokio::time::sleep(self.timing.poll).await;
            }
        }
        Ok(())
    }
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

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

/// Two OpenSSH public keys are the same key when type and key data match (comments differ).
fn same_key(a: &str, b: &str) -> bool {
    a.split_whitespace()
        .take(2)
        .eq(b.split_whitespace().take(2))
}

fn observed(kind: Kind, raw: Json) -> Observed {
    let labels: BTreeMap<String, String> = raw["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    Observed {
        kind,
        id: raw["id"].as_u64().unwrap_or_default(),
        name: raw["name"].as_str().unwrap_or_default().to_owned(),
        labels,
        raw,
    }
}
