//! Reading one kustomization: its fields checked, its resources and bases loaded, then its
//! generators and transformers run over them, in kustomize's order.

use serde_json::Value as Json;

use super::resource::Resource;
use super::{Engine, generators, join, patch, transform};
use crate::core::diagnostic::Diagnostic;
use crate::core::json_tree::JsonTree;
use crate::core::source::{SourceFile, Span};
use crate::core::suggest;
use crate::core::yaml;

const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Most kustomizations one build may build, counting a base once for each place that includes
/// it: bases that include two bases each, a few levels deep, otherwise take exponential time.
pub(super) const MAX_BUILDS: usize = 1_000;

/// Most objects one kustomization may hold, for the same reason.
pub(super) const MAX_OBJECTS: usize = 10_000;

const SUPPORTED: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
];

const UNSUPPORTED: &[&str] = &[
    "buildMetadata",
    "components",
    "configurations",
    "crds",
    "generators",
    "helmChartInflationGenerator",
    "helmCharts",
    "helmGlobals",
    "openapi",
    "replacements",
    "sortOptions",
    "transformers",
    "validators",
    "vars",
];

/// One kustomization file, parsed, with positions for messages.
pub(super) struct Kustomization {
    pub(super) dir: String,
    pub(super) path: String,
    pub(super) tree: JsonTree,
}

impl Kustomization {
    pub(super) fn value(&self, key: &str) -> Option<&Json> {
        self.tree.value.get(key)
    }

    /// An error at the value of `pointer` in this kustomization.
    pub(super) fn error(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        self.tree.value_error(pointer, message)
    }

    /// A list of strings at `key`, with the pointer of each.
    pub(super) fn strings(&self, key: &str) -> Vec<(String, String)> {
        self.value(key)
            .and_then(Json::as_array)
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.as_str().map(|s| (s.to_owned(), format!("/{key}/{i}"))))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Engine<'_> {
    fn load_kustomization(&mut self, dir: &str) -> Result<Kustomization, Vec<Diagnostic>> {
        let Some(path) = FILE_NAMES
            .iter()
            .map(|name| join(dir, name))
            .find(|p| self.files.is_file(p))
        else {
            return Err(vec![
                Diagnostic::error(
                    dir,
                    Span::default(),
                    "",
                    format!("no kustomization in `{dir}`"),
                )
                .expected("a `kustomization.yaml`")
                .hint("point at a directory that holds a kustomization.yaml"),
            ]);
        };
        let text = self.read(&path).map_err(|why| {
            vec![Diagnostic::error(
                &path,
                Span::default(),
                "",
                format!("cannot read `{path}`: {why}"),
            )]
        })?;
        let file = SourceFile::new(path.clone(), text);
        let (documents, diagnostics) = yaml::parse_stream(&file);
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let root = documents.first().cloned().unwrap_or(yaml::Node {
            span: Span::default(),
            value: yaml::Value::Map(Vec::new()),
        });
        let tree = JsonTree::new(&path, &root);
        let kustomization = Kustomization {
            dir: dir.to_owned(),
            path,
            tree,
        };
        let mut problems = Vec::new();
        if let Some(map) = kustomization.tree.value.as_object() {
            for key in map.keys() {
                let pointer = format!("/{key}");
                if UNSUPPORTED.contains(&key.as_str()) {
                    problems.push(kustomization.tree.key_error(&pointer, format!("`{key}` is not supported by railyard's overlay engine")).expected(format!("only {}", SUPPORTED.join(", "))).hint("render it with kustomize outside railyard, or express it with patches; railyard never ignores a field"));
                } else if !SUPPORTED.contains(&key.as_str()) {
                    let hint = suggest::hint(key, SUPPORTED, || {
                        "remove it; kustomize would reject it too".to_owned()
                    });
                    problems.push(
                        kustomization
                            .tree
                            .key_error(
                                &pointer,
                                format!("unknown field `{key}` in a kustomization"),
                            )
                            .expected(format!("one of {}", SUPPORTED.join(", ")))
                            .hint(hint),
                    );
                }
            }
        } else if kustomization.tree.value != Json::Null {
            problems.push(kustomization.error("", "a kustomization must be a mapping"));
        }
        let source = self
            .texts
            .get(&kustomization.path)
            .map_or("", String::as_str);
        problems.extend(check_strings(&kustomization, source));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(kustomization)
    }

    /// Builds the kustomization in `dir` without hashes and name references (done at the top).
    pub(super) fn build_dir(
        &mut self,
        dir: &str,
        referenced_at: Option<Diagnostic>,
    ) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        if self.stack.contains(&dir.to_owned()) {
            let chain = self
                .stack
                .iter()
                .chain(std::iter::once(&dir.to_owned()))
                .cloned()
                .collect::<Vec<_>>()
                .join(" → ");
            let at =
                referenced_at.unwrap_or_else(|| Diagnostic::error(dir, Span::default(), "", ""));
            return Err(vec![
                Diagnostic {
                    message: format!("kustomizations include each other: {chain}"),
                    ..at
                }
                .expected("bases that do not refer back")
                .hint("remove the reference that closes the cycle"),
            ]);
        }
        self.builds += 1;
        if self.builds > MAX_BUILDS {
            let at =
                referenced_at.unwrap_or_else(|| Diagnostic::error(dir, Span::default(), "", ""));
            return Err(vec![
                Diagnostic {
                    message: format!(
                        "the build needs more than {MAX_BUILDS} kustomizations, counting a base once for each place that includes it"
                    ),
                    ..at
                }
                .expected(format!("at most {MAX_BUILDS} kustomization builds"))
                .hint("include each base from fewer places"),
            ]);
        }
        let kustomization = self.load_kustomization(dir)?;
        self.stack.push(dir.to_owned());
        let mut resources = self.base.take().unwrap_or_default();
        let mut problems = Vec::new();
        let entries: Vec<(String, String)> = kustomization
            .strings("resources")
            .into_iter()
            .chain(kustomization.strings("bases"))
            .collect();
        for (entry, pointer) in entries {
            if entry.contains("://") || entry.starts_with("github.com/") {
                problems.push(
                    kustomization
                        .error(
                            &pointer,
                            format!("remote resource `{entry}` is not supported"),
                        )
                        .expected("a file or directory path")
                        .hint("vendor the remote base into the repository"),
                );
                continue;
            }
            if entry.starts_with('/') {
                problems.push(kustomization.error(&pointer, format!("absolute path `{entry}`")).expected("a path relative to the kustomization").hint("kustomize resolves resources relative to the kustomization's directory"));
                continue;
            }
            let path = join(dir, &entry);
            if self.files.is_dir(&path) {
                if !FILE_NAMES
                    .iter()
                    .any(|name| self.files.is_file(&join(&path, name)))
                {
                    problems.push(kustomization.error(&pointer, format!("directory `{entry}` holds no kustomization")).expected("a directory with a kustomization.yaml, or a file").hint("add a kustomization.yaml listing the directory's files, or list the files themselves"));
                    continue;
                }
                match self.build_dir(&path, Some(kustomization.error(&pointer, ""))) {
                    Ok(built) => add_unique(
                        &kustomization,
                        &pointer,
                        true,
                        &mut resources,
                        built,
                        &mut problems,
                    ),
                    Err(mut e) => problems.append(&mut e),
                }
            } else if self.files.is_file(&path) {
                match self.load_resources(&path) {
                    Ok(loaded) => add_unique(
                        &kustomization,
                        &pointer,
                        false,
                        &mut resources,
                        loaded,
                        &mut problems,
                    ),
                    Err(mut e) => problems.append(&mut e),
                }
            } else {
                problems.push(
                    kustomization
                        .error(&pointer, format!("resource `{entry}` does not exist"))
                        .expected(format!(
                            "a file or a directory with a kustomization, at `{path}`"
                        ))
                        .hint("check the path; it is relative to the kustomization's directory"),
                );
            }
            if resources.len() > MAX_OBJECTS {
                problems.push(
                    kustomization
                        .error(
                            &pointer,
                            format!("the kustomization holds more than {MAX_OBJECTS} objects"),
                        )
                        .expected(format!("at most {MAX_OBJECTS} objects"))
                        .hint("include each base from fewer places"),
                );
                break;
            }
        }
        self.stack.pop();
        if !problems.is_empty() {
            return Err(problems);
        }
        check_unique(&kustomization, &resources)?;
        generators::run(self, &kustomization, &mut resources)?;
        check_unique(&kustomization, &resources)?;
        patch::strategic_merge_files(self, &kustomization, &mut resources)?;
        patch::patches(self, &kustomization, &mut resources)?;
        transform::namespace(&kustomization, &mut resources);
        transform::prefix_suffix(&kustomization, &mut resources);
        transform::labels(&kustomization, &mut resources)?;
        transform::annotations(&kustomization, &mut resources)?;
        patch::json6902_files(self, &kustomization, &mut resources)?;
        transform::replicas(&kustomization, &mut resources)?;
        transform::images(&kustomization, &mut resources)?;
        Ok(resources)
    }

    /// Every object of a YAML file (`List` objects unpacked).
    pub(super) fn load_resources(&mut self, path: &str) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        let text = self.read(path).map_err(|why| {
            vec![Diagnostic::error(
                path,
                Span::default(),
                "",
                format!("cannot read `{path}`: {why}"),
            )]
        })?;
        let file = SourceFile::new(path, text);
        let (documents, diagnostics) = yaml::parse_stream(&file);
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let mut resources = Vec::new();
        let mut problems = Vec::new();
        for document in documents.iter().filter(|d| d.value != yaml::Value::Null) {
            let tree = JsonTree::new(path, document);
            let objects = match tree.value.get("kind").and_then(Json::as_str) {
                Some("List") => tree
                    .value
                    .get("items")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default(),
                _ => vec![tree.value.clone()],
            };
            for object in objects {
                let missing: Vec<&str> = ["/apiVersion", "/kind", "/metadata/name"]
                    .into_iter()
                    .filter(|p| {
                        object
                            .pointer(p)
                            .and_then(Json::as_str)
                            .is_none_or(str::is_empty)
                    })
                    .collect();
                if !missing.is_empty() {
                    let fields = missing
                        .iter()
                        .map(|p| format!("`{}`", p.trim_start_matches('/').replace('/', ".")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    problems.push(
                        tree.value_error("", format!("a resource without {fields}"))
                            .expected("a Kubernetes object with apiVersion, kind and metadata.name")
                            .hint("every document of a resource file must be one object"),
                    );
                    continue;
                }
                let mut resource = Resource::new(object, path);
                resource.at = Span::new(document.span.start, document.span.start);
                resources.push(resource);
            }
        }
        if problems.is_empty() {
            Ok(resources)
        } else {
            Err(problems)
        }
    }
}

/// Fields kustomize reads as strings. kustomize reads a kustomization as YAML 1.1, so a plain
/// `yes`, `no`, `on` or `off` is a boolean there, and an error, even though resources read
/// them as strings.
fn check_strings(kustomization: &Kustomization, source: &str) -> Vec<Diagnostic> {
    let mut pointers: Vec<String> = ["/namespace", "/namePrefix", "/nameSuffix"]
        .iter()
        .filter(|p| kustomization.tree.value.pointer(p).is_some())
        .map(|p| (*p).to_owned())
        .collect();
    let mut maps = vec!["/commonLabels".to_owned(), "/commonAnnotations".to_owned()];
    if let Some(Json::Array(groups)) = kustomization.value("labels") {
        maps.extend((0..groups.len()).map(|i| format!("/labels/{i}/pairs")));
    }
    for map in maps {
        if let Some(Json::Object(pairs)) = kustomization.tree.value.pointer(&map) {
            pointers.extend(
                pairs
                    .keys()
                    .map(|k| format!("{map}/{}", k.replace('~', "~0").replace('/', "~1"))),
            );
        }
    }
    let mut problems = Vec::new();
    for pointer in pointers {
        let value = kustomization
            .tree
            .value
            .pointer(&pointer)
            .cloned()
            .unwrap_or(Json::Null);
        let span = kustomization.tree.value_span(&pointer);
        let raw = source.get(span.start..span.end).unwrap_or_default();
        let yaml11_bool = matches!(
            raw,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
        );
        let found = match &value {
            Json::String(_) if yaml11_bool => "a YAML 1.1 boolean",
            Json::String(_) => continue,
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::Null => "null",
            _ => "a list or mapping",
        };
        problems.push(
            kustomization
                .error(
                    &pointer,
                    format!(
                        "`{}` is {found} (`{raw}`), not a string",
                        kustomization.tree.yaml_path(&pointer)
                    ),
                )
                .expected("a string")
                .hint(format!(
                    "quote it: `\"{raw}\"`; kustomize reads kustomizations as YAML 1.1"
                )),
        );
    }
    problems
}

/// Adds the objects one `resources` entry brought in, reporting any that is already there: at
/// the object's document for a file, at the entry for a base.
fn add_unique(
    kustomization: &Kustomization,
    pointer: &str,
    from_base: bool,
    resources: &mut Vec<Resource>,
    added: Vec<Resource>,
    problems: &mut Vec<Diagnostic>,
) {
    let id = |r: &Resource| {
        (
            r.group_version().0,
            r.kind(),
            r.namespace().unwrap_or_default(),
            r.name(),
        )
    };
    let mut seen: std::collections::HashMap<_, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (id(r), i))
        .collect();
    for resource in added {
        let key = id(&resource);
        if let Some(&first) = seen.get(&key) {
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
                kustomization.error(pointer, message)
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
        seen.insert(key, resources.len());
        resources.push(resource);
    }
}

/// Two resources with the same apiVersion, kind, namespace and name are an error.
fn check_unique(
    kustomization: &Kustomization,
    resources: &[Resource],
) -> Result<(), Vec<Diagnostic>> {
    let mut seen = std::collections::HashMap::new();
    for resource in resources {
        let id = (
            resource.group_version().0,
            resource.kind(),
            resource.namespace().unwrap_or_default(),
            resource.name(),
        );
        if let Some(first) = seen.insert(id.clone(), resource.file.clone()) {
            let namespace = if id.2.is_empty() {
                String::new()
            } else {
                format!("{}/", id.2)
            };
            return Err(vec![
                Diagnostic::error(
                    &kustomization.path,
                    Span::default(),
                    "",
                    format!(
                        "`{} {namespace}{}` is defined twice (in `{first}` and `{}`)",
                        id.1, id.3, resource.file
                    ),
                )
                .expected("each object once")
                .hint("remove one, or patch the base's object instead of redefining it"),
            ]);
        }
    }
    Ok(())
}
