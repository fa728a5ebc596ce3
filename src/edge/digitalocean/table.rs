//! DigitalOcean as data: what bootstrap must know of it (`PROFILE`), where each neutral kind
//! lives in its API, and which of the account's untaggable resources are the site's.

use crate::bootstrap::model::{Kind, Labels, Profile};
use crate::core::labels;
use crate::core::layout;

/// cloud-apis.md §3: no placement groups; VPCs have a region, not a zone; a load balancer's
/// `size_unit` 1 serves any number of targets (its limit is connections, not targets).
pub static PROFILE: Profile = Profile {
    provider: "digitalocean",
    title: "DigitalOcean",
    token_variable: "DIGITALOCEAN_TOKEN",
    token_hint: "create a personal access token with read and write scopes under API in the DigitalOcean control panel",
    spread_group_size: 0,
    network_zone: false,
    load_balancer_sizes: &[(usize::MAX, "1")],
    static_backends: false,
};

/// The collection's path below `/v2` and the list answer's key; `None` for kinds DigitalOcean
/// does not have.
pub(super) fn path(kind: Kind) -> Option<(&'static str, &'static str)> {
    match kind {
        Kind::SshKey => Some(("/account/keys", "ssh_keys")),
        Kind::Network => Some(("/vpcs", "vpcs")),
        Kind::Firewall => Some(("/firewalls", "firewalls")),
        Kind::PlacementGroup => None,
        Kind::LoadBalancer => Some(("/load_balancers", "load_balancers")),
        Kind::Machine => Some(("/droplets", "droplets")),
    }
}

/// The single resource's key in an answer (`{"droplet": …}`).
pub(super) fn singular(kind: Kind) -> &'static str {
    match kind {
        Kind::SshKey => "ssh_key",
        Kind::Network => "vpc",
        Kind::Firewall => "firewall",
        Kind::PlacementGroup => "placement_group",
        Kind::LoadBalancer => "load_balancer",
        Kind::Machine => "droplet",
    }
}

/// The labels of an untaggable resource of `site` named `name`, when the name is one the site
/// gives it (`layout::cloud`); `None` when it is not the site's.
pub(super) fn owned(kind: Kind, site: &str, name: &str) -> Option<Labels> {
    let role = match kind {
        // A site names at most a few keys; the first hundred names cover any.
        Kind::SshKey => (0..100)
            .any(|i| name == layout::cloud::ssh_key(site, i))
            .then_some("admin"),
        Kind::Network => (name == layout::cloud::network(site)).then_some("network"),
        Kind::Firewall => (name == layout::cloud::firewall(site)).then_some("firewall"),
        Kind::LoadBalancer => [layout::cloud::INGRESS_ROLE, layout::cloud::API_ROLE]
            .into_iter()
            .find(|role| name == layout::cloud::load_balancer(site, role)),
        Kind::PlacementGroup | Kind::Machine => None,
    }?;
    Some(labels::resource(site, role))
}
