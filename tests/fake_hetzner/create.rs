//! Creating POSTs (`POST /v1/<kind>`), validated as cloud-apis.md §2 and the spec describe:
//! SSH keys, networks, firewalls, placement groups, load balancers, servers.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::api::{Reply, check_name};
use super::bodies::{
    check_listen_port, check_new_target, parse_rules, parse_service, parse_subnet,
};
use super::catalog;
use super::check::{
    self, ApiError, Cidr4, Object, Result, element, opt_array, opt_bool, opt_object, opt_str,
    opt_u64, present, req_str, req_u64,
};
use super::model::{
    Applied, Data, Effect, Firewall, Kind, LoadBalancer, Network, PrivateNet, Server, SshKey,
    Subnet, Target,
};
use super::state::State;

/// Hetzner's limit on `user_data`: 32 KiB.
const USER_DATA_LIMIT: usize = 32 * 1024;

/// A spread placement group holds at most 10 servers.
const SPREAD_LIMIT: usize = 10;

/// A field given as an ID (number) or a name (string), as text.
fn id_or_name(obj: &Object, key: &str) -> Result<Option<String>> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::invalid(key, "Not a valid ID or name.")),
    }
}

impl State {
    pub(super) fn create(&mut self, kind: Kind, body: &[u8]) -> Result<Reply> {
        let obj = check::object(body)?;
        let name = req_str(&obj, "name")?;
        check_name(kind, name)?;
        let labels = check::labels(&obj)?.unwrap_or_default();
        match kind {
            Kind::SshKey => self.create_ssh_key(&obj, name, labels),
            Kind::Network => self.create_network(&obj, name, labels),
            Kind::Firewall => self.create_firewall(&obj, name, labels),
            Kind::PlacementGroup => {
                if req_str(&obj, "type")? != "spread" {
                    return Err(ApiError::invalid("type", "must be one of: spread"));
                }
                self.check_name_free(kind, name, None)?;
                let id = self.next_id();
                self.insert(id, name, labels, Data::PlacementGroup);
                let group = self.render(self.find(kind, id)?);
                Ok(Reply::json(
                    201,
                    json!({ "placement_group": group, "action": null }),
                ))
            }
            Kind::LoadBalancer => self.create_load_balancer(&obj, name, labels),
            Kind::Server => self.create_server(&obj, name, labels),
        }
    }

    fn created(&self, kind: Kind, id: u64) -> Result<Value> {
        Ok(self.render(self.find(kind, id)?))
    }

    fn create_ssh_key(&mut self, obj: &Object, name: &str, labels: check::Labels) -> Result<Reply> {
        let public_key = req_str(obj, "public_key")?;
        let fingerprint = check::ssh_fingerprint(public_key)
            .ok_or_else(|| ApiError::invalid("public_key", "invalid public key"))?;
        self.check_name_free(Kind::SshKey, name, None)?;
        let duplicate = self
            .of_kind(Kind::SshKey)
            .any(|r| r.ssh_key().is_some_and(|k| k.fingerprint == fingerprint));
        if duplicate {
            return Err(ApiError::unique(
                "public_key",
                "SSH key with the same fingerprint already exists",
            ));
        }
        let id = self.next_id();
        let key = SshKey {
            public_key: public_key.to_owned(),
            fingerprint,
        };
        self.insert(id, name, labels, Data::SshKey(key));
        Ok(Reply::wrapped(
            201,
            "ssh_key",
            self.created(Kind::SshKey, id)?,
        ))
    }

    fn create_network(&mut self, obj: &Object, name: &str, labels: check::Labels) -> Result<Reply> {
        let text = req_str(obj, "ip_range")?;
        let ip_range = Cidr4::parse(text).ok_or_else(|| {
            ApiError::invalid("ip_range", format!("'{text}' is not a CIDR block"))
        })?;
        if !ip_range.is_rfc1918() {
            return Err(ApiError::invalid(
                "ip_range",
                "must be one of the private IPv4 ranges of RFC1918",
            ));
        }
        if ip_range.prefix > 24 {
            return Err(ApiError::invalid("ip_range", "minimum network size is /24"));
        }
        let mut subnets: Vec<Subnet> = Vec::new();
        for item in opt_array(obj, "subnets")? {
            let subnet = parse_subnet(element(item, "subnets")?, ip_range, &subnets)?;
            subnets.push(subnet);
        }
        let mut routes = Vec::new();
        for item in opt_array(obj, "routes")? {
            let route = element(item, "routes")?;
            let destination = req_str(route, "destination")?;
            let gateway = req_str(route, "gateway")?;
            let gateway_ok = gateway.parse::<Ipv4Addr>().is_ok_and(|g| {
                ip_range.contains_ip(u32::from(g)) && u32::from(g) != ip_range.base + 1
            });
            if Cidr4::parse(destination).is_none() || !gateway_ok {
                return Err(ApiError::invalid(
                    "routes",
                    "invalid destination or gateway",
                ));
            }
            routes.push(json!({ "destination": destination, "gateway": gateway }));
        }
        let network = Network {
            ip_range,
            subnets,
            routes,
            expose_routes_to_vswitch: opt_bool(obj, "expose_routes_to_vswitch")?.unwrap_or(false),
        };
        let id = self.next_id();
        self.insert(id, name, labels, Data::Network(network));
        Ok(Reply::wrapped(
            201,
            "network",
            self.created(Kind::Network, id)?,
        ))
    }

    fn create_firewall(
        &mut self,
        obj: &Object,
        name: &str,
        labels: check::Labels,
    ) -> Result<Reply> {
        let rules = parse_rules(opt_array(obj, "rules")?)?;
        let applied = self.parse_apply_to(opt_array(obj, "apply_to")?, "apply_to", 422)?;
        if let Some(duplicate) = applied
            .iter()
            .enumerate()
            .find(|(i, a)| applied[..*i].contains(a))
        {
            return Err(ApiError::unprocessable(
                "server_already_added",
                format!("{:?} is applied more than once", duplicate.1),
            ));
        }
        self.check_name_free(Kind::Firewall, name, None)?;
        let id = self.next_id();
        let servers = self.applied_servers(&applied);
        let firewall = Firewall {
            rules,
            applied: applied.clone(),
        };
        self.insert(id, name, labels, Data::Firewall(firewall));
        let mut actions = vec![self.action(
            "set_firewall_rules",
            vec![(Kind::Firewall, id)],
            Effect::None,
        )];
        if !applied.is_empty() {
            let mut resources: Vec<(Kind, u64)> =
                servers.into_iter().map(|s| (Kind::Server, s)).collect();
            resources.push((Kind::Firewall, id));
            actions.push(self.action("apply_firewall", resources, Effect::None));
        }
        let actions: Vec<Value> = actions.into_iter().map(|a| self.action_json(a)).collect();
        let firewall = self.created(Kind::Firewall, id)?;
        Ok(Reply::json(
            201,
            json!({ "firewall": firewall, "actions": actions }),
        ))
    }

    fn create_load_balancer(
        &mut self,
        obj: &Object,
        name: &str,
        labels: check::Labels,
    ) -> Result<Reply> {
        let type_key = id_or_name(obj, "load_balancer_type")?.ok_or_else(|| {
            ApiError::invalid("load_balancer_type", "Missing data for required field.")
        })?;
        let lb_type = catalog::load_balancer_type_by(&type_key).ok_or_else(|| {
            ApiError::invalid(
                "load_balancer_type",
                format!("'{type_key}' is not a load balancer type"),
            )
        })?;
        let location = match (id_or_name(obj, "location")?, opt_str(obj, "network_zone")?) {
            (Some(key), None) => catalog::location_by(&key).ok_or_else(|| {
                ApiError::invalid("location", format!("'{key}' is not a location"))
            })?,
            (None, Some(zone)) => catalog::LOCATIONS
                .iter()
                .find(|l| l.network_zone == zone)
                .ok_or_else(|| {
                    ApiError::invalid("network_zone", format!("'{zone}' is not a network zone"))
                })?,
            _ => {
                return Err(ApiError::invalid(
                    "location",
                    "exactly one of location and network_zone is required",
                ));
            }
        };
        let algorithm = match opt_object(obj, "algorithm")? {
            Some(a) => req_str(a, "type")?,
            None => "round_robin",
        };
        if !["round_robin", "least_connections"].contains(&algorithm) {
            return Err(ApiError::invalid(
                "algorithm",
                format!("'{algorithm}' is not an algorithm"),
            ));
        }
        let network = opt_u64(obj, "network")?;
        if let Some(network) = network {
            if self.get(Kind::Network, network).is_none() {
                return Err(ApiError::invalid(
                    "network",
                    format!("network {network} not found"),
                ));
            }
        }
        let networks: Vec<u64> = network.into_iter().collect();
        let mut services: Vec<Value> = Vec::new();
        for item in opt_array(obj, "services")? {
            let service = parse_service(element(item, "services")?)?;
            check_listen_port(&services, &service)?;
            services.push(service);
        }
        let mut targets: Vec<Target> = Vec::new();
        for item in opt_array(obj, "targets")? {
            let target = self.parse_target(element(item, "targets")?, &networks)?;
            check_new_target(&targets, &target)?;
            targets.push(target);
        }
        let public_interface = opt_bool(obj, "public_interface")?.unwrap_or(true);
        self.check_name_free(Kind::LoadBalancer, name, None)?;
        let private_net = match network {
            Some(n) => vec![(n, self.private_ip(n, location.network_zone, None, None)?)],
            None => Vec::new(),
        };
        let host = self.load_balancer_host()?;
        let id = self.next_id();
        let balancer = LoadBalancer {
            lb_type,
            location,
            algorithm: algorithm.to_owned(),
            services,
            targets,
            public_interface,
            host,
            private_net,
        };
        self.insert(id, name, labels, Data::LoadBalancer(Box::new(balancer)));
        let action = self.action(
            "create_load_balancer",
            vec![(Kind::LoadBalancer, id)],
            Effect::None,
        );
        let balancer = self.created(Kind::LoadBalancer, id)?;
        Ok(Reply::json(
            201,
            json!({ "load_balancer": balancer, "action": self.action_json(action) }),
        ))
    }

    fn create_server(&mut self, obj: &Object, name: &str, labels: check::Labels) -> Result<Reply> {
        let required = |key: &str| {
            id_or_name(obj, key)?
                .ok_or_else(|| ApiError::invalid(key, "Missing data for required field."))
        };
        let type_key = required("server_type")?;
        let server_type = catalog::server_type_by(&type_key).ok_or_else(|| {
            ApiError::invalid("server_type", format!("'{type_key}' is not a server type"))
        })?;
        let image_key = required("image")?;
        if present(obj, "datacenter").is_some() {
            return Err(ApiError::invalid(
                "datacenter",
                "datacenter was removed from the API; use location",
            ));
        }
        let location_key = id_or_name(obj, "location")?.unwrap_or_else(|| "fsn1".to_owned());
        let location = catalog::location_by(&location_key).ok_or_else(|| {
            ApiError::invalid("location", format!("'{location_key}' is not a location"))
        })?;
        let sold_out = self
            .faults
            .unavailable
            .contains(&(server_type.name, location.name));
        if !server_type.available_in(location) || sold_out {
            return Err(ApiError::new(
                412,
                "resource_unavailable",
                format!(
                    "server type {} is not available in {}",
                    server_type.name, location.name
                ),
            ));
        }
        let image = catalog::image_by(&image_key, server_type.architecture())
            .filter(|i| i.architecture == server_type.architecture())
            .ok_or_else(|| {
                ApiError::invalid(
                    "image",
                    format!(
                        "no image '{image_key}' for architecture {}",
                        server_type.architecture()
                    ),
                )
            })?;
        let mut ssh_keys = Vec::new();
        for key in opt_array(obj, "ssh_keys")? {
            let found = match key {
                Value::Number(n) => n.as_u64().and_then(|id| self.get(Kind::SshKey, id)),
                Value::String(s) => self.by_name(Kind::SshKey, s),
                _ => None,
            };
            let found = found
                .ok_or_else(|| ApiError::invalid("ssh_keys", format!("SSH key {key} not found")))?;
            ssh_keys.push(found.id);
        }
        if let Some(user_data) = opt_str(obj, "user_data")? {
            if user_data.len() > USER_DATA_LIMIT {
                return Err(ApiError::invalid(
                    "user_data",
                    format!("is {} bytes; at most 32 KiB (32768 bytes)", user_data.len()),
                ));
            }
        }
        let mut networks: Vec<u64> = Vec::new();
        for item in opt_array(obj, "networks")? {
            let id = item
                .as_u64()
                .filter(|id| self.get(Kind::Network, *id).is_some())
                .ok_or_else(|| {
                    ApiError::invalid("networks", format!("network {item} not found"))
                })?;
            if networks.contains(&id) {
                return Err(ApiError::invalid(
                    "networks",
                    format!("network {id} given twice"),
                ));
            }
            networks.push(id);
        }
        let mut firewalls: Vec<u64> = Vec::new();
        for item in opt_array(obj, "firewalls")? {
            let id = req_u64(element(item, "firewalls")?, "firewall")?;
            if self.get(Kind::Firewall, id).is_none() {
                return Err(ApiError::invalid(
                    "firewalls",
                    format!("firewall {id} not found"),
                ));
            }
            firewalls.push(id);
        }
        let placement_group = opt_u64(obj, "placement_group")?;
        if let Some(group) = placement_group {
            if self.get(Kind::PlacementGroup, group).is_none() {
                return Err(ApiError::invalid(
                    "placement_group",
                    format!("placement group {group} not found"),
                ));
            }
            let members = self
                .servers()
                .filter(|(_, s)| s.placement_group == Some(group))
                .count();
            if members >= SPREAD_LIMIT {
                return Err(ApiError::unprocessable(
                    "placement_error",
                    format!("spread placement group {group} already holds {members} servers"),
                ));
            }
        }
        let (mut ipv4, mut ipv6) = (true, true);
        if let Some(public_net) = opt_object(obj, "public_net")? {
            ipv4 = opt_bool(public_net, "enable_ipv4")?.unwrap_or(true);
            ipv6 = opt_bool(public_net, "enable_ipv6")?.unwrap_or(true);
            if present(public_net, "ipv4").is_some() || present(public_net, "ipv6").is_some() {
                return Err(ApiError::invalid(
                    "public_net",
                    "primary IPs are not modelled by this fake",
                ));
            }
        }
        if !opt_array(obj, "volumes")?.is_empty() {
            return Err(ApiError::invalid(
                "volumes",
                "volumes are not modelled by this fake",
            ));
        }
        let start = opt_bool(obj, "start_after_create")?.unwrap_or(true);
        self.check_name_free(Kind::Server, name, None)?;
        let mut private_net = Vec::new();
        for network in networks {
            let ip = self.private_ip(network, location.network_zone, None, None)?;
            private_net.push(PrivateNet {
                network,
                ip,
                alias_ips: Vec::new(),
            });
        }
        let host = self.server_host()?;
        let id = self.next_id();
        let server = Server {
            status: "initializing",
            server_type,
            image,
            location,
            host,
            ipv4,
            ipv6,
            private_net,
            placement_group,
        };
        self.insert(id, name, labels, Data::Server(Box::new(server)));
        for firewall in firewalls {
            if let Some(Data::Firewall(f)) =
                self.get_mut(Kind::Firewall, firewall).map(|r| &mut r.data)
            {
                if !f.applied.contains(&Applied::Server(id)) {
                    f.applied.push(Applied::Server(id));
                }
            }
        }
        // The server is off once created; `start_after_create` starts it by a next action.
        let action = self.action(
            "create_server",
            vec![(Kind::Server, id)],
            Effect::Created {
                server: id,
                start: false,
            },
        );
        let mut next_actions = Vec::new();
        if start {
            let on = Effect::Power {
                server: id,
                on: true,
            };
            let next = self.action("start_server", vec![(Kind::Server, id)], on);
            next_actions.push(self.action_json(next));
        }
        let root_password = if ssh_keys.is_empty() {
            let random = self.random();
            json!(format!("{random:016x}"))
        } else {
            Value::Null
        };
        let server = self.created(Kind::Server, id)?;
        Ok(Reply::json(
            201,
            json!({
                "server": server,
                "action": self.action_json(action),
                "next_actions": next_actions,
                "root_password": root_password,
            }),
        ))
    }
}
