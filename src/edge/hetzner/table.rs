//! Hetzner Cloud as data: what bootstrap must know of it (`PROFILE`) and where each neutral
//! kind lives in its API.

use crate::bootstrap::model::{Kind, Profile};

/// cloud-apis.md §2: spread placement groups hold at most 10 servers; load balancer types by
/// targets: lb11 25, lb21 75, lb31 150.
pub static PROFILE: Profile = Profile {
    provider: "hetzner",
    title: "Hetzner Cloud",
    token_variable: "HCLOUD_TOKEN",
    token_hint: "create an API token in the Hetzner Cloud console for the site's project",
    spread_group_size: 10,
    network_zone: true,
    load_balancer_sizes: &[(25, "lb11"), (75, "lb21"), (150, "lb31")],
    static_backends: false,
};

/// The API collection (`/v1/<path>`), also the list response's key.
pub(super) fn path(kind: Kind) -> &'static str {
    match kind {
        Kind::SshKey => "ssh_keys",
        Kind::Network => "networks",
        Kind::Firewall => "firewalls",
        Kind::PlacementGroup => "placement_groups",
        Kind::LoadBalancer => "load_balancers",
        Kind::Machine => "servers",
    }
}

/// The single resource's key in a response (`{"server": …}`).
pub(super) fn singular(kind: Kind) -> &'static str {
    match kind {
        Kind::SshKey => "ssh_key",
        Kind::Network => "network",
        Kind::Firewall => "firewall",
        Kind::PlacementGroup => "placement_group",
        Kind::LoadBalancer => "load_balancer",
        Kind::Machine => "server",
    }
}
