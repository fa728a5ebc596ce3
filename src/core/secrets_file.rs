//! What railyard may know of the SOPS secrets file without a key: its shape and key names.
//!
//! SOPS leaves keys in plain text, so every secret reference is checked by name; no value is
//! read or kept here, so none can leak into a message.

use crate::core::diagnostic::Diagnostic;
use crate::core::source::{SourceFile, Span};
use crate::core::yaml::{self, Node, Value};

/// The namespace the secrets Secret must live in: Flux's post-build substitution reads it
/// from the Kustomization's own namespace.
pub const NAMESPACE: &str = "flux-system";

/// What the secrets file declares, values left out.
#[derive(Clone, Debug, Default)]
pub struct SecretsInfo {
    pub secret_name: String,
    pub keys: Vec<String>,
    pub recipients: Vec<String>,
}

/// Reads the key names of the secrets file; diagnostics for anything railyard cannot rely on.
pub fn read(file: &SourceFile) -> (SecretsInfo, Vec<Diagnostic>) {
    let (documents, mut diagnostics) = yaml::parse_stream(file);
    let mut info = SecretsInfo::default();
    if !diagnostics.is_empty() {
        return (info, diagnostics);
    }
    let error = |span: Span, path: &str, message: String| {
        Diagnostic::error(&file.name, span, path, message)
    };
    let documents: Vec<&Node> = documents
        .iter()
        .filter(|d| d.value != Value::Null)
        .collect();
    let [document] = documents.as_slice() else {
        diagnostics.push(
            error(Span::default(), "", format!("expected one Kubernetes Secret, found {} documents", documents.len()))
                .expected("a single `kind: Secret` document encrypted with SOPS")
                .hint("keep every value railyard references in one Secret; `railyard secrets init` writes one"),
        );
        return (info, diagnostics);
    };
    if document.get("kind").and_then(Node::as_str) != Some("Secret")
        || document.get("apiVersion").and_then(Node::as_str) != Some("v1")
    {
        diagnostics.push(
            error(
                document.span,
                "kind",
                "the secrets file is not a Kubernetes Secret".to_owned(),
            )
            .expected("`apiVersion: v1` and `kind: Secret`")
            .hint("the secrets file is applied by Flux as a Secret; see `railyard secrets init`"),
        );
    }
    let metadata = document.get("metadata");
    match metadata.and_then(|m| m.get("name")).and_then(Node::as_str) {
        Some(name) => info.secret_name = name.to_owned(),
        None => diagnostics.push(
            error(
                document.span,
                "metadata.name",
                "the secrets Secret has no `metadata.name`".to_owned(),
            )
            .expected("a name such as `railyard-secrets`")
            .hint("add `metadata.name`"),
        ),
    }
    let namespace = metadata.and_then(|m| m.get("namespace"));
    if namespace.and_then(Node::as_str) != Some(NAMESPACE) {
        let span = namespace.map_or(document.span, |n| n.span);
        diagnostics.push(
            error(
                span,
                "metadata.namespace",
                format!("the secrets Secret must be in namespace `{NAMESPACE}`"),
            )
            .expected(format!("`namespace: {NAMESPACE}`"))
            .hint("Flux substitutes values only from Secrets in the Kustomization's namespace"),
        );
    }
    for section in ["stringData", "data"] {
        for entry in document.get(section).map(Node::entries).unwrap_or_default() {
            info.keys.push(entry.key.clone());
        }
    }
    match document.get("sops") {
        None => diagnostics.push(
            error(document.span, "sops", "the secrets file is not encrypted".to_owned())
                .expected("a SOPS-encrypted file with a `sops:` block")
                .hint("encrypt it before committing: `sops encrypt --in-place FILE` (plaintext secrets must never reach git)"),
        ),
        Some(sops) => {
            for recipient in sops.get("age").and_then(|a| match &a.value {
                Value::Seq(items) => Some(items),
                _ => None,
            }).into_iter().flatten()
            {
                if let Some(r) = recipient.get("recipient").and_then(Node::as_str) {
                    info.recipients.push(r.to_owned());
                }
            }
            let values = ["stringData", "data"].iter().filter_map(|s| document.get(s)).flat_map(Node::entries);
            for entry in values {
                if let Some(text) = entry.value.as_str() {
                    if !text.is_empty() && !text.starts_with("ENC[") {
                        diagnostics.push(
                            error(entry.value.span, "", format!("value of `{}` is not encrypted", entry.key))
                                .expected("`ENC[AES256_GCM,...]`")
                                .hint("re-encrypt the file with sops; a plaintext value must never be committed"),
                        );
                    }
                }
            }
        }
    }
    (info, diagnostics)
}
