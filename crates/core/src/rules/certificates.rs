//! The wildcard certificate: the ACME account's e-mail, its server, and one DNS01 solver.

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{ACME_EMAIL, ACME_SERVER, DNS01};
use crate::values::Fqdn;

impl Rules<'_> {
    pub(super) fn cert_manager(&mut self) {
        if let Some(email) = self.str(ACME_EMAIL) {
            let valid = email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && Fqdn::parse(host).is_ok());
            if !valid {
                self.error(
                    ACME_EMAIL,
                    format!("`{email}` is not an e-mail address"),
                    "an address such as `ops@example.com`",
                    "Let's Encrypt sends expiry notices here",
                );
            }
        }
        if let Some(acme) = self.str(ACME_SERVER) {
            if !matches!(acme, "production" | "staging") && !acme.starts_with("https://") {
                self.error(
                    ACME_SERVER,
                    format!("unknown ACME server `{acme}`"),
                    "`production`, `staging`, or an `https://` ACME directory URL",
                    "use `staging` while testing: Let's Encrypt rate-limits production",
                );
            }
        }
        if let Some(Json::Object(solvers)) = self.value(DNS01) {
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
                    self.tree.key_error(DNS01, message)
                        .expected("exactly one of cloudflare, route53, digitalocean, azureDNS, cloudDNS, rfc2136, acmeDNS, akamai, hetzner, webhook")
                        .hint("the wildcard certificate needs one DNS01 solver for the zone of `spec.domain`"),
                );
            }
        }
    }
}
