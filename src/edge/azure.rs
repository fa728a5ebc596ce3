//! A thin, typed client for the parts of Azure Resource Manager that bootstrap uses (resource
//! groups, virtual networks, NSGs, public IPs, NAT gateways, NICs, SSH public keys, VMs and
//! Standard load balancers; cloud-apis.md §5), signed in as a service principal.
//!
//! The token comes from the identity endpoint by client credentials and is fetched again a
//! few minutes before it expires (or when ARM says it has); it is sent only in the
//! `Authorization` header and appears in no message. Every create is a PUT of the whole body,
//! which Azure makes idempotent, so a create whose answer was lost is simply sent again; a
//! PUT or DELETE that starts a long-running operation is followed through
//! `Azure-AsyncOperation` (else `Location`), waiting `Retry-After` between polls; 429s pause
//! every request of the client for their `Retry-After`. Lists follow `nextLink`. Links are
//! followed only on the API's own origin, so the token never leaves for another host.
//!
//! Azure's wire format stays in this module: `table.rs` (profile, api-versions, names),
//! `wire.rs` (bodies and facts), `resources.rs` (the neutral `Cloud` operations),
//! `teardown.rs` (what `destroy` clears beyond each kind, and the group), `error.rs`.

mod error;
mod resources;
mod table;
mod teardown;
mod wire;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

use crate::core::machines::Machines;
use crate::core::machines::azure::Azure as Block;
use crate::edge::cloud::Timing;
use crate::edge::http;
use crate::edge::retry::{Retry, ServerPause};

pub use error::AzureError;
use table::Type;
pub use table::{
    AUTHORITY_VARIABLE, CLIENT_VARIABLE, DEFAULT_AUTHORITY, DEFAULT_URL, PROFILE,
    SUBSCRIPTION_VARIABLE, TENANT_VARIABLE,
};

/// The service principal, from the environment as the Azure CLI and Terraform take it.
pub struct Principal {
    pub tenant: String,
    pub client_id: String,
    pub secret: String,
    pub subscription: String,
    /// The identity endpoint; `AZURE_AUTHORITY_HOST` overrides it (tests point it at a fake).
    pub authority: String,
}

impl Principal {
    /// The principal whose secret is `secret`, the rest from the environment.
    pub fn from_env(secret: &str) -> Result<Principal, AzureError> {
        let var = |name: &'static str, what: &'static str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(AzureError::Missing(name, what))
        };
        Ok(Principal {
            tenant: var(TENANT_VARIABLE, "tenant (directory) id")?,
            client_id: var(CLIENT_VARIABLE, "application (client) id")?,
            subscription: var(SUBSCRIPTION_VARIABLE, "subscription id")?,
            secret: secret.to_owned(),
            authority: std::env::var(AUTHORITY_VARIABLE)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_AUTHORITY.to_owned()),
        })
    }
}

/// A token and when to fetch the next one.
struct Token {
    value: String,
    renew_at: Instant,
}

pub struct AzureClient {
    http: reqwest::Client,
    base: String,
    principal: Principal,
    token: tokio::sync::Mutex<Option<Token>>,
    /// The site's `azure` block, the machines' location and the site's SSH keys.
    block: Block,
    site: String,
    network: crate::core::machines::Network,
    location: String,
    ssh_keys: Vec<String>,
    /// The digest of each machine's rendered user-data, by name, kept in a tag of its VM.
    user_data: std::collections::BTreeMap<String, String>,
    /// The resource group exists (made or found once per run).
    group_ready: tokio::sync::OnceCell<()>,
    /// Serialises the virtual network's PUTs: the network and the firewall both write it.
    network_lock: tokio::sync::Mutex<()>,
    retry: Retry,
    poll: Duration,
}

/// What one exchange answered: status, JSON body (`Null` when empty), and the async headers.
struct Answer {
    status: StatusCode,
    json: Json,
    operation: Option<String>,
    retry_after: Option<u64>,
}

/// How long a long-running operation may take before railyard gives up on it.
const OPERATION_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Fetch a new token this long before the old one expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);

impl AzureClient {
    pub fn new(
        base: &str,
        principal: Principal,
        machines: &Machines,
        user_data: std::collections::BTreeMap<String, String>,
        timing: Timing,
    ) -> Result<AzureClient, AzureError> {
        let block = machines.azure.clone().ok_or(AzureError::NoBlock)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| AzureError::Transport {
                method: "-".to_owned(),
                path: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(AzureClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            principal,
            token: tokio::sync::Mutex::new(None),
            block,
            site: machines.site.clone(),
            network: machines.network.clone(),
            location: machines.location.clone(),
            ssh_keys: machines.ssh_keys.clone(),
            user_data,
            group_ready: tokio::sync::OnceCell::new(),
            network_lock: tokio::sync::Mutex::new(()),
            retry: Retry::new(timing.retry),
            poll: timing.poll,
        })
    }

    /// `/subscriptions/{s}/resourceGroups/{rg}`.
    fn group_path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.principal.subscription, self.block.resource_group
        )
    }

    /// A resource's path in the site's group.
    fn path(&self, kind: Type, name: &str) -> String {
        format!("{}/providers/{}/{name}", self.group_path(), kind.name)
    }

    /// A bearer token, fetched when there is none or it is about to expire.
    async fn bearer(&self) -> Result<String, AzureError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.principal.authority.trim_end_matches('/'),
            self.principal.tenant
        );
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.principal.client_id.as_str()),
            ("client_secret", self.principal.secret.as_str()),
            ("scope", table::SCOPE),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let response = self
            .http
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| AzureError::Token {
                status: 0,
                reason: http::transport_reason(e),
            })?;
        let status = response.status().as_u16();
        let body: Json = response.json().await.unwrap_or(Json::Null);
        let (Some(value), true) = (body["access_token"].as_str(), status == 200) else {
            // The endpoint's `error` and `error_description` are its own words.
            let reason = format!(
                "{}: {}",
                body["error"].as_str().unwrap_or("no error code"),
                body["error_description"]
                    .as_str()
                    .unwrap_or("no description")
            );
            return Err(AzureError::Token { status, reason });
        };
        let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600));
        let renew_at = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN.min(lifetime / 2));
        *held = Some(Token {
            value: value.to_owned(),
            renew_at,
        });
        Ok(value.to_owned())
    }

    /// The URL of `target`: a path (with its api-version) or a link Azure answered, which must
    /// be on the API's own origin.
    fn url(&self, target: &str, version: Option<&str>) -> Result<String, AzureError> {
        if target.starts_with('/') {
            let join = if target.contains('?') { '&' } else { '?' };
            let version = version.map_or(String::new(), |v| format!("{join}api-version={v}"));
            return Ok(format!("{}{target}{version}", self.base));
        }
        let origin_ok = target
            .strip_prefix(&self.base)
            .is_some_and(|rest| rest.starts_with('/'));
        if origin_ok {
            Ok(target.to_owned())
        } else {
            // Only the link's origin is named: its query may carry a signature.
            let origin: String = target.split('/').take(3).collect::<Vec<_>>().join("/");
            Err(AzureError::ForeignLink(origin))
        }
    }

    /// One HTTP exchange, no retry.
    async fn once(
        &self,
        method: &Method,
        target: &str,
        version: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Answer, AzureError> {
        let url = self.url(target, version)?;
        let shown = target.split('?').next().unwrap_or(target).to_owned();
        let mut request = self
            .http
            .request(method.clone(), url)
            .bearer_auth(self.bearer().await?);
        if let Some(json) = body {
            request = request.json(json);
        }
        let transport = |e: reqwest::Error| AzureError::Transport {
            method: method.to_string(),
            path: shown.clone(),
            reason: http::transport_reason(e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = http::header_u64(&response, "retry-after");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let operation = header("azure-asyncoperation").or_else(|| header("location"));
        let response_headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport)?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.retry
                .pause(retry_after.map(|s| ServerPause::After(Duration::from_secs(s))));
        } else if empty_bucket(&response_headers) {
            // cloud-apis.md §5: the bucket refills at least a token a second; waiting that out
            // spares the next request its 429.
            self.retry
                .pause(Some(ServerPause::After(Duration::from_secs(1))));
        }
        if status == StatusCode::UNAUTHORIZED {
            // An expired token is fetched anew on the next attempt.
            *self.token.lock().await = None;
        }
        if !status.is_success() {
            let request = format!("{method} {shown}");
            return Err(error::from_answer(
                request,
                status.as_u16(),
                &bytes,
                retry_after,
            ));
        }
        let json = if bytes.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| AzureError::Decode {
                method: method.to_string(),
                path: shown.clone(),
                reason: e.to_string(),
            })?
        };
        Ok(Answer {
            status,
            json,
            operation,
            retry_after,
        })
    }

    /// A request retried while the answer is transient.
    async fn call(
        &self,
        method: Method,
        target: &str,
        version: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Answer, AzureError> {
        self.retry
            .run(async |_| self.once(&method, target, version, body).await)
            .await
    }

    /// A GET; `None` when Azure answers 404.
    async fn find(&self, path: &str, version: &str) -> Result<Option<Json>, AzureError> {
        match self.call(Method::GET, path, Some(version), None).await {
            Ok(answer) => Ok(Some(answer.json)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of a list, following `nextLink`.
    async fn list(&self, path: &str, version: &str) -> Result<Vec<Json>, AzureError> {
        let mut items = Vec::new();
        let mut next = Some((path.to_owned(), Some(version)));
        while let Some((target, version)) = next.take() {
            let page = match self.call(Method::GET, &target, version, None).await {
                Ok(answer) => answer.json,
                Err(e) if e.is_not_found() => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            items.extend(page["value"].as_array().cloned().unwrap_or_default());
            next = page["nextLink"].as_str().map(|l| (l.to_owned(), None));
        }
        Ok(items)
    }

    /// PUTs `body` and waits until the resource has settled; a resource busy with another
    /// operation is waited for, then sent the same body again (Azure's own convergence).
    async fn put(&self, kind: Type, path: &str, body: &Json) -> Result<Json, AzureError> {
        let deadline = Instant::now() + OPERATION_DEADLINE;
        loop {
            match self
                .call(Method::PUT, path, Some(kind.api_version), Some(body))
                .await
            {
                Ok(answer) => return self.settled(kind, path, answer, deadline).await,
                Err(e) if e.code() == Some("AnotherOperationInProgress") => {
                    self.wait_terminal(kind, path, deadline).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A DELETE followed to its end; one already gone counts as deleted.
    async fn remove(&self, kind: Type, path: &str) -> Result<(), AzureError> {
        let deadline = Instant::now() + OPERATION_DEADLINE;
        loop {
            match self
                .call(Method::DELETE, path, Some(kind.api_version), None)
                .await
            {
                Ok(answer) => {
                    if let Some(link) = &answer.operation {
                        self.follow(path, link, answer.retry_after, deadline)
                            .await?;
                    }
                    return Ok(());
                }
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if e.code() == Some("AnotherOperationInProgress") => {
                    // Another delete of it may be what runs: gone then is deleted.
                    match self.wait_terminal(kind, path, deadline).await {
                        Err(e) if e.is_not_found() => return Ok(()),
                        other => other.map(|_| ())?,
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The resource once the operation a PUT started has ended.
    async fn settled(
        &self,
        kind: Type,
        path: &str,
        answer: Answer,
        deadline: Instant,
    ) -> Result<Json, AzureError> {
        if wire::terminal(&answer.json) && answer.status == StatusCode::OK {
            return Ok(answer.json);
        }
        if let Some(link) = &answer.operation {
            self.follow(path, link, answer.retry_after, deadline)
                .await?;
        }
        self.wait_terminal(kind, path, deadline).await
    }

    /// Polls an operation's status link until it ends; `Failed` and `Canceled` are errors.
    async fn follow(
        &self,
        path: &str,
        link: &str,
        mut retry_after: Option<u64>,
        deadline: Instant,
    ) -> Result<(), AzureError> {
        loop {
            self.pause(retry_after).await;
            let answer = self.call(Method::GET, link, None, None).await?;
            // A `Location` link answers 202 until done; an `Azure-AsyncOperation` one a status.
            let status = answer.json["status"].as_str().map(str::to_owned);
            match status.as_deref() {
                Some("Succeeded") | None if answer.status != StatusCode::ACCEPTED => return Ok(()),
                Some(end @ ("Failed" | "Canceled")) => {
                    let error = &answer.json["error"];
                    return Err(AzureError::Failed {
                        path: path.to_owned(),
                        status: end.to_owned(),
                        code: error["code"].as_str().unwrap_or("no code").to_owned(),
                        message: error["message"].as_str().unwrap_or("no message").to_owned(),
                    });
                }
                _ => {}
            }
            if Instant::now() > deadline {
                return Err(AzureError::Stuck {
                    path: path.to_owned(),
                    state: status.unwrap_or_else(|| "InProgress".to_owned()),
                    seconds: OPERATION_DEADLINE.as_secs(),
                });
            }
            retry_after = answer.retry_after;
        }
    }

    /// GETs a resource until its `provisioningState` is terminal.
    async fn wait_terminal(
        &self,
        kind: Type,
        path: &str,
        deadline: Instant,
    ) -> Result<Json, AzureError> {
        loop {
            let answer = self
                .call(Method::GET, path, Some(kind.api_version), None)
                .await?;
            if wire::terminal(&answer.json) {
                return Ok(answer.json);
            }
            if Instant::now() > deadline {
                return Err(AzureError::Stuck {
                    path: path.to_owned(),
                    state: wire::state(&answer.json).to_owned(),
                    seconds: OPERATION_DEADLINE.as_secs(),
                });
            }
            self.pause(answer.retry_after).await;
        }
    }

    /// Waits `Retry-After` seconds, at least the client's poll interval.
    async fn pause(&self, retry_after: Option<u64>) {
        let asked = Duration::from_secs(retry_after.unwrap_or(0));
        self.retry.sleep(asked.max(self.poll)).await;
    }
}

/// `$filter=location eq '<location>'`, encoded, for lists that filter by location.
fn location_filter(location: &str) -> String {
    format!(
        "$filter={}",
        form_encode(&format!("location eq '{location}'"))
    )
}

/// Whether an answer says a throttling bucket of the subscription is empty
/// (`x-ms-ratelimit-remaining-subscription-reads|writes|deletes: 0`).
fn empty_bucket(headers: &reqwest::header::HeaderMap) -> bool {
    ["reads", "writes", "deletes"].iter().any(|bucket| {
        headers
            .get(format!("x-ms-ratelimit-remaining-subscription-{bucket}"))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
    })
}

/// A form value percent-encoded (`application/x-www-form-urlencoded`).
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            form_encode("https://management.azure.com/.default"),
            "https%3A%2F%2Fmanagement.azure.com%2F.default"
        );
        assert_eq!(form_encode("a+b c&d=e~"), "a%2Bb%20c%26d%3De~");
    }
}
