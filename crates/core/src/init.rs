//! The files `railyard init` writes, as text: a commented site file and SOPS creation rules.

use crate::schema::SCHEMA_ID;
use crate::site_version;

/// A commented starting site named `name`.
pub fn site_file(name: &str) -> String {
    SITE_TEMPLATE
        .replace("{schema}", SCHEMA_ID)
        .replace("{api_version}", site_version::CURRENT.as_str())
        .replace("{name}", name)
}

/// `.sops.yaml`: encrypt only `data`/`stringData` of `*.sops.yaml` files (Flux's convention),
/// to the given age recipients.
pub fn sops_config(recipients: &[String]) -> String {
    let recipients = if recipients.is_empty() {
        "age1REPLACE-WITH-YOUR-AGE-RECIPIENT".to_owned()
    } else {
        recipients.join(",")
    };
    format!(
        "# railyard: sops encrypts only the values of Secrets, so keys stay reviewable.\ncreation_rules:\n  - path_regex: .*\\.sops\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {recipients}\n"
    )
}

const SITE_TEMPLATE: &str = r#"# yaml-language-server: $schema={schema}
# A railyard site: edit, then `railyard validate` and `railyard render`.
apiVersion: {api_version}
kind: Site
metadata:
  # A DNS label; names the cluster, the output paths and the cloud labels.
  name: {name}
spec:
  cloud:
    # hetzner (small, medium), digitalocean, scaleway or azure (small).
    provider: hetzner
    location: nbg1
  # small: one k3s server and one worker. medium: three servers (embedded etcd) and
  # 3 to 100 workers (sizeData.workers).
  size: small
  # Gitpod is served at this name, *.this name and *.ws.this name.
  domain: gitpod.example.com
  ssh:
    # Public keys for the machines' admin user; password login is off.
    authorizedKeys:
      - ssh-ed25519 AAAA...REPLACE-WITH-YOUR-PUBLIC-KEY you@example.com
  git:
    # The repository Flux pulls, in the ssh:// form Flux requires.
    url: ssh://git@github.com/example/fleet.git
    branch: main
  certManager:
    email: ops@example.com
    # production or staging (Let's Encrypt), or an ACME directory URL.
    acme: staging
    dns01:
      # One solver; its credentials name keys of the secrets file.
      cloudflare:
        apiToken:
          secretKey: cloudflare_api_token
  gitpod:
    installer:
      # Gitpod's public installer images stopped in 2023: name your own copy.
      image: registry.example.com/gitpod/installer
      version: "2023.03.1"
  secrets:
    # A SOPS-encrypted Kubernetes Secret; railyard reads only its key names.
    file: secrets.sops.yaml
    ageRecipients:
      - age1REPLACE-WITH-YOUR-AGE-RECIPIENT
"#;
