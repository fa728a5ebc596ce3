//! JSON 6902 patches: operations whose paths exist in the object as the model knows it.

use serde_json::{Value, json};

use super::generator::{Gen, escape};
use super::model::{ANNOTATION_KEYS, DATA_KEYS, LABEL_KEYS};
use super::values::{line, raw_token, text};

impl Gen {
    pub(super) fn json_entry(&mut self, dir: &str) -> Option<Value> {
        if self.known.is_empty() {
            return None;
        }
        let (target, matched) = self.target(true)?;
        let ops = if matched.len() == 1 {
            self.json_ops(matched[0])
        } else if matched.iter().all(|&i| self.known[i].labels) {
            // Every selected object has labels: add one.
            let key = escape(self.rng.pick(LABEL_KEYS));
            vec![
                json!({"op": "add", "path": format!("/metadata/labels/{key}"), "value": line(&mut self.rng)}),
            ]
        } else {
            return None;
        };
        let mut entry = self.json_patch_text(dir, &ops);
        entry.insert("target".into(), target);
        Some(Value::Object(entry))
    }

    /// One to three JSON 6902 operations on the object at `at`, each valid where it applies.
    pub(super) fn json_ops(&mut self, at: usize) -> Vec<Value> {
        let mut ops = Vec::new();
        for _ in 0..self.rng.range(1, 3) {
            let known = self.known[at].clone();
            let op = match (known.kind.as_str(), self.rng.below(4)) {
                (_, 0) => self.json_metadata_op(at),
                ("Deployment", _) => self.json_deployment_op(at),
                ("ConfigMap", _) => self.json_config_map_op(at),
                ("Widget", _) => self.json_widget_op(at),
                ("Service", _) => {
                    if self.rng.chance(50) {
                        let port = 9000 + self.serial();
                        json!({"op": "add", "path": "/spec/ports/-", "value": {"name": format!("j{port}"), "port": port}})
                    } else {
                        json!({"op": "add", "path": "/spec/type", "value": "NodePort"})
                    }
                }
                ("RoleBinding" | "ClusterRoleBinding", _) => json!({
                    "op": "add",
                    "path": "/subjects/-",
                    "value": {"kind": "User", "name": line(&mut self.rng), "apiGroup": "rbac.authorization.k8s.io"},
                }),
                ("Role" | "ClusterRole", _) => json!({
                    "op": "add",
                    "path": "/rules/0",
                    "value": {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
                }),
                _ => self.json_metadata_op(at),
            };
            ops.push(op);
        }
        ops
    }

    pub(super) fn json_metadata_op(&mut self, at: usize) -> Value {
        let known = self.known[at].clone();
        match self.rng.below(6) {
            0 if known.labels => {
                let key = escape(self.rng.pick(LABEL_KEYS));
                json!({"op": "add", "path": format!("/metadata/labels/{key}"), "value": line(&mut self.rng)})
            }
            1 if known.annotations => {
                let key = escape(self.rng.pick(ANNOTATION_KEYS));
                json!({"op": "add", "path": format!("/metadata/annotations/{key}"), "value": text(&mut self.rng)})
            }
            2 if known.annotations => {
                json!({"op": "copy", "from": "/metadata/name", "path": "/metadata/annotations/source-name"})
            }
            3 => json!({"op": "test", "path": "/kind", "value": known.kind}),
            4 => json!({"op": "test", "path": "/apiVersion", "value": known.api_version}),
            _ => {
                // Replaces the whole mapping, or creates it.
                self.known[at].annotations = true;
                let key = self.rng.pick(ANNOTATION_KEYS);
                json!({"op": "add", "path": "/metadata/annotations", "value": {key: text(&mut self.rng)}})
            }
        }
    }

    pub(super) fn json_deployment_op(&mut self, at: usize) -> Value {
        const FIRST: &str = "/spec/template/spec/containers/0";
        match self.rng.below(7) {
            0 => json!({"op": "replace", "path": format!("{FIRST}/image"), "value": self.image()}),
            1 | 2 => {
                let name = format!("JSON_{}", self.serial());
                let first = self.known[at].containers[0].clone();
                let value = json!({"name": name, "value": text(&mut self.rng)});
                if let Some(env) = self.known[at].env.get_mut(&first) {
                    env.push(name);
                    let path = if self.rng.chance(50) {
                        format!("{FIRST}/env/-")
                    } else {
                        format!("{FIRST}/env/0")
                    };
                    json!({"op": "add", "path": path, "value": value})
                } else {
                    // No list to extend: the operation creates it.
                    self.known[at].env.insert(first, vec![name]);
                    json!({"op": "add", "path": format!("{FIRST}/env"), "value": [value]})
                }
            }
            3 => json!({"op": "add", "path": "/spec/replicas", "value": self.rng.below(6)}),
            4 => {
                json!({"op": "add", "path": format!("{FIRST}/args"), "value": [line(&mut self.rng), text(&mut self.rng)]})
            }
            5 => {
                let key = escape(self.rng.pick(LABEL_KEYS));
                json!({"op": "add", "path": format!("/spec/template/metadata/labels/{key}"), "value": line(&mut self.rng)})
            }
            _ => {
                json!({"op": "test", "path": "/spec/template/spec/containers/0/name", "value": self.known[at].containers[0]})
            }
        }
    }

    pub(super) fn json_config_map_op(&mut self, at: usize) -> Value {
        let keys = self.known[at].data.clone();
        match self.rng.below(4) {
            0 if !keys.is_empty() => {
                let key = keys[self.rng.below(keys.len())].clone();
                json!({"op": "replace", "path": format!("/data/{}", escape(&key)), "value": text(&mut self.rng)})
            }
            1 if !keys.is_empty() => {
                let key = keys[self.rng.below(keys.len())].clone();
                self.known[at].data.retain(|k| *k != key);
                json!({"op": "remove", "path": format!("/data/{}", escape(&key))})
            }
            _ => {
                let key = self.rng.pick(DATA_KEYS);
                if !keys.iter().any(|k| k == key) {
                    self.known[at].data.push(key.to_owned());
                }
                json!({"op": "add", "path": format!("/data/{}", escape(key)), "value": text(&mut self.rng)})
            }
        }
    }

    pub(super) fn json_widget_op(&mut self, at: usize) -> Value {
        let known = self.known[at].clone();
        match self.rng.below(7) {
            0 => json!({"op": "replace", "path": "/spec/mode", "value": text(&mut self.rng)}),
            1 => json!({"op": "add", "path": "/spec/tags/0", "value": line(&mut self.rng)}),
            2 => json!({"op": "add", "path": "/spec/tags/-", "value": line(&mut self.rng)}),
            3 if known.removable => {
                self.known[at].removable = false;
                json!({"op": "remove", "path": "/spec/removable"})
            }
            4 if known.nested => {
                self.known[at].nested = false;
                json!({"op": "move", "from": "/spec/nested/deep", "path": "/spec/relocated"})
            }
            // kustomize's `test` of a string with `&`, `<` or `>` fails when the patch is
            // written as JSON (corpus: errors/json6902-test-json-text-escaped-characters)
            5 if known
                .reserved
                .as_ref()
                .is_some_and(|r| !r.contains(['&', '<', '>'])) =>
            {
                json!({"op": "test", "path": "/spec/reserved", "value": known.reserved})
            }
            _ => {
                // A plain token is read by the YAML parser of the patch text, whatever it is.
                let value = match self.rng.below(5) {
                    0 => json!(2.5),
                    1 => json!(true),
                    2 => Value::Null,
                    3 => json!({"nested": [1, "two", false], "plain": raw_token(&mut self.rng)}),
                    _ => raw_token(&mut self.rng),
                };
                json!({"op": "add", "path": "/spec/fromJson", "value": value})
            }
        }
    }
}
