//! Strategic-merge patches: the changes each kind of object can take, keyed lists included.

use serde_json::{Map, Value, json};

use super::generator::{Gen, deep_merge, named, put};
use super::model::{ANNOTATION_KEYS, DATA_KEYS, ENV_NAMES};
use super::values::{line, raw_token, text};

impl Gen {
    /// A strategic-merge body for the object at `at`, kind by kind; the model follows it.
    pub(super) fn smp_changes(&mut self, at: usize) -> Map<String, Value> {
        let mut body = Map::new();
        let kind = self.known[at].kind.clone();
        if kind == "Deployment" {
            self.smp_deployment(at, &mut body);
            return body;
        }
        for _ in 0..self.rng.range(1, 2) {
            match (kind.as_str(), self.rng.below(3)) {
                (_, 0) => {
                    let universal = self.universal_smp(&[at]);
                    deep_merge(&mut body, universal);
                }
                ("Service", _) => {
                    if self.rng.chance(50) {
                        let service_type =
                            self.rng.pick(&["NodePort", "LoadBalancer", "ClusterIP"]);
                        put(&mut body, &["spec", "type"], json!(service_type));
                    } else {
                        let port = 9000 + self.serial();
                        put(
                            &mut body,
                            &["spec", "ports"],
                            json!([{"name": format!("extra-{port}"), "port": port, "targetPort": port}]),
                        );
                    }
                }
                ("ConfigMap", _) => {
                    let key = self.rng.pick(DATA_KEYS);
                    put(&mut body, &["data", key], json!(text(&mut self.rng)));
                    if !self.known[at].data.iter().any(|k| k == key) {
                        self.known[at].data.push(key.to_owned());
                    }
                }
                ("ServiceAccount", _) => {
                    body.insert(
                        "automountServiceAccountToken".into(),
                        json!(self.rng.chance(50)),
                    );
                }
                ("Role" | "ClusterRole", _) => {
                    let resource = self.rng.pick(&["secrets", "pods", "services"]);
                    body.insert(
                        "rules".into(),
                        json!([{"apiGroups": [""], "resources": [resource], "verbs": ["get"]}]),
                    );
                }
                ("RoleBinding" | "ClusterRoleBinding", _) => {
                    let cluster = kind == "ClusterRoleBinding";
                    body.insert("subjects".into(), self.subjects(cluster));
                }
                ("Widget", _) => self.smp_widget(at, &mut body),
                _ => {
                    let universal = self.universal_smp(&[at]);
                    deep_merge(&mut body, universal);
                }
            }
        }
        body
    }

    /// A change to the custom resource: scalars, a list, a new nested mapping.
    fn smp_widget(&mut self, at: usize, body: &mut Map<String, Value>) {
        match self.rng.below(5) {
            0 => put(body, &["spec", "mode"], json!(text(&mut self.rng))),
            1 => {
                let tags: Vec<Value> = (0..self.rng.range(1, 2))
                    .map(|_| json!(line(&mut self.rng)))
                    .collect();
                put(body, &["spec", "tags"], Value::Array(tags));
            }
            2 => {
                put(
                    body,
                    &["spec", "nested", "deep", "extra"],
                    json!(text(&mut self.rng)),
                );
                self.known[at].nested = true;
            }
            3 => put(body, &["spec", "size"], raw_token(&mut self.rng)),
            _ => put(
                body,
                &["spec", "added"],
                json!({"flag": raw_token(&mut self.rng), "note": text(&mut self.rng)}),
            ),
        }
    }

    pub(super) fn smp_deployment(&mut self, at: usize, body: &mut Map<String, Value>) {
        let mut edits = ContainerEdits {
            first: self.known[at].containers[0].clone(),
            containers: Vec::new(),
            touched: Vec::new(),
            deleted: Vec::new(),
        };
        for _ in 0..self.rng.range(1, 3) {
            match self.rng.below(12) {
                0 => {
                    let replicas = if self.rng.chance(20) {
                        Value::Null
                    } else {
                        json!(self.rng.below(6))
                    };
                    put(body, &["spec", "replicas"], replicas);
                }
                1 | 2 => {
                    let universal = self.universal_smp(&[at]);
                    deep_merge(body, universal);
                }
                3 => {
                    let key = self.rng.pick(ANNOTATION_KEYS);
                    put(
                        body,
                        &["spec", "template", "metadata", "annotations", key],
                        json!(text(&mut self.rng)),
                    );
                }
                4 => {
                    let image = self.image();
                    named(&mut edits.containers, &edits.first).insert("image".into(), json!(image));
                    edits.touched.push(edits.first.clone());
                }
                5 => self.smp_set_env(at, &mut edits),
                6 => self.smp_add_container(at, &mut edits),
                7 => self.smp_delete_container(at, &mut edits),
                8 => self.smp_delete_env(at, &mut edits),
                9 => self.smp_add_port(&mut edits),
                10 => put(
                    body,
                    &["spec", "template", "spec", "nodeSelector"],
                    json!({"disk": line(&mut self.rng)}),
                ),
                _ => put(
                    body,
                    &["spec", "template", "spec", "tolerations"],
                    json!([{"key": "dedicated", "operator": "Equal", "value": line(&mut self.rng), "effect": "NoSchedule"}]),
                ),
            }
        }
        let containers = edits.containers;
        if containers.is_empty() {
            return;
        }
        // kustomize's merged list: the patch's items in the patch's order, then the others.
        let mut order: Vec<String> = containers
            .iter()
            .filter(|c| c.get("$patch").is_none())
            .map(|c| c["name"].as_str().expect("a name").to_owned())
            .collect();
        for name in &self.known[at].containers {
            if !order.contains(name) {
                order.push(name.clone());
            }
        }
        self.known[at].containers = order;
        put(
            body,
            &["spec", "template", "spec", "containers"],
            Value::Array(containers),
        );
    }

    /// Sets an env entry of the first container, an existing one or a new one.
    fn smp_set_env(&mut self, at: usize, edits: &mut ContainerEdits) {
        let existing = self.known[at]
            .env
            .get(&edits.first)
            .cloned()
            .unwrap_or_default();
        let name = if !existing.is_empty() && self.rng.chance(50) {
            existing[self.rng.below(existing.len())].clone()
        } else {
            self.rng.pick(ENV_NAMES).to_owned()
        };
        if edits.deleted.contains(&name) {
            return;
        }
        let value = text(&mut self.rng);
        let env = named(&mut edits.containers, &edits.first)
            .entry("env")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("a list");
        named(env, &name).insert("value".into(), json!(value));
        edits.touched.extend([edits.first.clone(), name.clone()]);
        let known = self.known[at].env.entry(edits.first.clone()).or_default();
        if !known.contains(&name) {
            known.push(name);
        }
    }

    /// Adds a container, sometimes with an env entry and args.
    fn smp_add_container(&mut self, at: usize, edits: &mut ContainerEdits) {
        let serial = self.serial();
        let name = format!("added-{serial}");
        let mut container = json!({"name": name, "image": self.image()});
        if self.rng.chance(50) {
            let variable = format!("ADDED_{serial}");
            container["env"] = json!([{"name": variable, "value": text(&mut self.rng)}]);
            self.known[at].env.insert(name.clone(), vec![variable]);
        }
        if self.rng.chance(50) {
            container["args"] = json!([line(&mut self.rng)]);
        }
        edits.containers.push(container);
        edits.touched.push(name.clone());
        self.known[at].containers.push(name);
    }

    /// Deletes a container this body has not touched, when more than one is left.
    fn smp_delete_container(&mut self, at: usize, edits: &mut ContainerEdits) {
        let deletable: Vec<String> = self.known[at]
            .containers
            .iter()
            .filter(|c| !edits.touched.contains(c))
            .cloned()
            .collect();
        if deletable.is_empty() || self.known[at].containers.len() < 2 {
            return;
        }
        let name = deletable[self.rng.below(deletable.len())].clone();
        named(&mut edits.containers, &name).insert("$patch".into(), json!("delete"));
        edits.touched.push(name.clone());
        self.known[at].containers.retain(|c| *c != name);
        self.known[at].env.remove(&name);
    }

    /// Deletes an env entry of the first container this body has not touched, when more than
    /// one is left.
    fn smp_delete_env(&mut self, at: usize, edits: &mut ContainerEdits) {
        let existing = self.known[at]
            .env
            .get(&edits.first)
            .cloned()
            .unwrap_or_default();
        let deletable: Vec<String> = existing
            .iter()
            .filter(|e| !edits.touched.contains(e))
            .cloned()
            .collect();
        if deletable.is_empty() || existing.len() < 2 {
            return;
        }
        let name = deletable[self.rng.below(deletable.len())].clone();
        let env = named(&mut edits.containers, &edits.first)
            .entry("env")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("a list");
        named(env, &name).insert("$patch".into(), json!("delete"));
        edits.touched.extend([edits.first.clone(), name.clone()]);
        edits.deleted.push(name.clone());
        if let Some(known) = self.known[at].env.get_mut(&edits.first) {
            known.retain(|e| *e != name);
        }
    }

    /// Adds a port to the first container, sometimes naming its protocol.
    fn smp_add_port(&mut self, edits: &mut ContainerEdits) {
        let port = 9000 + self.serial();
        let mut entry = json!({"containerPort": port, "name": format!("p{port}")});
        if self.rng.chance(30) {
            entry["protocol"] = json!("TCP");
        }
        named(&mut edits.containers, &edits.first)
            .entry("ports")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("a list")
            .push(entry);
        edits.touched.push(edits.first.clone());
    }
}

/// What one strategic-merge patch of a Deployment does to its containers.
struct ContainerEdits {
    /// The first container, which most changes go to.
    first: String,
    /// The patch's `containers` list.
    containers: Vec<Value>,
    /// Containers and env entries this body changes or adds: it never also deletes them.
    touched: Vec<String>,
    /// Env entries this body deletes: it never also sets them.
    deleted: Vec<String>,
}
