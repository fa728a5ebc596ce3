//! Reading one kustomization: found in its directory, parsed, and its fields checked, with the
//! checks the step driver ([`super::steps`]) runs between steps.

use serde_json::Value as Json;

use super::resource::Resource;
use super::{Engine, join};
use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::limits::{MAX_NAME_BYTES, MAX_OBJECTS};
use crate::source::{SourceFile, Span};
use crate::suggest;
use crate::yaml;

pub(super) const FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

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
    "components",
    "replacements",
    "sortOptions",
    "buildMetadata",
];

/// Fields kustomize v5.5 knows that railyard refuses, each with what to do instead.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "configurations",
        "reach custom fields with `patches` (with a `target`) or `replacements`",
    ),
    (
        "crds",
        "reach fields of custom resources with `patches` (with a `target`) or `replacements`",
    ),
    (
        "generators",
        "use `configMapGenerator`/`secretGenerator`, or commit the generated objects and list them under `resources`",
    ),
    (
        "helmChartInflationGenerator",
        "render the chart with `helm template` and list the output under `resources`, or install it with a Flux HelmRelease",
    ),
    (
        "helmCharts",
        "render the chart with `helm template` and list the output under `resources`, or install it with a Flux HelmRelease",
    ),
    (
        "helmGlobals",
        "render the chart with `helm template` and list the output under `resources`, or install it with a Flux HelmRelease",
    ),
    ("imageTags", "use `images`, which replaced it"),
    (
        "openapi",
        "remove it; railyard merges with the built-in Kubernetes kinds' keys only",
    ),
    (
        "transformers",
        "plugins are not supported; use `patches`, `replacements` or the built-in fields",
    ),
    (
        "validators",
        "plugins are not supported; validate the output with `kubectl apply --dry-run=server` instead",
    ),
    (
        "vars",
        "use `replacements`, which replace `vars` in kustomize v5",
    ),
];

/// What railyard's overlay engine does with a kustomization field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSupport {
    /// Built as `kubectl kustomize` builds it.
    Supported,
    /// A field kustomize knows, refused at its line with this hint of what to do instead.
    Refused(&'static str),
    /// Not a kustomization field at all.
    Unknown,
}

/// What the engine does with the kustomization field `name`.
pub fn field_support(name: &str) -> FieldSupport {
    if SUPPORTED.contains(&name) {
        FieldSupport::Supported
    } else if let Some((_, hint)) = UNSUPPORTED.iter().find(|(field, _)| *field == name) {
        FieldSupport::Refused(hint)
    } else {
        FieldSupport::Unknown
    }
}

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

    /// Whether it is a `kind: Component`, which only `components:` may name.
    pub(super) fn is_component(&self) -> bool {
        self.value("kind").and_then(Json::as_str) == Some(COMPONENT_KIND)
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
    /// The kustomization in `dir`, parsed and checked.
    pub(super) fn load_kustomization(
        &mut self,
        dir: &str,
    ) -> Result<Kustomization, Vec<Diagnostic>> {
        let found: Vec<String> = FILE_NAMES
            .iter()
            .map(|name| join(dir, name))
            .filter(|p| self.files.is_file(p))
            .collect();
        if let [first, second, ..] = found.as_slice() {
            // kustomize: "Found multiple kustomization files under: DIR"
            return Err(vec![
                Diagnostic::error(
                    second,
                    Span::default(),
                    "",
                    format!(
                        "`{dir}` holds more than one kustomization file: `{first}` and `{second}`"
                    ),
                )
                .expected("one of kustomization.yaml, kustomization.yml, Kustomization")
                .hint("keep one; kustomize refuses to choose"),
            ]);
        }
        let Some(path) = found.into_iter().next() else {
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
        let mut problems = check_fields(&kustomization);
        problems.extend(check_kind(&kustomization));
        problems.extend(check_not_empty(&kustomization));
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
}

/// A kustomization is a mapping of the fields railyard supports; any other field is an error,
/// one kustomize knows said so apart from one it does not.
fn check_fields(kustomization: &Kustomization) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let Some(map) = kustomization.tree.value.as_object() else {
        if kustomization.tree.value != Json::Null {
            problems.push(kustomization.error("", "a kustomization must be a mapping"));
        }
        return problems;
    };
    for key in map.keys() {
        let pointer = format!("/{key}");
        if let FieldSupport::Refused(hint) = field_support(key) {
            problems.push(
                kustomization
                    .tree
                    .key_error(
                        &pointer,
                        format!("`{key}` is not supported by railyard's overlay engine"),
                    )
                    .expected(format!("only {}", SUPPORTED.join(", ")))
                    .hint(format!("{hint}; railyard never ignores a field")),
            );
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
    problems
}

/// The kinds a kustomization file may declare, each with the one apiVersion kustomize accepts
/// for it (`EnforceFields` in kustomize's `api/types/kustomization.go`); both may be left out.
const KINDS: [(&str, &str); 2] = [
    ("Kustomization", "kustomize.config.k8s.io/v1beta1"),
    (COMPONENT_KIND, "kustomize.config.k8s.io/v1alpha1"),
];

const COMPONENT_KIND: &str = "Component";

/// A `kind` other than Kustomization or Component, or an `apiVersion` that is not the one of
/// its kind, is an error, as in kustomize.
fn check_kind(kustomization: &Kustomization) -> Vec<Diagnostic> {
    let text = |key: &str| match kustomization.value(key) {
        None | Some(Json::Null) => Some(String::new()),
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => None,
    };
    let Some(kind) = text("kind") else {
        return vec![
            kustomization
                .error("/kind", "`kind` is not a string")
                .expected("`Kustomization` or `Component`")
                .hint("write `kind: Kustomization`"),
        ];
    };
    let kind = if kind.is_empty() {
        KINDS[0].0.to_owned()
    } else {
        kind
    };
    let Some((_, version)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        return vec![kustomization.error("/kind", format!("`kind` is `{kind}`")).expected("`Kustomization` or `Component`").hint("a kustomization file is a Kustomization, or a Component listed under `components:`")];
    };
    match text("apiVersion") {
        Some(api) if api.is_empty() || api == *version => Vec::new(),
        _ => vec![
            kustomization
                .error(
                    "/apiVersion",
                    format!("the apiVersion of a {kind} is not `{version}`"),
                )
                .expected(format!("`{version}`"))
                .hint(format!("write `apiVersion: {version}`, or leave it out")),
        ],
    }
}

/// kustomize refuses a kustomization that sets nothing but `apiVersion` and `kind`
/// (`CheckEmpty`): a field left null or `""` is its zero value, so it sets nothing.
fn check_not_empty(kustomization: &Kustomization) -> Option<Diagnostic> {
    let map = kustomization.tree.value.as_object();
    let sets_something = map.is_some_and(|map| {
        map.iter().any(|(key, value)| {
            key != "apiVersion" && key != "kind" && !value.is_null() && value.as_str() != Some("")
        })
    });
    if sets_something || map.is_none() && !kustomization.tree.value.is_null() {
        return None;
    }
    Some(
        kustomization
            .error("", format!("`{}` is empty", kustomization.path))
            .expected(
                "a kustomization that sets at least one field besides `apiVersion` and `kind`",
            )
            .hint("list its `resources`, or remove the directory from where it is used"),
    )
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
        let yaml11_bool = crate::yaml::scalar::is_yaml11_bool(raw);
        let found = match &value {
            Json::String(_) if yaml11_bool => "a YAML 1.1 boolean",
            // kustomize unmarshals a null into the field's zero value: as if it were absent
            Json::String(_) | Json::Null => continue,
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
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

pub(super) fn too_many_objects(kustomization: &Kustomization, pointer: &str) -> Diagnostic {
    kustomization
        .tree
        .key_error(pointer, "the overlay holds too many objects")
        .expected(format!("at most {MAX_OBJECTS} objects in one build"))
        .hint(
            "split the overlay; railyard overlays adjust a site, they do not carry whole platforms",
        )
}

/// The first identifying field of `object` longer than [`MAX_NAME_BYTES`].
pub(super) fn long_name(object: &Json) -> Option<&'static str> {
    [
        ("apiVersion", "/apiVersion"),
        ("kind", "/kind"),
        ("metadata.name", "/metadata/name"),
        ("metadata.namespace", "/metadata/namespace"),
    ]
    .into_iter()
    .find(|(_, pointer)| {
        super::resource::str_at(object, pointer).is_some_and(|s| s.len() > MAX_NAME_BYTES)
    })
    .map(|(field, _)| field)
}

/// Names after `namespace`, `namePrefix` and `nameSuffix`: none longer than [`MAX_NAME_BYTES`].
/// `steps` are the fields that may have made a name long, the first present blamed.
pub(super) fn check_names(
    kustomization: &Kustomization,
    resources: &[Resource],
    steps: &[&str],
) -> Result<(), Vec<Diagnostic>> {
    let Some(resource) = resources.iter().find(|r| long_name(&r.object).is_some()) else {
        return Ok(());
    };
    let field = long_name(&resource.object).unwrap_or_default();
    let at = steps
        .iter()
        .find(|k| kustomization.value(k).is_some())
        .map_or(String::new(), |k| format!("/{k}"));
    Err(vec![
        kustomization
            .tree
            .key_error(
                &at,
                format!(
                    "`{field}` of {} `{}` becomes too long",
                    resource.kind(),
                    resource.original.0
                ),
            )
            .expected(format!("at most {MAX_NAME_BYTES} bytes"))
            .hint("Kubernetes names are at most 253 characters"),
    ])
}

/// Two resources with the same apiVersion, kind, namespace and name are an error.
pub(super) fn check_unique(
    kustomization: &Kustomization,
    resources: &[Resource],
) -> Result<(), Vec<Diagnostic>> {
    let mut seen = std::collections::HashMap::with_capacity(resources.len());
    for resource in resources {
        let id = resource.identity();
        if let Some(first) = seen.insert(id, resource.file.as_str()) {
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
