//! The fake's state: resource groups and resources by lower-case id, their provisioning states
//! advancing with time, async operations, references between resources, and each type's rules.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::arm::{Body, Reply, api_version_of};
use super::{Faults, Recorded, SUBSCRIPTION, Summary};

pub(crate) struct ArmError {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ArmError {
    pub(crate) fn new(status: u16, code: &str, message: &str) -> ArmError {
        ArmError {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

type Result<T> = std::result::Result<T, ArmError>;

/// An ARM path, parsed.
pub(crate) struct Path {
    pub(crate) group: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) name: Option<String>,
    /// `…/resourcegroups/{rg}/resources`: everything in the group.
    pub(crate) everything: bool,
}

impl Path {
    pub(crate) fn parse(path: &str) -> Result<Path> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let bad = || ArmError::new(404, "InvalidResourceType", path);
        let eq = |i: usize, word: &str| parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(word));
        if !eq(0, "subscriptions")
            || parts.get(1) != Some(&SUBSCRIPTION)
            || !eq(2, "resourcegroups")
        {
            return Err(bad());
        }
        let mut parsed = Path {
            group: parts.get(3).map(|g| (*g).to_owned()),
            namespace: None,
            kind: None,
            name: None,
            everything: false,
        };
        match parts.len() {
            3 | 4 => {}
            5 if eq(4, "resources") => parsed.everything = true,
            6 | 7 if eq(4, "providers") => {
                parsed.namespace = Some(parts[5].to_owned());
                parsed.kind = parts.get(6).map(|k| (*k).to_owned());
                if parts.len() == 6 {
                    return Err(bad());
                }
            }
            8 if eq(4, "providers") => {
                parsed.namespace = Some(parts[5].to_owned());
                parsed.kind = Some(parts[6].to_owned());
                parsed.name = Some(parts[7].to_owned());
            }
            _ => return Err(bad()),
        }
        Ok(parsed)
    }

    pub(crate) fn is_list(&self) -> bool {
        self.group.is_none() || self.everything || (self.kind.is_some() && self.name.is_none())
    }

    /// `Microsoft.Network/virtualNetworks`, or `resourceGroups`.
    fn type_name(&self) -> String {
        match (&self.namespace, &self.kind) {
            (Some(ns), Some(kind)) => format!("{ns}/{kind}"),
            _ => "resourceGroups".to_owned(),
        }
    }

    fn id(&self) -> String {
        let group = format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/{}",
            self.group.as_deref().unwrap_or_default()
        );
        match &self.name {
            Some(name) => format!("{group}/providers/{}/{name}", self.type_name()),
            None => group,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Creating,
    Updating,
    Deleting,
    Succeeded,
}

#[derive(Clone)]
struct Resource {
    id: String,
    kind: String,
    group: String,
    name: String,
    /// The body as last PUT.
    body: Value,
    phase: Phase,
    until: Instant,
    /// What Azure computes: an address, a NIC's private addresses.
    computed: Value,
}

struct Operation {
    key: String,
    until: Instant,
    delete: bool,
}

pub(crate) struct State {
    pub(crate) faults: Faults,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) count: u64,
    pub(crate) tokens: BTreeMap<String, Instant>,
    pub(crate) issued: u64,
    origin: String,
    resources: BTreeMap<String, Resource>,
    operations: BTreeMap<String, Operation>,
    next_address: u8,
    /// Tokens left in each bucket (`reads`, `writes`, `deletes`) and when it was last filled.
    pub(crate) buckets: BTreeMap<&'static str, (f64, Instant)>,
}

impl State {
    pub(crate) fn new(faults: Faults, origin: String) -> State {
        State {
            faults,
            requests: Vec::new(),
            count: 0,
            tokens: BTreeMap::new(),
            issued: 0,
            origin,
            resources: BTreeMap::new(),
            operations: BTreeMap::new(),
            next_address: 10,
            buckets: BTreeMap::new(),
        }
    }

    /// Moves every settled transition to its end.
    fn tick(&mut self) {
        let now = Instant::now();
        let mut gone = Vec::new();
        for (key, r) in &mut self.resources {
            if r.until <= now {
                match r.phase {
                    Phase::Deleting => gone.push((key.clone(), r.kind == "resourceGroups")),
                    _ => r.phase = Phase::Succeeded,
                }
            }
        }
        for (key, group) in gone {
            self.resources.remove(&key);
            if group {
                let inside = format!("{key}/");
                self.resources.retain(|k, _| !k.starts_with(&inside));
            }
        }
    }

    fn render(&self, r: &Resource) -> Value {
        let mut out = r.body.clone();
        out["id"] = json!(r.id);
        out["name"] = json!(r.name);
        out["type"] = json!(r.kind);
        let state = match r.phase {
            Phase::Creating => "Creating",
            Phase::Updating => "Updating",
            Phase::Deleting => "Deleting",
            Phase::Succeeded => "Succeeded",
        };
        if r.kind == "resourceGroups" {
            out["properties"] = json!({"provisioningState": state});
            return out;
        }
        out["properties"]["provisioningState"] = json!(state);
        if let Some(props) = r.computed.as_object() {
            for (k, v) in props {
                out["properties"][k] = v.clone();
            }
        }
        if let Some(os) = out["properties"]["osProfile"].as_object_mut() {
            os.remove("customData");
        }
        for array in [
            "subnets",
            "ipConfigurations",
            "frontendIPConfigurations",
            "backendAddressPools",
            "probes",
            "loadBalancingRules",
            "securityRules",
        ] {
            if let Some(items) = out["properties"][array].as_array_mut() {
                for item in items {
                    let name = item["name"].as_str().unwrap_or_default().to_owned();
                    item["id"] = json!(format!("{}/{array}/{name}", r.id));
                }
            }
        }
        out
    }

    pub(crate) fn get(&mut self, path: &Path) -> Result<Reply> {
        self.tick();
        let key = path.id().to_ascii_lowercase();
        match self.resources.get(&key) {
            Some(r) => Ok(Reply::json(200, self.render(r))),
            None if path.name.is_none() => Err(ArmError::new(
                404,
                "ResourceGroupNotFound",
                &format!(
                    "resource group `{}` could not be found",
                    path.group.as_deref().unwrap_or("")
                ),
            )),
            None => Err(ArmError::new(
                404,
                "ResourceNotFound",
                &format!("the resource `{}` was not found", path.type_name()),
            )),
        }
    }

    pub(crate) fn list(&mut self, path: &Path, skip: usize) -> Reply {
        self.tick();
        let items: Vec<Value> = self
            .resources
            .values()
            .filter(|r| match &path.group {
                None => r.kind == "resourceGroups",
                Some(g) => {
                    r.group.eq_ignore_ascii_case(g)
                        && r.kind != "resourceGroups"
                        && (path.everything || r.kind.eq_ignore_ascii_case(&path.type_name()))
                }
            })
            .map(|r| {
                if path.everything {
                    json!({"id": r.id, "name": r.name, "type": r.kind, "tags": r.body["tags"], "location": r.body["location"]})
                } else {
                    self.render(r)
                }
            })
            .collect();
        let size = match self.faults.page_size {
            0 => 100,
            n => n,
        };
        let page: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
        let mut out = json!({ "value": page });
        if skip + size < items.len() {
            let base = if path.group.is_none() {
                format!("/subscriptions/{SUBSCRIPTION}/resourcegroups")
            } else if path.everything {
                format!("{}/resources", path.id())
            } else {
                format!("{}/providers/{}", path.id(), path.type_name())
            };
            let version = api_version_of(path.namespace.as_deref());
            out["nextLink"] = json!(format!(
                "{}{base}?api-version={version}&$skiptoken={}",
                self.origin,
                skip + size
            ));
        }
        Reply::json(200, out)
    }

    pub(crate) fn put(&mut self, path: &Path, body: Value) -> Result<Reply> {
        self.tick();
        let Some(group) = path.group.clone() else {
            return Err(ArmError::new(405, "MethodNotAllowed", "PUT on a list"));
        };
        let id = path.id();
        let key = id.to_ascii_lowercase();
        let group_key = format!(
            "/subscriptions/{SUBSCRIPTION}/resourcegroups/{}",
            group.to_ascii_lowercase()
        );
        if path.name.is_some() && !self.resources.contains_key(&group_key) {
            return Err(ArmError::new(
                404,
                "ResourceGroupNotFound",
                &format!("resource group `{group}` could not be found"),
            ));
        }
        let now = Instant::now();
        if let Some(found) = self.resources.get(&key) {
            if found.phase != Phase::Succeeded {
                return Err(ArmError::new(
                    409,
                    "AnotherOperationInProgress",
                    &format!("operation on `{}` in progress", found.name),
                ));
            }
            if found.body == body {
                return Ok(Reply::json(200, self.render(found)));
            }
            if found.body["properties"]["osProfile"]["customData"]
                != body["properties"]["osProfile"]["customData"]
            {
                return Err(ArmError::new(
                    409,
                    "PropertyChangeNotAllowed",
                    "changing property 'customData' is not allowed",
                ));
            }
        }
        let kind = path.type_name();
        let computed = self.check(&key, &kind, &body)?;
        let existed = self.resources.contains_key(&key);
        let sync = kind == "resourceGroups";
        let settle = if sync {
            Duration::ZERO
        } else {
            self.faults.settle
        };
        let phase = match (sync, existed) {
            (true, _) => Phase::Succeeded,
            (false, true) => Phase::Updating,
            (false, false) => Phase::Creating,
        };
        let resource = Resource {
            id: id.clone(),
            kind,
            group,
            name: path
                .name
                .clone()
                .unwrap_or_else(|| path.group.clone().unwrap_or_default()),
            body,
            phase,
            until: now + settle,
            computed,
        };
        let rendered = self.render(&resource);
        self.resources.insert(key.clone(), resource);
        let status = if existed { 200 } else { 201 };
        if sync {
            return Ok(Reply::json(status, rendered));
        }
        Ok(self.started(Reply::json(status, rendered), key, now + settle, false))
    }

    pub(crate) fn delete(&mut self, path: &Path) -> Result<Reply> {
        self.tick();
        let key = path.id().to_ascii_lowercase();
        let Some(found) = self.resources.get(&key) else {
            return Ok(Reply {
                status: 204,
                headers: Vec::new(),
                body: Body::Empty,
            });
        };
        if found.phase != Phase::Succeeded {
            return Err(ArmError::new(
                409,
                "AnotherOperationInProgress",
                &format!("operation on `{}` in progress", found.name),
            ));
        }
        if found.kind != "resourceGroups" {
            let prefix = key.clone();
            let user = self.resources.iter().find(|(k, r)| {
                **k != key
                    && references(&r.body)
                        .iter()
                        .any(|id| *id == prefix || id.starts_with(&format!("{prefix}/")))
            });
            if let Some((_, user)) = user {
                let code = match found.kind.as_str() {
                    "Microsoft.Network/networkSecurityGroups" => {
                        "InUseNetworkSecurityGroupCannotBeDeleted"
                    }
                    "Microsoft.Network/networkInterfaces" => "NicInUse",
                    "Microsoft.Network/publicIPAddresses" => "PublicIPAddressCannotBeDeleted",
                    "Microsoft.Network/virtualNetworks" => "InUseSubnetCannotBeDeleted",
                    "Microsoft.Network/natGateways" => "InUseNatGatewayCannotBeDeleted",
                    _ => "InUseResourceCannotBeDeleted",
                };
                return Err(ArmError::new(
                    400,
                    code,
                    &format!("`{}` is in use by `{}`", found.name, user.name),
                ));
            }
        }
        let until = Instant::now() + self.faults.settle;
        if let Some(r) = self.resources.get_mut(&key) {
            r.phase = Phase::Deleting;
            r.until = until;
        }
        let reply = Reply {
            status: 202,
            headers: Vec::new(),
            body: Body::Empty,
        };
        Ok(self.started(reply, key, until, true))
    }

    /// An async operation's headers on `reply`.
    fn started(&mut self, reply: Reply, key: String, until: Instant, delete: bool) -> Reply {
        let op = format!("op{:06}", self.operations.len() + 1);
        self.operations
            .insert(op.clone(), Operation { key, until, delete });
        let retry = self.faults.retry_after.to_string();
        reply
            .with(
                "azure-asyncoperation",
                format!("{}/fake/operations/{op}", self.origin),
            )
            .with("location", format!("{}/fake/results/{op}", self.origin))
            .with("retry-after", retry)
    }

    /// An async operation's status, or its `Location` result.
    pub(crate) fn operation(&mut self, op: &str, result: bool) -> Reply {
        self.tick();
        let Some(o) = self.operations.get(op) else {
            return ArmError::new(404, "OperationNotFound", op).into();
        };
        let done = o.until <= Instant::now();
        let retry = self.faults.retry_after.to_string();
        if result {
            if !done {
                return Reply {
                    status: 202,
                    headers: Vec::new(),
                    body: Body::Empty,
                }
                .with("retry-after", retry);
            }
            return match (o.delete, self.resources.get(&o.key)) {
                (false, Some(r)) => Reply::json(200, self.render(r)),
                _ => Reply {
                    status: 204,
                    headers: Vec::new(),
                    body: Body::Empty,
                },
            };
        }
        let status = if done { "Succeeded" } else { "InProgress" };
        let reply = Reply::json(200, json!({"status": status, "name": op}));
        if done {
            reply
        } else {
            reply.with("retry-after", retry)
        }
    }

    /// Validates a body for its type; what Azure computes for it.
    fn check(&mut self, key: &str, kind: &str, body: &Value) -> Result<Value> {
        for id in references(body) {
            if id.starts_with(&format!("{key}/")) || id == key {
                continue;
            }
            if !self.resolves(&id) {
                return Err(ArmError::new(
                    400,
                    "InvalidResourceReference",
                    &format!("resource `{id}` referenced by `{key}` was not found"),
                ));
            }
        }
        match kind {
            "Microsoft.Network/networkSecurityGroups" => {
                check_rules(body)?;
                Ok(Value::Null)
            }
            "Microsoft.Network/publicIPAddresses" => match self.resources.get(key) {
                Some(r) => Ok(r.computed.clone()),
                None => {
                    self.next_address = self.next_address.wrapping_add(1);
                    Ok(json!({"ipAddress": format!("203.0.113.{}", self.next_address)}))
                }
            },
            "Microsoft.Network/networkInterfaces" => self.nic_addresses(key, body),
            "Microsoft.Compute/virtualMachines" => {
                let data = body["properties"]["osProfile"]["customData"]
                    .as_str()
                    .unwrap_or("");
                if data.len() > 87_380 {
                    return Err(ArmError::new(
                        400,
                        "InvalidParameter",
                        "customData is too long",
                    ));
                }
                Ok(Value::Null)
            }
            _ => Ok(Value::Null),
        }
    }

    fn resolves(&self, id: &str) -> bool {
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        if parts.len() < 8 {
            return self.resources.contains_key(id);
        }
        let top = format!("/{}", parts[..8].join("/"));
        let Some(r) = self.resources.get(&top) else {
            return false;
        };
        match parts.get(8..10) {
            Some(["subnets", name]) => {
                r.body["properties"]["subnets"].as_array().is_some_and(|s| {
                    s.iter().any(|s| {
                        s["name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                })
            }
            _ => r.phase != Phase::Deleting,
        }
    }

    /// A NIC's private addresses: `Static` as asked (unless another NIC has it), else the first
    /// free from `.4` of the subnet.
    fn nic_addresses(&self, key: &str, body: &Value) -> Result<Value> {
        let taken: Vec<String> = self
            .resources
            .iter()
            .filter(|(k, _)| k.as_str() != key)
            .filter_map(|(_, r)| r.computed["ipConfigurations"].as_array())
            .flatten()
            .filter_map(|c| {
                c["properties"]["privateIPAddress"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        let mut configs = Vec::new();
        for config in body["properties"]["ipConfigurations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let props = &config["properties"];
            let address = if props["privateIPAllocationMethod"] == "Static" {
                let ip = props["privateIPAddress"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if taken.contains(&ip) {
                    return Err(ArmError::new(
                        400,
                        "PrivateIPAddressInUse",
                        &format!("`{ip}` is in use"),
                    ));
                }
                ip
            } else if let Some(kept) = self.resources.get(key).and_then(|r| {
                r.computed["ipConfigurations"][0]["properties"]["privateIPAddress"].as_str()
            }) {
                kept.to_owned()
            } else {
                (4..255)
                    .map(|n| format!("10.2.0.{n}"))
                    .find(|ip| !taken.contains(ip))
                    .unwrap_or_default()
            };
            let mut config = config.clone();
            config["properties"]["privateIPAddress"] = json!(address);
            configs.push(config);
        }
        Ok(json!({ "ipConfigurations": configs }))
    }

    pub(crate) fn summary(&mut self) -> Vec<Summary> {
        self.tick();
        self.resources
            .values()
            .map(|r| Summary {
                kind: r.kind.clone(),
                group: r.group.clone(),
                name: r.name.clone(),
                tags: r.body["tags"]
                    .as_object()
                    .map(|t| {
                        t.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    pub(crate) fn custom_data(&self, name: &str) -> Option<String> {
        use base64::Engine as _;
        let body = self.body_of("Microsoft.Compute/virtualMachines", name)?;
        let data = body["properties"]["osProfile"]["customData"]
            .as_str()?
            .to_owned();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .ok()?;
        String::from_utf8(bytes).ok()
    }

    pub(crate) fn body_of(&self, kind: &str, name: &str) -> Option<Value> {
        self.resources
            .values()
            .find(|r| r.kind.eq_ignore_ascii_case(kind) && r.name == name)
            .map(|r| r.body.clone())
    }

    pub(crate) fn add_foreign(
        &mut self,
        kind: &str,
        group: &str,
        name: &str,
        tags: &[(&str, &str)],
        mut body: Value,
    ) {
        let tags: BTreeMap<&str, &str> = tags.iter().copied().collect();
        body["tags"] = json!(tags);
        let id = if kind == "resourceGroups" {
            format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}")
        } else {
            format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/{kind}/{name}")
        };
        let resource = Resource {
            id: id.clone(),
            kind: kind.to_owned(),
            group: group.to_owned(),
            name: name.to_owned(),
            body,
            phase: Phase::Succeeded,
            until: Instant::now(),
            computed: Value::Null,
        };
        self.resources.insert(id.to_ascii_lowercase(), resource);
    }
}

/// Every ARM id a body names (`{"id": "/subscriptions/…"}` anywhere), lower case.
fn references(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![body];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("id", Some(id)) if id.starts_with("/subscriptions/") => {
                            out.push(id.to_ascii_lowercase())
                        }
                        _ => stack.push(v),
                    }
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// An NSG's rules as Azure checks them: one address family, a name without spaces, priorities
/// 100–4096 unique per direction.
fn check_rules(body: &Value) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for rule in body["properties"]["securityRules"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = rule["name"].as_str().unwrap_or_default();
        if name.is_empty() || name.contains(' ') || name.len() > 80 {
            return Err(ArmError::new(
                400,
                "InvalidResourceName",
                &format!("rule name `{name}` is invalid"),
            ));
        }
        let p = &rule["properties"];
        let priority = p["priority"].as_u64().unwrap_or(0);
        if !(100..=4096).contains(&priority) || !seen.insert((p["direction"].to_string(), priority))
        {
            return Err(ArmError::new(
                400,
                "SecurityRuleInvalidPriority",
                &format!("rule `{name}`: priority {priority} is invalid or repeated"),
            ));
        }
        let mut prefixes: Vec<&str> = p["sourceAddressPrefixes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        prefixes.extend(p["sourceAddressPrefix"].as_str());
        let families: std::collections::BTreeSet<bool> = prefixes
            .iter()
            .filter(|s| s.contains('/'))
            .map(|s| s.contains(':'))
            .collect();
        if families.len() > 1 {
            return Err(ArmError::new(
                400,
                "ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies",
                &format!("rule `{name}` mixes IPv4 and IPv6"),
            ));
        }
    }
    Ok(())
}
