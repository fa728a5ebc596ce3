//! Secrets whose values Flux fills in at apply time from the secrets file, never in the render.
//!
//! Flux's post-build substitution replaces `${name}` textually. A single-line value goes into a
//! literal block (`|-`), where any character survives; a multi-line value (a private key, a
//! service account's JSON) is kept base64-encoded in the secrets file and goes under `data`.

use serde_json::{Map, Value as Json, json};

use crate::emit;
use crate::generate::common_labels;
use crate::model::Site;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// One line of text, as it is in the secrets file.
    Text,
    /// Base64 in the secrets file, decoded by Kubernetes (`data`).
    Base64,
    /// Not a secret: the value itself, from the site file.
    Plain,
}

/// One key of a rendered Secret and where its value comes from.
pub struct Entry<'a> {
    pub key: &'a str,
    /// The secrets-file key; for `Plain`, the value itself.
    pub source: &'a str,
    pub encoding: Encoding,
}

pub fn text<'a>(key: &'a str, secret_key: &'a str) -> Entry<'a> {
    Entry {
        key,
        source: secret_key,
        encoding: Encoding::Text,
    }
}

pub fn base64<'a>(key: &'a str, secret_key: &'a str) -> Entry<'a> {
    Entry {
        key,
        source: secret_key,
        encoding: Encoding::Base64,
    }
}

/// A value from the site file itself (a host name, a port), beside the secret ones.
pub fn plain<'a>(key: &'a str, value: &'a str) -> Entry<'a> {
    Entry {
        key,
        source: value,
        encoding: Encoding::Plain,
    }
}

/// The text Flux replaces with the value of `secret_key`.
pub fn reference(secret_key: &str) -> String {
    format!("${{{secret_key}}}")
}

/// A Secret in `namespace` whose values are substituted from the secrets file.
pub fn secret(site: &Site, name: &str, namespace: &str, kind: &str, entries: &[Entry<'_>]) -> Json {
    let mut string_data = Map::new();
    let mut data = Map::new();
    for entry in entries {
        match entry.encoding {
            Encoding::Text => string_data.insert(
                entry.key.to_owned(),
                emit::literal(&reference(entry.source)),
            ),
            Encoding::Base64 => data.insert(entry.key.to_owned(), json!(reference(entry.source))),
            Encoding::Plain => string_data.insert(entry.key.to_owned(), json!(entry.source)),
        };
    }
    let mut secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": name, "namespace": namespace, "labels": common_labels(site) },
        "type": kind,
    });
    if !data.is_empty() {
        secret["data"] = Json::Object(data);
    }
    if !string_data.is_empty() {
        secret["stringData"] = Json::Object(string_data);
    }
    secret
}
