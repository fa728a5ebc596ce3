//! `railyard machine-data`: one rendered machine's user-data with its secrets and the given
//! addresses filled in, printed for provisioning it by hand; and the note `validate` prints
//! about what that needs. The filled text goes to standard output only, never to a file.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};

use crate::app::{Exit, cloud, compile_site, failure, print_diagnostics};
use crate::bootstrap::hand;
use crate::bootstrap::wanted;
use crate::cli::{Cli, ErrorFormat};
use crate::edge::report;

/// Prints the machine's filled user-data; exit 1 naming every value still missing.
pub(super) fn run(
    cli: &Cli,
    site: &Path,
    machine: &str,
    addresses: &[(String, IpAddr)],
) -> Result<Exit> {
    let addresses: BTreeMap<String, String> = addresses
        .iter()
        .map(|(name, ip)| (name.clone(), ip.to_string()))
        .collect();
    let (loaded, output) = compile_site(cli, site)?;
    let code = print_diagnostics(cli, &loaded, &output);
    let Some(tree) = output.tree else {
        return Ok(code);
    };
    let host = wanted::read(&tree.site, &tree.files)?;
    let all = hand::machines(&tree.site, &host.machines);
    let chosen = hand::find(&tree.site, &all, machine)?;
    let bytes = tree
        .files
        .get(&chosen.user_data)
        .with_context(|| format!("the render has no `{}`", chosen.user_data))?;
    let text = std::str::from_utf8(bytes)
        .with_context(|| format!("`{}` is not UTF-8", chosen.user_data))?;
    let needed =
        crate::core::placeholder::scan(text).with_context(|| format!("`{}`", chosen.user_data))?;
    let secrets = if needed.iter().any(hand::is_secret) {
        let file = crate::core::compile::machine_secrets_file(&loaded.inputs.site)
            .context("the site names no secrets file, and the user-data needs secrets")?;
        cloud::decrypted_secrets(&loaded.site_dir.join(file))?
    } else {
        BTreeMap::new()
    };
    match hand::fill(&chosen, text, &secrets, &addresses) {
        Ok(filled) => {
            use std::io::Write as _;
            let mut stdout = std::io::stdout();
            stdout.write_all(filled.as_bytes())?;
            stdout.flush()?;
            Ok(Exit::Success)
        }
        Err(error @ hand::HandError::Unfilled { .. }) => {
            let message = error.to_string();
            match cli.error_format {
                ErrorFormat::Human => eprintln!("{}: {message}", chosen.user_data),
                ErrorFormat::Json => failure::hold(vec![report::json_finding(
                    Path::new(&chosen.user_data),
                    &message,
                    None,
                )]),
            }
            Ok(Exit::Findings)
        }
        Err(error) => Err(error.into()),
    }
}

/// For `validate`: the values hand provisioning needs, one line per user-data file of
/// `machines` that holds placeholders.
pub(super) fn needs(
    site: &str,
    machines: &crate::core::machines::Machines,
    files: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let all = hand::machines(site, machines);
    let Ok(needs) = hand::needs(&all, files) else {
        return Vec::new();
    };
    needs
        .into_iter()
        .filter(|(_, found)| !found.is_empty())
        .map(|(file, found)| {
            let (secrets, addresses): (Vec<_>, Vec<_>) =
                found.iter().partition(|p| hand::is_secret(p));
            let list = |items: &[&crate::core::placeholder::Placeholder]| {
                items
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut line =
                format!("note: hand provisioning (`railyard machine-data`) of `{file}` fills");
            if !secrets.is_empty() {
                line.push_str(&format!(
                    " secrets {} from the secrets file",
                    list(&secrets)
                ));
            }
            if !addresses.is_empty() {
                if !secrets.is_empty() {
                    line.push_str(" and");
                }
                line.push_str(&format!(
                    " addresses {} (`--address NAME=IP`)",
                    list(&addresses)
                ));
            }
            line
        })
        .collect()
}
