//! The step driver: how one kustomization is built, in kustomize v5's order. Its resources and
//! bases (each base fully built first), then generators, then its components (each run on
//! everything gathered so far), then strategic-merge and `patches` patches, namespace, prefix
//! and suffix, labels, annotations, JSON 6902 patches, replicas, images and replacements.
//! Hashes, name references and the output order follow once at the top (`build_resources` in
//! `overlay.rs`).

use std::collections::HashMap;

use super::kustomization::{
    FILE_NAMES, Kustomization, check_names, check_unique, too_many_objects,
};
use super::resource::Resource;
use super::{Engine, KEEP, generators, join, patch, replacement, too_much_work, transform, weight};
use crate::diagnostic::Diagnostic;
use crate::limits::{MAX_BASE_DEPTH, MAX_KUSTOMIZATIONS, MAX_OBJECTS};
use crate::source::Span;

impl Engine<'_> {
    /// Builds the kustomization in `dir` without hashes and name references (done at the top).
    /// `referenced_at` is the `resources` entry that names it, if any: a Component may be
    /// built on its own (as kustomize does), but not listed as a base.
    pub(super) fn build_dir(
        &mut self,
        dir: &str,
        referenced_at: Option<Diagnostic>,
    ) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        self.check_can_enter(dir, referenced_at.clone())?;
        let top = self.kustomizations == 0;
        self.kustomizations += 1;
        let kustomization = self.load_kustomization(dir)?;
        if top {
            self.read_top_options(&kustomization)?;
        }
        if let Some(at) = referenced_at.filter(|_| kustomization.is_component()) {
            return Err(vec![
                Diagnostic {
                    message: format!("`{dir}` is a Component, which cannot be a resource"),
                    ..at
                }
                .expected("a Kustomization or a resource file")
                .hint("list it under `components:` instead"),
            ]);
        }
        let start = self.base.take().unwrap_or_default();
        self.accumulate(&kustomization, start)
    }

    /// Kustomize v5's `accumulateTarget`: on top of `start` (nothing for a kustomization, the
    /// parent's objects for a component), the kustomization's resources, its generators, its
    /// components (each run on everything gathered so far), then its transformers.
    pub(super) fn accumulate(
        &mut self,
        kustomization: &Kustomization,
        start: Vec<Resource>,
    ) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        self.stack.push(kustomization.dir.clone());
        let gathered = self
            .gather(kustomization, &kustomization.dir, start)
            .and_then(|mut resources| {
                self.generate(kustomization, &mut resources)?;
                self.components(kustomization, resources)
            });
        self.stack.pop();
        let mut resources = gathered?;
        self.transform(kustomization, &mut resources)?;
        Ok(resources)
    }

    /// The generators, with the checks on what they made.
    fn generate(
        &mut self,
        kustomization: &Kustomization,
        resources: &mut Vec<Resource>,
    ) -> Result<(), Vec<Diagnostic>> {
        check_unique(kustomization, resources)?;
        generators::run(self, kustomization, resources)?;
        if resources.len() > MAX_OBJECTS {
            return Err(vec![too_many_objects(kustomization, "")]);
        }
        check_names(
            kustomization,
            resources,
            &["configMapGenerator", "secretGenerator"],
        )?;
        check_unique(kustomization, resources)
    }

    /// Kustomize v5's order of transformers within one kustomization, once its resources,
    /// generated objects and components are in.
    fn transform(
        &mut self,
        kustomization: &Kustomization,
        resources: &mut Vec<Resource>,
    ) -> Result<(), Vec<Diagnostic>> {
        patch::strategic_merge_files(self, kustomization, resources)?;
        patch::patches(self, kustomization, resources)?;
        self.spend_on_transforms(kustomization, resources)?;
        transform::namespace(kustomization, resources);
        transform::prefix_suffix(kustomization, resources);
        check_names(
            kustomization,
            resources,
            &["namePrefix", "nameSuffix", "namespace"],
        )?;
        transform::labels(kustomization, resources)?;
        transform::annotations(kustomization, resources)?;
        patch::json6902_files(self, kustomization, resources)?;
        transform::replicas(kustomization, resources)?;
        transform::images(kustomization, resources)?;
        replacement::run(self, kustomization, resources)?;
        self.mark_transformed(kustomization, resources);
        Ok(())
    }

    /// Refuses to build `dir` when it is already being built (a cycle), or when the bases nest
    /// too deeply or the build has loaded too many kustomizations.
    pub(super) fn check_can_enter(
        &self,
        dir: &str,
        referenced_at: Option<Diagnostic>,
    ) -> Result<(), Vec<Diagnostic>> {
        let at = || {
            referenced_at
                .clone()
                .unwrap_or_else(|| Diagnostic::error(dir, Span::default(), "", ""))
        };
        if self.stack.iter().any(|d| d == dir) {
            let chain = self
                .stack
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(dir))
                .collect::<Vec<_>>()
                .join(" → ");
            return Err(vec![
                Diagnostic {
                    message: format!("kustomizations include each other: {chain}"),
                    ..at()
                }
                .expected("bases that do not refer back")
                .hint("remove the reference that closes the cycle"),
            ]);
        }
        let (message, expected) = if self.stack.len() >= MAX_BASE_DEPTH {
            (
                "bases are nested too deeply",
                format!("at most {MAX_BASE_DEPTH} kustomizations, each a base of the next"),
            )
        } else if self.kustomizations >= MAX_KUSTOMIZATIONS {
            (
                "the overlay loads too many kustomizations",
                format!(
                    "at most {MAX_KUSTOMIZATIONS} kustomizations in one build, a base listed twice counting twice"
                ),
            )
        } else {
            return Ok(());
        };
        Err(vec![
            Diagnostic {
                message: message.to_owned(),
                ..at()
            }
            .expected(expected)
            .hint("list each base once, and flatten long chains of bases"),
        ])
    }

    /// The objects the kustomization's `resources` and `bases` bring in, in order, after any
    /// objects the build starts from; every entry's problems are reported together.
    fn gather(
        &mut self,
        kustomization: &Kustomization,
        dir: &str,
        start: Vec<Resource>,
    ) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        let mut resources = start;
        let mut seen = Identities::new(&resources);
        let mut problems = Vec::new();
        let entries: Vec<(String, String)> = kustomization
            .strings("resources")
            .into_iter()
            .chain(kustomization.strings("bases"))
            .collect();
        for (entry, pointer) in entries {
            let at = Entry {
                kustomization,
                pointer: &pointer,
            };
            match self.load_entry(&at, dir, &entry) {
                Ok((from_base, loaded)) => {
                    seen.add(&at, from_base, &mut resources, loaded, &mut problems);
                }
                Err(mut e) => problems.append(&mut e),
            }
            if resources.len() > MAX_OBJECTS {
                problems.push(too_many_objects(kustomization, &pointer));
                break;
            }
        }
        if problems.is_empty() {
            Ok(resources)
        } else {
            Err(problems)
        }
    }

    /// The objects of one `resources` entry: a base built, or a file's objects. The flag says
    /// which, as a repeated object is reported at the entry for a base.
    fn load_entry(
        &mut self,
        at: &Entry<'_>,
        dir: &str,
        entry: &str,
    ) -> Result<(bool, Vec<Resource>), Vec<Diagnostic>> {
        if super::remote::is_remote(entry) {
            return Err(vec![
                at.error(format!("remote resource `{entry}` is not supported"))
                    .expected("a file or directory path")
                    .hint("vendor the remote base into the repository"),
            ]);
        }
        let path = self.locate(dir, entry, false).map_err(|why| {
            vec![at.error(why.to_string()).expected("a path relative to the kustomization, inside the overlay root").hint("copy what it names into the overlay directory; railyard reads nothing outside it")]
        })?;
        if self.files.is_dir(&path) {
            if !FILE_NAMES
                .iter()
                .any(|name| self.files.is_file(&join(&path, name)))
            {
                return Err(vec![at.error(format!("directory `{entry}` holds no kustomization")).expected("a directory with a kustomization.yaml, or a file").hint("add a kustomization.yaml listing the directory's files, or list the files themselves")]);
            }
            let built = self.build_dir(&path, Some(at.error("")))?;
            Ok((true, built))
        } else if self.files.is_file(&path) {
            self.locate(dir, entry, true).map_err(|why| {
                vec![at.error(why.to_string()).expected("a resource file in or below the kustomization's directory").hint("as with kustomize, files come from the kustomization's own directory; reach other directories through their kustomization")]
            })?;
            Ok((false, self.load_resources(&path)?))
        } else {
            Err(vec![
                at.error(format!("resource `{entry}` does not exist"))
                    .expected(format!(
                        "a file or a directory with a kustomization, at `{path}`"
                    ))
                    .hint("check the path; it is relative to the kustomization's directory"),
            ])
        }
    }

    /// Charges the transformers' work before they run: each writes its strings into every
    /// object (labels at several places each), and `replicas` and `images` compare each entry
    /// with every object (`images` walking all of it).
    fn spend_on_transforms(
        &self,
        kustomization: &Kustomization,
        resources: &[Resource],
    ) -> Result<(), Vec<Diagnostic>> {
        let fields: [(&str, usize); 8] = [
            ("namespace", 1),
            ("namePrefix", 1),
            ("nameSuffix", 1),
            ("commonLabels", 8),
            ("labels", 8),
            ("commonAnnotations", 4),
            ("replicas", 1),
            ("images", 1),
        ];
        for (field, places) in fields {
            let Some(value) = kustomization.value(field) else {
                continue;
            };
            let per_object = match field {
                // every entry walks every object: charged below, by the objects' weight
                "images" => value.as_array().map_or(0, Vec::len),
                "replicas" => value.as_array().map_or(0, Vec::len) * 2,
                _ => KEEP * places * weight(value),
            };
            let mut steps = per_object.saturating_mul(resources.len());
            if field == "images" && per_object > 0 {
                // a walk that only looks for `containers` is cheap: a quarter step a node
                let total: usize = resources.iter().map(|r| weight(&r.object)).sum::<usize>() / 4;
                steps = steps.saturating_add(per_object.saturating_mul(total));
            }
            self.work.spend(steps).map_err(|_| {
                vec![too_much_work(
                    kustomization.tree.key_error(&format!("/{field}"), ""),
                )]
            })?;
        }
        Ok(())
    }
}

/// One entry of a kustomization's `resources`, for messages about it.
struct Entry<'a> {
    kustomization: &'a Kustomization,
    pointer: &'a str,
}

impl Entry<'_> {
    fn error(&self, message: impl Into<String>) -> Diagnostic {
        self.kustomization.error(self.pointer, message)
    }
}

type Identity = (String, String, String, String);

fn identity(r: &Resource) -> Identity {
    (
        r.group_version().0,
        r.kind(),
        r.namespace().unwrap_or_default(),
        r.name(),
    )
}

/// The identities of the objects gathered so far, to find one defined twice.
struct Identities(HashMap<Identity, usize>);

impl Identities {
    fn new(resources: &[Resource]) -> Identities {
        Identities(
            resources
                .iter()
                .enumerate()
                .map(|(i, r)| (identity(r), i))
                .collect(),
        )
    }

    /// Adds the objects one `resources` entry brought in, reporting any that is already there:
    /// at the object's document for a file, at the entry for a base.
    fn add(
        &mut self,
        at: &Entry<'_>,
        from_base: bool,
        resources: &mut Vec<Resource>,
        added: Vec<Resource>,
        problems: &mut Vec<Diagnostic>,
    ) {
        for resource in added {
            let key = identity(&resource);
            if let Some(&first) = self.0.get(&key) {
                let namespace = resource
                    .namespace()
                    .map(|ns| format!("{ns}/"))
                    .unwrap_or_default();
                let message = format!(
                    "`{} {namespace}{}` is defined twice (in `{}` and `{}`)",
                    resource.kind(),
                    resource.name(),
                    resources[first].file,
                    resource.file
                );
                let diagnostic = if from_base {
                    at.error(message)
                } else {
                    Diagnostic::error(&resource.file, resource.at, "", message)
                };
                problems.push(
                    diagnostic
                        .expected("each object once")
                        .hint("remove one, or patch the base's object instead of redefining it"),
                );
                continue;
            }
            self.0.insert(key, resources.len());
            resources.push(resource);
        }
    }
}
