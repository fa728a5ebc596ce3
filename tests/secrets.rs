//! `railyard secrets` against the real `sops` 3.11, both ways, plus edit, tampering, bad input
//! and a canary that looks for planted values wherever they must not be.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// `secrets edit` when the edited text cannot be encrypted, is unchanged, or is abandoned.
mod edit;

/// The machines' secrets file: out of the cluster, `secrets split`, `secrets init`.
mod split;

use crate::oracles::oracle;
use crate::support::{railyard, root, run, stderr, stdout};

fn example_key() -> PathBuf {
    root().join("examples/age.key")
}

fn recipient_of(key: &Path) -> String {
    let text = std::fs::read_to_string(key).expect("key file");
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("a public key line")
        .to_owned()
}

/// A second identity, made with the age library, for several-recipient cases.
fn second_key(dir: &Path) -> PathBuf {
    let identity = age::x25519::Identity::generate();
    let path = dir.join("second.key");
    use age::secrecy::ExposeSecret;
    std::fs::write(
        &path,
        format!(
            "# public key: {}\n{}\n",
            identity.to_public(),
            identity.to_string().expose_secret()
        ),
    )
    .expect("write key");
    path
}

/// A plaintext file as JSON, read with railyard's own YAML reader (all documents).
fn values(text: &str) -> Value {
    let file = railyard::core::source::SourceFile::new("x", text);
    let (documents, diagnostics) = railyard::core::yaml::parse_stream(&file);
    assert!(diagnostics.is_empty(), "{diagnostics:?}\n{text}");
    Value::Array(
        documents
            .iter()
            .map(|d| railyard::core::json_tree::JsonTree::new("x", d).value)
            .collect(),
    )
}

fn sops_json(sops: &Path, key: &Path, file: &Path) -> Value {
    let output = Command::new(sops)
        .env("SOPS_AGE_KEY_FILE", key)
        .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
        .arg(file)
        .output()
        .expect("sops runs");
    assert!(
        output.status.success(),
        "sops decrypt {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    values(&String::from_utf8_lossy(&output.stdout))
}

/// Plaintext shapes: (name, extra `sops encrypt` flags, YAML).
fn shapes() -> Vec<(&'static str, Vec<&'static str>, &'static str)> {
    let regex = vec!["--encrypted-regex", "^(data|stringData)$"];
    vec![
        (
            "flat-secret",
            regex.clone(),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: flux-system\nstringData:\n  a: one\n  b: two\n",
        ),
        (
            "nested-maps",
            regex.clone(),
            "kind: Secret\nstringData:\n  outer:\n    inner:\n      deep: value\n    other: x\n",
        ),
        (
            "lists",
            regex.clone(),
            "kind: Secret\nstringData:\n  list:\n    - a\n    - b\n    - c\n",
        ),
        (
            "list-of-maps",
            regex.clone(),
            "kind: Secret\nstringData:\n  users:\n    - name: ann\n      token: t1\n    - name: bob\n      token: t2\n",
        ),
        (
            "ints",
            regex.clone(),
            "kind: Secret\nstringData:\n  port: 3306\n  negative: -7\n",
        ),
        (
            "floats",
            regex.clone(),
            "kind: Secret\nstringData:\n  ratio: 1.5\n  small: 0.25\n",
        ),
        (
            "bools",
            regex.clone(),
            "kind: Secret\nstringData:\n  on: true\n  off: false\n",
        ),
        (
            "empty-and-null",
            regex.clone(),
            "kind: Secret\nstringData:\n  empty: \"\"\n  nothing: null\n  set: x\n",
        ),
        (
            "quoted-strings",
            regex.clone(),
            "kind: Secret\nstringData:\n  colon: 'a: b'\n  hash: \"x #y\"\n  number: \"123\"\n  bool: \"true\"\n",
        ),
        (
            "unicode",
            regex.clone(),
            "kind: Secret\nstringData:\n  greeting: \"grüße, 世界 ✓\"\n",
        ),
        (
            "block-scalar",
            regex.clone(),
            "kind: Secret\nstringData:\n  pem: |\n    -----BEGIN KEY-----\n    abc\n    -----END KEY-----\n",
        ),
        (
            "long-value",
            regex.clone(),
            "kind: Secret\nstringData:\n  long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        ),
        (
            "data-section",
            regex.clone(),
            "kind: Secret\ndata:\n  token: aGVsbG8=\n",
        ),
        (
            "head-comments",
            regex.clone(),
            "# top\nkind: Secret\nstringData:\n  # about a\n  a: x\n  # about b\n  b: y\n",
        ),
        (
            "unencrypted-parts",
            regex.clone(),
            "kind: Secret\nmetadata:\n  name: keep-plain\n  labels:\n    app: x\nstringData:\n  a: secret\n",
        ),
        (
            "multi-document",
            regex.clone(),
            "kind: Secret\nstringData:\n  a: one\n---\nkind: Secret\nstringData:\n  b: two\n",
        ),
        (
            "default-suffix-rule",
            vec![],
            "password: hunter2\nuser_unencrypted: admin\nnested:\n  key: v\n",
        ),
        (
            "unencrypted-suffix",
            vec!["--unencrypted-suffix", "_plain"],
            "password: hunter2\nuser_plain: admin\n",
        ),
        (
            "encrypted-suffix",
            vec!["--encrypted-suffix", "_secret"],
            "password_secret: hunter2\nuser: admin\n",
        ),
        (
            "unencrypted-regex",
            vec!["--unencrypted-regex", "^(kind|metadata)$"],
            "kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: x\n",
        ),
        (
            "several-recipients",
            regex.clone(),
            "kind: Secret\nstringData:\n  shared: both-can-read\n",
        ),
        (
            "special-keys",
            regex.clone(),
            "kind: Secret\nstringData:\n  .dockerconfigjson: '{\"auths\":{}}'\n  service-account.json: x\n",
        ),
    ]
}

#[test]
fn railyard_and_sops_read_each_others_files() {
    let Some(sops) = oracle("sops") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let key = example_key();
    let second = second_key(dir.path());
    let mut checked = 0;
    for (name, flags, plain) in shapes() {
        let several = name == "several-recipients";
        let recipients = if several {
            format!("{},{}", recipient_of(&key), recipient_of(&second))
        } else {
            recipient_of(&key)
        };
        let plain_path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&plain_path, plain).expect("write");
        let expected = values(plain);

        // railyard encrypts, sops decrypts (with each key when there are two).
        let ours = dir.path().join(format!("{name}.railyard.sops.yaml"));
        let rule: Vec<String> = if flags.is_empty() {
            vec![]
        } else {
            flags.iter().map(|s| (*s).to_owned()).collect()
        };
        std::fs::write(
            dir.path().join(".sops.yaml"),
            sops_config(&recipients, &rule),
        )
        .expect("write .sops.yaml");
        let output = run(railyard().arg("secrets").arg("encrypt").arg(&plain_path));
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        std::fs::write(&ours, &output.stdout).expect("write");
        for k in if several {
            vec![&key, &second]
        } else {
            vec![&key]
        } {
            assert_eq!(
                sops_json(&sops, k, &ours),
                expected,
                "{name}: sops reads railyard's file differently"
            );
        }

        // sops encrypts, railyard decrypts.
        let theirs = dir.path().join(format!("{name}.sops.yaml"));
        let mut command = Command::new(&sops);
        command
            .current_dir(dir.path())
            .args([
                "encrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
                "--age",
                &recipients,
            ])
            .args(&flags)
            .arg(&plain_path);
        let encrypted = command.output().expect("sops runs");
        assert!(
            encrypted.status.success(),
            "{name}: sops encrypt: {}",
            String::from_utf8_lossy(&encrypted.stderr)
        );
        std::fs::write(&theirs, &encrypted.stdout).expect("write");
        for k in if several {
            vec![&key, &second]
        } else {
            vec![&key]
        } {
            let decrypted = run(railyard()
                .env("SOPS_AGE_KEY_FILE", k)
                .arg("secrets")
                .arg("decrypt")
                .arg(&theirs));
            assert_eq!(
                decrypted.status.code(),
                Some(0),
                "{name}: {}",
                stderr(&decrypted)
            );
            assert_eq!(
                values(&stdout(&decrypted)),
                expected,
                "{name}: railyard reads sops' file differently"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked} interoperability cases");
}

/// A `.sops.yaml` with one creation rule for everything in the directory.
fn sops_config(recipients: &str, flags: &[String]) -> String {
    let mut rule = format!("creation_rules:\n  - age: {recipients}\n");
    let mut flags = flags.iter();
    while let (Some(flag), Some(value)) = (flags.next(), flags.next()) {
        rule.push_str(&format!(
            "    {}: '{value}'\n",
            flag.trim_start_matches("--").replace('-', "_")
        ));
    }
    if !rule.contains("_suffix") && !rule.contains("_regex") {
        rule.push_str("    unencrypted_suffix: _unencrypted\n");
    }
    rule
}

/// A private copy of the small example's secrets, with `SOPS_AGE_KEY_FILE` to use on it.
fn example_secrets() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secrets.sops.yaml");
    std::fs::copy(
        root().join("examples/hetzner-small/secrets.sops.yaml"),
        &file,
    )
    .expect("copy");
    (dir, file)
}

#[test]
fn edit_changes_one_value_and_the_mac_only() {
    let (dir, file) = example_secrets();
    let before = std::fs::read_to_string(&file).expect("read");
    let editor = dir.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/example-cloudflare-token-not-real/rotated-cloudflare-token/' \"$1\"\n").expect("write");
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&editor).expect("meta").permissions(),
        0o755,
    );
    let output = run(railyard()
        .env("SOPS_AGE_KEY_FILE", example_key())
        .env("EDITOR", format!("sh {}", editor.display()))
        .env_remove("VISUAL")
        .args(["secrets", "edit"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(&file).expect("read");
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    let keys: Vec<&str> = changed
        .iter()
        .map(|(a, _)| a.trim().split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        ["cloudflare_api_token", "lastmodified", "mac"],
        "changed lines: {changed:#?}"
    );
    if let Some(sops) = oracle("sops") {
        let json = sops_json(&sops, &example_key(), &file);
        assert_eq!(
            json[0]["stringData"]["cloudflare_api_token"],
            "rotated-cloudflare-token"
        );
    }
}

#[test]
fn tampering_is_detected_and_nothing_changes() {
    let (_dir, file) = example_secrets();
    let original = std::fs::read_to_string(&file).expect("read");
    // One byte flipped in a value's data, IV and tag, and in the MAC's data.
    let targets = [
        ("cloudflare_api_token: ENC[AES256_GCM,data:", 3),
        (",iv:", 5),
        (",tag:", 4),
        ("mac: ENC[AES256_GCM,data:", 6),
    ];
    for (marker, offset) in targets {
        let at = original.find(marker).expect("marker") + marker.len() + offset;
        let mut bytes = original.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("text");
        std::fs::write(&file, &tampered).expect("write");
        for args in [
            vec!["decrypt"],
            vec!["decrypt", "--in-place"],
            vec!["rotate", "--rekey"],
        ] {
            let output = run(railyard()
                .env("SOPS_AGE_KEY_FILE", example_key())
                .arg("secrets")
                .args(&args)
                .arg(&file));
            assert_eq!(
                output.status.code(),
                Some(2),
                "{marker} {args:?}: {}",
                stdout(&output)
            );
            assert!(
                stderr(&output).contains("secrets.sops.yaml"),
                "the error names the file: {}",
                stderr(&output)
            );
            assert_eq!(
                std::fs::read_to_string(&file).expect("read"),
                tampered,
                "{marker} {args:?}: the file changed"
            );
        }
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (dir, file) = example_secrets();
    let other = second_key(dir.path());
    let plain = dir.path().join("plain.yaml");
    std::fs::write(&plain, "kind: Secret\nstringData:\n  a: b\n").expect("write");
    let truncated = dir.path().join("truncated.sops.yaml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&truncated, &text[..text.len() / 2]).expect("write");
    let cases: Vec<(PathBuf, &Path, &str)> = vec![
        (
            file.clone(),
            other.as_path(),
            "none of the age identities opens the data key",
        ),
        (plain.clone(), example_key_path(), "not encrypted"),
        (truncated.clone(), example_key_path(), "truncated.sops.yaml"),
    ];
    for (target, key, expected) in cases {
        let before = std::fs::read(&target).expect("read");
        let output = run(railyard()
            .env("SOPS_AGE_KEY_FILE", key)
            .args(["secrets", "decrypt", "--in-place"])
            .arg(&target));
        assert_eq!(output.status.code(), Some(2), "{}", target.display());
        assert!(
            stderr(&output).contains(expected),
            "{}: {}",
            target.display(),
            stderr(&output)
        );
        assert_eq!(
            std::fs::read(&target).expect("read"),
            before,
            "{} changed",
            target.display()
        );
    }
    let no_key = run(railyard()
        .env("SOPS_AGE_KEY_FILE", dir.path().join("missing.key"))
        .args(["secrets", "decrypt"])
        .arg(&file));
    assert_eq!(no_key.status.code(), Some(2));
    assert!(
        stderr(&no_key).contains("missing.key"),
        "{}",
        stderr(&no_key)
    );
}

fn example_key_path() -> &'static Path {
    static KEY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    KEY.get_or_init(example_key)
}

#[test]
fn render_validate_and_diff_need_no_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = root().join("examples/hetzner-small/site.yaml");
    for args in [
        vec!["validate"],
        vec!["render", "--out"],
        vec!["diff", "--out"],
    ] {
        let mut command = railyard();
        command
            .env_remove("SOPS_AGE_KEY")
            .env("SOPS_AGE_KEY_FILE", dir.path().join("no-such.key"))
            .env("HOME", dir.path())
            .args(&args[..1])
            .arg(&site);
        if args.len() > 1 {
            command.args(&args[1..]).arg(dir.path().join("out"));
        }
        let output = run(&mut command);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// Planted values must appear nowhere but in `decrypt`'s standard output.
#[test]
fn planted_values_never_leak() {
    let Some(sops) = oracle("sops") else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir");
    let site_dir = work.path().join("site");
    std::fs::create_dir(&site_dir).expect("mkdir");
    std::fs::copy(
        root().join("examples/hetzner-small/site.yaml"),
        site_dir.join("site.yaml"),
    )
    .expect("copy");
    let markers = [
        "CANARY-k3s-7f3a",
        "CANARY-agent-19cc",
        "CANARY-hostkey-55e1",
        "CANARY-cloudflare-0b2d",
        "CANARY-github-c4e8",
    ];
    let plain = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: railyard-secrets\n  namespace: flux-system\nstringData:\n  k3s_token: {}\n  k3s_agent_token: {}\n  gitpod_ssh_gateway_host_key: {}\n  cloudflare_api_token: {}\n  github_client_secret: {}\n",
        markers[0], markers[1], markers[2], markers[3], markers[4]
    );
    let secrets = site_dir.join("secrets.sops.yaml");
    let encrypted = Command::new(&sops)
        .args([
            "encrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--encrypted-regex",
            "^(data|stringData)$",
            "--age",
            &recipient_of(&example_key()),
            "/dev/stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(plain.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sops runs");
    assert!(
        encrypted.status.success(),
        "{}",
        String::from_utf8_lossy(&encrypted.stderr)
    );
    std::fs::write(&secrets, &encrypted.stdout).expect("write");

    let repo = work.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    let git = |args: &[&str]| {
        assert!(
            Command::new("git")
                .current_dir(&repo)
                .args(args)
                .output()
                .expect("git")
                .status
                .success(),
            "git {args:?}"
        )
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "t"]);
    git(&["config", "user.email", "t@example.com"]);

    let editor = work.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/CANARY-github-c4e8/CANARY-github-c4e8-2/' \"$1\"\n",
    )
    .expect("write");
    let wrong_key = second_key(work.path());
    let site = site_dir.join("site.yaml");
    let mut outputs = Vec::new();
    let mut leak_checked = |label: &str, mut command: Command, stdout_may_hold_values: bool| {
        let output = command
            .env("TMPDIR", &tmp)
            .env("EDITOR", format!("sh {}", editor.display()))
            .env_remove("VISUAL")
            .output()
            .expect("railyard runs");
        let mut streams = vec![String::from_utf8_lossy(&output.stderr).into_owned()];
        if !stdout_may_hold_values {
            streams.push(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        outputs.push((label.to_owned(), streams));
    };
    let with_key = |args: &[&str]| {
        let mut command = railyard();
        command.env("SOPS_AGE_KEY_FILE", example_key()).args(args);
        command
    };
    leak_checked(
        "validate",
        with_key(&["validate", site.to_str().expect("utf-8")]),
        false,
    );
    leak_checked(
        "render",
        with_key(&[
            "render",
            site.to_str().expect("utf-8"),
            "--out",
            work.path().join("out").to_str().expect("utf-8"),
        ]),
        false,
    );
    leak_checked(
        "diff",
        with_key(&[
            "diff",
            site.to_str().expect("utf-8"),
            "--out",
            work.path().join("out").to_str().expect("utf-8"),
        ]),
        false,
    );
    leak_checked(
        "commit",
        with_key(&[
            "commit",
            site.to_str().expect("utf-8"),
            "--repo",
            repo.to_str().expect("utf-8"),
        ]),
        false,
    );
    leak_checked(
        "check --mac",
        with_key(&["secrets", "check", site.to_str().expect("utf-8"), "--mac"]),
        false,
    );
    leak_checked(
        "edit",
        with_key(&["secrets", "edit", secrets.to_str().expect("utf-8")]),
        false,
    );
    leak_checked(
        "rotate",
        with_key(&[
            "secrets",
            "rotate",
            secrets.to_str().expect("utf-8"),
            "--add",
            &recipient_of(&wrong_key),
        ]),
        false,
    );
    leak_checked(
        "rekey",
        with_key(&[
            "secrets",
            "rotate",
            secrets.to_str().expect("utf-8"),
            "--rekey",
        ]),
        false,
    );
    leak_checked(
        "decrypt",
        with_key(&["secrets", "decrypt", secrets.to_str().expect("utf-8")]),
        true,
    );
    let mut wrong = railyard();
    wrong
        .env("SOPS_AGE_KEY_FILE", work.path().join("missing.key"))
        .args(["secrets", "decrypt", secrets.to_str().expect("utf-8")]);
    leak_checked("decrypt without a key", wrong, false);
    let tampered = work.path().join("tampered.sops.yaml");
    let text = std::fs::read_to_string(&secrets).expect("read");
    let at = text.find("mac: ENC[AES256_GCM,data:").expect("mac") + 30;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&tampered, bytes).expect("write");
    leak_checked(
        "decrypt tampered",
        with_key(&["secrets", "decrypt", tampered.to_str().expect("utf-8")]),
        false,
    );

    let found = |text: &str| markers.iter().find(|m| text.contains(*m)).copied();
    for (label, streams) in &outputs {
        for stream in streams {
            assert!(found(stream).is_none(), "`{label}` printed a secret value");
        }
    }
    for (path, bytes) in crate::support::snapshot(&work.path().join("out"))
        .into_iter()
        .chain(crate::support::snapshot(&tmp))
    {
        assert!(
            found(&String::from_utf8_lossy(&bytes)).is_none(),
            "`{path}` holds a secret value"
        );
    }
    assert!(
        crate::support::snapshot(&tmp).is_empty(),
        "files left in the temporary directory"
    );
    let objects = Command::new("git")
        .current_dir(&repo)
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .output()
        .expect("git cat-file");
    assert!(
        found(&String::from_utf8_lossy(&objects.stdout)).is_none(),
        "a git object holds a secret value"
    );
}

#[test]
fn init_rotate_check_and_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site_dir = dir.path().join("site");
    std::fs::create_dir(&site_dir).expect("mkdir");
    std::fs::copy(
        root().join("examples/hetzner-small/site.yaml"),
        site_dir.join("site.yaml"),
    )
    .expect("copy");
    let key = example_key();
    let with_key = |args: &[&str]| {
        let mut command = railyard();
        command.env("SOPS_AGE_KEY_FILE", &key).args(args);
        run(&mut command)
    };
    let site_arg = site_dir.to_str().expect("utf-8");
    let init = with_key(&["secrets", "init", site_arg, "--age", &recipient_of(&key)]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let secrets = site_dir.join("secrets.sops.yaml");
    assert!(site_dir.join(".sops.yaml").is_file());
    assert_eq!(
        with_key(&["secrets", "init", site_arg, "--age", &recipient_of(&key)])
            .status
            .code(),
        Some(2),
        "init overwrote"
    );

    // Generated values are strong; the site's own references are empty placeholders.
    let decrypted = with_key(&["secrets", "decrypt", secrets.to_str().expect("utf-8")]);
    let values = values(&stdout(&decrypted));
    let data = &values[0]["stringData"];
    // The k3s tokens are the machines' values, in their own file.
    let machine = site_dir.join("machine-secrets.sops.yaml");
    let machine = self::values(&stdout(&with_key(&[
        "secrets",
        "decrypt",
        machine.to_str().expect("utf-8"),
    ])));
    let machine = &machine[0]["stringData"];
    for generated in ["k3s_token", "k3s_agent_token"] {
        assert!(
            data.get(generated).is_none(),
            "{generated} in the cluster's file"
        );
        let token = machine[generated].as_str().expect("a token");
        assert!(
            token.len() >= 48 && token.chars().all(|c| c.is_ascii_alphanumeric()),
            "{generated}"
        );
    }
    assert_ne!(machine["k3s_token"], machine["k3s_agent_token"]);
    use base64::Engine;
    let host_key = base64::engine::general_purpose::STANDARD
        .decode(data["gitpod_ssh_gateway_host_key"].as_str().expect("b64"))
        .expect("base64");
    assert!(String::from_utf8_lossy(&host_key).starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    assert_eq!(data["cloudflare_api_token"], "");
    assert_eq!(data["github_client_secret"], "");
    let site = site_dir.join("site.yaml");
    assert_eq!(
        with_key(&["secrets", "check", site.to_str().expect("utf-8")])
            .status
            .code(),
        Some(0)
    );
    // Empty values are a warning: exit 0, and 1 under `--strict`.
    let strict = with_key(&[
        "secrets",
        "check",
        site.to_str().expect("utf-8"),
        "--mac",
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    let unfinished = with_key(&["secrets", "check", site.to_str().expect("utf-8"), "--mac"]);
    assert_eq!(unfinished.status.code(), Some(0));
    assert!(stdout(&unfinished).contains("warning: the MAC verifies, but these values are empty"));
    assert!(
        stdout(&unfinished).contains("`stringData.cloudflare_api_token`"),
        "{}",
        stdout(&unfinished)
    );

    // Rotation re-wraps the data key: every value line stays as it was.
    let second = second_key(dir.path());
    let before = std::fs::read_to_string(&secrets).expect("read");
    assert_eq!(
        with_key(&[
            "secrets",
            "rotate",
            secrets.to_str().expect("utf-8"),
            "--add",
            &recipient_of(&second)
        ])
        .status
        .code(),
        Some(0)
    );
    let after = std::fs::read_to_string(&secrets).expect("read");
    let value_lines = |text: &str| {
        text.lines()
            .filter(|l| l.contains("type:str]") && !l.contains("mac:"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(value_lines(&before), value_lines(&after));
    assert!(after.contains(&recipient_of(&second)));
    if let Some(sops) = oracle("sops") {
        assert_eq!(
            sops_json(&sops, &second, &secrets),
            values,
            "the new recipient reads the same values"
        );
    }
    assert_eq!(
        with_key(&[
            "secrets",
            "rotate",
            secrets.to_str().expect("utf-8"),
            "--remove",
            &recipient_of(&second)
        ])
        .status
        .code(),
        Some(0)
    );
    assert!(
        !std::fs::read_to_string(&secrets)
            .expect("read")
            .contains(&recipient_of(&second))
    );

    // Standard input in, standard output out; `--in-place` replaces the file.
    let mut encrypt = railyard();
    encrypt
        .args(["secrets", "encrypt", "-", "--age", &recipient_of(&key)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = encrypt.spawn().expect("spawn");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"kind: Secret\nstringData:\n  a: from-stdin\n")
            .expect("write");
    }
    let encrypted = child.wait_with_output().expect("wait");
    assert!(encrypted.status.success());
    let file = dir.path().join("stdin.sops.yaml");
    std::fs::write(&file, &encrypted.stdout).expect("write");
    assert_eq!(
        with_key(&[
            "secrets",
            "decrypt",
            "--in-place",
            file.to_str().expect("utf-8")
        ])
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        self::values(&std::fs::read_to_string(&file).expect("read"))[0]["stringData"]["a"],
        "from-stdin"
    );
}
