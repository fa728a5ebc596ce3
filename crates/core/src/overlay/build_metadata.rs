//! `buildMetadata` of the top kustomization: where each object came from
//! (`config.kubernetes.io/origin`) and who built it (`app.kubernetes.io/managed-by`), written
//! as kustomize v5.5.0 writes them (`api/internal/target/kusttarget.go`,
//! `api/resource/origin.go`, `api/krusty/kustomizer.go`).

use serde_json::{Map, Value as Json, json};

use super::kustomization::Kustomization;
use super::resource::Resource;
use super::sort_options::SortOrder;
use super::{Engine, normalize};
use crate::defaults::KUSTOMIZE_MANAGED_BY;
use crate::diagnostic::Diagnostic;

const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// What the top kustomization's `buildMetadata` switches on. kustomize reads only the top
/// one's (it hands it down to every base) and ignores words it does not know; any entry at
/// all turns tracking on, and what was not asked for is removed at the end.
#[derive(Clone, Debug, Default)]
pub(super) struct BuildMetadata {
    pub(super) track: bool,
    pub(super) origin: bool,
    pub(super) transformers: bool,
    pub(super) managed_by: bool,
}

impl BuildMetadata {
    /// The switches of `kustomization`, or why they are refused: a list of strings.
    pub(super) fn read(kustomization: &Kustomization) -> Result<BuildMetadata, Vec<Diagnostic>> {
        let mut metadata = BuildMetadata::default();
        let items = match kustomization.value("buildMetadata") {
            None | Some(Json::Null) => return Ok(metadata),
            Some(Json::Array(items)) => {
                metadata.track = !items.is_empty();
                items
            }
            Some(_) => {
                return Err(vec![
                    kustomization
                        .error("/buildMetadata", "`buildMetadata` is not a list")
                        .expected("a list of `originAnnotations`, `managedByLabel`")
                        .hint("write `buildMetadata: [originAnnotations]`"),
                ]);
            }
        };
        for (index, item) in items.iter().enumerate() {
            let pointer = format!("/buildMetadata/{index}");
            match item.as_str() {
                Some("originAnnotations") => metadata.origin = true,
                Some("managedByLabel") => metadata.managed_by = true,
                Some("transformerAnnotations") => metadata.transformers = true,
                Some(_) => {}
                None => {
                    return Err(vec![
                        kustomization
                            .error(&pointer, "a `buildMetadata` entry is not a string")
                            .expected("`originAnnotations` or `managedByLabel`")
                            .hint("write each entry as a plain word"),
                    ]);
                }
            }
        }
        Ok(metadata)
    }
}

impl Engine<'_> {
    /// Reads what only the top kustomization decides: `buildMetadata` and `sortOptions`.
    pub(super) fn read_top_options(
        &mut self,
        kustomization: &Kustomization,
    ) -> Result<(), Vec<Diagnostic>> {
        self.metadata = BuildMetadata::read(kustomization)?;
        self.order = SortOrder::read(kustomization)?;
        Ok(())
    }

    /// Annotates an object read from the file `path` with where it came from, as a path from
    /// the top kustomization's directory (kustomize joins the entries that led to it, which
    /// comes to the same).
    pub(super) fn mark_read(&self, resource: &mut Resource, path: &str) {
        if self.metadata.track {
            let origin = json!({ "path": relative(&self.top, path) });
            // kustomize's `AnnotateAll`: a file's own origin annotation is replaced
            set_annotation(
                &mut resource.object,
                ORIGIN_ANNOTATION,
                document(&origin),
                true,
            );
        }
    }

    /// Annotates a generated object with the kustomization and generator that made it.
    pub(super) fn mark_generated(
        &self,
        resource: &mut Resource,
        kustomization: &Kustomization,
        kind: &str,
    ) {
        if self.metadata.track {
            let origin = builtin_origin(
                &relative(&self.top, &kustomization.path),
                &format!("{kind}Generator"),
            );
            // kustomize's `AddOriginAnnotation` keeps an origin already there
            set_annotation(
                &mut resource.object,
                ORIGIN_ANNOTATION,
                document(&origin),
                false,
            );
        }
    }

    /// kustomize's `multiTransformer`: after each transformer the kustomization configures,
    /// its origin is recorded on every object present (as a transformation, or as the origin
    /// of an object that has none). Recorded once the transformers have run, in their order:
    /// they add and remove no object but through `$patch: delete`, whose objects are gone.
    pub(super) fn mark_transformed(
        &self,
        kustomization: &Kustomization,
        resources: &mut [Resource],
    ) {
        if !self.metadata.track {
            return;
        }
        let configured_in = relative(&self.top, &kustomization.path);
        let origins: Vec<Json> = configured_transformers(kustomization)
            .into_iter()
            .map(|kind| builtin_origin(&configured_in, kind))
            .collect();
        if origins.is_empty() {
            return;
        }
        let annotation = |key: &str| format!("/metadata/annotations/{}", key.replace('/', "~1"));
        for resource in resources {
            let mut rest = origins.as_slice();
            if resource
                .object
                .pointer(&annotation(ORIGIN_ANNOTATION))
                .is_none()
            {
                // an object without an origin takes the first transformer's, as if it made it
                let origin = document(&rest[0]);
                set_annotation(&mut resource.object, ORIGIN_ANNOTATION, origin, true);
                rest = &rest[1..];
            }
            if rest.is_empty() {
                continue;
            }
            let mut all = resource
                .object
                .pointer(&annotation(TRANSFORMATIONS_ANNOTATION))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned();
            all.extend(rest.iter().map(|origin| document(&json!([origin]))));
            set_annotation(&mut resource.object, TRANSFORMATIONS_ANNOTATION, all, true);
        }
    }
}

/// The transformers kustomize configures for `kustomization`, in the order they run, one per
/// instance (`configureBuiltinTransformers` in `kusttarget_configplugin.go`).
fn configured_transformers(kustomization: &Kustomization) -> Vec<&'static str> {
    let count = |key: &str| {
        kustomization
            .value(key)
            .and_then(Json::as_array)
            .map_or(0, Vec::len)
    };
    let set = |key: &str| match kustomization.value(key) {
        Some(Json::String(s)) => !s.is_empty(),
        Some(Json::Object(map)) => !map.is_empty(),
        Some(Json::Array(items)) => !items.is_empty(),
        _ => false,
    };
    let labels = if set("labels") || set("commonLabels") {
        count("labels") + 1
    } else {
        0
    };
    [
        (
            "PatchStrategicMergeTransformer",
            usize::from(set("patchesStrategicMerge")),
        ),
        ("PatchTransformer", count("patches")),
        ("NamespaceTransformer", usize::from(set("namespace"))),
        ("PrefixTransformer", usize::from(set("namePrefix"))),
        ("SuffixTransformer", usize::from(set("nameSuffix"))),
        ("LabelTransformer", labels),
        (
            "AnnotationsTransformer",
            usize::from(set("commonAnnotations")),
        ),
        ("PatchJson6902Transformer", count("patchesJson6902")),
        ("ReplicaCountTransformer", count("replicas")),
        ("ImageTagTransformer", count("images")),
        ("ReplacementTransformer", usize::from(set("replacements"))),
    ]
    .into_iter()
    .flat_map(|(kind, n)| std::iter::repeat_n(kind, n))
    .collect()
}

/// The origin of something a built-in generator or transformer configured in `configured_in`.
fn builtin_origin(configured_in: &str, kind: &str) -> Json {
    json!({
        "configuredIn": configured_in,
        "configuredBy": { "apiVersion": "builtin", "kind": kind },
    })
}

/// A value as kyaml marshals it into these annotations: a YAML document.
fn document(value: &Json) -> String {
    crate::emit::document(value)
}

/// Sets an annotation, or only adds it when `replace` is false.
fn set_annotation(object: &mut Json, key: &str, value: String, replace: bool) {
    let Some(metadata) = object.get_mut("metadata").and_then(Json::as_object_mut) else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(annotations) = annotations {
        if replace || !annotations.contains_key(key) {
            annotations.insert(key.to_owned(), Json::String(value));
        }
    }
}

/// kustomize's last steps: the origin and transformation annotations are removed from every
/// object unless asked for (a resource's own copies too, with or without `buildMetadata`).
pub(super) fn clean_up(metadata: &BuildMetadata, resources: &mut [Resource]) {
    for resource in resources {
        let Some(Json::Object(object_metadata)) = resource.object.get_mut("metadata") else {
            continue;
        };
        let Some(Json::Object(annotations)) = object_metadata.get_mut("annotations") else {
            continue;
        };
        let mut removed = false;
        if !metadata.origin {
            removed |= annotations.remove(ORIGIN_ANNOTATION).is_some();
        }
        if !metadata.transformers {
            removed |= annotations.remove(TRANSFORMATIONS_ANNOTATION).is_some();
        }
        // kyaml drops a mapping of annotations it emptied
        if removed && annotations.is_empty() {
            object_metadata.remove("annotations");
        }
    }
}

/// kustomize's last step for `managedByLabel`: the label on every object's metadata, after
/// the output order is settled.
pub(super) fn label_managed_by(metadata: &BuildMetadata, resources: &mut [Resource]) {
    if !metadata.managed_by {
        return;
    }
    for resource in resources {
        let Some(object) = resource
            .object
            .get_mut("metadata")
            .and_then(Json::as_object_mut)
        else {
            continue;
        };
        let labels = object
            .entry("labels")
            .or_insert_with(|| Json::Object(Map::new()));
        if !labels.is_object() {
            *labels = Json::Object(Map::new());
        }
        if let Json::Object(labels) = labels {
            labels.insert(
                MANAGED_BY_LABEL.to_owned(),
                Json::String(KUSTOMIZE_MANAGED_BY.to_owned()),
            );
        }
    }
}

/// `path` as seen from the directory `from`, both normalised paths of one namespace.
pub(super) fn relative(from: &str, path: &str) -> String {
    let parts = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_owned)
            .collect()
    };
    let (from, path) = (parts(&normalize(from)), parts(&normalize(path)));
    let common = from.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_owned(); from.len() - common];
    out.extend(path[common..].iter().cloned());
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn relative_paths_climb_out_of_the_top_directory() {
        assert_eq!(relative(".", "sub/d.yaml"), "sub/d.yaml");
        assert_eq!(relative("a/overlay", "a/base/d.yaml"), "../base/d.yaml");
        assert_eq!(relative("a", "a/kustomization.yaml"), "kustomization.yaml");
        assert_eq!(relative("/r/a", "/r/b/c.yaml"), "../b/c.yaml");
    }
}
