//! The load balancer API: a load balancer is `to_create` until GETs make it `ready`, gets an
//! untagged IP, joins private networks, and serves frontends to static backends.

use serde_json::{Value, json};

use super::PROJECT;
use super::routes::{Reply, Request, body_of, no_content, project};
use super::state::{
    ApiError, Query, Result, State, Transition, only_fields, required, strings, tags,
};

impl State {
    pub(super) fn lb(&mut self, r: &Request, rest: &[&str]) -> Result<Reply> {
        match (r.method, rest) {
            ("GET", ["lbs"]) => {
                let q = Query::parse(r.query, &[]);
                let items = self.list("lbs", &q);
                Ok(self.page("lbs", items, &q, false))
            }
            ("POST", ["lbs"]) => self.create_lb(r),
            ("GET", ["lbs", id]) => Ok(Reply::json(200, self.get("lbs", id, true)?)),
            ("DELETE", ["lbs", id]) => {
                let lb = self.get("lbs", id, false)?;
                if lb["status"] != "ready" {
                    return Err(ApiError::transient(
                        "lb",
                        id,
                        lb["status"].as_str().unwrap_or(""),
                    ));
                }
                self.objects.remove(*id);
                Ok(no_content())
            }
            ("POST", ["lbs", id, "attach-private-network"]) => {
                let body = body_of(r)?;
                only_fields(
                    &body,
                    &[
                        "private_network_id",
                        "ipam_config",
                        "dhcp_config",
                        "static_config",
                        "ipam_ids",
                    ],
                )?;
                let network = required(&body, "private_network_id")?.to_owned();
                self.get("private_networks", &network, false)?;
                let lb = self.ready_lb(id)?;
                if strings(&lb["private_networks"]).contains(&network) {
                    return Err(ApiError::new(
                        409,
                        "conflict",
                        "load balancer is already attached",
                    ));
                }
                let lb = self.get_mut("lbs", id)?;
                lb["private_networks"]
                    .as_array_mut()
                    .expect("a list")
                    .push(json!(network));
                Ok(Reply::json(
                    200,
                    json!({ "lb": { "id": id }, "private_network_id": network, "status": "ready" }),
                ))
            }
            ("GET", ["lbs", id, "private-networks"]) => {
                let lb = self.get("lbs", id, true)?;
                let q = Query::parse(r.query, &[]);
                let items = strings(&lb["private_networks"])
                    .into_iter()
                    .map(|p| json!({ "private_network_id": p, "status": "ready" }))
                    .collect();
                Ok(self.page("private_network", items, &q, false))
            }
            ("POST", ["lbs", id, part @ ("backends" | "frontends")]) => self.add_part(r, id, part),
            ("GET", ["lbs", id, part @ ("backends" | "frontends")]) => {
                let lb = self.get("lbs", id, true)?;
                let q = Query::parse(r.query, &[]);
                let items = lb[*part].as_array().cloned().unwrap_or_default();
                Ok(self.page(part, items, &q, false))
            }
            ("PUT", ["backends", backend, "servers"]) => {
                let body = body_of(r)?;
                only_fields(&body, &["server_ip"])?;
                let ips = body["server_ip"].clone();
                if !ips.is_array() {
                    return Err(ApiError::argument(
                        "server_ip",
                        "required",
                        "a list of addresses",
                    ));
                }
                let owner = self.objects.iter_mut().find_map(|(_, (c, v))| {
                    (*c == "lbs").then_some(v)?["backends"]
                        .as_array_mut()?
                        .iter_mut()
                        .find(|b| b["id"] == *backend)
                });
                let found = owner.ok_or_else(|| ApiError::not_found("lb_backend", backend))?;
                found["server_ip"] = ips;
                Ok(Reply::json(200, found.clone()))
            }
            _ => Err(ApiError::new(404, "not_found", "no such route")),
        }
    }

    fn ready_lb(&mut self, id: &str) -> Result<Value> {
        let lb = self.get("lbs", id, false)?;
        if lb["status"] != "ready" {
            return Err(ApiError::transient(
                "lb",
                id,
                lb["status"].as_str().unwrap_or(""),
            ));
        }
        Ok(lb)
    }

    fn create_lb(&mut self, r: &Request) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(
            &body,
            &[
                "name",
                "description",
                "project_id",
                "organization_id",
                "type",
                "tags",
                "assign_flexible_ip",
                "ip_ids",
                "ssl_compatibility_level",
            ],
        )?;
        project(&body, "project_id")?;
        let kind = required(&body, "type")?;
        if !matches!(kind, "LB-S" | "LB-GP-M" | "LB-GP-L") {
            return Err(ApiError::argument(
                "type",
                "constraint",
                "LB-S, LB-GP-M or LB-GP-L",
            ));
        }
        let id = self.id();
        let ip_id = self.id();
        let address = self.lb_address();
        let lb = json!({
            "id": id, "name": required(&body, "name")?, "tags": tags(&body)?, "project_id": PROJECT,
            "type": kind, "status": "to_create",
            // The automatically allocated IP carries no tags (cloud-apis.md §4, Traps).
            "ip": [{ "id": ip_id, "ip_address": address, "tags": [] }],
            "private_networks": [], "backends": [], "frontends": [],
        });
        let left = self.faults.polls.max(1);
        self.transitions.insert(
            id.clone(),
            Transition {
                left,
                field: "status",
                to: "ready",
            },
        );
        Ok(Reply::json(200, self.insert("lbs", lb)))
    }

    fn add_part(&mut self, r: &Request, id: &str, part: &str) -> Result<Reply> {
        let body = body_of(r)?;
        if part == "backends" {
            only_fields(
                &body,
                &[
                    "name",
                    "forward_protocol",
                    "forward_port",
                    "forward_port_algorithm",
                    "sticky_sessions",
                    "health_check",
                    "server_ip",
                    "proxy_protocol",
                    "timeout_server",
                    "timeout_connect",
                ],
            )?;
            if !matches!(body["forward_protocol"].as_str(), Some("tcp" | "http")) {
                return Err(ApiError::argument(
                    "forward_protocol",
                    "constraint",
                    "tcp or http",
                ));
            }
            if !body["server_ip"].is_array() {
                return Err(ApiError::argument(
                    "server_ip",
                    "required",
                    "a list of addresses",
                ));
            }
        } else {
            only_fields(
                &body,
                &[
                    "name",
                    "inbound_port",
                    "backend_id",
                    "timeout_client",
                    "certificate_ids",
                ],
            )?;
            let backend = required(&body, "backend_id")?;
            let lb = self.get("lbs", id, false)?;
            if !lb["backends"]
                .as_array()
                .is_some_and(|b| b.iter().any(|b| b["id"] == backend))
            {
                return Err(ApiError::not_found("lb_backend", backend));
            }
        }
        self.ready_lb(id)?;
        let part_id = self.id();
        let mut value = body.clone();
        value["id"] = json!(part_id);
        self.get_mut("lbs", id)?[part]
            .as_array_mut()
            .expect("a list")
            .push(value.clone());
        Ok(Reply::json(200, value))
    }
}
