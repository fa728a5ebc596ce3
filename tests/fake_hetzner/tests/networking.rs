//! Networking through the fake: private addresses assigned or honoured, load balancers in
//! networks with selected targets, firewall rules and applications.

use serde_json::{Value, json};

use super::{Faults, network_body, started};

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
