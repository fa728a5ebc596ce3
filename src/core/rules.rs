//! Semantic rules: what the schema cannot say about a site, each with a precise location.
//!
//! Rules read the parsed JSON leniently: a value of the wrong shape was already reported by
//! the schema check, so a rule skips it rather than report it twice.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::core::defaults::{self, size_name};
use crate::core::diagnostic::Diagnostic;
use crate::core::json_tree::JsonTree;
use crate::core::limits::{MAX_OVERLAY_ENTRIES, MAX_OVERLAYS};
use crate::core::secrets_file::{self, SecretsInfo};
use crate::core::site::{Provider, Size};
use crate::core::source::{SourceFile, Span};
use crate::core::ssh_key;
use crate::core::suggest;

mod platform;

/// Keys railyard itself reads from the secrets file, whatever the site says.
pub const BUILTIN_SECRET_KEYS: &[(&str, &str)] = &[
    (
        "k3s_token",
        "the k3s server token, filled into the servers' user-data by bootstrap",
    ),
    (
        "k3s_agent_token",
        "the k3s agent token workers join with, filled into their user-data by bootstrap",
    ),
    (
        "gitpod_ssh_gateway_host_key",
        "the private host key of Gitpod's SSH gateway, base64-encoded (it is multi-line)",
    ),
];

/// A pinned version's field, its format check, and what it should look like.
type VersionCheck = (&'static str, fn(&str) -> bool, &'static str);

const LARGE_HINT: &str = "`large` (autoscaled workers) is not available for any provider yet; use `medium` with `sizeData.workers`";

/// Files named by the site, as the edge loaded them: text, or why it could not be read.
pub type LoadedFiles = BTreeMap<String, Result<SourceFile, String>>;

/// Runs every rule; returns the secrets file's key names when it could be read.
pub fn check(tree: &JsonTree, files: &LoadedFiles) -> (Option<SecretsInfo>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let c = Rules {
        tree,
        out: &mut out,
    };
    c.run(files)
}

struct Rules<'a> {
    tree: &'a JsonTree,
    out: &'a mut Vec<Diagnostic>,
}

impl Rules<'_> {
    fn run(mut self, files: &LoadedFiles) -> (Option<SecretsInfo>, Vec<Diagnostic>) {
        self.name();
        self.domain();
        self.cloud();
        self.ssh(files);
        self.git();
        self.versions();
        self.cert_manager();
        self.gitpod();
        self.overlays(files);
        self.firewall();
        self.platform();
        let secrets = self.secrets(files);
        (secrets, std::mem::take(self.out))
    }

    fn str(&self, pointer: &str) -> Option<&str> {
        self.tree.str_at(pointer)
    }

    fn error(
        &mut self,
        pointer: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.out.push(
            self.tree
                .value_error(pointer, message)
                .expected(expected)
                .hint(hint),
        );
    }

    fn name(&mut self) {
        if let Some(name) = self.str("/metadata/name") {
            if let Err(why) = dns_label(name) {
                self.error("/metadata/name", format!("site name `{name}` is not a DNS label: {why}"), "lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters", "the name is used in cloud labels, Kubernetes names and paths; e.g. `gitpod-eu`");
            }
        }
    }

    fn domain(&mut self) {
        if let Some(domain) = self.str("/spec/domain") {
            if let Err(why) = fqdn(domain) {
                self.error("/spec/domain", format!("domain `{domain}` is not a lowercase FQDN: {why}"), "a lowercase domain name such as `gitpod.example.com` (labels of at most 63 characters, at most 253 in all)", "use the name Gitpod will be served at, without scheme, port or trailing dot");
            }
        }
    }

    /// Checks provider × size, location, and sizeData.
    fn cloud(&mut self) -> Option<()> {
        let size: Option<Size> = self
            .tree
            .value
            .pointer("/spec/size")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let provider: Option<Provider> = self
            .tree
            .value
            .pointer("/spec/cloud/provider")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        if provider.is_none() && size == Some(Size::Large) {
            self.error(
                "/spec/size",
                "size `large` is not supported by any provider yet",
                format!(
                    "one of the supported combinations: {}",
                    defaults::supported_combinations()
                ),
                LARGE_HINT,
            );
        }
        let provider = provider?;
        let table = defaults::provider(provider);
        if let Some(location) = self.str("/spec/cloud/location") {
            if !table.locations.contains(&location) {
                let hint = suggest::hint(location, table.locations, || {
                    format!(
                        "valid {} locations: {}",
                        table.name,
                        table.locations.join(", ")
                    )
                });
                self.error(
                    "/spec/cloud/location",
                    format!("unknown {} location `{location}`", table.name),
                    format!("one of {}", table.locations.join(", ")),
                    hint,
                );
            }
        }
        let size = size?;
        let Some(size_defaults) = table.size(size) else {
            self.error(
                "/spec/size",
                format!(
                    "size `{}` is not supported on {}",
                    size_name(size),
                    table.name
                ),
                format!(
                    "one of the supported combinations: {}",
                    defaults::supported_combinations()
                ),
                if size == Size::Large {
                    LARGE_HINT.to_owned()
                } else {
                    format!("choose a size {} supports, or another provider", table.name)
                },
            );
            return None;
        };
        for (field, kind) in [
            ("managerType", "server type"),
            ("workerType", "server type"),
        ] {
            let pointer = format!("/spec/sizeData/{field}");
            if let Some(value) = self.str(&pointer) {
                if !table.server_types.contains(&value) {
                    let hint = suggest::hint(value, table.server_types, || {
                        format!(
                            "known {} types: {}",
                            table.name,
                            table.server_types.join(", ")
                        )
                    });
                    self.error(
                        &pointer,
                        format!("unknown {} {kind} `{value}`", table.name),
                        format!(
                            "an x86 {kind} with at least 4 vCPU such as `{}`",
                            size_defaults.worker_type
                        ),
                        hint,
                    );
                }
            }
        }
        if let Some(image) = self.str("/spec/sizeData/image") {
            if !table.images.contains(&image) {
                self.error(
                    "/spec/sizeData/image",
                    format!("image `{image}` is not supported on {}", table.name),
                    format!("one of {}", table.images.join(", ")),
                    "railyard's cloud-init is tested on these Ubuntu LTS images only",
                );
            }
        }
        if let Some(workers) = self
            .tree
            .value
            .pointer("/spec/sizeData/workers")
            .and_then(Json::as_u64)
        {
            match size_defaults.worker_range {
                None => self.error(
                    "/spec/sizeData/workers",
                    format!("`{}` has a fixed worker count", size_name(size)),
                    format!("no `workers` (it is {})", size_defaults.workers),
                    "use size `medium` for more workers",
                ),
                Some((min, max)) if workers < u64::from(min) || workers > u64::from(max) => self
                    .error(
                        "/spec/sizeData/workers",
                        format!(
                            "{workers} workers is out of range for `{}`",
                            size_name(size)
                        ),
                        format!("{min} to {max}"),
                        "Hetzner spread placement groups and the seed's sizing bound this range",
                    ),
                Some(_) => {}
            }
        }
        Some(())
    }

    fn ssh(&mut self, files: &LoadedFiles) {
        let inline = self
            .tree
            .value
            .pointer("/spec/ssh/authorizedKeys")
            .and_then(Json::as_array)
            .map_or(0, Vec::len);
        let from_files = self
            .tree
            .value
            .pointer("/spec/ssh/authorizedKeyFiles")
            .and_then(Json::as_array)
            .map_or(0, Vec::len);
        if inline + from_files == 0
            && self
                .tree
                .value
                .pointer("/spec/ssh")
                .is_some_and(Json::is_object)
        {
            self.out.push(
                self.tree.key_error("/spec/ssh", "no SSH public key")
                    .expected("at least one key in `authorizedKeys` or `authorizedKeyFiles`")
                    .hint("add `authorizedKeys: [\"ssh-ed25519 AAAA... you@example.com\"]`; password login is off, so without a key nobody can log in"),
            );
        }
        for i in 0..inline {
            let pointer = format!("/spec/ssh/authorizedKeys/{i}");
            if let Some(line) = self.str(&pointer) {
                if let Err(why) = ssh_key::parse(line) {
                    self.error(
                        &pointer,
                        format!("invalid SSH public key: {why}"),
                        "an OpenSSH public key line (ed25519, RSA of 2048 bits or more, or ECDSA)",
                        "paste the content of your `~/.ssh/id_ed25519.pub`, never a private key",
                    );
                }
            }
        }
        for i in 0..from_files {
            let pointer = format!("/spec/ssh/authorizedKeyFiles/{i}");
            let Some(path) = self.str(&pointer).map(str::to_owned) else {
                continue;
            };
            if self.safe_path(&pointer, &path) {
                match files.get(&normalize(&path)) {
                    Some(Ok(file)) => {
                        let lines: Vec<&str> = file
                            .text
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .collect();
                        if lines.is_empty() {
                            self.error(
                                &pointer,
                                format!("SSH key file `{path}` holds no key"),
                                "one OpenSSH public key per line",
                                "point at a `.pub` file",
                            );
                        }
                        for line in lines {
                            if let Err(why) = ssh_key::parse(line) {
                                self.error(
                                    &pointer,
                                    format!(
                                        "SSH key file `{path}` holds an invalid public key: {why}"
                                    ),
                                    "OpenSSH public key lines",
                                    "point at a `.pub` file, never at a private key",
                                );
                            }
                        }
                    }
                    Some(Err(why)) => self.error(
                        &pointer,
                        format!("cannot read SSH key file `{path}`: {why}"),
                        "a readable file, relative to the site file",
                        "check the path",
                    ),
                    None => {}
                }
            }
        }
    }

    fn git(&mut self) {
        if let Some(url) = self.str("/spec/git/url") {
            if let Err((why, hint)) = git_url(url) {
                self.error(
                    "/spec/git/url",
                    format!("git URL `{url}` cannot be used by Flux: {why}"),
                    "`ssh://git@host/org/repo.git` or `https://host/org/repo.git`",
                    hint,
                );
            }
        }
        if let Some(branch) = self.str("/spec/git/branch") {
            if let Err(why) = branch_name(branch) {
                self.error(
                    "/spec/git/branch",
                    format!("`{branch}` is not a valid branch name: {why}"),
                    "a git branch name such as `main`",
                    "see `git check-ref-format --branch`",
                );
            }
        }
        if let Some(path) = self.str("/spec/git/path").map(str::to_owned) {
            self.safe_path("/spec/git/path", &path);
        }
    }

    fn versions(&mut self) {
        let checks: [VersionCheck; 3] = [
            (
                "k3s",
                |v| {
                    v.strip_prefix('v')
                        .and_then(|r| r.split_once("+k3s"))
                        .is_some_and(|(semver, build)| {
                            is_semver(semver)
                                && !build.is_empty()
                                && build.bytes().all(|b| b.is_ascii_digit())
                        })
                },
                "a k3s release such as `v1.36.2+k3s1`",
            ),
            (
                "flux",
                is_semver,
                "a `flux2` chart version such as `2.18.3`",
            ),
            (
                "certManager",
                |v| v.strip_prefix('v').is_some_and(is_semver),
                "a cert-manager version such as `v1.21.1`",
            ),
        ];
        for (field, valid, expected) in checks {
            let pointer = format!("/spec/versions/{field}");
            if let Some(version) = self.str(&pointer) {
                if !valid(version) {
                    self.error(
                        &pointer,
                        format!("`{version}` is not a valid {field} version"),
                        expected,
                        "remove the pin to use railyard's tested default",
                    );
                }
            }
        }
    }

    fn cert_manager(&mut self) {
        if let Some(email) = self.str("/spec/certManager/email") {
            let valid = email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && fqdn(host).is_ok());
            if !valid {
                self.error(
                    "/spec/certManager/email",
                    format!("`{email}` is not an e-mail address"),
                    "an address such as `ops@example.com`",
                    "Let's Encrypt sends expiry notices here",
                );
            }
        }
        if let Some(acme) = self.str("/spec/certManager/acme") {
            if !matches!(acme, "production" | "staging") && !acme.starts_with("https://") {
                self.error(
                    "/spec/certManager/acme",
                    format!("unknown ACME server `{acme}`"),
                    "`production`, `staging`, or an `https://` ACME directory URL",
                    "use `staging` while testing: Let's Encrypt rate-limits production",
                );
            }
        }
        if let Some(Json::Object(solvers)) = self.tree.value.pointer("/spec/certManager/dns01") {
            if solvers.len() != 1 {
                let names: Vec<&str> = solvers.keys().map(String::as_str).collect();
                let message = if names.is_empty() {
                    "no DNS01 solver".to_owned()
                } else {
                    format!(
                        "{} DNS01 solvers ({}); exactly one is used",
                        names.len(),
                        names.join(", ")
                    )
                };
                self.out.push(
                    self.tree.key_error("/spec/certManager/dns01", message)
                        .expected("exactly one of cloudflare, route53, digitalocean, azureDNS, cloudDNS, rfc2136, acmeDNS, akamai, hetzner, webhook")
                        .hint("the wildcard certificate needs one DNS01 solver for the zone of `spec.domain`"),
                );
            }
        }
    }

    fn gitpod(&mut self) {
        if let Some(image) = self.str("/spec/gitpod/installer/image") {
            if !image_name(image) {
                self.error(
                    "/spec/gitpod/installer/image",
                    format!("`{image}` is not an image name without tag"),
                    "a registry path such as `registry.example.com/gitpod/installer`",
                    "put the tag in `installer.version`",
                );
            }
        }
        if let Some(version) = self.str("/spec/gitpod/installer/version") {
            let valid = !version.is_empty()
                && version.len() <= 128
                && !version.starts_with(['.', '-'])
                && version
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if !valid {
                self.error(
                    "/spec/gitpod/installer/version",
                    format!("`{version}` is not an image tag"),
                    "letters, digits, `_`, `.` and `-`, at most 128",
                    "e.g. `2023.03.1`",
                );
            }
        }
        let providers = self
            .tree
            .value
            .pointer("/spec/gitpod/authProviders")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let mut seen = BTreeMap::new();
        for (i, provider) in providers.iter().enumerate() {
            if let Some(id) = provider.get("id").and_then(Json::as_str) {
                if let Some(first) = seen.insert(id.to_owned(), i) {
                    self.error(
                        &format!("/spec/gitpod/authProviders/{i}/id"),
                        format!("auth provider id `{id}` is used twice"),
                        "a unique id per provider",
                        format!("it is already used by authProviders[{first}]"),
                    );
                }
            }
            if let Some(host) = provider.get("host").and_then(Json::as_str) {
                if fqdn(host).is_err() {
                    self.error(
                        &format!("/spec/gitpod/authProviders/{i}/host"),
                        format!("`{host}` is not a host name"),
                        "a host such as `github.com`",
                        "no scheme or path",
                    );
                }
            }
        }
    }

    fn firewall(&mut self) {
        let count = self
            .tree
            .value
            .pointer("/spec/firewall/adminCidrs")
            .and_then(Json::as_array)
            .map_or(0, Vec::len);
        for i in 0..count {
            let pointer = format!("/spec/firewall/adminCidrs/{i}");
            if let Some(cidr) = self.str(&pointer) {
                if let Err(why) = cidr_block(cidr) {
                    self.error(
                        &pointer,
                        format!("`{cidr}` is not a CIDR block: {why}"),
                        "an IPv4 or IPv6 network such as `203.0.113.0/24` or `2001:db8::/32`",
                        "a single address is `/32` (IPv4) or `/128` (IPv6)",
                    );
                }
            }
        }
    }

    fn overlays(&mut self, files: &LoadedFiles) {
        let count = self
            .tree
            .value
            .pointer("/spec/overlays")
            .and_then(Json::as_array)
            .map_or(0, Vec::len);
        if count > MAX_OVERLAYS {
            self.error(
                &format!("/spec/overlays/{MAX_OVERLAYS}"),
                format!("too many overlays ({count})"),
                format!("at most {MAX_OVERLAYS} overlay directories"),
                "combine overlays: one kustomization may list others as its resources",
            );
        }
        for i in 0..count.min(MAX_OVERLAYS) {
            let pointer = format!("/spec/overlays/{i}");
            if let Some(path) = self.str(&pointer).map(str::to_owned) {
                let dir = normalize(&path);
                let kustomizations: Vec<(String, &Result<SourceFile, String>)> =
                    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                        .iter()
                        .map(|name| format!("{dir}/{name}"))
                        .filter_map(|path| files.get(&path).map(|file| (path, file)))
                        .collect();
                let has_kustomization = kustomizations.iter().any(|(_, file)| file.is_ok());
                let unreadable = kustomizations.iter().find_map(|(path, file)| {
                    file.as_ref().err().map(|why| (path.clone(), why.clone()))
                });
                if let (false, Some((path, why))) = (has_kustomization, unreadable) {
                    self.error(
                        &pointer,
                        format!("cannot read `{path}`: {why}"),
                        "a readable kustomization.yaml",
                        "railyard overlays are small hand-written kustomizations; check the file",
                    );
                } else if let Some(Err(why)) = files.get(&dir) {
                    // the edge's reasons: too many files (a limit), or a link out of the site
                    let (expected, hint) = if why.starts_with("holds more than") {
                        (
                            format!("at most {MAX_OVERLAY_ENTRIES} files and directories below it"),
                            "keep only the overlay's own files in its directory",
                        )
                    } else {
                        (
                            "a directory inside the site's directory".to_owned(),
                            "copy the overlay into the site's directory; railyard reads nothing outside it",
                        )
                    };
                    self.error(
                        &pointer,
                        format!("overlay directory `{path}` {why}"),
                        expected,
                        hint,
                    );
                } else if self.safe_path(&pointer, &path) && !has_kustomization {
                    self.error(
                        &pointer,
                        format!("overlay directory `{path}` holds no kustomization.yaml"),
                        "a directory beside the site file with a kustomization.yaml",
                        "create it, or remove the entry; paths are relative to the site file",
                    );
                }
            }
        }
    }

    fn secrets(&mut self, files: &LoadedFiles) -> Option<SecretsInfo> {
        let recipients = self
            .tree
            .value
            .pointer("/spec/secrets/ageRecipients")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if recipients.is_empty()
            && self
                .tree
                .value
                .pointer("/spec/secrets/ageRecipients")
                .is_some()
        {
            self.error(
                "/spec/secrets/ageRecipients",
                "no age recipient",
                "at least one `age1...` public key",
                "add the public key of the cluster's age identity (`age-keygen -y KEYFILE`)",
            );
        }
        for (i, recipient) in recipients.iter().enumerate() {
            if let Some(r) = recipient.as_str() {
                if r.starts_with("AGE-SECRET-KEY-") {
                    self.error(&format!("/spec/secrets/ageRecipients/{i}"), "this is an age secret key, not a recipient", "an X25519 recipient: `age1` and 58 more characters", "remove it now and rotate that key: it is committed in plain text; list its public half (`age-keygen -y KEYFILE`) instead");
                } else if !age_recipient(r) {
                    self.error(&format!("/spec/secrets/ageRecipients/{i}"), "not an age recipient", "an X25519 recipient: `age1` and 58 more characters", "print it with `age-keygen -y KEYFILE`; never paste the secret key (`AGE-SECRET-KEY-1...`)");
                }
            }
        }
        let path = self.str("/spec/secrets/file")?.to_owned();
        if !self.safe_path("/spec/secrets/file", &path) {
            return None;
        }
        let file = match files.get(&normalize(&path))? {
            Ok(file) => file,
            Err(why) => {
                self.error(
                    "/spec/secrets/file",
                    format!("cannot read secrets file `{path}`: {why}"),
                    "a SOPS-encrypted Secret, relative to the site file",
                    "create it with `railyard secrets init`, or fix the path",
                );
                return None;
            }
        };
        let (info, diagnostics) = secrets_file::read(file);
        self.out.extend(diagnostics);
        let declared: Vec<&str> = recipients
            .iter()
            .filter_map(Json::as_str)
            .filter(|r| age_recipient(r))
            .collect();
        for declared_recipient in &declared {
            let i = recipients
                .iter()
                .position(|r| r.as_str() == Some(declared_recipient))
                .unwrap_or_default();
            if !info.recipients.is_empty()
                && !info.recipients.iter().any(|r| r == declared_recipient)
            {
                self.error(
                    &format!("/spec/secrets/ageRecipients/{i}"),
                    format!("the secrets file is not encrypted to `{declared_recipient}`"),
                    "the recipients in the secrets file's `sops.age` list",
                    "re-encrypt the file to every declared recipient (`sops updatekeys FILE`)",
                );
            }
        }
        let keys: Vec<&str> = info.keys.iter().map(String::as_str).collect();
        let mut references = Vec::new();
        collect_secret_refs(&self.tree.value, String::new(), &mut references);
        for (pointer, key) in references {
            if !secret_key_name(&key) {
                self.error(
                    &pointer,
                    format!("`{key}` is not a usable secret key name"),
                    "letters, digits and `_`, not starting with a digit",
                    "Flux substitutes only such names; rename the key in the secrets file too",
                );
            } else if !keys.contains(&key.as_str()) {
                let hint = suggest::hint(&key, &keys, || {
                    format!("add `{key}` to the secrets file (`railyard secrets edit`)")
                });
                self.error(
                    &pointer,
                    format!("secret key `{key}` is not in the secrets file `{path}`"),
                    "a key of the secrets file's `stringData`",
                    hint,
                );
            }
        }
        for (key, purpose) in BUILTIN_SECRET_KEYS {
            if !keys.contains(key) {
                self.out.push(
                    Diagnostic::error(&file.name, Span::default(), "stringData", format!("the secrets file has no `{key}`"))
                        .expected(format!("a `{key}` key: {purpose}"))
                        .hint("`railyard secrets init` generates it; or add a long random value with `railyard secrets edit`"),
                );
            }
        }
        Some(info)
    }

    /// Reports a path that could leave the site directory; true when it is safe to use.
    fn safe_path(&mut self, pointer: &str, path: &str) -> bool {
        match relative_path(path) {
            Ok(()) => true,
            Err(why) => {
                self.error(
                    pointer,
                    format!("path `{path}` {why}"),
                    "a relative path inside the site's directory",
                    "railyard reads and writes only below the site file's directory",
                );
                false
            }
        }
    }
}

/// Every secret reference of a site's text: (YAML path of the reference, key name).
pub fn secret_references(site_text: &str) -> Vec<(String, String)> {
    let file = SourceFile::new("site.yaml", site_text);
    let (documents, _) = crate::core::yaml::parse_stream(&file);
    let Some(root) = documents.first() else {
        return Vec::new();
    };
    let tree = JsonTree::new(&file.name, root);
    let mut references = Vec::new();
    collect_secret_refs(&tree.value, String::new(), &mut references);
    references
        .into_iter()
        .map(|(pointer, key)| (tree.yaml_path(&pointer), key))
        .collect()
}

/// Every `{secretKey: name}` object in the site, with the pointer to its `secretKey`.
fn collect_secret_refs(value: &Json, pointer: String, out: &mut Vec<(String, String)>) {
    match value {
        Json::Object(map) => {
            if let Some(Json::String(key)) = map.get("secretKey") {
                out.push((format!("{pointer}/secretKey"), key.clone()));
            }
            for (k, v) in map {
                if k != "config" {
                    collect_secret_refs(v, format!("{pointer}/{k}"), out);
                }
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_secret_refs(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `./a/b` and `a/b` name the same file.
pub fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

pub fn relative_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        Err("is empty")
    } else if path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\") {
        Err("is absolute")
    } else if path.split(['/', '\\']).any(|p| p == "..") {
        Err("leaves the site directory (`..`)")
    } else if path.contains(['\0', '\\']) {
        Err("contains a backslash or NUL")
    } else {
        Ok(())
    }
}

pub fn cidr_block(cidr: &str) -> Result<(), &'static str> {
    let (address, prefix) = cidr.split_once('/').ok_or("it has no `/prefix`")?;
    let address: ::core::net::IpAddr = address.parse().map_err(|_| "the address does not parse")?;
    let prefix: u8 = prefix.parse().map_err(|_| "the prefix is not a number")?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err("the prefix is too long for the address family");
    }
    Ok(())
}

pub fn dns_label(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > 63 {
        return Err("it is longer than 63 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("only lowercase letters, digits and `-` are allowed");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("it must start and end with a letter or digit");
    }
    Ok(())
}

pub fn fqdn(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("it is longer than 253 characters".to_owned());
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("it needs at least two labels".to_owned());
    }
    for label in &labels {
        dns_label(label).map_err(|why| format!("label `{label}`: {why}"))?;
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the last label cannot be numeric".to_owned());
    }
    Ok(())
}

fn git_url(url: &str) -> Result<(), (&'static str, &'static str)> {
    let scp_like = !url.contains("://") && url.contains('@') && url.contains(':');
    if scp_like {
        return Err((
            "Flux does not accept the scp-like form `user@host:path`",
            "write it as `ssh://git@host/org/repo.git` (a `:` before the path becomes `/`)",
        ));
    }
    let rest = if let Some(rest) = url.strip_prefix("ssh://") {
        if !rest.split('/').next().unwrap_or("").contains('@') {
            return Err((
                "an ssh URL needs a user",
                "most git hosts use `ssh://git@host/org/repo.git`",
            ));
        }
        rest
    } else if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else {
        return Err((
            "the scheme must be `ssh://` or `https://`",
            "Flux pulls over SSH (with a deploy key) or HTTPS",
        ));
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit('@')
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("");
    if host.is_empty() || path.trim_matches('/').is_empty() || url.contains(char::is_whitespace) {
        return Err((
            "it needs a host and a repository path",
            "e.g. `ssh://git@github.com/example/fleet.git`",
        ));
    }
    Ok(())
}

fn branch_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name == "@" {
        return Err("it is empty");
    }
    if name.starts_with(['-', '/']) || name.ends_with(['/', '.']) || name.ends_with(".lock") {
        return Err("it cannot start with `-` or `/`, or end with `/`, `.` or `.lock`");
    }
    if name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.split('/').any(|p| p.starts_with('.'))
    {
        return Err("it cannot contain `..`, `//`, `@{` or a part starting with `.`");
    }
    if name
        .chars()
        .any(|c| c.is_control() || " ~^:?*[\\".contains(c))
    {
        return Err("it cannot contain spaces or any of `~^:?*[\\`");
    }
    Ok(())
}

fn is_semver(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn image_name(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or("");
    !image.is_empty()
        && !last.contains(':')
        && !image.contains('@')
        && image.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b))
        })
}

fn age_recipient(recipient: &str) -> bool {
    recipient.strip_prefix("age1").is_some_and(|rest| {
        rest.len() == 58
            && rest
                .bytes()
                .all(|b| b"qpzry9x8gf2tvdw0s3jn54khce6mua7l".contains(&b))
    })
}

pub fn secret_key_name(key: &str) -> bool {
    key.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_domains() {
        for (name, ok) in [
            ("demo", true),
            ("gitpod-eu-1", true),
            ("Demo", false),
            ("-demo", false),
            ("a_b", false),
            ("", false),
            (&"a".repeat(64)[..], false),
        ] {
            assert_eq!(dns_label(name).is_ok(), ok, "{name}");
        }
        for (name, ok) in [
            ("gitpod.example.com", true),
            ("example", false),
            ("Gitpod.example.com", false),
            ("a..b", false),
            ("x.123", false),
            ("gitpod.example.com.", false),
        ] {
            assert_eq!(fqdn(name).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn git_urls_and_branches() {
        for (url, ok) in [
            ("ssh://git@github.com/example/fleet.git", true),
            ("https://github.com/example/fleet.git", true),
            ("ssh://git@gitea.example.com:2222/ops/fleet.git", true),
            ("git@github.com:example/fleet.git", false),
            ("ssh://github.com/example/fleet.git", false),
            ("http://github.com/example/fleet.git", false),
            ("https://github.com", false),
        ] {
            assert_eq!(git_url(url).is_ok(), ok, "{url}");
        }
        for (branch, ok) in [
            ("main", true),
            ("release/2026-11", true),
            ("a..b", false),
            ("-x", false),
            ("x.lock", false),
            ("a b", false),
            ("x/.y", false),
        ] {
            assert_eq!(branch_name(branch).is_ok(), ok, "{branch}");
        }
    }

    #[test]
    fn cidr_blocks() {
        for (cidr, ok) in [
            ("203.0.113.0/24", true),
            ("2001:db8::/32", true),
            ("10.0.0.1/32", true),
            ("10.0.0.0", false),
            ("10.0.0.0/33", false),
            ("300.0.0.0/8", false),
            ("::/129", false),
        ] {
            assert_eq!(cidr_block(cidr).is_ok(), ok, "{cidr}");
        }
    }

    #[test]
    fn paths_stay_inside() {
        for (path, ok) in [
            ("secrets.sops.yaml", true),
            ("./keys/admin.pub", true),
            ("../x", false),
            ("/etc/passwd", false),
            ("a/../../b", false),
            ("", false),
        ] {
            assert_eq!(relative_path(path).is_ok(), ok, "{path}");
        }
    }
}
