//! Generators: the resolved site in, rendered files out, each generator owning its paths.

pub mod autoscaler;
pub mod azure;
pub mod certificates;
pub mod cloud_init;
pub mod flux;
pub mod gitpod;
pub mod infrastructure;
pub mod k3s;
pub mod layers;
pub mod machines;
pub mod network;
pub mod substituted;
pub mod system;
pub mod upgrade_plans;

use std::collections::BTreeMap;

use crate::layout;
use crate::model::Site;

/// Every rendered file of a site, by path relative to the output root.
pub fn generate(site: &Site, secrets_text: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = hosts(site);
    system::generate(site, &mut files);
    infrastructure::generate(site, &mut files);
    certificates::generate(site, &mut files);
    gitpod::generate(site, &mut files);
    flux::generate(site, secrets_text, &mut files);
    files
}

/// Every file below `hosts/<site>/` (and the few cluster files their generators also write):
/// what `validate` needs of a site without user overlays.
pub fn hosts(site: &Site) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    cloud_init::generate(site, &mut files);
    k3s::generate(site, &mut files);
    machines::generate(site, &mut files);
    network::generate(site, &mut files);
    files
}

/// `hosts/<site>`: files for machines, outside every directory Flux applies.
pub fn hosts_dir(site: &Site) -> String {
    layout::hosts_dir(&site.name)
}

/// `clusters/<site>`: the directory Flux applies.
pub fn cluster_dir(site: &Site) -> String {
    layout::cluster_dir(&site.name)
}

/// Labels on every Kubernetes object railyard renders.
pub fn common_labels(site: &Site) -> serde_json::Value {
    crate::labels::site(&site.name)
}
