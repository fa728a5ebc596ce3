//! Field paths of `replacements`, as kustomize's kyaml walks them: `a.b.[name=x].c`, split so
//! that a bracketed part keeps its dots; a source is looked up (exact list matches, an index,
//! `-` for the last item), a target is matched (list matches are unanchored regular
//! expressions, `*` walks every item) and, with `create`, missing parts are made.

use serde_json::{Map, Value as Json};

use super::super::regex;
use super::value::{is_scalar, resolve, text};

/// Why a field path cannot be walked.
#[derive(Debug, thiserror::Error)]
pub(super) enum PathError {
    #[error("`{part}` expects a list, found {found}")]
    NotAList { part: String, found: &'static str },
    #[error("`{part}` expects a mapping, found {found}")]
    NotAMapping { part: String, found: &'static str },
    #[error("array index {0} cannot be negative")]
    NegativeIndex(i64),
    #[error("wildcard `*` is not supported in a source's fieldPath")]
    WildcardInSource,
    #[error("`{0}` must contain fieldName=fieldValue for an item to match")]
    NoEquals(String),
    #[error("index {index} specified but only {len} elements found")]
    IndexPastEnd { index: usize, len: usize },
    #[error("`{0}` is not a valid regular expression")]
    Pattern(String),
    #[error("cannot create `{0}` below a null value")]
    CreateBelowNull(String),
}

/// Splits a field path at dots, keeping a bracketed part whole (`[name=a.b]`); brackets around
/// a part without `=` only quote it (`[a.b]` is the key `a.b`); `\.` is a literal dot.
pub(super) fn split(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut pieces = path.split('.').collect::<Vec<_>>();
    if pieces.len() > 1 && pieces[0].is_empty() {
        pieces.remove(0);
    }
    for piece in pieces {
        match parts.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(piece);
            }
            _ => parts.push(piece.to_owned()),
        }
    }
    let mut result = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let part = &parts[i];
        if part.starts_with('[') && !part.ends_with(']') {
            let mut bracketed = vec![part.clone()];
            while i < parts.len() - 1 {
                i += 1;
                bracketed.push(parts[i].clone());
                if parts[i].ends_with(']') {
                    break;
                }
            }
            let joined = bracketed.join(".");
            if joined.contains('=') {
                result.push(joined);
            } else {
                result.push(joined.trim_matches(['[', ']']).to_owned());
            }
        } else {
            result.push(part.clone());
        }
        i += 1;
    }
    result
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn describe(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

/// `[name=value]` → (`name`, `value`).
fn split_match(part: &str) -> Result<(&str, &str), PathError> {
    let inner = part.strip_prefix('[').unwrap_or(part);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    inner
        .split_once('=')
        .ok_or_else(|| PathError::NoEquals(part.to_owned()))
}

fn is_list_match(part: &str) -> bool {
    part.starts_with('[') && part.ends_with(']')
}

/// Looks up a source's field (kyaml's `PathGetter` without create), with its JSON pointer:
/// `None` when a part is missing or null.
pub(super) fn lookup<'a>(
    object: &'a Json,
    parts: &[String],
) -> Result<Option<(&'a Json, String)>, PathError> {
    let mut node = object;
    let mut pointer = String::new();
    for part in parts {
        if node.is_null() {
            return Ok(None);
        }
        let next = if let Ok(index) = part.parse::<i64>() {
            if index < 0 {
                return Err(PathError::NegativeIndex(index));
            }
            let index = usize::try_from(index).unwrap_or(usize::MAX);
            list(node, part)?.get(index).map(|item| (index, item))
        } else if part == "-" {
            let items = list(node, part)?;
            items.last().map(|item| (items.len() - 1, item))
        } else if part == "*" {
            return Err(PathError::WildcardInSource);
        } else if is_list_match(part) {
            let (key, value) = split_match(part)?;
            list(node, part)?.iter().enumerate().find(|(_, item)| {
                if key.is_empty() {
                    is_scalar(item) && text(item) == value
                } else {
                    item.get(key)
                        .is_some_and(|v| is_scalar(v) && text(v) == value)
                }
            })
        } else {
            match node {
                Json::Object(map) => {
                    if let Some(found) = map.get(part.as_str()) {
                        let escaped = part.replace('~', "~0").replace('/', "~1");
                        pointer = format!("{pointer}/{escaped}");
                        node = found;
                        continue;
                    }
                    None
                }
                other => {
                    return Err(PathError::NotAMapping {
                        part: part.clone(),
                        found: describe(other),
                    });
                }
            }
        };
        match next {
            Some((index, found)) => {
                pointer = format!("{pointer}/{index}");
                node = found;
            }
            None => return Ok(None),
        }
    }
    Ok(Some((node, pointer)))
}

fn list<'a>(node: &'a Json, part: &str) -> Result<&'a [Json], PathError> {
    match node {
        Json::Array(items) => Ok(items),
        other => Err(PathError::NotAList {
            part: part.to_owned(),
            found: describe(other),
        }),
    }
}

/// What `create` makes at the end of a path: the kind of the replacement value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Create {
    Scalar,
    Mapping,
    List,
}

impl Create {
    pub(super) fn of(value: &Json) -> Create {
        match value {
            Json::Object(_) => Create::Mapping,
            Json::Array(_) => Create::List,
            _ => Create::Scalar,
        }
    }
}

/// A field a target path reached: the node, whether `create` just made it a scalar (it then
/// takes the replacement's text with no type of its own), and its JSON pointer.
pub(super) type Visit<'v> = dyn FnMut(&mut Json, bool, &str) -> Result<(), String> + 'v;

/// Walks a target path (kyaml's `PathMatcher`), calling `visit` on every field it reaches;
/// returns how many. With `create`, missing fields, list items and list matches are made.
pub(super) struct Matcher<'p> {
    pub(super) parts: &'p [String],
    pub(super) create: Option<Create>,
}

/// What a walk step failed on: the path, or the visit.
pub(super) enum WalkError {
    Path(PathError),
    Visit(String),
}

impl From<PathError> for WalkError {
    fn from(error: PathError) -> WalkError {
        WalkError::Path(error)
    }
}

impl Matcher<'_> {
    pub(super) fn walk(
        &self,
        node: &mut Json,
        at: usize,
        fresh: bool,
        pointer: &str,
        visit: &mut Visit<'_>,
    ) -> Result<usize, WalkError> {
        let Some(part) = self.parts.get(at) else {
            visit(node, fresh, pointer).map_err(WalkError::Visit)?;
            return Ok(1);
        };
        if part.parse::<i64>().is_ok_and(|i| i >= 0) {
            return self.index(node, at, pointer, visit);
        }
        if is_list_match(part) {
            return self.matching_items(node, at, pointer, visit);
        }
        if part == "*" {
            let mut count = 0;
            let create = self.create.is_some();
            let items = items_mut(node, part, create)?.into_iter().flatten();
            for (i, item) in items.enumerate() {
                count += self.walk(item, at + 1, false, &format!("{pointer}/{i}"), visit)?;
            }
            return Ok(count);
        }
        self.field(node, at, pointer, visit)
    }

    /// The kind of node `create` makes for the part after `at`.
    fn new_node(&self, at: usize) -> (Json, bool) {
        match self.parts.get(at + 1) {
            Some(next) if is_list_match(next) || next.parse::<i64>().is_ok_and(|i| i >= 0) => {
                (Json::Array(Vec::new()), false)
            }
            Some(_) => (Json::Object(Map::new()), false),
            None => match self.create {
                Some(Create::Mapping) => (Json::Object(Map::new()), false),
                Some(Create::List) => (Json::Array(Vec::new()), false),
                _ => (Json::Null, true),
            },
        }
    }

    fn field(
        &self,
        node: &mut Json,
        at: usize,
        pointer: &str,
        visit: &mut Visit<'_>,
    ) -> Result<usize, WalkError> {
        let part = &self.parts[at];
        let map = match node {
            Json::Object(map) => map,
            Json::Null if self.create.is_some() => {
                return Err(PathError::CreateBelowNull(part.clone()).into());
            }
            Json::Null => return Ok(0),
            other => {
                return Err(PathError::NotAMapping {
                    part: part.clone(),
                    found: describe(other),
                }
                .into());
            }
        };
        let mut fresh = false;
        if !map.contains_key(part.as_str()) {
            if self.create.is_none() {
                return Ok(0);
            }
            let (value, scalar) = self.new_node(at);
            fresh = scalar;
            map.insert(part.clone(), value);
        }
        let child = map.get_mut(part.as_str()).expect("present");
        let escaped = part.replace('~', "~0").replace('/', "~1");
        self.walk(child, at + 1, fresh, &format!("{pointer}/{escaped}"), visit)
    }

    fn index(
        &self,
        node: &mut Json,
        at: usize,
        pointer: &str,
        visit: &mut Visit<'_>,
    ) -> Result<usize, WalkError> {
        let part = &self.parts[at];
        let index: usize = part.parse().unwrap_or(usize::MAX);
        let (new, scalar) = self.new_node(at);
        let Some(items) = items_mut(node, part, self.create.is_some())? else {
            return Ok(0);
        };
        let mut fresh = false;
        if items.len() == index && self.create.is_some() {
            items.push(new);
            fresh = scalar;
        }
        let len = items.len();
        let item = items
            .get_mut(index)
            .ok_or(PathError::IndexPastEnd { index, len })?;
        self.walk(item, at + 1, fresh, &format!("{pointer}/{index}"), visit)
    }

    fn matching_items(
        &self,
        node: &mut Json,
        at: usize,
        pointer: &str,
        visit: &mut Visit<'_>,
    ) -> Result<usize, WalkError> {
        let part = &self.parts[at];
        let (key, pattern) = split_match(part)?;
        let pattern = regex(pattern).map_err(|_| PathError::Pattern(pattern.to_owned()))?;
        let matches = |item: &Json| {
            let value = if key.is_empty() {
                Some(item)
            } else {
                item.get(key)
            };
            value.is_some_and(|v| is_scalar(v) && !v.is_null() && pattern.is_match(&text(v)))
        };
        let mut count = 0;
        let mut matched = false;
        let create = self.create.is_some();
        let items = items_mut(node, part, create)?.into_iter().flatten();
        for (i, item) in items.enumerate() {
            if matches(item) {
                matched = true;
                count += self.walk(item, at + 1, false, &format!("{pointer}/{i}"), visit)?;
            }
        }
        if matched || self.create.is_none() {
            return Ok(count);
        }
        let (key, value) = split_match(part)?;
        let value = resolve(value);
        let item = if key.is_empty() {
            value
        } else {
            Json::Object(Map::from_iter([(key.to_owned(), value)]))
        };
        let Some(items) = items_mut(node, part, create)? else {
            return Ok(0);
        };
        items.push(item);
        let mut count = 0;
        for (i, item) in items.iter_mut().enumerate() {
            if matches(item) {
                count += self.walk(item, at + 1, false, &format!("{pointer}/{i}"), visit)?;
            }
        }
        Ok(count)
    }
}

/// The items of a list to walk; a null has none (and `create` cannot make any below it).
fn items_mut<'a>(
    node: &'a mut Json,
    part: &str,
    create: bool,
) -> Result<Option<&'a mut Vec<Json>>, PathError> {
    match node {
        Json::Array(items) => Ok(Some(items)),
        Json::Null if create => Err(PathError::CreateBelowNull(part.to_owned())),
        Json::Null => Ok(None),
        other => Err(PathError::NotAList {
            part: part.to_owned(),
            found: describe(other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parts(path: &str) -> Vec<String> {
        split(path)
    }

    #[test]
    fn brackets_keep_dots_and_quote_keys() {
        assert_eq!(
            parts("spec.containers.[name=a.b].image"),
            ["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(
            parts("metadata.annotations.[example.com/x]"),
            ["metadata", "annotations", "example.com/x"]
        );
        assert_eq!(parts(r"a\.b.c"), ["a.b", "c"]);
        assert_eq!(parts(".a.b"), ["a", "b"]);
    }

    #[test]
    fn a_source_lookup_matches_exactly_and_by_index() {
        let object = json!({"l": [{"name": "app-x", "v": 1}, {"name": "app", "v": 2}]});
        let found = |p: &str| {
            lookup(&object, &parts(p))
                .expect("walks")
                .map(|(v, _)| v.clone())
        };
        assert_eq!(found("l.[name=app].v"), Some(json!(2)));
        assert_eq!(found("l.0.v"), Some(json!(1)));
        assert_eq!(found("l.-.v"), Some(json!(2)));
        let pointer = lookup(&object, &parts("l.[name=app].v")).expect("walks");
        assert_eq!(pointer.map(|(_, p)| p), Some("/l/1/v".to_owned()));
        assert_eq!(found("l.5.v"), None);
        assert!(lookup(&object, &parts("l.-1")).is_err());
        assert!(lookup(&object, &parts("l.*")).is_err());
    }

    #[test]
    fn a_target_match_is_an_unanchored_pattern_and_create_adds_items() {
        let mut object = json!({"l": [{"name": "app-x"}, {"name": "app"}, {"name": "db"}]});
        let path = parts("l.[name=app].v");
        let matcher = Matcher {
            parts: &path,
            create: Some(Create::Scalar),
        };
        let mut seen = 0;
        let mut visit = |field: &mut Json, fresh: bool, _: &str| {
            assert!(fresh);
            *field = json!(seen);
            seen += 1;
            Ok(())
        };
        let count = matcher.walk(&mut object, 0, false, "", &mut visit).ok();
        assert_eq!(count, Some(2));
        assert_eq!(object["l"][0]["v"], json!(0));
        assert_eq!(object["l"][1]["v"], json!(1));
        assert!(object["l"][2].get("v").is_none());
        let path = parts("l.[name=cache].v");
        let matcher = Matcher {
            parts: &path,
            create: Some(Create::Scalar),
        };
        let mut visit = |field: &mut Json, _: bool, pointer: &str| {
            assert_eq!(pointer, "/l/3/v");
            *field = json!("new");
            Ok(())
        };
        assert_eq!(
            matcher.walk(&mut object, 0, false, "", &mut visit).ok(),
            Some(1)
        );
        assert_eq!(object["l"][3], json!({"name": "cache", "v": "new"}));
    }
}
