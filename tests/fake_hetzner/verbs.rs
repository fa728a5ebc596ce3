//! `POST /v1/<kind>/{id}/actions/<verb>`: server network attachment and power, network
//! subnets, firewall rules and applications, load balancer network, services and targets.
//! Each answers 201 with `{"action": …}`, or `{"actions": […]}` for firewalls (as hcloud-go's
//! schema has it).

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::api::Reply;
use super::bodies::{
    check_listen_port, check_new_target, parse_rules, parse_service, parse_subnet, same_target,
};
use super::check::{self, ApiError, Cidr4, Object, Result, element, opt_array, opt_str, req_u64};
use super::model::{Applied, Data, Effect, Kind, PrivateNet, Resource, Target};
use super::state::State;

const VERBS: &[(Kind, &str)] = &[
    (Kind::Server, "attach_to_network"),
    (Kind::Server, "detach_from_network"),
    (Kind::Server, "poweron"),
    (Kind::Server, "poweroff"),
    (Kind::Network, "add_subnet"),
    (Kind::Firewall, "set_rules"),
    (Kind::Firewall, "apply_to_resources"),
    (Kind::Firewall, "remove_from_resources"),
    (Kind::LoadBalancer, "attach_to_network"),
    (Kind::LoadBalancer, "add_service"),
    (Kind::LoadBalancer, "delete_service"),
    (Kind::LoadBalancer, "add_target"),
    (Kind::LoadBalancer, "remove_target"),
];

fn one(state: &State, action: u64) -> Reply {
    Reply::wrapped(201, "action", state.action_json(action))
}

fn ipv4_field(obj: &Object, key: &str) -> Result<Option<Ipv4Addr>> {
    opt_str(obj, key)?
        .map(|s| {
            s.parse()
                .map_err(|_| ApiError::invalid(key, format!("'{s}' is not an IPv4 address")))
        })
        .transpose()
}

impl State {
    pub(super) fn verb(&mut self, kind: Kind, id: u64, verb: &str, body: &[u8]) -> Result<Reply> {
        if !VERBS.contains(&(kind, verb)) {
            return Err(ApiError::not_found(format!(
                "action '{verb}' of {}",
                kind.plural()
            )));
        }
        self.find(kind, id)?;
        self.check_unlocked(kind, id)?;
        let obj = if body.is_empty() {
            Object::new()
        } else {
            check::object(body)?
        };
        match (kind, verb) {
            (Kind::Server, "attach_to_network") => self.server_attach(id, &obj),
            (Kind::Server, "detach_from_network") => {
                let network = req_u64(&obj, "network")?;
                self.check_unlocked(Kind::Network, network)?;
                let server = self.server_mut(id);
                let before = server.private_net.len();
                server.private_net.retain(|p| p.network != network);
                if server.private_net.len() == before {
                    return Err(ApiError::unprocessable(
                        "server_not_attached_to_network",
                        format!("server {id} is not attached to network {network}"),
                    ));
                }
                let resources = vec![(Kind::Server, id), (Kind::Network, network)];
                let action = self.action("detach_from_network", resources, Effect::None);
                Ok(one(self, action))
            }
            (Kind::Server, "poweron" | "poweroff") => {
                let on = verb == "poweron";
                let command = if on { "start_server" } else { "stop_server" };
                let action =
                    self.action(command, vec![(kind, id)], Effect::Power { server: id, on });
                Ok(one(self, action))
            }
            (Kind::Network, _) => {
                let Some(Data::Network(network)) = self.get(kind, id).map(|r| &r.data) else {
                    unreachable!("found above");
                };
                let subnet = parse_subnet(&obj, network.ip_range, &network.subnets)?;
                if let Some(Data::Network(network)) = self.get_mut(kind, id).map(|r| &mut r.data) {
                    network.subnets.push(subnet);
                }
                let action = self.action("add_subnet", vec![(kind, id)], Effect::None);
                Ok(one(self, action))
            }
            (Kind::Firewall, _) => self.firewall_verb(id, verb, &obj),
            (Kind::LoadBalancer, _) => self.load_balancer_verb(id, verb, &obj),
            _ => Err(ApiError::not_found(format!("action '{verb}'"))),
        }
    }

    fn server_mut(&mut self, id: u64) -> &mut super::model::Server {
        match self.get_mut(Kind::Server, id).map(|r| &mut r.data) {
            Some(Data::Server(server)) => server,
            _ => unreachable!("server {id} found above"),
        }
    }

    fn server_attach(&mut self, id: u64, obj: &Object) -> Result<Reply> {
        let network_id = req_u64(obj, "network")?;
        let network = self
            .get(Kind::Network, network_id)
            .and_then(Resource::network)
            .ok_or_else(|| {
                ApiError::invalid("network", format!("network {network_id} not found"))
            })?;
        let range = opt_str(obj, "ip_range")?
            .map(|text| {
                Cidr4::parse(text)
                    .filter(|r| network.subnets.iter().any(|s| s.ip_range == *r))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "ip_range",
                            format!("'{text}' is not a subnet of the network"),
                        )
                    })
            })
            .transpose()?;
        let ip = ipv4_field(obj, "ip")?;
        let alias_ips: Vec<String> = opt_array(obj, "alias_ips")?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::invalid("alias_ips", "Not a valid string."))
            })
            .collect::<Result<_>>()?;
        let server = self
            .get(Kind::Server, id)
            .and_then(Resource::server)
            .expect("found above");
        if server.private_net.iter().any(|p| p.network == network_id) {
            return Err(ApiError::unprocessable(
                "server_already_attached",
                format!("server {id} is already attached to network {network_id}"),
            ));
        }
        let overlapping = server.private_net.iter().any(|p| {
            self.get(Kind::Network, p.network)
                .and_then(Resource::network)
                .is_some_and(|other| other.ip_range.overlaps(network.ip_range))
        });
        if overlapping {
            return Err(ApiError::unprocessable(
                "networks_overlap",
                "the network's IP range overlaps one of the server's networks",
            ));
        }
        self.check_unlocked(Kind::Network, network_id)?;
        let ip = self.private_ip(network_id, server.location.network_zone, ip, range)?;
        self.server_mut(id).private_net.push(PrivateNet {
            network: network_id,
            ip,
            alias_ips,
        });
        let resources = vec![(Kind::Server, id), (Kind::Network, network_id)];
        let action = self.action("attach_to_network", resources, Effect::None);
        Ok(one(self, action))
    }

    fn firewall_verb(&mut self, id: u64, verb: &str, obj: &Object) -> Result<Reply> {
        let firewall = self
            .find(Kind::Firewall, id)?
            .firewall()
            .expect("a firewall");
        let mut applied = firewall.applied.clone();
        let (command, servers) = match verb {
            "set_rules" => {
                if !obj.contains_key("rules") {
                    return Err(ApiError::invalid(
                        "rules",
                        "Missing data for required field.",
                    ));
                }
                let rules = parse_rules(opt_array(obj, "rules")?)?;
                if let Some(Data::Firewall(f)) =
                    self.get_mut(Kind::Firewall, id).map(|r| &mut r.data)
                {
                    f.rules = rules;
                }
                ("set_firewall_rules", Vec::new())
            }
            "apply_to_resources" => {
                let items =
                    self.parse_apply_to(required_array(obj, "apply_to")?, "apply_to", 404)?;
                for item in &items {
                    if applied.contains(item) {
                        return Err(ApiError::unprocessable(
                            "firewall_already_applied",
                            format!("firewall {id} is already applied to {item:?}"),
                        ));
                    }
                    applied.push(item.clone());
                }
                ("apply_firewall", self.applied_servers(&items))
            }
            _ => {
                let items =
                    self.parse_apply_to(required_array(obj, "remove_from")?, "remove_from", 404)?;
                for item in &items {
                    let by_selector = match item {
                        Applied::Server(server) => {
                            !applied.contains(item)
                                && applied.iter().any(|a| match a {
                                    Applied::Selector(s) => {
                                        self.matching_servers(s).contains(server)
                                    }
                                    Applied::Server(_) => false,
                                })
                        }
                        Applied::Selector(_) => false,
                    };
                    if by_selector {
                        return Err(ApiError::unprocessable(
                            "firewall_managed_by_label_selector",
                            "the firewall is applied to this server by a label selector",
                        ));
                    }
                    applied.retain(|a| a != item);
                }
                ("remove_firewall", self.applied_servers(&items))
            }
        };
        if let Some(Data::Firewall(f)) = self.get_mut(Kind::Firewall, id).map(|r| &mut r.data) {
            f.applied = applied;
        }
        let mut resources: Vec<(Kind, u64)> =
            servers.into_iter().map(|s| (Kind::Server, s)).collect();
        resources.push((Kind::Firewall, id));
        let action = self.action(command, resources, Effect::None);
        Ok(Reply::json(
            201,
            json!({ "actions": [self.action_json(action)] }),
        ))
    }

    fn load_balancer_verb(&mut self, id: u64, verb: &str, obj: &Object) -> Result<Reply> {
        let balancer = self
            .find(Kind::LoadBalancer, id)?
            .load_balancer()
            .expect("a load balancer");
        let networks: Vec<u64> = balancer.private_net.iter().map(|(n, _)| *n).collect();
        let zone = balancer.location.network_zone;
        let mut services = balancer.services.clone();
        let mut targets = balancer.targets.clone();
        let mut private_net = balancer.private_net.clone();
        let mut resources = vec![(Kind::LoadBalancer, id)];
        match verb {
            "attach_to_network" => {
                let network = req_u64(obj, "network")?;
                if self.get(Kind::Network, network).is_none() {
                    return Err(ApiError::invalid(
                        "network",
                        format!("network {network} not found"),
                    ));
                }
                if networks.contains(&network) {
                    return Err(ApiError::unprocessable(
                        "load_balancer_already_attached",
                        format!("load balancer {id} is already attached to network {network}"),
                    ));
                }
                self.check_unlocked(Kind::Network, network)?;
                let ip = self.private_ip(network, zone, ipv4_field(obj, "ip")?, None)?;
                private_net.push((network, ip));
                resources.push((Kind::Network, network));
            }
            "add_service" => {
                let service = parse_service(obj)?;
                check_listen_port(&services, &service)?;
                services.push(service);
            }
            "delete_service" => {
                let port = req_u64(obj, "listen_port")?;
                let before = services.len();
                services.retain(|s| s["listen_port"] != json!(port));
                if services.len() == before {
                    return Err(ApiError::invalid(
                        "listen_port",
                        format!("no service listens on {port}"),
                    ));
                }
            }
            "add_target" => {
                let target = self.parse_target(obj, &networks)?;
                check_new_target(&targets, &target)?;
                targets.push(target);
            }
            _ => {
                let target = self.target_identity(obj)?;
                let before = targets.len();
                targets.retain(|t| !same_target(t, &target));
                if targets.len() == before {
                    return Err(ApiError::invalid("target", "the target is not defined"));
                }
            }
        }
        if let Some(Data::LoadBalancer(l)) =
            self.get_mut(Kind::LoadBalancer, id).map(|r| &mut r.data)
        {
            l.services = services;
            l.targets = targets;
            l.private_net = private_net;
        }
        let command = match verb {
            "attach_to_network" => "attach_to_network",
            "add_service" => "add_service",
            "delete_service" => "delete_service",
            "add_target" => "add_target",
            _ => "remove_target",
        };
        let action = self.action(command, resources, Effect::None);
        Ok(one(self, action))
    }

    /// The target a `remove_target` names (its `use_private_ip` does not matter).
    fn target_identity(&self, obj: &Object) -> Result<Target> {
        let mut lenient = obj.clone();
        lenient.remove("use_private_ip");
        let target = self.parse_target(&lenient, &[]);
        match target {
            Ok(t) => Ok(t),
            // A server target of a server that no longer exists is still removable by ID.
            Err(_) => {
                let server = check::req_object(obj, "server")?;
                Ok(Target::Server {
                    id: req_u64(server, "id")?,
                    private: false,
                })
            }
        }
    }
}

fn required_array<'a>(obj: &'a Object, key: &str) -> Result<&'a [Value]> {
    if !obj.contains_key(key) {
        return Err(ApiError::invalid(key, "Missing data for required field."));
    }
    let items = opt_array(obj, key)?;
    for item in items {
        element(item, key)?;
    }
    Ok(items)
}
