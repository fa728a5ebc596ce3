//! Worker pools: names, types, locations, static or autoscaled sizes, node labels and taints,
//! and Hetzner's limits.
//!
//! A pool is static (`count`, created by bootstrap) or autoscaled (`min` < `max`, created by
//! cluster-autoscaler, `large` on Hetzner only); the sum of every pool's largest size and the
//! servers must fit one Hetzner network, since every machine of a site is attached to the
//! site's network. Hetzner's other limits need no rule: a spread placement group holds at most
//! 10 servers, and bootstrap fills as many groups as the static workers need (autoscaled
//! servers join none); every machine takes its address from the network's one subnet, so a
//! site stays far below 50 subnets (decision 0016).

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{
    AUTOSCALER_TOKEN, K3S_VERSION, LOCATION, NAME, POOL_COUNT, POOL_LABELS, POOL_LOCATION,
    POOL_MAX, POOL_MIN, POOL_NAME, POOL_TAINT_KEY, POOL_TAINT_VALUE, POOL_TAINTS, POOL_TYPE, POOLS,
    SIZE, WORKERS, at,
};
use crate::defaults::{self, ProviderDefaults, SizeDefaults};
use crate::site::{Provider, Size};
use crate::values::DnsLabel;

/// `<site>-<pool>-` and the autoscaler's 16 hex digits in one 63-character host name label.
const MAX_NAMES: usize = 63 - 2 - 16;
/// The name that would make a pool's servers look like the site's servers.
const SERVER_POOL: &str = "server";

const POOL_SHAPE: &str = "either `count` (a static pool) or `min` and `max` (an autoscaled pool)";

impl Rules<'_> {
    /// Checks `sizeData.pools`: a `large` site's (at least one, static or autoscaled), or the
    /// static pools a Hetzner `small` or `medium` site adds to its implicit workers.
    pub(super) fn pools(&mut self, table: &ProviderDefaults, size: &SizeDefaults) {
        let pools = self
            .value(POOLS)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let large = size.size == Size::Large;
        if pools.is_empty() && !large {
            return;
        }
        if pools.is_empty() {
            let pointer = if self.value(POOLS).is_some() {
                POOLS
            } else {
                SIZE
            };
            self.error(
                pointer,
                "size `large` needs at least one worker pool",
                "`sizeData.pools` with at least one pool",
                "add a pool such as `{ name: workers, type: cpx42, min: 1, max: 10 }`",
            );
            return;
        }
        let mut names: Vec<String> = Vec::new();
        let implicit = self
            .value(WORKERS)
            .and_then(Json::as_u64)
            .unwrap_or(u64::from(size.workers));
        let fixed = u64::from(size.managers) + if large { 0 } else { implicit };
        let mut servers = fixed;
        let mut autoscaled = false;
        for index in 0..pools.len() {
            self.pool_name(index, &mut names);
            self.pool_type(table, index);
            self.pool_location(table, index);
            self.pool_labels(index);
            self.pool_taints(index);
            let (largest, scaled) = self.pool_size(index);
            servers += largest;
            autoscaled |= scaled;
            if scaled && !large {
                self.error(
                    &at(POOL_MAX, index),
                    format!("size `{}` has no autoscaled pools", defaults::size_name(size.size)),
                    "a static pool: `count`",
                    if table.provider == Provider::Hetzner {
                        "cluster-autoscaler comes with size `large`; here set `count` instead of `min` and `max`"
                    } else {
                        "cluster-autoscaler comes with size `large`, on Hetzner only: its DigitalOcean and Scaleway providers drive only their managed Kubernetes; here set `count` instead of `min` and `max`"
                    },
                );
            }
        }
        if table.provider == Provider::Hetzner && servers > defaults::HETZNER_SERVERS_PER_NETWORK {
            self.key_error(
                POOLS,
                format!(
                    "the pools bring the site to {servers} servers on one network; Hetzner attaches at most {} servers to a network",
                    defaults::HETZNER_SERVERS_PER_NETWORK
                ),
                format!(
                    "at most {} servers in the pools, their `count` and `max` summed",
                    defaults::HETZNER_SERVERS_PER_NETWORK.saturating_sub(fixed)
                ),
                format!("lower a pool's `count` or `max`; the site's other {fixed} servers count too"),
            );
        }
        if autoscaled && large {
            self.autoscaled();
        }
    }

    fn pool_name(&mut self, index: usize, names: &mut Vec<String>) {
        let pointer = at(POOL_NAME, index);
        let Some(name) = self.str(&pointer).map(str::to_owned) else {
            return;
        };
        if let Err(why) = DnsLabel::parse(&name) {
            self.error(
                &pointer,
                format!("pool name `{name}` is not a DNS label: {why}"),
                "lowercase letters, digits and `-`, starting and ending with a letter or digit",
                "the name is part of server names and the autoscaler's node group",
            );
        } else if let Some(site) = self
            .str(NAME)
            .filter(|site| site.len() + name.len() > MAX_NAMES)
        {
            let length = site.len() + name.len();
            self.error(
                &pointer,
                format!("site name and pool name are {length} characters together; at most {MAX_NAMES} fit a server name"),
                format!("a pool name of at most {} characters", MAX_NAMES.saturating_sub(site.len())),
                "servers are named `<site>-<pool>-<suffix>` (the autoscaler's suffix is 16 hex digits), and a host name label holds 63",
            );
        } else if name == SERVER_POOL {
            self.error(
                &pointer,
                "pool name `server` is taken by the site's servers",
                "a name other than `server`",
                "servers are named `<site>-server-<n>`; a pool of that name would collide",
            );
        } else if names.contains(&name) {
            self.error(
                &pointer,
                format!("pool name `{name}` is used twice"),
                "a name no other pool has",
                "rename one of the pools; each name is one node group",
            );
        }
        names.push(name);
    }

    fn pool_type(&mut self, table: &ProviderDefaults, index: usize) {
        let pointer = at(POOL_TYPE, index);
        if self.str(&pointer).is_some() {
            self.known_server_type(table, &pointer);
        }
    }

    /// A pool's own location: Hetzner only, in the network zone of the site's location, since
    /// every server joins the site's network and a network lives in one zone.
    fn pool_location(&mut self, table: &ProviderDefaults, index: usize) {
        let pointer = at(POOL_LOCATION, index);
        let Some(location) = self.str(&pointer).map(str::to_owned) else {
            return;
        };
        let site = self.str(LOCATION).unwrap_or_default().to_owned();
        if table.provider != Provider::Hetzner {
            self.error(
                &pointer,
                format!("a pool's own location is for Hetzner only, not {}", table.name),
                format!("no `location`: the pool sits in the site's location `{site}`"),
                "the site's private network, which every machine joins, lives in the site's location; remove the key",
            );
            return;
        }
        if !table.locations.contains(&location.as_str()) {
            let hint = crate::suggest::hint(&location, table.locations, || {
                format!("valid hetzner locations: {}", table.locations.join(", "))
            });
            self.error(
                &pointer,
                format!("unknown hetzner location `{location}`"),
                format!("one of {}", table.locations.join(", ")),
                hint,
            );
            return;
        }
        let zone = defaults::hetzner_network_zone(&site);
        if defaults::hetzner_network_zone(&location) != zone {
            let same: Vec<&str> = table
                .locations
                .iter()
                .copied()
                .filter(|l| defaults::hetzner_network_zone(l) == zone)
                .collect();
            self.error(
                &pointer,
                format!(
                    "pool location `{location}` is in network zone `{}`, the site's network in `{zone}`",
                    defaults::hetzner_network_zone(&location)
                ),
                format!("a location of network zone `{zone}`: {}", same.join(", ")),
                "every server joins the site's network, and a Hetzner network spans one network zone",
            );
        }
    }

    /// The pool's largest number of servers, and whether it is autoscaled.
    fn pool_size(&mut self, index: usize) -> (u64, bool) {
        let number =
            |rules: &Self, template: &str| rules.value(&at(template, index)).and_then(Json::as_u64);
        let (count, min, max) = (
            number(self, POOL_COUNT),
            number(self, POOL_MIN),
            number(self, POOL_MAX),
        );
        match (count, min, max) {
            (Some(0), None, None) => {
                self.error(
                    &at(POOL_COUNT, index),
                    "a static pool of 0 servers",
                    "a `count` of at least 1",
                    "remove the pool, or make it autoscaled with `min: 0` and a `max`",
                );
                (0, false)
            }
            (Some(count), None, None) => (count, false),
            (None, Some(min), Some(max)) if min >= max => {
                self.error(
                    &at(POOL_MIN, index),
                    format!("`min` {min} is not less than `max` {max}"),
                    "`min` less than `max`",
                    "a pool of a fixed size is static: set `count` instead of `min` and `max`",
                );
                (max, true)
            }
            (None, Some(_), Some(max)) => (max, true),
            (Some(_), _, _) => {
                let pointer = if min.is_some() { POOL_MIN } else { POOL_MAX };
                self.error(
                    &at(pointer, index),
                    "a pool has both `count` and an autoscaled size",
                    POOL_SHAPE,
                    "keep `count` for a pool bootstrap creates, or `min` and `max` for one the autoscaler drives",
                );
                (count.unwrap_or(0), false)
            }
            (None, _, _) => {
                let pointer = if min.is_some() {
                    at(POOL_MIN, index)
                } else if max.is_some() {
                    at(POOL_MAX, index)
                } else {
                    at(POOL_NAME, index)
                };
                self.error(
                    &pointer,
                    "a pool needs a size",
                    POOL_SHAPE,
                    "an autoscaled pool sets both `min` and `max`",
                );
                (max.unwrap_or(0), false)
            }
        }
    }

    /// Label keys and values as Kubernetes takes them, and none a node may not set on itself.
    fn pool_labels(&mut self, index: usize) {
        let pointer = at(POOL_LABELS, index);
        let labels = self
            .value(&pointer)
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        for (key, value) in labels {
            let at_key = format!("{pointer}/{}", escape(&key));
            if let Some(why) = label_key_problem(&key) {
                self.key_error(
                    &at_key,
                    format!("node label `{key}` {why}"),
                    LABEL_KEY_EXPECTED,
                    "k3s registers the node with these labels; the kubelet may set only its own",
                );
            } else if let Some(text) = value.as_str().filter(|v| !label_value(v)) {
                self.error(
                    &at_key,
                    format!("node label value `{text}` is not a Kubernetes label value"),
                    LABEL_VALUE_EXPECTED,
                    "quote numbers and booleans; at most 63 characters",
                );
            }
        }
    }

    fn pool_taints(&mut self, index: usize) {
        for taint in 0..self.len(&at(POOL_TAINTS, index)) {
            let key = at(&at(POOL_TAINT_KEY, index), taint);
            if let Some(text) = self.str(&key).map(str::to_owned) {
                if let Some(why) = label_key_problem(&text).filter(|_| !text.is_empty()) {
                    self.error(
                        &key,
                        format!("taint key `{text}` {why}"),
                        LABEL_KEY_EXPECTED,
                        "a taint key has a label key's form",
                    );
                } else if text.is_empty() {
                    self.error(
                        &key,
                        "a taint key is empty",
                        LABEL_KEY_EXPECTED,
                        "name the taint, e.g. `example.com/dedicated`",
                    );
                }
            }
            let value = at(&at(POOL_TAINT_VALUE, index), taint);
            if let Some(text) = self
                .str(&value)
                .filter(|v| !label_value(v))
                .map(str::to_owned)
            {
                self.error(
                    &value,
                    format!("taint value `{text}` is not a Kubernetes label value"),
                    LABEL_VALUE_EXPECTED,
                    "a taint value has a label value's form",
                );
            }
        }
    }

    /// What an autoscaled pool needs beyond itself: the token and an autoscaler for the k3s minor.
    fn autoscaled(&mut self) {
        if self.value(AUTOSCALER_TOKEN).is_none() {
            self.key_error(
                POOLS,
                "autoscaled pools need a Hetzner API token for cluster-autoscaler",
                "`sizeData.autoscalerToken.secretKey` naming a key of the secrets file",
                "add the token to the secrets file (`railyard secrets edit`) and name its key",
            );
        }
        if let Some(k3s) = self.str(K3S_VERSION) {
            if super::versions::k3s_version(k3s)
                && defaults::cluster_autoscaler_image(k3s).is_none()
            {
                let known: Vec<String> = defaults::CLUSTER_AUTOSCALER_RELEASES
                    .iter()
                    .map(|(minor, _)| format!("v1.{minor}"))
                    .collect();
                self.error(
                    K3S_VERSION,
                    format!("no cluster-autoscaler release is pinned for the Kubernetes minor of k3s `{k3s}`"),
                    format!("a k3s release of Kubernetes {}", known.join(", ")),
                    "the autoscaler's minor must equal the cluster's; pin a k3s of a listed minor",
                );
            }
        }
    }
}

const LABEL_KEY_EXPECTED: &str =
    "an optional DNS subdomain prefix and `/`, then a name of at most 63 of `A-Za-z0-9-_.`";
const LABEL_VALUE_EXPECTED: &str =
    "empty, or at most 63 of `A-Za-z0-9-_.`, starting and ending with a letter or digit";

/// A JSON pointer segment for `key` (RFC 6901: `~` and `/` escaped).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Why `key` cannot be a node label a pool sets, if it cannot: its syntax (Kubernetes'
/// qualified name), railyard's own prefix, or a `kubernetes.io`/`k8s.io` prefix the
/// NodeRestriction admission plugin (on in k3s) refuses to a kubelet, except the
/// `node.kubernetes.io/` and `kubelet.kubernetes.io/` ones it allows.
fn label_key_problem(key: &str) -> Option<&'static str> {
    let (prefix, name) = key
        .rsplit_once('/')
        .map_or((None, key), |(p, n)| (Some(p), n));
    if !label_value(name) || name.is_empty() {
        return Some("is not a Kubernetes label key");
    }
    // A key without a prefix is the user's own name: nothing reserves it.
    let prefix = prefix?;
    if prefix.len() > 253
        || prefix
            .split('.')
            .any(|label| crate::values::DnsLabel::parse(label).is_err())
    {
        return Some("has a prefix that is not a lowercase DNS subdomain");
    }
    if prefix == "railyard.dev" || prefix.ends_with(".railyard.dev") {
        return Some("uses railyard's own prefix, which railyard sets");
    }
    let reserved = ["kubernetes.io", "k8s.io"]
        .iter()
        .any(|r| prefix == *r || prefix.ends_with(&format!(".{r}")));
    let allowed = ["node.kubernetes.io", "kubelet.kubernetes.io"]
        .iter()
        .any(|a| prefix == *a || prefix.ends_with(&format!(".{a}")));
    (reserved && !allowed).then_some(
        "uses a Kubernetes prefix a node may not set on itself (only `node.kubernetes.io/` and `kubelet.kubernetes.io/`)",
    )
}

/// A Kubernetes label value: empty, or at most 63 of `A-Za-z0-9-_.` with an alphanumeric at
/// each end.
fn label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    value.is_empty()
        || (bytes.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_as_kubernetes_and_the_node_restriction_take_them() {
        for good in [
            "tier",
            "example.com/pool",
            "node.kubernetes.io/pool",
            "a.b-c_d",
        ] {
            assert_eq!(label_key_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "-tier",
            "Example.com/pool",
            "example.com/",
            "railyard.dev/role",
            "node-role.kubernetes.io/worker",
            "x.k8s.io/y",
            &"a".repeat(64),
        ] {
            assert!(label_key_problem(bad).is_some(), "{bad}");
        }
        assert!(
            label_value("") && label_value("v1.2") && !label_value("a b") && !label_value("-a")
        );
    }
}
