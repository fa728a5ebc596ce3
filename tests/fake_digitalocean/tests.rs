//! The fake against DigitalOcean's documented behaviour, so bootstrap's tests stand on it.

#![cfg(test)]

use std::time::Duration;

use serde_json::{Value, json};

use super::{FakeDigitalOcean, Faults, Way};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOifjjmm7VBLaCFoYt1z7qzrW2pvu72uf0a2aOL/8uy admin@example.com";

async fn call(
    fake: &FakeDigitalOcean,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    // reqwest is built without a rustls provider; building a client still wants one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", fake.url())
    };
    let mut request = client
        .request(method.parse().expect("method"), url)
        .bearer_auth("token");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn tags_follow_the_documented_pattern() {
    let fake = FakeDigitalOcean::start(Faults::default()).await;
    for (tag, status) in [
        ("railyard-site:demo", 201),
        ("a_b-c:d", 201),
        ("railyard.dev/site=demo", 422),
        ("with space", 422),
        (&"x".repeat(256) as &str, 422),
    ] {
        let (got, _, body) = call(&fake, "POST", "/tags", Some(json!({ "name": tag }))).await;
        assert_eq!(got, status, "{tag}: {body}");
    }
    let (status, _, body) = call(
        &fake,
        "POST",
        "/droplets",
        Some(json!({"name": "x", "region": "fra1", "size": "s-1vcpu-1gb",
            "image": "ubuntu-24-04-x64", "tags": ["railyard.dev/site=demo"]})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["id"], "unprocessable_entity");
}

#[tokio::test]
async fn lists_page_through_links_pages_next_and_droplet_names_repeat() {
    let fake = FakeDigitalOcean::start(Faults {
        page_size: 2,
        ..Faults::default()
    })
    .await;
    for _ in 0..5 {
        let (status, _, body) = call(
            &fake,
            "POST",
            "/droplets",
            Some(
                json!({"name": "same", "region": "fra1", "size": "s-1vcpu-1gb",
                "image": "ubuntu-24-04-x64", "tags": ["site:a"]}),
            ),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        assert!(body["links"]["actions"][0]["id"].is_u64(), "{body}");
    }
    let mut url = "/droplets?tag_name=site:a".to_owned();
    let mut seen = 0;
    loop {
        let (status, _, body) = call(&fake, "GET", &url, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["meta"]["total"], 5);
        seen += body["droplets"].as_array().expect("droplets").len();
        match body["links"]["pages"]["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 5);
    let (status, _, _) = call(&fake, "GET", "/droplets?tag_name=site:a&name=same", None).await;
    assert_eq!(status, 422, "the two filters cannot be combined");
}

#[tokio::test]
async fn vpc_ranges_may_not_overlap_and_names_are_unique() {
    let fake = FakeDigitalOcean::start(Faults::default()).await;
    let vpc = |name: &str, range: &str| json!({"name": name, "region": "fra1", "ip_range": range});
    let (status, _, body) = call(&fake, "POST", "/vpcs", Some(vpc("one", "10.20.0.0/16"))).await;
    assert_eq!(status, 201, "{body}");
    for (name, range) in [
        ("two", "10.20.128.0/20"),
        ("one", "10.30.0.0/16"),
        ("three", "8.8.0.0/16"),
        ("four", "10.0.0.0/8"),
    ] {
        let (status, _, body) = call(&fake, "POST", "/vpcs", Some(vpc(name, range))).await;
        assert_eq!(status, 422, "{name} {range}: {body}");
    }
    let (status, _, body) = call(&fake, "POST", "/vpcs", Some(vpc("two", "10.21.0.0/16"))).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_droplet_is_new_without_addresses_until_its_action_completes() {
    let fake = FakeDigitalOcean::start(Faults {
        action_time: Duration::from_millis(2000),
        ..Faults::default()
    })
    .await;
    let (_, _, body) = call(
        &fake,
        "POST",
        "/droplets",
        Some(json!({"name": "d", "region": "fra1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"})),
    )
    .await;
    let id = body["droplet"]["id"].as_u64().expect("id");
    let action = body["links"]["actions"][0]["id"].as_u64().expect("action");
    let (_, _, now) = call(&fake, "GET", &format!("/actions/{action}"), None).await;
    assert_eq!(now["action"]["status"], "in-progress");
    let (_, _, droplet) = call(&fake, "GET", &format!("/droplets/{id}"), None).await;
    assert_eq!(droplet["droplet"]["status"], "new");
    assert_eq!(droplet["droplet"]["networks"]["v4"], json!([]));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, _, later) = call(&fake, "GET", &format!("/actions/{action}"), None).await;
    assert_eq!(later["action"]["status"], "completed");
    let (_, _, droplet) = call(&fake, "GET", &format!("/droplets/{id}"), None).await;
    assert_eq!(droplet["droplet"]["status"], "active");
    let private = &droplet["droplet"]["networks"]["v4"][1];
    assert_eq!(private["type"], "private");
    assert!(
        private["ip_address"]
            .as_str()
            .expect("ip")
            .starts_with("10."),
        "{private}"
    );
}

#[tokio::test]
async fn firewalls_deny_outbound_traffic_no_rule_allows() {
    let fake = FakeDigitalOcean::start(Faults::default()).await;
    call(&fake, "POST", "/tags", Some(json!({"name": "site:a"}))).await;
    call(
        &fake,
        "POST",
        "/droplets",
        Some(json!({"name": "d", "region": "fra1", "size": "s-1vcpu-1gb",
            "image": "ubuntu-24-04-x64", "tags": ["site:a"]})),
    )
    .await;
    assert!(
        fake.allows("d", Way::Out, "tcp", 443, "192.0.2.1"),
        "no firewall: open"
    );
    let inbound = json!([{"protocol": "tcp", "ports": "22", "sources": {"addresses": ["0.0.0.0/0", "::/0"]}}]);
    let (status, _, body) = call(
        &fake,
        "POST",
        "/firewalls",
        Some(json!({"name": "fw", "inbound_rules": inbound, "tags": ["site:a"]})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert!(fake.allows("d", Way::In, "tcp", 22, "192.0.2.1"));
    assert!(!fake.allows("d", Way::In, "tcp", 6443, "10.0.0.1"));
    assert!(
        !fake.allows("d", Way::Out, "tcp", 443, "192.0.2.1"),
        "inbound-only cuts outbound"
    );
    let id = body["firewall"]["id"].as_str().expect("id").to_owned();
    let outbound =
        json!([{"protocol": "tcp", "ports": "0", "destinations": {"addresses": ["0.0.0.0/0"]}}]);
    let (status, _, body) = call(
        &fake,
        "PUT",
        &format!("/firewalls/{id}"),
        Some(json!({"name": "fw", "inbound_rules": inbound, "outbound_rules": outbound, "tags": ["site:a"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(fake.allows("d", Way::Out, "tcp", 443, "192.0.2.1"));
    assert!(!fake.allows("d", Way::Out, "udp", 53, "192.0.2.1"));
    let (status, _, _) = call(
        &fake,
        "POST",
        "/firewalls",
        Some(json!({"name": "fw2", "inbound_rules": inbound, "tags": ["no-such-tag"]})),
    )
    .await;
    assert_eq!(status, 422, "firewall tags must exist");
}

#[tokio::test]
async fn ssh_keys_are_unique_by_key_material() {
    let fake = FakeDigitalOcean::start(Faults::default()).await;
    let (status, _, body) = call(
        &fake,
        "POST",
        "/account/keys",
        Some(json!({"name": "a", "public_key": KEY})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = call(
        &fake,
        "POST",
        "/account/keys",
        Some(json!({"name": "b", "public_key": KEY})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"], "SSH Key is already in use on your account");
}

#[tokio::test]
async fn faults_answer_as_digitalocean_does_and_a_dropped_create_is_committed() {
    let fake = FakeDigitalOcean::start(Faults {
        rate_limit_every: 2,
        ..Faults::default()
    })
    .await;
    let (status, headers, _) = call(&fake, "GET", "/vpcs", None).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("ratelimit-remaining"));
    let (status, headers, body) = call(&fake, "GET", "/vpcs", None).await;
    assert_eq!(status, 429);
    assert_eq!(body["id"], "too_many_requests");
    assert_eq!(headers["retry-after"], "1");
    assert!(headers.contains_key("ratelimit-reset"));
    fake.set_faults(Faults {
        drop_response_every: 1,
        ..Faults::default()
    });
    let (status, _, _) = call(
        &fake,
        "POST",
        "/vpcs",
        Some(json!({"name": "v", "region": "fra1", "ip_range": "10.9.0.0/24"})),
    )
    .await;
    assert_eq!(status, 504);
    assert!(
        fake.resources()
            .iter()
            .any(|(kind, _, name, _)| kind == "vpc" && name == "v")
    );
    let (status, _, _) = call(&fake, "GET", "/vpcs", None).await;
    assert_eq!(status, 200);
}

#[test]
fn requests_are_recorded_and_foreign_resources_listed() {
    let fake = FakeDigitalOcean::start_in_background(Faults::default());
    let id = fake.add_foreign_droplet("demo-server-0", &[]);
    fake.add_foreign_vpc("someone", "fra1", "10.50.0.0/16");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (status, _, body) = runtime.block_on(call(&fake, "GET", "/droplets?per_page=1", None));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["droplets"][0]["id"].to_string(), id);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (
            r.method.as_str(),
            r.path.as_str(),
            r.query.as_str(),
            r.status
        ),
        ("GET", "/v2/droplets", "per_page=1", 200)
    );
    assert!(r.body.is_none());
    fake.stop();
}
