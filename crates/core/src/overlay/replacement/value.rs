//! How a replaced scalar reads back. kustomize copies only the text into an existing scalar
//! and keeps that scalar's YAML tag, so the target's type decides: a string stays a string
//! (`"5"`), a number takes the text as a number, and text that does not fit the type is an
//! error when kustomize turns the object into JSON. A field `create` just made has no tag:
//! its text resolves as a plain scalar would.

use serde_json::Value as Json;

use crate::yaml::scalar::{Plain, resolve as resolve_plain};

/// The text of a scalar, as YAML holds it (`""` for a mapping or list).
pub(super) fn text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Null | Json::Array(_) | Json::Object(_) => String::new(),
    }
}

pub(super) fn is_scalar(value: &Json) -> bool {
    !matches!(value, Json::Array(_) | Json::Object(_))
}

/// The value of `text` as a plain, untagged scalar.
pub(super) fn resolve(text: &str) -> Json {
    match resolve_plain(text) {
        Plain::Null => Json::Null,
        Plain::Bool(b) => Json::Bool(b),
        Plain::Int(i) => Json::from(i),
        Plain::Uint(u) => Json::from(u),
        Plain::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Plain::Timestamp(time) => Json::String(time),
        Plain::Str => Json::String(text.to_owned()),
    }
}

/// The YAML tag of a scalar, which a replaced scalar keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tag {
    /// No tag: a field `create` made, whose text resolves as a plain scalar's.
    Plain,
    Str,
    Int,
    Float,
    Bool,
    Null,
}

impl Tag {
    /// The tag of a scalar (`None` for a mapping or list).
    pub(super) fn of(value: &Json) -> Option<Tag> {
        Some(match value {
            Json::String(_) => Tag::Str,
            Json::Number(n) if n.is_f64() => Tag::Float,
            Json::Number(_) => Tag::Int,
            Json::Bool(_) => Tag::Bool,
            Json::Null => Tag::Null,
            Json::Array(_) | Json::Object(_) => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Tag::Plain => "plain scalar",
            Tag::Str => "!!str",
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Bool => "!!bool",
            Tag::Null => "!!null",
        }
    }

    /// `text` read as a scalar of this tag, as yaml.v3 decodes it; `None` when it is not one.
    pub(super) fn decode(self, text: &str) -> Option<Json> {
        let value = resolve(text);
        let fits = match self {
            Tag::Plain => true,
            Tag::Str => return Some(Json::String(text.to_owned())),
            // yaml.v3 reads an integer into a float, not a float into an integer
            Tag::Int => value.is_i64() || value.is_u64(),
            Tag::Float => value.is_number(),
            Tag::Bool => value.is_boolean(),
            Tag::Null => value.is_null(),
        };
        fits.then_some(value)
    }
}

/// The replacement's value after a source's `delimiter`/`index`: the `index`th piece of its
/// text, of the source's type where it fits (kustomize keeps the source's tag; only a mapping
/// or list target, which takes the whole node, could tell).
pub(super) fn piece(value: &Json, delimiter: &str, index: i64) -> Result<Json, String> {
    if !is_scalar(value) {
        return Err("delimiter option can only be used with scalar nodes".to_owned());
    }
    let whole = text(value);
    let pieces: Vec<&str> = whole.split(delimiter).collect();
    let chosen = usize::try_from(index)
        .ok()
        .and_then(|i| pieces.get(i))
        .ok_or_else(|| format!("options.index {index} is out of bounds for value `{whole}`"))?;
    Ok(Tag::of(value)
        .and_then(|tag| tag.decode(chosen))
        .unwrap_or_else(|| Json::String((*chosen).to_owned())))
}

/// Writes `value` into the field a target path reached, with the target's `delimiter`/`index`:
/// a scalar keeps its tag (`forced`, when an earlier replacement left text that does not fit
/// it, else its type's) and takes the text, spliced into its pieces with a delimiter; a mapping
/// or list is replaced whole. `fresh`: the field was just created, with no tag. Returns the tag
/// the field keeps for later writes (`None` once it holds a mapping or list). Text that does
/// not fit it is left as a string: kustomize only fails on it once the object becomes JSON, so
/// a later replacement may still put fitting text there.
pub(super) fn set(
    field: &mut Json,
    fresh: bool,
    value: &Json,
    delimiter: Option<(&str, i64)>,
    forced: Option<Tag>,
    as_text: bool,
) -> Result<Option<Tag>, String> {
    let mut value = value.clone();
    if let Some((delimiter, index)) = delimiter {
        if !is_scalar(field) {
            return Err("delimiter option can only be used with scalar nodes".to_owned());
        }
        let current = if fresh { String::new() } else { text(field) };
        let mut pieces: Vec<String> = current.split(delimiter).map(str::to_owned).collect();
        let piece = text(&value);
        match usize::try_from(index) {
            Err(_) => pieces.insert(0, piece),
            Ok(i) if i >= pieces.len() => pieces.push(piece),
            Ok(i) => pieces[i] = piece,
        }
        // only the text matters from here: the field is a scalar and keeps its own tag
        value = Json::String(pieces.join(delimiter));
    }
    let tag = if fresh {
        is_scalar(&value).then_some(Tag::Plain)
    } else {
        forced.or_else(|| Tag::of(field))
    };
    let Some(tag) = tag else {
        *field = value;
        return Ok(None);
    };
    let new = text(&value);
    // an object's own annotations come out as the text itself (kustomize's last step reads
    // them as strings), so `80.` stays `80.` rather than becoming the number 80
    *field = match tag.decode(&new) {
        Some(decoded) if !(as_text && decoded.is_number()) => decoded,
        _ => Json::String(new),
    };
    Ok(Some(tag))
}

pub(super) fn cannot_decode(text: &str, tag: Tag) -> String {
    format!("cannot decode `{text}` as a {}", tag.name())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_scalar_keeps_its_type() {
        let mut field = json!("text");
        assert_eq!(
            set(&mut field, false, &json!(5), None, None, false),
            Ok(Some(Tag::Str))
        );
        assert_eq!(field, json!("5"));
        let mut field = json!(1);
        assert_eq!(
            set(&mut field, false, &json!("7"), None, None, false),
            Ok(Some(Tag::Int))
        );
        assert_eq!(field, json!(7));
        let mut field = json!(1);
        set(&mut field, false, &json!("seven"), None, None, false).expect("sets");
        assert_eq!(field, json!("seven"));
        set(&mut field, false, &json!("8"), None, Some(Tag::Int), false).expect("sets");
        assert_eq!(field, json!(8));
        let mut field = Json::Null;
        assert_eq!(
            set(&mut field, true, &json!("a"), None, None, false),
            Ok(Some(Tag::Plain))
        );
        set(
            &mut field,
            false,
            &json!("7"),
            None,
            Some(Tag::Plain),
            false,
        )
        .expect("sets");
        assert_eq!(field, json!(7));
        let mut field = json!({"a": 1});
        assert_eq!(
            set(&mut field, false, &json!("x"), None, None, false),
            Ok(None)
        );
    }

    #[test]
    fn a_delimiter_replaces_prefixes_or_appends_a_piece() {
        let image = || json!("nginx:1.0");
        let cases = [
            (1, "nginx:2.0"),
            (-1, "2.0:nginx:1.0"),
            (7, "nginx:1.0:2.0"),
        ];
        for (index, want) in cases {
            let mut field = image();
            set(
                &mut field,
                false,
                &json!("2.0"),
                Some((":", index)),
                None,
                false,
            )
            .expect("sets");
            assert_eq!(field, json!(want), "index {index}");
        }
        assert_eq!(piece(&image(), ":", 1).ok(), Some(json!("1.0")));
        assert!(piece(&image(), ":", 2).is_err());
        assert!(piece(&json!({"a": 1}), ":", 0).is_err());
    }
}
