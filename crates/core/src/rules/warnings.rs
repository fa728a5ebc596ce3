//! Warnings: values that validate but will break or mislead at runtime (example values left
//! in, the Kubernetes API open to the internet, untrusted staging certificates on a real
//! domain, pins older than railyard's). They never stop a render; `--strict` makes them fail.

use super::Rules;
use super::pointers::{
    ACME_EMAIL, ACME_SERVER, ADMIN_CIDRS, CERT_MANAGER_VERSION, DOMAIN, FLUX_VERSION, GIT_URL,
    INSTALLER_IMAGE, K3S_VERSION, field,
};
use crate::defaults::VERSIONS;
use crate::diagnostic::Severity;
use crate::values::GitUrl;

/// Second-level domains and top-level names reserved for examples and tests (RFC 2606 and
/// RFC 6761): nobody can obtain a certificate for them or serve them on the internet.
const RESERVED_DOMAINS: [&str; 3] = ["example.com", "example.net", "example.org"];
const RESERVED_TOP_LEVEL: [&str; 4] = ["example", "test", "invalid", "localhost"];

/// A field that may hold an example value: its pointer, how to find the host in it, what an
/// example host there breaks, and the hint.
type ExampleCheck = (
    &'static str,
    fn(&str) -> Option<String>,
    &'static str,
    &'static str,
);

impl Rules<'_> {
    pub(super) fn warnings(&mut self) {
        self.example_values();
        self.open_api();
        self.staging_on_a_real_domain();
        self.old_pins();
    }

    fn warn(&mut self, pointer: &str, message: String, hint: &str) {
        // An absent field is shown at the key of its closest ancestor the file has.
        let mut warning = if self.value(pointer).is_some() {
            self.tree.value_error(pointer, message)
        } else {
            self.tree.key_error(pointer, message)
        }
        .hint(hint);
        warning.severity = Severity::Warning;
        self.out.push(warning);
    }

    fn example_values(&mut self) {
        let checks: [ExampleCheck; 4] = [
            (
                DOMAIN,
                |domain| Some(domain.to_owned()),
                "no certificate can be issued for it and nobody can reach Gitpod there",
                "set the domain to one whose DNS your DNS01 solver manages",
            ),
            (
                ACME_EMAIL,
                |email| email.rsplit_once('@').map(|(_, host)| host.to_owned()),
                "Let's Encrypt refuses contact addresses there, so the ACME account is not created",
                "use an address that receives certificate expiry notices",
            ),
            (
                INSTALLER_IMAGE,
                |image| image.split('/').next().map(str::to_owned),
                "the installer Job cannot pull an image from it",
                "copy Gitpod's installer image to a registry you control and name it here",
            ),
            (
                GIT_URL,
                |url| GitUrl::parse(url).ok().map(|url| url.host),
                "Flux cannot clone the repository from it",
                "name the repository Flux should sync",
            ),
        ];
        for (pointer, host_of, consequence, hint) in checks {
            let Some(host) = self.str(pointer).and_then(host_of) else {
                continue;
            };
            if is_reserved(&host) {
                let message = format!("`{host}` is a reserved example domain: {consequence}",);
                self.warn(pointer, message, hint);
            }
        }
    }

    fn open_api(&mut self) {
        let open = match self
            .value(ADMIN_CIDRS)
            .and_then(serde_json::Value::as_array)
        {
            None => true,
            Some(cidrs) => cidrs
                .iter()
                .filter_map(serde_json::Value::as_str)
                .any(|cidr| cidr == "0.0.0.0/0" || cidr == "::/0"),
        };
        if open {
            self.warn(
                ADMIN_CIDRS,
                "the Kubernetes API (port 6443) is open to the whole internet".to_owned(),
                "list the networks that may reach it in `spec.firewall.adminCidrs`, e.g. your office's or VPN's range",
            );
        }
    }

    fn staging_on_a_real_domain(&mut self) {
        let staging = self.str(ACME_SERVER) == Some("staging");
        let real = self.str(DOMAIN).is_some_and(|d| !is_reserved(d));
        if staging && real {
            self.warn(
                ACME_SERVER,
                "staging certificates are not trusted by browsers or by Gitpod's clients"
                    .to_owned(),
                "set `acme: production` once issuing with staging has worked",
            );
        }
    }

    fn old_pins(&mut self) {
        let pins = [
            (K3S_VERSION, VERSIONS.k3s),
            (FLUX_VERSION, VERSIONS.flux_chart),
            (CERT_MANAGER_VERSION, VERSIONS.cert_manager),
        ];
        for (pointer, newest) in pins {
            let Some(pinned) = self.str(pointer) else {
                continue;
            };
            if let (Some(old), Some(new)) = (numbers(pinned), numbers(newest))
                && old < new
            {
                let message = format!(
                    "{} `{pinned}` is older than `{newest}`, the newest railyard knows",
                    field(pointer)
                );
                self.warn(
                    pointer,
                    message,
                    "remove the pin to use railyard's tested version, or pin the newer one",
                );
            }
        }
    }
}

/// Whether `host` is, or is below, a name reserved for examples.
fn is_reserved(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let top = host.rsplit('.').next().unwrap_or_default();
    RESERVED_TOP_LEVEL.contains(&top)
        || RESERVED_DOMAINS.iter().any(|d| {
            host.strip_suffix(d)
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        })
}

/// The numbers of a version, in order (`v1.36.2+k3s1` → 1, 36, 2, 1), for comparing pins of one
/// format; `None` when a part is not a number.
fn numbers(version: &str) -> Option<Vec<u64>> {
    version
        .trim_start_matches('v')
        .split(['.', '+'])
        .map(|part| part.trim_start_matches("k3s").parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_recognised() {
        for host in [
            "example.com",
            "gitpod.example.com",
            "registry.EXAMPLE.org",
            "a.test",
            "x.invalid.",
        ] {
            assert!(is_reserved(host), "{host}");
        }
        for host in [
            "gitpod.acme.dev",
            "example.com.au",
            "myexample.com",
            "github.com",
        ] {
            assert!(!is_reserved(host), "{host}");
        }
    }

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(numbers("v1.35.9+k3s1") < numbers("v1.36.2+k3s1"));
        assert!(numbers("v1.36.2+k3s1") < numbers("v1.36.2+k3s2"));
        assert!(numbers("2.9.0") < numbers("2.18.3"));
        assert_eq!(numbers("v1.21.1"), Some(vec![1, 21, 1]));
        assert_eq!(numbers("v1.x"), None);
    }
}
