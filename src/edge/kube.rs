//! A thin Kubernetes API client for bootstrap and `status`: GET, LIST and server-side apply of
//! the few kinds in `bootstrap::cluster`, authenticated as the kubeconfig says (client certificate
//! or bearer token, the cluster's own CA), over rustls with ring.
//!
//! Answers of 429 and 5xx and failed connections are retried a few times by the shared retry
//! policy (`edge/retry.rs`; a 429's `Retry-After` is honoured): a fresh k3s server restarts its
//! API server while it installs its manifests. Messages name
//! the path and the server's reason, never a request body (Secrets travel in them).

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value as Json;

use crate::bootstrap::cluster::{self, ApiKind, ObjectError};
use crate::bootstrap::kubeconfig::Credentials;
use crate::edge::retry::{Policy, Retry, ServerPause, Transient};

/// The field manager railyard's applies are recorded under.
const FIELD_MANAGER: &str = "railyard";

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("the kubeconfig's credentials are unusable: {0}")]
    Credentials(String),
    #[error("cannot reach the Kubernetes API at `{server}` for `{method} {path}`: {reason}")]
    Transport {
        server: String,
        method: String,
        path: String,
        reason: String,
    },
    #[error("the Kubernetes API refused `{method} {path}`: {status}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        message: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<u64>,
    },
    #[error("the Kubernetes API answered `{method} {path}` with something unexpected: {reason}")]
    Decode {
        method: String,
        path: String,
        reason: String,
    },
    #[error(transparent)]
    Object(#[from] ObjectError),
}

impl Transient for KubeError {
    fn is_transient(&self) -> bool {
        match self {
            KubeError::Transport { .. } => true,
            KubeError::Api { status, .. } => matches!(*status, 429 | 500 | 502 | 503 | 504),
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

/// A connection to one cluster's API server.
pub struct Kube {
    http: reqwest::Client,
    server: String,
    token: Option<String>,
    retry: Retry,
}

impl Kube {
    /// A client for `credentials`; `connect_to` (`HOST:PORT`) replaces the server's address,
    /// for tests whose cluster is a local fake.
    pub fn new(
        credentials: &Credentials,
        connect_to: Option<&str>,
        retry_base: Duration,
    ) -> Result<Kube, KubeError> {
        let bad = |why: &str| KubeError::Credentials(why.to_owned());
        let mut roots = rustls::RootCertStore::empty();
        let authority = credentials
            .certificate_authority
            .as_deref()
            .ok_or_else(|| bad("no `certificate-authority-data` to check the server with"))?;
        for cert in CertificateDer::pem_slice_iter(authority) {
            let cert = cert.map_err(|_| bad("`certificate-authority-data` is not PEM"))?;
            roots
                .add(cert)
                .map_err(|_| bad("`certificate-authority-data` holds an unusable certificate"))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // The name the server's certificate must carry: `tls-server-name` when the kubeconfig
        // has one (the API's private address, which k3s' `tls-san` holds, while the public
        // address of a load balancer in front of it does not), else the server's host.
        let url =
            reqwest::Url::parse(&credentials.server).map_err(|_| bad("the server is not a URL"))?;
        let host = url
            .host_str()
            .ok_or_else(|| bad("the server's URL has no host"))?;
        let name = credentials
            .tls_server_name
            .as_deref()
            .unwrap_or(host)
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let name = ServerName::try_from(name)
            .map_err(|_| bad("the server's name is neither a host name nor an address"))?;
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| KubeError::Credentials(e.to_string()))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| KubeError::Credentials(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NamedVerifier {
                inner: verifier,
                name,
            }));
        let mut config = match &credentials.client {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| bad("`client-certificate-data` is not PEM"))?;
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|_| bad("`client-key-data` is not a PEM private key"))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| KubeError::Credentials(e.to_string()))?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .user_agent(concat!("railyard/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .tls_backend_preconfigured(config)
            .build()
            .map_err(|e| KubeError::Credentials(e.to_string()))?;
        let mut server = credentials.server.trim_end_matches('/').to_owned();
        if let Some(address) = connect_to {
            server = format!("https://{address}");
        }
        Ok(Kube {
            http,
            server,
            token: credentials.token.clone(),
            retry: Retry::new(policy(retry_base)),
        })
    }

    /// The server this client talks to.
    pub fn server(&self) -> &str {
        &self.server
    }

    async fn once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Option<Json>, KubeError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.server))
            .header("Accept", "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .query(&[("fieldManager", FIELD_MANAGER), ("force", "true")])
                .header("Content-Type", "application/apply-patch+yaml")
                .body(body.to_string());
        }
        let transport = |e: reqwest::Error| KubeError::Transport {
            server: self.server.clone(),
            method: method.to_string(),
            path: path.to_owned(),
            // The error's source chain says why (refused, certificate, timeout).
            reason: std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": "),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let text = response.text().await.map_err(transport)?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let json: Result<Json, _> = serde_json::from_str(&text);
        if !status.is_success() {
            let message = json
                .ok()
                .and_then(|j| j["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
            return Err(KubeError::Api {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                message,
                retry_after,
            });
        }
        json.map(Some).map_err(|e| KubeError::Decode {
            method: method.to_string(),
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Option<Json>, KubeError> {
        self.retry
            .run(async |_| self.once(&method, path, body).await)
            .await
    }

    /// The object or list at `path`; `None` when the server has no such thing (404).
    async fn get(&self, path: &str) -> Result<Option<Json>, KubeError> {
        self.send(Method::GET, path, None).await
    }

    /// The server's version; answered once the API server is up.
    pub async fn version(&self) -> Result<Option<Json>, KubeError> {
        self.get("/version").await
    }

    /// The API group and version of `kind`; `None` until its API is installed.
    pub async fn group(&self, kind: &ApiKind) -> Result<Option<Json>, KubeError> {
        self.get(&group_path(kind)).await
    }

    /// One object; `None` when it does not exist.
    pub async fn object(
        &self,
        kind: &ApiKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Json>, KubeError> {
        self.get(&object_path(kind, namespace, name)).await
    }

    /// Every object of `kind`, across namespaces; `None` when the kind's API is not installed.
    pub async fn list(&self, kind: &ApiKind) -> Result<Option<Vec<Json>>, KubeError> {
        let Some(list) = self.get(&list_path(kind)).await? else {
            return Ok(None);
        };
        let items = list["items"].as_array().cloned().unwrap_or_default();
        // Items of a list carry no kind; the report names them by it.
        let kind = list["kind"].as_str().and_then(|k| k.strip_suffix("List"));
        Ok(Some(
            items
                .into_iter()
                .map(|mut item| {
                    if let (Some(kind), Some(object)) = (kind, item.as_object_mut()) {
                        object
                            .entry("kind")
                            .or_insert_with(|| Json::String(kind.to_owned()));
                    }
                    item
                })
                .collect(),
        ))
    }

    /// Server-side apply (`force`, field manager `railyard`): creates or updates the object.
    pub async fn apply(&self, object: &Json) -> Result<Json, KubeError> {
        let found = cluster::identify(object)?;
        let path = object_path(found.kind, found.namespace, found.name);
        self.send(Method::PATCH, &path, Some(object))
            .await?
            .ok_or_else(|| KubeError::Api {
                method: "PATCH".to_owned(),
                path,
                status: 404,
                message: "not found (is the namespace or the kind's API missing?)".to_owned(),
                retry_after: None,
            })
    }
}

/// `/api/v1` or `/apis/GROUP/VERSION`.
fn group_path(kind: &ApiKind) -> String {
    if kind.api_version.contains('/') {
        format!("/apis/{}", kind.api_version)
    } else {
        format!("/api/{}", kind.api_version)
    }
}

/// Every object of the kind, across namespaces.
fn list_path(kind: &ApiKind) -> String {
    format!("{}/{}", group_path(kind), kind.plural)
}

fn object_path(kind: &ApiKind, namespace: Option<&str>, name: &str) -> String {
    match namespace.filter(|_| kind.namespaced) {
        Some(ns) => format!(
            "{}/namespaces/{ns}/{}/{name}",
            group_path(kind),
            kind.plural
        ),
        None => format!("{}/{}/{name}", group_path(kind), kind.plural),
    }
}

/// The standard WebPKI check against the cluster's CA, for a fixed name instead of the one
/// the connection was made to (kubeconfig's `tls-server-name`).
#[derive(Debug)]
struct NamedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NamedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_group_scope_and_plural() {
        let cases = [
            (
                object_path(&cluster::SECRET, Some("flux-system"), "s"),
                "/api/v1/namespaces/flux-system/secrets/s",
            ),
            (
                object_path(&cluster::KUSTOMIZATION, Some("ns"), "k"),
                "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/ns/kustomizations/k",
            ),
            (
                object_path(&cluster::NAMESPACE, Some("ignored"), "n"),
                "/api/v1/namespaces/n",
            ),
            (
                list_path(&cluster::KUSTOMIZATION),
                "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations",
            ),
            (group_path(&cluster::NODE), "/api/v1"),
        ];
        for (path, expected) in cases {
            assert_eq!(path, expected);
        }
    }
}
