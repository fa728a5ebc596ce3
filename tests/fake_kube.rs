//! A small stateful fake of the Kubernetes API server of a k3s cluster with Flux, on
//! 127.0.0.1 over TLS with client-certificate authentication, for tests of `bootstrap` and
//! `status`. Every request is recorded.
//!
//! Why it remains beside the real API server (`tests/kubeapi/`, used by
//! `oracles::kube_api` and `oracles::kube_client`): only here can a test inject what a real
//! server will not produce on demand, and replay it from a seed: every Nth request answered 503,
//! Flux installed only after some looks, Kustomizations that stay Progressing or fail, and
//! exactly countable requests between which the seeded fault runs (`bootstrap::twenty_seeded_runs`)
//! kill the binary. Everything a real server can show (that the objects are accepted, what
//! kube-rs sends and reads) is checked against the real one.
//!
//! Start it with `FakeKube::start_in_background(faults)` (a thread with its own runtime) and
//! point the client at `fake.address()` with the credentials of `fake.kubeconfig()`.
//!
//! What it models:
//! - TLS from a CA made at start: a server certificate for IP 127.0.0.1 and DNS `localhost`,
//!   a client certificate (CN `system:admin`, O `system:masters`); the server requires a
//!   client certificate that chains to the CA. ALPN offers `h2` and `http/1.1`.
//! - A kubeconfig shaped like k3s' `/etc/rancher/k3s/k3s.yaml` (server
//!   `https://127.0.0.1:6443`, not the fake's port), the client key in SEC1 PEM
//!   (`EC PRIVATE KEY`) and the client certificate followed by the CA, as k3s writes them.
//! - `GET /version`, `/api`, `/apis`, and discovery (`APIResourceList`) of `/api/v1` and the
//!   Flux groups; the kinds Namespace, Node, Secret (core v1), GitRepository and
//!   HelmRepository (`source.toolkit.fluxcd.io/v1`), Kustomization
//!   (`kustomize.toolkit.fluxcd.io/v1`), HelmRelease (`helm.toolkit.fluxcd.io/v2`): GET of one
//!   object, LIST in a namespace and across namespaces (items of core kinds without
//!   `apiVersion`/`kind`, as the real server answers), PATCH with server-side apply.
//! - Errors as `Status` objects with the real reasons and messages (NotFound, BadRequest,
//!   UnsupportedMediaType, Invalid, MethodNotAllowed, ServiceUnavailable).
//! - Flux installed by k3s' HelmChart after a while (`KubeFaults::flux_installed_after`):
//!   until then its discovery, its kinds and namespace `flux-system` are not found.
//! - Simulated source- and kustomize-controllers that advance one step per GET or LIST of
//!   kustomizations, gitrepositories or helmreleases (never with time): GitRepositories get an
//!   artifact at `set_revision`'s commit; Kustomizations wait for their source, for their
//!   `dependsOn` (`DependencyNotReady`) and for `ready_after` steps (`Progressing`), then turn
//!   Ready (or fail, `ReconciliationFailed`); when the root `flux-system/flux-system` turns
//!   Ready it applies the `set_children` objects.
//! - Watches of a collection (`watch=true`, `resourceVersion`, `allowWatchBookmarks`), as kube's
//!   watcher sends them after its list, written from the API documentation (`watch.rs`); a
//!   watch request moves the controllers one step too.
//!
//! Where it is simpler than a real API server (each a place a client bug could hide):
//! - One CA signs both the server and the client certificates (k3s has two CAs and an
//!   intermediate for clients); the CA's key is not kept.
//! - Server-side apply parses only the JSON form of the body (JSON is YAML); it replaces the
//!   top-level fields the apply sets, and `metadata.labels`/`annotations` if set, and keeps
//!   fields the apply leaves out (a real apply removes those its field manager set before).
//!   No `managedFields`, no conflicts between field managers (`force` is accepted and
//!   ignored), no `resourceVersion` preconditions. `dryRun` is refused with 400.
//! - Only apply patches: other PATCH content types (merge, JSON, strategic) answer 415. No
//!   POST, PUT, DELETE (405), no watch of a single object (405), no label or field selectors
//!   (400), `limit` is ignored (as a server may), no subresources (`/status`: 404). Each
//!   watch ends soon, with the object's latest state only (see `watch.rs`).
//! - Status is ignored in applies; `generation` exists for the Flux kinds only (as for the
//!   real core kinds Namespace, Secret and Node, which have none) and bumps when anything but
//!   metadata and status changes; an apply that changes nothing keeps the `resourceVersion`.
//! - Times are fixed: every `creationTimestamp` is `2025-01-01T00:00:00Z`; condition times
//!   are that plus one second per controller step.
//! - Namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease` exist from the
//!   start, no Nodes (`add` them). Namespaces are never deleted or terminating.
//! - Every GitRepository gets the same commit, under its `spec.ref.branch` (`master` if none);
//!   Kustomizations use their `sourceRef` GitRepository's artifact; HelmRepositories and
//!   HelmReleases are never reconciled. Objects stored with `add` are left as they are by the
//!   controllers. Children are applied without checking their namespace exists; they start
//!   with Ready=Unknown `Progressing`.
//! - Faults: the 503 fault answers before anything else (no step, no install progress).
mod api;
mod flux;
mod kinds;
mod pki;
mod state;
mod tests;
mod watch;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use self::state::State;

/// Faults and pacing; all off (and Flux installed, everything Ready at once) by default.
/// Every-Nth counters restart with `set_faults`.
#[derive(Clone, Debug, Default)]
pub(crate) struct KubeFaults {
    /// Every Nth request answers 503 with a Status body (0 = never).
    pub(crate) server_error_every: u32,
    /// How many discovery GETs of `/apis/source.toolkit.fluxcd.io/v1` or
    /// `/apis/kustomize.toolkit.fluxcd.io/v1` answer 404 before Flux counts as installed.
    /// Until installed: the Flux discovery paths, every Flux-kind path, and namespace
    /// `flux-system` answer 404 NotFound. Once installed, namespace `flux-system` exists.
    pub(crate) flux_installed_after: u32,
    /// How many reconcile steps a Kustomization stays `Progressing` before it turns Ready.
    pub(crate) ready_after: u32,
    /// A Kustomization name that never turns Ready: Ready=False, reason
    /// `ReconciliationFailed`, this message.
    pub(crate) failing: Option<(String, String)>,
}

/// One request as the fake received it, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct KubeRequest {
    pub(crate) method: String,
    /// The path as sent, e.g. `/api/v1/namespaces/flux-system/secrets/sops-age`.
    pub(crate) path: String,
    /// The raw query string (percent-encoded), empty if none.
    pub(crate) query: String,
    /// The `Content-Type` header, empty if none.
    pub(crate) content_type: String,
    /// The body as text (lossy UTF-8), empty if none.
    pub(crate) body: String,
    pub(crate) status: u16,
}

struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running fake. Dropping it (or `stop`) shuts the server down.
pub(crate) struct FakeKube {
    shared: Arc<Shared>,
    address: String,
    kubeconfig: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeKube {
    /// Serves from a thread of its own (with its own runtime); returns once it listens.
    pub(crate) fn start_in_background(faults: KubeFaults) -> FakeKube {
        let pki = pki::Pki::generate();
        let kubeconfig = pki.kubeconfig();
        let tls = Arc::new(pki.server_config());
        let shared = Arc::new(Shared(Mutex::new(State::new(faults))));
        let (ready, started) = std::sync::mpsc::channel();
        let (shutdown, stopped) = oneshot::channel();
        let served = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-kube".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind 127.0.0.1:0");
                    let address = listener.local_addr().expect("a local address");
                    ready.send(address.to_string()).expect("the starter waits");
                    serve(listener, served, tls, stopped).await;
                });
            })
            .expect("spawn the fake's thread");
        let address = started.recv().expect("the fake starts");
        FakeKube {
            shared,
            address,
            kubeconfig,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`, where it listens (TLS).
    pub(crate) fn address(&self) -> String {
        self.address.clone()
    }

    /// The kubeconfig k3s would write to `/etc/rancher/k3s/k3s.yaml`: cluster, user and
    /// context `default`, `server: https://127.0.0.1:6443` (k3s' address, not the fake's),
    /// the CA, the client certificate (then the CA) and its SEC1 key, base64 PEM.
    pub(crate) fn kubeconfig(&self) -> String {
        self.kubeconfig.clone()
    }

    /// Every request so far, in order.
    pub(crate) fn requests(&self) -> Vec<KubeRequest> {
        self.shared.lock().requests.clone()
    }

    /// The stored object at that API path, e.g.
    /// `/api/v1/namespaces/flux-system/secrets/sops-age`; None if there is none (or the path
    /// names no object).
    pub(crate) fn object(&self, path: &str) -> Option<Value> {
        self.shared.lock().object(path)
    }

    /// Stores an object as it is (status included), where its apiVersion, kind and metadata
    /// put it (namespace `default` if none is given); fills in uid, resourceVersion and
    /// creationTimestamp if missing. Not recorded; the simulated controllers leave it alone.
    /// Panics on an unknown kind or a missing name.
    pub(crate) fn add(&self, object: Value) {
        self.shared.lock().add(object);
    }

    /// The objects the root Kustomization `flux-system` applies each time it turns Ready
    /// (namespace `flux-system` if none is given). Panics on an unknown kind or a missing
    /// name.
    pub(crate) fn set_children(&self, objects: Vec<Value>) {
        self.shared.lock().set_children(objects);
    }

    /// The commit (40 hex digits) the simulated source-controller fetches from now on.
    pub(crate) fn set_revision(&self, sha: &str) {
        self.shared.lock().set_revision(sha);
    }

    /// New faults from the next request on.
    pub(crate) fn set_faults(&self, faults: KubeFaults) {
        self.shared.lock().set_faults(faults);
    }

    pub(crate) fn stop(self) {
        drop(self);
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until `stopped`; each one does the TLS handshake (a client without a
/// certificate of the CA fails it and is dropped), then HTTP/1.1 or HTTP/2.
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    tls: Arc<rustls::ServerConfig>,
    mut stopped: oneshot::Receiver<()>,
) {
    let app = Router::new().fallback(handle).with_state(shared);
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut stopped => return,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let service = TowerToHyperService::new(app);
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A watch's whole stream: the events there are (after `watch::HOLD` if there are none yet),
/// then a bookmark if asked for; then the fake ends it.
async fn watch_body(shared: &Shared, watch: &watch::Watch) -> Vec<u8> {
    let mut events = shared.lock().watch_events(watch);
    if events.len() == usize::from(watch.bookmarks) {
        tokio::time::sleep(watch::HOLD).await;
        events = shared.lock().watch_events(watch);
    }
    let mut bytes = Vec::new();
    for event in events {
        bytes.extend(serde_json::to_vec(&event).expect("JSON"));
        bytes.push(b'\n');
    }
    bytes
}

async fn handle(
    Extract(shared): Extract<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = api::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        body: &body,
    };
    let reply = shared.lock().serve(&request);
    let bytes = match &reply.watch {
        Some(watch) => watch_body(&shared, watch).await,
        None => serde_json::to_vec(&reply.body).expect("JSON"),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(reply.status).expect("a valid status");
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
