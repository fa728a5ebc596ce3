//! The stored form of a golden `ok` case's expected tree: the files that differ from a named base
//! case, plus the list of the base's files the case does not render (`golden/README.md`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::snapshot;

/// A file in `golden/ok/<case>/` naming the case whose expected tree this one starts from.
pub(crate) const BASE_FILE: &str = "base";

/// A file in `golden/ok/<case>/` listing, one a line, the base's files this case does not render.
pub(crate) const REMOVED_FILE: &str = "removed";

/// A rendered or expected tree: path relative to the output directory, bytes.
pub(crate) type Tree = BTreeMap<String, Vec<u8>>;

/// The base case `case` names, or `None` when `case` stores its whole tree.
pub(crate) fn base_of(case: &Path) -> Result<Option<String>, String> {
    let path = case.join(BASE_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("`{}`: {error}", path.display()))?;
    let name = text.trim();
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(format!(
            "`{}` must hold the name of one case in golden/ok, not `{name}`",
            path.display()
        ));
    }
    Ok(Some(name.to_owned()))
}

/// The case directory next to `case` called `name`, which must store its whole tree: a base of
/// a base would make a change to one case ripple through a chain nobody reads.
fn full_case(case: &Path, name: &str) -> Result<PathBuf, String> {
    let base = case.parent().expect("a case has a parent").join(name);
    if !base.join("expected").is_dir() {
        return Err(format!(
            "{}: base case `{name}` has no expected tree",
            case.display()
        ));
    }
    if base_of(&base)?.is_some() {
        return Err(format!(
            "{}: base case `{name}` has a base itself; a base stores its whole tree",
            case.display()
        ));
    }
    Ok(base)
}

fn removed_list(case: &Path) -> Result<Vec<String>, String> {
    let path = case.join(REMOVED_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("`{}`: {error}", path.display()))?;
    Ok(text
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The full expected tree of `golden/ok/<case>`: the base's `expected/`, less the paths in
/// `removed`, with the case's own `expected/` files on top. Fails on a stored file identical to
/// the base's or a removal of a file the base lacks, so the stored differences stay exact.
pub(crate) fn expected_tree(case: &Path) -> Result<Tree, String> {
    let own = snapshot(&case.join("expected"));
    let Some(name) = base_of(case)? else {
        if own.is_empty() {
            return Err(format!(
                "{}: no expected tree; run with UPDATE_GOLDEN=1 and review the new files",
                case.display()
            ));
        }
        return Ok(own);
    };
    let mut tree = snapshot(&full_case(case, &name)?.join("expected"));
    let mut problems = Vec::new();
    for path in removed_list(case)? {
        if tree.remove(&path).is_none() {
            problems.push(format!("removes `{path}`, which `{name}` does not render"));
        }
        if own.contains_key(&path) {
            problems.push(format!("both removes and stores `{path}`"));
        }
    }
    for (path, bytes) in own {
        if tree.get(&path) == Some(&bytes) {
            problems.push(format!("stores `{path}` unchanged from `{name}`"));
        }
        tree.insert(path, bytes);
    }
    if problems.is_empty() {
        Ok(tree)
    } else {
        Err(format!(
            "{}: {}; run with UPDATE_GOLDEN=1 to store exactly the differences",
            case.display(),
            problems.join(", ")
        ))
    }
}

/// Stores `actual` as the expected tree of `case`: whole when it names no base, otherwise only
/// the files that differ from `base_actual` (the base's rendered tree) and the list of removals.
pub(crate) fn write_expected(case: &Path, actual: &Tree, base_actual: Option<&Tree>) {
    let expected_dir = case.join("expected");
    let _ = std::fs::remove_dir_all(&expected_dir);
    let empty = Tree::new();
    let base = base_actual.unwrap_or(&empty);
    for (path, bytes) in actual.iter().filter(|(p, b)| base.get(*p) != Some(*b)) {
        let target = expected_dir.join(path);
        std::fs::create_dir_all(target.parent().expect("has parent")).expect("create");
        std::fs::write(target, bytes).expect("write");
    }
    let removed: String = base
        .keys()
        .filter(|path| !actual.contains_key(*path))
        .map(|path| format!("{path}\n"))
        .collect();
    let removed_path = case.join(REMOVED_FILE);
    if removed.is_empty() {
        let _ = std::fs::remove_file(removed_path);
    } else {
        std::fs::write(removed_path, removed).expect("write");
    }
}

/// Materialises the full expected tree of every `golden/ok` case under `into/<case>/expected`,
/// for tools that read files from disk; the paths are returned sorted by case.
pub(crate) fn materialise(cases: &[PathBuf], into: &Path) -> Result<Vec<PathBuf>, String> {
    let _ = std::fs::remove_dir_all(into);
    let mut trees = Vec::new();
    for case in cases {
        let tree = expected_tree(case)?;
        let dir = into
            .join(case.file_name().expect("a case has a name"))
            .join("expected");
        for (path, bytes) in &tree {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().expect("has parent")).expect("create");
            std::fs::write(target, bytes).expect("write");
        }
        trees.push(dir);
    }
    Ok(trees)
}
