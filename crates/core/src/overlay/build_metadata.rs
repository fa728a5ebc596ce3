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
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// What the top kustomization's `buildMetadata` switches on. kustomize reads only the top
/// one's (it hands it down to every base) and ignores words it does not know.
#[derive(Clone, Debug, Default)]
pub(super) struct BuildMetadata {
    pub(super) origin: bool,
    pub(super) managed_by: bool,
}

impl BuildMetadata {
    /// The switches of `kustomization`, or why they are refused: a list of strings, and not
    /// `transformerAnnotations`, whose one entry per transformer run railyard does not record.
    pub(super) fn read(kustomization: &Kustomization) -> Result<BuildMetadata, Vec<Diagnostic>> {
        let mut metadata = BuildMetadata::default();
        let items = match kustomization.value("buildMetadata") {
            None | Some(Json::Null) => return Ok(metadata),
            Some(Json::Array(items)) => items,
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
                Some("transformerAnnotations") => {
                    return Err(vec![kustomization
                        .error(&pointer, "`transformerAnnotations` is not supported by railyard's overlay engine")
                        .expected("`originAnnotations` or `managedByLabel`")
                        .hint("remove it; railyard never ignores a field, and does not record which transformer touched an object")]);
                }
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
        if self.metadata.origin {
            let origin = json!({ "path": relative(&self.top, path) });
            annotate(&mut resource.object, &origin);
        }
    }

    /// Annotates a generated object with the kustomization and generator that made it.
    pub(super) fn mark_generated(
        &self,
        resource: &mut Resource,
        kustomization: &Kustomization,
        kind: &str,
    ) {
        if self.metadata.origin {
            let origin = json!({
                "configuredIn": relative(&self.top, &kustomization.path),
                "configuredBy": { "apiVersion": "builtin", "kind": format!("{kind}Generator") },
            });
            annotate(&mut resource.object, &origin);
        }
    }
}

/// The origin as kustomize writes it: a YAML document in the annotation's value, once.
fn annotate(object: &mut Json, origin: &Json) {
    let Some(metadata) = object.get_mut("metadata").and_then(Json::as_object_mut) else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(annotations) = annotations {
        annotations
            .entry(ORIGIN_ANNOTATION)
            .or_insert_with(|| Json::String(crate::emit::document(origin)));
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
