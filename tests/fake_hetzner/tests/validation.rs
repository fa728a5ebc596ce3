//! Validation tables for the fake: each bad body with the status, code and field it must
//! answer, and the good bodies next to them; the catalogue against `crates/core/src/defaults.rs`.

use serde_json::{Value, json};

use railyard::core::defaults;
use railyard::core::site::Provider;

use super::{Api, FakeHetzner, Faults, merge, network_body, server_body};

/// `(what, body, status, code, field)`: an empty code is a success.
type Case = (&'static str, Value, u16, &'static str, &'static str);

async fn run(api: &Api, path: &str, cases: Vec<Case>) {
    for (what, body, status, code, field) in cases {
        let answer = api.post(path, body).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{what}: {:#}",
            answer.body
        );
        if !field.is_empty() {
            assert_eq!(
                answer.body["error"]["details"]["fields"][0]["name"], field,
                "{what}: {:#}",
                answer.body
            );
        }
    }
}

fn server(name: &str, extra: Value) -> Value {
    let mut body = server_body(name);
    merge(&mut body, extra);
    body
}

#[tokio::test]
async fn server_bodies_are_validated() {
    let fake = FakeHetzner::start(Faults::default()).await;
    let api = Api::new(&fake);
    let key = api
        .create(
            "ssh_keys",
            json!({ "name": "ops", "public_key": super::fake_ed25519_key(9, "ops") }),
        )
        .await;
    let cases: Vec<Case> = vec![
        (
            "underscore in the name",
            server("bad_name", json!({})),
            422,
            "invalid_input",
            "name",
        ),
        (
            "a label over 63",
            server("a", json!({ "name": "x".repeat(64) })),
            422,
            "invalid_input",
            "name",
        ),
        (
            "unknown type",
            server("a", json!({ "server_type": "cx41" })),
            422,
            "invalid_input",
            "server_type",
        ),
        (
            "unknown location",
            server("a", json!({ "location": "fra1" })),
            422,
            "invalid_input",
            "location",
        ),
        (
            "CX outside the EU",
            server("a", json!({ "server_type": "cx23", "location": "ash" })),
            412,
            "resource_unavailable",
            "",
        ),
        (
            "a removed image",
            server("a", json!({ "image": "ubuntu-20.04" })),
            422,
            "invalid_input",
            "image",
        ),
        (
            "missing image",
            json!({ "name": "a", "server_type": "cpx22" }),
            422,
            "invalid_input",
            "image",
        ),
        (
            "unknown SSH key",
            server("a", json!({ "ssh_keys": ["nobody"] })),
            422,
            "invalid_input",
            "ssh_keys",
        ),
        (
            "unknown network",
            server("a", json!({ "networks": [424_242] })),
            422,
            "invalid_input",
            "networks",
        ),
        (
            "unknown firewall",
            server("a", json!({ "firewalls": [{ "firewall": 424_242 }] })),
            422,
            "invalid_input",
            "firewalls",
        ),
        (
            "unknown placement group",
            server("a", json!({ "placement_group": 424_242 })),
            422,
            "invalid_input",
            "placement_group",
        ),
        (
            "datacenter is gone",
            server("a", json!({ "datacenter": "fsn1-dc14" })),
            422,
            "invalid_input",
            "datacenter",
        ),
        (
            "reserved label prefix",
            server("a", json!({ "labels": { "hetzner.cloud/x": "1" } })),
            422,
            "invalid_input",
            "labels",
        ),
        (
            "wrong type",
            server("a", json!({ "start_after_create": "yes" })),
            422,
            "invalid_input",
            "start_after_create",
        ),
        (
            "volumes",
            server("a", json!({ "volumes": [1] })),
            422,
            "invalid_input",
            "volumes",
        ),
        (
            "by key name",
            server("by-name", json!({ "ssh_keys": ["ops"] })),
            201,
            "",
            "",
        ),
        (
            "by key id",
            server("by-id", json!({ "ssh_keys": [key] })),
            201,
            "",
            "",
        ),
        (
            "Arm type, Arm image",
            server("arm", json!({ "server_type": "cax31" })),
            201,
            "",
            "",
        ),
        (
            "FQDN",
            server(
                "node-1.example.com",
                json!({ "server_type": "ccx23", "location": "sin" }),
            ),
            201,
            "",
            "",
        ),
        (
            "no IPv4",
            server("v6-only", json!({ "public_net": { "enable_ipv4": false } })),
            201,
            "",
            "",
        ),
        (
            "stays off",
            server("off", json!({ "start_after_create": false })),
            201,
            "",
            "",
        ),
    ];
    run(&api, "/servers", cases).await;
    let not_json = api
        .send(
            reqwest::Method::POST,
            "/servers",
            &[],
            Some(Value::String("{".to_owned())),
        )
        .await;
    not_json.expect(400, "json_error");

    let shown = |name: &'static str| {
        let api = &api;
        async move {
            let list = api.query("/servers", &[("name", name)]).await;
            list.expect(200, "")["servers"][0].clone()
        }
    };
    assert_eq!(shown("arm").await["image"]["architecture"], "arm");
    assert_eq!(shown("v6-only").await["public_net"]["ipv4"], Value::Null);
    assert_eq!(shown("off").await["status"], "off");
    let by_name = api.query("/servers", &[("status", "running")]).await;
    let running = by_name.expect(200, "")["servers"].as_array().map(Vec::len);
    assert_eq!(running, Some(5), "all but the one created off");
    api.query("/servers", &[("status", "sleeping")])
        .await
        .expect(422, "invalid_input");
}

#[tokio::test]
async fn network_bodies_are_validated() {
    let fake = FakeHetzner::start(Faults::default()).await;
    let api = Api::new(&fake);
    let with = |ip_range: &str, subnets: Value| json!({ "name": "net", "ip_range": ip_range, "subnets": subnets });
    let cloud =
        |range: &str| json!({ "type": "cloud", "network_zone": "eu-central", "ip_range": range });
    let cases: Vec<Case> = vec![
        (
            "public range",
            with("8.8.0.0/16", json!([])),
            422,
            "invalid_input",
            "ip_range",
        ),
        (
            "smaller than /24",
            with("10.0.0.0/25", json!([])),
            422,
            "invalid_input",
            "ip_range",
        ),
        (
            "host bits",
            with("10.0.0.1/16", json!([])),
            422,
            "invalid_input",
            "ip_range",
        ),
        (
            "subnet outside",
            with("10.2.0.0/16", json!([cloud("10.3.0.0/24")])),
            422,
            "invalid_input",
            "subnets",
        ),
        (
            "subnets overlap",
            with(
                "10.2.0.0/16",
                json!([cloud("10.2.0.0/24"), cloud("10.2.0.128/25")]),
            ),
            422,
            "invalid_input",
            "subnets",
        ),
        (
            "unknown zone",
            with(
                "10.2.0.0/16",
                json!([{ "type": "cloud", "network_zone": "eu-west", "ip_range": "10.2.0.0/24" }]),
            ),
            422,
            "invalid_input",
            "subnets",
        ),
        (
            "unknown type",
            with(
                "10.2.0.0/16",
                json!([{ "type": "lan", "network_zone": "eu-central" }]),
            ),
            422,
            "invalid_input",
            "subnets",
        ),
        (
            "missing ip_range",
            json!({ "name": "net" }),
            422,
            "invalid_input",
            "ip_range",
        ),
        (
            "172.16/12",
            with("172.20.0.0/16", json!([cloud("172.20.1.0/24")])),
            201,
            "",
            "",
        ),
        ("the seed's plan", network_body("seed"), 201, "", ""),
    ];
    run(&api, "/networks", cases).await;
    let auto = api
        .post(
            "/networks",
            with(
                "192.168.0.0/16",
                json!([{ "type": "cloud", "network_zone": "us-east" }]),
            ),
        )
        .await;
    let subnet = &auto.expect(201, "")["network"]["subnets"][0];
    assert_eq!(subnet["ip_range"], "192.168.0.0/24");
    assert_eq!(subnet["gateway"], "192.168.0.1");
    let id = auto.body["network"]["id"].as_u64().expect("id");
    let added = api
        .post(
            &format!("/networks/{id}/actions/add_subnet"),
            json!({ "type": "cloud", "network_zone": "us-east" }),
        )
        .await;
    assert_eq!(added.expect(201, "")["action"]["command"], "add_subnet");
    let shown = api.get(&format!("/networks/{id}")).await;
    assert_eq!(
        shown.expect(200, "")["network"]["subnets"][1]["ip_range"],
        "192.168.1.0/24"
    );
}

#[tokio::test]
async fn firewall_rules_are_validated() {
    let fake = FakeHetzner::start(Faults::default()).await;
    let api = Api::new(&fake);
    let rule = |extra: Value| {
        let mut rule = json!({ "direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0"] });
        merge(&mut rule, extra);
        rule
    };
    let named = |name: &str, rules: Value| json!({ "name": name, "rules": rules });
    let bad = |what: &'static str, extra: Value| -> Case {
        (
            what,
            named("fw", json!([rule(extra)])),
            422,
            "invalid_input",
            "rules",
        )
    };
    let many: Vec<Value> = (0..51).map(|_| rule(json!({}))).collect();
    let cases: Vec<Case> = vec![
        bad("direction", json!({ "direction": "sideways" })),
        bad("protocol", json!({ "protocol": "sctp" })),
        bad("tcp without port", json!({ "port": null })),
        bad("icmp with port", json!({ "protocol": "icmp" })),
        bad("port 0", json!({ "port": "0" })),
        bad("port 70000", json!({ "port": "70000" })),
        bad("range upside down", json!({ "port": "10-5" })),
        bad("in without sources", json!({ "source_ips": [] })),
        bad(
            "in with destinations",
            json!({ "destination_ips": ["0.0.0.0/0"] }),
        ),
        bad("out without destinations", json!({ "direction": "out" })),
        bad("host bits", json!({ "source_ips": ["10.0.0.5/24"] })),
        bad("not an address", json!({ "source_ips": ["example.com"] })),
        bad(
            "long description",
            json!({ "description": "d".repeat(256) }),
        ),
        (
            "51 rules",
            named("fw", Value::Array(many)),
            422,
            "invalid_input",
            "rules",
        ),
        (
            "name over 128",
            named(&"f".repeat(129), json!([])),
            422,
            "invalid_input",
            "name",
        ),
        (
            "the seed's rules",
            named(
                "fw-ok",
                json!([
                    rule(json!({ "port": "2244", "source_ips": ["0.0.0.0/0", "::/0"] })),
                    rule(json!({ "port": "30000-32767" })),
                    rule(json!({ "port": "any", "protocol": "udp" })),
                    rule(json!({ "protocol": "icmp", "port": null, "source_ips": ["2001:db8::/32"] })),
                    { "direction": "out", "protocol": "gre", "destination_ips": ["10.0.0.1/32"] },
                ]),
            ),
            201,
            "",
            "",
        ),
        (
            "applied to a missing server",
            json!({ "name": "fw-x", "apply_to": [{ "type": "server", "server": { "id": 424_242 } }] }),
            422,
            "firewall_resource_not_found",
            "",
        ),
    ];
    run(&api, "/firewalls", cases).await;
}

#[tokio::test]
async fn labels_are_validated() {
    let fake = FakeHetzner::start(Faults::default()).await;
    let api = Api::new(&fake);
    let group = |labels: Value| json!({ "name": "pg", "type": "spread", "labels": labels });
    let bad = |what: &'static str, labels: Value| -> Case {
        (what, group(labels), 422, "invalid_input", "labels")
    };
    let cases: Vec<Case> = vec![
        bad("reserved prefix", json!({ "hetzner.cloud/role": "x" })),
        bad("value over 63", json!({ "k": "v".repeat(64) })),
        bad(
            "name over 63",
            Value::Object([("k".repeat(64), json!("v"))].into_iter().collect()),
        ),
        bad("key starts with a dash", json!({ "-k": "v" })),
        bad("value ends with a dash", json!({ "k": "v-" })),
        bad("two slashes", json!({ "a/b/c": "v" })),
        bad("a space", json!({ "k": "a b" })),
        bad("not a string", json!({ "k": 1 })),
        (
            "wrong type",
            json!({ "name": "pg", "type": "cluster" }),
            422,
            "invalid_input",
            "type",
        ),
        (
            "the overview's example",
            group(
                json!({ "environment": "development", "example.com/my": "label", "just-a-key": "" }),
            ),
            201,
            "",
            "",
        ),
    ];
    run(&api, "/placement_groups", cases).await;
    let id = fake.resources()[0].1;
    let replaced = api
        .put(
            &format!("/placement_groups/{id}"),
            json!({ "labels": { "only": "this" } }),
        )
        .await;
    assert_eq!(
        replaced.expect(200, "")["placement_group"]["labels"],
        json!({ "only": "this" }),
        "PUT replaces labels"
    );
    let refused = api
        .put(
            &format!("/placement_groups/{id}"),
            json!({ "labels": { "hetzner.cloud/x": "" } }),
        )
        .await;
    refused.expect(422, "invalid_input");
}

/// Every Hetzner location, image and server type railyard's defaults name exists in the
/// fake, and the catalogue endpoints answer in Hetzner's shapes.
#[tokio::test]
async fn the_catalogue_covers_railyards_defaults() {
    let fake = FakeHetzner::start(Faults::default()).await;
    let api = Api::new(&fake);
    let table = defaults::provider(Provider::Hetzner);
    for name in table.server_types {
        let answer = api.query("/server_types", &[("name", name)]).await;
        let types = answer.expect(200, "")["server_types"].clone();
        assert_eq!(
            types.as_array().map(Vec::len),
            Some(1),
            "server type {name}"
        );
        assert_eq!(types[0]["architecture"], "x86", "{name}");
    }
    for image in table.images {
        let query = [
            ("name", *image),
            ("type", "system"),
            ("architecture", "x86"),
        ];
        let answer = api.query("/images", &query).await;
        assert_eq!(
            answer.expect(200, "")["images"].as_array().map(Vec::len),
            Some(1),
            "image {image}"
        );
    }
    let gone = api.query("/images", &[("name", "ubuntu-20.04")]).await;
    assert_eq!(gone.expect(200, "")["images"], json!([]));
    let locations = api.get("/locations").await;
    let locations = locations.expect(200, "")["locations"].clone();
    for name in table.locations {
        let location = locations
            .as_array()
            .expect("locations")
            .iter()
            .find(|l| l["name"] == *name)
            .unwrap_or_else(|| panic!("location {name}"));
        assert_eq!(
            location["network_zone"],
            defaults::hetzner_network_zone(name),
            "{name}"
        );
    }
    let ccx23 = api.query("/server_types", &[("name", "ccx23")]).await;
    let ccx23 = &ccx23.expect(200, "")["server_types"][0];
    assert_eq!(
        (ccx23["cores"].as_u64(), ccx23["memory"].as_f64()),
        (Some(4), Some(16.0))
    );
    assert_eq!(ccx23["cpu_type"], "dedicated");
    let by_id = api.get(&format!("/server_types/{}", ccx23["id"])).await;
    assert_eq!(by_id.expect(200, "")["server_type"]["name"], "ccx23");
    api.get("/locations/1").await.expect(200, "");
    let lb_types = api.get("/load_balancer_types").await;
    assert_eq!(
        lb_types.expect(200, "")["load_balancer_types"][0]["max_targets"],
        25
    );
}
