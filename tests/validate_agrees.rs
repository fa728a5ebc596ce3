//! `validate` skips most generation (`compile::validate`); on every golden case and example
//! it must report exactly the diagnostics `compile` reports, and the same machines' files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use railyard::core::compile::{compile, validate};
use railyard::edge::load::load;

use crate::support::{cases, root};

fn every_case() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in ["golden/ok", "golden/warn", "golden/err", "examples"] {
        all.extend(
            cases(&root().join(dir))
                .into_iter()
                .map(|case| case.join("site.yaml"))
                .filter(|site| site.is_file()),
        );
    }
    all
}

#[test]
fn validate_reports_what_compile_reports_on_every_case() {
    let sites = every_case();
    assert!(sites.len() > 100, "only {} cases found", sites.len());
    let (mut valid, mut failures) = (0, Vec::new());
    for site in &sites {
        let loaded = load(site).expect("case loads");
        let compiled = compile(&loaded.inputs);
        let validated = validate(&loaded.inputs);
        if compiled.diagnostics != validated.diagnostics {
            failures.push(format!("{}: diagnostics differ", site.display()));
        }
        match (&compiled.tree, &validated.hosts) {
            (None, None) => {}
            (Some(tree), Some(hosts)) => {
                valid += 1;
                let prefix = format!("hosts/{}/", tree.site);
                let expected: BTreeMap<_, _> = tree
                    .files
                    .iter()
                    .filter(|(path, _)| path.starts_with(&prefix))
                    .collect();
                let got: BTreeMap<_, _> = hosts.files.iter().collect();
                if expected != got || hosts.site != tree.site || expected.is_empty() {
                    failures.push(format!("{}: the machines' files differ", site.display()));
                }
                let file = railyard::bootstrap::wanted::read(&tree.site, &tree.files);
                if file.map(|host| host.machines).ok().as_ref() != Some(&hosts.machines) {
                    failures.push(format!("{}: the machines differ", site.display()));
                }
            }
            (tree, hosts) => failures.push(format!(
                "{}: compile has a tree: {}, validate has the machines' files: {}",
                site.display(),
                tree.is_some(),
                hosts.is_some()
            )),
        }
    }
    assert!(valid > 50, "only {valid} valid cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
