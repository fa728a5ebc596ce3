//! A kustomize-compatible overlay engine for the subset real repositories use (DESIGN.md §6).
//!
//! Pure: files come through the [`Files`] interface, so the engine runs on disk (the edge),
//! in memory (tests, fuzzing) or on railyard's own rendered tree alike. The order of work is
//! kustomize v5's: per kustomization, resources (bases fully built first), generators,
//! components, then patches, namespace, prefix and suffix, labels, annotations, JSON 6902
//! patches, replicas, images, replacements (the step driver, `overlay/steps.rs`); once at the
//! top, generator hash suffixes, name references, annotations as strings, the output order
//! (`sortOptions`, by default the legacy order) and the `managedByLabel` of `buildMetadata`
//! (`build_resources` here).
//! Anything it does not implement is an error at the line that asks for it.
//!
//! Problems with the overlay come back as diagnostics; below them, why a file cannot be read
//! ([`ReadError`]), why a path, a read or a pattern is refused ([`Error`], [`PatternError`])
//! and the work budget running out ([`OutOfWork`]) are typed errors whose text the
//! diagnostics carry.

mod build_metadata;
mod components;
mod error;
mod generators;
mod kustomization;
mod nameref;
mod order;
mod patch;
mod remote;
mod replacement;
mod resource;
mod resources;
mod scalars;
mod sort_options;
mod steps;
mod transform;
mod unmatched;
mod work;

// shared with the rules, which look the site up the same way
use crate::json_pointer as pointer;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diagnostic::{self, Diagnostic};
use crate::limits::{MAX_OVERLAY_BYTES, MAX_REGEX_BYTES};
use crate::source::Span;

pub use error::{Error, OutOfWork, PatternError, ReadError};
pub use kustomization::{FieldSupport, field_support};
pub use resource::Resource;
use unmatched::Unmatched;
use work::Work;
use work::{KEEP, too_much_work, weight};

/// What the engine may ask of the outside world: read-only, by normalised path.
pub trait Files {
    /// The text of a file, or why it cannot be read.
    fn read(&self, path: &str) -> Result<String, ReadError>;
    /// The bytes of a file (generators take binary files too).
    fn read_bytes(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        self.read(path).map(String::into_bytes)
    }
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &str) -> bool;
    /// Whether `path` is a regular file.
    fn is_file(&self, path: &str) -> bool;
    /// Whether the file `path`, with every link resolved, still sits in or below the directory
    /// `dir` (also resolved): kustomize's `LoadRestrictionsRootOnly` for a kustomization's
    /// files. Paths without links (in memory) always do, as the engine checks them by name.
    fn resolves_within(&self, _path: &str, _dir: &str) -> bool {
        true
    }
}

/// Files as bytes, keyed by normalised path (a site's overlay directories, loaded by the edge).
impl Files for BTreeMap<String, Vec<u8>> {
    fn read(&self, path: &str) -> Result<String, ReadError> {
        let bytes = self.get(path).ok_or(ReadError::Missing)?;
        String::from_utf8(bytes.clone()).map_err(|_| ReadError::NotUtf8)
    }

    fn read_bytes(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        self.get(path).cloned().ok_or(ReadError::Missing)
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        !self.contains_key(path) && any_below(self, &prefix)
    }

    fn is_file(&self, path: &str) -> bool {
        self.contains_key(path)
    }
}

/// Files held in memory, keyed by normalised path; directories are implied by file paths.
#[derive(Clone, Debug, Default)]
pub struct MemoryFiles(pub BTreeMap<String, String>);

impl Files for MemoryFiles {
    fn read(&self, path: &str) -> Result<String, ReadError> {
        self.0.get(path).cloned().ok_or(ReadError::Missing)
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!("{path}/")
        };
        any_below(&self.0, &prefix) && !self.0.contains_key(path)
    }

    fn is_file(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// Whether a key of `map` starts with `prefix`: the first key at or after it in order, as the
/// keys that start with it sit together (a directory test, asked for every `resources` entry).
pub fn any_below<V>(map: &BTreeMap<String, V>, prefix: &str) -> bool {
    map.range::<str, _>((
        std::ops::Bound::Included(prefix),
        std::ops::Bound::Unbounded,
    ))
    .next()
    .is_some_and(|(k, _)| k.starts_with(prefix))
}

/// The result of a build: the objects in output order.
pub struct Built {
    pub objects: Vec<Json>,
}

/// Builds the kustomization in `dir`; every problem comes back as a diagnostic. Nothing outside
/// the files' namespace is read: an absolute path, or one that climbs above `.`, is an error.
pub fn build(files: &dyn Files, dir: &str) -> Result<Built, Vec<Diagnostic>> {
    let (resources, _) = build_resources(files, dir, ".", Vec::new(), Unmatched::default())
        .map_err(|mut diagnostics| {
            diagnostic::cap(&mut diagnostics);
            diagnostics
        })?;
    Ok(Built {
        objects: resources.into_iter().map(|r| r.object).collect(),
    })
}

/// Builds the kustomization in `dir` on top of `base`: objects that act as if listed first in
/// its `resources` (railyard's rendered objects, for user overlays). Each result keeps its
/// `file`, so base objects can be written back where they came from. `dir` is the root: the
/// overlay reads nothing outside it. Beside the objects come warnings: each patch whose target
/// selected nothing (which kustomize, and [`build`], skip silently).
pub fn build_onto(
    files: &dyn Files,
    dir: &str,
    base: Vec<Resource>,
) -> Result<(Vec<Resource>, Vec<Diagnostic>), Vec<Diagnostic>> {
    build_resources(files, dir, dir, base, Unmatched::warning())
}

fn build_resources(
    files: &dyn Files,
    dir: &str,
    root: &str,
    base: Vec<Resource>,
    unmatched: Unmatched,
) -> Result<(Vec<Resource>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut engine = Engine {
        files,
        root: normalize(root),
        stack: Vec::new(),
        texts: BTreeMap::new(),
        base: Some(base),
        kustomizations: 0,
        bytes: 0,
        work: Work::default(),
        top: normalize(dir),
        metadata: build_metadata::BuildMetadata::default(),
        order: sort_options::SortOrder::default_legacy(),
        unmatched,
    };
    let dir = normalize(dir);
    if !within(&engine.root, &dir) {
        return Err(vec![
            Diagnostic::error(
                &dir,
                Span::default(),
                "",
                format!("`{dir}` is outside the overlay root `{}`", engine.root),
            )
            .expected("a directory inside the overlay root")
            .hint("build from a directory that contains it, or widen the root"),
        ]);
    }
    let mut resources = engine.build_dir(&dir, None)?;
    generators::add_hashes(&mut resources);
    nameref::fix(&mut resources, &engine.work).map_err(|error| match &error {
        Error::AmbiguousReference(ambiguity) => vec![
            Diagnostic::error(&ambiguity.file, ambiguity.at, "", error.to_string())
                .expected("a reference that one object answers")
                .hint(
                    "give the copies of the base different prefixes or suffixes, and the \
                     referring object the same ones as the copy it means",
                ),
        ],
        _ => vec![Diagnostic::error(
            &join(&dir, "kustomization.yaml"),
            Span::default(),
            "",
            error.to_string(),
        )],
    })?;
    for resource in &mut resources {
        stringify_annotations(&mut resource.object);
    }
    build_metadata::clean_up(&engine.metadata, &mut resources);
    engine.order.sort(&mut resources);
    build_metadata::label_managed_by(&engine.metadata, &mut resources);
    Ok((resources, engine.unmatched.take()))
}

/// kustomize's last step rewrites every object's annotations through a map of strings
/// (`RemoveBuildAnnotations`), so an unquoted `true` or `5` comes out as `"true"` or `"5"`,
/// and a mapping or list (which only a replacement can put there) as `""`.
fn stringify_annotations(object: &mut Json) {
    let Some(Json::Object(annotations)) = pointer::get_mut(object, "/metadata/annotations") else {
        return;
    };
    for value in annotations.values_mut() {
        let text = match value {
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.to_string(),
            Json::Object(_) | Json::Array(_) => String::new(),
            Json::String(_) | Json::Null => continue,
        };
        *value = Json::String(text);
    }
}

/// The objects as `kubectl kustomize` prints them.
pub fn print(objects: &[Json]) -> String {
    objects
        .iter()
        .map(crate::emit::sorted_document)
        .collect::<Vec<_>>()
        .join("---\n")
}

struct Engine<'a> {
    files: &'a dyn Files,
    /// Everything read must be at or below this normalised path (`.`: the whole namespace).
    root: String,
    /// Directories being built, to find cycles.
    stack: Vec<String>,
    /// Texts read so far, for diagnostics.
    texts: BTreeMap<String, String>,
    /// Objects the top kustomization starts from before its own resources (`build_onto`).
    base: Option<Vec<Resource>>,
    /// Kustomizations loaded so far (bounded by `MAX_KUSTOMIZATIONS`).
    kustomizations: usize,
    /// Bytes read so far (bounded by `MAX_OVERLAY_BYTES`).
    bytes: usize,
    work: Work,
    /// The directory built, which origin annotations' paths start from.
    top: String,
    /// The top kustomization's `buildMetadata` (kustomize reads no other's).
    metadata: build_metadata::BuildMetadata,
    /// The top kustomization's output order (`sortOptions`; kustomize reads no other's).
    order: sort_options::SortOrder,
    /// Patches whose target selected nothing: skipped, or kept as warnings (`build_onto`).
    unmatched: unmatched::Unmatched,
}

impl Engine<'_> {
    fn read_bytes(&mut self, path: &str) -> Result<Vec<u8>, Error> {
        let bytes = self.files.read_bytes(path)?;
        self.count_bytes(bytes.len())?;
        Ok(bytes)
    }

    fn read(&mut self, path: &str) -> Result<String, Error> {
        let text = self.files.read(path)?;
        self.count_bytes(text.len())?;
        self.texts.insert(path.to_owned(), text.clone());
        Ok(text)
    }

    fn count_bytes(&mut self, bytes: usize) -> Result<(), Error> {
        self.bytes += bytes;
        if self.bytes > MAX_OVERLAY_BYTES {
            return Err(Error::TooManyBytes);
        }
        Ok(())
    }

    /// Where `entry`, written in the kustomization in `dir`, points: refused when it is
    /// absolute or leaves the root. A file must also be in or below `dir` itself, by name and
    /// through links, as kustomize's default load restrictor demands; a directory (a base) may
    /// sit anywhere under the root.
    fn locate(&self, dir: &str, entry: &str, is_file: bool) -> Result<String, Error> {
        if entry.starts_with('/') {
            return Err(Error::Absolute {
                entry: entry.to_owned(),
            });
        }
        let path = join(dir, entry);
        if !within(&self.root, &path) {
            return Err(Error::OutsideRoot {
                entry: entry.to_owned(),
                root: self.root.clone(),
            });
        }
        if is_file && (!within(dir, &path) || !self.files.resolves_within(&path, dir)) {
            return Err(Error::OutsideDirectory {
                entry: entry.to_owned(),
                dir: dir.to_owned(),
            });
        }
        Ok(path)
    }
}

/// A regular expression from an overlay, compiled within [`MAX_REGEX_BYTES`].
fn regex(pattern: &str) -> Result<regex::Regex, PatternError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_BYTES)
        .dfa_size_limit(MAX_REGEX_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => PatternError::TooBig(limit),
            other => PatternError::Invalid(other),
        })
}

/// Whether normalised `path` is `root` or below it.
fn within(root: &str, path: &str) -> bool {
    if root == "." {
        !path.starts_with('/') && path != ".." && !path.starts_with("../")
    } else {
        path == root
            || path
                .strip_prefix(root)
                .is_some_and(|rest| rest.starts_with('/'))
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
