//! Paths, list indices and equality as kustomize's JSON patch library (json-patch v4.12.0)
//! reads them, which is not RFC 6902: negative indices count from the end, `01` is index 1, a
//! missing mapping key reads as `null`, and an operation's parent must already exist.

use serde_json::Value as Json;

use super::OperationError;

/// The mapping or list an operation's path ends in, and the (unescaped) last key.
pub(super) struct Parent<'a> {
    pub(super) node: &'a mut Json,
    pub(super) key: String,
}

/// Finds the parent of `path`: every level above the last must exist, be non-null and be a
/// mapping or a list; a path without a `/` (the whole object included) has no parent.
pub(super) fn parent<'a>(object: &'a mut Json, path: &str) -> Result<Parent<'a>, OperationError> {
    let pieces: Vec<&str> = path.split('/').collect();
    let Some((last, above)) = pieces.split_last().filter(|(_, above)| !above.is_empty()) else {
        return Err(OperationError::NoParent(path.to_owned()));
    };
    let mut node = object;
    // the library ignores what comes before the first `/`, so `a/b` is read as `/b`
    for piece in &above[1..] {
        let key = unescape(piece);
        let next = match node {
            Json::Object(map) => map.get_mut(&key),
            Json::Array(items) => {
                let index = existing(items.len(), &key)?;
                items.get_mut(index)
            }
            _ => None,
        };
        node = match next {
            Some(next @ (Json::Object(_) | Json::Array(_))) => next,
            Some(Json::Null) | None => return Err(OperationError::NoParent(path.to_owned())),
            Some(_) => return Err(OperationError::BelowScalar(key)),
        };
    }
    Ok(Parent {
        node,
        key: unescape(last),
    })
}

/// RFC 6901 escapes, `~1` before `~0` so that `~01` stays `~1`.
fn unescape(piece: &str) -> String {
    piece.replace("~1", "/").replace("~0", "~")
}

/// A list index as Go's `strconv.Atoi` reads it: an optional sign, then decimal digits
/// (leading zeros allowed), within 64 bits.
fn number(key: &str) -> Result<i64, OperationError> {
    key.parse()
        .map_err(|_| OperationError::NotAnIndex(key.to_owned()))
}

/// The position of an existing item: `-1` is the last.
pub(super) fn existing(len: usize, key: &str) -> Result<usize, OperationError> {
    resolve(len, key)
}

/// Where `add` inserts into a list of `len` items: `-` and `-1` both append, `len` too.
pub(super) fn insertion(len: usize, key: &str) -> Result<usize, OperationError> {
    if key == "-" {
        return Ok(len);
    }
    resolve(len + 1, key)
}

/// `key` as a position below `size`, a negative one counted back from `size`.
fn resolve(size: usize, key: &str) -> Result<usize, OperationError> {
    let index = number(key)?;
    let resolved = if index < 0 {
        index + i64::try_from(size).unwrap_or(i64::MAX)
    } else {
        index
    };
    usize::try_from(resolved)
        .ok()
        .filter(|&at| at < size)
        .ok_or(OperationError::OutOfRange(index))
}

/// Structural equality as the library's `test` compares: mappings by their keys, lists item by
/// item, numbers by value (both sides are numbers Go has printed, so equal text is equal value),
/// strings by their JSON text. The object's text comes from Go's JSON encoder, which escapes
/// `&`, `<`, `>`, U+2028 and U+2029; so does the patch's when it was YAML, but a patch written
/// as JSON (`raw_json`) keeps its own text, and such a string never equals the object's.
pub(super) fn same(found: &Json, expected: &Json, raw_json: bool) -> bool {
    match (found, expected) {
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(key, value)| {
                    b.get(key).is_some_and(|other| same(value, other, raw_json))
                })
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, raw_json))
        }
        (Json::Number(a), Json::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        (Json::String(a), Json::String(b)) => {
            a == b && !(raw_json && a.contains(['&', '<', '>', '\u{2028}', '\u{2029}']))
        }
        _ => found == expected,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{existing, insertion, parent, same};

    #[test]
    fn indices_are_read_as_go_reads_them() {
        // two items: `-1` and `-2` reach them, `01` and `+1` are 1, `-0` is 0
        assert_eq!(existing(2, "-1").ok(), Some(1));
        assert_eq!(existing(2, "-2").ok(), Some(0));
        assert_eq!(existing(2, "01").ok(), Some(1));
        assert_eq!(existing(2, "+1").ok(), Some(1));
        assert_eq!(existing(2, "-0").ok(), Some(0));
        assert!(existing(2, "2").is_err());
        assert!(existing(2, "-3").is_err());
        assert!(existing(2, "-").is_err());
        assert!(existing(2, "").is_err());
        // an insertion may also land after the last item: `2`, `-`, `-1`; `-3` is the front
        assert_eq!(insertion(2, "2").ok(), Some(2));
        assert_eq!(insertion(2, "-").ok(), Some(2));
        assert_eq!(insertion(2, "-1").ok(), Some(2));
        assert_eq!(insertion(2, "-3").ok(), Some(0));
        assert!(insertion(2, "3").is_err());
        assert!(insertion(2, "-4").is_err());
        assert!(insertion(2, "99999999999999999999").is_err());
    }

    #[test]
    fn a_parent_must_exist_and_hold_values() {
        let mut object = json!({"spec": {"list": [{"a": 1}], "gone": null, "key": "v"}});
        assert!(parent(&mut object, "/spec/list/-1/b").is_ok());
        assert!(parent(&mut object, "/spec/missing/b").is_err());
        assert!(parent(&mut object, "/spec/gone/b").is_err());
        assert!(parent(&mut object, "/spec/key/b").is_err());
        assert!(parent(&mut object, "").is_err());
        // before the first `/` is ignored, as the library ignores it
        assert_eq!(
            parent(&mut object, "x/y").map(|p| p.key).ok(),
            Some("y".into())
        );
        assert_eq!(
            parent(&mut object, "/spec/a~01b").map(|p| p.key).ok(),
            Some("a~1b".into())
        );
    }

    #[test]
    fn test_compares_structure_not_order_or_type() {
        assert!(same(
            &json!({"a": 1, "b": [1, 2]}),
            &json!({"b": [1, 2], "a": 1}),
            false
        ));
        assert!(!same(&json!([1, 2]), &json!([2, 1]), false));
        assert!(!same(&json!(1), &json!("1"), false));
        assert!(!same(&json!({"a": null}), &json!({}), false));
        assert!(same(&json!(1), &json!(1.0), false));
    }

    #[test]
    fn a_patch_written_as_json_never_equals_a_string_go_escapes() {
        assert!(same(&json!("a&b"), &json!("a&b"), false));
        assert!(!same(&json!("a&b"), &json!("a&b"), true));
        assert!(!same(&json!({"k": ["<x>"]}), &json!({"k": ["<x>"]}), true));
        assert!(same(&json!("plain"), &json!("plain"), true));
    }
}
