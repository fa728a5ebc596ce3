//! Strategic-merge patches: the changes each kind of object can take, keyed lists included.

use super::*;

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
                ("Widget", _) => match self.rng.below(5) {
                    0 => put(&mut body, &["spec", "mode"], json!(text(&mut self.rng))),
                    1 => {
                        let tags: Vec<Value> = (0..self.rng.range(1, 2))
                            .map(|_| json!(line(&mut self.rng)))
                            .collect();
                        put(&mut body, &["spec", "tags"], Value::Array(tags));
                    }
                    2 => {
                        put(
                            &mut body,
                            &["spec", "nested", "deep", "extra"],
                            json!(text(&mut self.rng)),
                        );
                        self.known[at].nested = true;
                    }
                    3 => put(&mut body, &["spec", "size"], raw_token(&mut self.rng)),
                    _ => put(
                        &mut body,
                        &["spec", "added"],
                        json!({"flag": raw_token(&mut self.rng), "note": text(&mut self.rng)}),
                    ),
                },
                _ => {
                    let universal = self.universal_smp(&[at]);
                    deep_merge(&mut body, universal);
                }
            }
        }
        body
    }

    pub(super) fn smp_deployment(&mut self, at: usize, body: &mut Map<String, Value>) {
        let mut containers: Vec<Value> = Vec::new();
        // Containers and env entries this body changes or adds: it never also deletes them.
        let mut touched: Vec<String> = Vec::new();
        // Env entries this body deletes: it never also sets them.
        let mut deleted: Vec<String> = Vec::new();
        let first = self.known[at].containers[0].clone();
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
                    named(&mut containers, &first).insert("image".into(), json!(image));
                    touched.push(first.clone());
                }
                5 => {
                    let existing = self.known[at].env.get(&first).cloned().unwrap_or_default();
                    let name = if !existing.is_empty() && self.rng.chance(50) {
                        existing[self.rng.below(existing.len())].clone()
                    } else {
                        self.rng.pick(ENV_NAMES).to_owned()
                    };
                    if deleted.contains(&name) {
                        continue;
                    }
                    let value = text(&mut self.rng);
                    let env = named(&mut containers, &first)
                        .entry("env")
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                        .expect("a list");
                    named(env, &name).insert("value".into(), json!(value));
                    touched.extend([first.clone(), name.clone()]);
                    let known = self.known[at].env.entry(first.clone()).or_default();
                    if !known.contains(&name) {
                        known.push(name);
                    }
                }
                6 => {
                    let serial = self.serial();
                    let name = format!("added-{serial}");
                    let mut container = json!({"name": name, "image": self.image()});
                    if self.rng.chance(50) {
                        let variable = format!("ADDED_{serial}");
                        container["env"] =
                            json!([{"name": variable, "value": text(&mut self.rng)}]);
                        self.known[at].env.insert(name.clone(), vec![variable]);
                    }
                    if self.rng.chance(50) {
                        container["args"] = json!([line(&mut self.rng)]);
                    }
                    containers.push(container);
                    touched.push(name.clone());
                    self.known[at].containers.push(name);
                }
                7 => {
                    let deletable: Vec<String> = self.known[at]
                        .containers
                        .iter()
                        .filter(|c| !touched.contains(c))
                        .cloned()
                        .collect();
                    if deletable.is_empty() || self.known[at].containers.len() < 2 {
                        continue;
                    }
                    let name = deletable[self.rng.below(deletable.len())].clone();
                    named(&mut containers, &name).insert("$patch".into(), json!("delete"));
                    touched.push(name.clone());
                    self.known[at].containers.retain(|c| *c != name);
                    self.known[at].env.remove(&name);
                }
                8 => {
                    let existing = self.known[at].env.get(&first).cloned().unwrap_or_default();
                    let deletable: Vec<String> = existing
                        .iter()
                        .filter(|e| !touched.contains(e))
                        .cloned()
                        .collect();
                    if deletable.is_empty() || existing.len() < 2 {
                        continue;
                    }
                    let name = deletable[self.rng.below(deletable.len())].clone();
                    let env = named(&mut containers, &first)
                        .entry("env")
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                        .expect("a list");
                    named(env, &name).insert("$patch".into(), json!("delete"));
                    touched.extend([first.clone(), name.clone()]);
                    deleted.push(name.clone());
                    if let Some(known) = self.known[at].env.get_mut(&first) {
                        known.retain(|e| *e != name);
                    }
                }
                9 => {
                    let port = 9000 + self.serial();
                    let mut entry = json!({"containerPort": port, "name": format!("p{port}")});
                    if self.rng.chance(30) {
                        entry["protocol"] = json!("TCP");
                    }
                    named(&mut containers, &first)
                        .entry("ports")
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                        .expect("a list")
                        .push(entry);
                    touched.push(first.clone());
                }
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
}
