//! Patch entries (`patches`, `patchesStrategicMerge`, `patchesJson6902`), inline or in files,
//! and the targets that select what they patch.

use serde_json::{Map, Value, json};

use super::generator::{Gen, deep_merge, put, selects};
use super::model::{ANNOTATION_KEYS, APPS, DELETABLE, LABEL_KEYS};
use super::values::{line, text};
use super::yaml_text::{block, has_markers, to_yaml};

impl Gen {
    /// `patches` entries: strategic merge and JSON 6902, inline or from files, with and without
    /// targets, and now and then a `$patch: delete` of a whole object.
    pub(super) fn patches(&mut self, dir: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            let entry = match self.rng.below(20) {
                0..=8 => self.smp_entry(dir),
                9..=16 => self.json_entry(dir),
                17 => self.kind_change_entry(dir),
                _ => self.delete_entry(dir),
            };
            entries.extend(entry);
        }
        entries
    }

    /// A patch with `allowKindChange` that turns a Deployment into a StatefulSet (which needs
    /// a `serviceName`); the model follows, so later patches target the new kind.
    fn kind_change_entry(&mut self, dir: &str) -> Option<Value> {
        // only one not renamed below: a patch naming it by kind and written name must then find
        // it (kustomize matches such a patch against every id the object has had)
        let deployments: Vec<usize> = (0..self.known.len())
            .filter(|&i| {
                self.known[i].kind == "Deployment" && self.known[i].current == self.known[i].name
            })
            .collect();
        let &at = deployments.get(self.rng.below(deployments.len().max(1)))?;
        let name = self.known[at].name.clone();
        // the target's name is a regular expression: it must select this Deployment alone
        if deployments
            .iter()
            .any(|&i| i != at && self.known[i].name == name)
        {
            return None;
        }
        let document = json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name},
            "spec": {"serviceName": name},
        });
        let text = to_yaml(&mut self.rng, &document);
        let mut entry = self.smp_text(dir, text);
        entry.insert("target".into(), json!({"kind": "Deployment", "name": name}));
        entry.insert("options".into(), json!({"allowKindChange": true}));
        self.known[at].kind = "StatefulSet".to_owned();
        Some(Value::Object(entry))
    }

    pub(super) fn patches_strategic_merge(&mut self, dir: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let mut documents = Vec::new();
            for _ in 0..self.rng.range(1, 2) {
                if self.known.is_empty() {
                    break;
                }
                let document = if self.rng.chance(15) {
                    self.delete_document()
                } else {
                    let at = self.rng.below(self.known.len());
                    Some(self.named_smp(at))
                };
                documents.extend(document);
            }
            if documents.is_empty() {
                continue;
            }
            let texts: Vec<String> = documents
                .iter()
                .map(|d| to_yaml(&mut self.rng, d))
                .collect();
            if texts.len() == 1 && self.rng.chance(40) {
                entries.push(block(&texts[0]));
            } else {
                let path = self.patch_file(dir, "yaml", texts.join("---\n"));
                entries.push(json!(path));
            }
        }
        entries
    }

    pub(super) fn patches_json6902(&mut self, dir: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            if self.known.is_empty() {
                break;
            }
            let at = self.rng.below(self.known.len());
            let known = self.known[at].clone();
            let (group, version) = known.group_version();
            let mut target = json!({"version": version, "kind": known.kind, "name": known.name});
            if !group.is_empty() {
                target["group"] = json!(group);
            }
            let ops = self.json_ops(at);
            let mut entry = self.json_patch_text(dir, &ops);
            entry.insert("target".into(), target);
            entries.push(Value::Object(entry));
        }
        entries
    }

    /// Writes a patch file in `dir`; returns its path relative to `dir`.
    pub(super) fn patch_file(&mut self, dir: &str, extension: &str, text: String) -> String {
        let serial = self.serial();
        let path = if self.rng.chance(50) {
            format!("patches/patch-{serial}.{extension}")
        } else {
            format!("patch-{serial}.{extension}")
        };
        self.files.insert(format!("{dir}/{path}"), text);
        path
    }

    /// `path:` or `patch:` for a strategic-merge patch text.
    pub(super) fn smp_text(&mut self, dir: &str, text: String) -> Map<String, Value> {
        let mut entry = Map::new();
        if self.rng.chance(40) {
            entry.insert("path".into(), json!(self.patch_file(dir, "yaml", text)));
        } else {
            entry.insert("patch".into(), block(&text));
        }
        entry
    }

    /// `path:` or `patch:` for JSON 6902 operations, in YAML or in JSON.
    pub(super) fn json_patch_text(&mut self, dir: &str, ops: &[Value]) -> Map<String, Value> {
        let ops = Value::Array(ops.to_vec());
        let mut entry = Map::new();
        // Plain YAML tokens cannot be written as JSON: such operations go in YAML.
        let choice = if has_markers(&ops) {
            self.rng.pick(&[1, 3, 4])
        } else {
            self.rng.below(5)
        };
        match choice {
            0 => {
                let text = serde_json::to_string_pretty(&ops).expect("serialisable");
                entry.insert("path".into(), json!(self.patch_file(dir, "json", text)));
            }
            1 => {
                let text = to_yaml(&mut self.rng, &ops);
                entry.insert("path".into(), json!(self.patch_file(dir, "yaml", text)));
            }
            2 => {
                let text = serde_json::to_string(&ops).expect("serialisable");
                entry.insert("patch".into(), json!(text));
            }
            _ => {
                let text = to_yaml(&mut self.rng, &ops);
                entry.insert("patch".into(), block(&text));
            }
        }
        entry
    }

    pub(super) fn smp_entry(&mut self, dir: &str) -> Option<Value> {
        if self.known.is_empty() {
            return None;
        }
        if self.rng.chance(45) {
            // No target: the patch names its object.
            let documents = if self.rng.chance(20) && self.known.len() > 1 {
                let first = self.rng.below(self.known.len());
                let second = (first + 1 + self.rng.below(self.known.len() - 1)) % self.known.len();
                vec![self.named_smp(first), self.named_smp(second)]
            } else {
                let at = self.rng.below(self.known.len());
                vec![self.named_smp(at)]
            };
            let texts: Vec<String> = documents
                .iter()
                .map(|d| to_yaml(&mut self.rng, d))
                .collect();
            return Some(Value::Object(self.smp_text(dir, texts.join("---\n"))));
        }
        let (target, matched) = self.target(true)?;
        let first = self.known[matched[0]].clone();
        let body = if matched.len() == 1 {
            self.smp_changes(matched[0])
        } else {
            self.universal_smp(&matched)
        };
        // The body's own kind and name do not matter with a target, but kustomize wants a name.
        let mut document = Map::new();
        match self.rng.below(3) {
            0 => {
                document.insert("apiVersion".into(), json!(first.api_version));
                document.insert("kind".into(), json!(first.kind));
                document.insert("metadata".into(), json!({"name": first.name}));
            }
            1 => {
                document.insert("apiVersion".into(), json!(first.api_version));
                document.insert("kind".into(), json!(first.kind));
                document.insert("metadata".into(), json!({"name": "ignored"}));
            }
            _ => {
                document.insert("kind".into(), json!("Anything"));
                document.insert("metadata".into(), json!({"name": "ignored"}));
            }
        }
        deep_merge(&mut document, body);
        let text = to_yaml(&mut self.rng, &Value::Object(document));
        let mut entry = self.smp_text(dir, text);
        entry.insert("target".into(), target);
        Some(Value::Object(entry))
    }

    /// A strategic-merge patch that names the object at `at` (original or current name).
    pub(super) fn named_smp(&mut self, at: usize) -> Value {
        let known = self.known[at].clone();
        let name = if !known.generated && self.rng.chance(25) {
            known.current.clone()
        } else {
            known.name.clone()
        };
        let mut document = Map::new();
        document.insert("apiVersion".into(), json!(known.api_version));
        document.insert("kind".into(), json!(known.kind));
        document.insert("metadata".into(), known.identity(&name, &mut self.rng));
        let body = self.smp_changes(at);
        deep_merge(&mut document, body);
        Value::Object(document)
    }

    pub(super) fn delete_entry(&mut self, dir: &str) -> Option<Value> {
        let document = self.delete_document()?;
        let text = to_yaml(&mut self.rng, &document);
        Some(Value::Object(self.smp_text(dir, text)))
    }

    /// `$patch: delete` of an object nothing else depends on; it leaves the model.
    pub(super) fn delete_document(&mut self) -> Option<Value> {
        let candidates: Vec<usize> = (0..self.known.len())
            .filter(|&i| {
                !self.known[i].generated && DELETABLE.contains(&self.known[i].kind.as_str())
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let known = self.known.remove(self.rng.pick(&candidates));
        Some(json!({
            "apiVersion": known.api_version,
            "kind": known.kind,
            "metadata": known.identity(&known.name, &mut self.rng),
            "$patch": "delete",
        }))
    }

    /// A patch target and the objects it selects: never none; several only when `multi`.
    pub(super) fn target(&mut self, multi: bool) -> Option<(Value, Vec<usize>)> {
        for _ in 0..10 {
            let at = self.rng.below(self.known.len());
            let known = self.known[at].clone();
            let (group, version) = known.group_version();
            let name = if !known.generated && self.rng.chance(25) {
                known.current.clone()
            } else {
                known.name.clone()
            };
            let target = match self.rng.below(if multi { 9 } else { 4 }) {
                0 => json!({"kind": known.kind, "name": name}),
                1 => json!({"version": version, "kind": known.kind, "name": name}),
                2 if !group.is_empty() => {
                    json!({"group": group, "version": version, "kind": known.kind, "name": name})
                }
                3 => json!({"kind": known.kind, "name": format!("{name}|no-such-name")}),
                4 => json!({"kind": known.kind}),
                5 | 6 => {
                    let Some(app) = known.app.clone() else {
                        continue;
                    };
                    let other = self.rng.pick(APPS);
                    let selector = match self.rng.below(4) {
                        0 => format!("app={app}"),
                        1 => format!("app in ({app},{other})"),
                        2 => format!("app!={other}"),
                        _ => format!("app notin ({other})"),
                    };
                    if self.rng.chance(50) {
                        json!({"kind": known.kind, "labelSelector": selector})
                    } else {
                        json!({"labelSelector": selector})
                    }
                }
                7 => {
                    let other = self.known[self.rng.below(self.known.len())].name.clone();
                    json!({"name": format!("{name}|{other}")})
                }
                8 => json!({"name": format!("{}.*", &name[..name.len().min(3)])}),
                _ => json!({"kind": known.kind, "name": name}),
            };
            let matched = self.select(&target);
            if matched.is_empty() || (!multi && matched.len() > 1) {
                continue;
            }
            return Some((target, matched));
        }
        None
    }

    /// The objects of the model that `target` selects.
    pub(super) fn select(&self, target: &Value) -> Vec<usize> {
        let field = |key: &str| target.get(key).and_then(Value::as_str);
        let name = field("name").map(|n| regex::Regex::new(&format!("^(?:{n})$")).expect("valid"));
        (0..self.known.len())
            .filter(|&i| {
                let known = &self.known[i];
                let (group, version) = known.group_version();
                field("group").is_none_or(|g| g == group)
                    && field("version").is_none_or(|v| v == version)
                    && field("kind").is_none_or(|k| k == known.kind)
                    && name
                        .as_ref()
                        .is_none_or(|r| r.is_match(&known.name) || r.is_match(&known.current))
                    && field("labelSelector").is_none_or(|s| selects(s, known.app.as_deref()))
            })
            .collect()
    }

    /// Changes every selected object takes: labels and annotations.
    pub(super) fn universal_smp(&mut self, matched: &[usize]) -> Map<String, Value> {
        let mut body = Map::new();
        if self.rng.chance(60) {
            let key = self.rng.pick(ANNOTATION_KEYS);
            put(
                &mut body,
                &["metadata", "annotations", key],
                json!(text(&mut self.rng)),
            );
            matched
                .iter()
                .for_each(|&i| self.known[i].annotations = true);
        } else {
            let key = self.rng.pick(LABEL_KEYS);
            put(
                &mut body,
                &["metadata", "labels", key],
                json!(line(&mut self.rng)),
            );
            matched.iter().for_each(|&i| self.known[i].labels = true);
        }
        body
    }
}
