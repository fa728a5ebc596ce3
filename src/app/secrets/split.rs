//! `railyard secrets split`: moves the machines' values (the k3s tokens) out of the cluster's
//! secrets file into the machines' file, so no cluster Secret holds them (decision 0013).
//!
//! Both files are re-encrypted in memory; no value is printed. An older (`v1alpha1`) site is
//! then migrated, since `railyard migrate` refuses it while the tokens are in the one file. The machines' file is written
//! first: a run stopped between the two writes leaves the tokens in both files (the site's
//! rules report them in the cluster's), never in neither.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rand_core::OsRng;

use super::{create_new, located, now, read_secrets, write_atomically};
use crate::app::lines::report;
use crate::app::{Exit, migrate};
use crate::cli::Cli;
use crate::core::{compile, defaults, init, rules, source::SourceFile};
use crate::edge::{age_keys, load};
use crate::sops::file::{self, Settings};
use crate::sops::split;

pub(super) fn run(cli: &Cli, site: &Path) -> Result<Exit> {
    let site_text =
        load::read_text(site).with_context(|| format!("cannot read `{}`", site.display()))?;
    let site_file = SourceFile::new(site.display().to_string(), site_text.as_str());
    // An older site is split as the current format would name its files, then migrated.
    let older = !compile::splits_secrets(&site_file);
    let dir = site.parent().unwrap_or(Path::new("."));
    let cluster = compile::secrets_file(&site_file)
        .map(|f| dir.join(f))
        .with_context(|| format!("`{}` names no secrets file", site.display()))?;
    let machine = if older {
        Some(dir.join(defaults::MACHINE_SECRETS_FILE))
    } else {
        compile::machine_secrets_file(&site_file).map(|f| dir.join(f))
    }
    .context("the machines' secrets file is not a safe path")?;
    if machine.exists() {
        bail!(
            "refusing to overwrite `{}`; move any token left in `{}` by hand (`railyard secrets edit`)",
            machine.display(),
            cluster.display()
        );
    }
    let text = read_secrets(&cluster)?;
    let decrypted =
        file::decrypt(&text, &age_keys::load()?).map_err(|e| located(Some(&cluster), e))?;
    let keys: Vec<&str> = rules::MACHINE_SECRET_KEYS.iter().map(|(k, _)| *k).collect();
    let parts = split::split(&decrypted.plaintext, &keys, &init::machine_secrets_header())
        .with_context(|| format!("cannot split `{}`", cluster.display()))?;
    if parts.keys.is_empty() {
        bail!(
            "`{}` holds none of `{}`; nothing to move",
            cluster.display(),
            keys.join("`, `")
        );
    }
    let settings = Settings {
        recipients: decrypted
            .metadata
            .age
            .iter()
            .map(|(r, _)| r.clone())
            .collect(),
        rule: decrypted.metadata.rule.clone(),
    };
    let machine_text = file::encrypt(&parts.moved, &settings, &mut OsRng, &now())
        .map_err(|e| located(Some(&machine), e))?;
    let cluster_text = file::reencrypt(&text, &decrypted, &parts.kept, &mut OsRng, &now())
        .map_err(|e| located(Some(&cluster), e))?;
    create_new(&machine, &machine_text)?;
    write_atomically(&cluster, &cluster_text)?;
    report(&format!(
        "moved `{}` from {} into {}; commit both files",
        parts.keys.join("`, `"),
        cluster.display(),
        machine.display()
    ));
    if older {
        return migrate::one(cli, site, false);
    }
    Ok(Exit::Success)
}
