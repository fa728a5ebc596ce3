//! Query strings: decoding, the list parameters (`page`, `per_page`, `sort`) and sorting.

use serde_json::Value;

use super::check::{ApiError, Result};

/// The decoded query string.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(raw: &str) -> Query {
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub(super) fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Percent-decoding, `+` as a space (form encoding, as reqwest's `query` writes it).
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn positive(query: &Query, key: &str) -> Result<Option<u64>> {
    query
        .first(key)
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::invalid(key, format!("'{v}' is not a positive integer")))
        })
        .transpose()
}

/// Sorted by the `sort` parameters (`key`, `key:asc`, `key:desc`; earlier ones first), each
/// allowed key naming the JSON field it sorts by; by ID when there are none.
pub(super) fn sorted(
    mut items: Vec<Value>,
    query: &Query,
    allowed: &[(&str, &str)],
) -> Result<Vec<Value>> {
    let mut keys = Vec::new();
    for sort in query.all("sort") {
        let (key, descending) = match sort.split_once(':') {
            Some((key, "asc")) => (key, false),
            Some((key, "desc")) => (key, true),
            Some(_) => return Err(ApiError::invalid("sort", format!("'{sort}' is not valid"))),
            None => (sort, false),
        };
        let field = allowed
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, f)| *f)
            .ok_or_else(|| ApiError::invalid("sort", format!("cannot sort by '{key}'")))?;
        keys.push((field, descending));
    }
    items.sort_by(|a, b| compare(&a["id"], &b["id"]));
    for (field, descending) in keys.into_iter().rev() {
        items.sort_by(|a, b| {
            let order = compare(&a[field], &b[field]);
            if descending { order.reverse() } else { order }
        });
    }
    Ok(items)
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Null, Value::Null) => std::cmp::Ordering::Equal,
        (Value::Null, _) => std::cmp::Ordering::Less,
        (_, Value::Null) => std::cmp::Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}
