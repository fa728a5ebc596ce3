//! Semantic rules: what the schema cannot say about a site, each with a precise location.
//!
//! Rules read the parsed JSON leniently: a value of the wrong shape was already reported by
//! the schema check, so a rule skips it rather than report it twice. Each concern has its own
//! module below; the pointers they read and report live in [`pointers`].

use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::load_problem::LoadedFiles;
use crate::secrets_file::SecretsInfo;
use crate::values::RelativePath;

mod certificates;
mod cloud;
mod git;
mod gitpod;
mod machine_secrets;
mod maintenance;
mod names;
mod network;
mod paths;
mod platform;
pub mod pointers;
mod pools;
mod secrets;
mod ssh;
mod versions;
mod warnings;

pub use machine_secrets::{MACHINE_SECRET_KEYS, SecretsLayout};
pub use secrets::{CLUSTER_SECRET_KEYS, is_builtin_secret_key, secret_references};

/// Runs every rule; returns the secrets file's key names when it could be read.
pub fn check(
    tree: &JsonTree,
    files: &LoadedFiles,
    layout: SecretsLayout,
) -> (Option<SecretsInfo>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut rules = Rules {
        tree,
        out: &mut out,
        layout,
    };
    rules.name();
    rules.domain();
    rules.cloud();
    rules.ssh(files);
    rules.git();
    rules.versions();
    rules.cert_manager();
    rules.gitpod();
    rules.overlays(files);
    rules.firewall();
    rules.private_network();
    rules.platform();
    rules.warnings();
    rules.maintenance();
    let secrets = rules.secrets(files);
    (secrets, out)
}

/// The site being checked and the findings so far; each rule module adds methods.
struct Rules<'a> {
    tree: &'a JsonTree,
    out: &'a mut Vec<Diagnostic>,
    layout: SecretsLayout,
}

impl Rules<'_> {
    fn str(&self, pointer: &str) -> Option<&str> {
        self.tree.str_at(pointer)
    }

    fn value(&self, pointer: &str) -> Option<&serde_json::Value> {
        crate::json_pointer::get(&self.tree.value, pointer)
    }

    /// The length of the array at `pointer`, 0 when it is absent or not an array.
    fn len(&self, pointer: &str) -> usize {
        self.value(pointer)
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len)
    }

    fn error(
        &mut self,
        pointer: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.out.push(
            self.tree
                .value_error(pointer, message)
                .expected(expected)
                .hint(hint),
        );
    }

    /// An error at the key of `pointer` rather than its value: for a whole list or map, whose
    /// value would underline many lines.
    fn key_error(
        &mut self,
        pointer: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.out.push(
            self.tree
                .key_error(pointer, message)
                .expected(expected)
                .hint(hint),
        );
    }

    /// The path at `pointer` when it stays inside the site directory; reports it otherwise.
    fn safe_path(&mut self, pointer: &str, path: &str) -> Option<RelativePath> {
        match RelativePath::parse(path) {
            Ok(path) => Some(path),
            Err(why) => {
                self.error(
                    pointer,
                    format!("path `{path}` {why}"),
                    "a relative path inside the site's directory",
                    "railyard reads and writes only below the site file's directory",
                );
                None
            }
        }
    }
}
