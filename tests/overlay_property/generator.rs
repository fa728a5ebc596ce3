//! Generating a case: the generator's state, a chain of kustomizations each on top of the
//! last, and the fields of each in the order kustomize applies them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Case;
use super::model::{
    ANNOTATION_KEYS, IMAGE_NEW_NAMES, IMAGE_TAGS, Known, LABEL_KEYS, NAMESPACES, PREFIXES, SUFFIXES,
};
use super::random::Rng;
use super::values::{line, text};
use super::yaml_text::to_yaml;

pub(super) struct Gen {
    pub(super) rng: Rng,
    pub(super) files: BTreeMap<String, String>,
    /// Every object the next patch can reach, as it will look then.
    pub(super) known: Vec<Known>,
    /// Image names (without tag or digest) the containers may use, for `images` entries.
    pub(super) images: Vec<String>,
    /// Generated ConfigMaps and Secrets so far, by kind and name.
    pub(super) generated: Vec<(&'static str, String)>,
    /// For unique names of patch files, ports, containers.
    pub(super) serial: usize,
}

pub(super) fn generate(rng: Rng) -> Case {
    let mut generator = Gen {
        rng,
        files: BTreeMap::new(),
        known: Vec::new(),
        images: Vec::new(),
        generated: Vec::new(),
        serial: 0,
    };
    let dirs: &[&str] = match generator.rng.below(20) {
        0..=4 => &["app"],
        5..=12 => &["base", "overlay"],
        13..=15 => &["base", "mid", "overlay"],
        _ => {
            let build = generator.reuse();
            return Case {
                files: generator.files,
                build: build.to_owned(),
                may_be_refused: true,
            };
        }
    };
    for (i, dir) in dirs.iter().enumerate() {
        let below = i.checked_sub(1).map(|b| dirs[b]);
        generator.kustomization(dir, below);
    }
    Case {
        files: generator.files,
        build: dirs[dirs.len() - 1].to_owned(),
        may_be_refused: false,
    }
}

impl Gen {
    pub(super) fn serial(&mut self) -> usize {
        self.serial += 1;
        self.serial
    }

    /// One kustomization in `dir`, on top of the one in `below`. Fields are decided in the order
    /// kustomize applies them, so the model is right for each patch when it is written.
    pub(super) fn kustomization(&mut self, dir: &str, below: Option<&str>) {
        let mut fields: Vec<(&'static str, Value)> = Vec::new();
        let mut resources = Vec::new();
        if let Some(below) = below {
            resources.push(json!(format!("../{below}")));
        }
        // Generators first: this layer's objects may refer to what they generate.
        let generators = self.generators(dir);
        if below.is_none() || self.rng.chance(35) {
            let objects = if below.is_none() {
                self.base_objects()
            } else {
                self.more_objects(dir)
            };
            resources.extend(self.resource_files(dir, objects));
        }
        self.rng.shuffle(&mut resources);
        fields.push(("resources", Value::Array(resources)));
        fields.extend(generators);

        // Patches: after generators, before every transformer of this kustomization.
        if self.rng.chance(20) {
            let entries = self.patches_strategic_merge(dir);
            if !entries.is_empty() {
                fields.push(("patchesStrategicMerge", Value::Array(entries)));
            }
        }
        if self.rng.chance(55) {
            let entries = self.patches(dir);
            if !entries.is_empty() {
                fields.push(("patches", Value::Array(entries)));
            }
        }

        // Then namespace, prefix and suffix, labels, annotations. Without patches in this
        // kustomization, they may sit in a component instead: it runs after the generators and
        // before this kustomization's own transformers, so the order is the same.
        let patched = fields
            .iter()
            .any(|(k, _)| *k == "patches" || *k == "patchesStrategicMerge");
        if !patched && self.rng.chance(40) {
            let mut parts = Vec::new();
            self.name_and_label_fields(&mut parts);
            // kustomize refuses a component that sets nothing
            if !parts.is_empty() {
                self.write_component(dir, parts);
                fields.push(("components", json!(["parts"])));
            }
        } else {
            self.name_and_label_fields(&mut fields);
        }

        // The deprecated JSON 6902 field runs after those.
        if self.rng.chance(15) {
            let entries = self.patches_json6902(dir);
            if !entries.is_empty() {
                fields.push(("patchesJson6902", Value::Array(entries)));
            }
        }

        // Last, replicas and images.
        if self.rng.chance(20)
            && self
                .known
                .iter()
                .any(|k| k.kind == "Deployment" || k.kind == "StatefulSet")
        {
            fields.push(("replicas", self.replicas()));
        }
        if self.rng.chance(35) && !self.images.is_empty() {
            fields.push(("images", self.image_changes()));
        }

        self.write_kustomization(dir, fields);
    }

    /// The fields of the transformers that run after patches: namespace, prefix and suffix,
    /// labels, annotations; the model follows each.
    fn name_and_label_fields(&mut self, fields: &mut Vec<(&'static str, Value)>) {
        let namespace = self.rng.chance(35).then(|| self.rng.pick(NAMESPACES));
        if let Some(namespace) = namespace {
            fields.push(("namespace", json!(namespace)));
            for known in &mut self.known {
                match known.kind.as_str() {
                    "Namespace" => known.current = namespace.to_owned(),
                    "ClusterRole" | "ClusterRoleBinding" => {}
                    _ => known.current_namespace = Some(namespace.to_owned()),
                }
            }
        }
        let prefix = if self.rng.chance(30) {
            self.rng.pick(PREFIXES)
        } else {
            ""
        };
        let suffix = if self.rng.chance(25) {
            self.rng.pick(SUFFIXES)
        } else {
            ""
        };
        if !prefix.is_empty() {
            fields.push(("namePrefix", json!(prefix)));
        }
        if !suffix.is_empty() {
            fields.push(("nameSuffix", json!(suffix)));
        }
        for known in self.known.iter_mut().filter(|k| k.kind != "Namespace") {
            known.current = format!("{prefix}{}{suffix}", known.current);
        }
        if self.rng.chance(25) {
            fields.push(("commonLabels", self.pairs(LABEL_KEYS, 1, 2, line)));
            self.known.iter_mut().for_each(|k| k.labels = true);
        }
        if self.rng.chance(30) {
            let sets = self.label_sets();
            fields.push(("labels", sets));
            self.known.iter_mut().for_each(|k| k.labels = true);
        }
        if self.rng.chance(25) {
            fields.push(("commonAnnotations", self.pairs(ANNOTATION_KEYS, 1, 3, text)));
            self.known.iter_mut().for_each(|k| k.annotations = true);
        }
    }

    /// The kustomization's fields in random order, written as YAML under one of the three
    /// names kustomize looks for.
    pub(super) fn write_kustomization(
        &mut self,
        dir: &str,
        mut fields: Vec<(&'static str, Value)>,
    ) {
        self.rng.shuffle(&mut fields);
        let mut map = Map::new();
        if self.rng.chance(50) {
            map.insert(
                "apiVersion".into(),
                json!("kustomize.config.k8s.io/v1beta1"),
            );
            map.insert("kind".into(), json!("Kustomization"));
        }
        map.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let text = to_yaml(&mut self.rng, &Value::Object(map));
        let name = match self.rng.below(10) {
            0 => "kustomization.yml",
            1 => "Kustomization",
            _ => "kustomization.yaml",
        };
        self.files.insert(format!("{dir}/{name}"), text);
    }

    /// A `kind: Component` in `<dir>/parts` holding `fields`.
    fn write_component(&mut self, dir: &str, mut fields: Vec<(&'static str, Value)>) {
        self.rng.shuffle(&mut fields);
        let mut map = Map::new();
        if self.rng.chance(50) {
            map.insert(
                "apiVersion".into(),
                json!("kustomize.config.k8s.io/v1alpha1"),
            );
        }
        map.insert("kind".into(), json!("Component"));
        map.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let text = to_yaml(&mut self.rng, &Value::Object(map));
        self.files
            .insert(format!("{dir}/parts/kustomization.yaml"), text);
    }

    /// A mapping of `low..=high` keys from `keys` to values from `value`.
    pub(super) fn pairs(
        &mut self,
        keys: &[&str],
        low: usize,
        high: usize,
        value: fn(&mut Rng) -> String,
    ) -> Value {
        let keys = self.rng.some(keys, low, high);
        let map: Map<String, Value> = keys
            .into_iter()
            .map(|k| (k.to_owned(), json!(value(&mut self.rng))))
            .collect();
        Value::Object(map)
    }

    pub(super) fn label_sets(&mut self) -> Value {
        let mut sets = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let mut set = Map::new();
            set.insert("pairs".into(), self.pairs(LABEL_KEYS, 1, 2, line));
            for option in ["includeSelectors", "includeTemplates"] {
                if self.rng.chance(50) {
                    set.insert(option.into(), json!(self.rng.chance(50)));
                }
            }
            sets.push(Value::Object(set));
        }
        Value::Array(sets)
    }

    pub(super) fn replicas(&mut self) -> Value {
        let deployments: Vec<(String, String)> = self
            .known
            .iter()
            .filter(|k| k.kind == "Deployment" || k.kind == "StatefulSet")
            .map(|k| (k.name.clone(), k.current.clone()))
            .collect();
        let mut entries = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            // By its original name or by the name the layers below gave it. Never a name
            // nothing has: kustomize rejects that (railyard ignores it).
            let (original, current) = deployments[self.rng.below(deployments.len())].clone();
            let name = if self.rng.chance(65) {
                original
            } else {
                current
            };
            entries.push(json!({"name": name, "count": self.rng.below(6)}));
        }
        Value::Array(entries)
    }

    pub(super) fn image_changes(&mut self) -> Value {
        let mut entries = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let name = self.images[self.rng.below(self.images.len())].clone();
            let mut entry = Map::new();
            entry.insert("name".into(), json!(name));
            let digest = format!("sha256:{}", self.rng.hex(64));
            match self.rng.below(6) {
                0 => {
                    entry.insert("newTag".into(), json!(self.rng.pick(IMAGE_TAGS)));
                }
                1 => {
                    entry.insert("digest".into(), json!(digest));
                }
                2 => {
                    entry.insert("newTag".into(), json!(self.rng.pick(IMAGE_TAGS)));
                    entry.insert("digest".into(), json!(digest));
                }
                choice => {
                    let new_name = self.rng.pick(IMAGE_NEW_NAMES);
                    entry.insert("newName".into(), json!(new_name));
                    if choice == 4 {
                        entry.insert("newTag".into(), json!(self.rng.pick(IMAGE_TAGS)));
                    } else if choice == 5 {
                        entry.insert("digest".into(), json!(digest));
                    }
                    self.images.push(new_name.to_owned());
                }
            }
            entries.push(Value::Object(entry));
        }
        Value::Array(entries)
    }

    // -----------------------------------------------------------------------------------------
    // Objects
    // -----------------------------------------------------------------------------------------
}

/// `name` as a Docker image name without tag or digest, as the `images` transformer matches it.
pub(super) fn image_name(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[slash..].find(':') {
        Some(colon) => without_digest[..slash + colon].to_owned(),
        None => without_digest.to_owned(),
    }
}

/// The generator's label selectors, evaluated on an object's `app` label.
pub(super) fn selects(selector: &str, app: Option<&str>) -> bool {
    let values = |list: &str| -> Vec<String> {
        list.trim_end_matches(')')
            .split(',')
            .map(|v| v.trim().to_owned())
            .collect()
    };
    if let Some(value) = selector.strip_prefix("app!=") {
        app != Some(value)
    } else if let Some(value) = selector.strip_prefix("app=") {
        app == Some(value)
    } else if let Some(list) = selector.strip_prefix("app in (") {
        app.is_some_and(|a| values(list).iter().any(|v| v == a))
    } else if let Some(list) = selector.strip_prefix("app notin (") {
        app.is_none_or(|a| !values(list).iter().any(|v| v == a))
    } else {
        panic!("a selector the generator does not write: {selector}")
    }
}

/// A JSON pointer segment for `key`.
pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Sets `value` at `path` in `map`, creating mappings on the way.
pub(super) fn put(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a path");
    let mut node = map;
    for key in parents {
        node = node
            .entry(*key)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a mapping on the path");
    }
    node.insert((*last).to_owned(), value);
}

/// Merges `from` into `into`, mapping by mapping.
pub(super) fn deep_merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => deep_merge(existing, more),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The item of `list` with this `name`, added when missing.
pub(super) fn named<'a>(list: &'a mut Vec<Value>, name: &str) -> &'a mut Map<String, Value> {
    let at = match list.iter().position(|item| item["name"] == name) {
        Some(at) => at,
        None => {
            list.push(json!({"name": name}));
            list.len() - 1
        }
    };
    list[at].as_object_mut().expect("a mapping")
}
