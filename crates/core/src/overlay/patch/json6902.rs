//! JSON 6902 operations on one object, with kustomize's leniency: `add` creates missing parent
//! mappings.

use serde_json::{Map, Value as Json};

use super::super::kustomization::Kustomization;
use super::super::resource::Resource;
use super::super::{KEEP, OutOfWork, Work, weight};
use crate::diagnostic::Diagnostic;
use crate::limits::MAX_OBJECT_DEPTH;
use crate::source::Span;

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
    OutOfRange(usize),
    #[error("`{0}` is below a scalar")]
    BelowScalar(String),
    #[error("the parent is a scalar")]
    ParentIsScalar,
    #[error("`{0}` does not exist")]
    Missing(String),
    #[error("cannot remove the whole object")]
    WholeObject,
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
    pointer: &str,
    operations: &Json,
    locations: &[(String, Span)],
    resource: &mut Resource,
    work: &Work,
) -> Result<(), Vec<Diagnostic>> {
    let Json::Array(operations) = operations else {
        return Err(vec![
            kustomization.error(pointer, "a JSON 6902 patch is a list of operations"),
        ]);
    };
    for (i, operation) in operations.iter().enumerate() {
        // named as it was before the operation, which may fail half way (`replace`, `move`)
        let (kind, name) = (resource.kind(), resource.name());
        let Err(why) = apply_one(&mut resource.object, operation, work) else {
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
        return Err(vec![diagnostic.expected("an operation that applies to the object").hint("operations apply before namespace, prefix and labels; `remove` and `replace` need an existing path")]);
    }
    Ok(())
}

/// One operation; what `move` and `copy` add is paid for, as a copy can double an object.
fn apply_one(object: &mut Json, operation: &Json, work: &Work) -> Result<(), OperationError> {
    let field = |key: &str| {
        operation
            .get(key)
            .and_then(Json::as_str)
            .unwrap_or_default()
    };
    let path = field("path");
    let value = || operation.get("value").cloned().unwrap_or(Json::Null);
    match field("op") {
        "add" => add(object, path, value()),
        "remove" => remove(object, path).map(|_| ()),
        "replace" => remove(object, path).and_then(|_| add(object, path, value())),
        "move" => {
            let moved = remove(object, field("from"))?;
            work.spend(weight(&moved))?;
            add(object, path, moved)
        }
        "copy" => {
            let from = field("from");
            let copied = object
                .pointer(from)
                .ok_or_else(|| OperationError::Missing(from.to_owned()))?;
            work.spend(KEEP * weight(copied))?;
            let copied = copied.clone();
            add(object, path, copied)
        }
        "test" => match object.pointer(path) {
            Some(found) if Some(found) == operation.get("value") => Ok(()),
            Some(found) => Err(OperationError::TestFailed {
                found: Box::new(found.clone()),
                expected: Box::new(operation.get("value").cloned().unwrap_or(Json::Null)),
            }),
            None => Err(OperationError::TestPathMissing),
        },
        other => Err(OperationError::UnknownOperation(other.to_owned())),
    }
}

fn split_pointer(path: &str) -> Vec<String> {
    path.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
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

fn list_index(part: &str) -> Result<usize, OperationError> {
    part.parse()
        .map_err(|_| OperationError::NotAnIndex(part.to_owned()))
}

fn add(object: &mut Json, path: &str, value: Json) -> Result<(), OperationError> {
    if path.matches('/').count() + depth(&value, MAX_OBJECT_DEPTH) > MAX_OBJECT_DEPTH {
        return Err(OperationError::TooDeep);
    }
    let parts = split_pointer(path);
    let Some((last, parents)) = parts.split_last() else {
        if !value.is_object() {
            return Err(OperationError::NotAMapping);
        }
        *object = value;
        return Ok(());
    };
    let mut node = object;
    for part in parents {
        node = match node {
            Json::Object(map) => map
                .entry(part.clone())
                .or_insert_with(|| Json::Object(Map::new())),
            Json::Array(items) => {
                let index = list_index(part)?;
                items
                    .get_mut(index)
                    .ok_or(OperationError::OutOfRange(index))?
            }
            _ => return Err(OperationError::BelowScalar(part.clone())),
        };
    }
    match node {
        Json::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Json::Array(items) if last == "-" => {
            items.push(value);
            Ok(())
        }
        Json::Array(items) => {
            let index = list_index(last)?;
            if index > items.len() {
                return Err(OperationError::OutOfRange(index));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(OperationError::ParentIsScalar),
    }
}

fn remove(object: &mut Json, path: &str) -> Result<Json, OperationError> {
    let missing = || OperationError::Missing(path.to_owned());
    let parts = split_pointer(path);
    let (last, parents) = parts.split_last().ok_or(OperationError::WholeObject)?;
    let mut node = object;
    for part in parents {
        node = match node {
            Json::Object(map) => map.get_mut(part).ok_or_else(missing)?,
            Json::Array(items) => items.get_mut(list_index(part)?).ok_or_else(missing)?,
            _ => return Err(missing()),
        };
    }
    match node {
        Json::Object(map) => map.remove(last).ok_or_else(missing),
        Json::Array(items) => {
            let index = list_index(last)?;
            (index < items.len())
                .then(|| items.remove(index))
                .ok_or_else(missing)
        }
        _ => Err(missing()),
    }
}
