//! `value!`: JSON values written like `serde_json::json!`, built by moving their parts in.
//!
//! `json!` turns every interpolated expression into a value through `serde_json::to_value`,
//! which serialises it: a `Value` built by a helper (an object's metadata, its labels, a list
//! of rules) is copied node by node and the original dropped, and a `format!`ed `String` is
//! copied once more. The generators build every rendered object this way, so those copies
//! were a large share of a render's allocations. `value!` takes the same syntax (keys are one
//! token or a path: a literal, a constant, or an expression in parentheses) and converts each
//! part with [`IntoJson`], which moves what it is given; an object is made at its final size.
//! The values are the same as `json!`'s: a test compares both on every kind of part.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

/// A part of a value, converted by moving it (a reference is cloned, as `json!` would).
pub trait IntoJson {
    fn into_json(self) -> Json;
}

impl IntoJson for Json {
    fn into_json(self) -> Json {
        self
    }
}

impl IntoJson for &Json {
    fn into_json(self) -> Json {
        self.clone()
    }
}

impl IntoJson for Map<String, Json> {
    fn into_json(self) -> Json {
        Json::Object(self)
    }
}

impl IntoJson for String {
    fn into_json(self) -> Json {
        Json::String(self)
    }
}

impl IntoJson for &String {
    fn into_json(self) -> Json {
        Json::String(self.clone())
    }
}

impl IntoJson for &str {
    fn into_json(self) -> Json {
        Json::String(self.to_owned())
    }
}

impl IntoJson for &&str {
    fn into_json(self) -> Json {
        Json::String((*self).to_owned())
    }
}

impl IntoJson for &crate::values::DnsLabel {
    fn into_json(self) -> Json {
        Json::String(self.as_str().to_owned())
    }
}

impl IntoJson for &crate::values::Fqdn {
    fn into_json(self) -> Json {
        Json::String(self.as_str().to_owned())
    }
}

impl IntoJson for bool {
    fn into_json(self) -> Json {
        Json::Bool(self)
    }
}

/// Integers and floats as `json!` stores them (`Number::from`, which keeps a non-negative
/// signed integer as an unsigned one; a float that is not finite is `null`).
macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl IntoJson for $t {
            fn into_json(self) -> Json {
                Json::from(self)
            }
        }
        impl IntoJson for &$t {
            fn into_json(self) -> Json {
                Json::from(*self)
            }
        }
    )*};
}
numbers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f64);

impl<T: IntoJson> IntoJson for Option<T> {
    fn into_json(self) -> Json {
        self.map_or(Json::Null, IntoJson::into_json)
    }
}

impl<T: IntoJson> IntoJson for Vec<T> {
    fn into_json(self) -> Json {
        Json::Array(self.into_iter().map(IntoJson::into_json).collect())
    }
}

impl<T: IntoJson, const N: usize> IntoJson for [T; N] {
    fn into_json(self) -> Json {
        Json::Array(self.into_iter().map(IntoJson::into_json).collect())
    }
}

impl<'a, T> IntoJson for &'a [T]
where
    &'a T: IntoJson,
{
    fn into_json(self) -> Json {
        Json::Array(self.iter().map(IntoJson::into_json).collect())
    }
}

impl<'a, T> IntoJson for &'a Vec<T>
where
    &'a T: IntoJson,
{
    fn into_json(self) -> Json {
        self.as_slice().into_json()
    }
}

impl<K: Into<String>, V: IntoJson> IntoJson for BTreeMap<K, V> {
    fn into_json(self) -> Json {
        Json::Object(
            self.into_iter()
                .map(|(k, v)| (k.into(), v.into_json()))
                .collect(),
        )
    }
}

impl<'a, V> IntoJson for &'a BTreeMap<String, V>
where
    &'a V: IntoJson,
{
    fn into_json(self) -> Json {
        Json::Object(
            self.iter()
                .map(|(k, v)| (k.clone(), v.into_json()))
                .collect(),
        )
    }
}

/// An object from its entries, made at its final size.
pub fn object<const N: usize>(entries: [(String, Json); N]) -> Json {
    Json::Object(Map::from_iter(entries))
}

/// A JSON value in `json!`'s syntax whose parts are moved in (see the module's comment).
macro_rules! value {
    // an array's items, gathered as expressions
    (@array [$($done:expr,)*]) => { ::std::vec![$($done,)*] };
    (@array [$($done:expr,)*] null $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(@array [$($done,)* ::serde_json::Value::Null,] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] [$($inner:tt)*] $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @array [$($done,)* $crate::json_value::value!([$($inner)*]),] $($($rest)*)?
        )
    };
    (@array [$($done:expr,)*] {$($inner:tt)*} $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @array [$($done,)* $crate::json_value::value!({$($inner)*}),] $($($rest)*)?
        )
    };
    (@array [$($done:expr,)*] $item:expr $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @array [$($done,)* $crate::json_value::IntoJson::into_json($item),] $($($rest)*)?
        )
    };

    // an object's entries, gathered as (key, value) pairs
    (@object [$($done:tt)*]) => { $crate::json_value::object([$($done)*]) };
    (@object [$($done:tt)*] $key:tt : null $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @object [$($done)* (::std::string::String::from($key), ::serde_json::Value::Null),]
            $($($rest)*)?
        )
    };
    (@object [$($done:tt)*] $key:tt : [$($inner:tt)*] $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @object [$($done)* (
                ::std::string::String::from($key),
                $crate::json_value::value!([$($inner)*]),
            ),]
            $($($rest)*)?
        )
    };
    (@object [$($done:tt)*] $key:tt : {$($inner:tt)*} $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @object [$($done)* (
                ::std::string::String::from($key),
                $crate::json_value::value!({$($inner)*}),
            ),]
            $($($rest)*)?
        )
    };
    (@object [$($done:tt)*] $key:tt : $item:expr $(, $($rest:tt)*)?) => {
        $crate::json_value::value!(
            @object [$($done)* (
                ::std::string::String::from($key),
                $crate::json_value::IntoJson::into_json($item),
            ),]
            $($($rest)*)?
        )
    };
    // a key named by a path (`layout::NAME`), made one token
    (@object [$($done:tt)*] $($key:ident)::+ : $($rest:tt)*) => {
        $crate::json_value::value!(@object [$($done)*] ($($key)::+) : $($rest)*)
    };

    (null) => { ::serde_json::Value::Null };
    ([]) => { ::serde_json::Value::Array(::std::vec::Vec::new()) };
    ([ $($tt:tt)+ ]) => { ::serde_json::Value::Array($crate::json_value::value!(@array [] $($tt)+)) };
    ({}) => { ::serde_json::Value::Object(::serde_json::Map::new()) };
    ({ $($tt:tt)+ }) => { $crate::json_value::value!(@object [] $($tt)+) };
    ($other:expr) => { $crate::json_value::IntoJson::into_json($other) };
}
pub(crate) use value;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    const KEY: &str = "railyard.dev/site";

    /// Every kind of part gives what `json!` gives, key order, number kinds and nulls included.
    #[test]
    fn values_are_those_json_builds() {
        let labels = BTreeMap::from([
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "1".to_owned()),
        ]);
        let name = String::from("web");
        let words: &[&str] = &["get", "list"];
        let none: Option<&str> = None;
        let nested = json!({ "x": [1, 2] });
        let built = value!({
            "apiVersion": "v1",
            KEY: name.clone(),
            ("computed".to_owned() + "-key"): &name,
            "metadata": { "labels": labels.clone(), "empty": {}, "list": [] },
            "words": words,
            "items": [null, true, -1, 2_u16, 0.5, f64::NAN, { "k": "v" }, ["in"], nested.clone()],
            "none": none,
            "some": Some(3_i32),
            "null": null,
            "moved": vec![nested.clone()],
            "format": format!("{name}:{}", 1),
        });
        let expected = json!({
            "apiVersion": "v1",
            KEY: name.clone(),
            ("computed".to_owned() + "-key"): &name,
            "metadata": { "labels": labels, "empty": {}, "list": [] },
            "words": words,
            "items": [null, true, -1, 2_u16, 0.5, f64::NAN, { "k": "v" }, ["in"], nested.clone()],
            "none": none,
            "some": Some(3_i32),
            "null": null,
            "moved": vec![nested],
            "format": format!("{name}:{}", 1),
        });
        assert_eq!(built, expected);
        assert_eq!(built.to_string(), expected.to_string());
        assert!(built["items"][2].is_i64() && built["items"][3].is_u64());
    }
}
