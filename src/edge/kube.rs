//! The Kubernetes client of bootstrap's cluster half and `status`, on kube-rs: the kubeconfig
//! is loaded by `kube::config` (its current context; tokens, client certificates, exec plugins,
//! `tls-server-name`), objects of the few kinds in `bootstrap::cluster` are read and
//! server-side applied as dynamic objects (field manager `railyard`, forced), and waits are
//! watches (`kube/watch.rs`), never fixed-interval polls.
//!
//! kube's own retry layer is off: answers of 429 and 5xx and failed connections are retried by
//! the shared policy (`edge/retry.rs`; a Status' `retryAfterSeconds` is honoured), as for every
//! other network client: a fresh k3s server restarts its API server while it installs its
//! manifests. Messages name the operation and the server's reason, never a request body
//! (Secrets travel in them).

mod watch;

use std::time::Duration;

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value as Json;

use crate::bootstrap::cluster::{self, ApiKind, ObjectError};
use crate::edge::retry::{Policy, Retry, ServerPause, Transient};

pub use watch::WatchError;

/// The field manager railyard's applies are recorded under.
const FIELD_MANAGER: &str = "railyard";

/// The longest a request waits for the server's next bytes.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("the kubeconfig is unusable: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the Kubernetes API at `{server}` to {what}: {reason}")]
    Transport {
        server: String,
        what: String,
        reason: String,
    },
    #[error("the Kubernetes API refused to {what}: {code}: {message}")]
    Api {
        what: String,
        code: u16,
        message: String,
        /// The Status' `details.retryAfterSeconds`, when the server sent one.
        retry_after: Option<u64>,
    },
    #[error("the Kubernetes API answered {what} with something unexpected: {reason}")]
    Decode { what: String, reason: String },
    #[error("the kubeconfig's credentials cannot be obtained to {what}: {reason}")]
    Credentials { what: String, reason: String },
    #[error(transparent)]
    Object(#[from] ObjectError),
}

impl KubeError {
    /// The server could not be reached or refused: not a problem of the kubeconfig or of the
    /// object railyard sent.
    pub fn is_network(&self) -> bool {
        matches!(self, KubeError::Transport { .. } | KubeError::Api { .. })
    }
}

impl Transient for KubeError {
    fn is_transient(&self) -> bool {
        match self {
            KubeError::Transport { .. } => true,
            KubeError::Api { code, .. } => matches!(*code, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    fn server_pause(&self) -> Option<ServerPause> {
        match self {
            KubeError::Api {
                retry_after: Some(seconds),
                ..
            } => Some(ServerPause::After(Duration::from_secs(*seconds))),
            _ => None,
        }
    }
}

/// The cluster's retry policy: a restarting API server is back within seconds, so fewer
/// attempts and a lower cap than the cloud's.
fn policy(base: Duration) -> Policy {
    Policy {
        base,
        cap: base * 16,
        attempts: 5,
        pause_cap: base * 16,
    }
}

/// The error of one operation (`what`, e.g. "get Secret `flux-system/sops-age`"), without the
/// request: kube's errors name neither a body nor a credential.
fn failed(server: &str, what: &str, error: kube::Error) -> KubeError {
    match error {
        kube::Error::Api(status) => KubeError::Api {
            what: what.to_owned(),
            code: status.code,
            message: if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            },
            retry_after: status
                .details
                .as_ref()
                .map(|d| u64::from(d.retry_after_seconds))
                .filter(|s| *s > 0),
        },
        kube::Error::SerdeError(e) => KubeError::Decode {
            what: what.to_owned(),
            reason: e.to_string(),
        },
        kube::Error::Auth(e) => KubeError::Credentials {
            what: what.to_owned(),
            reason: causes(&e),
        },
        other => KubeError::Transport {
            server: server.to_owned(),
            what: what.to_owned(),
            reason: causes(&other),
        },
    }
}

/// An error's cause chain on one line (refused, certificate, timeout), repeats dropped.
fn causes(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in std::iter::successors(Some(error), |e| e.source()) {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// A client for one cluster's API server.
pub struct Kube {
    client: kube::Client,
    server: String,
    retry: Retry,
}

impl Kube {
    /// A client for the current context of `kubeconfig_text`; `connect_to` (`HOST:PORT`)
    /// replaces the server's address, for tests whose cluster is a local stand-in: the
    /// certificate is still checked for the kubeconfig's `tls-server-name`, else its server's
    /// host. Needs a Tokio runtime (the client's connection pool runs on it).
    pub async fn connect(
        kubeconfig_text: &str,
        connect_to: Option<&str>,
        retry_base: Duration,
    ) -> Result<Kube, KubeError> {
        let kubeconfig = Kubeconfig::from_yaml(kubeconfig_text)
            .map_err(|e| KubeError::Kubeconfig(causes(&e)))?;
        Kube::with(kubeconfig, connect_to, retry_base).await
    }

    /// As `connect`, from the kubeconfig file at `path`: files it names (certificates, keys,
    /// a token file) are found relative to it, as kubectl finds them.
    pub async fn connect_file(
        path: &std::path::Path,
        connect_to: Option<&str>,
        retry_base: Duration,
    ) -> Result<Kube, KubeError> {
        let kubeconfig =
            Kubeconfig::read_from(path).map_err(|e| KubeError::Kubeconfig(causes(&e)))?;
        Kube::with(kubeconfig, connect_to, retry_base).await
    }

    async fn with(
        kubeconfig: Kubeconfig,
        connect_to: Option<&str>,
        retry_base: Duration,
    ) -> Result<Kube, KubeError> {
        let unusable = |e: &dyn std::error::Error| KubeError::Kubeconfig(causes(e));
        let mut config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| unusable(&e))?;
        if config.cluster_url.scheme_str() != Some("https") {
            return Err(KubeError::Kubeconfig(format!(
                "the server `{}` is not `https://`",
                config.cluster_url
            )));
        }
        if let Some(address) = connect_to {
            if config.tls_server_name.is_none() {
                config.tls_server_name = config
                    .cluster_url
                    .host()
                    .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned());
            }
            config.cluster_url = format!("https://{address}")
                .parse()
                .map_err(|_| KubeError::Kubeconfig(format!("`{address}` is not HOST:PORT")))?;
        }
        // Retries are the shared policy's, with its test hook and its pause across requests.
        config.default_retry = false;
        // As the cloud clients: a server that stops answering is a transport error to retry,
        // not a hang. Watches are asked to end before this (`watch.rs`).
        config.connect_timeout = Some(Duration::from_secs(10));
        config.read_timeout = Some(READ_TIMEOUT);
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let client = kube::Client::try_from(config).map_err(|e| unusable(&e))?;
        Ok(Kube {
            client,
            server,
            retry: Retry::new(policy(retry_base)),
        })
    }

    /// The server this client talks to.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Runs `call` under the retry policy; `what` names it in errors.
    async fn send<T>(
        &self,
        what: &str,
        call: impl AsyncFn() -> Result<T, kube::Error>,
    ) -> Result<T, KubeError> {
        self.retry
            .run(async |_| call().await.map_err(|e| failed(&self.server, what, e)))
            .await
    }

    /// The server's version; answered once the API server is up.
    pub async fn version(&self) -> Result<Option<Json>, KubeError> {
        let info = self
            .send("read the server's version", async || {
                self.client.apiserver_version().await
            })
            .await?;
        Ok(Some(serde_json::to_value(info).unwrap_or_default()))
    }

    /// The API group and version of `kind`; `None` until its API is installed.
    pub async fn group(&self, kind: &ApiKind) -> Result<Option<Json>, KubeError> {
        let what = format!("discover `{}`", kind.api_version);
        let found = self
            .send(&what, async || {
                self.client.list_api_group_resources(kind.api_version).await
            })
            .await;
        not_found_as_none(found)
            .map(|list| list.map(|l| serde_json::to_value(l).unwrap_or_default()))
    }

    /// One object; `None` when it does not exist.
    pub async fn object(
        &self,
        kind: &ApiKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Json>, KubeError> {
        let api = self.api(kind, namespace);
        let what = format!("get {} `{}`", kind.kind, shown(namespace, name));
        let found = self.send(&what, async || api.get_opt(name).await).await?;
        Ok(found.map(|object| with_type(kind, object)))
    }

    /// Every object of `kind`, across namespaces; `None` when the kind's API is not installed.
    pub async fn list(&self, kind: &ApiKind) -> Result<Option<Vec<Json>>, KubeError> {
        let api = self.api(kind, None);
        let what = format!("list `{}`", kind.plural);
        let found = self
            .send(&what, async || api.list(&ListParams::default()).await)
            .await;
        Ok(not_found_as_none(found)?.map(|list| {
            list.items
                .into_iter()
                .map(|object| with_type(kind, object))
                .collect()
        }))
    }

    /// Server-side apply (`force`, field manager `railyard`): creates or updates the object.
    pub async fn apply(&self, object: &Json) -> Result<Json, KubeError> {
        let found = cluster::identify(object)?;
        let api = self.api(found.kind, found.namespace);
        let what = format!(
            "apply {} `{}`",
            found.kind.kind,
            shown(found.namespace, found.name)
        );
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let applied = self
            .send(&what, async || {
                api.patch(found.name, &params, &Patch::Apply(object)).await
            })
            .await?;
        Ok(with_type(found.kind, applied))
    }

    /// The dynamic API of `kind`: in `namespace`, or across namespaces (and for cluster-wide
    /// kinds) when `None`. From the fixed table, not discovery: railyard touches these only.
    fn api(&self, kind: &ApiKind, namespace: Option<&str>) -> Api<DynamicObject> {
        let resource = resource(kind);
        match namespace.filter(|_| kind.namespaced) {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        }
    }
}

/// `kind` as kube's `ApiResource`.
fn resource(kind: &ApiKind) -> ApiResource {
    let (group, version) = kind
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", kind.api_version));
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.kind),
        kind.plural,
    )
}

/// A 404 (the kind's API is not installed) as `None`.
fn not_found_as_none<T>(found: Result<T, KubeError>) -> Result<Option<T>, KubeError> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(KubeError::Api { code: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The object as JSON with its `apiVersion` and `kind`: items of a list of a core kind carry
/// neither, and reports name objects by their kind.
fn with_type(kind: &ApiKind, object: DynamicObject) -> Json {
    let mut json = serde_json::to_value(object).unwrap_or_default();
    if let Some(map) = json.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| Json::String(kind.api_version.to_owned()));
        map.entry("kind")
            .or_insert_with(|| Json::String(kind.kind.to_owned()));
    }
    json
}

fn shown(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_follow_group_version_and_plural() {
        let cases = [
            (resource(&cluster::SECRET), ("", "v1", "v1", "secrets")),
            (
                resource(&cluster::KUSTOMIZATION),
                (
                    "kustomize.toolkit.fluxcd.io",
                    "v1",
                    "kustomize.toolkit.fluxcd.io/v1",
                    "kustomizations",
                ),
            ),
            (
                resource(&cluster::HELM_RELEASE),
                (
                    "helm.toolkit.fluxcd.io",
                    "v2",
                    "helm.toolkit.fluxcd.io/v2",
                    "helmreleases",
                ),
            ),
        ];
        for (resource, (group, version, api_version, plural)) in cases {
            assert_eq!(resource.group, group);
            assert_eq!(resource.version, version);
            assert_eq!(resource.api_version, api_version);
            assert_eq!(resource.plural, plural);
        }
    }

    #[test]
    fn only_overloaded_or_unreachable_is_transient() {
        let api = |code| KubeError::Api {
            what: "x".to_owned(),
            code,
            message: String::new(),
            retry_after: Some(3),
        };
        for (error, transient) in [
            (api(503), true),
            (api(429), true),
            (api(404), false),
            (api(403), false),
            (KubeError::Kubeconfig("no context".to_owned()), false),
        ] {
            assert_eq!(error.is_transient(), transient, "{error}");
        }
        assert!(matches!(
            api(429).server_pause(),
            Some(ServerPause::After(d)) if d == Duration::from_secs(3)
        ));
    }
}
