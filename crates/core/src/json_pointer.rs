//! JSON pointer look-ups without allocating: `serde_json`'s `pointer` builds a new string for
//! every segment (it unescapes `~1` and `~0` with two `replace` calls), and the overlay engine
//! asks for names, kinds, labels and alias places of every object at every step (the rules ask
//! for the site's fields the same way). A segment is unescaped
//! only when it holds a `~`; the results are those of `Value::pointer` and `pointer_mut`.
//! A key is looked up in a small mapping by comparing the keys in turn: the map hashes every
//! key it is asked for (SipHash), which costs more than a few short comparisons.

use std::borrow::Cow;

use serde_json::Value as Json;

/// The value at `pointer` (RFC 6901), as `Value::pointer` finds it.
pub(crate) fn get<'a>(value: &'a Json, pointer: &str) -> Option<&'a Json> {
    let rest = segments(pointer)?;
    let Some(rest) = rest else {
        return Some(value);
    };
    segments_of(rest).try_fold(value, |target, token| match target {
        Json::Object(_) => child(target, unescape(token).as_ref()),
        Json::Array(list) => index(token).and_then(|i| list.get(i)),
        _ => None,
    })
}

/// The parts of `text` between `/`s, as `text.split('/')` gives them, found by a plain byte
/// loop: the pointers are short, and `split`'s searcher costs more to set up than to run.
pub(crate) fn segments_of(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.bytes().position(|b| b == b'/') {
            Some(i) => {
                rest = Some(&text[i + 1..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// Mappings up to this size are searched key by key.
const SCAN: usize = 8;

/// The value of `key` in `node`, if `node` is a mapping that has it (`Value::get`).
pub(crate) fn child<'a>(node: &'a Json, key: &str) -> Option<&'a Json> {
    match node {
        Json::Object(map) if map.len() <= SCAN => {
            map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
        }
        Json::Object(map) => map.get(key),
        _ => None,
    }
}

/// [`child`], mutable.
pub(crate) fn child_mut<'a>(node: &'a mut Json, key: &str) -> Option<&'a mut Json> {
    let Json::Object(map) = node else {
        return None;
    };
    if map.len() <= SCAN {
        map.iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        map.get_mut(key)
    }
}

/// The value at `pointer`, mutable, as `Value::pointer_mut` finds it.
pub(crate) fn get_mut<'a>(value: &'a mut Json, pointer: &str) -> Option<&'a mut Json> {
    let rest = segments(pointer)?;
    let Some(rest) = rest else {
        return Some(value);
    };
    segments_of(rest).try_fold(value, |target, token| match target {
        Json::Object(_) => child_mut(target, unescape(token).as_ref()),
        Json::Array(list) => index(token).and_then(move |i| list.get_mut(i)),
        _ => None,
    })
}

/// `Some(None)` for the whole document (`""`), `Some(Some(rest))` for the segments after the
/// leading `/`, `None` for a pointer that does not start with `/`.
fn segments(pointer: &str) -> Option<Option<&str>> {
    if pointer.is_empty() {
        return Some(None);
    }
    pointer.strip_prefix('/').map(Some)
}

fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// A list index as `serde_json` reads one: no sign, no leading zero.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn segments_are_what_split_gives() {
        for text in ["", "/", "a", "a/b", "/a/b/", "a//b", "ä/ö/", "//"] {
            assert_eq!(
                super::segments_of(text).collect::<Vec<_>>(),
                text.split('/').collect::<Vec<_>>(),
                "{text}"
            );
        }
    }

    #[test]
    fn finds_what_serde_json_finds() {
        let mut value = json!({
            "a": {"b/c": [1, {"d~e": "x"}], "": {"": 2}, "~1": 3},
            "list": [[0], "y"],
            "big": {"k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7,
                    "k8": {"x": 8}, "k9": 9},
        });
        let pointers = [
            "",
            "/",
            "/a",
            "/a/b~1c",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/2",
            "/a//",
            "/a/~01",
            "/a/~1",
            "/list/0/0",
            "/list/1/x",
            "a",
            "/missing/x",
            "/a/b~1c/-",
            "/big/k0",
            "/big/k8/x",
            "/big/k9",
            "/big/k10",
        ];
        for pointer in pointers {
            assert_eq!(
                super::get(&value, pointer),
                value.pointer(pointer),
                "{pointer}"
            );
            let expected = value.clone().pointer_mut(pointer).map(|v| v.clone());
            assert_eq!(
                super::get_mut(&mut value, pointer).map(|v| v.clone()),
                expected,
                "{pointer}"
            );
        }
        *super::get_mut(&mut value, "/a/b~1c/1/d~0e").unwrap() = json!("z");
        assert_eq!(value["a"]["b/c"][1]["d~e"], "z");
    }
}
