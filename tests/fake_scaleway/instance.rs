//! The Instance API's endpoints: security groups and their rules, placement groups, flexible
//! IPs, volumes, servers with their actions, user-data and private NICs.

use serde_json::{Value, json};

use super::routes::{Body, Reply, Request, body_of, no_content, project, wrap};
use super::state::{ApiError, Query, Result, State, only_fields, required, tags};

const NO_ROUTE: &str = "no such route";

impl State {
    pub(super) fn instance(&mut self, r: &Request, zone: &str, rest: &[&str]) -> Result<Reply> {
        match (r.method, rest) {
            ("GET", ["security_groups"]) => Ok(self.instance_list(r, "security_groups", &[])),
            ("GET", ["placement_groups"]) => Ok(self.instance_list(r, "placement_groups", &[])),
            ("GET", ["servers"]) => {
                Ok(self.instance_list(r, "servers", &["state", "commercial_type"]))
            }
            ("GET", ["ips"]) => Ok(self.instance_list(r, "ips", &[])),
            ("GET", ["volumes"]) => Ok(self.instance_list(r, "volumes", &[])),
            ("GET", ["products", "servers", "availability"]) => {
                let servers: serde_json::Map<String, Value> = super::servers::TYPES
                    .iter()
                    .map(|t| {
                        let state = if self.faults.shortage.contains(t) {
                            "shortage"
                        } else {
                            "available"
                        };
                        ((*t).to_owned(), json!({ "availability": state }))
                    })
                    .collect();
                let mut reply = Reply::json(
                    200,
                    json!({ "servers": servers, "total_count": servers.len() }),
                );
                reply
                    .headers
                    .push(("x-total-count", servers.len().to_string()));
                Ok(reply)
            }
            ("POST", ["security_groups"]) => self.create_security_group(r, zone),
            ("POST", ["placement_groups"]) => self.create_placement_group(r, zone),
            ("POST", ["ips"]) => self.create_ip(r, zone),
            ("POST", ["servers"]) => self.create_server(r, zone),
            ("PUT", ["security_groups", id, "rules"]) => self.set_rules(r, id),
            ("GET", ["security_groups", id, "rules"]) => {
                let group = self.get("security_groups", id, true)?;
                let q = Query::parse(r.query, &[]);
                let rules = group["rules"].as_array().cloned().unwrap_or_default();
                Ok(self.page("rules", rules, &q, true))
            }
            (
                "GET",
                [
                    collection @ ("security_groups" | "placement_groups" | "ips" | "volumes"
                    | "servers"),
                    id,
                ],
            ) => {
                let collection = static_name(collection);
                let value = self.get(collection, id, true)?;
                Ok(wrap(200, singular(collection), value))
            }
            ("PATCH", ["volumes", id]) => {
                let body = body_of(r)?;
                only_fields(&body, &["name", "tags", "size"])?;
                let tags = tags(&body)?;
                let volume = self.get_mut("volumes", id)?;
                volume["tags"] = tags;
                let volume = volume.clone();
                Ok(wrap(200, "volume", volume))
            }
            ("DELETE", ["volumes", id]) => {
                let volume = self.get("volumes", id, false)?;
                if !volume["server"].is_null() {
                    return Err(ApiError::new(
                        400,
                        "invalid_request_error",
                        "volume is attached to a server",
                    ));
                }
                self.objects.remove(*id);
                Ok(no_content())
            }
            ("DELETE", ["ips", id]) => {
                let ip = self.get("ips", id, false)?;
                if let Some(server) = ip["server"]["id"].as_str().map(str::to_owned) {
                    if let Some(ips) = self
                        .get_mut("servers", &server)
                        .ok()
                        .and_then(|s| s["public_ips"].as_array_mut())
                    {
                        ips.retain(|i| i["id"] != *id);
                    }
                }
                self.objects.remove(*id);
                Ok(no_content())
            }
            ("DELETE", ["security_groups", id]) => {
                self.get("security_groups", id, false)?;
                let used = self
                    .objects
                    .values()
                    .any(|(c, v)| *c == "servers" && v["security_group"]["id"] == *id);
                if used {
                    return Err(ApiError::new(
                        412,
                        "precondition_failed",
                        "group is in use by servers",
                    ));
                }
                self.objects.remove(*id);
                Ok(no_content())
            }
            ("DELETE", ["placement_groups", id]) => {
                self.get("placement_groups", id, false)?;
                self.objects.remove(*id);
                Ok(no_content())
            }
            ("DELETE", ["servers", id]) => self.delete_server(id),
            ("POST", ["servers", id, "action"]) => self.server_action(r, id),
            ("PATCH", ["servers", id, "user_data", key]) => self.set_user_data(r, id, key),
            ("GET", ["servers", id, "user_data"]) => {
                self.get("servers", id, false)?;
                let keys: Vec<String> = self
                    .user_data
                    .get(*id)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                Ok(Reply::json(200, json!({ "user_data": keys })))
            }
            ("GET", ["servers", id, "user_data", key]) => {
                self.get("servers", id, false)?;
                let text = self.user_data.get(*id).and_then(|m| m.get(*key)).cloned();
                let text = text.ok_or_else(|| ApiError::not_found("instance_user_data", key))?;
                Ok(Reply {
                    status: 200,
                    body: Body::Text(text),
                    headers: Vec::new(),
                })
            }
            ("POST", ["servers", id, "private_nics"]) => self.attach_nic(r, id),
            ("GET", ["servers", id, "private_nics"]) => {
                let server = self.get("servers", id, true)?;
                let q = Query::parse(r.query, &[]);
                let nics = server["private_nics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                Ok(self.page("private_nics", nics, &q, true))
            }
            _ => Err(ApiError::new(404, "not_found", NO_ROUTE)),
        }
    }

    fn instance_list(
        &mut self,
        r: &Request,
        collection: &'static str,
        exact: &'static [&'static str],
    ) -> Reply {
        let q = Query::parse(r.query, exact);
        let items = self.list(collection, &q);
        self.page(collection, items, &q, true)
    }

    fn create_security_group(&mut self, r: &Request, zone: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(
            &body,
            &[
                "name",
                "description",
                "project",
                "organization",
                "tags",
                "stateful",
                "inbound_default_policy",
                "outbound_default_policy",
                "enable_default_security",
                "project_default",
                "organization_default",
            ],
        )?;
        project(&body, "project")?;
        for policy in ["inbound_default_policy", "outbound_default_policy"] {
            if !matches!(body[policy].as_str(), None | Some("accept" | "drop")) {
                return Err(ApiError::argument(policy, "constraint", "accept or drop"));
            }
        }
        let id = self.id();
        let group = json!({
            "id": id, "name": required(&body, "name")?, "tags": tags(&body)?,
            "project": super::PROJECT, "zone": zone, "stateful": body["stateful"].as_bool().unwrap_or(true),
            "inbound_default_policy": body["inbound_default_policy"].as_str().unwrap_or("accept"),
            "outbound_default_policy": body["outbound_default_policy"].as_str().unwrap_or("accept"),
            "rules": [],
        });
        Ok(wrap(
            201,
            "security_group",
            self.insert("security_groups", group),
        ))
    }

    /// `PUT /security_groups/{id}/rules`: replaces every editable rule, each checked as
    /// Scaleway checks it.
    fn set_rules(&mut self, r: &Request, id: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(&body, &["rules"])?;
        let rules = body["rules"]
            .as_array()
            .ok_or_else(|| ApiError::argument("rules", "required", "a list of rules"))?;
        let mut stored = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            check_rule(rule, i)?;
            let rule_id = self.id();
            let mut rule = rule.clone();
            rule["id"] = json!(rule_id);
            rule["editable"] = json!(true);
            stored.push(rule);
        }
        let group = self.get_mut("security_groups", id)?;
        group["rules"] = Value::Array(stored.clone());
        Ok(Reply::json(200, json!({ "rules": stored })))
    }

    fn create_placement_group(&mut self, r: &Request, zone: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(
            &body,
            &[
                "name",
                "project",
                "organization",
                "tags",
                "policy_mode",
                "policy_type",
            ],
        )?;
        project(&body, "project")?;
        if !matches!(
            body["policy_type"].as_str(),
            None | Some("max_availability" | "low_latency")
        ) {
            return Err(ApiError::argument(
                "policy_type",
                "constraint",
                "max_availability or low_latency",
            ));
        }
        if !matches!(
            body["policy_mode"].as_str(),
            None | Some("optional" | "enforced")
        ) {
            return Err(ApiError::argument(
                "policy_mode",
                "constraint",
                "optional or enforced",
            ));
        }
        let id = self.id();
        let group = json!({
            "id": id, "name": required(&body, "name")?, "tags": tags(&body)?, "project": super::PROJECT,
            "zone": zone, "policy_type": body["policy_type"].as_str().unwrap_or("max_availability"),
            "policy_mode": body["policy_mode"].as_str().unwrap_or("optional"),
        });
        Ok(wrap(
            201,
            "placement_group",
            self.insert("placement_groups", group),
        ))
    }

    fn create_ip(&mut self, r: &Request, zone: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(
            &body,
            &["project", "organization", "tags", "server", "type"],
        )?;
        project(&body, "project")?;
        if !matches!(
            body["type"].as_str(),
            None | Some("routed_ipv4" | "routed_ipv6")
        ) {
            return Err(ApiError::argument(
                "type",
                "constraint",
                "routed_ipv4 or routed_ipv6",
            ));
        }
        let id = self.id();
        let address = self.public_address();
        let ip = json!({
            "id": id, "address": address, "tags": tags(&body)?, "project": super::PROJECT,
            "zone": zone, "server": null, "type": "routed_ipv4",
        });
        Ok(wrap(201, "ip", self.insert("ips", ip)))
    }
}

/// A rule as Scaleway accepts it: upper-case protocol, one `ip_range`, integer ports (none
/// for ICMP and ANY).
fn check_rule(rule: &Value, i: usize) -> Result<()> {
    only_fields(
        rule,
        &[
            "id",
            "action",
            "protocol",
            "direction",
            "ip_range",
            "dest_port_from",
            "dest_port_to",
            "position",
            "editable",
        ],
    )?;
    let field = |f: &str| format!("rules.{i}.{f}");
    if !matches!(rule["action"].as_str(), Some("accept" | "drop")) {
        return Err(ApiError::argument(
            &field("action"),
            "constraint",
            "accept or drop",
        ));
    }
    let protocol = rule["protocol"].as_str();
    if !matches!(protocol, Some("TCP" | "UDP" | "ICMP" | "ANY")) {
        return Err(ApiError::argument(
            &field("protocol"),
            "constraint",
            "TCP, UDP, ICMP or ANY",
        ));
    }
    if !matches!(rule["direction"].as_str(), Some("inbound" | "outbound")) {
        return Err(ApiError::argument(
            &field("direction"),
            "constraint",
            "inbound or outbound",
        ));
    }
    let range = rule["ip_range"]
        .as_str()
        .ok_or_else(|| ApiError::argument(&field("ip_range"), "format", "one CIDR as a string"))?;
    let valid = range.split_once('/').is_some_and(|(ip, bits)| {
        ip.parse::<std::net::IpAddr>().is_ok() && bits.parse::<u8>().is_ok()
    });
    if !valid {
        return Err(ApiError::argument(&field("ip_range"), "format", "one CIDR"));
    }
    let port = |f: &str| -> Result<Option<u64>> {
        match &rule[f] {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_u64()
                .filter(|p| (1..=65535).contains(p))
                .map(Some)
                .ok_or_else(|| ApiError::argument(&field(f), "constraint", "1 to 65535")),
            _ => Err(ApiError::argument(&field(f), "format", "an integer")),
        }
    };
    let (from, to) = (port("dest_port_from")?, port("dest_port_to")?);
    if matches!(protocol, Some("ICMP" | "ANY")) && (from.is_some() || to.is_some()) {
        return Err(ApiError::argument(
            &field("dest_port_from"),
            "constraint",
            "no ports for ICMP or ANY",
        ));
    }
    if from.zip(to).is_some_and(|(from, to)| to < from) {
        return Err(ApiError::argument(
            &field("dest_port_to"),
            "constraint",
            "not below dest_port_from",
        ));
    }
    if to.is_some() && from.is_none() {
        return Err(ApiError::argument(
            &field("dest_port_from"),
            "required",
            "with dest_port_to",
        ));
    }
    Ok(())
}

pub(super) fn static_name(collection: &str) -> &'static str {
    match collection {
        "security_groups" => "security_groups",
        "placement_groups" => "placement_groups",
        "ips" => "ips",
        "volumes" => "volumes",
        _ => "servers",
    }
}

pub(super) fn singular(collection: &str) -> &'static str {
    match collection {
        "security_groups" => "security_group",
        "placement_groups" => "placement_group",
        "ips" => "ip",
        "volumes" => "volume",
        _ => "server",
    }
}
