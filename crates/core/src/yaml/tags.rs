//! Tags, and the text of block scalars: what an explicitly typed or block scalar holds.

use std::borrow::Cow;

use saphyr_parser::{ScalarStyle, Tag};

use crate::diagnostic::Diagnostic;
use crate::source::Span;

use super::{Abort, Builder, Value, plain_value, resolve_plain};

impl Builder<'_> {
    /// A block scalar that ends the file without a final line break has no final line break
    /// in its value (YAML 1.2, 8.1.1.2; libyaml and Go agree), but the parser adds one.
    pub(super) fn unterminated_block<'t>(
        &self,
        text: Cow<'t, str>,
        style: ScalarStyle,
        span: Span,
    ) -> Cow<'t, str> {
        let source = &self.file.text;
        if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            || source.ends_with('\n')
            || !text.ends_with('\n')
        {
            return text;
        }
        let last_line_start = source.rfind('\n').map_or(0, |i| i + 1);
        let last_line = source[last_line_start..].trim();
        if last_line.is_empty()
            || span.start > last_line_start
            || !text.trim_end_matches('\n').ends_with(last_line)
        {
            return text;
        }
        let mut owned = text.into_owned();
        owned.pop();
        Cow::Owned(owned)
    }

    pub(super) fn container_tag(
        &mut self,
        tag: Option<&Tag>,
        core: &str,
        span: Span,
    ) -> Result<(), Abort> {
        match tag {
            None => Ok(()),
            Some(tag) if is_core(tag) && tag.suffix == core => Ok(()),
            Some(tag) => {
                self.unsupported_tag(tag, span);
                Err(Abort)
            }
        }
    }

    pub(super) fn unsupported_tag(&mut self, tag: &Tag, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(
                &self.file.name,
                span,
                "",
                format!("unsupported tag `{}`", tag_text(tag)),
            )
            .expected("plain YAML without tags, or a core tag such as `!!str`")
            .hint("remove the tag; quote the value if it should be text"),
        );
    }

    /// The value of a scalar; its text is moved in when it is a string.
    pub(super) fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Value, Abort> {
        if let Some(tag) = tag {
            let core = if is_core(tag) {
                tag.suffix.as_str()
            } else {
                ""
            };
            let resolved = match core {
                "str" => Some(Value::Str(text.into_owned())),
                "null" | "bool" | "int" | "float" => match resolve_plain(&text) {
                    v @ Value::Null if tag.suffix == "null" => Some(v),
                    v @ Value::Bool(_) if tag.suffix == "bool" => Some(v),
                    v @ Value::Int(_) if tag.suffix == "int" => Some(v),
                    Value::Int(i) if tag.suffix == "float" => Some(Value::Float(i as f64)),
                    v @ Value::Float(_) if tag.suffix == "float" => Some(v),
                    _ => None,
                },
                _ => None,
            };
            return match resolved {
                Some(value) => Ok(value),
                None => {
                    self.unsupported_tag(tag, span);
                    Err(Abort)
                }
            };
        }
        Ok(match style {
            ScalarStyle::Plain => plain_value(text),
            _ => Value::Str(text.into_owned()),
        })
    }
}

/// The parser expands `!!` to the core schema's prefix.
fn is_core(tag: &Tag) -> bool {
    tag.handle == "!!" || tag.handle == CORE_PREFIX
}

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

fn tag_text(tag: &Tag) -> String {
    if is_core(tag) {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}
