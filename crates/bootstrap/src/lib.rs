//! Bootstrap as values: what a site wants from its cloud (read from the rendered, reviewed host
//! files), the plan against what the cloud holds, the cluster objects bootstrap applies, the
//! kubeconfig, and readiness for `status`.
//!
//! **Pure, like `core`**: no file, network, clock, environment, process or randomness; it
//! depends on `core` and never on `edge` or `app`. It speaks a provider-neutral model
//! (`model.rs`); each cloud's wire format lives in that cloud's client under `edge/`.

pub mod adopt;
pub mod availability;
pub mod cluster;
#[cfg(test)]
mod fixtures;
pub mod git_credentials;
pub mod hand;
pub mod kubeconfig;
pub mod model;
pub mod plan;
pub mod polling;
pub mod readiness;
pub mod schedule;
pub mod status;
pub mod user_data;
pub mod wanted;

use railyard_core::json_tree::JsonTree;
use railyard_core::source::SourceFile;
use railyard_core::yaml;

/// A rendered file bootstrap cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("the render has no `{0}`")]
    Missing(String),
    #[error("`{0}` is not UTF-8")]
    NotUtf8(String),
    #[error("`{name}` does not parse: {message}")]
    Parse { name: String, message: String },
    #[error("`{0}` is empty")]
    Empty(String),
    #[error("`{name}` is not what railyard renders: {reason}")]
    Shape { name: String, reason: String },
    #[error("bootstrap provisions {supported} only; site `{site}` is on `{provider}`")]
    Provider {
        supported: String,
        site: String,
        provider: String,
    },
}

/// Every document of a rendered YAML file, as JSON (empty documents left out).
pub(crate) fn documents(name: &str, bytes: &[u8]) -> Result<Vec<serde_json::Value>, RenderError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RenderError::NotUtf8(name.to_owned()))?;
    let file = SourceFile::new(name, text);
    let (nodes, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.first() {
        return Err(RenderError::Parse {
            name: name.to_owned(),
            message: first.message.clone(),
        });
    }
    Ok(nodes
        .iter()
        .map(|node| JsonTree::new(name, node).value)
        .filter(|value| !value.is_null())
        .collect())
}

/// A rendered file's first document as `T`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    name: &str,
) -> Result<T, RenderError> {
    let bytes = files
        .get(name)
        .ok_or_else(|| RenderError::Missing(name.to_owned()))?;
    let first = documents(name, bytes)?
        .into_iter()
        .next()
        .ok_or_else(|| RenderError::Empty(name.to_owned()))?;
    serde_json::from_value(first).map_err(|e| RenderError::Shape {
        name: name.to_owned(),
        reason: e.to_string(),
    })
}
