//! One schema violation as diagnostics: at the key or value, in YAML's words, with a hint.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::suggest::did_you_mean;

/// Where a violation is: the site, the instance pointer, and the schema around it.
pub(super) struct Problem<'a> {
    tree: &'a JsonTree,
    pointer: &'a str,
    /// The schema of the object the failing keyword belongs to.
    parent_schema: Option<&'a Json>,
    /// That schema's description, without a final period.
    description: Option<&'a str>,
    /// The field's name as the user wrote it.
    field: String,
}

impl<'a> Problem<'a> {
    pub(super) fn new(
        tree: &'a JsonTree,
        schema: &'a Json,
        pointer: &'a str,
        schema_path: &str,
    ) -> Problem<'a> {
        let parent_schema = schema.pointer(schema_path.rsplit_once('/').map_or("", |(p, _)| p));
        let description = parent_schema
            .and_then(|s| s.get("description"))
            .and_then(Json::as_str)
            .map(|d| d.trim_end_matches('.'));
        Problem {
            tree,
            pointer,
            parent_schema,
            description,
            field: tree.field_name(pointer),
        }
    }

    pub(super) fn describe(&self, kind: &ValidationErrorKind, instance: &Json) -> Vec<Diagnostic> {
        let (tree, pointer, field) = (self.tree, self.pointer, &self.field);
        let description = self.description.map(str::to_owned);
        match kind {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                self.unknown_fields(unexpected)
            }
            ValidationErrorKind::Required { property } => {
                vec![self.missing(property.as_str().unwrap_or_default())]
            }
            ValidationErrorKind::Enum { options } => vec![
                self.mistyped_option(instance)
                    .unwrap_or_else(|| self.not_an_option(options, instance)),
            ],
            ValidationErrorKind::Type { kind } => vec![self.wrong_type(kind, instance)],
            ValidationErrorKind::MinItems { limit } => vec![
                tree.value_error(pointer, format!("`{field}` needs at least {limit} item(s)"))
                    .expected(format!("a list of at least {limit}"))
                    .maybe_hint(description),
            ],
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => vec![
                tree.value_error(pointer, format!("`{field}` is too small"))
                    .expected(format!("at least {limit}"))
                    .maybe_hint(description),
            ],
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => vec![
                tree.value_error(pointer, format!("`{field}` is too large"))
                    .expected(format!("at most {limit}"))
                    .maybe_hint(description),
            ],
            ValidationErrorKind::Pattern { pattern } => {
                let found = scalar_text(instance);
                let expected = self
                    .description
                    .map_or_else(|| format!("text matching `{pattern}`"), str::to_owned);
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
                        .maybe_hint(description),
                ]
            }
        }
    }

    fn unknown_fields(&self, unexpected: &[String]) -> Vec<Diagnostic> {
        let allowed: Vec<&str> = self
            .parent_schema
            .and_then(|s| s.get("properties"))
            .and_then(Json::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        unexpected
            .iter()
            .map(|key| {
                let child = child_pointer(self.pointer, key);
                let hint = match did_you_mean(key, &allowed) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("remove `{key}`, or check that it sits under the right parent"),
                };
                self.tree
                    .key_error(&child, format!("unknown field `{key}`"))
                    .expected(one_of("a field among", &allowed))
                    .hint(hint)
            })
            .collect()
    }

    fn missing(&self, property: &str) -> Diagnostic {
        let (tree, pointer) = (self.tree, self.pointer);
        let property_schema = self
            .parent_schema
            .and_then(|s| s.pointer(&format!("/properties/{property}")));
        let what = property_schema
            .and_then(|s| s.get("description"))
            .and_then(Json::as_str)
            .map(|d| d.trim_end_matches('.'));
        let place = if pointer.is_empty() {
            "at the top of the file".to_owned()
        } else {
            format!("under `{}:`", self.field)
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
            diagnostic.span = crate::source::Span::default();
        }
        diagnostic.path = path;
        if let Some(kind) = property_schema.map(expected_type) {
            diagnostic = diagnostic.expected(kind);
        }
        diagnostic
    }

    fn not_an_option(&self, options: &Json, instance: &Json) -> Diagnostic {
        let options: Vec<String> = options
            .as_array()
            .map(|o| o.iter().map(scalar_text).collect())
            .unwrap_or_default();
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        let found = scalar_text(instance);
        let hint = did_you_mean(&found, &options)
            .map(|near| format!("did you mean `{near}`?"))
            .or_else(|| self.description.map(str::to_owned))
            .unwrap_or_else(|| "use one of the listed values".to_owned());
        self.tree
            .value_error(
                self.pointer,
                format!("invalid value `{found}` for `{}`", self.field),
            )
            .expected(one_of("one of", &options))
            .hint(hint)
    }

    /// An enum value of the wrong type, said as a type error: the build-time validator reports
    /// only the failed `enum` where the run-time one also reported the failed `type`.
    fn mistyped_option(&self, instance: &Json) -> Option<Diagnostic> {
        let wanted = self.parent_schema?.get("type")?.as_str()?;
        let found = json_type(instance);
        if found == wanted || (wanted == "number" && found == "integer") {
            return None;
        }
        Some(self.type_error(article(wanted), instance))
    }

    fn wrong_type(&self, kind: &TypeKind, instance: &Json) -> Diagnostic {
        let expected = match kind {
            TypeKind::Single(t) => article(&t.to_string()),
            TypeKind::Multiple(set) => set
                .iter()
                .map(|t| article(&t.to_string()))
                .collect::<Vec<_>>()
                .join(" or "),
        };
        self.type_error(expected, instance)
    }

    fn type_error(&self, expected: String, instance: &Json) -> Diagnostic {
        let field = &self.field;
        let found = article(json_type(instance));
        let hint = self
            .description
            .map_or_else(|| format!("write `{field}` as {expected}"), str::to_owned);
        self.tree
            .value_error(
                self.pointer,
                format!("`{field}` must be {expected}, not {found}"),
            )
            .expected(expected)
            .hint(hint)
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
