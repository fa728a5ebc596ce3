//! `railyard secrets init`: a new secrets file with generated values for what railyard needs
//! and empty ones for what the site references, encrypted to the recipients that the site file,
//! `.sops.yaml` and `--age` agree on; an existing `.sops.yaml` with the same recipients is kept.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use rand_core::{OsRng, RngCore};

use super::now;
use crate::app::Exit;
use crate::app::lines::report;
use crate::core::{init, rules};
use crate::edge::{load, sops_config};
use crate::sops::file::{self, Settings};
use crate::sops::rules::Rule;

pub(super) fn run(dir: &Path, recipients: &[String], site: Option<&Path>) -> Result<Exit> {
    let secrets = dir.join("secrets.sops.yaml");
    let config = dir.join(".sops.yaml");
    refuse_existing(&secrets)?;
    let site_path = site.map_or_else(|| dir.join("site.yaml"), Path::to_path_buf);
    let site_text = if site_path.is_file() {
        Some(
            load::read_text(&site_path)
                .with_context(|| format!("cannot read `{}`", site_path.display()))?,
        )
    } else {
        None
    };
    let configured = if config.exists() {
        let rule = sops_config::creation_rule(&secrets)?;
        Some(real(rule.map(|r| r.recipients).unwrap_or_default()))
    } else {
        None
    };
    let in_site = site_text
        .as_deref()
        .map(site_recipients)
        .unwrap_or_default();
    let recipients = choose(
        recipients,
        configured.as_deref(),
        &in_site,
        &config,
        &site_path,
    )?;
    let references = secret_references(site_text.as_deref());
    let machine = machine_file(dir, site_text.as_deref());
    if let Some(machine) = &machine {
        refuse_existing(machine)?;
    }
    let settings = Settings {
        recipients: recipients.clone(),
        rule: Rule::default_for_railyard(),
    };
    let (cluster_text, machine_text) = initial_secrets(&references, machine.is_some())?;
    let encrypted = file::encrypt(&cluster_text, &settings, &mut OsRng, &now())?;
    let machine_encrypted = machine_text
        .map(|text| file::encrypt(&text, &settings, &mut OsRng, &now()))
        .transpose()?;
    std::fs::create_dir_all(dir)?;
    if configured.is_none() {
        std::fs::write(&config, init::sops_config(&recipients))
            .with_context(|| format!("cannot write `{}`", config.display()))?;
    }
    create_new(&secrets, &encrypted)?;
    let mut written = vec![secrets.display().to_string()];
    if let (Some(path), Some(text)) = (&machine, &machine_encrypted) {
        create_new(path, text)?;
        written.push(path.display().to_string());
    }
    if configured.is_none() {
        written.push(config.display().to_string());
        report(&format!("wrote {}", written.join(", ")));
    } else {
        report(&format!(
            "wrote {} (kept {}: it names the same recipients)",
            written.join(", "),
            config.display()
        ));
    }
    if references.iter().any(|(k, _)| !is_builtin(k)) {
        report(&format!(
            "next: fill in the empty values with `railyard secrets edit {}`",
            secrets.display()
        ));
    }
    Ok(Exit::Success)
}

fn refuse_existing(path: &Path) -> Result<()> {
    if path.exists() {
        bail!(
            "refusing to overwrite `{}`; init never overwrites",
            path.display()
        );
    }
    Ok(())
}

/// A new file, never one that exists (`create_new`), readable as any committed file is.
pub(super) fn create_new(path: &Path, text: &str) -> Result<()> {
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    handle
        .write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// The machines' secrets file to write beside the cluster's: the one the site names, or the
/// default; none for a `v1alpha1` site, which keeps every value in one file.
fn machine_file(dir: &Path, site: Option<&str>) -> Option<std::path::PathBuf> {
    let Some(text) = site else {
        return Some(dir.join(crate::core::defaults::MACHINE_SECRETS_FILE));
    };
    let file = crate::core::source::SourceFile::new("site.yaml", text);
    let (documents, _) = crate::core::yaml::parse_stream(&file);
    let api_version = documents
        .first()
        .and_then(|d| d.get("apiVersion"))
        .and_then(crate::core::yaml::Node::as_str);
    if !crate::core::site_version::splits_secrets(api_version) {
        return None;
    }
    crate::core::compile::machine_secrets_file(&file).map(|f| dir.join(f))
}

/// The recipients to encrypt to: `--age`, else `.sops.yaml`'s, else the site's. Whichever of
/// the three are present must name the same set, or the site would not validate (it checks
/// that the file is encrypted to its recipients) and sops would re-encrypt to other ones.
fn choose(
    flags: &[String],
    configured: Option<&[String]>,
    in_site: &[String],
    config: &Path,
    site: &Path,
) -> Result<Vec<String>> {
    let chosen: Vec<String> = if !flags.is_empty() {
        flags.to_vec()
    } else if let Some(configured) = configured.filter(|c| !c.is_empty()) {
        configured.to_vec()
    } else if !in_site.is_empty() {
        in_site.to_vec()
    } else {
        bail!(
            "no age recipient: pass `--age RECIPIENT`, or name it in `spec.secrets.ageRecipients` of `{}`",
            site.display()
        );
    };
    let set = |list: &[String]| list.iter().cloned().collect::<BTreeSet<String>>();
    let shown = |list: &[String]| format!("`{}`", list.join("`, `"));
    if let Some(configured) = configured
        && set(configured) != set(&chosen)
    {
        bail!(
            "`{}` encrypts to {}, not to {}; pass the same `--age`, or change or remove `{}`",
            config.display(),
            shown(configured),
            shown(&chosen),
            config.display()
        );
    }
    if !in_site.is_empty() && set(in_site) != set(&chosen) {
        bail!(
            "`{}` names the recipients {} in `spec.secrets.ageRecipients`, not {}; encrypt to the same ones or edit the site",
            site.display(),
            shown(in_site),
            shown(&chosen)
        );
    }
    Ok(chosen)
}

/// Recipients other than `init`'s placeholder.
fn real(list: Vec<String>) -> Vec<String> {
    list.into_iter()
        .filter(|r| r != init::AGE_PLACEHOLDER)
        .collect()
}

/// `spec.secrets.ageRecipients` of a site file, read leniently: the site need not validate yet.
fn site_recipients(text: &str) -> Vec<String> {
    let file = crate::core::source::SourceFile::new("site.yaml", text);
    let (documents, _) = crate::core::yaml::parse_stream(&file);
    let Some(document) = documents.first() else {
        return Vec::new();
    };
    let tree = crate::core::json_tree::JsonTree::new("site.yaml", document);
    let list = tree
        .value
        .pointer("/spec/secrets/ageRecipients")
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    real(list)
}

/// The secret keys a site file references, each once with the first place it is referenced;
/// none when there is no site file yet.
fn secret_references(site: Option<&str>) -> Vec<(String, String)> {
    let mut references: Vec<(String, String)> = Vec::new();
    for (pointer, key) in site.map(rules::secret_references).unwrap_or_default() {
        if !references.iter().any(|(k, _)| *k == key) {
            references.push((key, pointer));
        }
    }
    references
}

fn is_builtin(key: &str) -> bool {
    rules::is_builtin_secret_key(key)
}

/// The new secrets files in plain text: the keys railyard generates, and an empty value to
/// fill in for every other key the site references; the k3s tokens in the machines' file when
/// there is one (`split`), else in the one file.
fn initial_secrets(
    references: &[(String, String)],
    split: bool,
) -> Result<(String, Option<String>)> {
    let host_key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519)
        .context("cannot generate the SSH gateway host key")?;
    let host_key = host_key
        .to_openssh(ssh_key::LineEnding::LF)
        .context("cannot encode the SSH gateway host key")?;
    let mut plain = String::from(
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: railyard-secrets\n    namespace: flux-system\ntype: Opaque\nstringData:\n",
    );
    plain.push_str("    # Generated by `railyard secrets init`.\n");
    let tokens = format!(
        "    k3s_token: {}\n    k3s_agent_token: {}\n",
        token(),
        token()
    );
    let machine = if split {
        Some(format!(
            "{}    # Generated by `railyard secrets init`.\n{tokens}",
            init::machine_secrets_header()
        ))
    } else {
        plain.push_str(&tokens);
        None
    };
    plain.push_str(&format!(
        "    gitpod_ssh_gateway_host_key: {}\n",
        base64::engine::general_purpose::STANDARD.encode(host_key.as_bytes())
    ));
    for (key, pointer) in references.iter().filter(|(k, _)| !is_builtin(k)) {
        plain.push_str(&referenced_entry(key, pointer));
    }
    Ok((plain, machine))
}

/// The entry for a key the site references: Gitpod's database encryption keys are generated
/// (a fresh 32-byte key); any other value is left for the user to fill in.
fn referenced_entry(key: &str, pointer: &str) -> String {
    if pointer.ends_with("encryptionKeys.secretKey") {
        let mut material = [0_u8; 32];
        OsRng.fill_bytes(&mut material);
        let material = base64::engine::general_purpose::STANDARD.encode(material);
        let keys = format!(
            "[{{\"name\":\"general\",\"version\":1,\"primary\":true,\"material\":\"{material}\"}}]"
        );
        format!("    # Generated for {pointer}.\n    {key}: '{keys}'\n")
    } else {
        format!("    # FILL IN: referenced by the site at {pointer}\n    {key}: \"\"\n")
    }
}

/// 48 letters and digits from the OS's random source (about 285 bits).
fn token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(48);
    while out.len() < 48 {
        let mut byte = [0_u8; 1];
        OsRng.fill_bytes(&mut byte);
        // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
        if byte[0] < 248 {
            out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    out
}
