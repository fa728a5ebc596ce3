//! The site JSON Schema: generated from the serde types, and checked against parsed YAML.
//!
//! jsonschema finds the structural problems; this module turns each into a diagnostic at the
//! offending key or value, with "did you mean" for near misses.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value as Json;

use crate::core::diagnostic::Diagnostic;
use crate::core::json_tree::JsonTree;
use crate::core::site::SiteFile;
use crate::core::suggest::did_you_mean;

/// Where the published schema is reachable for editors.
pub const SCHEMA_ID: &str = "https://railyard.dev/schema/v1alpha1/site.schema.json";

/// The site JSON Schema (draft 2020-12), self-contained, as pretty JSON with a final newline.
pub fn site_schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(site_schema()).expect("a JSON value always serialises");
    text.push('\n');
    text
}

/// The site JSON Schema as a value, generated once per process.
pub fn site_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let settings =
            schemars::generate::SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true);
        let schema = settings.into_generator().into_root_schema_for::<SiteFile>();
        let mut value = schema.to_value();
        strip_nullable(&mut value);
        if let Json::Object(map) = &mut value {
            map.insert("$id".to_owned(), Json::String(SCHEMA_ID.to_owned()));
        }
        value
    })
}

/// Optional fields are "absent", never `null`: drop the `null` alternatives schemars adds so
/// editors and messages speak of the real type.
fn strip_nullable(value: &mut Json) {
    match value {
        Json::Object(map) => {
            if let Some(Json::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_owned(), only);
                }
            }
            if let Some(Json::Array(alternatives)) = map.get("anyOf") {
                let rest: Vec<Json> = alternatives
                    .iter()
                    .filter(|a| a.get("type") != Some(&Json::from("null")))
                    .cloned()
                    .collect();
                if rest.len() == 1 && alternatives.len() == 2 {
                    map.remove("anyOf");
                    if let Json::Object(inner) = &rest[0] {
                        for (k, v) in inner {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            map.values_mut().for_each(strip_nullable);
        }
        Json::Array(items) => items.iter_mut().for_each(strip_nullable),
        _ => {}
    }
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::new(site_schema()).expect("the generated schema is valid")
    })
}

/// Checks the site document against the schema; one diagnostic per problem.
pub fn check(tree: &JsonTree) -> Vec<Diagnostic> {
    check_instance(tree, "", validator(), site_schema(), &tree.value)
}

/// Checks `instance` against `schema`, reporting each problem at `prefix` + its pointer in `tree`
/// (or the closest place the file has): how a value built from part of the site file, such as
/// the merged Gitpod config, is checked against its own schema.
pub fn check_instance(
    tree: &JsonTree,
    prefix: &str,
    validator: &jsonschema::Validator,
    schema: &Json,
    instance: &Json,
) -> Vec<Diagnostic> {
    let errors: Vec<_> = validator.iter_errors(instance).collect();
    // A value of the wrong type fails its enum or pattern too; say it once.
    let mistyped: std::collections::HashSet<String> = errors
        .iter()
        .filter(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }))
        .map(|e| e.instance_path().as_str().to_owned())
        .collect();
    let mut diagnostics = Vec::new();
    for error in &errors {
        let pointer = error.instance_path().as_str().to_owned();
        if mistyped.contains(&pointer) && !matches!(error.kind(), ValidationErrorKind::Type { .. })
        {
            continue;
        }
        let schema_path = error.schema_path().as_str().to_owned();
        diagnostics.extend(describe(
            tree,
            schema,
            &format!("{prefix}{pointer}"),
            &schema_path,
            error.kind(),
            error.instance(),
        ));
    }
    diagnostics
}

fn describe(
    tree: &JsonTree,
    schema: &Json,
    pointer: &str,
    schema_path: &str,
    kind: &ValidationErrorKind,
    instance: &Json,
) -> Vec<Diagnostic> {
    let parent_schema = schema.pointer(schema_path.rsplit_once('/').map_or("", |(p, _)| p));
    let description = parent_schema
        .and_then(|s| s.get("description"))
        .and_then(Json::as_str)
        .map(|d| d.trim_end_matches('.'));
    let field = tree.field_name(pointer);
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed: Vec<&str> = parent_schema
                .and_then(|s| s.get("properties"))
                .and_then(Json::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|key| {
                    let child = child_pointer(pointer, key);
                    let hint = match did_you_mean(key, &allowed) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => {
                            format!("remove `{key}`, or check that it sits under the right parent")
                        }
                    };
                    tree.key_error(&child, format!("unknown field `{key}`"))
                        .expected(one_of("a field among", &allowed))
                        .hint(hint)
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default();
            let property_schema =
                parent_schema.and_then(|s| s.pointer(&format!("/properties/{property}")));
            let what = property_schema
                .and_then(|s| s.get("description"))
                .and_then(Json::as_str)
                .map(|d| d.trim_end_matches('.'));
            let place = if pointer.is_empty() {
                "at the top of the file".to_owned()
            } else {
                format!("under `{field}:`")
            };
            let hint = match what {
                Some(what) => format!("add `{property}:` {place}: {what}"),
                None => format!("add `{property}:` {place}"),
            };
            let path = tree.yaml_path(pointer);
            let path = if path.is_empty() {
                property.to_owned()
            } else {
                format!("{path}.{property}")
            };
            let mut diagnostic = tree
                .key_error(pointer, format!("missing required field `{property}`"))
                .hint(hint);
            if tree.nearest(pointer).is_empty() {
                diagnostic.span = crate::core::source::Span::default();
            }
            diagnostic.path = path;
            if let Some(kind) = property_schema.map(expected_type) {
                diagnostic = diagnostic.expected(kind);
            }
            vec![diagnostic]
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|o| o.iter().map(scalar_text).collect())
                .unwrap_or_default();
            let options: Vec<&str> = options.iter().map(String::as_str).collect();
            let found = scalar_text(instance);
            let hint = did_you_mean(&found, &options)
                .map(|near| format!("did you mean `{near}`?"))
                .or_else(|| description.map(str::to_owned))
                .unwrap_or_else(|| "use one of the listed values".to_owned());
            vec![
                tree.value_error(pointer, format!("invalid value `{found}` for `{field}`"))
                    .expected(one_of("one of", &options))
                    .hint(hint),
            ]
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => article(&t.to_string()),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| article(&t.to_string()))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let found = article(json_type(instance));
            let hint =
                description.map_or_else(|| format!("write `{field}` as {expected}"), str::to_owned);
            vec![
                tree.value_error(
                    pointer,
                    format!("`{field}` must be {expected}, not {found}"),
                )
                .expected(expected)
                .hint(hint),
            ]
        }
        ValidationErrorKind::MinItems { limit } => {
            vec![
                tree.value_error(pointer, format!("`{field}` needs at least {limit} item(s)"))
                    .expected(format!("a list of at least {limit}"))
                    .maybe_hint(description.map(str::to_owned)),
            ]
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            vec![
                tree.value_error(pointer, format!("`{field}` is too small"))
                    .expected(format!("at least {limit}"))
                    .maybe_hint(description.map(str::to_owned)),
            ]
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            vec![
                tree.value_error(pointer, format!("`{field}` is too large"))
                    .expected(format!("at most {limit}"))
                    .maybe_hint(description.map(str::to_owned)),
            ]
        }
        ValidationErrorKind::Pattern { pattern } => {
            let found = scalar_text(instance);
            let expected =
                description.map_or_else(|| format!("text matching `{pattern}`"), str::to_owned);
            vec![
                tree.value_error(
                    pointer,
                    format!("`{found}` is not in the form `{field}` takes"),
                )
                .expected(expected)
                .hint(format!("it must match `{pattern}`")),
            ]
        }
        other => {
            let message = format!("{other:?}").to_lowercase();
            vec![
                tree.value_error(pointer, format!("invalid `{field}`: {message}"))
                    .maybe_hint(description.map(str::to_owned)),
            ]
        }
    }
}

fn child_pointer(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn one_of(lead: &str, options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("`{o}`")).collect();
    format!("{lead} {}", quoted.join(", "))
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn expected_type(schema: &Json) -> String {
    if let Some(options) = schema.get("enum").and_then(Json::as_array) {
        let options: Vec<String> = options.iter().map(scalar_text).collect();
        return one_of(
            "one of",
            &options.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    match schema.get("type").and_then(Json::as_str) {
        Some(t) => article(t),
        None => "a value".to_owned(),
    }
}

/// Speaks of YAML's words (`mapping`, `list`) rather than JSON's, with an article.
fn article(json_type: &str) -> String {
    match json_type {
        "object" => "a mapping".to_owned(),
        "array" => "a list".to_owned(),
        "integer" => "an integer".to_owned(),
        "null" => "nothing (null)".to_owned(),
        other => format!("a {other}"),
    }
}
