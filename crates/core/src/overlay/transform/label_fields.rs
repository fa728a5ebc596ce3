//! `labels[].fields`: more places a `labels` entry writes its pairs, each a kustomize field
//! spec (`group`, `version`, `kind` selecting objects, `path` with `[]` for lists, `create`).
//! kustomize merges them before the entry's built-in places (`LabelTransformer` in
//! `api/internal/target/kusttarget_configplugin.go` at v5.5.0).

use serde_json::Value as Json;

use super::super::kustomization::Kustomization;
use super::super::resource::Resource;
use crate::diagnostic::Diagnostic;

/// One field spec a kustomization wrote.
pub(in crate::overlay) struct FieldSpec {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    path: String,
    create: bool,
}

/// The field specs of `labels[index]`, or why one is refused.
pub(in crate::overlay) fn read(
    kustomization: &Kustomization,
    index: usize,
    set: &Json,
) -> Result<Vec<FieldSpec>, Vec<Diagnostic>> {
    let pointer = format!("/labels/{index}/fields");
    let specs = match set.get("fields") {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(specs)) => specs,
        Some(_) => {
            return Err(vec![
                kustomization
                    .error(&pointer, "`fields` is not a list")
                    .expected("a list of field specs, such as `- path: spec/selector`")
                    .hint("write each field as `path:`, with `kind:` to choose the objects"),
            ]);
        }
    };
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let text = |key: &str| spec.get(key).and_then(Json::as_str).map(str::to_owned);
            let path = text("path").filter(|p| !p.is_empty()).ok_or_else(|| {
                vec![
                    kustomization
                        .error(&format!("{pointer}/{i}"), "a field spec needs a `path`")
                        .expected("a mapping with `path:` (and `kind:`, `group:`, `version:`, `create:`)")
                        .hint("write the path with `/` between keys, such as `spec/selector/matchLabels`"),
                ]
            })?;
            Ok(FieldSpec {
                group: text("group"),
                version: text("version"),
                kind: text("kind"),
                path,
                create: spec.get("create").and_then(Json::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

/// The (path, create) of each spec that selects `resource`: every field it gives must match.
pub(in crate::overlay) fn for_resource(
    specs: &[FieldSpec],
    resource: &Resource,
) -> Vec<(String, bool)> {
    let (group, version) = resource.group_version();
    let kind = resource.kind();
    let matches = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    specs
        .iter()
        .filter(|s| {
            matches(&s.group, &group) && matches(&s.version, &version) && matches(&s.kind, &kind)
        })
        .map(|s| (s.path.clone(), s.create))
        .collect()
}
