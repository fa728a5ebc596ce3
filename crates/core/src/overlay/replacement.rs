//! `replacements`: copy one field of one object (the `source`) into fields of the objects each
//! target selects, as kustomize v5's replacement filter does, after every other transformer of
//! the kustomization. Entries are inline or read from a file (`path:`, one replacement or a
//! list). Objects are selected by their current or any earlier name and namespace.

mod path;
mod select;
mod value;

use serde_json::Value as Json;

use super::kustomization::Kustomization;
use super::resource::Resource;
use super::work::Work;
use super::{Engine, KEEP, OutOfWork, too_much_work, weight};
use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::source::SourceFile;
use crate::yaml;
use path::{Create, Matcher, WalkError};
use select::{Id, Selector, describe, unknown_keys};
use value::Tag;

const REPLACEMENT_KEYS: [&str; 3] = ["source", "targets", "path"];
const SOURCE_KEYS: [&str; 7] = [
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "fieldPath",
    "options",
];
const TARGET_KEYS: [&str; 4] = ["select", "reject", "fieldPaths", "options"];
const OPTION_KEYS: [&str; 3] = ["delimiter", "index", "create"];
const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// Why a replacement cannot be applied.
#[derive(Debug, thiserror::Error)]
enum ReplaceError {
    /// What kustomize would say (or, for what it would ignore, why railyard refuses).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    OutOfWork(#[from] OutOfWork),
}

impl From<String> for ReplaceError {
    fn from(message: String) -> ReplaceError {
        ReplaceError::Invalid(message)
    }
}

impl From<&str> for ReplaceError {
    fn from(message: &str) -> ReplaceError {
        ReplaceError::Invalid(message.to_owned())
    }
}

/// What the replacements of one kustomization share: the work budget, and the tag of every
/// scalar they wrote (a written scalar keeps its tag even when its text does not fit it), by
/// object and pointer, with the entry that wrote it.
struct Writes<'w> {
    work: &'w Work,
    misfits: std::collections::BTreeMap<(usize, String), (Tag, String)>,
    entry: String,
}

/// Runs the kustomization's `replacements` in order on every object.
pub(super) fn run(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    let Some(entries) = kustomization.value("replacements") else {
        return Ok(());
    };
    let Json::Array(entries) = entries else {
        return Err(vec![
            kustomization
                .error("/replacements", "`replacements` is not a list")
                .expected("a list of replacements")
                .hint("write each replacement as a list item"),
        ]);
    };
    // kustomize reads every replacement (files too) before it applies the first
    let mut all = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let pointer = format!("/replacements/{i}");
        for replacement in replacements_of(engine, kustomization, &pointer, entry)? {
            all.push((pointer.clone(), replacement));
        }
    }
    let mut writes = Writes {
        work: &engine.work,
        misfits: std::collections::BTreeMap::new(),
        entry: String::new(),
    };
    for (pointer, replacement) in all {
        let error = |message: String| kustomization.error(&pointer, message);
        let steps = resources.iter().map(|r| 1 + weight(&r.object) / 16).sum();
        writes
            .work
            .spend(steps)
            .map_err(|_| vec![too_much_work(error(String::new()))])?;
        writes.entry.clone_from(&pointer);
        apply(&replacement, resources, &mut writes).map_err(|why| match why {
            ReplaceError::OutOfWork(_) => vec![too_much_work(error(String::new()))],
            ReplaceError::Invalid(why) => vec![
                error(why)
                    .expected("a source that selects one object, and targets whose fields exist")
                    .hint("check the selectors and field paths; `options.create: true` makes missing fields"),
            ],
        })?;
    }
    // kustomize decodes each object once the step is over: text left in a scalar whose tag it
    // does not fit is an error then
    for ((index, pointer), (tag, entry)) in &writes.misfits {
        let written = super::pointer::get(&resources[*index].object, pointer);
        if let Some(Json::String(text)) = written.filter(|_| *tag != Tag::Str) {
            if tag.decode(text).is_some() {
                continue;
            }
            return Err(vec![
                kustomization
                    .error(entry, value::cannot_decode(text, *tag))
                    .expected(format!("text that reads as a {}", tag.name()))
                    .hint("a replaced field keeps its type; replace a string field, or quote the target's value"),
            ]);
        }
    }
    Ok(())
}

/// The replacements one entry stands for: itself, or what its `path` file holds.
fn replacements_of(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    pointer: &str,
    entry: &Json,
) -> Result<Vec<Json>, Vec<Diagnostic>> {
    let error = |message: String| kustomization.error(pointer, message);
    let Some(map) = entry.as_object() else {
        return Err(vec![error("a replacement must be a mapping".to_owned())]);
    };
    unknown_keys(map, &REPLACEMENT_KEYS, "replacement").map_err(|why| {
        vec![error(why).hint("a replacement has `source` and `targets`, or `path`")]
    })?;
    let Some(file) = map.get("path") else {
        return Ok(vec![entry.clone()]);
    };
    if map.contains_key("source") || map.contains_key("targets") {
        return Err(vec![
            error("cannot specify both path and inline replacement".to_owned())
                .hint("keep `path`, or move the file's replacement inline"),
        ]);
    }
    let Some(file) = file.as_str() else {
        return Err(vec![error("`path` is not a string".to_owned())]);
    };
    let located = engine
        .locate(&kustomization.dir, file, true)
        .map_err(|why| {
            vec![
                error(why.to_string())
                    .hint("as with kustomize, files come from the kustomization's own directory"),
            ]
        })?;
    let text = engine.read(&located).map_err(|why| {
        vec![
            error(format!("cannot read `{file}`: {why}"))
                .hint("check the path; it is relative to the kustomization's directory"),
        ]
    })?;
    let source = SourceFile::new(located.clone(), text);
    let (documents, diagnostics) = yaml::parse_stream(&source);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let tree = documents
        .first()
        .map(|root| JsonTree::new(&located, root).value)
        .unwrap_or(Json::Null);
    match tree {
        Json::Array(items) => {
            for item in &items {
                let keys = item
                    .as_object()
                    .map(|m| unknown_keys(m, &REPLACEMENT_KEYS[..2], "replacement"));
                if let Some(Err(why)) = keys {
                    return Err(vec![error(format!("in `{file}`: {why}"))]);
                }
            }
            Ok(items)
        }
        Json::Object(map) => {
            unknown_keys(&map, &REPLACEMENT_KEYS[..2], "replacement")
                .map_err(|why| vec![error(format!("in `{file}`: {why}"))])?;
            Ok(vec![Json::Object(map)])
        }
        _ => Err(vec![
            error(format!(
                "`{file}` holds neither a replacement nor a list of them"
            ))
            .expected("a mapping with `source` and `targets`, or a list of them"),
        ]),
    }
}

/// A field's `options`: `delimiter` with `index`, and `create`.
struct Options {
    delimiter: Option<(String, i64)>,
    create: bool,
}

impl Options {
    fn parse(options: Option<&Json>) -> Result<Options, String> {
        let Some(options) = options.filter(|o| !o.is_null()) else {
            return Ok(Options {
                delimiter: None,
                create: false,
            });
        };
        let map = options.as_object().ok_or("`options` is not a mapping")?;
        if map.contains_key("encoding") {
            return Err("`options.encoding` is not implemented by kustomize; railyard refuses it rather than ignore it".to_owned());
        }
        unknown_keys(map, &OPTION_KEYS, "replacement's options")?;
        let delimiter = map.get("delimiter").map(value::text).unwrap_or_default();
        let index = match map.get("index") {
            None | Some(Json::Null) => 0,
            Some(index) => index.as_i64().ok_or("`options.index` is not an integer")?,
        };
        let create = match map.get("create") {
            None | Some(Json::Null) => false,
            Some(create) => create
                .as_bool()
                .ok_or("`options.create` is not a boolean")?,
        };
        Ok(Options {
            delimiter: (!delimiter.is_empty()).then_some((delimiter, index)),
            create,
        })
    }
}

/// One replacement: its source's value written into every target.
fn apply(
    replacement: &Json,
    resources: &mut [Resource],
    writes: &mut Writes<'_>,
) -> Result<(), ReplaceError> {
    let (Some(source), Some(targets)) = (
        replacement.get("source").filter(|s| !s.is_null()),
        replacement.get("targets").filter(|t| !t.is_null()),
    ) else {
        return Err("replacements must specify a source and at least one target".into());
    };
    let value = source_value(source, resources)?;
    let Json::Array(targets) = targets else {
        return Err("`targets` is not a list".into());
    };
    for target in targets {
        apply_target(target, &value, resources, writes)?;
    }
    Ok(())
}

/// The value the source selects: one object, one field, refined by `options`.
/// A replacement's value, and where it lives when it is the source's field itself: kustomize
/// hands targets that very node, so a target that changes it changes what later targets get.
struct Source {
    value: Json,
    live: Option<(usize, String)>,
}

impl Source {
    fn current(&self, resources: &[Resource]) -> Json {
        self.live
            .as_ref()
            .and_then(|(index, pointer)| super::pointer::get(&resources[*index].object, pointer))
            .unwrap_or(&self.value)
            .clone()
    }
}

fn source_value(source: &Json, resources: &[Resource]) -> Result<Source, String> {
    let map = source.as_object().ok_or("`source` is not a mapping")?;
    unknown_keys(map, &SOURCE_KEYS, "replacement's source")?;
    let id = Id::parse(source);
    let mut selected = resources.iter().enumerate().filter(|(_, r)| id.selects(r));
    let described = describe(source);
    let Some((index, object)) = selected.next() else {
        return Err(format!("nothing selected by {described}"));
    };
    if selected.next().is_some() {
        return Err(format!("multiple matches for selector {described}"));
    }
    let field_path = source
        .get("fieldPath")
        .map(value::text)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_FIELD_PATH.to_owned());
    let found = path::lookup(&object.object, &path::split(&field_path))
        .map_err(|why| format!("error looking up replacement source: {why}"))?;
    let (value, pointer) = match found {
        None | Some((Json::Null, _)) => None,
        Some((Json::Object(m), _)) if m.is_empty() => None,
        Some((Json::Array(a), _)) if a.is_empty() => None,
        Some((v, pointer)) => Some((v.clone(), pointer)),
    }
    .ok_or_else(|| {
        format!("fieldPath `{field_path}` is missing for replacement source {described}")
    })?;
    match Options::parse(source.get("options"))?.delimiter {
        Some((delimiter, piece)) => Ok(Source {
            value: value::piece(&value, &delimiter, piece)?,
            live: None,
        }),
        None => Ok(Source {
            value,
            live: Some((index, pointer)),
        }),
    }
}

fn apply_target(
    target: &Json,
    source: &Source,
    resources: &mut [Resource],
    writes: &mut Writes<'_>,
) -> Result<(), ReplaceError> {
    let map = target.as_object().ok_or("a target is not a mapping")?;
    unknown_keys(map, &TARGET_KEYS, "replacement's target")?;
    let select = match target.get("select") {
        None | Some(Json::Null) => return Err("target must specify resources to select".into()),
        Some(select) => Selector::parse(select)?,
    };
    let rejects = match target.get("reject") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(Selector::parse)
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`reject` is not a list".into()),
    };
    let field_paths: Vec<String> = match target.get("fieldPaths") {
        None | Some(Json::Null) => vec![DEFAULT_FIELD_PATH.to_owned()],
        Some(Json::Array(paths)) if paths.is_empty() => vec![DEFAULT_FIELD_PATH.to_owned()],
        Some(Json::Array(paths)) => paths.iter().map(value::text).collect(),
        Some(_) => return Err("`fieldPaths` is not a list".into()),
    };
    let options = Options::parse(target.get("options"))?;
    for index in 0..resources.len() {
        let resource = &resources[index];
        let rejected_by_labels = rejects
            .iter()
            .any(|r| r.labels.is_some() && r.labels_match(resource));
        if !select.labels_match(resource) || rejected_by_labels {
            continue;
        }
        let rejected = rejects
            .iter()
            .any(|r| !r.id.is_empty() && r.id.selects(resource));
        if !select.id.selects(resource) || rejected {
            continue;
        }
        let before = resource.alias_values();
        for field_path in &field_paths {
            let at = Place { index, field_path };
            write(resources, &at, source, &options, writes)?;
        }
        let resource = &mut resources[index];
        resource.spread_alias_changes(&before, false);
        // kustomize records no earlier name for a field a replacement writes: an object never
        // renamed before now has its new name as its original, so references to the old one
        // are left alone; one renamed before keeps its history, and references follow
        if resource.previous.is_empty() {
            resource.original = (resource.name(), resource.namespace());
        }
    }
    Ok(())
}

/// Which object (its index) and which of its target's field paths a write is for.
struct Place<'p> {
    index: usize,
    field_path: &'p str,
}

/// Writes the source's value into every field the field path reaches in the object at
/// `at.index`, as kustomize does: first every field is found (and made, with `create`), then
/// each is set to a fresh copy of the source's current value, each copy paid for.
fn write(
    resources: &mut [Resource],
    at: &Place<'_>,
    source: &Source,
    options: &Options,
    writes: &mut Writes<'_>,
) -> Result<(), ReplaceError> {
    let field_path = at.field_path;
    let parts = path::split(field_path);
    let matcher = Matcher {
        parts: &parts,
        create: options
            .create
            .then(|| Create::of(&source.current(resources))),
    };
    let verb = if options.create {
        "find or create"
    } else {
        "find"
    };
    let mut fields = Vec::new();
    let mut visit = |_: &mut Json, fresh: bool, pointer: &str| {
        fields.push((pointer.to_owned(), fresh));
        Ok(())
    };
    match matcher.walk(&mut resources[at.index].object, 0, false, "", &mut visit) {
        Ok(0) => {
            return Err(
                format!("unable to {verb} field `{field_path}` in replacement target").into(),
            );
        }
        Ok(_) => {}
        Err(WalkError::Path(why)) => {
            return Err(format!(
                "unable to {verb} field `{field_path}` in replacement target: {why}"
            )
            .into());
        }
        Err(WalkError::Visit(why)) => return Err(why.into()),
    }
    let delimiter = options.delimiter.as_ref().map(|(d, i)| (d.as_str(), *i));
    for (pointer, fresh) in fields {
        let value = source.current(resources);
        writes.work.spend(KEEP * weight(&value))?;
        let key = (at.index, pointer);
        let forced = writes.misfits.get(&key).map(|(tag, _)| *tag);
        let Some(field) = super::pointer::get_mut(&mut resources[at.index].object, &key.1) else {
            continue;
        };
        let annotation = key.1.starts_with("/metadata/annotations/");
        match value::set(field, fresh, &value, delimiter, forced, annotation)? {
            Some(tag) => {
                writes.misfits.insert(key, (tag, writes.entry.clone()));
            }
            None => {
                writes.misfits.remove(&key);
            }
        }
    }
    Ok(())
}
