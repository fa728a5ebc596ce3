//! Every resource as Hetzner's JSON, with the fields computed from the others: a network's
//! servers, a server's firewalls and load balancers, a load balancer's selected targets.

use std::net::Ipv4Addr;

use serde_json::{Map, Value, json};

use super::check::Selector;
use super::model::{
    Applied, Data, Firewall, Kind, LoadBalancer, Network, Resource, Server, Target,
};
use super::state::State;

impl State {
    pub(super) fn render(&self, resource: &Resource) -> Value {
        // The fields every kind has first, then the kind's own.
        let common = |specific: Value| {
            let mut map = Map::new();
            map.insert("id".to_owned(), json!(resource.id));
            map.insert("name".to_owned(), json!(resource.name));
            map.insert("labels".to_owned(), json!(resource.labels));
            map.insert("created".to_owned(), json!(resource.created));
            if let Value::Object(specific) = specific {
                map.extend(specific);
            }
            Value::Object(map)
        };
        let id = resource.id;
        common(match &resource.data {
            Data::SshKey(k) => json!({
                "fingerprint": k.fingerprint, "public_key": k.public_key,
            }),
            Data::PlacementGroup => {
                let servers: Vec<u64> = self
                    .servers()
                    .filter(|(_, s)| s.placement_group == Some(id))
                    .map(|(r, _)| r.id)
                    .collect();
                json!({ "type": "spread", "servers": servers })
            }
            Data::Network(n) => self.render_network(id, n),
            Data::Firewall(f) => self.render_firewall(f),
            Data::LoadBalancer(l) => self.render_load_balancer(l),
            Data::Server(s) => self.render_server(resource, s),
        })
    }

    fn render_network(&self, id: u64, network: &Network) -> Value {
        let gateway = Ipv4Addr::from(network.ip_range.base + 1).to_string();
        let subnets: Vec<Value> = network
            .subnets
            .iter()
            .map(|s| {
                json!({
                    "type": s.kind, "ip_range": s.ip_range.to_string(),
                    "network_zone": s.network_zone, "gateway": gateway, "vswitch_id": s.vswitch_id,
                })
            })
            .collect();
        let servers: Vec<u64> = self
            .servers()
            .filter(|(_, s)| s.private_net.iter().any(|p| p.network == id))
            .map(|(r, _)| r.id)
            .collect();
        let balancers: Vec<u64> = self
            .load_balancers()
            .filter(|(_, l)| l.private_net.iter().any(|(n, _)| *n == id))
            .map(|(r, _)| r.id)
            .collect();
        json!({
            "ip_range": network.ip_range.to_string(), "subnets": subnets,
            "routes": network.routes, "servers": servers, "load_balancers": balancers,
            "protection": { "delete": false },
            "expose_routes_to_vswitch": network.expose_routes_to_vswitch,
        })
    }

    fn render_firewall(&self, firewall: &Firewall) -> Value {
        let applied: Vec<Value> = firewall
            .applied
            .iter()
            .map(|a| match a {
                Applied::Server(server) => json!({ "type": "server", "server": { "id": server } }),
                Applied::Selector(selector) => {
                    let resources: Vec<Value> = self
                        .matching_servers(selector)
                        .into_iter()
                        .map(|s| json!({ "type": "server", "server": { "id": s } }))
                        .collect();
                    json!({
                        "type": "label_selector", "label_selector": { "selector": selector },
                        "applied_to_resources": resources,
                    })
                }
            })
            .collect();
        json!({
            "rules": firewall.rules, "applied_to": applied,
        })
    }

    fn health(&self, balancer: &LoadBalancer, server: u64, private: bool) -> Vec<Value> {
        let healthy = self
            .get(Kind::Server, server)
            .and_then(Resource::server)
            .is_some_and(|s| {
                s.status == "running"
                    && (!private
                        || s.private_net
                            .iter()
                            .any(|p| balancer.private_net.iter().any(|(n, _)| *n == p.network)))
            });
        let status = if healthy { "healthy" } else { "unhealthy" };
        balancer
            .services
            .iter()
            .map(|s| json!({ "listen_port": s["listen_port"], "status": status }))
            .collect()
    }

    fn render_load_balancer(&self, balancer: &LoadBalancer) -> Value {
        let server_target = |id: u64, private: bool| {
            json!({
                "type": "server", "server": { "id": id }, "use_private_ip": private,
                "health_status": self.health(balancer, id, private),
            })
        };
        let targets: Vec<Value> = balancer
            .targets
            .iter()
            .map(|t| match t {
                Target::Server { id, private } => server_target(*id, *private),
                Target::Selector { selector, private } => {
                    let matched: Vec<Value> = self
                        .matching_servers(selector)
                        .into_iter()
                        .map(|id| server_target(id, *private))
                        .collect();
                    json!({
                        "type": "label_selector", "label_selector": { "selector": selector },
                        "use_private_ip": private, "targets": matched,
                    })
                }
                Target::Ip(ip) => json!({ "type": "ip", "ip": { "ip": ip }, "health_status": [] }),
            })
            .collect();
        let private_net: Vec<Value> = balancer
            .private_net
            .iter()
            .map(|(network, ip)| json!({ "network": network, "ip": ip.to_string() }))
            .collect();
        json!({
            "public_net": {
                "enabled": balancer.public_interface,
                "ipv4": { "ip": format!("203.0.113.{}", balancer.host), "dns_ptr": null },
                "ipv6": { "ip": format!("2001:db8:ff::{:x}", balancer.host), "dns_ptr": null },
            },
            "private_net": private_net,
            "location": balancer.location.json(),
            "load_balancer_type": balancer.lb_type.json(),
            "protection": { "delete": false },
            "services": balancer.services,
            "targets": targets,
            "algorithm": { "type": balancer.algorithm },
            "outgoing_traffic": null,
            "ingoing_traffic": null,
            "included_traffic": 21_990_232_555_520u64,
        })
    }

    fn render_server(&self, resource: &Resource, server: &Server) -> Value {
        let id = resource.id;
        let firewalls: Vec<Value> = self
            .of_kind(Kind::Firewall)
            .filter(|r| {
                r.firewall().is_some_and(|f| {
                    f.applied.iter().any(|a| match a {
                        Applied::Server(s) => *s == id,
                        Applied::Selector(sel) => {
                            Selector::parse(sel).is_ok_and(|sel| sel.matches(&resource.labels))
                        }
                    })
                })
            })
            .map(|r| json!({ "id": r.id, "status": "applied" }))
            .collect();
        let balancers: Vec<u64> = self
            .load_balancers()
            .filter(|(_, l)| {
                l.targets.iter().any(|t| match t {
                    Target::Server { id: s, .. } => *s == id,
                    Target::Selector { selector, .. } => {
                        Selector::parse(selector).is_ok_and(|sel| sel.matches(&resource.labels))
                    }
                    Target::Ip(_) => false,
                })
            })
            .map(|(r, _)| r.id)
            .collect();
        let private_net: Vec<Value> = server
            .private_net
            .iter()
            .map(|p| {
                let mac = ((id << 8) | p.network) & 0xff_ffff;
                json!({
                    "network": p.network, "ip": p.ip.to_string(), "alias_ips": p.alias_ips,
                    "mac_address": format!("86:00:00:{:02x}:{:02x}:{:02x}", mac >> 16, (mac >> 8) & 0xff, mac & 0xff),
                })
            })
            .collect();
        let ipv4 = server.ipv4.then(|| {
            json!({ "ip": format!("198.51.100.{}", server.host), "blocked": false, "dns_ptr": format!("static.{}.100.51.198.clients.your-server.de", server.host) })
        });
        let ipv6 = server.ipv6.then(|| {
            json!({ "ip": format!("2001:db8:{:x}::/64", server.host), "blocked": false, "dns_ptr": [] })
        });
        let placement_group = server
            .placement_group
            .and_then(|pg| self.get(Kind::PlacementGroup, pg))
            .map(|pg| self.render(pg));
        json!({
            "status": server.status,
            "public_net": { "ipv4": ipv4, "ipv6": ipv6, "floating_ips": [], "firewalls": firewalls },
            "private_net": private_net,
            "server_type": server.server_type.json(&self.faults.unavailable),
            "location": server.location.json(),
            "image": server.image.json(),
            "placement_group": placement_group,
            "load_balancers": balancers,
            "volumes": [],
            "locked": self.locked(Kind::Server, id),
            "protection": { "delete": false, "rebuild": false },
            "backup_window": null,
            "rescue_enabled": false,
            "iso": null,
            "primary_disk_size": server.server_type.disk,
            "included_traffic": 21_990_232_555_520u64,
            "outgoing_traffic": null,
            "ingoing_traffic": null,
        })
    }
}
