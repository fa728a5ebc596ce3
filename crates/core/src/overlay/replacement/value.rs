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

/// `text` read with the type of `like` (a scalar); `Err` with the type's YAML tag when the text
/// is not of that type.
pub(super) fn retype(like: &Json, text: &str) -> Result<Json, &'static str> {
    match like {
        Json::String(_) => Ok(Json::String(text.to_owned())),
        Json::Number(n) => match resolve(text) {
            number @ Json::Number(_) => Ok(number),
            _ if n.is_f64() => Err("!!float"),
            _ => Err("!!int"),
        },
        Json::Bool(_) => match resolve(text) {
            boolean @ Json::Bool(_) => Ok(boolean),
            _ => Err("!!bool"),
        },
        _ => match resolve(text) {
            Json::Null => Ok(Json::Null),
            _ => Err("!!null"),
        },
    }
}

/// The replacement's value after a source's `delimiter`/`index`: the `index`th piece of its
/// text, of the source's type.
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
    retype(value, chosen).map_err(|tag| cannot_decode(chosen, tag))
}

pub(super) fn cannot_decode(text: &str, tag: &str) -> String {
    format!("cannot decode `{text}` as a {tag}")
}

/// Writes `value` into the field a target path reached, with the target's `delimiter`/`index`:
/// a scalar keeps its type and takes the text (spliced into its pieces with a delimiter), a
/// mapping or list is replaced whole. `fresh`: the field was just created, with no type.
pub(super) fn set(
    field: &mut Json,
    fresh: bool,
    value: &Json,
    delimiter: Option<(&str, i64)>,
) -> Result<(), String> {
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
        let joined = pieces.join(delimiter);
        value = if is_scalar(&value) {
            retype(&value, &joined).map_err(|tag| cannot_decode(&joined, tag))?
        } else {
            Json::String(joined)
        };
    }
    if fresh {
        *field = if is_scalar(&value) {
            resolve(&text(&value))
        } else {
            value
        };
    } else if is_scalar(field) {
        let new = text(&value);
        *field = retype(field, &new).map_err(|tag| cannot_decode(&new, tag))?;
    } else {
        *field = value;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_scalar_keeps_its_type() {
        let mut field = json!("text");
        set(&mut field, false, &json!(5), None).expect("sets");
        assert_eq!(field, json!("5"));
        let mut field = json!(1);
        set(&mut field, false, &json!("7"), None).expect("sets");
        assert_eq!(field, json!(7));
        let mut field = json!(1);
        assert!(set(&mut field, false, &json!("seven"), None).is_err());
        let mut field = Json::Null;
        set(&mut field, true, &json!("7"), None).expect("sets");
        assert_eq!(field, json!(7));
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
            set(&mut field, false, &json!("2.0"), Some((":", index))).expect("sets");
            assert_eq!(field, json!(want), "index {index}");
        }
        assert_eq!(piece(&image(), ":", 1).ok(), Some(json!("1.0")));
        assert!(piece(&image(), ":", 2).is_err());
        assert!(piece(&json!({"a": 1}), ":", 0).is_err());
    }
}
