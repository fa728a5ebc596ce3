//! Pieces of request bodies that creates and `…/actions/<verb>` share: subnets, firewall rules
//! and applications, load balancer services and targets, each validated and normalised.

use serde_json::{Value, json};

use super::catalog::NETWORK_ZONES;
use super::check::{
    self, ApiError, Cidr4, Object, Result, Selector, element, opt_array, opt_bool, opt_object,
    opt_str, opt_u64, req_object, req_str, req_u64,
};
use super::model::{Applied, Kind, Resource, Subnet, Target};
use super::state::State;

fn port(value: u64, field: &str) -> Result<u64> {
    if (1..=65_535).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(field, "must be between 1 and 65535"))
    }
}

impl State {
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
