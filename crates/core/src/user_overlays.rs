//! User overlays (`spec.overlays`): the site's own kustomizations, applied by the overlay engine
//! to the rendered platform objects last, so the committed YAML is fully hydrated.
//!
//! The rendered objects of the three Flux layers are the overlay's implicit base: they act as
//! if listed first in its `resources`, so its patches, labels, annotations, images and
//! generators reach them without naming a path. Each object is written back to the file it
//! was rendered into, in its place; a file whose objects did not change keeps its bytes.
//! Objects the overlay adds (its own `resources` and generators) go to
//! `clusters/<site>/gitpod/overlay-<dir>.yaml`, which joins the Gitpod layer: it is applied
//! last, after cert-manager and the certificates, so any kind the platform installs is usable.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::diagnostic::Diagnostic;
use crate::emit;
use crate::json_tree::JsonTree;
use crate::layout;
use crate::load_problem::LoadedFiles;
use crate::overlay::{self, Files, ReadError, Resource};
use crate::source::SourceFile;
use crate::values::path_key;
use crate::yaml;

/// The layers whose objects an overlay sees, in the order Flux applies them.
const LAYERS: [&str; 3] = ["infrastructure", "certificates", "gitpod"];

/// Applies each overlay in turn to the rendered `files`; each sees the previous one's result.
/// What comes back on success are warnings: each patch whose target selected nothing, at its
/// line (kustomize skips such a patch silently; here it is almost always a typo).
pub fn apply(
    cluster_dir: &str,
    overlays: &[String],
    inputs: &LoadedFiles,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let mut warnings = Vec::new();
    for dir in overlays.iter().map(|d| path_key(d)) {
        let sources = Loaded {
            inputs,
            prefix: format!("{dir}/"),
        };
        warnings.append(&mut apply_one(cluster_dir, &dir, &sources, files)?);
    }
    Ok(warnings)
}

/// One overlay directory's files as the edge loaded them; a file it could not load (a link out
/// of the site, unreadable) answers with the reason instead of pretending to be absent.
struct Loaded<'a> {
    inputs: &'a LoadedFiles,
    prefix: String,
}

impl Files for Loaded<'_> {
    fn read(&self, path: &str) -> Result<String, ReadError> {
        match self
            .inputs
            .get(path)
            .filter(|_| path.starts_with(&self.prefix))
        {
            Some(Ok(file)) => Ok(file.text.clone()),
            Some(Err(why)) => Err(ReadError::Unreadable(why.to_string())),
            None => Err(ReadError::Missing),
        }
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        overlay::any_below(self.inputs, &prefix) && !self.inputs.contains_key(path)
    }

    fn is_file(&self, path: &str) -> bool {
        path.starts_with(&self.prefix) && self.inputs.contains_key(path)
    }
}

fn apply_one(
    cluster_dir: &str,
    dir: &str,
    sources: &dyn Files,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let mut base = Vec::new();
    let mut originals: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for path in rendered_manifests(cluster_dir, files) {
        let objects = parse(&path, &files[&path]);
        for object in &objects {
            let mut resource = Resource::new(object.clone(), &path);
            resource.position = base.len();
            base.push(resource);
        }
        originals.insert(path, objects);
    }
    let (mut built, warnings) = overlay::build_onto(sources, dir, base)?;
    built.sort_by_key(|r| (!originals.contains_key(&r.file), r.position));
    let added_file = layout::user_overlay_objects(cluster_dir, dir);
    let mut result: BTreeMap<String, Vec<Json>> =
        originals.keys().map(|k| (k.clone(), Vec::new())).collect();
    for resource in built {
        let file = if originals.contains_key(&resource.file) {
            resource.file
        } else {
            added_file.clone()
        };
        result.entry(file).or_default().push(resource.object);
    }
    for (path, objects) in result {
        let before = originals.get(&path).cloned().unwrap_or_default();
        if before == objects {
            continue;
        }
        if objects.is_empty() {
            files.remove(&path);
            set_layer_resource(files, &path, false);
            continue;
        }
        if !originals.contains_key(&path) {
            set_layer_resource(files, &path, true);
        }
        // an object the overlay left alone keeps its rendered text; a changed one is written
        // again, its `${var}` values as literal blocks, as the generators write them
        let original_text = files
            .get(&path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let texts = split_documents(&original_text);
        let literals = one_line_literals(&original_text);
        let documents: Vec<String> = objects
            .iter()
            .map(|object| {
                match before
                    .iter()
                    .position(|o| o == object)
                    .and_then(|i| texts.get(i))
                {
                    Some(text) if before.len() == texts.len() => text.clone(),
                    _ => emit::document(&as_literals(object.clone(), &literals)),
                }
            })
            .collect();
        files.insert(path, documents.join("---\n").into_bytes());
    }
    Ok(warnings)
}

/// The documents of a file railyard wrote: separated by `---` lines, which cannot occur inside
/// its block scalars (they are indented).
fn split_documents(text: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line == "---\n" {
            documents.push(String::new());
        } else {
            documents
                .last_mut()
                .expect("one document at least")
                .push_str(line);
        }
    }
    documents
}

/// The single-line strings a rendered file writes as literal blocks (`key: |-` and one line):
/// the generators do that for values Flux substitutes (see `emit::literal`), and a rewritten
/// object keeps it.
fn one_line_literals(text: &str) -> std::collections::BTreeSet<String> {
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .filter(|&i| lines[i].ends_with("|-"))
        .filter_map(|i| {
            let value = lines.get(i + 1).filter(|l| indent(l) > indent(lines[i]))?;
            let single = lines
                .get(i + 2)
                .is_none_or(|next| indent(next) <= indent(lines[i]));
            single.then(|| value.trim().to_owned())
        })
        .collect()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn as_literals(value: Json, literals: &std::collections::BTreeSet<String>) -> Json {
    match value {
        Json::String(text) if literals.contains(&text) => emit::literal(&text),
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| as_literals(v, literals))
                .collect(),
        ),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, as_literals(v, literals)))
                .collect(),
        ),
        other => other,
    }
}

/// The rendered Kubernetes manifests of the Flux layers (not their kustomization.yaml files).
fn rendered_manifests(cluster_dir: &str, files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    LAYERS
        .iter()
        .flat_map(|layer| {
            let prefix = format!("{cluster_dir}/{layer}/");
            files
                .keys()
                .filter(move |path| {
                    path.strip_prefix(&prefix).is_some_and(|rest| {
                        !rest.contains('/')
                            && rest.ends_with(".yaml")
                            && rest != "kustomization.yaml"
                    })
                })
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The objects of a rendered file. railyard wrote it, so it parses; an error would be a bug
/// and shows as missing objects in the golden tests.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Vec<Json> {
    let file = SourceFile::new(path, String::from_utf8_lossy(bytes).into_owned());
    let (documents, _) = yaml::parse_stream(&file);
    documents
        .iter()
        .filter(|d| d.value != yaml::Value::Null)
        .map(|d| JsonTree::new(path, d).value)
        .collect()
}

/// Adds `path` to, or removes it from, the `resources` of its layer's kustomization.yaml.
fn set_layer_resource(files: &mut BTreeMap<String, Vec<u8>>, path: &str, present: bool) {
    let (dir, name) = path
        .rsplit_once('/')
        .expect("a layer file is inside its layer");
    let kustomization = format!("{dir}/kustomization.yaml");
    let Some(bytes) = files.get(&kustomization) else {
        return;
    };
    let mut names: Vec<String> = parse(&kustomization, bytes)
        .first()
        .and_then(|k| k.get("resources"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter(|n| *n != name)
        .map(str::to_owned)
        .collect();
    if present {
        names.push(name.to_owned());
    }
    names.sort_unstable();
    files.insert(kustomization, emit::document(&json!({ "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": names })).into_bytes());
}
