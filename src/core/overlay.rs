//! A kustomize-compatible overlay engine for the subset real repositories use (DESIGN.md §6).
//!
//! Pure: files come through the [`Files`] interface, so the engine runs on disk (the edge),
//! in memory (tests, fuzzing) or on railyard's own rendered tree alike. The order of work is
//! kustomize v5's: per kustomization, resources (bases fully built first), generators, then
//! patches, namespace, prefix and suffix, labels, annotations, JSON 6902 patches, replicas,
//! images; once at the top, generator hash suffixes, name references, and the legacy order.
//! Anything it does not implement is an error at the line that asks for it.

mod generators;
mod kustomization;
mod nameref;
mod order;
mod patch;
mod resource;
mod transform;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::core::diagnostic::Diagnostic;
use crate::core::source::Span;

pub use resource::Resource;

/// What the engine may ask of the outside world: read-only, by normalised path.
pub trait Files {
    /// The text of a file, or why it cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;
    /// The bytes of a file (generators take binary files too).
    fn read_bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        self.read(path).map(String::into_bytes)
    }
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &str) -> bool;
    /// Whether `path` is a regular file.
    fn is_file(&self, path: &str) -> bool;
}

/// Files as bytes, keyed by normalised path (a site's overlay directories, loaded by the edge).
impl Files for BTreeMap<String, Vec<u8>> {
    fn read(&self, path: &str) -> Result<String, String> {
        let bytes = self.get(path).ok_or_else(|| "no such file".to_owned())?;
        String::from_utf8(bytes.clone()).map_err(|_| "not UTF-8 text".to_owned())
    }

    fn read_bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        self.get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_owned())
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        !self.contains_key(path) && self.keys().any(|k| k.starts_with(&prefix))
    }

    fn is_file(&self, path: &str) -> bool {
        self.contains_key(path)
    }
}

/// Files held in memory, keyed by normalised path; directories are implied by file paths.
#[derive(Clone, Debug, Default)]
pub struct MemoryFiles(pub BTreeMap<String, String>);

impl Files for MemoryFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_owned())
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!("{path}/")
        };
        self.0.keys().any(|k| k.starts_with(&prefix)) && !self.0.contains_key(path)
    }

    fn is_file(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// The result of a build: the objects in output order.
pub struct Built {
    pub objects: Vec<Json>,
}

/// Builds the kustomization in `dir`; every problem comes back as a diagnostic.
pub fn build(files: &dyn Files, dir: &str) -> Result<Built, Vec<Diagnostic>> {
    let resources = build_resources(files, dir, Vec::new())?;
    Ok(Built {
        objects: resources.into_iter().map(|r| r.object).collect(),
    })
}

/// Builds the kustomization in `dir` on top of `base`: objects that act as if listed first in
/// its `resources` (railyard's rendered objects, for user overlays). Each result keeps its
/// `file`, so base objects can be written back where they came from.
pub fn build_onto(
    files: &dyn Files,
    dir: &str,
    base: Vec<Resource>,
) -> Result<Vec<Resource>, Vec<Diagnostic>> {
    build_resources(files, dir, base)
}

fn build_resources(
    files: &dyn Files,
    dir: &str,
    base: Vec<Resource>,
) -> Result<Vec<Resource>, Vec<Diagnostic>> {
    let mut engine = Engine {
        files,
        stack: Vec::new(),
        texts: BTreeMap::new(),
        base: Some(base),
        builds: 0,
    };
    let mut resources = engine.build_dir(&normalize(dir), None)?;
    generators::add_hashes(&mut resources);
    nameref::fix(&mut resources).map_err(|message| {
        vec![Diagnostic::error(
            &join(dir, "kustomization.yaml"),
            Span::default(),
            "",
            message,
        )]
    })?;
    order::legacy(&mut resources);
    Ok(resources)
}

/// The objects as `kubectl kustomize` prints them.
pub fn print(objects: &[Json]) -> String {
    objects
        .iter()
        .map(crate::core::emit::sorted_document)
        .collect::<Vec<_>>()
        .join("---\n")
}

struct Engine<'a> {
    files: &'a dyn Files,
    /// Directories being built, to find cycles.
    stack: Vec<String>,
    /// Texts read so far, for diagnostics.
    texts: BTreeMap<String, String>,
    /// Objects the top kustomization starts from before its own resources (`build_onto`).
    base: Option<Vec<Resource>>,
    /// Kustomizations built so far; a base included from several places is built once for each.
    builds: usize,
}

impl Engine<'_> {
    fn read_bytes(&mut self, path: &str) -> Result<Vec<u8>, String> {
        self.files.read_bytes(path)
    }

    fn read(&mut self, path: &str) -> Result<String, String> {
        let text = self.files.read(path)?;
        self.texts.insert(path.to_owned(), text.clone());
        Ok(text)
    }
}

/// `a/./b/../c` → `a/c`; a leading `..` that climbs above the start is kept.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

pub fn join(dir: &str, path: &str) -> String {
    if path.starts_with('/') || dir.is_empty() || dir == "." {
        normalize(path)
    } else {
        normalize(&format!("{dir}/{path}"))
    }
}
