//! The files `railyard init` writes, as text: a commented site file built from the user's
//! answers, and SOPS creation rules.

use crate::defaults;
use crate::schema::SCHEMA_ID;
use crate::site::Provider;

/// What `init` asks for; the edge fills it from flags, a terminal or defaults.
#[derive(Debug, Clone)]
pub struct Answers {
    pub name: String,
    pub provider: Provider,
    pub location: String,
    pub domain: String,
    pub dns01: Dns01Solver,
    /// OpenSSH public key lines; empty leaves a placeholder to replace.
    pub ssh_keys: Vec<String>,
    pub git_url: String,
    /// age recipients; empty leaves a placeholder to replace.
    pub age_recipients: Vec<String>,
}

/// The DNS01 solvers `init` can write whole: each needs one token from the secrets file. The
/// others (Route 53, Azure DNS, Cloud DNS, ...) need account details railyard cannot guess;
/// the site file's reference (README) shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dns01Solver {
    Cloudflare,
    Digitalocean,
    Hetzner,
}

impl Dns01Solver {
    pub const ALL: [Dns01Solver; 3] = [
        Dns01Solver::Cloudflare,
        Dns01Solver::Digitalocean,
        Dns01Solver::Hetzner,
    ];

    /// The key under `spec.certManager.dns01`, and the name `--dns01` takes.
    pub fn name(self) -> &'static str {
        match self {
            Dns01Solver::Cloudflare => "cloudflare",
            Dns01Solver::Digitalocean => "digitalocean",
            Dns01Solver::Hetzner => "hetzner",
        }
    }

    pub fn parse(text: &str) -> Option<Dns01Solver> {
        Self::ALL.into_iter().find(|s| s.name() == text)
    }

    /// The cloud's own DNS where cert-manager can solve with it, else Cloudflare.
    pub fn default_for(provider: Provider) -> Dns01Solver {
        match provider {
            Provider::Hetzner => Dns01Solver::Hetzner,
            Provider::Digitalocean => Dns01Solver::Digitalocean,
            Provider::Scaleway | Provider::Azure => Dns01Solver::Cloudflare,
        }
    }

    /// The solver's block under `dns01:`, indented for the template, with its token's key.
    fn block(self) -> &'static str {
        match self {
            Dns01Solver::Cloudflare => {
                "      cloudflare:\n        apiToken:\n          secretKey: cloudflare_api_token\n"
            }
            Dns01Solver::Digitalocean => {
                "      digitalocean:\n        token:\n          secretKey: digitalocean_token\n"
            }
            Dns01Solver::Hetzner => {
                "      hetzner:\n        token:\n          secretKey: hetzner_dns_token\n"
            }
        }
    }
}

/// Where a new site goes when the user names no location: the seed's default region where it
/// has one (seed-reference.md §1.6: Azure `uksouth`, Scaleway `fr-par-1`), else a central
/// European location every size is sold in (cloud-apis.md §2 Hetzner `nbg1`, §3 DigitalOcean
/// `fra1`).
pub fn default_location(provider: Provider) -> &'static str {
    match provider {
        Provider::Hetzner => "nbg1",
        Provider::Digitalocean => "fra1",
        Provider::Scaleway => "fr-par-1",
        Provider::Azure => "uksouth",
    }
}

/// The placeholder written when no age recipient is known; the site does not validate until
/// it is replaced, and `validate` says so at its line.
pub const AGE_PLACEHOLDER: &str = "age1REPLACE-WITH-YOUR-AGE-RECIPIENT";
/// The placeholder written when no SSH public key is known.
pub const SSH_PLACEHOLDER: &str = "ssh-ed25519 AAAA...REPLACE-WITH-YOUR-PUBLIC-KEY you@example.com";

/// The example domain and repository `init` offers: valid, so the site renders, and obviously
/// someone else's.
pub const DEFAULT_DOMAIN: &str = "gitpod.example.com";
pub const DEFAULT_GIT_URL: &str = "ssh://git@github.com/example/fleet.git";

/// A commented starting site from the answers.
pub fn site_file(answers: &Answers) -> String {
    let provider = defaults::provider(answers.provider);
    let mut text = format!(
        "# yaml-language-server: $schema={SCHEMA_ID}\n\
         # A railyard site: edit, then `railyard validate` and `railyard render`.\n\
         apiVersion: {api_version}\n\
         kind: Site\n\
         metadata:\n\
         \x20 # A DNS label; names the cluster, the output paths and the cloud labels.\n\
         \x20 name: {name}\n\
         spec:\n\
         \x20 cloud:\n\
         \x20   # hetzner (small, medium), digitalocean, scaleway or azure (small).\n\
         \x20   provider: {provider}\n\
         \x20   # {provider}: {locations}.\n\
         \x20   location: {location}\n\
         \x20 # small: one k3s server and one worker. medium: three servers (embedded etcd) and\n\
         \x20 # 3 to 97 workers (sizeData.workers).\n\
         \x20 size: small\n\
         \x20 # Gitpod is served at this name, *.this name and *.ws.this name.\n\
         \x20 domain: {domain}\n\
         \x20 ssh:\n\
         \x20   # Public keys for the machines' admin user; password login is off.\n\
         \x20   authorizedKeys:\n",
        api_version = crate::site_version::CURRENT.as_str(),
        name = answers.name,
        provider = provider.name,
        locations = provider.locations.join(", "),
        location = answers.location,
        domain = answers.domain,
    );
    push_items(&mut text, "      - ", &answers.ssh_keys, SSH_PLACEHOLDER);
    text.push_str(&format!(
        "  git:\n\
         \x20   # The repository Flux pulls: ssh:// (bootstrap makes a deploy key), or https:// with\n\
         \x20   # `auth` (basic or githubApp, keys of the secrets file) or `public: true`.\n\
         \x20   url: {git_url}\n\
         \x20   branch: main\n\
         {git_auth}\
         \x20 certManager:\n\
         \x20   email: ops@{domain}\n\
         \x20   # production or staging (Let's Encrypt), or an ACME directory URL.\n\
         \x20   acme: staging\n\
         \x20   dns01:\n\
         \x20     # One solver; its credentials name keys of the secrets file.\n\
         {solver}\
         \x20 gitpod:\n\
         \x20   installer:\n\
         \x20     # Gitpod's public installer images stopped in 2023: name your own copy.\n\
         \x20     image: registry.example.com/gitpod/installer\n\
         \x20     version: \"2023.03.1\"\n\
         \x20 secrets:\n\
         \x20   # A SOPS-encrypted Kubernetes Secret; railyard reads only its key names.\n\
         \x20   file: secrets.sops.yaml\n\
         \x20   ageRecipients:\n",
        git_url = answers.git_url,
        git_auth = git_auth(&answers.git_url),
        domain = answers.domain,
        solver = answers.dns01.block(),
    ));
    push_items(
        &mut text,
        "      - ",
        &answers.age_recipients,
        AGE_PLACEHOLDER,
    );
    text
}

/// An `https://` repository needs credentials (or `public: true`): `init` writes basic auth by
/// reference, and `secrets init` leaves the two keys empty for the user to fill in.
fn git_auth(url: &str) -> &'static str {
    if url.starts_with("https://") {
        "    # Credentials for a private repository, keys of the secrets file; or `public: true`.\n    \
         auth:\n      basic:\n        username:\n          secretKey: git_username\n        \
         password:\n          secretKey: git_token\n"
    } else {
        ""
    }
}

fn push_items(text: &mut String, prefix: &str, items: &[String], placeholder: &str) {
    if items.is_empty() {
        text.push_str(&format!("{prefix}{placeholder}\n"));
    }
    for item in items {
        text.push_str(&format!("{prefix}{item}\n"));
    }
}

/// The name of the machines' secrets Secret. It is never applied; it keeps the cluster file's
/// shape so that `railyard secrets edit`, `rotate` and `check`, and `sops`, treat both alike.
pub const MACHINE_SECRETS_NAME: &str = "railyard-machine-secrets";

/// The plain text of the machines' secrets file up to its `stringData:` line.
pub fn machine_secrets_header() -> String {
    format!(
        "# railyard: the machines' secrets, read by bootstrap and `machine-data` only; never copied\n# into the repository, so no cluster Secret holds them.\napiVersion: v1\nkind: Secret\nmetadata:\n    name: {MACHINE_SECRETS_NAME}\n    namespace: flux-system\ntype: Opaque\nstringData:\n"
    )
}

/// `.sops.yaml`: encrypt only `data`/`stringData` of `*.sops.yaml` files (Flux's convention),
/// to the given age recipients.
pub fn sops_config(recipients: &[String]) -> String {
    let recipients = if recipients.is_empty() {
        AGE_PLACEHOLDER.to_owned()
    } else {
        recipients.join(",")
    };
    format!(
        "# railyard: sops encrypts only the values of Secrets, so keys stay reviewable.\ncreation_rules:\n  - path_regex: .*\\.sops\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {recipients}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(provider: Provider) -> Answers {
        Answers {
            name: "demo".to_owned(),
            provider,
            location: default_location(provider).to_owned(),
            domain: "gitpod.acme.dev".to_owned(),
            dns01: Dns01Solver::default_for(provider),
            ssh_keys: vec!["ssh-ed25519 AAAAC3Nz k@h".to_owned()],
            git_url: DEFAULT_GIT_URL.to_owned(),
            age_recipients: vec!["age1one".to_owned(), "age1two".to_owned()],
        }
    }

    #[test]
    fn every_default_location_is_one_of_its_providers() {
        for provider in [
            Provider::Hetzner,
            Provider::Digitalocean,
            Provider::Scaleway,
            Provider::Azure,
        ] {
            let known = defaults::provider(provider).locations;
            assert!(known.contains(&default_location(provider)), "{provider:?}");
        }
    }

    #[test]
    fn the_answers_reach_the_site_file() {
        let text = site_file(&answers(Provider::Digitalocean));
        for expected in [
            "provider: digitalocean\n",
            "location: fra1\n",
            "domain: gitpod.acme.dev\n",
            "      digitalocean:\n        token:\n          secretKey: digitalocean_token\n",
            "      - ssh-ed25519 AAAAC3Nz k@h\n",
            "      - age1one\n      - age1two\n",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
        }
        assert!(!text.contains("REPLACE"), "{text}");
    }

    #[test]
    fn missing_keys_and_recipients_leave_placeholders() {
        let mut a = answers(Provider::Hetzner);
        a.ssh_keys.clear();
        a.age_recipients.clear();
        let text = site_file(&a);
        assert!(text.contains(SSH_PLACEHOLDER) && text.contains(AGE_PLACEHOLDER));
    }
}
