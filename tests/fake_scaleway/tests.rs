//! The fake's own strictness, through plain HTTP: what it refuses is what a client must not
//! send, so each refusal here is one a real Scaleway would answer.

use serde_json::{Value, json};

use super::{FakeScaleway, Faults, PROJECT};

const ZONE: &str = "/instance/v1/zones/fr-par-2";

fn call(
    fake: &FakeScaleway,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::ring::default_provider().install_default();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut request = client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", fake.url()),
            )
            .header("X-Auth-Token", "secret");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("sent");
        let status = response.status().as_u16();
        let total = response
            .headers()
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            total,
        )
    })
}

fn group(fake: &FakeScaleway) -> String {
    let (status, body, _) = call(
        fake,
        "POST",
        &format!("{ZONE}/security_groups"),
        Some(
            json!({ "name": "g", "project": PROJECT, "tags": ["a=b"], "inbound_default_policy": "drop" }),
        ),
    );
    assert_eq!(status, 201, "{body}");
    body["security_group"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[test]
fn security_group_rules_are_checked_as_scaleway_checks_them() {
    let fake = FakeScaleway::start_in_background(Faults::default());
    let id = group(&fake);
    let path = format!("{ZONE}/security_groups/{id}/rules");
    let good = json!({ "action": "accept", "protocol": "TCP", "direction": "inbound",
        "ip_range": "0.0.0.0/0", "dest_port_from": 2379, "dest_port_to": 2380 });
    let (status, body, _) = call(&fake, "PUT", &path, Some(json!({ "rules": [good] })));
    assert_eq!(status, 200, "{body}");
    for (field, value) in [
        ("protocol", json!("tcp")),
        ("ip_range", json!(["0.0.0.0/0", "::/0"])),
        ("dest_port_from", json!("2379")),
        ("dest_port_to", json!(1)),
        ("sources", json!(["0.0.0.0/0"])),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let (status, body, _) = call(&fake, "PUT", &path, Some(json!({ "rules": [bad] })));
        assert_eq!(status, 400, "{field}: {body}");
        assert_eq!(body["type"], "invalid_arguments", "{body}");
        assert!(body["details"][0]["argument_name"].is_string(), "{body}");
    }
}

#[test]
fn servers_take_no_user_data_field_and_start_stopped() {
    let fake = FakeScaleway::start_in_background(Faults {
        polls: 2,
        ..Faults::default()
    });
    let label = json!({ "name": "s", "commercial_type": "PRO2-XS", "image": "ubuntu_noble", "project": PROJECT });
    let (status, body, _) = call(&fake, "POST", &format!("{ZONE}/servers"), Some(label));
    assert_eq!(status, 400, "an image label is not an image: {body}");
    let (_, images, _) = call(
        &fake,
        "GET",
        "/marketplace/v2/local-images?image_label=ubuntu_noble&zone=fr-par-2&type=instance_sbs",
        None,
    );
    let image = images["local_images"][0]["id"].clone();
    let base =
        json!({ "name": "s", "commercial_type": "PRO2-XS", "image": image, "project": PROJECT });
    let mut with_data = base.clone();
    with_data["user_data"] = json!("#cloud-config");
    let (status, body, _) = call(&fake, "POST", &format!("{ZONE}/servers"), Some(with_data));
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("invalid_arguments")),
        "{body}"
    );
    let (status, body, _) = call(&fake, "POST", &format!("{ZONE}/servers"), Some(base));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["server"]["state"], "stopped");
    let id = body["server"]["id"].as_str().expect("id").to_owned();
    let action = format!("{ZONE}/servers/{id}/action");
    let (status, body, _) = call(&fake, "POST", &action, Some(json!({ "action": "poweron" })));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["task"]["status"], "pending");
    let state = |fake: &FakeScaleway| {
        call(fake, "GET", &format!("{ZONE}/servers/{id}"), None).1["server"]["state"].clone()
    };
    assert_eq!(state(&fake), "starting");
    assert_eq!(state(&fake), "running");
    let (status, _, _) = call(&fake, "DELETE", &format!("{ZONE}/servers/{id}"), None);
    assert_eq!(status, 400, "a running server is not deleted");
    call(
        &fake,
        "POST",
        &action,
        Some(json!({ "action": "poweroff" })),
    );
    state(&fake);
    state(&fake);
    let (status, _, _) = call(&fake, "DELETE", &format!("{ZONE}/servers/{id}"), None);
    assert_eq!(status, 204);
    let volumes = fake
        .resources()
        .into_iter()
        .filter(|r| r.collection == "volumes")
        .count();
    assert_eq!(volumes, 1, "the root volume stays behind");
}

#[test]
fn lists_page_with_x_total_count_and_names_match_as_substrings() {
    let fake = FakeScaleway::start_in_background(Faults {
        page_size: 2,
        ..Faults::default()
    });
    for name in ["web-1", "web-10", "db"] {
        fake.add_foreign("servers", name, &["site=x"]);
    }
    let (status, body, total) = call(
        &fake,
        "GET",
        &format!("{ZONE}/servers?name=web-1&per_page=50"),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(total.as_deref(), Some("2"));
    assert_eq!(body["servers"].as_array().map(Vec::len), Some(2), "{body}");
    let (_, body, total) = call(
        &fake,
        "GET",
        &format!("{ZONE}/servers?tags=site%3Dx&page=2"),
        None,
    );
    assert_eq!(total.as_deref(), Some("3"));
    assert_eq!(body["servers"].as_array().map(Vec::len), Some(1), "{body}");
}

#[test]
fn iam_keys_take_no_tags_and_quota_errors_have_details() {
    let fake = FakeScaleway::start_in_background(Faults {
        server_quota: 0,
        ..Faults::default()
    });
    let (status, body, _) = call(
        &fake,
        "POST",
        "/iam/v1alpha1/ssh-keys",
        Some(
            json!({ "name": "k", "public_key": "ssh-ed25519 AAAA a@b", "project_id": PROJECT, "tags": ["x"] }),
        ),
    );
    assert_eq!(
        (status, body["details"][0]["argument_name"].as_str()),
        (400, Some("tags")),
        "{body}"
    );
    let (status, body, _) = call(
        &fake,
        "POST",
        &format!("{ZONE}/servers"),
        Some(
            json!({ "name": "s", "commercial_type": "PRO2-XS", "image": "i", "project": PROJECT }),
        ),
    );
    assert_eq!(status, 403);
    assert_eq!(body["type"], "quotas_exceeded");
    assert_eq!(body["details"][0]["quota"], 0);
}
