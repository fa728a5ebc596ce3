//! `railyard migrate`: older site files rewritten to the current format, in place.
//!
//! The core computes the new text; this module refuses a file whose migrated text does not
//! validate (printing why), writes the rest atomically and says what it did.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{Exit, finding, print_diagnostics, status};
use crate::cli::Cli;
use crate::core::compile::{self, Output};
use crate::core::diagnostic;
use crate::core::migrate::{self, Migration};
use crate::core::rules::MACHINE_SECRET_KEYS;
use crate::core::secrets_file;
use crate::core::site_version::CURRENT;
use crate::core::source::SourceFile;
use crate::edge::load::Loaded;
use crate::edge::{load, replace};

/// The machine-only keys (`` `k3s_token` ``, ...) a migrated site would have to move out of
/// its one secrets file, when there are any. Moving them needs the age identity, which
/// `migrate` never asks for: `secrets split` does it (decision 0013).
fn machine_keys_to_move(loaded: &Loaded, migrated: &str) -> Option<String> {
    let migrated = SourceFile::new(loaded.inputs.site.name.clone(), migrated);
    if !compile::splits_secrets(&migrated) {
        return None;
    }
    let path = compile::secrets_file(&migrated)?;
    let file = loaded.inputs.files.get(&path)?.as_ref().ok()?;
    let (info, _) = secrets_file::read(file);
    let keys: Vec<String> = info
        .keys
        .iter()
        .filter(|k| MACHINE_SECRET_KEYS.iter().any(|(m, _)| m == k))
        .map(|k| format!("`{k}`"))
        .collect();
    (!keys.is_empty()).then(|| keys.join(" and "))
}

pub(super) fn run(cli: &Cli, sites: &[PathBuf], check: bool) -> Result<Exit> {
    let default = [PathBuf::from("site.yaml")];
    let sites = if sites.is_empty() {
        &default[..]
    } else {
        sites
    };
    let mut exit = Exit::Success;
    for site in sites {
        exit = exit.max(one(cli, site, check)?);
    }
    Ok(exit)
}

pub(in crate::app) fn one(cli: &Cli, site: &Path, check: bool) -> Result<Exit> {
    let mut loaded = load::load(site)?;
    let name = site.display();
    let migration = match migrate::migrate(&loaded.inputs.site) {
        Ok(migration) => migration,
        Err(why) => {
            finding(cli, site, &format!("cannot migrate: {why}"));
            return Ok(Exit::Findings);
        }
    };
    let Migration::Migrated { text, from, steps } = migration else {
        status(&format!(
            "{name}: already `{}`, nothing to do",
            CURRENT.as_str()
        ));
        return Ok(Exit::Success);
    };
    if let Some(keys) = machine_keys_to_move(&loaded, &text) {
        let pending = if check {
            "migration pending"
        } else {
            "not migrated"
        };
        finding(
            cli,
            site,
            &format!(
                "{pending}: `{}` keeps {keys} in the machines' secrets file, not in the cluster's; run `railyard secrets split {name}`, which moves them (it needs your age identity) and migrates the file",
                CURRENT.as_str()
            ),
        );
        return Ok(Exit::Findings);
    }
    // The migrated file must validate; its diagnostics point into the same lines as the
    // original's, since a step changes only the spans it rewrites.
    loaded.inputs.site = SourceFile::new(loaded.inputs.site.name.clone(), text.clone());
    let output = if loaded.problems.is_empty() {
        compile::compile(&loaded.inputs)
    } else {
        Output {
            tree: None,
            diagnostics: loaded.problems.clone(),
        }
    };
    if diagnostic::has_errors(&output.diagnostics) {
        print_diagnostics(cli, &loaded, &output);
        finding(
            cli,
            site,
            "not migrated: the file does not validate as the current format; fix the problems above and run again",
        );
        return Ok(Exit::Findings);
    }
    let change = format!("`{}` → `{}`", from.as_str(), CURRENT.as_str());
    if check {
        finding(
            cli,
            site,
            &format!("migration pending: {change}; run `railyard migrate`"),
        );
        return Ok(Exit::Findings);
    }
    // Through a symbolic link the file it names is rewritten, and the link stays a link.
    let target = std::fs::canonicalize(site).unwrap_or_else(|_| site.to_path_buf());
    replace::replace_file(&target, text.as_bytes())
        .map_err(|error| anyhow::anyhow!("cannot write `{name}`: {error}"))?;
    status(&format!("{name}: migrated {change}"));
    for step in steps {
        status(&format!("  {step}"));
    }
    Ok(Exit::Success)
}
