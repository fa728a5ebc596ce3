//! Patches: strategic merge and JSON 6902, inline or from files, with `target` selectors
//! (formats.md §5.c, §5.d). The three kustomization fields that hold patches are driven here;
//! reading a patch, merging, JSON 6902 operations and targets live in the submodules.

mod json6902;
mod read;
mod selector;
mod strategic;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::kustomization::Kustomization;
use super::resource::{Resource, split_api_version};
use super::scalars::Scalar;
use super::unmatched::Unmatched;
use super::{Engine, KEEP, Work, too_much_work, weight};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use read::read_patch;
use selector::{Selector, describe, name_cost};
use strategic::strategic_patch;

/// Label and annotation selectors, shared with `replacements` targets.
pub(super) use selector::Selector as TargetSelector;

/// One patch as written, with where it was written.
struct Patch {
    documents: Vec<Json>,
    /// Where each document (strategic merge) or each operation (JSON 6902) is written: file
    /// and span in that file's own coordinates, inline patches mapped into the kustomization.
    locations: Vec<(String, Span)>,
    /// The pointer of the entry in the kustomization, for messages.
    pointer: String,
    is_json6902: bool,
    /// Written as JSON (its text starts with `[`): kustomize hands such text to the JSON patch
    /// library as it is, where YAML is first converted by Go's JSON encoder, which escapes
    /// `&`, `<` and `>` (a `test` compares scalars by their JSON text).
    raw_json: bool,
    /// Each document's scalars as written (strategic merge keeps the styles they replace).
    scalars: Vec<BTreeMap<String, Scalar>>,
}

impl Patch {
    /// The operations of a JSON 6902 patch (its first document).
    fn operations(&self) -> Json {
        self.documents
            .first()
            .cloned()
            .unwrap_or(Json::Array(Vec::new()))
    }
}

/// The error for running out of work, at a patch's entry.
fn out_of_work(kustomization: &Kustomization, pointer: &str) -> Vec<Diagnostic> {
    vec![too_much_work(kustomization.error(pointer, ""))]
}

/// `patchesStrategicMerge`: each entry a file or inline YAML naming its own targets.
pub(super) fn strategic_merge_files(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut Vec<Resource>,
) -> Result<(), Vec<Diagnostic>> {
    for (entry, pointer) in kustomization.strings("patchesStrategicMerge") {
        let inline = entry.contains('\n')
            || entry.trim_start().starts_with("apiVersion")
            || entry.contains(": ");
        let patch = read_patch(
            engine,
            kustomization,
            &pointer,
            inline.then_some(entry.as_str()),
            (!inline).then_some(entry.as_str()),
        )?;
        apply_each_named(kustomization, &patch, resources, &engine.work)?;
    }
    Ok(())
}

/// `patches`: strategic merge or JSON 6902, with or without a target.
pub(super) fn patches(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut Vec<Resource>,
) -> Result<(), Vec<Diagnostic>> {
    let Some(Json::Array(entries)) = kustomization.value("patches") else {
        return Ok(());
    };
    for (i, entry) in entries.iter().enumerate() {
        let pointer = format!("/patches/{i}");
        // kustomize trims an inline `patches[].patch` (so a block scalar ending it loses its
        // final newline); files and the deprecated forms are read as they are
        let patch = read_patch(
            engine,
            kustomization,
            &pointer,
            entry.get("patch").and_then(Json::as_str).map(str::trim),
            entry.get("path").and_then(Json::as_str),
        )?;
        match entry.get("target") {
            Some(target) => {
                let targeted = Targeted {
                    kustomization,
                    patch: &patch,
                    target,
                    work: &engine.work,
                    unmatched: &engine.unmatched,
                };
                targeted.apply(entry, resources)?;
            }
            None if patch.is_json6902 => {
                return Err(vec![
                    kustomization
                        .error(&pointer, "a JSON 6902 patch needs a `target`")
                        .hint("add `target: {kind: ..., name: ...}`"),
                ]);
            }
            None => {
                apply_each_named(kustomization, &patch, resources, &engine.work)?;
            }
        }
    }
    Ok(())
}

/// A `patches` entry with a `target`: applied to every object the target selects.
struct Targeted<'a> {
    kustomization: &'a Kustomization,
    patch: &'a Patch,
    target: &'a Json,
    work: &'a Work,
    unmatched: &'a Unmatched,
}

impl Targeted<'_> {
    fn apply(&self, entry: &Json, resources: &mut Vec<Resource>) -> Result<(), Vec<Diagnostic>> {
        let pointer = &self.patch.pointer;
        let selector = Selector::parse(self.target).map_err(|why| {
            vec![
                self.kustomization
                    .error(&format!("{pointer}/target"), why.to_string()),
            ]
        })?;
        self.spend(selector.cost(resources))?;
        let selected: Vec<usize> = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| selector.matches(r))
            .map(|(i, _)| i)
            .collect();
        if selected.is_empty() {
            self.unmatched.report(
                self.kustomization
                    .error(
                        pointer,
                        format!(
                            "the patch's target `{}` matches no resource",
                            describe(self.target)
                        ),
                    )
                    .expected("a target that selects at least one resource")
                    .hint("check kind, name and namespace; names are anchored regular expressions"),
            );
            return Ok(());
        }
        if self.patch.is_json6902 {
            self.json6902(&selected, resources)
        } else {
            let allowed = |option: &str| {
                entry
                    .pointer(&format!("/options/{option}"))
                    .and_then(Json::as_bool)
                    .unwrap_or(false)
            };
            let changes = IdentityChanges {
                name: allowed("allowNameChange"),
                kind: allowed("allowKindChange"),
            };
            self.merge(&selected, changes, resources)
        }
    }

    fn spend(&self, steps: usize) -> Result<(), Vec<Diagnostic>> {
        self.work
            .spend(steps)
            .map_err(|_| out_of_work(self.kustomization, &self.patch.pointer))
    }

    fn json6902(
        &self,
        selected: &[usize],
        resources: &mut [Resource],
    ) -> Result<(), Vec<Diagnostic>> {
        let operations = self.patch.operations();
        let cost = KEEP * weight(&operations);
        for &index in selected {
            self.spend(cost)?;
            // kustomize's PatchTransformer records each target's id before a JSON patch (the
            // deprecated `patchesJson6902` does not)
            resources[index].store_previous_id();
            json6902::apply(
                self.kustomization,
                self.patch,
                &operations,
                &mut resources[index],
                self.work,
            )?;
        }
        Ok(())
    }

    fn merge(
        &self,
        selected: &[usize],
        changes: IdentityChanges,
        resources: &mut Vec<Resource>,
    ) -> Result<(), Vec<Diagnostic>> {
        let mut deleted = Vec::new();
        let cost: usize = KEEP * self.patch.documents.iter().map(weight).sum::<usize>();
        let documents: Vec<Json> = self
            .patch
            .documents
            .iter()
            .map(|document| without_identity(document, changes))
            .collect();
        for &index in selected {
            self.spend(cost)?;
            if changes.name || changes.kind {
                // kustomize's ApplySmPatch records the id a patch may change
                resources[index].store_previous_id();
            }
            for (document, scalars) in documents.iter().zip(&self.patch.scalars) {
                let delete = strategic_patch(&mut resources[index], document, scalars, self.work)
                    .map_err(|_| out_of_work(self.kustomization, &self.patch.pointer))?;
                if delete {
                    deleted.push(index);
                }
            }
        }
        remove_indices(resources, deleted);
        Ok(())
    }
}

/// What a targeted strategic-merge patch may change of its targets' identity (its entry's
/// `options.allowNameChange` and `options.allowKindChange`).
#[derive(Clone, Copy)]
struct IdentityChanges {
    name: bool,
    kind: bool,
}

/// A targeted strategic-merge patch as kustomize applies it (api/resmap `ApplySmPatch`,
/// api/resource `ApplySmPatch`): the target's apiVersion, its namespace always, and its kind
/// and name unless the entry allows changing them.
fn without_identity(document: &Json, changes: IdentityChanges) -> Json {
    let mut document = document.clone();
    if let Json::Object(map) = &mut document {
        map.remove("apiVersion");
        let kind = map.get("kind").and_then(Json::as_str).unwrap_or_default();
        if !changes.kind || kind.is_empty() {
            map.remove("kind");
        }
    }
    if let Some(Json::Object(metadata)) = document.get_mut("metadata") {
        metadata.remove("namespace");
        if !changes.name {
            metadata.remove("name");
        }
    }
    document
}

/// `patchesJson6902`: `{target, path | patch}` entries (deprecated form).
pub(super) fn json6902_files(
    engine: &mut Engine<'_>,
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    let Some(Json::Array(entries)) = kustomization.value("patchesJson6902") else {
        return Ok(());
    };
    for (i, entry) in entries.iter().enumerate() {
        let pointer = format!("/patchesJson6902/{i}");
        let patch = read_patch(
            engine,
            kustomization,
            &pointer,
            entry.get("patch").and_then(Json::as_str),
            entry.get("path").and_then(Json::as_str),
        )?;
        let target = entry.get("target").unwrap_or(&Json::Null);
        let selector = Selector::parse(target).map_err(|why| {
            vec![kustomization.error(&format!("{pointer}/target"), why.to_string())]
        })?;
        let operations = patch.operations();
        let work = &engine.work;
        let spend = |steps| {
            work.spend(steps)
                .map_err(|_| out_of_work(kustomization, &pointer))
        };
        spend(selector.cost(resources))?;
        let cost = KEEP * weight(&operations);
        let mut matched = false;
        for resource in resources.iter_mut().filter(|r| selector.matches(r)) {
            matched = true;
            spend(cost)?;
            json6902::apply(kustomization, &patch, &operations, resource, work)?;
        }
        if !matched {
            engine.unmatched.report(
                kustomization
                    .error(
                        &pointer,
                        format!(
                            "the patch's target `{}` matches no resource",
                            describe(target)
                        ),
                    )
                    .expected("a target that selects at least one resource")
                    .hint("check kind, name and namespace"),
            );
        }
    }
    Ok(())
}

/// A strategic-merge patch that names its target by apiVersion, kind, name and namespace.
/// Every document of a patch without a target, each applied to the object it names.
fn apply_each_named(
    kustomization: &Kustomization,
    patch: &Patch,
    resources: &mut Vec<Resource>,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    for ((document, location), scalars) in patch
        .documents
        .iter()
        .zip(&patch.locations)
        .zip(&patch.scalars)
    {
        let named = Named {
            document,
            location,
            scalars,
        };
        apply_named(kustomization, &patch.pointer, &named, resources, work)?;
    }
    Ok(())
}

/// One document of a patch without a target, where it is written, and its scalars.
struct Named<'a> {
    document: &'a Json,
    location: &'a (String, Span),
    scalars: &'a BTreeMap<String, Scalar>,
}

fn apply_named(
    kustomization: &Kustomization,
    pointer: &str,
    named: &Named<'_>,
    resources: &mut Vec<Resource>,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    let (document, location) = (named.document, named.location);
    let exhausted = |_| out_of_work(kustomization, pointer);
    let names: usize = resources.iter().map(name_cost).sum();
    work.spend(names + KEEP * weight(document))
        .map_err(exhausted)?;
    let text = |p: &str| {
        document
            .pointer(p)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (kind, name) = (text("/kind"), text("/metadata/name"));
    let namespace = document
        .pointer("/metadata/namespace")
        .and_then(Json::as_str);
    let (group, _) = split_api_version(&text("/apiVersion"));
    let found: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.kind() == kind && r.group_version().0 == group && r.answers_to(&name, namespace)
        })
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [] => Err(vec![
            Diagnostic::error(
                &location.0,
                location.1,
                "",
                format!("the patch for {kind} `{name}` matches no resource"),
            )
            .expected(format!("a {kind} named `{name}` among the resources"))
            .hint("check the patch's apiVersion, kind, name and namespace, or give it a `target`"),
        ]),
        [index] => {
            let mut patch = document.clone();
            if let Some(Json::Object(metadata)) = patch.get_mut("metadata") {
                metadata.remove("name");
                metadata.remove("namespace");
            }
            if strategic_patch(&mut resources[*index], &patch, named.scalars, work)
                .map_err(exhausted)?
            {
                resources.remove(*index);
            }
            Ok(())
        }
        _ => Err(vec![
            kustomization
                .error(
                    pointer,
                    format!(
                        "the patch for {kind} `{name}` matches {} resources",
                        found.len()
                    ),
                )
                .hint("add `metadata.namespace` to the patch, or use `patches` with a `target`"),
        ]),
    }
}

fn remove_indices(resources: &mut Vec<Resource>, indices: Vec<usize>) {
    if indices.is_empty() {
        return;
    }
    let indices: std::collections::HashSet<usize> = indices.into_iter().collect();
    let mut index = 0;
    resources.retain(|_| {
        index += 1;
        !indices.contains(&(index - 1))
    });
}
