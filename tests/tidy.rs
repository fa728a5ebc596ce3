//! Architecture invariants, checked under `cargo test` rather than by a separate script.
//!
//! The scanners read Rust as Rust: comments and literals are blanked first (`tidy/lexer.rs`),
//! `use` trees are read as trees (`tidy/imports.rs`), a function is measured by its braces
//! (`tidy/functions.rs`), and import circles are found over the module tree (`tidy/circles.rs`).

mod circles;
mod functions;
mod imports;
mod lexer;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{root, updating};

/// The pure parts of the tree: no file, network, clock, environment, process or randomness
/// (randomness is passed in). Each is a crate of the workspace, so its dependency list is the
/// first net (the compiler refuses what it does not list) and this scan the second. Each entry
/// is a directory, and `<entry>.rs` beside it when that file exists; a new pure part is one line
/// here.
const PURE_ROOTS: &[&str] = &["crates/core/src", "crates/sops/src", "crates/bootstrap/src"];

/// Where Rust source lives: the root package (the edge and the commands) and each crate.
fn source_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![root().join("src")];
    let crates = std::fs::read_dir(root().join("crates")).expect("a crates directory");
    let mut crates: Vec<PathBuf> = crates.flatten().map(|e| e.path().join("src")).collect();
    crates.sort();
    dirs.extend(crates.into_iter().filter(|d| d.is_dir()));
    dirs
}

/// Every `.rs` file of every source directory.
fn source_files() -> Vec<PathBuf> {
    source_dirs().iter().flat_map(|d| rust_files(d)).collect()
}

/// What a pure module may not name, as resolved paths: a `use` of any of these, grouped,
/// renamed or not, or a path written out in code.
const FORBIDDEN_PATHS: &[&[&str]] = &[
    &["std", "fs"],
    &["std", "env"],
    &["std", "process"],
    &["std", "net"],
    &["std", "time"],
    &["std", "thread"],
    &["std", "io", "stdin"],
    &["std", "io", "stdout"],
    &["std", "io", "stderr"],
    &["tokio"],
    &["reqwest"],
    &["git2"],
    &["rand"],
    &["getrandom"],
    &["rand_core", "OsRng"],
    &["crate", "edge"],
    &["crate", "app"],
];

/// Macros that print: a pure module returns text instead.
const FORBIDDEN_MACROS: &[&str] = &["println", "eprintln", "print", "eprint", "dbg"];

const MAX_FUNCTION_LINES: usize = 80;
const MAX_FILE_LINES: usize = 600;

/// Functions allowed over [`MAX_FUNCTION_LINES`]: (file, function, reason). Empty: a long
/// function is split rather than listed; an entry needs a reason a reviewer accepts, and the
/// test fails on an entry that no longer applies.
const LONG_FUNCTIONS: &[(&str, &str, &str)] = &[];

/// Files allowed over [`MAX_FILE_LINES`]: (file, reason), kept as [`LONG_FUNCTIONS`] is.
const LONG_FILES: &[(&str, &str)] = &[];

/// Sibling-module circles allowed: the sorted members, and the reason. Empty, kept as
/// [`LONG_FUNCTIONS`] is.
const KNOWN_CIRCLES: &[(&[&str], &str)] = &[];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `path` relative to the crate root, with `/`, for messages and the allow-lists.
fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("readable")
}

#[test]
fn every_module_starts_with_a_doc_line() {
    let mut missing = Vec::new();
    let mut dirs = source_dirs();
    dirs.push(root().join("tests"));
    for dir in dirs {
        for file in rust_files(&dir) {
            if !read(&file).starts_with("//!") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` first line: {missing:?}"
    );
}

/// Every file of the pure roots that exist, with its module path.
fn pure_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for pure in PURE_ROOTS {
        files.extend(rust_files(&root().join(pure)));
        let file = root().join(format!("{pure}.rs"));
        if file.is_file() {
            files.push(file);
        }
    }
    files
}

/// Where a file sits in the one module tree the workspace forms: the crate's place in it and
/// the file's module inside the crate. The root package's library is the root of the tree and
/// re-exports each crate `railyard_<name>` as module `<name>`, so `crates/core/src/yaml.rs` is
/// `core::yaml` as `src/app/cloud.rs` is `app::cloud`. `None` for the binary's `main.rs`.
struct Place {
    krate: Vec<String>,
    module: Vec<String>,
}

impl Place {
    fn of(path: &Path) -> Option<Place> {
        let relative = relative(path);
        let (krate, inside) = match relative.strip_prefix("crates/") {
            Some(rest) => {
                let (name, inside) = rest.split_once("/src/")?;
                (vec![name.to_owned()], inside)
            }
            None => (Vec::new(), relative.strip_prefix("src/")?),
        };
        let module = match inside.strip_suffix(".rs")? {
            "lib" => Vec::new(),
            "main" if krate.is_empty() => return None,
            inside => inside.split('/').map(str::to_owned).collect(),
        };
        Some(Place { krate, module })
    }

    /// The file's module in the whole tree.
    fn full(&self) -> Vec<String> {
        [self.krate.clone(), self.module.clone()].concat()
    }

    /// The names `text` uses, as paths in the whole tree: `crate::x` inside a crate, and
    /// `railyard_<name>::x` anywhere, become `crate::<name>::x`.
    fn names(&self, text: &str) -> imports::Names {
        let mut names = imports::names(text, &self.module);
        for reference in names.paths.iter_mut().chain(names.macros.iter_mut()) {
            let path = &mut reference.path;
            if path.first().is_some_and(|s| s == "crate") {
                path.splice(1..1, self.krate.iter().cloned());
            } else if let Some(name) = path.first().and_then(|s| s.strip_prefix("railyard_")) {
                let name = name.to_owned();
                path.splice(0..1, ["crate".to_owned(), name]);
            }
        }
        names
    }
}

/// `reference` is `forbidden` or below it, or a glob that could bring it in (`std::io::*`
/// brings `stdin`).
fn forbids(forbidden: &[&str], reference: &imports::Reference) -> bool {
    if reference.starts_with(forbidden) {
        return true;
    }
    let path = &reference.path;
    path.last().is_some_and(|s| s == "*")
        && path.len() - 1 <= forbidden.len()
        && path.iter().zip(forbidden).all(|(a, b)| a == b || a == "*")
}

/// The pure parts name nothing that does IO (see [`PURE_ROOTS`]).
#[test]
fn the_pure_modules_do_no_io() {
    let mut found = Vec::new();
    for file in pure_files() {
        let place = Place::of(&file).expect("a pure file is a library module");
        let names = place.names(&read(&file));
        for reference in &names.paths {
            if FORBIDDEN_PATHS.iter().any(|f| forbids(f, reference)) {
                found.push(format!(
                    "{}:{}: `{}`",
                    relative(&file),
                    reference.line,
                    reference.text()
                ));
            }
        }
        for call in &names.macros {
            if FORBIDDEN_MACROS.contains(&call.path[0].as_str()) {
                found.push(format!(
                    "{}:{}: `{}!`",
                    relative(&file),
                    call.line,
                    call.text()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "IO inside a pure module:\n{}",
        found.join("\n")
    );
}

/// Allow-list entries that matched nothing: the offender was fixed, so the entry goes.
fn stale<'a>(allowed: impl Iterator<Item = &'a str>, used: &BTreeSet<String>) -> Vec<String> {
    allowed
        .filter(|key| !used.contains(*key))
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_function_over_80_lines() {
    let mut found = Vec::new();
    let mut used = BTreeSet::new();
    for file in source_files() {
        let path = relative(&file);
        for function in functions::functions(&read(&file)) {
            if function.lines <= MAX_FUNCTION_LINES {
                continue;
            }
            let key = format!("{path} {}", function.name);
            if LONG_FUNCTIONS
                .iter()
                .any(|(p, name, _)| *p == path && *name == function.name)
            {
                used.insert(key);
            } else {
                found.push(format!(
                    "{path}:{}: `{}` is {} lines",
                    function.line, function.name, function.lines
                ));
            }
        }
    }
    let keys: Vec<String> = LONG_FUNCTIONS
        .iter()
        .map(|(p, name, _)| format!("{p} {name}"))
        .collect();
    let stale = stale(keys.iter().map(String::as_str), &used);
    assert!(
        found.is_empty() && stale.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}\nallow-list entries that no longer apply (remove them): {stale:?}",
        found.join("\n")
    );
}

#[test]
fn no_file_over_600_lines() {
    let mut found = Vec::new();
    let mut used = BTreeSet::new();
    for file in source_files() {
        let path = relative(&file);
        let lines = read(&file).lines().count();
        if lines <= MAX_FILE_LINES {
            continue;
        }
        if LONG_FILES.iter().any(|(p, _)| *p == path) {
            used.insert(path);
        } else {
            found.push(format!("{path}: {lines} lines"));
        }
    }
    let stale = stale(LONG_FILES.iter().map(|(p, _)| *p), &used);
    assert!(
        found.is_empty() && stale.is_empty(),
        "files over {MAX_FILE_LINES} lines (split into `foo.rs` + `foo/`):\n{}\nallow-list entries that no longer apply (remove them): {stale:?}",
        found.join("\n")
    );
}

#[test]
fn no_import_circle_between_sibling_modules() {
    let files: Vec<(PathBuf, Place)> = source_files()
        .into_iter()
        .filter_map(|f| Place::of(&f).map(|p| (f, p)))
        .collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(_, p)| p.full()).collect();
    let mut edges = Vec::new();
    for (file, place) in &files {
        let names = place.names(&read(file));
        edges.extend(circles::edges(
            &relative(file),
            &place.full(),
            &names.paths,
            &modules,
        ));
    }
    let mut found = Vec::new();
    let mut used = BTreeSet::new();
    for (members, inside) in circles::circles(&edges) {
        let members: Vec<String> = members.iter().map(|m| m.join("::")).collect();
        let key = members.join(" ");
        if KNOWN_CIRCLES
            .iter()
            .any(|(known, _)| known.join(" ") == key)
        {
            used.insert(key);
            continue;
        }
        let edges: Vec<String> = inside
            .iter()
            .map(|e| {
                format!(
                    "  {} → {} ({})",
                    e.from.join("::"),
                    e.to.join("::"),
                    e.evidence
                )
            })
            .collect();
        found.push(format!("{}:\n{}", members.join(" ↔ "), edges.join("\n")));
    }
    let keys: Vec<String> = KNOWN_CIRCLES.iter().map(|(m, _)| m.join(" ")).collect();
    let stale = stale(keys.iter().map(String::as_str), &used);
    assert!(
        found.is_empty() && stale.is_empty(),
        "import circles between sibling modules:\n{}\nknown circles that no longer exist (remove them): {stale:?}",
        found.join("\n")
    );
}

/// The code spans of a Markdown text outside fenced blocks.
fn code_spans(markdown: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            spans.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    spans
}

/// Every `src/…`, `tests/…` or `crates/…` path ARCHITECTURE.md names, file or directory, exists.
/// Spans with a placeholder (`*`, `<…>`) or a space are not paths.
#[test]
fn architecture_names_only_paths_that_exist() {
    let text = read(&root().join("ARCHITECTURE.md"));
    let missing: Vec<String> = code_spans(&text)
        .into_iter()
        .filter(|s| {
            ["src/", "tests/", "crates/"]
                .iter()
                .any(|p| s.starts_with(p))
        })
        .filter(|s| !s.contains(['*', '<', '>', ' ']))
        .filter(|s| !root().join(s.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn a_glob_that_could_bring_in_io_is_forbidden() {
    let names = imports::names("use std::io::*;\nuse std::fmt::*;\nuse std::fs::*;", &[]);
    let flagged: Vec<String> = names
        .paths
        .iter()
        .filter(|r| FORBIDDEN_PATHS.iter().any(|f| forbids(f, r)))
        .map(imports::Reference::text)
        .collect();
    assert_eq!(flagged, ["std::io::*", "std::fs::*"]);
}

#[test]
fn code_spans_skip_fenced_blocks() {
    let spans = code_spans("a `src/x.rs` b `tests/`\n```\n`src/no.rs`\n```\n`crates/c/`");
    assert_eq!(spans, ["src/x.rs", "tests/", "crates/c/"]);
}

#[test]
fn schema_file_is_generated_from_the_types() {
    let path = root().join("schema/site.schema.json");
    let generated = railyard::core::schema::site_schema_text();
    if updating() {
        std::fs::write(&path, &generated).expect("write schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/site.schema.json is stale; run `UPDATE_GOLDEN=1 cargo test` and commit it"
    );
}

/// railyard's own schemas are fixed when it is built, so they are checked against the JSON
/// Schema meta-schema here, once, and not by every run that compiles them (decision 0022).
#[test]
fn railyard_schemas_are_valid_json_schemas() {
    let broken = serde_json::json!({ "type": 5 });
    assert!(
        jsonschema::meta::validate(&broken).is_err(),
        "the meta-schema check accepts anything"
    );
    let dir = root().join("schema");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("schema/").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        if let Err(error) = jsonschema::meta::validate(&schema) {
            panic!("{} is not a valid JSON Schema: {error}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 2, "no schemas under {}", dir.display());
}

#[test]
fn no_ignored_or_should_panic_tests() {
    let mut found = Vec::new();
    let mut dirs = source_dirs();
    dirs.push(root().join("tests"));
    for dir in dirs {
        for file in rust_files(&dir) {
            let text = read(&file);
            let needles = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
            if needles.iter().any(|n| text.contains(n)) {
                found.push(file.display().to_string());
            }
        }
    }
    assert!(
        found.is_empty(),
        "ignored or should_panic tests in {found:?}: assert the behaviour instead"
    );
}

/// Names that only a certificate check of one's own needs: TLS is checked by the client
/// libraries (kube for clusters, reqwest for clouds) against the roots and names they are
/// given; a verifier written here would be a second, untested way to trust a server.
const TLS_OVERRIDES: &[&str] = &[
    "dangerous",
    "ServerCertVerifier",
    "set_certificate_verifier",
    "with_custom_certificate_verifier",
    "danger_accept_invalid_certs",
    "accept_invalid_certs",
];

#[test]
fn no_certificate_check_of_its_own() {
    let mut found = Vec::new();
    for file in source_files() {
        let blanked = lexer::blank(&read(&file));
        for token in lexer::tokens(&blanked) {
            if TLS_OVERRIDES.iter().any(|name| token.is(name)) {
                found.push(format!(
                    "{}:{}: `{}`",
                    relative(&file),
                    token.line,
                    token.text
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a certificate check of the project's own:\n{}",
        found.join("\n")
    );
}

/// The one package allowed unsafe code: a global allocator cannot be written without it.
const UNSAFE_PACKAGE: &str = "crates/alloc";

#[test]
fn every_package_but_the_allocator_forbids_unsafe_code() {
    let workspace = read(&root().join("Cargo.toml"));
    assert!(
        workspace.contains("[workspace.lints.rust]\nunsafe_code = \"forbid\""),
        "the workspace lints forbid unsafe code"
    );
    let mut manifests = vec![root().join("Cargo.toml")];
    let crates = std::fs::read_dir(root().join("crates")).expect("a crates directory");
    manifests.extend(crates.flatten().map(|e| e.path().join("Cargo.toml")));
    let mut found = Vec::new();
    for manifest in manifests.iter().filter(|m| m.is_file()) {
        let package = relative(manifest.parent().expect("a manifest's directory"));
        if package != UNSAFE_PACKAGE && !read(manifest).contains("[lints]\nworkspace = true") {
            found.push(format!("{package}: not under the workspace lints"));
        }
    }
    for file in source_files() {
        let path = relative(&file);
        if path.starts_with(UNSAFE_PACKAGE) {
            continue;
        }
        let blanked = lexer::blank(&read(&file));
        for token in lexer::tokens(&blanked)
            .into_iter()
            .filter(|t| t.is("unsafe"))
        {
            found.push(format!("{path}:{}: `unsafe`", token.line));
        }
    }
    assert!(
        found.is_empty(),
        "unsafe code outside {UNSAFE_PACKAGE}:\n{}",
        found.join("\n")
    );
}
