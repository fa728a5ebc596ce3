//! Encrypting, decrypting and re-encrypting whole SOPS YAML files, by replacing values in place.
//!
//! Only value spans change: layout, order and comments stay as they are. The data key is
//! wrapped for each age recipient in its own armored age file, as sops does (formats.md §1.3).

use std::fmt::Write as _;
use std::io::{Read, Write};

use rand_core::RngCore;

use crate::cipher::{self, DataKey, Kind};
use crate::document::{self, Leaf, Parsed};
use crate::mac::Mac;
use crate::rules::{self, Rule};
use crate::{SopsError, ValueError};
use railyard_core::emit;
use railyard_core::source::Span;
use railyard_core::yaml::{Node, Value};

/// The sops version whose file format railyard writes; sops reads the field but does not check it.
pub const FORMAT_VERSION: &str = "3.11.0";

/// What a `sops:` block holds.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// (recipient, armored age file of the data key).
    pub age: Vec<(String, String)>,
    pub lastmodified: String,
    pub mac: String,
    pub rule: Rule,
    pub mac_only_encrypted: bool,
    pub version: String,
    /// Spans of `lastmodified`'s and `mac`'s values inside the file, for in-place updates.
    lastmodified_span: Span,
    mac_span: Span,
    /// The whole block, as written in the file.
    block: Span,
}

/// A decrypted file: its plaintext (the file without `sops:` blocks), data key and metadata.
pub struct Decrypted {
    pub plaintext: String,
    pub key: DataKey,
    pub metadata: Metadata,
    /// Every encrypted value's path, plaintext, kind and ciphertext, for reuse when re-encrypting.
    ciphertexts: Vec<(Vec<String>, Vec<u8>, Kind, String)>,
}

impl Decrypted {
    /// Decrypted values by key path (`stringData:password`), in file order.
    pub fn values(&self) -> Vec<(String, String)> {
        match document::parse(&self.plaintext) {
            Ok(parsed) => parsed
                .leaves
                .iter()
                .map(|l| {
                    (
                        l.path.join(":"),
                        plain_bytes(&l.value)
                            .map(|(b, _)| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Encryption settings for a new file.
pub struct Settings {
    pub recipients: Vec<String>,
    pub rule: Rule,
}

/// A value's bytes as sops hashes and encrypts them; `None` for null.
fn plain_bytes(value: &Value) -> Option<(Vec<u8>, Kind)> {
    Some(match value {
        Value::Null => return None,
        Value::Str(s) => (s.as_bytes().to_vec(), Kind::Str),
        Value::Int(i) => (i.to_string().into_bytes(), Kind::Int),
        Value::Float(f) => (f.to_string().into_bytes(), Kind::Float),
        Value::Bool(b) => (
            (if *b { "True" } else { "False" }).as_bytes().to_vec(),
            Kind::Bool,
        ),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// A decrypted value back as YAML text on one line.
fn yaml_text(plaintext: &[u8], kind: Kind) -> Result<String, SopsError> {
    let text = String::from_utf8(plaintext.to_vec())
        .map_err(|_| SopsError::Corrupt("a value is not UTF-8".to_owned()))?;
    Ok(match kind {
        Kind::Int | Kind::Float => text,
        Kind::Bool => (if text == "True" { "true" } else { "false" }).to_owned(),
        Kind::Str | Kind::Comment => emit::inline_string(&text),
    })
}

fn aad(path: &[String]) -> String {
    format!("{}:", path.join(":"))
}

/// Replaces `spans` in `text` with their texts; spans do not overlap.
fn splice(text: &str, mut edits: Vec<(Span, String)>) -> String {
    edits.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0;
    for (span, replacement) in edits {
        out.push_str(&text[at..span.start]);
        out.push_str(&replacement);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

fn metadata(parsed: &Parsed) -> Result<Metadata, SopsError> {
    let document = parsed.documents.first().ok_or(SopsError::NotEncrypted)?;
    let block = document.sops_span.ok_or(SopsError::NotEncrypted)?;
    let node = document.root.get("sops").ok_or(SopsError::NotEncrypted)?;
    let text_at = |node: Option<&Node>| node.and_then(Node::as_str).map(str::to_owned);
    let mut age = Vec::new();
    if let Some(Value::Seq(items)) = node.get("age").map(|n| &n.value) {
        for item in items {
            if let (Some(recipient), Some(enc)) =
                (text_at(item.get("recipient")), text_at(item.get("enc")))
            {
                age.push((recipient, enc));
            }
        }
    }
    if age.is_empty() {
        let others: Vec<&str> = [
            "kms",
            "gcp_kms",
            "azure_kv",
            "hc_vault",
            "pgp",
            "key_groups",
        ]
        .into_iter()
        .filter(|k| {
            node.get(k).is_some_and(|n| {
                !matches!(&n.value, Value::Null) && n.value != Value::Seq(Vec::new())
            })
        })
        .collect();
        return Err(SopsError::Unsupported(if others.is_empty() {
            "it has no age recipient".to_owned()
        } else {
            format!(
                "it is encrypted with {} only; railyard supports age",
                others.join(", ")
            )
        }));
    }
    let lastmodified = node
        .get("lastmodified")
        .ok_or_else(|| SopsError::Corrupt("the `sops:` block has no `lastmodified`".to_owned()))?;
    let mac = node
        .get("mac")
        .ok_or_else(|| SopsError::Corrupt("the `sops:` block has no `mac`".to_owned()))?;
    let mut rule = None;
    for entry in node.entries() {
        if let Some(value) = entry.value.as_str() {
            if let Some(found) = Rule::from_field(&entry.key, value).map_err(|e| {
                SopsError::Corrupt(format!("`{}` is not a valid regex: {e}", entry.key))
            })? {
                rule = Some(found);
            }
        }
    }
    Ok(Metadata {
        age,
        lastmodified: text_at(Some(lastmodified)).unwrap_or_default(),
        mac: text_at(Some(mac)).unwrap_or_default(),
        rule: rule.unwrap_or_else(rules::sops_default),
        mac_only_encrypted: node
            .get("mac_only_encrypted")
            .is_some_and(|n| n.value == Value::Bool(true)),
        version: text_at(node.get("version")).unwrap_or_else(|| FORMAT_VERSION.to_owned()),
        lastmodified_span: lastmodified.span,
        mac_span: mac.span,
        block,
    })
}

fn unwrap_key(
    metadata: &Metadata,
    identities: &[age::x25519::Identity],
) -> Result<DataKey, SopsError> {
    for (_, enc) in &metadata.age {
        let Ok(decryptor) = age::Decryptor::new(age::armor::ArmoredReader::new(enc.as_bytes()))
        else {
            continue;
        };
        let Ok(mut reader) = decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        else {
            continue;
        };
        let mut key = Vec::new();
        if reader.read_to_end(&mut key).is_ok() {
            return key
                .try_into()
                .map_err(|_| SopsError::Corrupt("the data key is not 32 bytes".to_owned()));
        }
    }
    Err(SopsError::NoIdentity(
        metadata.age.iter().map(|(r, _)| r.clone()).collect(),
    ))
}

fn wrap_key(key: &DataKey, recipient: &str) -> Result<String, SopsError> {
    let parsed: age::x25519::Recipient = recipient
        .parse()
        .map_err(|_| SopsError::BadRecipient(recipient.to_owned()))?;
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&parsed as &dyn age::Recipient))
            .map_err(|e| SopsError::Age(e.to_string()))?;
    let mut armored = Vec::new();
    let io = |e: std::io::Error| SopsError::Age(e.to_string());
    let writer =
        age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
            .map_err(io)?;
    let mut stream = encryptor.wrap_output(writer).map_err(io)?;
    stream.write_all(key).map_err(io)?;
    stream
        .finish()
        .and_then(age::armor::ArmoredWriter::finish)
        .map_err(io)?;
    String::from_utf8(armored).map_err(|_| SopsError::Age("armor is not text".to_owned()))
}

/// Decrypts a file with the first identity that opens its data key, verifying every value and
/// the MAC. Errors name the key path, never a value.
pub fn decrypt(text: &str, identities: &[age::x25519::Identity]) -> Result<Decrypted, SopsError> {
    let parsed = document::parse(text)?;
    let metadata = metadata(&parsed)?;
    let key = unwrap_key(&metadata, identities)?;
    let mut edits = Vec::new();
    let mut mac = Mac::new(metadata.mac_only_encrypted);
    let mut ciphertexts = Vec::new();
    for leaf in &parsed.leaves {
        let encrypted = metadata.rule.encrypts(&leaf.path);
        let path = leaf.path.join(".");
        match (&leaf.value, encrypted) {
            (Value::Str(value), true) if cipher::is_encrypted(value) => {
                let (plaintext, kind) = cipher::decrypt(&key, value, &aad(&leaf.path))
                    .map_err(|e| SopsError::Value(path.clone(), e.into()))?;
                mac.add(&plaintext);
                edits.push((leaf.span, yaml_text(&plaintext, kind)?));
                ciphertexts.push((leaf.path.clone(), plaintext, kind, value.clone()));
            }
            (Value::Str(value), true) if !value.is_empty() => {
                return Err(SopsError::Value(path, ValueError::PlainText));
            }
            (value, _) => {
                if let Some((bytes, _)) = plain_bytes(value) {
                    if !metadata.mac_only_encrypted {
                        mac.add(&bytes);
                    }
                }
            }
        }
    }
    for comment in &parsed.comments {
        if let Some(value) = comment
            .text
            .strip_prefix("ENC[")
            .map(|_| comment.text.as_str())
        {
            let (plaintext, _) =
                cipher::decrypt(&key, value, &aad(&comment.path)).map_err(|e| {
                    SopsError::Value(format!("comment in `{}`", comment.path.join(".")), e.into())
                })?;
            let text = String::from_utf8_lossy(&plaintext).into_owned();
            ciphertexts.push((
                comment.path.clone(),
                plaintext,
                Kind::Comment,
                value.to_owned(),
            ));
            edits.push((comment.span, format!("#{text}")));
        }
    }
    let expected = cipher::decrypt(&key, &metadata.mac, &metadata.lastmodified)
        .map_err(|_| SopsError::MacMismatch)?
        .0;
    if expected != mac.finish().as_bytes() {
        return Err(SopsError::MacMismatch);
    }
    for document in &parsed.documents {
        if let Some(span) = document.sops_span {
            edits.push((span, String::new()));
        }
    }
    Ok(Decrypted {
        plaintext: splice(text, edits),
        key,
        metadata,
        ciphertexts,
    })
}

/// Encrypts a plaintext file for new: a fresh data key, every recipient.
pub fn encrypt(
    plaintext: &str,
    settings: &Settings,
    rng: &mut dyn RngCore,
    now: &str,
) -> Result<String, SopsError> {
    let mut key = [0_u8; 32];
    rng.fill_bytes(&mut key);
    let age = settings
        .recipients
        .iter()
        .map(|r| Ok((r.clone(), wrap_key(&key, r)?)))
        .collect::<Result<Vec<_>, SopsError>>()?;
    seal(
        plaintext,
        &key,
        &settings.rule,
        false,
        &[],
        rng,
        now,
        |mac| block(&age, now, mac, &settings.rule, false, FORMAT_VERSION),
    )
}

/// Re-encrypts `plaintext` (the edited decryption of `original`) with the original data key:
/// values whose path and plaintext did not change keep their exact ciphertext, and the
/// original `sops:` block is kept except for `lastmodified` and `mac`.
pub fn reencrypt(
    original_text: &str,
    original: &Decrypted,
    plaintext: &str,
    rng: &mut dyn RngCore,
    now: &str,
) -> Result<String, SopsError> {
    let metadata = &original.metadata;
    let block_text = &original_text[metadata.block.start..metadata.block.end];
    seal(
        plaintext,
        &original.key,
        &metadata.rule,
        metadata.mac_only_encrypted,
        &original.ciphertexts,
        rng,
        now,
        |mac| {
            let relative = |span: Span| {
                Span::new(
                    span.start - metadata.block.start,
                    span.end - metadata.block.start,
                )
            };
            splice(
                block_text,
                vec![
                    (relative(metadata.lastmodified_span), format!("\"{now}\"")),
                    (relative(metadata.mac_span), mac.to_owned()),
                ],
            )
        },
    )
}

/// Re-wraps the data key for a new set of recipients; values, MAC and their ciphertexts stay.
/// With `rekey`, everything is encrypted again under a new data key.
pub fn rotate(
    original_text: &str,
    original: &Decrypted,
    recipients: &[String],
    rekey: bool,
    rng: &mut dyn RngCore,
    now: &str,
) -> Result<String, SopsError> {
    if rekey {
        return encrypt(
            &original.plaintext,
            &Settings {
                recipients: recipients.to_vec(),
                rule: original.metadata.rule.clone(),
            },
            rng,
            now,
        );
    }
    let metadata = &original.metadata;
    let age = recipients
        .iter()
        .map(
            |r| match metadata.age.iter().find(|(known, _)| known == r) {
                Some(existing) => Ok(existing.clone()),
                None => Ok((r.clone(), wrap_key(&original.key, r)?)),
            },
        )
        .collect::<Result<Vec<_>, SopsError>>()?;
    let new_block = block(
        &age,
        &metadata.lastmodified,
        &metadata.mac,
        &metadata.rule,
        metadata.mac_only_encrypted,
        &metadata.version,
    );
    let parsed = document::parse(original_text)?;
    let edits = parsed
        .documents
        .iter()
        .filter_map(|d| d.sops_span)
        .map(|span| (span, new_block.clone()))
        .collect();
    Ok(splice(original_text, edits))
}

/// Encrypts `plaintext`'s values and comments under `key`, reusing `previous` ciphertexts for
/// unchanged (path, plaintext) pairs, and appends the `sops:` block `make_block` writes for
/// the new MAC.
#[allow(clippy::too_many_arguments)]
fn seal(
    plaintext: &str,
    key: &DataKey,
    rule: &Rule,
    mac_only_encrypted: bool,
    previous: &[(Vec<String>, Vec<u8>, Kind, String)],
    rng: &mut dyn RngCore,
    now: &str,
    make_block: impl FnOnce(&str) -> String,
) -> Result<String, SopsError> {
    let parsed = document::parse(plaintext)?;
    if parsed.documents.iter().any(|d| d.sops_span.is_some()) {
        return Err(SopsError::AlreadyEncrypted);
    }
    let mut used = vec![false; previous.len()];
    let mut reuse = |path: &[String], bytes: &[u8], kind: Kind| -> Option<String> {
        let index = previous
            .iter()
            .enumerate()
            .position(|(i, (p, b, k, _))| !used[i] && p == path && b == bytes && *k == kind)?;
        used[index] = true;
        Some(previous[index].3.clone())
    };
    let mut edits = Vec::new();
    let mut mac = Mac::new(mac_only_encrypted);
    for leaf in &parsed.leaves {
        let Some((bytes, kind)) = plain_bytes(&leaf.value) else {
            continue;
        };
        let encrypt = rule.encrypts(&leaf.path) && !bytes.is_empty();
        if encrypt || !mac_only_encrypted {
            mac.add(&bytes);
        }
        if encrypt {
            trailing_comment(plaintext, leaf)?;
            let value = reuse(&leaf.path, &bytes, kind)
                .unwrap_or_else(|| cipher::encrypt(key, &bytes, kind, &aad(&leaf.path), rng));
            edits.push((
                leaf.span,
                if leaf.flow {
                    format!("'{value}'")
                } else {
                    value
                },
            ));
        }
    }
    for comment in parsed.comments.iter().filter(|c| rule.encrypts(&c.path)) {
        let bytes = comment.text.as_bytes();
        let value = reuse(&comment.path, bytes, Kind::Comment).unwrap_or_else(|| {
            cipher::encrypt(key, bytes, Kind::Comment, &aad(&comment.path), rng)
        });
        edits.push((comment.span, format!("#{value}")));
    }
    let mac_value = cipher::encrypt(key, mac.finish().as_bytes(), Kind::Str, now, rng);
    let sops_block = make_block(&mac_value);
    for document in &parsed.documents {
        let at = Span::new(document.end, document.end);
        let newline = if document.end == 0 || plaintext[..document.end].ends_with('\n') {
            ""
        } else {
            "\n"
        };
        edits.push((at, format!("{newline}{sops_block}")));
    }
    Ok(splice(plaintext, edits))
}

/// A comment after a value on its line would stay in plain text beside an encrypted value.
fn trailing_comment(text: &str, leaf: &Leaf) -> Result<(), SopsError> {
    let rest = &text[leaf.span.end..document::line_end(text, leaf.span.end).min(text.len())];
    if rest.contains(" #") || rest.trim_start().starts_with('#') {
        return Err(SopsError::TrailingComment(leaf.path.join(".")));
    }
    Ok(())
}

/// A `sops:` block in sops' own layout.
fn block(
    age: &[(String, String)],
    lastmodified: &str,
    mac: &str,
    rule: &Rule,
    mac_only_encrypted: bool,
    version: &str,
) -> String {
    let mut out = String::from("sops:\n    age:\n");
    for (recipient, enc) in age {
        let _ = writeln!(out, "        - recipient: {recipient}\n          enc: |");
        for line in enc.lines() {
            let _ = writeln!(out, "            {line}");
        }
    }
    let (field, value) = rule.field();
    let _ = writeln!(out, "    lastmodified: \"{lastmodified}\"\n    mac: {mac}");
    if mac_only_encrypted {
        out.push_str("    mac_only_encrypted: true\n");
    }
    let _ = writeln!(
        out,
        "    {field}: {}\n    version: {version}",
        emit::inline_string(&value)
    );
    out
}
