//! The site's own names: its name (a DNS label) and its domain (an FQDN).

use super::Rules;
use super::pointers::{DOMAIN, NAME};
use crate::values::{DnsLabel, Fqdn};

impl Rules<'_> {
    pub(super) fn name(&mut self) {
        if let Some(name) = self.str(NAME) {
            if let Err(why) = DnsLabel::parse(name) {
                self.error(NAME, format!("site name `{name}` is not a DNS label: {why}"), "lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters", "the name is used in cloud labels, Kubernetes names and paths; e.g. `gitpod-eu`");
            }
        }
    }

    pub(super) fn domain(&mut self) {
        if let Some(domain) = self.str(DOMAIN) {
            if let Err(why) = Fqdn::parse(domain) {
                self.error(DOMAIN, format!("domain `{domain}` is not a lowercase FQDN: {why}"), "a lowercase domain name such as `gitpod.example.com` (labels of at most 63 characters, at most 253 in all)", "use the name Gitpod will be served at, without scheme, port or trailing dot");
            }
        }
    }
}
