//! Tests of the fake Hetzner API itself, over HTTP: pagination, label selectors, uniqueness,
//! actions, locks, faults, placement limits, user_data, delete order, addresses, the
//! background variant. Validation tables are in `validation.rs`.

mod validation;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

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
async fn actions_run_for_the_configured_polls() {
    let (_fake, api) = started(Faults {
        action_polls: 2,
        ..Faults::default()
    })
    .await;
    let created = api.post("/servers", server_body("node-1")).await;
    let body = created.expect(201, "").clone();
    let server = body["server"]["id"].as_u64().expect("id");
    assert_eq!(body["server"]["status"], "initializing");
    assert_eq!(body["server"]["locked"], true);
    assert!(
        body["root_password"]
            .as_str()
            .is_some_and(|p| p.len() == 16),
        "no SSH keys: a root password"
    );
    let create = body["action"]["id"].as_u64().expect("action");
    let start = body["next_actions"][0]["id"].as_u64().expect("next action");
    assert_eq!(body["action"]["command"], "create_server");
    assert_eq!(body["action"]["status"], "running");
    assert_eq!(body["next_actions"][0]["command"], "start_server");
    assert_eq!(
        body["action"]["resources"],
        json!([{ "id": server, "type": "server" }])
    );

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let action = api.get(&format!("/actions/{create}")).await;
        let action = &action.expect(200, "")["action"];
        statuses.push((
            action["status"].as_str().expect("status").to_owned(),
            action["progress"].as_u64().expect("progress"),
        ));
        assert_eq!(action["finished"].is_null(), action["status"] == "running");
    }
    assert_eq!(
        statuses,
        [
            ("running".to_owned(), 33),
            ("running".to_owned(), 66),
            ("success".to_owned(), 100)
        ]
    );
    let server_now = api.get(&format!("/servers/{server}")).await;
    assert_eq!(server_now.expect(200, "")["server"]["status"], "running");

    let ids = [create.to_string(), start.to_string(), "999999".to_owned()];
    let listed = api
        .query(
            "/actions",
            &[
                ("id", &ids[0]),
                ("id", &ids[1]),
                ("id", &ids[2]),
                ("sort", "id:desc"),
            ],
        )
        .await;
    let actions = listed.expect(200, "")["actions"]
        .as_array()
        .expect("actions")
        .clone();
    let listed_ids: Vec<u64> = actions
        .iter()
        .map(|a| a["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(
        listed_ids,
        [start, create],
        "the unknown ID is simply absent"
    );
    assert!(
        listed.body.get("meta").is_none(),
        "GET /actions is not paginated"
    );
    api.get("/actions").await.expect(422, "invalid_input");
    api.query("/actions", &[("id", "abc")])
        .await
        .expect(422, "invalid_input");
    api.get("/actions/999999").await.expect(404, "not_found");

    let per_server = api.get(&format!("/servers/{server}/actions")).await;
    let per_server = per_server.expect(200, "");
    assert_eq!(per_server["meta"]["pagination"]["total_entries"], 2);
    let one = api
        .get(&format!("/servers/{server}/actions/{create}"))
        .await;
    assert_eq!(one.expect(200, "")["action"]["status"], "success");
}

#[tokio::test]
async fn a_running_action_locks_its_resources() {
    let (_fake, api) = started(Faults {
        action_polls: 1,
        ..Faults::default()
    })
    .await;
    let network = api.create("networks", network_body("net")).await;
    let created = api.post("/servers", server_body("node-1")).await;
    let body = created.expect(201, "").clone();
    let server = body["server"]["id"].as_u64().expect("id");
    let attach = |id: u64| {
        let api = &api;
        async move {
            api.post(
                &format!("/servers/{id}/actions/attach_to_network"),
                json!({ "network": network }),
            )
            .await
        }
    };
    attach(server).await.expect(423, "locked");
    api.put(
        &format!("/servers/{server}"),
        json!({ "labels": { "a": "b" } }),
    )
    .await
    .expect(423, "locked");
    api.delete(&format!("/servers/{server}"))
        .await
        .expect(423, "locked");
    api.get(&format!("/servers/{server}")).await.expect(200, "");

    api.wait(body["action"]["id"].as_u64().expect("action"))
        .await;
    attach(server).await.expect(423, "locked"); // start_server still runs
    api.wait(body["next_actions"][0]["id"].as_u64().expect("action"))
        .await;
    let attached = attach(server).await;
    let action = attached.expect(201, "")["action"].clone();
    assert_eq!(action["command"], "attach_to_network");
    assert_eq!(
        action["resources"],
        json!([{ "id": server, "type": "server" }, { "id": network, "type": "network" }])
    );

    // The network is locked while the attachment runs.
    let second = api.server("node-2", json!({})).await;
    attach(second).await.expect(423, "locked");
    api.wait(action["id"].as_u64().expect("action")).await;
    attach(second).await.expect(201, "");
}

#[tokio::test]
async fn rate_limit_fault_answers_429_with_headers() {
    let (fake, api) = started(Faults {
        rate_limit_every: 3,
        latency: Duration::from_millis(30),
        ..Faults::default()
    })
    .await;
    let begun = std::time::Instant::now();
    let first = api.get("/servers").await;
    assert!(
        begun.elapsed() >= Duration::from_millis(30),
        "latency applies"
    );
    first.expect(200, "");
    assert_eq!(first.header("ratelimit-limit"), "3600");
    assert_eq!(first.header("ratelimit-remaining"), "3599");
    let reset: u64 = first
        .header("ratelimit-reset")
        .parse()
        .expect("a timestamp");
    let now = super::model::unix_now();
    assert!((now..=now + 2).contains(&reset), "reset {reset}, now {now}");

    api.get("/servers").await.expect(200, "");
    let limited = api.get("/servers").await;
    limited.expect(429, "rate_limit_exceeded");
    assert_eq!(limited.header("ratelimit-remaining"), "0");
    let reset: u64 = limited
        .header("ratelimit-reset")
        .parse()
        .expect("a timestamp");
    let now = super::model::unix_now();
    assert!(
        (now..=now + 1).contains(&reset),
        "reset = now + 1 s: {reset}, now {now}"
    );
    api.get("/servers").await.expect(200, "");

    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 429, 200]);
}

#[tokio::test]
async fn server_error_fault_answers_5xx_with_an_error_body() {
    let (fake, api) = started(Faults {
        server_error_every: 2,
        ..Faults::default()
    })
    .await;
    api.get("/servers").await.expect(200, "");
    api.get("/servers").await.expect(503, "unavailable");
    fake.set_faults(Faults {
        server_error_every: 1,
        seed: 7,
        ..Faults::default()
    });
    let mut codes = Vec::new();
    for _ in 0..12 {
        let answer = api.get("/servers").await;
        codes.push((answer.status, answer.code().to_owned()));
    }
    assert!(
        codes.contains(&(503, "unavailable".to_owned())),
        "{codes:?}"
    );
    assert!(codes.contains(&(504, "timeout".to_owned())), "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| *c == (503, "unavailable".to_owned()) || *c == (504, "timeout".to_owned()))
    );
}

#[tokio::test]
async fn a_dropped_create_is_committed_then_answered_504() {
    let (fake, api) = started(Faults {
        drop_response_every: 2,
        ..Faults::default()
    })
    .await;
    api.create("networks", network_body("net")).await; // creating POST 1: answered
    let body = json!({
        "name": "node-1", "server_type": "cpx22", "image": "ubuntu-24.04", "location": "nbg1",
        "labels": { "k3s.cluster": "prod" },
    });
    let lost = api.post("/servers", body.clone()).await; // creating POST 2: dropped
    assert_eq!(lost.status, 504);
    assert!(
        lost.body.is_string(),
        "no JSON in a gateway's answer: {}",
        lost.body
    );
    assert!(
        fake.resources()
            .iter()
            .any(|(kind, _, name, _)| kind == "server" && name == "node-1")
    );

    let retry = api.post("/servers", body).await; // creating POST 3: answered
    retry.expect(409, "uniqueness_error");
    let found = api.query("/servers", &[("name", "node-1")]).await;
    let found = found.expect(200, "");
    assert_eq!(found["servers"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["servers"][0]["labels"]["k3s.cluster"], "prod");

    let statuses: Vec<(String, u16)> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("/v1/networks".to_owned(), 201),
            ("/v1/servers".to_owned(), 504),
            ("/v1/servers".to_owned(), 409)
        ]
    );
}

#[tokio::test]
async fn a_spread_group_holds_ten_servers() {
    let (_fake, api) = started(Faults::default()).await;
    let group = api
        .create(
            "placement_groups",
            json!({ "name": "pg", "type": "spread" }),
        )
        .await;
    for n in 1..=10 {
        api.server(
            &format!("agent-{n:03}"),
            json!({ "placement_group": group }),
        )
        .await;
    }
    let eleventh = api
        .post("/servers", {
            let mut b = server_body("agent-011");
            merge(&mut b, json!({ "placement_group": group }));
            b
        })
        .await;
    eleventh.expect(422, "placement_error");
    let shown = api.get(&format!("/placement_groups/{group}")).await;
    assert_eq!(
        shown.expect(200, "")["placement_group"]["servers"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );
    let member = api.query("/servers", &[("name", "agent-001")]).await;
    assert_eq!(
        member.expect(200, "")["servers"][0]["placement_group"]["id"],
        group
    );
}

#[tokio::test]
async fn user_data_is_limited_to_32_kib_and_recorded_as_sent() {
    let (fake, api) = started(Faults::default()).await;
    let head = "#cloud-config\n# secret: s3cr3t\n";
    let fits = format!("{head}{}", "x".repeat(32 * 1024 - head.len()));
    assert_eq!(fits.len(), 32 * 1024);
    let mut body = server_body("node-1");
    merge(&mut body, json!({ "user_data": fits }));
    api.post("/servers", body).await.expect(201, "");
    let mut body = server_body("node-2");
    merge(&mut body, json!({ "user_data": format!("{fits}y") }));
    let refused = api.post("/servers", body).await;
    refused.expect(422, "invalid_input");
    assert_eq!(
        refused.body["error"]["details"]["fields"][0]["name"],
        "user_data"
    );

    let recorded = fake.requests();
    let first = recorded.first().expect("a request");
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/v1/servers")
    );
    let sent = first.body.as_ref().expect("a body")["user_data"]
        .as_str()
        .expect("user_data");
    assert!(sent.contains("secret: s3cr3t"));
}

#[tokio::test]
async fn deletes_out_of_order_are_refused_while_in_use() {
    let (fake, api) = started(Faults {
        action_polls: 1,
        ..Faults::default()
    })
    .await;
    let foreign = fake.add_foreign("network", "someone-elses", labels(&[("team", "other")]));
    let network = api.create("networks", network_body("net")).await;
    let by_label = api
        .post("/firewalls", json!({
            "name": "fw-cluster",
            "apply_to": [{ "type": "label_selector", "label_selector": { "selector": "k3s.cluster=prod" } }],
        }))
        .await;
    let by_label_id = by_label.expect(201, "")["firewall"]["id"]
        .as_u64()
        .expect("id");
    for action in by_label.body["actions"].as_array().expect("actions") {
        api.wait(action["id"].as_u64().expect("id")).await;
    }
    let direct = api.post("/firewalls", json!({ "name": "fw-direct" })).await;
    api.wait(
        direct.expect(201, "")["actions"][0]["id"]
            .as_u64()
            .expect("id"),
    )
    .await;
    let direct = direct.body["firewall"]["id"].as_u64().expect("id");
    let group = api
        .create(
            "placement_groups",
            json!({ "name": "pg", "type": "spread" }),
        )
        .await;
    let server = api
        .server(
            "node-1",
            json!({
                "networks": [network], "firewalls": [{ "firewall": direct }],
                "placement_group": group, "labels": { "k3s.cluster": "prod" },
            }),
        )
        .await;
    let shown = api.get(&format!("/servers/{server}")).await;
    let firewalls = &shown.expect(200, "")["server"]["public_net"]["firewalls"];
    assert_eq!(
        firewalls,
        &json!([{ "id": by_label_id, "status": "applied" }, { "id": direct, "status": "applied" }])
    );

    let in_use = |path: String| {
        let api = &api;
        async move {
            api.delete(&path)
                .await
                .expect(422, "resource_in_use")
                .clone()
        }
    };
    in_use(format!("/networks/{network}")).await;
    in_use(format!("/firewalls/{by_label_id}")).await;
    in_use(format!("/firewalls/{direct}")).await;
    in_use(format!("/placement_groups/{group}")).await;

    let deleting = api.delete(&format!("/servers/{server}")).await;
    let action = deleting.expect(200, "")["action"].clone();
    assert_eq!(
        (action["command"].as_str(), action["status"].as_str()),
        (Some("delete_server"), Some("running"))
    );
    let still = api.get(&format!("/servers/{server}")).await;
    assert_eq!(still.expect(200, "")["server"]["status"], "deleting");
    in_use(format!("/networks/{network}")).await;
    api.wait(action["id"].as_u64().expect("id")).await;
    api.get(&format!("/servers/{server}"))
        .await
        .expect(404, "not_found");

    for path in [
        format!("/firewalls/{by_label_id}"),
        format!("/firewalls/{direct}"),
        format!("/placement_groups/{group}"),
        format!("/networks/{network}"),
    ] {
        let answer = api.delete(&path).await;
        assert_eq!((answer.status, &answer.body), (204, &Value::Null), "{path}");
    }
    let left: Vec<u64> = fake.resources().iter().map(|r| r.1).collect();
    assert_eq!(left, [foreign], "only the foreign network is left");
}

#[tokio::test]
async fn private_addresses_are_assigned_or_honoured() {
    let (_fake, api) = started(Faults::default()).await;
    let network = api.create("networks", network_body("net")).await;
    let a = api.server("server-1", json!({})).await;
    let attach = |server: u64, body: Value| {
        let api = &api;
        async move {
            api.post(
                &format!("/servers/{server}/actions/attach_to_network"),
                body,
            )
            .await
        }
    };
    attach(a, json!({ "network": network, "ip": "10.2.0.10" }))
        .await
        .expect(201, "");
    attach(a, json!({ "network": network }))
        .await
        .expect(422, "server_already_attached");
    let b = api.server("server-2", json!({})).await;
    for taken in [
        "10.2.0.10",
        "10.2.0.1",
        "10.2.0.0",
        "10.2.0.255",
        "10.2.1.5",
        "10.3.0.1",
    ] {
        attach(b, json!({ "network": network, "ip": taken }))
            .await
            .expect(422, "ip_not_available");
    }
    attach(b, json!({ "network": network }))
        .await
        .expect(201, "");
    let c = api
        .server("agent-1", json!({ "networks": [network] }))
        .await;
    let ip = |server: u64| {
        let api = &api;
        async move {
            let shown = api.get(&format!("/servers/{server}")).await;
            shown.expect(200, "")["server"]["private_net"][0]["ip"]
                .as_str()
                .expect("ip")
                .to_owned()
        }
    };
    assert_eq!(
        [ip(a).await, ip(b).await, ip(c).await],
        ["10.2.0.10", "10.2.0.2", "10.2.0.3"]
    );
    let us = api.server("far-away", json!({ "location": "ash" })).await;
    attach(us, json!({ "network": network }))
        .await
        .expect(422, "no_subnet_available");

    let shown = api.get(&format!("/servers/{a}")).await;
    let server = &shown.expect(200, "")["server"];
    assert!(
        server["public_net"]["ipv4"]["ip"]
            .as_str()
            .expect("ip")
            .starts_with("198.51.100.")
    );
    assert!(
        server["public_net"]["ipv6"]["ip"]
            .as_str()
            .expect("ip")
            .ends_with("::/64")
    );
    assert_eq!(server["location"]["network_zone"], "eu-central");
    assert_eq!(server["server_type"]["name"], "cpx22");
    assert_eq!(server["image"]["name"], "ubuntu-24.04");
    let net = api.get(&format!("/networks/{network}")).await;
    assert_eq!(net.expect(200, "")["network"]["servers"], json!([a, b, c]));
}

#[tokio::test]
async fn load_balancers_attach_to_networks_and_select_targets() {
    let (_fake, api) = started(Faults::default()).await;
    let network = api.create("networks", network_body("net")).await;
    let labels = json!({ "k3s.cluster": "prod", "k3s.role": "server" });
    let s1 = api
        .server(
            "server-1",
            json!({ "networks": [network], "labels": labels }),
        )
        .await;
    let s2 = api
        .server(
            "server-2",
            json!({ "networks": [network], "labels": labels }),
        )
        .await;
    api.server(
        "agent-1",
        json!({ "networks": [network], "labels": { "k3s.cluster": "prod" } }),
    )
    .await;
    let service = json!({
        "protocol": "tcp", "listen_port": 6443, "destination_port": 6443, "proxyprotocol": false,
        "health_check": { "protocol": "tcp", "port": 6443, "interval": 15, "timeout": 10, "retries": 3 },
    });
    let target = json!({
        "type": "label_selector", "use_private_ip": true,
        "label_selector": { "selector": "k3s.cluster=prod,k3s.role=server" },
    });
    let body = json!({
        "name": "api-lb", "load_balancer_type": "lb11", "location": "nbg1", "network": network,
        "services": [service], "targets": [target], "labels": { "k3s.cluster": "prod" },
        "algorithm": { "type": "round_robin" },
    });
    let created = api.post("/load_balancers", body.clone()).await;
    let created = created.expect(201, "");
    assert_eq!(created["action"]["command"], "create_load_balancer");
    let lb = &created["load_balancer"];
    let lb_id = lb["id"].as_u64().expect("id");
    assert_eq!(lb["public_net"]["ipv4"]["ip"], "203.0.113.1");
    assert_eq!(
        lb["private_net"],
        json!([{ "network": network, "ip": "10.2.0.5" }])
    );
    let matched: Vec<u64> = lb["targets"][0]["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["server"]["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(matched, [s1, s2]);
    assert_eq!(
        lb["targets"][0]["targets"][0]["health_status"],
        json!([{ "listen_port": 6443, "status": "healthy" }])
    );
    let shown = api.get(&format!("/servers/{s1}")).await;
    assert_eq!(
        shown.expect(200, "")["server"]["load_balancers"],
        json!([lb_id])
    );

    let mut no_network = body.clone();
    no_network["name"] = json!("lb-2");
    no_network
        .as_object_mut()
        .expect("object")
        .remove("network");
    api.post("/load_balancers", no_network.clone())
        .await
        .expect(422, "load_balancer_not_attached_to_network");
    no_network["targets"] = json!([]);
    no_network["services"] = json!([service, service]);
    api.post("/load_balancers", no_network.clone())
        .await
        .expect(422, "source_port_already_used");
    no_network["services"] = json!([service]);
    let second = api.create("load_balancers", no_network).await;
    let attach = api
        .post(
            &format!("/load_balancers/{second}/actions/attach_to_network"),
            json!({ "network": network, "ip": "10.2.0.6" }),
        )
        .await;
    assert_eq!(
        attach.expect(201, "")["action"]["command"],
        "attach_to_network"
    );
    let shown = api.get(&format!("/load_balancers/{second}")).await;
    assert_eq!(
        shown.expect(200, "")["load_balancer"]["private_net"][0]["ip"],
        "10.2.0.6"
    );
    api.post(
        &format!("/load_balancers/{second}/actions/attach_to_network"),
        json!({ "network": network }),
    )
    .await
    .expect(422, "load_balancer_already_attached");
    let add = api
        .post(
            &format!("/load_balancers/{second}/actions/add_target"),
            target,
        )
        .await;
    add.expect(201, "");
    api.post(
        &format!("/load_balancers/{second}/actions/add_service"),
        service,
    )
    .await
    .expect(422, "source_port_already_used");
    api.delete(&format!("/networks/{network}"))
        .await
        .expect(422, "resource_in_use");
    api.delete(&format!("/load_balancers/{lb_id}"))
        .await
        .expect(204, "");
}

#[tokio::test]
async fn firewall_actions_answer_lists_of_actions() {
    let (_fake, api) = started(Faults::default()).await;
    let server = api
        .server("node-1", json!({ "labels": { "k3s.cluster": "prod" } }))
        .await;
    let other = api.server("node-2", json!({})).await;
    let selector =
        json!({ "type": "label_selector", "label_selector": { "selector": "k3s.cluster=prod" } });
    let firewall = api
        .create("firewalls", json!({ "name": "fw", "apply_to": [selector] }))
        .await;
    let path = |verb: &str| format!("/firewalls/{firewall}/actions/{verb}");
    let rules = json!({ "rules": [
        { "direction": "in", "protocol": "tcp", "port": "2244", "source_ips": ["0.0.0.0/0", "::/0"] },
        { "direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0"] },
    ]});
    let set = api.post(&path("set_rules"), rules).await;
    assert_eq!(
        set.expect(201, "")["actions"][0]["command"],
        "set_firewall_rules"
    );
    let shown = api.get(&format!("/firewalls/{firewall}")).await;
    let shown = shown.expect(200, "")["firewall"].clone();
    assert_eq!(
        shown["rules"][1],
        json!({
            "direction": "in", "protocol": "icmp", "port": null, "source_ips": ["0.0.0.0/0"],
            "destination_ips": [], "description": null,
        })
    );
    assert_eq!(
        shown["applied_to"][0]["applied_to_resources"],
        json!([{ "type": "server", "server": { "id": server } }])
    );

    let direct = json!({ "apply_to": [{ "type": "server", "server": { "id": other } }] });
    let applied = api.post(&path("apply_to_resources"), direct.clone()).await;
    assert_eq!(
        applied.expect(201, "")["actions"][0]["command"],
        "apply_firewall"
    );
    api.post(&path("apply_to_resources"), direct)
        .await
        .expect(422, "firewall_already_applied");
    let missing = json!({ "apply_to": [{ "type": "server", "server": { "id": 999_999 } }] });
    api.post(&path("apply_to_resources"), missing)
        .await
        .expect(404, "firewall_resource_not_found");
    let by_selector = json!({ "remove_from": [{ "type": "server", "server": { "id": server } }] });
    api.post(&path("remove_from_resources"), by_selector)
        .await
        .expect(422, "firewall_managed_by_label_selector");
    let removed = api
        .post(
            &path("remove_from_resources"),
            json!({ "remove_from": [{ "type": "server", "server": { "id": other } }] }),
        )
        .await;
    assert_eq!(
        removed.expect(201, "")["actions"][0]["command"],
        "remove_firewall"
    );
    api.post(&path("set_rules"), json!({}))
        .await
        .expect(422, "invalid_input");
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
