//! Architecture invariants, checked under `cargo test` rather than by a separate script.

use std::path::{Path, PathBuf};

use crate::support::{root, updating};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
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

#[test]
fn every_module_starts_with_a_doc_line() {
    let mut missing = Vec::new();
    for dir in ["src", "tests"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).expect("readable");
            if !text.starts_with("//!") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` first line: {missing:?}"
    );
}

/// The core is pure: no file, network, clock, environment, process or randomness.
#[test]
fn the_core_does_no_io() {
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "std::env",
        "std::process",
        "std::net",
        "std::io::stdin",
        "std::time",
        "SystemTime",
        "Instant::",
        "rand::",
        "tokio",
        "reqwest",
        "File::",
        "env::var",
        "Command::new",
        "println!",
        "eprintln!",
        "print!(",
        "crate::edge",
        "crate::app",
    ];
    let mut found = Vec::new();
    let mut files = rust_files(&root().join("src/core"));
    files.push(root().join("src/core.rs"));
    // Bootstrap's values are pure by the same rule, and never reach into `edge` or `app`.
    files.extend(rust_files(&root().join("src/bootstrap")));
    files.push(root().join("src/bootstrap.rs"));
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (number, line) in text.lines().enumerate() {
            for word in FORBIDDEN.iter().filter(|w| contains_word(line, w)) {
                found.push(format!("{}:{}: `{word}`", file.display(), number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "IO inside the pure core:\n{}",
        found.join("\n")
    );
}

/// `word` in `line`, not as the tail of a longer name (`SourceFile::` is not `File::`).
fn contains_word(line: &str, word: &str) -> bool {
    line.match_indices(word)
        .any(|(i, _)| !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
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

#[test]
fn no_ignored_or_should_panic_tests() {
    let mut found = Vec::new();
    for dir in ["src", "tests"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).expect("readable");
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
