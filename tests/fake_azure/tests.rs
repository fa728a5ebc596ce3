//! The fake's own strictness, through plain HTTP: each refusal here is one Azure answers, so a
//! client that passes against the fake does not send it.

use serde_json::{Value, json};

use super::{CLIENT_ID, CLIENT_SECRET, FakeAzure, Faults, SUBSCRIPTION, TENANT};

const NETWORK: &str = "api-version=2024-05-01";

struct Call {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

fn call(
    fake: &FakeAzure,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Call {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::ring::default_provider().install_default();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut request = client.request(
            method.parse().expect("method"),
            format!("{}{path}", fake.url()),
        );
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        Call {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    })
}

fn token(fake: &FakeAzure) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
    );
    let answer = call(
        fake,
        None,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        Some(form),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

fn group_path(group: &str) -> String {
    format!("/subscriptions/{SUBSCRIPTION}/resourcegroups/{group}?api-version=2021-04-01")
}

fn nsg_path(name: &str) -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/{name}?{NETWORK}"
    )
}

fn rule(name: &str, priority: u64, sources: &[&str]) -> Value {
    json!({"name": name, "properties": {"priority": priority, "direction": "Inbound", "access": "Allow",
        "protocol": "Tcp", "sourceAddressPrefixes": sources, "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": "22"}})
}

#[test]
fn tokens_are_required_and_checked() {
    let fake = FakeAzure::start_in_background(Faults::default());
    assert_eq!(call(&fake, None, "GET", &group_path("g"), None).status, 401);
    assert_eq!(
        call(&fake, Some("made-up"), "GET", &group_path("g"), None).status,
        401
    );
    let wrong = call(
        &fake,
        None,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        Some(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret=wrong&scope=x"
        )),
    );
    assert_eq!(wrong.status, 401);
    let token = token(&fake);
    let missing = call(&fake, Some(&token), "GET", &group_path("g"), None);
    assert_eq!(
        (missing.status, missing.body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
    let old = call(
        &fake,
        Some(&token),
        "GET",
        &format!("/subscriptions/{SUBSCRIPTION}/resourcegroups/g?api-version=2019-01-01"),
        None,
    );
    assert_eq!(old.status, 400);
}

#[test]
fn puts_are_idempotent_and_settle_with_time() {
    let fake = FakeAzure::start_in_background(Faults {
        settle: std::time::Duration::from_millis(200),
        ..Faults::default()
    });
    let token = token(&fake);
    let group = json!({"location": "uksouth", "tags": {"railyard-site": "demo"}}).to_string();
    assert_eq!(
        call(&fake, Some(&token), "PUT", &group_path("g"), Some(group)).status,
        201
    );
    let body = json!({"location": "uksouth", "properties": {"securityRules": [rule("ssh-ipv4", 100, &["0.0.0.0/0"])]}}).to_string();
    let first = call(
        &fake,
        Some(&token),
        "PUT",
        &nsg_path("fw"),
        Some(body.clone()),
    );
    assert_eq!(first.status, 201);
    assert_eq!(first.body["properties"]["provisioningState"], "Creating");
    assert!(first.headers.contains_key("azure-asyncoperation"));
    let busy = call(
        &fake,
        Some(&token),
        "PUT",
        &nsg_path("fw"),
        Some(body.clone()),
    );
    assert_eq!(
        (busy.status, busy.body["error"]["code"].as_str()),
        (409, Some("AnotherOperationInProgress"))
    );
    std::thread::sleep(std::time::Duration::from_millis(250));
    let again = call(&fake, Some(&token), "PUT", &nsg_path("fw"), Some(body));
    assert_eq!(
        (
            again.status,
            again.body["properties"]["provisioningState"].as_str()
        ),
        (200, Some("Succeeded"))
    );
    assert!(
        !again.headers.contains_key("azure-asyncoperation"),
        "an identical PUT starts nothing"
    );
}

#[test]
fn nsg_rules_keep_one_family_and_unique_priorities() {
    let fake = FakeAzure::start_in_background(Faults::default());
    let token = token(&fake);
    call(
        &fake,
        Some(&token),
        "PUT",
        &group_path("g"),
        Some(json!({"location": "uksouth"}).to_string()),
    );
    let put = |rules: Vec<Value>| {
        let body =
            json!({"location": "uksouth", "properties": {"securityRules": rules}}).to_string();
        let answer = call(&fake, Some(&token), "PUT", &nsg_path("fw"), Some(body));
        (
            answer.status,
            answer.body["error"]["code"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(
        put(vec![rule("mixed", 100, &["0.0.0.0/0", "::/0"])])
            .1
            .as_deref(),
        Some("ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies")
    );
    assert_eq!(put(vec![rule("a b", 100, &["0.0.0.0/0"])]).0, 400);
    assert_eq!(
        put(vec![
            rule("a", 100, &["0.0.0.0/0"]),
            rule("b", 100, &["::/0"])
        ])
        .0,
        400
    );
    assert_eq!(
        put(vec![
            rule("a", 100, &["0.0.0.0/0"]),
            rule("b", 110, &["::/0"])
        ])
        .0,
        201
    );
}

#[test]
fn custom_data_cannot_change_and_references_must_exist() {
    let fake = FakeAzure::start_in_background(Faults {
        settle: std::time::Duration::ZERO,
        ..Faults::default()
    });
    let token = token(&fake);
    call(
        &fake,
        Some(&token),
        "PUT",
        &group_path("g"),
        Some(json!({"location": "uksouth"}).to_string()),
    );
    let vm = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm?api-version=2024-07-01"
    );
    let nic = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/nic"
    );
    let body = |data: &str| {
        json!({"location": "uksouth", "properties": {"osProfile": {"customData": data},
        "networkProfile": {"networkInterfaces": [{"id": nic}]}}})
        .to_string()
    };
    let dangling = call(&fake, Some(&token), "PUT", &vm, Some(body("YQ==")));
    assert_eq!(dangling.body["error"]["code"], "InvalidResourceReference");
    fake.add_foreign(
        "Microsoft.Network/networkInterfaces",
        "g",
        "nic",
        &[],
        json!({"location": "uksouth"}),
    );
    assert_eq!(
        call(&fake, Some(&token), "PUT", &vm, Some(body("YQ=="))).status,
        201
    );
    let changed = call(&fake, Some(&token), "PUT", &vm, Some(body("Yg==")));
    assert_eq!(
        (changed.status, changed.body["error"]["code"].as_str()),
        (409, Some("PropertyChangeNotAllowed"))
    );
    let read = call(&fake, Some(&token), "GET", &vm, None);
    assert!(
        read.body["properties"]["osProfile"]
            .get("customData")
            .is_none(),
        "{}",
        read.body
    );
    let in_use = call(
        &fake,
        Some(&token),
        "DELETE",
        &format!("{nic}?{NETWORK}"),
        None,
    );
    assert_eq!(
        (in_use.status, in_use.body["error"]["code"].as_str()),
        (400, Some("NicInUse"))
    );
}

#[test]
fn lists_page_through_next_links() {
    let fake = FakeAzure::start_in_background(Faults {
        page_size: 2,
        ..Faults::default()
    });
    let token = token(&fake);
    for g in ["a", "b", "c"] {
        call(
            &fake,
            Some(&token),
            "PUT",
            &group_path(g),
            Some(json!({"location": "uksouth"}).to_string()),
        );
    }
    let first = call(
        &fake,
        Some(&token),
        "GET",
        &format!("/subscriptions/{SUBSCRIPTION}/resourcegroups?api-version=2021-04-01"),
        None,
    );
    assert_eq!(first.body["value"].as_array().map(Vec::len), Some(2));
    let next = first.body["nextLink"].as_str().expect("a next link");
    let rest = next.strip_prefix(&fake.url()).expect("an absolute link");
    let second = call(&fake, Some(&token), "GET", rest, None);
    assert_eq!(second.body["value"].as_array().map(Vec::len), Some(1));
    assert!(second.body.get("nextLink").is_none());
}

#[test]
fn buckets_count_down_in_headers_then_answer_429() {
    let fake = FakeAzure::start_in_background(Faults {
        buckets: Some((2, 1)),
        ..Faults::default()
    });
    let token = token(&fake);
    let path = group_path("g");
    let first = call(&fake, Some(&token), "GET", &path, None);
    let header = |c: &Call| {
        c.headers
            .get("x-ms-ratelimit-remaining-subscription-reads")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header(&first).as_deref(), Some("1"));
    assert_eq!(
        header(&call(&fake, Some(&token), "GET", &path, None)).as_deref(),
        Some("0")
    );
    let throttled = call(&fake, Some(&token), "GET", &path, None);
    assert_eq!(throttled.status, 429);
    assert!(throttled.headers.contains_key("retry-after"));
    let write = call(
        &fake,
        Some(&token),
        "PUT",
        &path,
        Some(json!({"location": "uksouth"}).to_string()),
    );
    assert_eq!(write.status, 201, "writes have a bucket of their own");
}
