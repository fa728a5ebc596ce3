//! `configMapGenerator` and `secretGenerator` entries, and the objects they add to the model.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::generator::Gen;
use super::model::{
    ANNOTATION_KEYS, CONFIG_MAP_GENERATORS, Known, LABEL_KEYS, LITERAL_KEYS, SECRET_GENERATORS,
};
use super::values::{WORDS, line, text};

impl Gen {
    /// `configMapGenerator`, `secretGenerator` and `generatorOptions` fields, with the generated
    /// objects recorded in the model (merged into or replacing those of the layers below).
    pub(super) fn generators(&mut self, dir: &str) -> Vec<(&'static str, Value)> {
        let mut fields = Vec::new();
        let mut options_labels = false;
        let mut options_annotations = false;
        if self.rng.chance(15) {
            let mut options = Map::new();
            if self.rng.chance(50) {
                options.insert("disableNameSuffixHash".into(), json!(self.rng.chance(70)));
            }
            if self.rng.chance(50) {
                options.insert("labels".into(), self.pairs(LABEL_KEYS, 1, 2, line));
                options_labels = true;
            }
            if self.rng.chance(40) {
                options.insert(
                    "annotations".into(),
                    self.pairs(ANNOTATION_KEYS, 1, 2, text),
                );
                options_annotations = true;
            }
            if self.rng.chance(20) {
                options.insert("immutable".into(), json!(true));
            }
            fields.push(("generatorOptions", Value::Object(options)));
        }
        for (field, kind, names) in [
            ("configMapGenerator", "ConfigMap", CONFIG_MAP_GENERATORS),
            ("secretGenerator", "Secret", SECRET_GENERATORS),
        ] {
            if !self.rng.chance(40) {
                continue;
            }
            let mut items = Vec::new();
            for name in self.rng.some(names, 1, 2) {
                let (item, keys, labels, annotations) = self.generator_item(dir, kind, name);
                self.record_generated(
                    kind,
                    name,
                    &item,
                    keys,
                    labels || options_labels,
                    annotations || options_annotations,
                );
                items.push(item);
            }
            fields.push((field, Value::Array(items)));
        }
        fields
    }

    /// One generator entry, with its data keys and whether it sets labels and annotations.
    pub(super) fn generator_item(
        &mut self,
        dir: &str,
        kind: &'static str,
        name: &str,
    ) -> (Value, Vec<String>, bool, bool) {
        let mut item = Map::new();
        item.insert("name".into(), json!(name));
        let exists = self.generated.contains(&(kind, name.to_owned()));
        if exists {
            item.insert(
                "behavior".into(),
                json!(self.rng.pick(&["merge", "replace"])),
            );
        } else if self.rng.chance(15) {
            item.insert("behavior".into(), json!("create"));
        }
        if kind == "Secret" && !exists && self.rng.chance(25) {
            item.insert("type".into(), json!("Opaque"));
        }
        // Keys are distinct across literals, files and envs: kustomize rejects a repeated key.
        let mut keys: Vec<String> = self
            .rng
            .some(LITERAL_KEYS, 1, 4)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let literals: Vec<Value> = keys
            .iter()
            .map(|key| {
                let value = line(&mut self.rng);
                let literal = match self.rng.below(6) {
                    0 if !value.contains('"') => format!("{key}=\"{value}\""),
                    1 if !value.contains('\'') => format!("{key}='{value}'"),
                    _ => format!("{key}={value}"),
                };
                json!(literal)
            })
            .collect();
        item.insert("literals".into(), Value::Array(literals));
        if self.rng.chance(25) {
            let serial = self.serial();
            let file = format!("files/{name}-{serial}.txt");
            let content = text(&mut self.rng);
            self.files.insert(format!("{dir}/{file}"), content);
            let key = format!("file{serial}.txt");
            item.insert("files".into(), json!([format!("{key}={file}")]));
            keys.push(key);
        }
        if self.rng.chance(20) {
            let serial = self.serial();
            let file = format!("{name}-{serial}.env");
            let mut content = String::from("# generated for the property test\n");
            for i in 0..self.rng.range(1, 3) {
                let key = format!("ENV_{serial}_{i}");
                let _ = writeln!(content, "{key}={}", self.rng.pick(WORDS));
                if self.rng.chance(30) {
                    content.push('\n');
                }
                keys.push(key);
            }
            self.files.insert(format!("{dir}/{file}"), content);
            item.insert("envs".into(), json!([file]));
        }
        let (options, labels, annotations) = self.generator_options();
        if !options.is_empty() {
            item.insert("options".into(), Value::Object(options));
        }
        (Value::Object(item), keys, labels, annotations)
    }

    /// A generator's `options`, and whether they add labels and annotations.
    fn generator_options(&mut self) -> (Map<String, Value>, bool, bool) {
        let mut options = Map::new();
        let mut labels = false;
        let mut annotations = false;
        if self.rng.chance(25) {
            options.insert("disableNameSuffixHash".into(), json!(true));
        }
        if self.rng.chance(25) {
            options.insert("labels".into(), self.pairs(LABEL_KEYS, 1, 2, line));
            labels = true;
        }
        if self.rng.chance(20) {
            options.insert(
                "annotations".into(),
                self.pairs(ANNOTATION_KEYS, 1, 2, text),
            );
            annotations = true;
        }
        if self.rng.chance(10) {
            options.insert("immutable".into(), json!(true));
        }
        (options, labels, annotations)
    }

    pub(super) fn record_generated(
        &mut self,
        kind: &'static str,
        name: &str,
        item: &Value,
        keys: Vec<String>,
        labels: bool,
        annotations: bool,
    ) {
        let existing = self
            .known
            .iter()
            .position(|k| k.generated && k.kind == kind && k.name == name);
        match (item["behavior"].as_str(), existing) {
            (Some("merge"), Some(at)) => {
                let known = &mut self.known[at];
                for key in keys {
                    if !known.data.contains(&key) {
                        known.data.push(key);
                    }
                }
                known.labels |= labels;
                known.annotations |= annotations;
            }
            (Some("replace"), Some(at)) => {
                // What a replacement keeps of the old metadata is not modelled: assume nothing.
                let known = &mut self.known[at];
                known.data = keys;
                known.labels = labels;
                known.annotations = annotations;
            }
            _ => {
                let object = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}});
                let mut known = Known::of(&object, true);
                known.data = keys;
                known.labels = labels;
                known.annotations = annotations;
                self.known.push(known);
                self.generated.push((kind, name.to_owned()));
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Patches
    // -----------------------------------------------------------------------------------------
}
