//! Creating POSTs (`POST /v1/<kind>`), validated as cloud-apis.md §2 and the spec describe,
//! and the pieces the `…/actions/<verb>` endpoints share with them: subnets, firewall rules
//! and targets, load balancer services and targets.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::api::{Reply, check_name};
use super::catalog::{self, NETWORK_ZONES};
use super::check::{
    self, ApiError, Cidr4, Object, Result, Selector, element, opt_array, opt_bool, opt_object,
    opt_str, opt_u64, present, req_object, req_str, req_u64,
};
use super::model::{
    Applied, Data, Effect, Firewall, Kind, LoadBalancer, Network, PrivateNet, Resource, Server,
    SshKey, State, Subnet, Target,
};

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

fn port(value: u64, field: &str) -> Result<u64> {
    if (1..=65_535).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(field, "must be between 1 and 65535"))
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

    /// The servers an application list reaches, directly or by label selector.
    pub(super) fn applied_servers(&self, applied: &[Applied]) -> Vec<u64> {
        let mut servers = Vec::new();
        for a in applied {
            let reached = match a {
                Applied::Server(id) => vec![*id],
                Applied::Selector(selector) => self.matching_servers(selector),
            };
            for id in reached {
                if !servers.contains(&id) {
                    servers.push(id);
                }
            }
        }
        servers
    }

    /// `apply_to` / `remove_from` entries; a missing server is `firewall_resource_not_found`
    /// with the given status (422 on create, 404 on the actions).
    pub(super) fn parse_apply_to(
        &self,
        items: &[Value],
        field: &str,
        missing_status: u16,
    ) -> Result<Vec<Applied>> {
        let mut applied = Vec::new();
        for item in items {
            let item = element(item, field)?;
            match req_str(item, "type")? {
                "server" => {
                    let id = req_u64(req_object(item, "server")?, "id")?;
                    if self.get(Kind::Server, id).is_none() {
                        return Err(ApiError::new(
                            missing_status,
                            "firewall_resource_not_found",
                            format!("server with ID {id} not found"),
                        ));
                    }
                    applied.push(Applied::Server(id));
                }
                "label_selector" => {
                    let selector = req_str(req_object(item, "label_selector")?, "selector")?;
                    Selector::parse(selector)?;
                    applied.push(Applied::Selector(selector.to_owned()));
                }
                other => {
                    return Err(ApiError::invalid(
                        field,
                        format!("type '{other}' is not one of: server, label_selector"),
                    ));
                }
            }
        }
        Ok(applied)
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

    /// A load balancer target; `networks` are the load balancer's.
    pub(super) fn parse_target(&self, item: &Object, networks: &[u64]) -> Result<Target> {
        let private = opt_bool(item, "use_private_ip")?.unwrap_or(false);
        if private && networks.is_empty() {
            return Err(ApiError::unprocessable(
                "load_balancer_not_attached_to_network",
                "use_private_ip needs the load balancer attached to a network",
            ));
        }
        match req_str(item, "type")? {
            "server" => {
                let id = req_u64(req_object(item, "server")?, "id")?;
                let server = self
                    .get(Kind::Server, id)
                    .and_then(Resource::server)
                    .ok_or_else(|| {
                        ApiError::invalid("targets", format!("server {id} not found"))
                    })?;
                let shares_network = server
                    .private_net
                    .iter()
                    .any(|p| networks.contains(&p.network));
                if private && !shares_network {
                    return Err(ApiError::unprocessable(
                        "server_not_attached_to_network",
                        format!("server {id} is not attached to the load balancer's network"),
                    ));
                }
                Ok(Target::Server { id, private })
            }
            "label_selector" => {
                let selector = req_str(req_object(item, "label_selector")?, "selector")?;
                Selector::parse(selector)?;
                Ok(Target::Selector {
                    selector: selector.to_owned(),
                    private,
                })
            }
            "ip" => {
                let ip = req_str(req_object(item, "ip")?, "ip")?;
                if ip.parse::<std::net::IpAddr>().is_err() {
                    return Err(ApiError::invalid("targets", format!("'{ip}' is not an IP")));
                }
                Ok(Target::Ip(ip.to_owned()))
            }
            other => Err(ApiError::invalid(
                "targets",
                format!("type '{other}' is not one of: server, label_selector, ip"),
            )),
        }
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
        if !server_type.available_in(location) {
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
        let action = self.action(
            "create_server",
            vec![(Kind::Server, id)],
            Effect::Created { server: id, start },
        );
        let mut next_actions = Vec::new();
        if start {
            let next = self.action("start_server", vec![(Kind::Server, id)], Effect::None);
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

/// A subnet inside `network`, not overlapping `existing`; without `ip_range`, the first free
/// /24 (or the whole range of a /24 network).
pub(super) fn parse_subnet(item: &Object, network: Cidr4, existing: &[Subnet]) -> Result<Subnet> {
    let kind = req_str(item, "type")?;
    if !["cloud", "server", "vswitch"].contains(&kind) {
        return Err(ApiError::invalid(
            "subnets",
            format!("type '{kind}' is not one of: cloud, server, vswitch"),
        ));
    }
    let zone = req_str(item, "network_zone")?;
    if !NETWORK_ZONES.contains(&zone) {
        return Err(ApiError::invalid(
            "subnets",
            format!("'{zone}' is not a network zone"),
        ));
    }
    let vswitch_id = opt_u64(item, "vswitch_id")?;
    if (kind == "vswitch") != vswitch_id.is_some() {
        return Err(ApiError::invalid(
            "subnets",
            "vswitch_id is required for, and only for, type vswitch",
        ));
    }
    let free = |range: Cidr4| existing.iter().all(|s| !s.ip_range.overlaps(range));
    let ip_range = match opt_str(item, "ip_range")? {
        Some(text) => {
            let range = Cidr4::parse(text).ok_or_else(|| {
                ApiError::invalid("subnets", format!("'{text}' is not a CIDR block"))
            })?;
            if !network.contains(range) {
                return Err(ApiError::invalid(
                    "subnets",
                    format!("subnet {text} is not inside the network's ip_range {network}"),
                ));
            }
            if range.prefix > 30 {
                return Err(ApiError::invalid("subnets", "minimum subnet size is /30"));
            }
            if !free(range) {
                return Err(ApiError::invalid(
                    "subnets",
                    format!("subnet {text} overlaps another subnet"),
                ));
            }
            range
        }
        None => {
            let prefix = network.prefix.max(24);
            let step = 1u64 << (32 - prefix);
            (u64::from(network.base)..=u64::from(network.last()))
                .step_by(usize::try_from(step).unwrap_or(256))
                .filter_map(|base| u32::try_from(base).ok())
                .map(|base| Cidr4 { base, prefix })
                .find(|r| free(*r))
                .ok_or_else(|| ApiError::invalid("subnets", "no free range left in the network"))?
        }
    };
    Ok(Subnet {
        kind: kind.to_owned(),
        network_zone: zone.to_owned(),
        ip_range,
        vswitch_id,
    })
}

/// Firewall rules, normalised as the API renders them (cloud-apis.md §2 "Firewall").
pub(super) fn parse_rules(items: &[Value]) -> Result<Vec<Value>> {
    if items.len() > 50 {
        return Err(ApiError::invalid("rules", "at most 50 rules per firewall"));
    }
    let bad = |message: String| ApiError::invalid("rules", message);
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let rule = element(item, "rules")?;
        let direction = req_str(rule, "direction")?;
        if direction != "in" && direction != "out" {
            return Err(bad(format!(
                "rule {i}: direction '{direction}' is not in or out"
            )));
        }
        let protocol = req_str(rule, "protocol")?;
        if !["tcp", "udp", "icmp", "esp", "gre"].contains(&protocol) {
            return Err(bad(format!(
                "rule {i}: protocol '{protocol}' is not one of tcp, udp, icmp, esp, gre"
            )));
        }
        let port = opt_str(rule, "port")?;
        match (protocol, port) {
            ("tcp" | "udp", None) => {
                return Err(bad(format!("rule {i}: port is required for {protocol}")));
            }
            ("tcp" | "udp", Some(p)) if !port_ok(p) => {
                return Err(bad(format!(
                    "rule {i}: port '{p}' is not a port, a range or any"
                )));
            }
            ("icmp" | "esp" | "gre", Some(_)) => {
                return Err(bad(format!("rule {i}: port is only for tcp and udp")));
            }
            _ => {}
        }
        let ips = |key: &str| -> Result<Vec<String>> {
            let list = opt_array(rule, key)?;
            if list.len() > 100 {
                return Err(bad(format!("rule {i}: at most 100 entries in {key}")));
            }
            list.iter()
                .map(|v| match v.as_str() {
                    Some(s) if check::cidr_ok(s) => Ok(s.to_owned()),
                    _ => Err(bad(format!("rule {i}: {v} in {key} is not a CIDR block"))),
                })
                .collect()
        };
        let source_ips = ips("source_ips")?;
        let destination_ips = ips("destination_ips")?;
        let (wanted, unwanted) = if direction == "in" {
            (&source_ips, &destination_ips)
        } else {
            (&destination_ips, &source_ips)
        };
        if wanted.is_empty() || !unwanted.is_empty() {
            return Err(bad(format!(
                "rule {i}: direction {direction} needs {} and no {}",
                if direction == "in" {
                    "source_ips"
                } else {
                    "destination_ips"
                },
                if direction == "in" {
                    "destination_ips"
                } else {
                    "source_ips"
                },
            )));
        }
        let description = opt_str(rule, "description")?;
        if description.is_some_and(|d| d.chars().count() > 255) {
            return Err(bad(format!(
                "rule {i}: description longer than 255 characters"
            )));
        }
        rules.push(json!({
            "direction": direction, "protocol": protocol, "port": port,
            "source_ips": source_ips, "destination_ips": destination_ips,
            "description": description,
        }));
    }
    Ok(rules)
}

/// `22`, `30000-32767` (low below high) or `any`.
fn port_ok(text: &str) -> bool {
    let number = |s: &str| s.parse::<u32>().ok().filter(|p| (1..=65_535).contains(p));
    if text == "any" {
        return true;
    }
    match text.split_once('-') {
        Some((low, high)) => number(low).zip(number(high)).is_some_and(|(l, h)| l < h),
        None => number(text).is_some(),
    }
}

/// A load balancer service, normalised as the API renders it; `health_check` is required as
/// the spec says.
pub(super) fn parse_service(item: &Object) -> Result<Value> {
    let protocol = req_str(item, "protocol")?;
    if !["tcp", "http", "https"].contains(&protocol) {
        return Err(ApiError::invalid(
            "protocol",
            format!("'{protocol}' is not one of tcp, http, https"),
        ));
    }
    let listen_port = port(req_u64(item, "listen_port")?, "listen_port")?;
    let destination_port = port(req_u64(item, "destination_port")?, "destination_port")?;
    let proxyprotocol = opt_bool(item, "proxyprotocol")?
        .ok_or_else(|| ApiError::invalid("proxyprotocol", "Missing data for required field."))?;
    let health = req_object(item, "health_check")?;
    let health_protocol = req_str(health, "protocol")?;
    if !["tcp", "http"].contains(&health_protocol) {
        return Err(ApiError::invalid(
            "health_check",
            format!("protocol '{health_protocol}' is not tcp or http"),
        ));
    }
    let health_port = port(req_u64(health, "port")?, "health_check")?;
    let mut health_check = json!({
        "protocol": health_protocol,
        "port": health_port,
        "interval": req_u64(health, "interval")?,
        "timeout": req_u64(health, "timeout")?,
        "retries": req_u64(health, "retries")?,
    });
    if let Some(http) = opt_object(health, "http")? {
        health_check["http"] = Value::Object(http.clone());
    }
    Ok(json!({
        "protocol": protocol,
        "listen_port": listen_port,
        "destination_port": destination_port,
        "proxyprotocol": proxyprotocol,
        "health_check": health_check,
        "http": opt_object(item, "http")?.cloned(),
    }))
}

/// 422 `source_port_already_used` when a service already listens on the port.
pub(super) fn check_listen_port(services: &[Value], service: &Value) -> Result<()> {
    if services
        .iter()
        .any(|s| s["listen_port"] == service["listen_port"])
    {
        return Err(ApiError::unprocessable(
            "source_port_already_used",
            format!("listen port {} is already used", service["listen_port"]),
        ));
    }
    Ok(())
}

/// The same target whatever its `use_private_ip`.
pub(super) fn same_target(a: &Target, b: &Target) -> bool {
    match (a, b) {
        (Target::Server { id: x, .. }, Target::Server { id: y, .. }) => x == y,
        (Target::Selector { selector: x, .. }, Target::Selector { selector: y, .. }) => x == y,
        (Target::Ip(x), Target::Ip(y)) => x == y,
        _ => false,
    }
}

/// 422 `target_already_defined`.
pub(super) fn check_new_target(targets: &[Target], target: &Target) -> Result<()> {
    if targets.iter().any(|t| same_target(t, target)) {
        return Err(ApiError::unprocessable(
            "target_already_defined",
            "the target is already defined",
        ));
    }
    Ok(())
}
