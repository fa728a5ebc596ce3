//! The machines' secrets stay out of the cluster: no rendered `clusters/` file names a k3s
//! token, `secrets split` moves them from a site's one file into the machines' file (and
//! migrates an older site), and `secrets init` writes both files.

use std::path::Path;

use serde_json::Value;

use super::{example_key, sops_json};
use crate::oracles::oracle;
use crate::support::{railyard, root, run, stderr, stdout};

/// The keys only machines use, as the rules name them.
fn machine_keys() -> Vec<&'static str> {
    railyard::core::rules::MACHINE_SECRET_KEYS
        .iter()
        .map(|(k, _)| *k)
        .collect()
}

#[test]
fn no_rendered_cluster_file_names_a_machine_key() {
    let mut sites: Vec<_> = ["examples", "golden/ok"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).expect("readable"))
        .map(|e| e.expect("entry").path().join("site.yaml"))
        .filter(|p| p.is_file())
        .collect();
    sites.sort();
    let mut checked = 0;
    for site in sites {
        let loaded = railyard::edge::load::load(&site).expect("loads");
        // A `v1alpha1` site keeps one file, copied whole as it always was.
        if !railyard::core::compile::splits_secrets(&loaded.inputs.site) {
            continue;
        }
        let tree = railyard::core::compile::compile(&loaded.inputs)
            .tree
            .unwrap_or_else(|| panic!("{} renders", site.display()));
        // The one exception (decision 0013): cluster-autoscaler boots autoscaled pools' nodes
        // with user-data Flux fills in, so such a site's cluster file holds the agent token.
        let autoscaled = tree
            .files
            .keys()
            .any(|p| p.ends_with("cluster-autoscaler.yaml"));
        for (path, bytes) in tree.all_files() {
            if !path.starts_with("clusters/") {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            for key in machine_keys() {
                if autoscaled && key == "k3s_agent_token" {
                    continue;
                }
                assert!(
                    !text.contains(key),
                    "{}: `{path}` names `{key}`",
                    site.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} cluster files checked");
}

/// A `v1alpha2` site whose one secrets file still holds the tokens, as `migrate` leaves it.
fn unsplit_site(dir: &Path) {
    let case = root().join("golden/err/machine-key-in-cluster-secrets");
    for file in ["site.yaml", "secrets.sops.yaml"] {
        std::fs::copy(case.join(file), dir.join(file)).expect("copy");
    }
}

fn in_dir(dir: &Path, args: &[&str]) -> std::process::Output {
    run(railyard()
        .current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", example_key())
        .args(args))
}

/// The `stringData` of a decrypted file.
fn string_data(sops: &Path, file: &Path) -> serde_json::Map<String, Value> {
    sops_json(sops, &example_key(), file)[0]["stringData"]
        .as_object()
        .expect("stringData")
        .clone()
}

#[test]
fn split_moves_the_tokens_and_the_site_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    unsplit_site(dir.path());
    let before = in_dir(dir.path(), &["validate", "site.yaml"]);
    assert_eq!(before.status.code(), Some(1), "{}", stderr(&before));
    assert!(stderr(&before).contains("belongs in the machines' secrets file"));

    let split = in_dir(dir.path(), &["secrets", "split"]);
    assert!(split.status.success(), "{}", stderr(&split));
    assert!(stdout(&split).contains("moved `k3s_token`, `k3s_agent_token`"));
    let after = in_dir(dir.path(), &["validate", "site.yaml"]);
    assert!(after.status.success(), "{}", stderr(&after));

    // A second run has nothing to move and refuses to overwrite the machines' file.
    let again = in_dir(dir.path(), &["secrets", "split"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("refusing to overwrite"),
        "{}",
        stderr(&again)
    );

    let Some(sops) = oracle("sops") else { return };
    let original = string_data(
        &sops,
        &root().join("golden/err/machine-key-in-cluster-secrets/secrets.sops.yaml"),
    );
    let machine = string_data(&sops, &dir.path().join("machine-secrets.sops.yaml"));
    let cluster = string_data(&sops, &dir.path().join("secrets.sops.yaml"));
    for key in machine_keys() {
        assert_eq!(
            machine.get(key),
            original.get(key),
            "`{key}` moved as it was"
        );
        assert!(
            !cluster.contains_key(key),
            "`{key}` left the cluster's file"
        );
    }
    assert_eq!(machine.len(), machine_keys().len());
    for (key, value) in &original {
        if !machine_keys().contains(&key.as_str()) {
            assert_eq!(cluster.get(key), Some(value), "`{key}` stays");
        }
    }
    for value in machine.values().filter_map(Value::as_str) {
        assert!(!stdout(&split).contains(value) && !stderr(&split).contains(value));
    }
}

#[test]
fn split_moves_the_tokens_of_an_older_site_and_migrates_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = root().join("golden/ok/minimal");
    for file in ["site.yaml", "secrets.sops.yaml"] {
        std::fs::copy(case.join(file), dir.path().join(file)).expect("copy");
    }
    let output = in_dir(dir.path(), &["secrets", "split"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("migrated `railyard.dev/v1alpha1` → `railyard.dev/v1alpha2`"),
        "{}",
        stdout(&output)
    );
    assert!(dir.path().join("machine-secrets.sops.yaml").is_file());
    let validate = in_dir(dir.path(), &["validate", "site.yaml"]);
    assert!(validate.status.success(), "{}", stderr(&validate));
    assert!(!stderr(&validate).contains("older site format"));
}

#[test]
fn init_writes_the_machines_file_beside_the_clusters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = std::fs::read_to_string(root().join("golden/ok/maintenance-window/site.yaml"))
        .expect("site");
    std::fs::write(dir.path().join("site.yaml"), site).expect("write");
    let output = in_dir(dir.path(), &["secrets", "init"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let cluster = std::fs::read_to_string(dir.path().join("secrets.sops.yaml")).expect("cluster");
    let machine =
        std::fs::read_to_string(dir.path().join("machine-secrets.sops.yaml")).expect("machine");
    for key in machine_keys() {
        assert!(!cluster.contains(key), "`{key}` in the cluster's file");
        assert!(
            machine.contains(&format!("{key}: ENC[")),
            "`{key}` not in the machines' file"
        );
    }
    assert!(cluster.contains("gitpod_ssh_gateway_host_key: ENC["));
    // `check --mac` decrypts the machines' file too.
    let check = in_dir(dir.path(), &["secrets", "check", "--mac"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stdout(&check)
            .contains("machine-secrets.sops.yaml: every reference resolves, the MAC verifies"),
        "{}",
        stdout(&check)
    );
}
