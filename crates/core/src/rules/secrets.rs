//! Secrets: age recipients, the SOPS secrets file, and the keys the site references in it.

use serde_json::Value as Json;

use super::Rules;
use super::machine_secrets::{MACHINE_SECRET_KEYS, SecretsLayout};
use super::pointers::{AGE_RECIPIENT, AGE_RECIPIENTS, SECRETS_FILE, at};
use crate::diagnostic::Diagnostic;
use crate::json_tree::JsonTree;
use crate::load_problem::LoadedFiles;
use crate::secrets_file::{self, SecretsInfo};
use crate::source::{SourceFile, Span};
use crate::suggest;

/// Keys railyard itself reads from the cluster's secrets file, whatever the site says.
pub const CLUSTER_SECRET_KEYS: &[(&str, &str)] = &[(
    "gitpod_ssh_gateway_host_key",
    "the private host key of Gitpod's SSH gateway, base64-encoded (it is multi-line)",
)];

/// Whether railyard itself reads `key` (from either secrets file), whatever the site says.
pub fn is_builtin_secret_key(key: &str) -> bool {
    CLUSTER_SECRET_KEYS
        .iter()
        .chain(MACHINE_SECRET_KEYS)
        .any(|(k, _)| *k == key)
}

const RECIPIENT_EXPECTED: &str = "an X25519 recipient: `age1` and 58 more characters";

impl Rules<'_> {
    pub(super) fn secrets(&mut self, files: &LoadedFiles) -> Option<SecretsInfo> {
        let recipients = self
            .value(AGE_RECIPIENTS)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        self.recipients(&recipients);
        let text = self.str(SECRETS_FILE)?.to_owned();
        let path = self.safe_path(SECRETS_FILE, &text)?;
        let file = match files.get(path.key())? {
            Ok(file) => file,
            Err(why) => {
                self.error(
                    SECRETS_FILE,
                    format!("cannot read secrets file `{text}`: {why}"),
                    "a SOPS-encrypted Secret, relative to the site file",
                    "create it with `railyard secrets init`, or fix the path",
                );
                return None;
            }
        };
        let (info, diagnostics) = secrets_file::read(file);
        self.out.extend(diagnostics);
        self.encrypted_to(&recipients, &text, &info, "the secrets file");
        self.references(&text, &info);
        self.builtin_keys(file, &info, CLUSTER_SECRET_KEYS, "the secrets file");
        match self.layout {
            SecretsLayout::OneFile => {
                self.builtin_keys(file, &info, MACHINE_SECRET_KEYS, "the secrets file");
            }
            SecretsLayout::Split => self.machine_secrets(files, &recipients, (file, &info)),
            SecretsLayout::Unknown => {}
        }
        Some(info)
    }

    /// At least one recipient when the list is there, each an age public key.
    fn recipients(&mut self, recipients: &[Json]) {
        if recipients.is_empty() && self.value(AGE_RECIPIENTS).is_some() {
            self.error(
                AGE_RECIPIENTS,
                "no age recipient",
                "at least one `age1...` public key",
                "add the public key of the cluster's age identity (`age-keygen -y KEYFILE`)",
            );
        }
        for (i, recipient) in recipients.iter().enumerate() {
            if let Some(r) = recipient.as_str() {
                if r.starts_with("AGE-SECRET-KEY-") {
                    self.error(&at(AGE_RECIPIENT, i), "this is an age secret key, not a recipient", RECIPIENT_EXPECTED, "remove it now and rotate that key: it is committed in plain text; list its public half (`age-keygen -y KEYFILE`) instead");
                } else if !age_recipient(r) {
                    self.error(&at(AGE_RECIPIENT, i), "not an age recipient", RECIPIENT_EXPECTED, "print it with `age-keygen -y KEYFILE`; never paste the secret key (`AGE-SECRET-KEY-1...`)");
                }
            }
        }
    }

    /// Every declared recipient is one the file is encrypted to.
    pub(super) fn encrypted_to(
        &mut self,
        recipients: &[Json],
        file: &str,
        info: &SecretsInfo,
        noun: &str,
    ) {
        let declared = recipients
            .iter()
            .filter_map(Json::as_str)
            .filter(|r| age_recipient(r));
        for declared_recipient in declared {
            let i = recipients
                .iter()
                .position(|r| r.as_str() == Some(declared_recipient))
                .unwrap_or_default();
            if !info.recipients.is_empty()
                && !info.recipients.iter().any(|r| r == declared_recipient)
            {
                self.error(
                    &at(AGE_RECIPIENT, i),
                    format!("{noun} is not encrypted to `{declared_recipient}`"),
                    "the recipients in the secrets file's `sops.age` list",
                    // The recipient stays out of the command: a quoted value that long is cut.
                    format!(
                        "from the site's directory, run `railyard secrets rotate {file} --add RECIPIENT` with this recipient"
                    ),
                );
            }
        }
    }

    /// Every `secretKey` the site names is a usable name the secrets file holds.
    fn references(&mut self, path: &str, info: &SecretsInfo) {
        let keys: Vec<&str> = info.keys.iter().map(String::as_str).collect();
        let mut references = Vec::new();
        collect_secret_refs(&self.tree.value, &mut String::new(), &mut references);
        for (pointer, key) in references {
            if !secret_key_name(&key) {
                self.error(
                    &pointer,
                    format!("`{key}` is not a usable secret key name"),
                    "letters, digits and `_`, not starting with a digit",
                    "Flux substitutes only such names; rename the key in the secrets file too",
                );
            } else if !keys.contains(&key.as_str()) {
                let hint = suggest::hint(&key, &keys, || {
                    format!("add `{key}` to the secrets file (`railyard secrets edit`)")
                });
                self.error(
                    &pointer,
                    format!("secret key `{key}` is not in the secrets file `{path}`"),
                    "a key of the secrets file's `stringData`",
                    hint,
                );
            }
        }
    }

    /// Every key of `builtin` is in the file.
    pub(super) fn builtin_keys(
        &mut self,
        file: &SourceFile,
        info: &SecretsInfo,
        builtin: &[(&str, &str)],
        noun: &str,
    ) {
        for (key, purpose) in builtin {
            if !info.keys.iter().any(|k| k == key) {
                self.out.push(
                    Diagnostic::error(&file.name, Span::default(), "stringData", format!("{noun} has no `{key}`"))
                        .expected(format!("a `{key}` key: {purpose}"))
                        .hint("`railyard secrets init` generates it; or add a long random value with `railyard secrets edit`"),
                );
            }
        }
    }
}

/// Every secret reference of a site's text: (YAML path of the reference, key name).
pub fn secret_references(site_text: &str) -> Vec<(String, String)> {
    let file = SourceFile::new("site.yaml", site_text);
    let (documents, _) = crate::yaml::parse_stream(&file);
    let Some(root) = documents.first() else {
        return Vec::new();
    };
    let tree = JsonTree::new(&file.name, root);
    let mut references = Vec::new();
    collect_secret_refs(&tree.value, &mut String::new(), &mut references);
    references
        .into_iter()
        .map(|(pointer, key)| (tree.yaml_path(&pointer), key))
        .collect()
}

/// Every `{secretKey: name}` object in the site, with the pointer to its `secretKey`; these
/// pointers come from the document itself, so they always resolve.
///
/// One pointer buffer serves the whole walk: a segment is pushed for a child and cut after it.
fn collect_secret_refs(value: &Json, pointer: &mut String, out: &mut Vec<(String, String)>) {
    let len = pointer.len();
    match value {
        Json::Object(map) => {
            if let Some(Json::String(key)) = map.get("secretKey") {
                out.push((format!("{pointer}/secretKey"), key.clone()));
            }
            for (k, v) in map {
                if k != "config" {
                    pointer.push('/');
                    pointer.push_str(k);
                    collect_secret_refs(v, pointer, out);
                    pointer.truncate(len);
                }
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                use std::fmt::Write as _;
                // writing into a String cannot fail
                let _ = write!(pointer, "/{i}");
                collect_secret_refs(v, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// An age X25519 recipient: `age1` and 58 bech32 characters.
fn age_recipient(recipient: &str) -> bool {
    recipient.strip_prefix("age1").is_some_and(|rest| {
        rest.len() == 58
            && rest
                .bytes()
                .all(|b| b"qpzry9x8gf2tvdw0s3jn54khce6mua7l".contains(&b))
    })
}

/// A name Flux's variable substitution can fill in: letters, digits and `_`, not starting
/// with a digit.
fn secret_key_name(key: &str) -> bool {
    key.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
