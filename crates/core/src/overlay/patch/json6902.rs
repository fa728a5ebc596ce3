//! JSON 6902 operations on one object, as kustomize v5.5 applies them (json-patch v4.12.0, not
//! RFC 6902: see `json6902/pointer.rs`); `add` under a missing parent fails, as in kustomize.

mod pointer;

use serde_json::Value as Json;

use super::super::kustomization::Kustomization;
use super::super::resource::Resource;
use super::super::scalars::strings_of;
use super::super::{KEEP, OutOfWork, Work, weight};
use crate::diagnostic::Diagnostic;
use crate::limits::MAX_OBJECT_DEPTH;

/// Why one operation does not apply.
#[derive(Debug, thiserror::Error)]
pub(super) enum OperationError {
    #[error("the object would nest more than {MAX_OBJECT_DEPTH} levels deep")]
    TooDeep,
    #[error("only a mapping can replace the whole object")]
    NotAMapping,
    #[error("`{0}` is not a list index")]
    NotAnIndex(String),
    #[error("index {0} is out of range")]
    OutOfRange(i64),
    #[error("`{0}` is below a scalar")]
    BelowScalar(String),
    #[error("the parent is a scalar")]
    ParentIsScalar,
    #[error("`{0}` does not exist")]
    Missing(String),
    #[error("the parent of `{0}` does not exist")]
    NoParent(String),
    #[error("the operation has no `{0}` string")]
    NoField(&'static str),
    #[error("the value is {found}, not {expected}")]
    TestFailed {
        found: Box<Json>,
        expected: Box<Json>,
    },
    #[error("the path does not exist")]
    TestPathMissing,
    #[error("unknown operation `{0}`")]
    UnknownOperation(String),
    #[error(transparent)]
    OutOfWork(#[from] OutOfWork),
}

/// Applies `operations` to `resource`; a failing operation is reported where it is written
/// (`locations`, one per operation), else at the patch's entry.
pub(super) fn apply(
    kustomization: &Kustomization,
    patch: &super::Patch,
    operations: &Json,
    resource: &mut Resource,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    let (pointer, locations) = (patch.pointer.as_str(), &patch.locations);
    let Json::Array(operations) = operations else {
        return Err(vec![
            kustomization.error(pointer, "a JSON 6902 patch is a list of operations"),
        ]);
    };
    // kustomize applies the operations to the object's JSON and decodes the result into a new
    // tree (api/filters/patchjson6902), so the value nodes a label transform shared between
    // places are separate copies from here on.
    resource.aliases.clear();
    // ... and a value written as nothing is a `null` like any other
    resource.empty_nulls.clear();
    for (i, operation) in operations.iter().enumerate() {
        // named as it was before the operation, which may fail half way (`replace`, `move`)
        let (kind, name) = (resource.kind(), resource.name());
        let Err(why) = apply_one(&mut resource.object, operation, patch.raw_json, work) else {
            continue;
        };
        let field = |key: &str| {
            operation
                .get(key)
                .and_then(Json::as_str)
                .unwrap_or_default()
        };
        let message = format!(
            "operation {i} (`{} {}`) on {kind} `{name}` failed: {why}",
            field("op"),
            field("path")
        );
        let diagnostic = match locations.get(i) {
            Some((file, span)) => Diagnostic::error(file, *span, &format!("[{i}]"), message),
            None => kustomization.error(pointer, message),
        };
        return Err(vec![diagnostic.expected("an operation that applies to the object").hint("operations apply before namespace, prefix and labels; `add` needs an existing parent, `remove` an existing path")]);
    }
    resource.styled = strings_of(&resource.object);
    Ok(())
}

/// One operation; what `move` and `copy` add is paid for, as a copy can double an object.
fn apply_one(
    object: &mut Json,
    operation: &Json,
    raw_json: bool,
    work: &Work,
) -> Result<(), OperationError> {
    let field = |key: &'static str| {
        operation
            .get(key)
            .and_then(Json::as_str)
            .ok_or(OperationError::NoField(key))
    };
    // a missing `value` is `null`, as the library reads it
    let value = || operation.get("value").cloned().unwrap_or(Json::Null);
    match operation
        .get("op")
        .and_then(Json::as_str)
        .unwrap_or_default()
    {
        "add" => add(object, field("path")?, value()),
        "remove" => remove(object, field("path")?).map(drop),
        "replace" => replace(object, field("path")?, value()),
        "move" => {
            let moved = remove(object, field("from")?)?;
            work.spend(weight(&moved))?;
            add(object, field("path")?, moved)
        }
        "copy" => {
            // a missing mapping key reads as `null`, so copying it adds a `null`
            let copied = match read(object, field("from")?)? {
                Some(found) => {
                    work.spend(KEEP * weight(found))?;
                    found.clone()
                }
                None => Json::Null,
            };
            add(object, field("path")?, copied)
        }
        "test" => test(object, field("path")?, operation.get("value"), raw_json),
        other => Err(OperationError::UnknownOperation(other.to_owned())),
    }
}

/// `test`: a missing or `null` value passes only against an explicit `null`; the whole object
/// (path ``) compares with the value like any other.
fn test(
    object: &mut Json,
    path: &str,
    expected: Option<&Json>,
    raw_json: bool,
) -> Result<(), OperationError> {
    let found = if path.is_empty() {
        Some(&*object)
    } else {
        read(object, path)?.filter(|found| !found.is_null())
    };
    match (found, expected) {
        (None, Some(Json::Null)) => Ok(()),
        (None, _) => Err(OperationError::TestPathMissing),
        (Some(found), Some(expected)) if pointer::same(found, expected, raw_json) => Ok(()),
        (Some(found), expected) => Err(OperationError::TestFailed {
            found: Box::new(found.clone()),
            expected: Box::new(expected.cloned().unwrap_or(Json::Null)),
        }),
    }
}

/// Levels of mappings and lists in a value (a scalar is 0), counted up to `limit` + 1.
fn depth(value: &Json, limit: usize) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        if level > limit {
            break;
        }
        match value {
            Json::Object(map) => stack.extend(map.values().map(|v| (v, level + 1))),
            Json::Array(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

fn check_depth(path: &str, value: &Json) -> Result<(), OperationError> {
    if path.matches('/').count() + depth(value, MAX_OBJECT_DEPTH) > MAX_OBJECT_DEPTH {
        return Err(OperationError::TooDeep);
    }
    Ok(())
}

/// The value at `path`, `None` for a missing mapping key (a missing list item is an error).
fn read<'a>(object: &'a mut Json, path: &str) -> Result<Option<&'a Json>, OperationError> {
    let pointer::Parent { node, key } = pointer::parent(object, path)?;
    match node {
        Json::Object(map) => Ok(map.get(&key)),
        Json::Array(items) => Ok(Some(&items[pointer::existing(items.len(), &key)?])),
        _ => Err(OperationError::ParentIsScalar),
    }
}

fn add(object: &mut Json, path: &str, value: Json) -> Result<(), OperationError> {
    check_depth(path, &value)?;
    let pointer::Parent { node, key } = pointer::parent(object, path)?;
    match node {
        Json::Object(map) => {
            map.insert(key, value);
            Ok(())
        }
        Json::Array(items) => {
            let at = pointer::insertion(items.len(), &key)?;
            items.insert(at, value);
            Ok(())
        }
        _ => Err(OperationError::ParentIsScalar),
    }
}

/// `replace` of a missing mapping key adds it; of the whole object (path ``) takes a mapping
/// and, as the library does, ignores a scalar or `null`.
fn replace(object: &mut Json, path: &str, value: Json) -> Result<(), OperationError> {
    check_depth(path, &value)?;
    if path.is_empty() {
        match value {
            Json::Object(_) => *object = value,
            Json::Array(_) => return Err(OperationError::NotAMapping),
            _ => {}
        }
        return Ok(());
    }
    let pointer::Parent { node, key } = pointer::parent(object, path)?;
    match node {
        Json::Object(map) => {
            map.insert(key, value);
            Ok(())
        }
        Json::Array(items) => {
            let at = pointer::existing(items.len(), &key)?;
            items[at] = value;
            Ok(())
        }
        _ => Err(OperationError::ParentIsScalar),
    }
}

fn remove(object: &mut Json, path: &str) -> Result<Json, OperationError> {
    let pointer::Parent { node, key } = pointer::parent(object, path)?;
    match node {
        Json::Object(map) => map
            .remove(&key)
            .ok_or_else(|| OperationError::Missing(path.to_owned())),
        Json::Array(items) => Ok(items.remove(pointer::existing(items.len(), &key)?)),
        _ => Err(OperationError::ParentIsScalar),
    }
}
