//! Secret values travel only where they must: the machines' secrets in the create-server
//! user-data, the age identity and deploy key in their two Secrets; never in a message.

use super::*;

/// Secret values travel only in the create-server user-data, and never reach a message.
#[test]
fn secrets_appear_only_in_user_data() {
    let example = "examples/hetzner-medium/site.yaml";
    let cluster = TestCluster::quick(example);
    let secrets = machine_secrets();
    let fake = FakeHetzner::start_in_background(Faults {
        server_error_every: 6,
        ..Faults::default()
    });
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    ));
    assert_ok(&output);
    check_cloud_requests(&fake, &secrets);
    for secret in &secrets {
        assert!(
            !stdout(&output).contains(secret.as_str())
                && !stderr(&output).contains(secret.as_str())
        );
    }
    check_cluster_requests(&cluster, &fake, &output, &secrets);
    fake.stop();
}

/// The decrypted machines' secrets file's values (the k3s tokens) long enough to be recognised
/// in a request.
fn machine_secrets() -> Vec<String> {
    let decrypted = run(railyard()
        .current_dir(root())
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .args([
            "secrets",
            "decrypt",
            "examples/hetzner-medium/machine-secrets.sops.yaml",
        ]));
    let secrets: Vec<String> = stdout(&decrypted)
        .lines()
        .skip_while(|l| !l.starts_with("stringData:"))
        .skip(1)
        .filter_map(|l| l.split_once(": ").map(|(_, v)| v.trim().to_owned()))
        .filter(|v| v.len() >= 16)
        .collect();
    assert!(secrets.len() >= 2, "{secrets:?}");
    secrets
}

/// In the cloud: secrets only in create-server bodies, no placeholder left unfilled.
fn check_cloud_requests(fake: &FakeHetzner, secrets: &[String]) {
    let mut carried = 0;
    for request in fake.requests() {
        let body = request
            .body
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let is_create_server = request.method == "POST" && request.path.ends_with("/servers");
        for secret in secrets {
            if body.contains(secret.as_str()) {
                assert!(
                    is_create_server,
                    "a secret in {} {}",
                    request.method, request.path
                );
                carried += 1;
            }
        }
        if is_create_server && request.status < 300 {
            assert!(
                !body.contains("@@railyard:"),
                "an unfilled placeholder was sent"
            );
        }
    }
    assert!(carried > 0, "no user-data carried the k3s tokens");
}

/// In the cluster: the age identity only in the `sops-age` apply, the deploy key's private half
/// only in the `flux-system` Secret's, the machines' secrets nowhere; none in output.
fn check_cluster_requests(
    cluster: &TestCluster,
    fake: &FakeHetzner,
    output: &Output,
    secrets: &[String],
) {
    use base64::Engine as _;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let identity = std::fs::read_to_string(root().join("examples/age.key"))
        .expect("age key")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("an identity")
        .to_owned();
    let deploy = cluster
        .kube
        .object("/api/v1/namespaces/flux-system/secrets/flux-system")
        .expect("deploy key applied");
    let private = base64_text(&deploy["data"]["identity"]);
    assert!(private.contains("OPENSSH PRIVATE KEY"), "{private}");
    let cluster_secrets = [
        (
            identity.clone(),
            encode(&format!("{identity}\n")),
            "/secrets/sops-age",
        ),
        (private.clone(), encode(&private), "/secrets/flux-system"),
    ];
    let mut applied = 0;
    for request in cluster.kube.requests() {
        for secret in secrets {
            assert!(
                !request.body.contains(secret.as_str()),
                "{} {}",
                request.method,
                request.path
            );
        }
        for (plain, encoded, path) in &cluster_secrets {
            assert!(
                !request.body.contains(plain.as_str()),
                "{} {}",
                request.method,
                request.path
            );
            if request.body.contains(encoded.as_str()) {
                assert!(
                    request.method == "PATCH" && request.path.ends_with(path),
                    "a cluster secret in {} {}",
                    request.method,
                    request.path
                );
                applied += 1;
            }
        }
    }
    assert!(applied >= 2, "the Secrets were not applied");
    for request in fake.requests() {
        let body = request
            .body
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        for (plain, encoded, _) in &cluster_secrets {
            assert!(!body.contains(plain.as_str()) && !body.contains(encoded.as_str()));
        }
    }
    for (plain, encoded, _) in &cluster_secrets {
        for text in [stdout(output), stderr(output)] {
            assert!(!text.contains(plain.as_str()) && !text.contains(encoded.as_str()));
        }
    }
    assert!(!stdout(output).contains("PRIVATE KEY"));
}

/// An `https://` site: bootstrap applies the rendered credentials Secret with the secrets
/// file's values (Flux cannot fetch the repository that holds it before it exists), makes no
/// deploy key, and prints no value.
#[test]
fn an_https_site_gets_its_git_credentials_from_bootstrap() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let source = root().join("examples/hetzner-small");
    let site_text = std::fs::read_to_string(source.join("site.yaml"))
        .expect("example site")
        .replace(
            "    url: ssh://git@github.com/example/fleet.git\n",
            "    url: https://git.example.com/ops/fleet.git\n    auth:\n      basic:\n        username:\n          secretKey: github_client_secret\n        password:\n          secretKey: cloudflare_api_token\n",
        );
    assert!(site_text.contains("auth:"), "the example's git block moved");
    std::fs::write(dir.path().join("site.yaml"), site_text).expect("write site");
    for file in ["secrets.sops.yaml", "machine-secrets.sops.yaml"] {
        std::fs::copy(source.join(file), dir.path().join(file)).expect("copy secrets");
    }
    let site = dir.path().join("site.yaml");
    let site_arg = site.to_str().expect("UTF-8 path");
    let decrypted = run(railyard()
        .current_dir(root())
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .args(["secrets", "decrypt"])
        .arg(source.join("secrets.sops.yaml")));
    let value = |key: &str| {
        stdout(&decrypted)
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("{key}: "))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("`{key}` in the example's secrets"))
    };
    let (username, password) = (value("github_client_secret"), value("cloudflare_api_token"));

    let cluster = TestCluster::quick(site_arg);
    let fake = FakeHetzner::start_in_background(Faults::default());
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", site_arg],
    ));
    assert_ok(&output);
    let secret = cluster
        .kube
        .object("/api/v1/namespaces/flux-system/secrets/flux-system")
        .expect("git credentials applied");
    assert_eq!(base64_text(&secret["data"]["username"]), username);
    assert_eq!(base64_text(&secret["data"]["password"]), password);
    assert!(secret["data"].get("identity").is_none(), "{secret}");
    let out = stdout(&output);
    assert!(out.contains("applied Secret `flux-system`"), "{out}");
    assert!(!out.contains("deploy key"), "{out}");
    for shown in [stdout(&output), stderr(&output)] {
        assert!(!shown.contains(password.as_str()) && !shown.contains(username.as_str()));
    }
    fake.stop();
}
