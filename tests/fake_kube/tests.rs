//! Tests of the fake Kubernetes API server itself, over TLS with reqwest: authentication,
//! server-side apply and its refusals, Flux's installation and reconciliation, faults.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use super::{FakeKube, KubeFaults};

const KS: &str = "/apis/kustomize.toolkit.fluxcd.io/v1";
const ROOT: &str = "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";
const SOURCES: &str = "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories";
const SECRETS: &str = "/api/v1/namespaces/flux-system/secrets";

/// A base64 field of the kubeconfig, decoded.
fn kubeconfig_field(kubeconfig: &str, field: &str) -> Vec<u8> {
    let line = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{field}: ")))
        .unwrap_or_else(|| panic!("no {field} in {kubeconfig}"));
    STANDARD.decode(line).expect("base64")
}

/// A rustls client configuration on ring that trusts the kubeconfig's CA and, if
/// `certificate`, presents its client certificate and key; ALPN as given.
fn tls(kubeconfig: &str, certificate: bool, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let ca = kubeconfig_field(kubeconfig, "certificate-authority-data");
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.expect("a CA certificate")).expect("a root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots);
    let mut config = if certificate {
        let pem = kubeconfig_field(kubeconfig, "client-certificate-data");
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .expect("client certificates");
        let key = PrivateKeyDer::from_pem_slice(&kubeconfig_field(kubeconfig, "client-key-data"))
            .expect("a client key");
        builder
            .with_client_auth_cert(chain, key)
            .expect("the client certificate and key")
    } else {
        builder.with_no_client_auth()
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// An HTTPS client of the fake.
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// With the kubeconfig's client certificate, HTTP/1.1.
    fn new(fake: &FakeKube) -> Client {
        Client::with(fake, tls(&fake.kubeconfig(), true, &[b"http/1.1"]))
    }

    fn with(fake: &FakeKube, config: rustls::ClientConfig) -> Client {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .build()
            .expect("a reqwest client");
        Client {
            http,
            base: format!("https://{}", fake.address()),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(serde_json::to_vec(body).expect("JSON"));
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, "", None)
            .await
            .expect("an answer")
    }

    /// Server-side apply of `object` at `path` (the collection's path plus the name).
    async fn apply(&self, path: &str, object: &Value) -> (u16, Value) {
        let path = format!("{path}?fieldManager=railyard&force=true");
        self.send(
            Method::PATCH,
            &path,
            "application/apply-patch+yaml",
            Some(object),
        )
        .await
        .expect("an answer")
    }
}

fn reason(status: &Value) -> &str {
    status["reason"].as_str().unwrap_or("")
}

/// Each Kustomization's name and Ready condition's reason (`-` without one).
fn readiness(list: &Value) -> BTreeMap<String, String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let ready = item["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready")
                .map_or("-", |c| c["reason"].as_str().unwrap_or(""));
            (
                item["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                ready.to_owned(),
            )
        })
        .collect()
}

fn git_repository() -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {
            "interval": "1m",
            "url": "ssh://git@example.com/site.git",
            "ref": {"branch": "main"},
            "secretRef": {"name": "flux-system"},
        },
    })
}

fn kustomization(name: &str, depends_on: &[&str]) -> Value {
    let mut object = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": format!("./{name}"),
            "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
    });
    if !depends_on.is_empty() {
        let depends_on: Vec<Value> = depends_on.iter().map(|d| json!({"name": d})).collect();
        object["spec"]["dependsOn"] = json!(depends_on);
    }
    object
}

#[tokio::test]
async fn a_client_with_the_kubeconfigs_certificate_gets_the_version() {
    let fake = FakeKube::start_in_background(KubeFaults::default());
    let kubeconfig = fake.kubeconfig();
    for expected in [
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ",
        "    server: https://127.0.0.1:6443\n  name: default\n",
        "contexts:\n- context:\n    cluster: default\n    user: default\n  name: default\n",
        "current-context: default\nkind: Config\npreferences: {}\nusers:\n- name: default\n",
    ] {
        assert!(
            kubeconfig.contains(expected),
            "{expected:?} in {kubeconfig}"
        );
    }
    // railyard's own rewriting of k3s' kubeconfig takes it.
    let server = format!("https://{}", fake.address());
    let rewritten = railyard::bootstrap::kubeconfig::rewrite(&kubeconfig, "demo", &server, None)
        .expect("railyard reads the kubeconfig");
    assert!(
        rewritten.contains(&format!("server: {server}")),
        "{rewritten}"
    );
    let key = String::from_utf8(kubeconfig_field(&kubeconfig, "client-key-data")).expect("PEM");
    assert!(key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"), "{key}");
    // The client certificate, then the CA that signed it, as k3s bundles them.
    let bundle = kubeconfig_field(&kubeconfig, "client-certificate-data");
    let ca = kubeconfig_field(&kubeconfig, "certificate-authority-data");
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&bundle)
        .collect::<Result<_, _>>()
        .expect("certificates");
    assert_eq!(certificates.len(), 2);
    assert_eq!(
        Some(&certificates[1]),
        CertificateDer::pem_slice_iter(&ca)
            .next()
            .and_then(Result::ok)
            .as_ref()
    );

    let (status, version) = Client::new(&fake).get("/version").await;
    assert_eq!(status, 200, "{version}");
    assert_eq!(version["gitVersion"], "v1.36.1+k3s1");

    // Over HTTP/2 too, when the client offers it.
    let h2 = Client::with(&fake, tls(&kubeconfig, true, &[b"h2", b"http/1.1"]));
    let response = h2
        .http
        .get(format!("{}/version", h2.base))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status().as_u16(), 200);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| (r.method.as_str(), r.path.as_str(), r.status) == ("GET", "/version", 200)),
    );
    fake.stop();
}

/// The request failed because the server refused the handshake with a TLS alert.
#[track_caller]
fn assert_refused_by_the_server(answer: reqwest::Result<(u16, Value)>) {
    let error = answer.expect_err("no answer");
    let mut chain = format!("{error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(" <- {cause:?}"));
        source = cause.source();
    }
    assert!(chain.contains("AlertReceived"), "{chain}");
}

#[tokio::test]
async fn a_client_without_a_certificate_of_the_ca_fails_the_handshake() {
    let fake = FakeKube::start_in_background(KubeFaults::default());
    let other = FakeKube::start_in_background(KubeFaults::default());
    let anonymous = Client::with(&fake, tls(&fake.kubeconfig(), false, &[b"http/1.1"]));
    let error = anonymous.send(Method::GET, "/version", "", None).await;
    assert_refused_by_the_server(error);
    // A certificate of another CA (another fake's), with this fake's CA trusted.
    let chain = kubeconfig_field(&other.kubeconfig(), "client-certificate-data");
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key =
        PrivateKeyDer::from_pem_slice(&kubeconfig_field(&other.kubeconfig(), "client-key-data"))
            .expect("a key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let ca = kubeconfig_field(&fake.kubeconfig(), "certificate-authority-data");
    roots
        .add(CertificateDer::from_pem_slice(&ca).expect("the CA"))
        .expect("a root");
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("a client configuration");
    let error = Client::with(&fake, config)
        .send(Method::GET, "/version", "", None)
        .await;
    assert_refused_by_the_server(error);
    assert!(fake.requests().is_empty());
    // The certificate of the kubeconfig still works.
    assert_eq!(Client::new(&fake).get("/version").await.0, 200);
}

#[tokio::test]
async fn apply_creates_then_updates_and_bumps_generation_only_on_spec_changes() {
    let fake = FakeKube::start_in_background(KubeFaults::default());
    let client = Client::new(&fake);

    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "sops-age", "namespace": "flux-system"},
        "stringData": {"age.agekey": "AGE-SECRET-KEY-1TEST"},
    });
    let (status, created) = client.apply(&format!("{SECRETS}/sops-age"), &secret).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["data"]["age.agekey"],
        STANDARD.encode("AGE-SECRET-KEY-1TEST")
    );
    assert!(created.get("stringData").is_none(), "{created}");
    assert_eq!(created["type"], "Opaque");
    assert!(created["metadata"].get("generation").is_none(), "{created}");
    let path = format!("{SECRETS}/sops-age");
    assert_eq!(fake.object(&path), Some(created.clone()));
    // The same apply again changes nothing.
    let (status, again) = client.apply(&path, &secret).await;
    assert_eq!((status, &again), (200, &created));

    let mut object = kustomization("apps", &[]);
    let path = format!("{ROOT}/apps");
    let (status, first) = client.apply(&path, &object).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["metadata"]["generation"], 1);
    assert_eq!(first["metadata"]["namespace"], "flux-system");
    let uid = first["metadata"]["uid"].clone();
    let version = |o: &Value| {
        o["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    object["metadata"]["labels"] = json!({"app.kubernetes.io/part-of": "railyard"});
    let (status, labelled) = client.apply(&path, &object).await;
    assert_eq!(status, 200, "{labelled}");
    assert_eq!(labelled["metadata"]["generation"], 1);
    assert_eq!(
        labelled["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "railyard"
    );
    assert_ne!(version(&labelled), version(&first));
    assert_eq!(labelled["metadata"]["uid"], uid);

    // A status written by the controller stays through applies; a spec change bumps.
    fake.shared.lock().set_status(
        &super::kinds::Key::new(super::kinds::KUSTOMIZATION, "flux-system", "apps"),
        json!({"observedGeneration": 1}),
    );
    object["spec"]["path"] = json!("./apps/production");
    object["status"] = json!({"observedGeneration": 7});
    let (status, changed) = client.apply(&path, &object).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["metadata"]["generation"], 2);
    assert_eq!(changed["spec"]["path"], "./apps/production");
    assert_eq!(changed["status"], json!({"observedGeneration": 1}));
    assert_eq!(changed["metadata"]["uid"], uid);

    // Lists: in the namespace and across namespaces; core items without type information.
    let (status, list) = client.get(ROOT).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["kind"], "KustomizationList");
    assert_eq!(list["items"][0]["kind"], "Kustomization");
    let (_, all) = client.get("/api/v1/secrets").await;
    assert_eq!(all["kind"], "SecretList");
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert!(items[0].get("kind").is_none(), "{all}");
    assert_eq!(items[0]["metadata"]["name"], "sops-age");
    let (_, namespaces) = client.get("/api/v1/namespaces").await;
    let names: Vec<&str> = namespaces["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "default",
            "flux-system",
            "kube-node-lease",
            "kube-public",
            "kube-system"
        ]
    );

    let applies: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(applies.len(), 5);
    assert!(
        applies
            .iter()
            .all(|r| r.content_type == "application/apply-patch+yaml"
                && r.query == "fieldManager=railyard&force=true")
    );
    assert!(applies[0].body.contains("AGE-SECRET-KEY-1TEST"));
    assert_eq!(
        applies.iter().map(|r| r.status).collect::<Vec<_>>(),
        [201, 200, 201, 200, 200]
    );
}

#[tokio::test]
async fn refusals_are_status_objects_with_the_real_reasons() {
    let fake = FakeKube::start_in_background(KubeFaults::default());
    let client = Client::new(&fake);
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default"},
        "stringData": {"k": "v"},
    });
    let path = "/api/v1/namespaces/default/secrets/s";
    let apply = "application/apply-patch+yaml";

    let (status, body) = client
        .send(
            Method::PATCH,
            &format!("{path}?fieldManager=t"),
            "application/json",
            Some(&secret),
        )
        .await
        .expect("an answer");
    assert_eq!(
        (status, reason(&body)),
        (415, "UnsupportedMediaType"),
        "{body}"
    );
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["code"], 415);
    let merge = "application/merge-patch+json";
    let (status, _) = client
        .send(
            Method::PATCH,
            &format!("{path}?fieldManager=t"),
            merge,
            Some(&secret),
        )
        .await
        .expect("an answer");
    assert_eq!(status, 415);

    let (status, body) = client
        .send(Method::PATCH, path, apply, Some(&secret))
        .await
        .expect("an answer");
    assert_eq!((status, reason(&body)), (422, "Invalid"), "{body}");

    let cases = [
        (
            "/api/v1/namespaces/default/secrets/t",
            "BadRequest",
            400,
            "does not match the name",
        ),
        (
            "/api/v1/namespaces/kube-system/secrets/s",
            "BadRequest",
            400,
            "namespace",
        ),
        (
            "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations/s",
            "BadRequest",
            400,
            "API version",
        ),
    ];
    for (path, expected, code, message) in cases {
        let (status, body) = client.apply(path, &secret).await;
        assert_eq!((status, reason(&body)), (code, expected), "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains(message),
            "{body}"
        );
    }
    let mut elsewhere = secret.clone();
    elsewhere["metadata"]["namespace"] = json!("nowhere");
    let (status, body) = client
        .apply("/api/v1/namespaces/nowhere/secrets/s", &elsewhere)
        .await;
    assert_eq!((status, reason(&body)), (404, "NotFound"), "{body}");
    assert_eq!(body["message"], "namespaces \"nowhere\" not found");
    let mut broken = secret.clone();
    broken["data"] = json!({"k": "not base64!"});
    let (status, body) = client.apply(path, &broken).await;
    assert_eq!((status, reason(&body)), (400, "BadRequest"), "{body}");

    let (status, body) = client.get(path).await;
    assert_eq!((status, reason(&body)), (404, "NotFound"), "{body}");
    assert_eq!(body["message"], "secrets \"s\" not found");
    assert_eq!(body["details"], json!({"name": "s", "kind": "secrets"}));
    let (status, body) = client.get("/apis/apps/v1/deployments").await;
    assert_eq!((status, reason(&body)), (404, "NotFound"), "{body}");
    let (status, body) = client
        .send(Method::DELETE, path, "", None)
        .await
        .expect("an answer");
    assert_eq!((status, reason(&body)), (405, "MethodNotAllowed"), "{body}");
    let (status, _) = client
        .get("/api/v1/namespaces/default/secrets/s?watch=true")
        .await;
    assert_eq!(status, 405);

    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [415, 415, 422, 400, 400, 400, 404, 400, 404, 404, 405, 405]
    );
    assert!(fake.object(path).is_none());
}

#[tokio::test]
async fn flux_counts_as_installed_after_some_discovery_misses() {
    let fake = FakeKube::start_in_background(KubeFaults {
        flux_installed_after: 2,
        ..KubeFaults::default()
    });
    let client = Client::new(&fake);
    assert_eq!(client.get("/apis/source.toolkit.fluxcd.io/v1").await.0, 404);
    let (status, body) = client.get("/api/v1/namespaces/flux-system").await;
    assert_eq!((status, reason(&body)), (404, "NotFound"), "{body}");
    assert_eq!(client.get(ROOT).await.0, 404);
    let (status, apis) = client.get("/apis").await;
    assert_eq!(status, 200);
    assert_eq!(apis["groups"], json!([]));
    assert_eq!(client.get(KS).await.0, 404);

    let (status, discovery) = client.get(KS).await;
    assert_eq!(status, 200, "{discovery}");
    assert_eq!(discovery["kind"], "APIResourceList");
    assert_eq!(discovery["resources"][0]["name"], "kustomizations");
    let (status, namespace) = client.get("/api/v1/namespaces/flux-system").await;
    assert_eq!(status, 200, "{namespace}");
    assert_eq!(namespace["status"]["phase"], "Active");
    assert_eq!(client.get(ROOT).await.0, 200);
    let (_, apis) = client.get("/apis").await;
    assert_eq!(apis["groups"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn flux_reconciles_to_all_ready_with_children_in_dependency_order() {
    let fake = FakeKube::start_in_background(KubeFaults {
        ready_after: 1,
        ..KubeFaults::default()
    });
    let sha = "0123456789abcdef0123456789abcdef01234567";
    fake.set_revision(sha);
    fake.set_children(vec![
        kustomization("infrastructure", &[]),
        kustomization("apps", &["infrastructure"]),
    ]);
    let client = Client::new(&fake);
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "sops-age", "namespace": "flux-system"},
        "stringData": {"age.agekey": "AGE-SECRET-KEY-1SECRETVALUE"},
    });
    assert_eq!(
        client
            .apply(&format!("{SECRETS}/sops-age"), &secret)
            .await
            .0,
        201
    );
    let path = format!("{SOURCES}/flux-system");
    assert_eq!(client.apply(&path, &git_repository()).await.0, 201);
    let root = kustomization("flux-system", &[]);
    assert_eq!(
        client.apply(&format!("{ROOT}/flux-system"), &root).await.0,
        201
    );

    let expected: [&[(&str, &str)]; 6] = [
        &[("flux-system", "Progressing")],
        &[
            ("apps", "Progressing"),
            ("flux-system", "ReconciliationSucceeded"),
            ("infrastructure", "Progressing"),
        ],
        &[
            ("apps", "DependencyNotReady"),
            ("flux-system", "ReconciliationSucceeded"),
            ("infrastructure", "Progressing"),
        ],
        &[
            ("apps", "DependencyNotReady"),
            ("flux-system", "ReconciliationSucceeded"),
            ("infrastructure", "ReconciliationSucceeded"),
        ],
        &[
            ("apps", "Progressing"),
            ("flux-system", "ReconciliationSucceeded"),
            ("infrastructure", "ReconciliationSucceeded"),
        ],
        &[
            ("apps", "ReconciliationSucceeded"),
            ("flux-system", "ReconciliationSucceeded"),
            ("infrastructure", "ReconciliationSucceeded"),
        ],
    ];
    for expected in expected {
        let (status, list) = client.get(ROOT).await;
        assert_eq!(status, 200, "{list}");
        let expected: BTreeMap<String, String> = expected
            .iter()
            .map(|(n, r)| ((*n).to_owned(), (*r).to_owned()))
            .collect();
        assert_eq!(readiness(&list), expected, "{list:#}");
    }

    let revision = format!("main@sha1:{sha}");
    let (_, source) = client.get(&path).await;
    assert_eq!(source["status"]["artifact"]["revision"], json!(revision));
    assert_eq!(source["status"]["conditions"][0]["status"], "True");
    let root = fake
        .object(&format!("{ROOT}/flux-system"))
        .expect("the root");
    assert_eq!(root["status"]["lastAppliedRevision"], json!(revision));
    assert_eq!(root["status"]["lastAttemptedRevision"], json!(revision));
    assert_eq!(root["status"]["observedGeneration"], 1);
    let ready = &root["status"]["conditions"][0];
    assert_eq!(
        (&ready["type"], &ready["status"]),
        (&json!("Ready"), &json!("True"))
    );
    assert_eq!(ready["observedGeneration"], 1);
    assert!(
        ready["lastTransitionTime"]
            .as_str()
            .is_some_and(|t| t.starts_with("2025-01-01T"))
    );
    let apps = fake.object(&format!("{ROOT}/apps")).expect("a child");
    assert_eq!(
        apps["spec"]["dependsOn"],
        json!([{"name": "infrastructure"}])
    );
    assert_eq!(apps["status"]["lastAppliedRevision"], json!(revision));

    // A new commit: reconciled again, up to Ready at the new revision.
    let next = "89abcdef0123456789abcdef0123456789abcdef";
    fake.set_revision(next);
    let mut polls = 0;
    loop {
        polls += 1;
        assert!(polls < 20, "never Ready at the new revision");
        let (_, list) = client.get(ROOT).await;
        let at_next = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|k| k["status"]["lastAppliedRevision"] == json!(format!("main@sha1:{next}")));
        if at_next
            && readiness(&list)
                .values()
                .all(|r| r == "ReconciliationSucceeded")
        {
            break;
        }
    }

    // The secret's value went over the wire in the Secret's apply only.
    let carrying: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.body.contains("AGE-SECRET-KEY-1SECRETVALUE"))
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        carrying,
        [("PATCH".to_owned(), format!("{SECRETS}/sops-age"))]
    );
}

#[tokio::test]
async fn the_failing_kustomization_never_turns_ready() {
    let fake = FakeKube::start_in_background(KubeFaults {
        failing: Some(("apps".to_owned(), "kustomize build failed: boom".to_owned())),
        ..KubeFaults::default()
    });
    fake.set_children(vec![
        kustomization("apps", &[]),
        kustomization("web", &["apps"]),
    ]);
    let client = Client::new(&fake);
    client
        .apply(&format!("{SOURCES}/flux-system"), &git_repository())
        .await;
    client
        .apply(
            &format!("{ROOT}/flux-system"),
            &kustomization("flux-system", &[]),
        )
        .await;
    for _ in 0..10 {
        client.get(ROOT).await;
    }
    let (_, apps) = client.get(&format!("{ROOT}/apps")).await;
    let ready = &apps["status"]["conditions"][0];
    assert_eq!(ready["type"], "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["reason"], "ReconciliationFailed");
    assert_eq!(ready["message"], "kustomize build failed: boom");
    let (_, web) = client.get(&format!("{ROOT}/web")).await;
    assert_eq!(
        web["status"]["conditions"][0]["reason"],
        "DependencyNotReady"
    );
    assert_eq!(
        web["status"]["conditions"][0]["message"],
        "dependency 'flux-system/apps' is not ready"
    );
}

#[tokio::test]
async fn every_nth_request_is_a_503_and_added_objects_stay_as_they_are() {
    let fake = FakeKube::start_in_background(KubeFaults {
        server_error_every: 3,
        ..KubeFaults::default()
    });
    let client = Client::new(&fake);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(client.get("/version").await);
    }
    assert_eq!(
        statuses.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [200, 200, 503, 200, 200, 503]
    );
    assert_eq!(reason(&statuses[2].1), "ServiceUnavailable");
    assert_eq!(statuses[2].1["code"], 503);
    fake.set_faults(KubeFaults::default());
    assert_eq!(client.get("/version").await.0, 200);
    assert_eq!(
        fake.requests().iter().filter(|r| r.status == 503).count(),
        2
    );

    fake.add(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "railyard-1", "labels": {"node-role.kubernetes.io/control-plane": "true"}},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]},
    }));
    let release = json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "gitpod", "namespace": "gitpod"},
        "spec": {"chart": {"spec": {"chart": "gitpod"}}},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "timed out"}]},
    });
    fake.add(release.clone());
    let (status, nodes) = client.get("/api/v1/nodes").await;
    assert_eq!(status, 200, "{nodes}");
    assert_eq!(
        nodes["items"][0]["status"]["conditions"][0]["reason"],
        "KubeletReady"
    );
    let (status, releases) = client
        .get("/apis/helm.toolkit.fluxcd.io/v2/helmreleases")
        .await;
    assert_eq!(status, 200, "{releases}");
    assert_eq!(releases["items"][0]["status"], release["status"]);
    assert_eq!(releases["items"][0]["kind"], "HelmRelease");
    assert!(fake.requests().iter().all(|r| r.method == "GET"));
}

/// The lines of a watch's answer, parsed (`send` parsed a single line already).
fn events(body: &Value) -> Vec<Value> {
    match body.as_str() {
        Some(lines) => lines
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON event a line"))
            .collect(),
        None => vec![body.clone()],
    }
}

#[tokio::test]
async fn a_watch_sends_the_changes_after_its_resource_version_then_a_bookmark() {
    let fake = FakeKube::start_in_background(KubeFaults::default());
    let client = Client::new(&fake);
    let (status, list) = client.get("/api/v1/namespaces").await;
    assert_eq!(status, 200, "{list}");
    let listed: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a list's resourceVersion");

    // Nothing new: the fake holds the watch a moment and ends it with a bookmark.
    let path =
        format!("/api/v1/namespaces?watch=true&resourceVersion={listed}&allowWatchBookmarks=true");
    let (status, body) = client.get(&path).await;
    assert_eq!(status, 200);
    let quiet = events(&body);
    assert_eq!(quiet.len(), 1, "{quiet:?}");
    assert_eq!(quiet[0]["type"], "BOOKMARK");
    assert_eq!(quiet[0]["object"]["kind"], "Namespace");
    assert_eq!(
        quiet[0]["object"]["metadata"]["resourceVersion"],
        listed.to_string()
    );

    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "w"}});
    client
        .apply("/api/v1/namespaces/default/secrets/w", &secret)
        .await;
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}});
    client.apply("/api/v1/namespaces/n", &namespace).await;
    let labelled = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "default", "labels": {"a": "b"}},
    });
    client.apply("/api/v1/namespaces/default", &labelled).await;
    let (_, body) = client.get(&path).await;
    let changes = events(&body);
    let seen: Vec<(&str, &str)> = changes
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or(""),
                e["object"]["metadata"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // The Secret is another kind; a Namespace created after the start is ADDED.
    assert_eq!(
        seen,
        [("ADDED", "n"), ("MODIFIED", "default"), ("BOOKMARK", "")]
    );
    let bookmark: u64 = changes[2]["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a resourceVersion");
    assert_eq!(bookmark, listed + 3);

    // Without a resourceVersion: every object there is, as ADDED; no bookmark unless asked.
    let (_, body) = client.get("/api/v1/namespaces?watch=1").await;
    let all = events(&body);
    assert_eq!(all.len(), 6, "{all:?}");
    assert!(all.iter().all(|e| e["type"] == "ADDED"), "{all:?}");
    let (status, body) = client
        .get("/api/v1/namespaces?watch=true&resourceVersion=later")
        .await;
    assert_eq!((status, reason(&body)), (400, "BadRequest"), "{body}");
}
