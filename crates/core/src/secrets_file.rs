//! What railyard may know of the SOPS secrets file without a key: its shape and key names.
//!
//! SOPS leaves keys in plain text, so every secret reference is checked by name; no value is
//! read or kept here, so none can leak into a message.

use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Node, Value};

/// The namespace the secrets Secret must live in: Flux's post-build substitution reads it
/// from the Kustomization's own namespace.
pub const NAMESPACE: &str = "flux-system";

/// What the secrets file declares, values left out.
#[derive(Clone, Debug, Default)]
pub struct SecretsInfo {
    pub secret_name: String,
    pub keys: Vec<String>,
    /// Where each of `keys` is written, in the same order.
    pub key_spans: Vec<Span>,
    pub recipients: Vec<String>,
}

/// Which of the site's two secrets files is read: the cluster's is applied by Flux, so its
/// namespace matters; the machines' file is never applied, only decrypted by railyard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Cluster,
    Machine,
}

/// Reads the key names of the secrets file; diagnostics for anything railyard cannot rely on.
pub fn read(file: &SourceFile) -> (SecretsInfo, Vec<Diagnostic>) {
    read_as(file, Role::Cluster)
}

/// [`read`] for either of the site's secrets files.
pub fn read_as(file: &SourceFile, role: Role) -> (SecretsInfo, Vec<Diagnostic>) {
    let (documents, diagnostics) = yaml::parse_stream(file);
    let mut reader = Reader {
        file,
        role,
        info: SecretsInfo::default(),
        diagnostics,
    };
    if reader.diagnostics.is_empty() {
        let documents: Vec<&Node> = documents
            .iter()
            .filter(|d| d.value != Value::Null)
            .collect();
        match documents.as_slice() {
            [document] => reader.secret(document),
            _ => reader.diagnostics.push(
                reader.error(Span::default(), "", format!("expected one Kubernetes Secret, found {} documents", documents.len()))
                    .expected("a single `kind: Secret` document encrypted with SOPS")
                    .hint("keep every value railyard references in one Secret; `railyard secrets init` writes one"),
            ),
        }
    }
    (reader.info, reader.diagnostics)
}

/// The file being read, what it declares so far, and what is wrong with it.
struct Reader<'a> {
    file: &'a SourceFile,
    role: Role,
    info: SecretsInfo,
    diagnostics: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&self, span: Span, path: &str, message: String) -> Diagnostic {
        Diagnostic::error(&self.file.name, span, path, message)
    }

    /// The one document of the file: a Secret in Flux's namespace, encrypted by SOPS.
    fn secret(&mut self, document: &Node) {
        if document.get("kind").and_then(Node::as_str) != Some("Secret")
            || document.get("apiVersion").and_then(Node::as_str) != Some("v1")
        {
            let diagnostic = self
                .error(
                    document.span,
                    "kind",
                    "the secrets file is not a Kubernetes Secret".to_owned(),
                )
                .expected("`apiVersion: v1` and `kind: Secret`")
                .hint(
                    "the secrets file is applied by Flux as a Secret; see `railyard secrets init`",
                );
            self.diagnostics.push(diagnostic);
        }
        self.metadata(document);
        for section in ["stringData", "data"] {
            for entry in document.get(section).map(Node::entries).unwrap_or_default() {
                self.info.keys.push(entry.key.clone());
                self.info.key_spans.push(entry.key_span);
            }
        }
        match document.get("sops") {
            None => {
                let diagnostic = self.error(document.span, "sops", "the secrets file is not encrypted".to_owned())
                    .expected("a SOPS-encrypted file with a `sops:` block")
                    .hint("encrypt it before committing: `sops encrypt --in-place FILE` (plaintext secrets must never reach git)");
                self.diagnostics.push(diagnostic);
            }
            Some(sops) => self.encryption(document, sops),
        }
    }

    fn metadata(&mut self, document: &Node) {
        let metadata = document.get("metadata");
        match metadata.and_then(|m| m.get("name")).and_then(Node::as_str) {
            Some(name) => self.info.secret_name = name.to_owned(),
            None => {
                let diagnostic = self
                    .error(
                        document.span,
                        "metadata.name",
                        "the secrets Secret has no `metadata.name`".to_owned(),
                    )
                    .expected("a name such as `railyard-secrets`")
                    .hint("add `metadata.name`");
                self.diagnostics.push(diagnostic);
            }
        }
        let namespace = metadata.and_then(|m| m.get("namespace"));
        if self.role == Role::Cluster && namespace.and_then(Node::as_str) != Some(NAMESPACE) {
            let span = namespace.map_or(document.span, |n| n.span);
            let diagnostic = self
                .error(
                    span,
                    "metadata.namespace",
                    format!("the secrets Secret must be in namespace `{NAMESPACE}`"),
                )
                .expected(format!("`namespace: {NAMESPACE}`"))
                .hint("Flux substitutes values only from Secrets in the Kustomization's namespace");
            self.diagnostics.push(diagnostic);
        }
    }

    /// The age recipients of the `sops` block, and every value encrypted.
    fn encryption(&mut self, document: &Node, sops: &Node) {
        let age = sops.get("age").and_then(|a| match &a.value {
            Value::Seq(items) => Some(items),
            _ => None,
        });
        for recipient in age.into_iter().flatten() {
            if let Some(r) = recipient.get("recipient").and_then(Node::as_str) {
                self.info.recipients.push(r.to_owned());
            }
        }
        let values = ["stringData", "data"]
            .iter()
            .filter_map(|s| document.get(s))
            .flat_map(Node::entries);
        for entry in values {
            if let Some(text) = entry.value.as_str() {
                if !text.is_empty() && !text.starts_with("ENC[") {
                    let diagnostic = self.error(entry.value.span, "", format!("value of `{}` is not encrypted", entry.key))
                        .expected("`ENC[AES256_GCM,...]`")
                        .hint("re-encrypt the file with sops; a plaintext value must never be committed");
                    self.diagnostics.push(diagnostic);
                }
            }
        }
    }
}
