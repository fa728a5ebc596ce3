//! `.sops.yaml` creation rules: the nearest file above a secrets file, first rule whose
//! `path_regex` matches, as the `sops` CLI picks them.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::core::source::SourceFile;
use crate::core::yaml::{self, Node, Value};
use crate::sops::rules::Rule;

#[derive(Debug)]
pub struct CreationRule {
    pub recipients: Vec<String>,
    pub rule: Option<Rule>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{0}` is not a valid `.sops.yaml`: {1}")]
    Invalid(PathBuf, String),
}

fn find(start: &Path) -> Option<PathBuf> {
    let mut dir = std::path::absolute(start).ok()?;
    loop {
        let candidate = dir.join(".sops.yaml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// The creation rule for `file`, if a `.sops.yaml` above it has one that matches.
pub fn creation_rule(file: &Path) -> Result<Option<CreationRule>, ConfigError> {
    let directory = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let Some(config) = find(&directory) else {
        return Ok(None);
    };
    let text = crate::edge::load::read_text(&config).map_err(|source| ConfigError::Read {
        path: config.clone(),
        source,
    })?;
    let invalid = |why: &str| ConfigError::Invalid(config.clone(), why.to_owned());
    let (documents, diagnostics) = yaml::parse_stream(&SourceFile::new(".sops.yaml", text));
    if let Some(d) = diagnostics.first() {
        return Err(invalid(&d.message));
    }
    let Some(root) = documents.first() else {
        return Ok(None);
    };
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let base = config.parent().unwrap_or(Path::new("/"));
    let relative = absolute
        .strip_prefix(base)
        .unwrap_or(&absolute)
        .to_string_lossy()
        .into_owned();
    let Some(Value::Seq(rules)) = root.get("creation_rules").map(|n| &n.value) else {
        return Ok(None);
    };
    for item in rules {
        let text = |key: &str| item.get(key).and_then(Node::as_str);
        if let Some(pattern) = text("path_regex") {
            let regex = Regex::new(pattern).map_err(|e| invalid(&format!("`path_regex` {e}")))?;
            if !regex.is_match(&relative) {
                continue;
            }
        }
        let recipients = match item.get("age").map(|n| &n.value) {
            Some(Value::Str(list)) => list
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let mut rule = None;
        for field in [
            "unencrypted_suffix",
            "encrypted_suffix",
            "unencrypted_regex",
            "encrypted_regex",
        ] {
            if let Some(value) = text(field) {
                rule = Rule::from_field(field, value)
                    .map_err(|e| invalid(&format!("`{field}` {e}")))?;
            }
        }
        return Ok(Some(CreationRule { recipients, rule }));
    }
    Ok(None)
}
