//! `configMapGenerator` and `secretGenerator`, and the content hash kustomize appends to the
//! names of generated objects (formats.md §5.a).

use base64::Engine as _;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

use super::kustomization::Kustomization;
use super::resource::Resource;
use super::{Engine, too_much_work};
use crate::diagnostic::Diagnostic;
use crate::source::Span;

pub(super) fn run(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut Vec<Resource>,
) -> Result<(), Vec<Diagnostic>> {
    let options = kustomization
        .value("generatorOptions")
        .cloned()
        .unwrap_or(Json::Null);
    let mut problems = Vec::new();
    for (field, kind) in [
        ("configMapGenerator", "ConfigMap"),
        ("secretGenerator", "Secret"),
    ] {
        let Some(items) = kustomization.value(field).and_then(Json::as_array).cloned() else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let pointer = format!("/{field}/{index}");
            // placing it compares it with every object
            if engine.work.spend(1 + resources.len()).is_err() {
                problems.push(too_much_work(kustomization.error(&pointer, "")));
                break;
            }
            match generate(engine, kustomization, &pointer, kind, item, &options) {
                Ok(mut generated) => {
                    engine.mark_generated(&mut generated, kustomization, kind);
                    if let Err(mut problem) =
                        place(kustomization, &pointer, item, generated, resources)
                    {
                        problems.append(&mut problem);
                    }
                }
                Err(mut e) => problems.append(&mut e),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Where a generator's key was written.
enum Written {
    /// A pointer below the generator entry in the kustomization.
    At(String),
    /// A byte offset in an env file.
    Env(String, usize),
}

/// Adds a generated object, or merges it into / replaces the existing one (`behavior`).
fn place(
    kustomization: &Kustomization,
    pointer: &str,
    item: &Json,
    generated: Resource,
    resources: &mut Vec<Resource>,
) -> Result<(), Vec<Diagnostic>> {
    let behavior = item
        .get("behavior")
        .and_then(Json::as_str)
        .unwrap_or("create");
    let kind = generated.kind();
    let (name, namespace) = generated.original.clone();
    let existing = resources
        .iter()
        .position(|r| r.kind() == kind && r.answers_to(&name, namespace.as_deref()));
    match (behavior, existing) {
        ("create", _) => resources.push(generated),
        (behavior @ ("merge" | "replace"), Some(i)) => {
            resources[i] = onto_base(&resources[i], generated, behavior == "merge");
        }
        ("merge" | "replace", None) => {
            return Err(vec![
                kustomization
                    .error(
                        pointer,
                        format!("`behavior: {behavior}` but no {kind} `{name}` comes from a base"),
                    )
                    .expected(format!("a {kind} `{name}` in the resources or bases"))
                    .hint("use `behavior: create`, or check the name"),
            ]);
        }
        (other, _) => {
            return Err(vec![
                kustomization
                    .error(
                        &format!("{pointer}/behavior"),
                        format!("unknown behavior `{other}`"),
                    )
                    .expected("`create`, `merge` or `replace`")
                    .hint("the default is `create`"),
            ]);
        }
    }
    Ok(())
}

/// A generated object that merges into or replaces `old`. kustomize keeps the generated
/// object but takes the base's name, namespace and identity, merges labels and annotations
/// (new wins) and, for `merge`, the data.
fn onto_base(old: &Resource, generated: Resource, merge_data: bool) -> Resource {
    let old = old.clone();
    let mut result = generated;
    for meta in ["labels", "annotations"] {
        let pointer = format!("/metadata/{meta}");
        if let Some(merged) = merged_maps(
            old.object.pointer(&pointer),
            result.object.pointer(&pointer),
        ) {
            super::resource::set(&mut result.object, &["metadata", meta], merged);
        }
    }
    if merge_data {
        for section in ["data", "binaryData"] {
            if let Some(merged) = merged_maps(old.object.get(section), result.object.get(section)) {
                super::resource::set(&mut result.object, &[section], merged);
            }
        }
    }
    super::resource::set(
        &mut result.object,
        &["metadata", "name"],
        Json::String(old.name()),
    );
    match old.namespace() {
        Some(ns) => super::resource::set(
            &mut result.object,
            &["metadata", "namespace"],
            Json::String(ns),
        ),
        None => {
            if let Some(Json::Object(meta)) = result.object.get_mut("metadata") {
                meta.remove("namespace");
            }
        }
    }
    result.needs_hash = old.needs_hash && result.needs_hash;
    result.file = old.file;
    result.position = old.position;
    result.at = old.at;
    result.original = old.original;
    result.previous = old.previous;
    result.prev_ids = old.prev_ids;
    result.prefixes = old.prefixes;
    result.suffixes = old.suffixes;
    result.aliases = Vec::new();
    result
}

/// The old mapping with the new one's entries over it; none when both are empty or absent.
fn merged_maps(old: Option<&Json>, new: Option<&Json>) -> Option<Json> {
    let mut merged = old.and_then(Json::as_object).cloned().unwrap_or_default();
    if let Some(Json::Object(new)) = new {
        merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    (!merged.is_empty()).then_some(Json::Object(merged))
}

/// A generated object's `data` and `binaryData`.
type Sections = (Map<String, Json>, Map<String, Json>);

/// One key of a generated object: its name, its bytes, and where it was written.
type Entry = (String, Vec<u8>, Written);

/// The generator entry at `pointer`, for reading its sources and reporting at them.
struct Generator<'a> {
    kustomization: &'a Kustomization,
    pointer: &'a str,
    kind: &'a str,
    item: &'a Json,
}

impl Generator<'_> {
    fn error(&self, at: &str, message: String) -> Vec<Diagnostic> {
        vec![
            self.kustomization
                .error(&format!("{}{at}", self.pointer), message),
        ]
    }

    /// The strings of the list at `key` (`literals`, `files`, `envs`), with their index.
    fn sources(&self, key: &str) -> impl Iterator<Item = (usize, &str)> {
        self.item
            .get(key)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or_default())
            .enumerate()
    }

    /// `literals`: `key=value`, one pair of quotes around the value dropped.
    fn literals(&self, entries: &mut Vec<Entry>) -> Result<(), Vec<Diagnostic>> {
        for (i, text) in self.sources("literals") {
            match text.split_once('=').filter(|(k, _)| !k.is_empty()) {
                Some((key, value)) => entries.push((
                    key.to_owned(),
                    unquote(value).as_bytes().to_vec(),
                    Written::At(format!("/literals/{i}")),
                )),
                None => {
                    return Err(self.error(
                        &format!("/literals/{i}"),
                        format!("literal `{text}` is not `key=value`"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `files`: `path` or `key=path`, the file's bytes the value.
    fn files(
        &self,
        engine: &mut Engine<'_>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), Vec<Diagnostic>> {
        for (i, text) in self.sources("files") {
            let (key, path) = match text.split_once('=') {
                Some((key, path)) => (key.to_owned(), path.to_owned()),
                None => (
                    text.rsplit('/').next().unwrap_or(text).to_owned(),
                    text.to_owned(),
                ),
            };
            let at = format!("/files/{i}");
            let full = engine
                .locate(&self.kustomization.dir, &path, true)
                .map_err(|why| self.error(&at, why.to_string()))?;
            let content = engine
                .read_bytes(&full)
                .map_err(|why| self.error(&at, format!("cannot read `{path}`: {why}")))?;
            entries.push((key, content, Written::At(at)));
        }
        Ok(())
    }

    /// `envs`: files of `KEY=value` lines, blank lines and `#` comments skipped; then the
    /// deprecated singular `env`, which kustomize appends to `envs`
    /// (api/types/kustomization.go, `FixKustomization`).
    fn envs(
        &self,
        engine: &mut Engine<'_>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), Vec<Diagnostic>> {
        let legacy = self
            .item
            .get("env")
            .and_then(Json::as_str)
            .filter(|path| !path.is_empty())
            .map(|path| ("/env".to_owned(), path));
        let sources = self
            .sources("envs")
            .map(|(i, path)| (format!("/envs/{i}"), path))
            .chain(legacy);
        for (at, path) in sources {
            let full = engine
                .locate(&self.kustomization.dir, path, true)
                .map_err(|why| self.error(&at, why.to_string()))?;
            let content = engine
                .read(&full)
                .map_err(|why| self.error(&at, format!("cannot read `{path}`: {why}")))?;
            let mut offset = 0;
            for raw in content.split_inclusive('\n') {
                let start = offset;
                offset += raw.len();
                let line = raw.trim_end_matches(['\n', '\r']).trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((key, value)) = line.split_once('=') else {
                    return Err(
                        self.error(&at, format!("line `{line}` of `{path}` is not `KEY=value`"))
                    );
                };
                entries.push((
                    key.to_owned(),
                    value.as_bytes().to_vec(),
                    Written::Env(full.clone(), start),
                ));
            }
        }
        Ok(())
    }

    /// `data` and `binaryData`: each key once; a Secret's values base64, a ConfigMap's text as
    /// it is and anything else base64 in `binaryData`.
    fn data(&self, name: &str, entries: Vec<Entry>) -> Result<Sections, Vec<Diagnostic>> {
        let kind = self.kind;
        let mut data = Map::new();
        let mut binary = Map::new();
        for (key, bytes, written) in entries {
            if data.contains_key(&key) || binary.contains_key(&key) {
                let message = format!("the {kind} `{name}` gets the key `{key}` twice");
                let diagnostic = match written {
                    Written::At(at) => self
                        .kustomization
                        .error(&format!("{}{at}", self.pointer), message),
                    Written::Env(file, offset) => {
                        Diagnostic::error(&file, Span::new(offset, offset), "", message)
                    }
                };
                return Err(vec![
                    diagnostic
                        .expected("each key once across literals, files and envs")
                        .hint("remove one of them; kustomize rejects a repeated key too"),
                ]);
            }
            match (kind, String::from_utf8(bytes)) {
                ("Secret", Ok(text)) => {
                    data.insert(key, json!(wrapped_base64(text.as_bytes())));
                }
                ("Secret", Err(e)) => {
                    data.insert(key, json!(wrapped_base64(&e.into_bytes())));
                }
                (_, Ok(text)) => {
                    data.insert(key, json!(text));
                }
                (_, Err(e)) => {
                    binary.insert(key, json!(wrapped_base64(&e.into_bytes())));
                }
            }
        }
        Ok((data, binary))
    }

    /// The object's metadata: its name and namespace, and the labels and annotations of the
    /// kustomization's generatorOptions with the generator's own over them.
    fn metadata(&self, name: &str, global: &Json) -> Map<String, Json> {
        let item = self.item;
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(name));
        if let Some(namespace) = item.get("namespace").and_then(Json::as_str) {
            metadata.insert("namespace".into(), json!(namespace));
        }
        for meta in ["labels", "annotations"] {
            let mut merged = Map::new();
            for source in [global.get(meta), item.pointer(&format!("/options/{meta}"))]
                .into_iter()
                .flatten()
            {
                if let Json::Object(map) = source {
                    merged.extend(map.clone());
                }
            }
            if !merged.is_empty() {
                metadata.insert(meta.into(), Json::Object(merged));
            }
        }
        metadata
    }
}

/// The object a `configMapGenerator` or `secretGenerator` entry generates.
fn generate(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    pointer: &str,
    kind: &str,
    item: &Json,
    global: &Json,
) -> Result<Resource, Vec<Diagnostic>> {
    let generator = Generator {
        kustomization,
        pointer,
        kind,
        item,
    };
    let Some(name) = item.get("name").and_then(Json::as_str) else {
        return Err(generator.error("", format!("a {kind} generator needs a `name`")));
    };
    // each entry remembers where it was written: a kustomization pointer, or an env file offset
    let mut entries: Vec<Entry> = Vec::new();
    generator.literals(&mut entries)?;
    generator.files(engine, &mut entries)?;
    generator.envs(engine, &mut entries)?;
    let (data, binary) = generator.data(name, entries)?;
    // The kustomization's generatorOptions and the generator's own options combine: either
    // one turning a switch on turns it on.
    let option = |key: &str| {
        [item.pointer(&format!("/options/{key}")), global.get(key)]
            .into_iter()
            .flatten()
            .any(|v| v.as_bool() == Some(true))
    };
    let metadata = generator.metadata(name, global);
    let mut object = json!({ "apiVersion": "v1", "kind": kind, "metadata": metadata });
    if kind == "Secret" {
        object["type"] = json!(item.get("type").and_then(Json::as_str).unwrap_or("Opaque"));
    }
    // kustomize writes an empty `data: {}` for a Secret with no sources, not for a ConfigMap
    if !data.is_empty() || kind == "Secret" {
        object["data"] = Json::Object(data);
    }
    if !binary.is_empty() {
        object["binaryData"] = Json::Object(binary);
    }
    if option("immutable") {
        object["immutable"] = json!(true);
    }
    let mut resource = Resource::new(object, &kustomization.path);
    resource.needs_hash = !option("disableNameSuffixHash");
    Ok(resource)
}

/// Base64 as kustomize writes generated values: in lines of 70 characters, each ending in a
/// line break once there is more than one line's worth (a value of 70 or more characters).
fn wrapped_base64(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    if encoded.len() < 70 {
        return encoded;
    }
    encoded
        .as_bytes()
        .chunks(70)
        .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
        .collect()
}

/// kustomize drops one pair of matching quotes around a literal's value.
fn unquote(value: &str) -> &str {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0] == bytes[bytes.len() - 1] && matches!(bytes[0], b'"' | b'\'') {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Appends the content hash to every generated object that wants one (done once, at the top).
pub(super) fn add_hashes(resources: &mut [Resource]) {
    for resource in resources.iter_mut().filter(|r| r.needs_hash) {
        let suffix = hash(&resource.object);
        let name = format!("{}-{suffix}", resource.name());
        resource.store_previous_id();
        resource.set_name(&name);
    }
}

/// kustomize's name hash: sha256 over the object's kind, type and data encoded as Go's JSON
/// encoder would (sorted keys, HTML-escaped), the name counting as empty; ten characters of
/// hex with some letters swapped so the suffix never looks like a number.
pub(super) fn hash(object: &Json) -> String {
    let mut fields = Map::new();
    let kind = object
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or_default();
    fields.insert("kind".into(), json!(kind));
    fields.insert("name".into(), json!(""));
    fields.insert(
        "data".into(),
        object
            .get("data")
            .filter(|d| d.is_object())
            .cloned()
            .unwrap_or(json!("")),
    );
    if kind == "Secret" {
        // a Secret without `type` (one a patch made from a ConfigMap) hashes an empty one
        // (api/hasher `getNodeValues`)
        fields.insert(
            "type".into(),
            object.get("type").cloned().unwrap_or(json!("")),
        );
        if let Some(string_data) = object.get("stringData").filter(|d| d.is_object()) {
            fields.insert("stringData".into(), string_data.clone());
        }
    } else if let Some(binary) = object.get("binaryData") {
        fields.insert("binaryData".into(), binary.clone());
    }
    let encoded = go_json(&Json::Object(fields));
    let digest = Sha256::digest(encoded.as_bytes());
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(10)
        .map(|nibble| match nibble {
            0 => 'g',
            1 => 'h',
            3 => 'k',
            10 => 'm',
            14 => 't',
            n => char::from_digit(u32::from(n), 16).expect("a nibble"),
        })
        .collect()
}

/// JSON as Go's `json.Marshal` writes it: keys sorted, compact, `<`, `>`, `&` and the line
/// and paragraph separators escaped.
fn go_json(value: &Json) -> String {
    fn sorted(value: &Json) -> Json {
        match value {
            Json::Object(map) => {
                let mut entries: Vec<(&String, &Json)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Json::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(value))
        .expect("JSON values serialise")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::hash;

    /// Suffixes `kubectl kustomize` (kustomize v5.5.0) gave these generators (formats.md §5.a).
    #[test]
    fn hashes_match_kustomize() {
        let cases = [
            (
                json!({"kind": "ConfigMap", "data": {"a": "x<y&z", "b": "2"}}),
                "2m7mtk678m",
            ),
            (json!({"kind": "ConfigMap"}), "6ct58987ht"),
            (
                json!({"kind": "Secret", "type": "Opaque", "data": {"password": "aHVudGVyMg=="}}),
                "cf85kd65mm",
            ),
        ];
        for (object, want) in cases {
            assert_eq!(hash(&object), want, "{object}");
        }
    }
}
