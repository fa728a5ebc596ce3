//! A thin, typed client for the parts of the Scaleway APIs that bootstrap uses: Instance
//! (servers, security groups, placement groups, flexible IPs, volumes, user-data), VPC v2
//! private networks, IPAM, IAM SSH keys and load balancers (cloud-apis.md §4).
//!
//! Every list is followed to its last page (`X-Total-Count` on the Instance API, `total_count`
//! on the newer ones); requests are retried by the shared policy (`edge/retry.rs`) on 429
//! (honouring `Retry-After`), 5xx and `transient_state`. Names are not unique on Scaleway and
//! `name` filters match substrings, so a resource is the site's when its tags carry the site
//! and its name matches exactly; a create whose answer was lost is looked up that way before
//! it is sent again (`create.rs`). Secrets travel only in the user-data `PATCH`
//! (`text/plain`), never in a create body; messages never include a request body.
//!
//! Scaleway's wire format stays in this module: `table.rs` (profile, zones), `wire.rs`
//! (tags, rules, facts), `resources.rs` (the neutral `Cloud` operations), `machines.rs` (a
//! server's steps and its deletion with what it leaves behind), `balancer.rs`.

mod balancer;
mod create;
mod error;
mod machines;
mod resources;
mod table;
mod wire;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

use crate::edge::cloud::Timing;
use crate::edge::http;
use crate::edge::retry::{Retry, ServerPause};

pub use error::ScalewayError;
pub use table::PROFILE;

/// Scaleway's API, the default base URL.
pub const DEFAULT_URL: &str = "https://api.scaleway.com";

/// The environment variable naming the project resources are created in.
pub const PROJECT_VARIABLE: &str = "SCW_DEFAULT_PROJECT_ID";

pub struct Scaleway {
    http: reqwest::Client,
    base: String,
    token: String,
    project: String,
    /// `fr-par-1`, from the site's location; `region` is `fr-par`.
    zone: String,
    region: String,
    retry: Retry,
    poll: Duration,
}

/// Which list style an API pages with.
#[derive(Clone, Copy)]
enum Paging {
    /// The Instance API: `per_page`, total in `X-Total-Count`.
    Instance,
    /// VPC, IPAM, IAM, load balancers: `page_size`, total in the body's `total_count`.
    Body,
}

/// A request body: JSON, or the raw user-data.
enum Payload<'a> {
    Json(&'a Json),
    Text(&'a str),
}

impl Scaleway {
    pub fn new(
        base: &str,
        token: &str,
        project: &str,
        location: &str,
        timing: Timing,
    ) -> Result<Scaleway, ScalewayError> {
        let (zone, region) = table::zone(location)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ScalewayError::Transport {
                method: "-".to_owned(),
                path: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Scaleway {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            project: project.to_owned(),
            zone,
            region,
            retry: Retry::new(timing.retry),
            poll: timing.poll,
        })
    }

    fn instance(&self, rest: &str) -> String {
        format!("/instance/v1/zones/{}/{rest}", self.zone)
    }

    fn vpc(&self, rest: &str) -> String {
        format!("/vpc/v2/regions/{}/{rest}", self.region)
    }

    fn ipam(&self) -> String {
        format!("/ipam/v1/regions/{}/ips", self.region)
    }

    fn lb(&self, rest: &str) -> String {
        format!("/lb/v1/zones/{}/{rest}", self.zone)
    }

    /// One HTTP exchange, no retry; the answer's JSON (`Null` when empty).
    async fn once(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Payload<'_>>,
    ) -> Result<(Json, Option<u64>), ScalewayError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("X-Auth-Token", &self.token)
            .query(query);
        match body {
            Some(Payload::Json(json)) => request = request.json(json),
            Some(Payload::Text(text)) => {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "text/plain")
                    .body(text.to_owned());
            }
            None => {}
        }
        let transport = |e: reqwest::Error| ScalewayError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            reason: http::transport_reason(e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let total = http::header_u64(&response, "x-total-count");
        let retry_after = http::header_u64(&response, "retry-after");
        let bytes = response.bytes().await.map_err(transport)?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.retry
                .pause(retry_after.map(|s| ServerPause::After(Duration::from_secs(s))));
        }
        if status.is_success() {
            if bytes.is_empty() {
                return Ok((Json::Null, total));
            }
            let json = serde_json::from_slice(&bytes).map_err(|e| ScalewayError::Decode {
                method: method.to_string(),
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            return Ok((json, total));
        }
        Err(error::from_answer(
            method,
            path,
            status.as_u16(),
            &bytes,
            retry_after,
        ))
    }

    /// A request retried while the answer is transient. Not for creates (see `create.rs`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Json, ScalewayError> {
        self.retry
            .run(async |_| {
                let payload = body.map(Payload::Json);
                Ok(self.once(&method, path, &[], payload).await?.0)
            })
            .await
    }

    /// A GET; `None` when Scaleway answers `not_found`.
    async fn find(&self, path: &str) -> Result<Option<Json>, ScalewayError> {
        match self.call(Method::GET, path, None).await {
            Ok(json) => Ok(Some(json)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A DELETE; one already gone counts as deleted.
    async fn remove(&self, path: &str) -> Result<(), ScalewayError> {
        match self.call(Method::DELETE, path, None).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Every item of the list at `path` (its key `root`) matching `query`, all pages.
    async fn list(
        &self,
        path: &str,
        root: &str,
        query: &[(&str, String)],
        paging: Paging,
    ) -> Result<Vec<Json>, ScalewayError> {
        let size_key = match paging {
            Paging::Instance => "per_page",
            Paging::Body => "page_size",
        };
        let mut all = Vec::new();
        for page in 1u64.. {
            let mut q: Vec<(String, String)> = query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            q.push((size_key.to_owned(), "100".to_owned()));
            q.push(("page".to_owned(), page.to_string()));
            let (answer, header_total) = self
                .retry
                .run(async |_| self.once(&Method::GET, path, &q, None).await)
                .await?;
            let items = answer[root]
                .as_array()
                .ok_or_else(|| ScalewayError::Decode {
                    method: "GET".to_owned(),
                    path: path.to_owned(),
                    reason: format!("no `{root}` list"),
                })?;
            let total = match paging {
                Paging::Instance => header_total,
                Paging::Body => answer["total_count"].as_u64(),
            };
            let empty = items.is_empty();
            all.extend(items.iter().cloned());
            // Without a total, a short page is the last one.
            let done = match total {
                Some(total) => all.len() as u64 >= total,
                None => empty,
            };
            if done || empty {
                break;
            }
        }
        Ok(all)
    }

    /// Waits until the JSON at `path` (under `root`) has `field` equal to `want`, polling at
    /// the client's interval, at most ten minutes.
    async fn wait_for(
        &self,
        path: &str,
        root: &str,
        field: &str,
        want: &str,
    ) -> Result<Json, ScalewayError> {
        let deadline = self.retry.now() + Duration::from_secs(600);
        loop {
            let answer = self.call(Method::GET, path, None).await?;
            let value = if root.is_empty() {
                answer
            } else {
                answer[root].clone()
            };
            let now = value[field].as_str().unwrap_or_default().to_owned();
            if now == want {
                return Ok(value);
            }
            if matches!(now.as_str(), "error" | "locked") || self.retry.now() > deadline {
                return Err(ScalewayError::Stuck {
                    path: path.to_owned(),
                    state: now,
                    want: want.to_owned(),
                });
            }
            self.retry.sleep(self.poll).await;
        }
    }
}
