//! Scaleway as data: what bootstrap must know of it (`PROFILE`), its zones and regions, and
//! the names of what a machine brings along (its flexible IP, its root volume).

use super::ScalewayError;
use crate::bootstrap::model::Profile;

/// cloud-apis.md §4: load balancers come as `LB-S` and larger; one `LB-S` serves the small
/// site's two nodes. The placement group cap is UNVERIFIED there: 20 is chosen, and a small
/// site puts one machine in each group.
pub static PROFILE: Profile = Profile {
    provider: "scaleway",
    title: "Scaleway",
    token_variable: "SCW_SECRET_KEY",
    token_hint: "create an API key in the Scaleway console (IAM, API keys) for the site's project, and set `SCW_DEFAULT_PROJECT_ID` to the project's id",
    spread_group_size: 20,
    load_balancer_sizes: &[(usize::MAX, "LB-S")],
    static_backends: true,
    // Its private networks live in the region the client works in; the network names none.
    network_zone: true,
};

/// cloud-apis.md §4: the zones, each in the region its name begins with.
const ZONES: &[&str] = &[
    "fr-par-1", "fr-par-2", "fr-par-3", "nl-ams-1", "nl-ams-2", "nl-ams-3", "pl-waw-1", "pl-waw-2",
    "pl-waw-3", "it-mil-1",
];

/// The zone and region of a site's location.
pub(super) fn zone(location: &str) -> Result<(String, String), ScalewayError> {
    if !ZONES.contains(&location) {
        return Err(ScalewayError::Zone(location.to_owned()));
    }
    let region = location
        .rsplit_once('-')
        .map_or(location, |(region, _)| region);
    Ok((location.to_owned(), region.to_owned()))
}

/// The tag naming the machine a flexible IP, root volume or reserved address belongs to
/// (they have no name of their own that Scaleway lets a list filter on).
pub(super) fn machine_tag(machine: &str) -> String {
    format!("railyard.dev/machine={machine}")
}

/// A machine's root volume: Scaleway leaves it behind when the server is deleted.
pub(super) fn root_volume(machine: &str) -> String {
    format!("{machine}-root")
}

/// Cloud-apis.md §6: Scaleway documents no limit; railyard keeps Hetzner's 32 KiB.
pub(super) const USER_DATA_LIMIT: usize = 32 * 1024;

/// The image's root volume size, bytes (a block volume; 20 GB is the image's default).
pub(super) const ROOT_VOLUME_BYTES: u64 = 20_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_name_their_region() {
        assert_eq!(
            zone("nl-ams-1").expect("a zone"),
            ("nl-ams-1".to_owned(), "nl-ams".to_owned())
        );
        assert!(zone("nbg1").is_err());
    }
}
