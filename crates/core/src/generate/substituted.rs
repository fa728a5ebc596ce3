//! Secrets whose values Flux fills in at apply time from the secrets file, never in the render.
//!
//! Flux's post-build substitution replaces `${name}` textually, in each object as kustomize
//! prints it after the build (`res.AsYAML()`, then `envsubst`, then YAML to JSON: fluxcd/pkg
//! `kustomize/kustomize_varsub.go`). That print writes every one-line string as a plain scalar,
//! whatever style railyard gave it, so a one-line value lands in a plain scalar: plain text
//! (tokens, passwords without YAML's special characters) survives; JSON (`{...}`, `[...]`) would
//! turn into a YAML mapping or list. A JSON value is therefore written with a trailing line
//! break, which keeps it a literal block through the print (JSON ignores the break); a
//! multi-line value (a private key, a service account's JSON) is kept base64-encoded in the
//! secrets file and goes under `data`. `tests/oracles/kube_api.rs` runs that pipeline against
//! a real API server.

use serde_json::{Map, Value as Json};

use crate::emit;
use crate::generate::common_labels;
use crate::json_value::value;
use crate::model::Site;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// One line of text, as it is in the secrets file.
    Text,
    /// One line of JSON (a Docker config, Gitpod's encryption keys), as it is in the secrets
    /// file; it reaches the cluster with a line break after it.
    Json,
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

pub fn json<'a>(key: &'a str, secret_key: &'a str) -> Entry<'a> {
    Entry {
        key,
        source: secret_key,
        encoding: Encoding::Json,
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
            Encoding::Json => string_data.insert(
                entry.key.to_owned(),
                value!(format!("{}\n", reference(entry.source))),
            ),
            Encoding::Base64 => data.insert(entry.key.to_owned(), value!(reference(entry.source))),
            Encoding::Plain => string_data.insert(entry.key.to_owned(), value!(entry.source)),
        };
    }
    let mut secret = value!({
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
