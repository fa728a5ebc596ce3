//! The site JSON Schema: generated from the serde types, and checked against parsed YAML.
//!
//! jsonschema finds the structural problems; this module turns each into a diagnostic at the
//! offending key or value, with "did you mean" for near misses.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::site::SiteFile;

mod describe;

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

/// The committed `schema/site.schema.json`, embedded at build time. Sites are checked against
/// it rather than against a schema generated at run time, and its validator is generated at
/// build time from the same file: a run neither generates, compiles nor meta-validates a schema
/// (decision 0022). The tidy tests hold the file equal to what [`site_schema`] generates and
/// valid against the meta-schema.
const COMMITTED_TEXT: &str = include_str!("../../../schema/site.schema.json");

/// The committed schema as a value, parsed once per process, only when a diagnostic needs to
/// read it (a site without schema errors never does).
pub fn committed_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA
        .get_or_init(|| serde_json::from_str(COMMITTED_TEXT).expect("the committed schema is JSON"))
}

/// The site schema's validator, generated from the committed file when railyard is built.
#[jsonschema::validator(path = "../../schema/site.schema.json", draft = Draft202012)]
struct SiteValidator;

/// Checks the site document against the schema; one diagnostic per problem.
pub fn check(tree: &JsonTree) -> Vec<Diagnostic> {
    let errors: Vec<_> = SiteValidator::iter_errors(&tree.value).collect();
    if errors.is_empty() {
        return Vec::new();
    }
    describe_errors(tree, "", &errors, committed_schema())
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
    describe_errors(tree, prefix, &errors, schema)
}

/// One diagnostic per schema error, at `prefix` + its pointer in `tree`.
fn describe_errors(
    tree: &JsonTree,
    prefix: &str,
    errors: &[jsonschema::ValidationError<'_>],
    schema: &Json,
) -> Vec<Diagnostic> {
    // A value of the wrong type fails its enum or pattern too; say it once.
    let mistyped: std::collections::HashSet<String> = errors
        .iter()
        .filter(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }))
        .map(|e| e.instance_path().as_str().to_owned())
        .collect();
    let mut diagnostics = Vec::new();
    for error in errors {
        let pointer = error.instance_path().as_str().to_owned();
        if mistyped.contains(&pointer) && !matches!(error.kind(), ValidationErrorKind::Type { .. })
        {
            continue;
        }
        let schema_path = error.schema_path().as_str().to_owned();
        let pointer = format!("{prefix}{pointer}");
        let problem = describe::Problem::new(tree, schema, &pointer, &schema_path);
        diagnostics.extend(problem.describe(error.kind(), error.instance()));
    }
    diagnostics
}
