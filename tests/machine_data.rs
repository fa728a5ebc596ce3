//! `railyard machine-data`: a rendered machine's user-data for hand provisioning, its secrets
//! (decrypted as bootstrap does) and the given addresses filled in; `cloud-init schema` is the
//! judge of what it prints, and sops of the secret it filled in.

use std::path::Path;
use std::process::{Command, Output};

use crate::oracles::oracle;
use crate::support::{copy_inputs, railyard, root, run, snapshot, stderr, stdout};

/// `machine-data` (or any command) in `dir`, with the example's age key.
fn in_dir(dir: &Path, args: &[&str]) -> Output {
    run(railyard()
        .current_dir(dir)
        .args(args)
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key")))
}

/// The example site copied into a temporary directory.
fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_inputs(&root().join("examples").join(name), dir.path());
    dir
}

/// `cloud-init schema` on the text, when cloud-init is installed (a loud skip otherwise).
fn check_schema(text: &str, what: &str) {
    let Some(cloud_init) = oracle("cloud-init") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("user-data.yaml");
    std::fs::write(&file, text).expect("write");
    let output = run(Command::new(cloud_init)
        .args(["schema", "--config-file"])
        .arg(&file));
    let said = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        output.status.success()
            && (said.contains("Valid schema") || said.contains("Valid cloud-config")),
        "{what}: {said}"
    );
}

/// The machines' secrets file's value for `key` (the user-data's secrets are the k3s tokens),
/// decrypted by sops itself.
fn sops_value(site_dir: &Path, key: &str) -> Option<String> {
    let sops = oracle("sops")?;
    let output = run(Command::new(sops)
        .args([
            "--decrypt",
            "--extract",
            &format!("[\"stringData\"][\"{key}\"]"),
        ])
        .arg(site_dir.join("machine-secrets.sops.yaml"))
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key")));
    assert!(output.status.success(), "sops: {}", stderr(&output));
    Some(stdout(&output))
}

#[test]
fn every_machine_of_the_example_prints_filled_user_data_that_cloud_init_accepts() {
    let dir = example("hetzner-small");
    let before = snapshot(dir.path());
    for machine in ["server-0", "demo-small-worker-0"] {
        let output = in_dir(dir.path(), &["machine-data", "site.yaml", machine]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{machine}: {}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(text.starts_with("#cloud-config\n"), "{machine}: {text}");
        assert!(!text.contains("@@railyard:"), "{machine}: a marker is left");
        check_schema(&text, machine);
        if let Some(token) = sops_value(dir.path(), "k3s_agent_token") {
            assert!(!token.is_empty());
            assert!(
                text.contains(&token),
                "{machine}: the agent token is not filled in"
            );
        }
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "machine-data wrote or changed a file"
    );
}

#[test]
fn with_json_errors_the_output_is_the_user_data_alone() {
    let dir = example("hetzner-small");
    let output = in_dir(
        dir.path(),
        &[
            "--error-format",
            "json",
            "machine-data",
            "site.yaml",
            "worker-0",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("#cloud-config\n"), "{text}");
    assert!(
        !text.trim_end().ends_with("[]"),
        "a findings array follows the user-data"
    );
    check_schema(&text, "worker-0 with --error-format json");
}

#[test]
fn missing_addresses_are_named_and_nothing_is_printed() {
    let dir = example("digitalocean-small");
    let refused = in_dir(dir.path(), &["machine-data", "site.yaml", "worker-0"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert_eq!(stdout(&refused), "", "printed despite a missing value");
    assert!(
        stderr(&refused)
            .contains("address `server-0-private-ip` (pass `--address server-0-private-ip=IP`)"),
        "{}",
        stderr(&refused)
    );

    let given = in_dir(
        dir.path(),
        &[
            "machine-data",
            "site.yaml",
            "worker-0",
            "--address",
            "server-0-private-ip=10.10.0.5",
        ],
    );
    assert_eq!(given.status.code(), Some(0), "{}", stderr(&given));
    let text = stdout(&given);
    assert!(!text.contains("@@railyard:"), "a marker is left");
    assert!(text.contains("10.10.0.5"), "the address is not filled in");
    check_schema(&text, "digitalocean worker");

    let bad = in_dir(
        dir.path(),
        &[
            "machine-data",
            "site.yaml",
            "worker-0",
            "--address",
            "server-0-private-ip=nope",
        ],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("`nope` is not an IP address"),
        "{}",
        stderr(&bad)
    );

    let unknown = in_dir(dir.path(), &["machine-data", "site.yaml", "worker-9"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("renders no machine `worker-9`"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn validate_lists_what_hand_provisioning_needs() {
    let dir = example("digitalocean-small");
    let output = in_dir(dir.path(), &["validate", "site.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let worker = out
        .lines()
        .find(|l| l.contains("cloud-init/worker.yaml"))
        .unwrap_or_else(|| panic!("no note for the worker:\n{out}"));
    assert!(worker.starts_with("note: hand provisioning"), "{worker}");
    assert!(worker.contains("`k3s_agent_token`"), "{worker}");
    assert!(worker.contains("`server-0-private-ip`"), "{worker}");
}
