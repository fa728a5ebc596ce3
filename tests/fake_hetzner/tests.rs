//! Tests of the fake Hetzner API itself, over HTTP: the client helpers, then pagination, label
//! selectors, uniqueness, authentication and routes, the background variant. Actions, locks,
//! faults and lifecycles are in `lifecycle.rs`, addresses, load balancers and firewalls in
//! `networking.rs`, validation tables in `validation.rs`.

mod lifecycle;
mod networking;
mod validation;

use std::collections::BTreeMap;
use std::io::{Read, Write};

use reqwest::Method;
use serde_json::{Value, json};

use super::check::{fake_ed25519_key, md5};
use super::{FakeHetzner, Faults};

/// A plain-HTTP client for the fake.
pub(super) struct Api {
    http: reqwest::Client,
    url: String,
}

/// An answer: status, headers, JSON body (a non-JSON body as a JSON string, none as null).
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) body: Value,
}

impl Answer {
    pub(super) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub(super) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the status (and error code, if one is given) with the body in the message.
    #[track_caller]
    pub(super) fn expect(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "body: {:#}",
            self.body
        );
        &self.body
    }
}

impl Api {
    pub(super) fn new(fake: &FakeHetzner) -> Api {
        // reqwest is built without a rustls provider; plain HTTP needs none, but building a
        // client still wants one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            http: reqwest::Client::new(),
            url: fake.url(),
        }
    }

    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth("test-token")
            .query(query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the fake answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub(super) async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], None).await
    }

    pub(super) async fn query(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        self.send(Method::GET, path, query, None).await
    }

    pub(super) async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    pub(super) async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, &[], Some(body)).await
    }

    pub(super) async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, &[], None).await
    }

    /// Creates a resource; its ID.
    pub(super) async fn create(&self, plural: &str, body: Value) -> u64 {
        let answer = self.post(&format!("/{plural}"), body).await;
        let singular = plural.strip_suffix('s').expect("plural");
        answer.expect(201, "")[singular]["id"]
            .as_u64()
            .expect("an id")
    }

    /// GETs the action until it succeeds; how many GETs that took.
    pub(super) async fn wait(&self, action: u64) -> u32 {
        for polls in 1..=20 {
            let answer = self.get(&format!("/actions/{action}")).await;
            if answer.expect(200, "")["action"]["status"] == "success" {
                return polls;
            }
        }
        panic!("action {action} never succeeded");
    }

    /// Creates a server (cpx22, ubuntu-24.04, nbg1, plus `extra`) and waits for its actions.
    pub(super) async fn server(&self, name: &str, extra: Value) -> u64 {
        let mut body = server_body(name);
        merge(&mut body, extra);
        let answer = self.post("/servers", body).await;
        let created = answer.expect(201, "");
        let id = created["server"]["id"].as_u64().expect("an id");
        let mut actions = vec![created["action"]["id"].as_u64().expect("an action")];
        for next in created["next_actions"].as_array().expect("next_actions") {
            actions.push(next["id"].as_u64().expect("an action"));
        }
        for action in actions {
            self.wait(action).await;
        }
        id
    }
}

pub(super) fn server_body(name: &str) -> Value {
    json!({ "name": name, "server_type": "cpx22", "image": "ubuntu-24.04", "location": "nbg1" })
}

pub(super) fn network_body(name: &str) -> Value {
    json!({
        "name": name, "ip_range": "10.2.0.0/16",
        "subnets": [{ "type": "cloud", "network_zone": "eu-central", "ip_range": "10.2.0.0/24" }],
        "labels": { "k3s.cluster": "prod" },
    })
}

pub(super) fn merge(body: &mut Value, extra: Value) {
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn names(list: &Value, root: &str) -> Vec<String> {
    list[root]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["name"].as_str().expect("a name").to_owned())
        .collect()
}

async fn started(faults: Faults) -> (FakeHetzner, Api) {
    let fake = FakeHetzner::start(faults).await;
    let api = Api::new(&fake);
    (fake, api)
}

#[tokio::test]
async fn lists_page_with_meta_and_link_headers() {
    let (fake, api) = started(Faults {
        page_size: 2,
        ..Faults::default()
    })
    .await;
    for name in ["pg-a", "pg-b", "pg-c", "pg-d", "pg-e"] {
        let body = json!({ "name": name, "type": "spread", "labels": { "k3s.cluster": "prod" } });
        api.create("placement_groups", body).await;
    }
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let answer = api
            .query(
                "/placement_groups",
                &[
                    ("label_selector", "k3s.cluster=prod"),
                    ("page", &page.to_string()),
                ],
            )
            .await;
        let body = answer.expect(200, "");
        let meta = &body["meta"]["pagination"];
        assert_eq!(meta["per_page"], 2, "the fault caps the default 25");
        assert_eq!(meta["page"], page);
        assert_eq!(meta["last_page"], 3);
        assert_eq!(meta["total_entries"], 5);
        assert_eq!(
            meta["previous_page"],
            if page == 1 {
                json!(null)
            } else {
                json!(page - 1)
            }
        );
        seen.extend(names(body, "placement_groups"));
        if page == 2 {
            let link = answer.header("link");
            let base = format!(
                "{}/placement_groups?label_selector=k3s.cluster%3Dprod&",
                fake.url()
            );
            assert!(
                link.contains(&format!("<{base}page=1&per_page=2>; rel=\"prev\"")),
                "{link}"
            );
            assert!(
                link.contains(&format!("<{base}page=3&per_page=2>; rel=\"next\"")),
                "{link}"
            );
            assert!(
                link.contains(&format!("<{base}page=3&per_page=2>; rel=\"last\"")),
                "{link}"
            );
        }
        match meta["next_page"].as_u64() {
            Some(next) => page = next,
            None => break,
        }
    }
    assert_eq!(seen, ["pg-a", "pg-b", "pg-c", "pg-d", "pg-e"]);

    let beyond = api.query("/placement_groups", &[("page", "9")]).await;
    assert_eq!(beyond.expect(200, "")["placement_groups"], json!([]));
    let one = api
        .query(
            "/placement_groups",
            &[("per_page", "1"), ("sort", "name:desc")],
        )
        .await;
    assert_eq!(names(one.expect(200, ""), "placement_groups"), ["pg-e"]);
    assert_eq!(one.body["meta"]["pagination"]["last_page"], 5);
    for bad in [
        ("per_page", "0"),
        ("page", "0"),
        ("page", "x"),
        ("sort", "colour"),
    ] {
        api.query("/placement_groups", &[bad])
            .await
            .expect(422, "invalid_input");
    }

    fake.set_faults(Faults::default());
    let all = api.query("/placement_groups", &[("per_page", "100")]).await;
    assert_eq!(
        all.expect(200, "")["meta"]["pagination"]["per_page"],
        50,
        "at most 50"
    );
    let default = api.get("/placement_groups").await;
    assert_eq!(
        default.expect(200, "")["meta"]["pagination"]["per_page"],
        25
    );
    assert_eq!(default.body["meta"]["pagination"]["next_page"], json!(null));
}

#[tokio::test]
async fn label_selectors_filter_lists() {
    let (_fake, api) = started(Faults::default()).await;
    let firewalls: [(&str, Value); 5] = [
        ("fw-a", json!({ "env": "prod", "role": "server" })),
        ("fw-b", json!({ "env": "prod", "role": "agent" })),
        ("fw-c", json!({ "env": "staging", "role": "server" })),
        ("fw-d", json!({ "env": "dev", "example.com/team": "x" })),
        ("fw-e", json!({})),
    ];
    for (name, labels) in firewalls {
        api.create("firewalls", json!({ "name": name, "labels": labels }))
            .await;
    }
    let cases: &[(&str, &[&str])] = &[
        ("env=prod", &["fw-a", "fw-b"]),
        ("env==prod", &["fw-a", "fw-b"]),
        ("env!=prod", &["fw-c", "fw-d", "fw-e"]),
        ("role", &["fw-a", "fw-b", "fw-c"]),
        ("!role", &["fw-d", "fw-e"]),
        ("env in (prod,dev)", &["fw-a", "fw-b", "fw-d"]),
        ("env in (prod, dev)", &["fw-a", "fw-b", "fw-d"]),
        ("env notin (prod,dev)", &["fw-c", "fw-e"]),
        ("env=prod,role=server", &["fw-a"]),
        ("role, env != staging", &["fw-a", "fw-b"]),
        ("example.com/team=x", &["fw-d"]),
        ("env=nowhere", &[]),
        ("", &["fw-a", "fw-b", "fw-c", "fw-d", "fw-e"]),
    ];
    for (selector, expected) in cases {
        let answer = api
            .query("/firewalls", &[("label_selector", selector)])
            .await;
        assert_eq!(
            names(answer.expect(200, ""), "firewalls"),
            *expected,
            "selector `{selector}`"
        );
    }
    for selector in [
        "env in (prod",
        "=prod",
        "env===x",
        "a b",
        "env=prod,",
        "env in prod",
    ] {
        let answer = api
            .query("/firewalls", &[("label_selector", selector)])
            .await;
        answer.expect(422, "invalid_input");
        assert_eq!(
            answer.body["error"]["details"]["fields"][0]["name"],
            "label_selector"
        );
    }
    let by_name = api.query("/firewalls", &[("name", "fw-c")]).await;
    assert_eq!(names(by_name.expect(200, ""), "firewalls"), ["fw-c"]);
    let prefix = api.query("/firewalls", &[("name", "fw")]).await;
    assert_eq!(
        names(prefix.expect(200, ""), "firewalls"),
        Vec::<String>::new(),
        "exact names"
    );
}

#[tokio::test]
async fn names_and_public_keys_are_unique() {
    let (_fake, api) = started(Faults::default()).await;
    let key = fake_ed25519_key(1, "me@laptop");
    let created = api
        .post("/ssh_keys", json!({ "name": "ops", "public_key": key }))
        .await;
    let fingerprint = created.expect(201, "")["ssh_key"]["fingerprint"]
        .as_str()
        .expect("fp")
        .to_owned();
    assert_eq!(
        fingerprint.len(),
        47,
        "MD5 as colon-separated hex: {fingerprint}"
    );

    let same_name = api
        .post(
            "/ssh_keys",
            json!({ "name": "ops", "public_key": fake_ed25519_key(2, "x") }),
        )
        .await;
    same_name.expect(409, "uniqueness_error");
    assert_eq!(
        same_name.body["error"]["details"]["fields"][0]["name"],
        "name"
    );

    let other_comment = key.replace("me@laptop", "someone@else");
    let same_key = api
        .post(
            "/ssh_keys",
            json!({ "name": "ops2", "public_key": other_comment }),
        )
        .await;
    same_key.expect(409, "uniqueness_error");
    assert_eq!(
        same_key.body["error"]["details"]["fields"][0]["name"],
        "public_key"
    );
    assert_eq!(
        same_key.body["error"]["message"],
        "SSH key with the same fingerprint already exists"
    );

    let bad = api
        .post(
            "/ssh_keys",
            json!({ "name": "bad", "public_key": "ssh-ed25519 not-base64!" }),
        )
        .await;
    bad.expect(422, "invalid_input");

    let found = api
        .query("/ssh_keys", &[("fingerprint", &fingerprint)])
        .await;
    assert_eq!(names(found.expect(200, ""), "ssh_keys"), ["ops"]);

    api.server("node-1", json!({})).await;
    api.post("/servers", server_body("node-1"))
        .await
        .expect(409, "uniqueness_error");
    api.post("/firewalls", json!({ "name": "fw" }))
        .await
        .expect(201, "");
    api.post("/firewalls", json!({ "name": "fw" }))
        .await
        .expect(409, "uniqueness_error");
    // Network names may repeat: the spec does not say they are unique.
    api.post("/networks", network_body("net"))
        .await
        .expect(201, "");
    api.post("/networks", network_body("net"))
        .await
        .expect(201, "");
    // Renaming into a taken name is refused too.
    let other = api.server("node-2", json!({})).await;
    let rename = api
        .put(&format!("/servers/{other}"), json!({ "name": "node-1" }))
        .await;
    rename.expect(409, "uniqueness_error");
}

#[test]
fn md5_matches_rfc_1321() {
    let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let cases = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(hex(md5(input.as_bytes())), expected, "md5({input:?})");
    }
}

#[tokio::test]
async fn authentication_and_unknown_routes() {
    let (_fake, api) = started(Faults::default()).await;
    let url = format!("{}/servers", api.url);
    let anonymous = api.http.get(&url).send().await.expect("answer");
    assert_eq!(anonymous.status().as_u16(), 401);
    let body: Value = anonymous.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unauthorized");
    let empty = api
        .http
        .get(&url)
        .header("authorization", "Bearer ")
        .send()
        .await
        .expect("answer");
    assert_eq!(empty.status().as_u16(), 401);

    api.get("/volumes").await.expect(404, "not_found");
    api.get("/servers/abc").await.expect(404, "not_found");
    api.get("/servers/424242").await.expect(404, "not_found");
    api.send(Method::PATCH, "/servers", &[], None)
        .await
        .expect(405, "method_not_allowed");
    api.get("/datacenters")
        .await
        .expect(410, "deprecated_api_endpoint");
    api.post("/servers/1/actions/rebuild", json!({}))
        .await
        .expect(404, "not_found");
    let invalid_json = api
        .http
        .post(&url)
        .bearer_auth("t")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answer");
    assert_eq!(invalid_json.status().as_u16(), 400);
}

/// The background variant serves synchronous clients (here a raw HTTP/1.1 request, as the
/// railyard binary would be in a subprocess), with foreign resources and changed faults.
#[test]
fn the_background_fake_serves_blocking_clients() {
    let fake = FakeHetzner::start_in_background(Faults::default());
    let server = fake.add_foreign("server", "their-server", labels(&[("team", "other")]));
    let key = fake.add_foreign("ssh_keys", "their-key", BTreeMap::new());
    let lb = fake.add_foreign("load_balancer", "their-lb", BTreeMap::new());
    let resources = fake.resources();
    let kinds: Vec<(&str, u64)> = resources.iter().map(|r| (r.0.as_str(), r.1)).collect();
    assert_eq!(
        kinds,
        [("server", server), ("ssh_key", key), ("load_balancer", lb)]
    );
    assert_eq!(resources[0].3, labels(&[("team", "other")]));

    let get = |path: &str| {
        let address = fake.url().trim_start_matches("http://").replace("/v1", "");
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        let request = format!(
            "GET /v1{path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    };
    let answer = get("/servers?label_selector=team%3Dother");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"name\":\"their-server\""), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("ratelimit-remaining: 3599"),
        "{answer}"
    );

    fake.set_faults(Faults {
        rate_limit_every: 1,
        ..Faults::default()
    });
    assert!(get("/servers").starts_with("HTTP/1.1 429"));
    let recorded = fake.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        recorded[0].query_pairs(),
        [("label_selector".to_owned(), "team=other".to_owned())]
    );
    fake.stop();
}
