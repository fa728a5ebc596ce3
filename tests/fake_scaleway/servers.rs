//! Servers: created `stopped` with their root volume, powered on by an action that answers a
//! task, user-data through its own endpoint, private NICs with IPAM addresses; deleted only
//! when stopped, leaving their volumes behind.

use serde_json::{Value, json};

use super::PROJECT;
use super::routes::{Reply, Request, body_of, no_content, project, wrap};
use super::state::{ApiError, Result, State, Transition, only_fields, required, tags};

/// The commercial types the fake sells, in every zone.
pub(super) const TYPES: &[&str] = &["PRO2-XS", "PRO2-S", "POP2-4C-16G", "DEV1-S"];

const SERVER_FIELDS: &[&str] = &[
    "name",
    "commercial_type",
    "image",
    "project",
    "organization",
    "tags",
    "security_group",
    "placement_group",
    "dynamic_ip_required",
    "public_ips",
    "volumes",
    "boot_type",
    "protected",
    "enable_ipv6",
    "routed_ip_enabled",
    "admin_password_encryption_ssh_key_id",
];

impl State {
    pub(super) fn create_server(&mut self, r: &Request, zone: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(&body, SERVER_FIELDS)?;
        project(&body, "project")?;
        let name = required(&body, "name")?.to_owned();
        let commercial_type = required(&body, "commercial_type")?.to_owned();
        if !TYPES.contains(&commercial_type.as_str()) {
            return Err(ApiError::argument(
                "commercial_type",
                "constraint",
                "unknown commercial type",
            ));
        }
        if self.faults.shortage.contains(&commercial_type.as_str()) {
            return Err(ApiError::new(
                409,
                "out_of_stock",
                "server type is out of stock in this zone",
            ));
        }
        let servers = self
            .objects
            .values()
            .filter(|(c, _)| *c == "servers")
            .count();
        if servers >= self.faults.server_quota {
            return Err(ApiError {
                status: 403,
                body: json!({
                    "type": "quotas_exceeded", "message": "quota(s) exceeded for this resource",
                    "details": [{ "resource": "instances", "quota": self.faults.server_quota, "current": servers }],
                }),
            });
        }
        let image = required(&body, "image")?.to_owned();
        // The image is a UUID of a marketplace image of this zone that runs this type.
        let runs = super::routes::local_images().iter().any(|i| {
            i["id"] == image.as_str()
                && i["zone"] == zone
                && i["compatible_commercial_types"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == commercial_type.as_str()))
        });
        if !runs {
            return Err(ApiError::argument(
                "image",
                "constraint",
                "not an image of this zone for this type",
            ));
        }
        let group = match body["security_group"].as_str() {
            Some(id) => {
                let g = self.get("security_groups", id, false)?;
                json!({ "id": id, "name": g["name"] })
            }
            None => Value::Null,
        };
        let placement = match body["placement_group"].as_str() {
            Some(id) => json!({ "id": self.get("placement_groups", id, false)?["id"] }),
            None => Value::Null,
        };
        let id = self.id();
        let mut public_ips = Vec::new();
        for ip in body["public_ips"].as_array().cloned().unwrap_or_default() {
            let ip_id = ip
                .as_str()
                .ok_or_else(|| ApiError::argument("public_ips", "format", "ids"))?;
            let found = self.get("ips", ip_id, false)?;
            if !found["server"].is_null() {
                return Err(ApiError::new(
                    400,
                    "invalid_request_error",
                    "ip is already attached",
                ));
            }
            public_ips.push(json!({ "id": ip_id, "address": found["address"], "family": "inet", "dynamic": false }));
            self.get_mut("ips", ip_id)?["server"] = json!({ "id": id, "name": name });
        }
        if public_ips.is_empty() && body["dynamic_ip_required"].as_bool().unwrap_or(true) {
            let address = self.public_address();
            public_ips.push(
                json!({ "id": self.id(), "address": address, "family": "inet", "dynamic": true }),
            );
        }
        let root = body["volumes"]["0"].clone();
        if !root.is_null() {
            only_fields(
                &root,
                &[
                    "name",
                    "size",
                    "volume_type",
                    "project",
                    "base_snapshot",
                    "boot",
                ],
            )?;
        }
        let volume_id = self.id();
        let volume = json!({
            "id": volume_id, "name": root["name"].as_str().unwrap_or("Ubuntu 24.04 Noble Numbat"),
            "tags": [], "project": PROJECT, "zone": zone, "size": root["size"].as_u64().unwrap_or(20_000_000_000u64),
            "volume_type": root["volume_type"].as_str().unwrap_or("sbs_volume"),
            "server": { "id": id, "name": name },
        });
        self.insert("volumes", volume.clone());
        let server = json!({
            "id": id, "name": name, "commercial_type": commercial_type, "image": { "id": image },
            "project": PROJECT, "tags": tags(&body)?, "state": "stopped", "zone": zone,
            "security_group": group, "placement_group": placement, "public_ips": public_ips,
            "private_nics": [], "volumes": { "0": volume },
        });
        Ok(wrap(201, "server", self.insert("servers", server)))
    }

    pub(super) fn delete_server(&mut self, id: &str) -> Result<Reply> {
        let server = self.get("servers", id, false)?;
        if server["state"] != "stopped" {
            return Err(ApiError::new(
                400,
                "invalid_request_error",
                "instance should be powered off",
            ));
        }
        for volume in server["volumes"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            if let Some(v) = volume["id"].as_str().map(str::to_owned) {
                if let Ok(v) = self.get_mut("volumes", &v) {
                    v["server"] = Value::Null;
                }
            }
        }
        for ip in server["public_ips"].as_array().into_iter().flatten() {
            if let Some(i) = ip["id"].as_str().map(str::to_owned) {
                if let Ok(i) = self.get_mut("ips", &i) {
                    i["server"] = Value::Null;
                }
            }
        }
        for nic in server["private_nics"].as_array().into_iter().flatten() {
            let nic_id = nic["id"].clone();
            self.objects.retain(|_, (c, v)| {
                !(*c == "ipam_ips"
                    && v["resource_id"] == nic_id
                    && v["tags"].as_array().is_none_or(Vec::is_empty))
            });
            for (c, v) in self.objects.values_mut() {
                if *c == "ipam_ips" && v["resource_id"] == nic_id {
                    v["resource_id"] = Value::Null;
                }
            }
        }
        self.objects.remove(id);
        self.user_data.remove(id);
        self.transitions.remove(id);
        Ok(no_content())
    }

    pub(super) fn server_action(&mut self, r: &Request, id: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(&body, &["action", "name", "volumes", "disable_ipv6"])?;
        let action = required(&body, "action")?.to_owned();
        let state = self.get("servers", id, false)?["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (from, during, to) = match action.as_str() {
            "poweron" => ("stopped", "starting", "running"),
            "poweroff" => ("running", "stopping", "stopped"),
            _ => {
                return Err(ApiError::argument(
                    "action",
                    "constraint",
                    "poweron or poweroff here",
                ));
            }
        };
        if state != from {
            if matches!(state.as_str(), "starting" | "stopping") {
                return Err(ApiError::transient("instance_server", id, &state));
            }
            return Err(ApiError::new(
                400,
                "invalid_request_error",
                &format!("server should be {from}"),
            ));
        }
        self.get_mut("servers", id)?["state"] = json!(during);
        let left = self.faults.polls.max(1);
        self.transitions.insert(
            id.to_owned(),
            Transition {
                left,
                field: "state",
                to,
            },
        );
        let task = self.id();
        Ok(Reply::json(
            202,
            json!({ "task": {
                "id": task, "description": format!("server_{action}"), "status": "pending",
                "href_from": format!("/servers/{id}/action"), "progress": 0,
            }}),
        ))
    }

    pub(super) fn set_user_data(&mut self, r: &Request, id: &str, key: &str) -> Result<Reply> {
        self.get("servers", id, false)?;
        if !r.content_type.is_some_and(|c| c.starts_with("text/plain")) {
            return Err(ApiError::new(
                400,
                "invalid_request_error",
                "content type must be text/plain",
            ));
        }
        if r.body.len() > self.faults.user_data_limit {
            return Err(ApiError::argument(
                "user_data",
                "constraint",
                "user data is too large",
            ));
        }
        let text = String::from_utf8(r.body.to_vec())
            .map_err(|_| ApiError::new(400, "invalid_request_error", "not UTF-8"))?;
        self.user_data
            .entry(id.to_owned())
            .or_default()
            .insert(key.to_owned(), text);
        Ok(no_content())
    }

    pub(super) fn attach_nic(&mut self, r: &Request, id: &str) -> Result<Reply> {
        let body = body_of(r)?;
        only_fields(
            &body,
            &["private_network_id", "tags", "ipam_ip_ids", "ip_ids"],
        )?;
        let network = required(&body, "private_network_id")?.to_owned();
        let pn = self.get("private_networks", &network, false)?;
        let server = self.get("servers", id, false)?;
        let on = server["private_nics"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["private_network_id"] == *network));
        if on {
            return Err(ApiError::new(
                409,
                "conflict",
                "server is already in this private network",
            ));
        }
        let nic_id = self.id();
        let ipam = match body["ipam_ip_ids"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
        {
            Some(ip) => {
                let found = self.get("ipam_ips", ip, false)?;
                if found["private_network_id"] != *network || !found["resource_id"].is_null() {
                    return Err(ApiError::argument(
                        "ipam_ip_ids",
                        "constraint",
                        "ip is not free in this network",
                    ));
                }
                ip.to_owned()
            }
            None => {
                let subnet = pn["subnets"][0]["subnet"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let address = self.free_address(&network, &subnet)?;
                let bits = subnet.split_once('/').map_or("24", |(_, b)| b).to_owned();
                let ip = self.id();
                self.insert("ipam_ips", json!({
                    "id": ip, "address": format!("{address}/{bits}"), "tags": [], "project_id": PROJECT,
                    "private_network_id": network, "resource_id": null,
                }));
                ip
            }
        };
        self.get_mut("ipam_ips", &ipam)?["resource_id"] = json!(nic_id);
        let nic = json!({
            "id": nic_id, "private_network_id": network, "server_id": id, "state": "available",
            "ipam_ip_ids": [ipam], "tags": tags(&body)?,
        });
        self.get_mut("servers", id)?["private_nics"]
            .as_array_mut()
            .expect("a list")
            .push(nic.clone());
        Ok(wrap(201, "private_nic", nic))
    }
}
