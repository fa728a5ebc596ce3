//! Lifecycles through the fake: actions stepping per poll, locks, faults (429, 5xx, latency,
//! dropped answers), the spread group limit, user_data, delete order.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Faults, labels, merge, network_body, server_body, started};

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
    // Created, the server is off until its start (the next action) succeeds.
    let server_now = api.get(&format!("/servers/{server}")).await;
    assert_eq!(server_now.expect(200, "")["server"]["status"], "off");

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
    assert_eq!(listed.body["meta"]["pagination"]["total_entries"], 2);
    for _ in 0..2 {
        api.get(&format!("/actions/{start}")).await.expect(200, "");
    }
    let server_now = api.get(&format!("/servers/{server}")).await;
    assert_eq!(server_now.expect(200, "")["server"]["status"], "running");
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
    let now = super::super::model::unix_now();
    assert!((now..=now + 2).contains(&reset), "reset {reset}, now {now}");

    api.get("/servers").await.expect(200, "");
    let limited = api.get("/servers").await;
    limited.expect(429, "rate_limit_exceeded");
    assert_eq!(limited.header("ratelimit-remaining"), "0");
    let reset: u64 = limited
        .header("ratelimit-reset")
        .parse()
        .expect("a timestamp");
    let now = super::super::model::unix_now();
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

/// The faults a second reading of Hetzner's documentation asked for: an action ending in
/// `error`, a lost action answer, a label selector released late, a type sold out.
#[tokio::test]
async fn documented_semantics_can_be_injected() {
    let (fake, api) = started(Faults {
        fail_actions: Some(("start_server", "", 1)),
        selector_release: Duration::from_millis(300),
        drop_action_every: 2,
        unavailable: vec![("cpx32", "nbg1")],
        ..Faults::default()
    })
    .await;
    // A start that ends in error leaves the server off, with the error on the action.
    let created = api.post("/servers", server_body("node-1")).await;
    let created = created.expect(201, "").clone();
    let server = created["server"]["id"].as_u64().expect("id");
    let start = &created["next_actions"][0];
    assert_eq!(start["status"], "error", "{start}");
    assert_eq!(start["error"]["code"], "action_failed");
    let shown = api.get(&format!("/servers/{server}")).await;
    assert_eq!(shown.expect(200, "")["server"]["status"], "off");
    // The first action POST answers; the second is committed and its answer lost; sent again,
    // it is refused as already done.
    let on = format!("/servers/{server}/actions/poweron");
    api.post(&on, json!({})).await.expect(201, "");
    let network = api.create("networks", network_body("net")).await;
    let attach = format!("/servers/{server}/actions/attach_to_network");
    let lost = api.post(&attach, json!({ "network": network })).await;
    assert_eq!(lost.status, 504);
    api.post(&attach, json!({ "network": network }))
        .await
        .expect(422, "server_already_attached");
    // The selector still counts the deleted server for a while; released, it does not.
    let selector =
        json!({ "type": "label_selector", "label_selector": { "selector": "role=web" } });
    let firewall = api
        .create("firewalls", json!({ "name": "fw", "apply_to": [selector] }))
        .await;
    let web = api
        .server("web-1", json!({ "labels": { "role": "web" } }))
        .await;
    let deleted = api.delete(&format!("/servers/{web}")).await;
    api.wait(
        deleted.expect(200, "")["action"]["id"]
            .as_u64()
            .expect("id"),
    )
    .await;
    api.delete(&format!("/firewalls/{firewall}"))
        .await
        .expect(422, "resource_in_use");
    tokio::time::sleep(Duration::from_millis(350)).await;
    api.delete(&format!("/firewalls/{firewall}"))
        .await
        .expect(204, "");
    // Sold out: listed as unavailable in the location, and refused there.
    let types = api.query("/server_types", &[("name", "cpx32")]).await;
    let locations = types.expect(200, "")["server_types"][0]["locations"].clone();
    let nbg1 = locations
        .as_array()
        .expect("locations")
        .iter()
        .find(|l| l["name"] == "nbg1")
        .expect("nbg1 listed")
        .clone();
    assert_eq!(nbg1["available"], false, "{nbg1}");
    let mut body = server_body("node-2");
    merge(&mut body, json!({ "server_type": "cpx32" }));
    api.post("/servers", body)
        .await
        .expect(412, "resource_unavailable");
    drop(fake);
}
